//! `cgm_config`: a node's configuration, built in code or loaded from TOML.

use crate::error::cgm_result;
use crate::error::{boundary, fail, invalid, CGM_RESULT_INVALID_PARAMETER, CGM_RESULT_IO};
use crate::handle::{self, borrow_mut, cstr, into_ptr, Castable};
use crate::params::cgm_param;
use crate::params::param;
use cgm_runtime::{Key, NodeConfig};
use std::os::raw::c_char;
use std::time::Duration;

/// A node's configuration: its id, the cluster's nodes and their UDP
/// addresses, the cluster key, parameters, local limits and options.
///
/// Made by `cgm_config_new` (in code) or `cgm_config_load_file` (a TOML file,
/// as `cgm node -c` reads); the caller owns it and frees it with
/// `cgm_config_free`. Starting a node copies it, so it may be freed or reused
/// right after `cgm_node_start`.
///
/// Thread-safety: not synchronised; do not use one config from two threads at
/// once (distinct configs are independent).
///
/// Methods:
/// - `cgm_config_new`, `cgm_config_load_file`: make one
/// - `cgm_config_node_id`: the node it is for
/// - `cgm_config_add_node`: add a node and its address
/// - `cgm_config_set_bind`: bind address other than this node's own entry
/// - `cgm_config_set_key`, `cgm_config_set_key_file`: the 32-byte cluster key
/// - `cgm_config_set_insecure`: run without authentication (explicitly)
/// - `cgm_config_set_encrypt`: encrypt payloads too
/// - `cgm_config_set_quorum`: whether views need a majority
/// - `cgm_config_set_param`: an initial parameter value
/// - `cgm_config_set_limit`: a node-local upper bound for a parameter
/// - `cgm_config_set_veto_hook`, `cgm_config_set_veto_timeout`: ask the host about every change
/// - `cgm_config_set_state_dir`: keep durable state in a directory
/// - `cgm_config_free`
pub struct cgm_config {
    _private: [u8; 0],
}

impl Castable for cgm_config {
    type Rust = NodeConfig;
    const NAME: &'static str = "config";
}

/// The length of a cluster key in bytes.
pub const CGM_KEY_LEN: usize = 32;

/// Makes a configuration for node `node_id` of `cluster`, with no nodes yet,
/// no key, quorum on, no veto hook and default parameters.
///
/// - `node_id`: this node's id, non-zero (0 is reserved for operator tools).
/// - `cluster`: the cluster's name (shown in logs and status), NUL-terminated.
/// - `out`: receives the new configuration.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for node id 0 or a name that is not UTF-8.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_config_free`. Thread-safety: callable from any thread.
#[no_mangle]
pub extern "C" fn cgm_config_new(node_id: u32, cluster: *const c_char, out: *mut *mut cgm_config) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        let cluster = cstr(cluster, "cluster")?;
        if node_id == 0 {
            return Err(invalid("node id 0 is reserved for operator tools"));
        }
        out.write(into_ptr(NodeConfig::new(node_id, cluster)));
        Ok(())
    })
}

/// Adds a node of the cluster and its UDP address. Every node of the cluster,
/// this one included, must be added, with the same ids and addresses on
/// every node.
///
/// - `config`: the configuration to change.
/// - `id`: the node's id, non-zero.
/// - `addr`: "host:port", "a.b.c.d:port" or "[v6]:port", NUL-terminated.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for id 0, an id added twice, or an address
/// that does not resolve or is not UTF-8 (the configuration is unchanged).
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_config`.
#[no_mangle]
pub extern "C" fn cgm_config_add_node(config: *mut cgm_config, id: u32, addr: *const c_char) -> cgm_result {
    boundary(|| {
        let c = borrow_mut(config)?;
        let addr = cstr(addr, "addr")?;
        c.add_node(id, addr)?;
        Ok(())
    })
}

/// Sets the address the node binds, when it is not the node's own entry
/// (e.g. "0.0.0.0:7401" behind NAT).
///
/// - `config`: the configuration to change.
/// - `addr`: "host:port", NUL-terminated.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for an address that does not resolve or is
/// not UTF-8 (the configuration is unchanged).
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_config`.
#[no_mangle]
pub extern "C" fn cgm_config_set_bind(config: *mut cgm_config, addr: *const c_char) -> cgm_result {
    boundary(|| {
        let c = borrow_mut(config)?;
        let addr = cstr(addr, "addr")?;
        let a = std::net::ToSocketAddrs::to_socket_addrs(addr)
            .map_err(|e| invalid(format!("bind: cannot resolve {addr:?}: {e}")))?
            .next()
            .ok_or_else(|| invalid(format!("bind: {addr:?} resolves to no address")))?;
        c.bind = Some(a);
        Ok(())
    })
}

/// Sets the cluster key: exactly `CGM_KEY_LEN` (32) bytes, the same on every
/// node (`cgm keygen` writes one to a file; `cgm_key_generate` makes one).
///
/// - `config`: the configuration to change.
/// - `key`: the key bytes (copied).
/// - `len`: must be 32.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for another length (the configuration is
/// unchanged).
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_config`.
#[no_mangle]
pub extern "C" fn cgm_config_set_key(config: *mut cgm_config, key: *const u8, len: usize) -> cgm_result {
    boundary(|| {
        let c = borrow_mut(config)?;
        if key.is_null() {
            return Err(handle::null("key"));
        }
        let k = Key::from_bytes(handle::slice(key, len, "key")?).map_err(invalid)?;
        c.key = Some(k);
        Ok(())
    })
}

/// Reads the cluster key from a key file (exactly 32 bytes, as `cgm keygen`
/// writes).
///
/// - `config`: the configuration to change.
/// - `path`: the file, NUL-terminated.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`; `CGM_RESULT_IO` for
/// a file that cannot be read; `CGM_RESULT_INVALID_ARGUMENT` for a path that
/// is not UTF-8 or a file of another length (the configuration is unchanged
/// either way).
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_config`.
#[no_mangle]
pub extern "C" fn cgm_config_set_key_file(config: *mut cgm_config, path: *const c_char) -> cgm_result {
    boundary(|| {
        let c = borrow_mut(config)?;
        let path = cstr(path, "path")?;
        let bytes = std::fs::read(path).map_err(|e| fail(CGM_RESULT_IO, format!("cannot read key file {path}: {e}")))?;
        let k = Key::from_bytes(&bytes).map_err(|e| invalid(format!("{path}: {e}")))?;
        c.key = Some(k);
        c.key_file = Some(std::path::absolute(path).unwrap_or_else(|_| path.into()));
        Ok(())
    })
}

/// Makes the node keep its durable state in the directory `path` (created,
/// mode 0700, if missing): the committed parameters and generation, the
/// lineage its quorum needs, its promises. A node started again with the
/// same directory resumes from it; without one, state is in memory only and
/// a restart forgets the committed values. Starting fails with
/// `CGM_RESULT_INVALID_ARGUMENT` when the directory holds a damaged state
/// file (named in `cgm_last_error_message`), which is left as it is.
///
/// - `config`: the configuration to change.
/// - `path`: the directory, NUL-terminated; NULL keeps no state on disk.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT` for a NULL `config`;
/// `CGM_RESULT_INVALID_ARGUMENT` for a path that is not UTF-8 (the
/// configuration is unchanged).
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_config`.
#[no_mangle]
pub extern "C" fn cgm_config_set_state_dir(config: *mut cgm_config, path: *const c_char) -> cgm_result {
    boundary(|| {
        let c = borrow_mut(config)?;
        c.state_dir = if path.is_null() { None } else { Some(cstr(path, "path")?.into()) };
        Ok(())
    })
}

/// Runs the node without authentication when `insecure` is true. A node
/// refuses to start without a key unless this is set explicitly.
///
/// - `config`: the configuration to change.
/// - `insecure`: true to run unauthenticated.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Thread-safety: see `cgm_config`.
#[no_mangle]
pub extern "C" fn cgm_config_set_insecure(config: *mut cgm_config, insecure: bool) -> cgm_result {
    boundary(|| {
        borrow_mut(config)?.insecure = insecure;
        Ok(())
    })
}

/// Encrypts payloads as well as authenticating them (needs a key).
///
/// - `config`: the configuration to change.
/// - `encrypt`: true to encrypt.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Thread-safety: see `cgm_config`.
#[no_mangle]
pub extern "C" fn cgm_config_set_encrypt(config: *mut cgm_config, encrypt: bool) -> cgm_result {
    boundary(|| {
        borrow_mut(config)?.encrypt = encrypt;
        Ok(())
    })
}

/// Whether this node joins a cluster that exists (TOML `join = true`): a
/// node a node change added (`cgm_propose_node_change`), whose configured
/// nodes may list only itself and a member or two to contact. It takes the
/// cluster's node set, parameters, generation and key by state transfer,
/// and never starts a cluster of its own with the nodes it lists.
///
/// - `config`: the configuration to change.
/// - `join`: true to join (the default is false: a node of a new cluster,
///   or one restarted from its state directory).
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Thread-safety: see `cgm_config`.
#[no_mangle]
pub extern "C" fn cgm_config_set_join(config: *mut cgm_config, join: bool) -> cgm_result {
    boundary(|| {
        borrow_mut(config)?.join = join;
        Ok(())
    })
}

/// Whether views need a majority of the configured nodes to run protocols
/// (true, the default); false only for two-node and test setups.
///
/// - `config`: the configuration to change.
/// - `quorum`: true for majority quorum.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Thread-safety: see `cgm_config`.
#[no_mangle]
pub extern "C" fn cgm_config_set_quorum(config: *mut cgm_config, quorum: bool) -> cgm_result {
    boundary(|| {
        borrow_mut(config)?.quorum = quorum;
        Ok(())
    })
}

/// Sets the initial value of one parameter, validated with the others.
///
/// - `config`: the configuration to change.
/// - `param`: a `CGM_PARAM_*` number.
/// - `value`: in the parameter's unit (see `cgm_param_range`).
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_PARAMETER` for an unknown parameter, a value out of
/// range or one that breaks a rule with another parameter: the last error
/// names the parameter, the value and the range or rule, and the
/// configuration is unchanged.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_config`.
#[no_mangle]
pub extern "C" fn cgm_config_set_param(config: *mut cgm_config, param: cgm_param, value: u64) -> cgm_result {
    boundary(|| {
        let c = borrow_mut(config)?;
        let p = self::param(param)?;
        c.set_param(p, value)?;
        Ok(())
    })
}

/// Sets a node-local upper bound for a parameter (what this host allows, e.g.
/// its NIC's largest datagram): a cluster-wide change beyond it fails this
/// node's local apply, so the change is rolled back on every member.
///
/// - `config`: the configuration to change.
/// - `param`: a `CGM_PARAM_*` number.
/// - `value`: the largest value this node accepts, within the parameter's range.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_PARAMETER` for an unknown parameter or a value outside
/// its range (the configuration is unchanged).
///
/// Thread-safety: see `cgm_config`.
#[no_mangle]
pub extern "C" fn cgm_config_set_limit(config: *mut cgm_config, param: cgm_param, value: u64) -> cgm_result {
    boundary(|| {
        let c = borrow_mut(config)?;
        let p = self::param(param)?;
        cgm_runtime::cgm_core::Params::check_range(p, value).map_err(|e| fail(CGM_RESULT_INVALID_PARAMETER, format!("limit: {e}")))?;
        c.limits.set(p, value);
        Ok(())
    })
}

/// Asks this node's host about every parameter change before the node applies
/// it: the change arrives as the `on_veto` callback in `cgm_dispatch`, to be
/// answered with `cgm_veto_answer`. While it waits, the node's status shows
/// it waiting on its veto hook. A refusal (or no answer within the veto
/// timeout) rolls the change back on every member.
///
/// - `config`: the configuration to change.
/// - `enabled`: true to ask (default false).
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Thread-safety: see `cgm_config`.
#[no_mangle]
pub extern "C" fn cgm_config_set_veto_hook(config: *mut cgm_config, enabled: bool) -> cgm_result {
    boundary(|| {
        borrow_mut(config)?.veto_hook = enabled;
        Ok(())
    })
}

/// How long the host may take to answer a veto request before it counts as a
/// veto (default 5000 ms).
///
/// - `config`: the configuration to change.
/// - `timeout_ms`: milliseconds, at least 1.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for 0.
///
/// Thread-safety: see `cgm_config`.
#[no_mangle]
pub extern "C" fn cgm_config_set_veto_timeout(config: *mut cgm_config, timeout_ms: u32) -> cgm_result {
    boundary(|| {
        let c = borrow_mut(config)?;
        if timeout_ms == 0 {
            return Err(invalid("the veto timeout must be at least 1 ms"));
        }
        c.veto_timeout = Duration::from_millis(u64::from(timeout_ms));
        Ok(())
    })
}

/// Loads a node's configuration from a TOML file (the format `cgm node -c`
/// reads; a relative `key_file` is relative to the file).
///
/// - `path`: the file, NUL-terminated.
/// - `out`: receives the configuration.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for a path that is not UTF-8, an unreadable
/// file, bad TOML, an unknown key or a bad value: the last error names the
/// file, line and field.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_config_free`. Thread-safety: callable from any thread.
#[no_mangle]
pub extern "C" fn cgm_config_load_file(path: *const c_char, out: *mut *mut cgm_config) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        let path = cstr(path, "path")?;
        let c = NodeConfig::load(std::path::Path::new(path))?;
        out.write(into_ptr(c));
        Ok(())
    })
}

/// The node id the configuration is for (its `node_id`).
///
/// - `config`: the configuration to read.
/// - `out`: receives the node id.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_config`.
#[no_mangle]
pub extern "C" fn cgm_config_node_id(config: *const cgm_config, out: *mut u32) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        out.write(handle::borrow(config)?.node_id);
        Ok(())
    })
}

/// The fingerprint of a cluster key: the number `cgm_status_key` and the
/// `cgm status` table show for it (the first 8 bytes of a SHA-256 over a
/// label and the key). It names the key without revealing it; never 0.
///
/// - `key`: the key bytes.
/// - `len`: must be `CGM_KEY_LEN` (32).
/// - `out`: receives the fingerprint.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for another length.
///
/// Thread-safety: callable from any thread at any time.
#[no_mangle]
pub extern "C" fn cgm_key_fingerprint(key: *const u8, len: usize, out: *mut u64) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        if key.is_null() {
            return Err(handle::null("key"));
        }
        let k = Key::from_bytes(handle::slice(key, len, "key")?).map_err(invalid)?;
        out.write(k.fingerprint());
        Ok(())
    })
}

/// Frees a configuration. NULL is fine; freeing twice is not.
///
/// Thread-safety: not while another thread uses the same configuration.
#[no_mangle]
pub extern "C" fn cgm_config_free(config: *mut cgm_config) {
    crate::error::boundary_value((), || handle::free(config))
}

/// Fills `out` with a fresh random cluster key from the operating system.
///
/// - `out`: receives `CGM_KEY_LEN` (32) bytes.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Thread-safety: callable from any thread at any time.
#[no_mangle]
pub extern "C" fn cgm_key_generate(out: *mut u8) -> cgm_result {
    boundary(|| {
        if out.is_null() {
            return Err(handle::null("out"));
        }
        let k = Key::generate();
        handle::write_bytes(out, CGM_KEY_LEN, &k.0)?;
        Ok(())
    })
}
