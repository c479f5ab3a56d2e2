//! The host's callbacks: the size-tagged `cgm_callbacks` struct, and every
//! call into C code the library makes, each on the thread that runs
//! `cgm_dispatch`.

use crate::handle::{self, c_string, SizeTagged};
use crate::logs::LogRecord;
use crate::outcome::{cgm_change_outcome, OutcomeObj};
use crate::params::{cgm_param_value, to_c};
use cgm_runtime::{Node, NodeEvent};
use std::ffi::c_void;
use std::os::raw::c_char;

/// The host's callbacks, run only inside `cgm_dispatch` on the thread that
/// calls it (never on a library thread), so they may block and may call any
/// function of this API, on this node too, except `cgm_node_free` of the node
/// being dispatched.
///
/// Set `size` to `sizeof(cgm_callbacks)`: the library reads only `size`
/// bytes, so a program built against an older, smaller struct keeps working
/// (the callbacks it does not know stay NULL). Any callback may be NULL:
/// its events are then dropped, except that a veto request is refused and a
/// step request fails, with a reason saying no callback is registered.
/// Pointers passed to a callback are valid only during it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct cgm_callbacks {
    /// `sizeof(cgm_callbacks)` as the caller knows it.
    pub size: usize,
    /// Passed as the first argument of every callback.
    pub user_data: *mut c_void,
    /// A new view was installed: its epoch and forming node, its members'
    /// ids (`n_members` of them, in id order) and whether it holds a quorum.
    pub on_view:
        Option<unsafe extern "C" fn(user_data: *mut c_void, epoch: u64, leader: u32, members: *const u32, n_members: usize, quorum: bool)>,
    /// This node suspects `member` failed, for `reason`.
    pub on_suspect: Option<unsafe extern "C" fn(user_data: *mut c_void, member: u32, reason: *const c_char)>,
    /// A parameter change ended (committed or rolled back), the same outcome
    /// on every member; `outcome` is lent for the callback's duration.
    pub on_change: Option<unsafe extern "C" fn(user_data: *mut c_void, outcome: *const cgm_change_outcome)>,
    /// The veto hook (`cgm_config_set_veto_hook`): this member is about to
    /// apply `n` parameter changes; answer with `cgm_veto_answer(node, token,
    /// accept, reason)`, now or later from any thread, before the veto timeout.
    pub on_veto: Option<unsafe extern "C" fn(user_data: *mut c_void, token: u64, changes: *const cgm_param_value, n: usize)>,
    /// A round of an application protocol (`cgm_run_host_protocol`) waits for
    /// this host's status: answer with `cgm_step_answer(node, token, ...)`.
    /// `seq` is the protocol's sequence number, `round_index` the round
    /// within it (0-based), `payload` its `len` bytes.
    pub on_step:
        Option<unsafe extern "C" fn(user_data: *mut c_void, token: u64, seq: u64, round_index: u32, payload: *const u8, len: usize)>,
    /// A log record of the library (every node in this process logs to every
    /// node that sets this): its `CGM_LOG_*` level, its target (module) and
    /// message. See `cgm_set_log_level`.
    pub on_log: Option<unsafe extern "C" fn(user_data: *mut c_void, level: u32, target: *const c_char, message: *const c_char)>,
    /// An application protocol, a key rotation or a node change ended (see
    /// `cgm_change_outcome_committed`; `cgm_change_outcome_kind` gives "app",
    /// "key-rotation" or "node-change"); `outcome` is lent for the callback's
    /// duration.
    pub on_protocol: Option<unsafe extern "C" fn(user_data: *mut c_void, outcome: *const cgm_change_outcome)>,
    /// A committed node change removed this node from the cluster's node
    /// set (the node change's outcome came first, through `on_protocol`): it
    /// left the group, and the others refuse it until a node change adds it
    /// again (`cgm_propose_node_change`); `generation` is that of the node
    /// set without it. The node stays allocated: free it with `cgm_node_free`.
    pub on_removed: Option<unsafe extern "C" fn(user_data: *mut c_void, generation: u64)>,
}

impl Default for cgm_callbacks {
    fn default() -> Self {
        cgm_callbacks {
            size: std::mem::size_of::<cgm_callbacks>(),
            user_data: std::ptr::null_mut(),
            on_view: None,
            on_suspect: None,
            on_change: None,
            on_veto: None,
            on_step: None,
            on_log: None,
            on_protocol: None,
            on_removed: None,
        }
    }
}

// SAFETY: `cgm_callbacks` is `#[repr(C)]`, starts with `size: usize`, and its
// other fields are a raw pointer and nullable function pointers.
unsafe impl SizeTagged for cgm_callbacks {
    const NAME: &'static str = "cgm_callbacks";
    const MIN_SIZE: usize = std::mem::size_of::<usize>() + std::mem::size_of::<*mut c_void>();
}

/// A node's callbacks as its handle keeps them, shared between threads.
#[derive(Default, Clone, Copy)]
pub(crate) struct Callbacks(cgm_callbacks);

// SAFETY: the library never touches `user_data` or calls the functions
// except inside `cgm_dispatch`, on a thread the host chose; the host makes
// `user_data` usable from whichever threads it dispatches on (documented).
unsafe impl Send for Callbacks {}
// SAFETY: as above; the struct is only copied.
unsafe impl Sync for Callbacks {}

impl Callbacks {
    /// The callbacks a host registered.
    pub(crate) fn new(cb: cgm_callbacks) -> Callbacks {
        Callbacks(cb)
    }

    /// Whether `on_log` is set.
    pub(crate) fn wants_logs(&self) -> bool {
        self.0.on_log.is_some()
    }

    /// Runs the callback for `item`, if one is registered; a veto or step
    /// request without one is answered on `node` with a failure.
    pub(crate) fn deliver(self, node: &Node, item: Item) {
        let cb = self.0;
        let ud = cb.user_data;
        // SAFETY (every call below): the host registered these functions with
        // this `user_data` through `cgm_node_set_callbacks`; each pointer argument
        // points to memory that lives until the call returns.
        match item {
            Item::Event(NodeEvent::ViewChanged { view, members, quorum }) => {
                if let Some(f) = cb.on_view {
                    unsafe { f(ud, view.epoch, view.leader, members.as_ptr(), members.len(), quorum) };
                }
            }
            Item::Event(NodeEvent::Suspected { member, reason }) => {
                if let Some(f) = cb.on_suspect {
                    let reason = c_string(&reason);
                    unsafe { f(ud, member, reason.as_ptr()) };
                }
            }
            Item::Event(NodeEvent::ChangeCommitted(o) | NodeEvent::ChangeRolledBack(o)) => {
                if let Some(f) = cb.on_change {
                    let o = OutcomeObj::new(o);
                    unsafe { f(ud, handle::as_ptr::<cgm_change_outcome>(&o)) };
                }
            }
            Item::Event(NodeEvent::ProtocolCompleted(o)) => {
                if let Some(f) = cb.on_protocol {
                    let o = OutcomeObj::new(o);
                    unsafe { f(ud, handle::as_ptr::<cgm_change_outcome>(&o)) };
                }
            }
            Item::Event(NodeEvent::VetoRequest { token, changes }) => match cb.on_veto {
                Some(f) => {
                    let list = to_c(&changes);
                    unsafe { f(ud, token, list.as_ptr(), list.len()) };
                }
                None => {
                    let _ = node.answer_veto(token, Err("no on_veto callback is registered".into()));
                }
            },
            Item::Event(NodeEvent::StepRequest { token, seq, round_index, payload }) => match cb.on_step {
                Some(f) => unsafe { f(ud, token, seq, u32::from(round_index), payload.as_ptr(), payload.len()) },
                None => {
                    let _ = node.answer_step(token, Err("no on_step callback is registered".into()));
                }
            },
            Item::Event(NodeEvent::Removed { generation }) => {
                if let Some(f) = cb.on_removed {
                    unsafe { f(ud, generation) };
                }
            }
            Item::Log(r) => {
                if let Some(f) = cb.on_log {
                    unsafe { f(ud, r.level, r.target.as_ptr(), r.message.as_ptr()) };
                }
            }
        }
    }
}

/// What one callback delivers: a node event or a log record.
pub(crate) enum Item {
    /// An event of the node.
    Event(NodeEvent),
    /// A log record of the library.
    Log(LogRecord),
}
