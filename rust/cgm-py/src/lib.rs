//! `cgm._cgm`: the native half of libcgm's Python package.
//!
//! It wraps `cgm-runtime` directly (not the C ABI) and stays small: values
//! cross as plain dicts, lists and ints, and the curated package `cgm` (pure
//! Python, next to this module in the wheel) builds the frozen dataclasses,
//! the `IntEnum`s, the callbacks and the context managers on top.
//!
//! Rules kept here:
//! - every call that may wait releases the GIL (`py.detach`);
//! - no runtime thread ever calls Python: events, veto requests and log
//!   records are queued and taken by the host's dispatching thread;
//! - errors become the exceptions of `cgm.errors` in one exhaustive `match`
//!   over the stable result codes ([`raise`]);
//! - a node used from a forked child raises `cgm.errors.Closed` and is never
//!   shut down there (its threads exist only in the parent).

use cgm_runtime::cgm_core::{self, schema, AppProtocol, Param, Params, Resource, Status};
use cgm_runtime::{Error, Key, LockGuard, Node, NodeConfig, NodeEvent, ResultCode};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyList, PyString};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

// ---------------------------------------------------------------------------
// Errors: one exhaustive match from the runtime's result code to cgm.errors.

/// Builds the `cgm.errors` exception for a runtime error.
fn raise(py: Python<'_>, e: Error) -> PyErr {
    let message = e.to_string();
    let code = e.code();
    let name = match code {
        ResultCode::Ok | ResultCode::Panic => "CgmError",
        ResultCode::NullArgument | ResultCode::InvalidArgument => "InvalidArgument",
        ResultCode::InvalidParameter => "InvalidParameter",
        ResultCode::BadHandle | ResultCode::ShutDown => "Closed",
        ResultCode::Timeout => "Timeout",
        ResultCode::RolledBack => "RolledBack",
        ResultCode::Vetoed => "Vetoed",
        ResultCode::NoQuorum => "NoQuorum",
        ResultCode::NotMember => "NotMember",
        ResultCode::Authentication => "AuthenticationError",
        ResultCode::VersionMismatch => "VersionMismatch",
        ResultCode::Io => "IoError",
        ResultCode::Backpressure => "Backpressure",
    };
    let extra = match &e {
        Error::RolledBack(o) | Error::Vetoed(o) => Some(("outcome", schema::outcome_to_json(o))),
        Error::Timeout { pid: Some(p) } => Some(("proposal", json!([p.node, p.txid]))),
        _ => None,
    };
    build_error(py, name, &message, code as u32, extra).unwrap_or_else(|err| err)
}

fn build_error(py: Python<'_>, name: &str, message: &str, code: u32, extra: Option<(&str, Value)>) -> PyResult<PyErr> {
    let cls = py.import("cgm.errors")?.getattr(name)?;
    let kwargs = PyDict::new(py);
    if let Some((k, v)) = extra {
        kwargs.set_item(k, to_py(py, &v)?)?;
    }
    let exc = cls.call((message, code), Some(&kwargs))?;
    Ok(PyErr::from_value(exc))
}

/// An error raised by this module itself (bad arguments), with its result code.
fn error(py: Python<'_>, code: ResultCode, message: impl Into<String>) -> PyErr {
    let name = match code {
        ResultCode::InvalidParameter => "InvalidParameter",
        ResultCode::ShutDown | ResultCode::BadHandle => "Closed",
        _ => "InvalidArgument",
    };
    build_error(py, name, &message.into(), code as u32, None).unwrap_or_else(|err| err)
}

fn param_of(py: Python<'_>, n: u32) -> PyResult<Param> {
    Param::from_u32(n).ok_or_else(|| error(py, ResultCode::InvalidParameter, format!("unknown parameter number {n}")))
}

fn seconds(py: Python<'_>, s: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| error(py, ResultCode::InvalidArgument, format!("invalid timeout {s}: seconds >= 0 expected")))
}

// ---------------------------------------------------------------------------
// Values to Python: JSON-shaped values built here, converted once.

fn to_py(py: Python<'_>, v: &Value) -> PyResult<Py<PyAny>> {
    Ok(match v {
        Value::Null => py.None(),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any().unbind()
            } else if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any().unbind()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any().unbind()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any().unbind(),
        Value::Array(a) => {
            let l = PyList::empty(py);
            for x in a {
                l.append(to_py(py, x)?)?;
            }
            l.into_any().unbind()
        }
        Value::Object(o) => {
            let d = PyDict::new(py);
            for (k, x) in o {
                d.set_item(k, to_py(py, x)?)?;
            }
            d.into_any().unbind()
        }
    })
}

/// A status in libcgm's one JSON schema ([`schema`]), plus its table as `text`.
fn status_json(s: &Status) -> Value {
    let mut v = schema::status_to_json(s);
    v["text"] = json!(s.to_string());
    v
}

fn event_json(e: &NodeEvent) -> Value {
    match e {
        NodeEvent::ViewChanged { view, members, quorum } => {
            json!({"type": "view", "view": {"epoch": view.epoch, "leader": view.leader}, "members": members, "quorum": quorum})
        }
        NodeEvent::Suspected { member, reason } => json!({"type": "suspect", "member": member, "reason": reason}),
        NodeEvent::ChangeCommitted(o) => json!({"type": "change", "outcome": schema::outcome_to_json(o)}),
        NodeEvent::ChangeRolledBack(o) => json!({"type": "change", "outcome": schema::outcome_to_json(o)}),
        NodeEvent::ProtocolCompleted(o) => json!({"type": "protocol", "outcome": schema::outcome_to_json(o)}),
        NodeEvent::VetoRequest { token, changes } => json!({
            "type": "veto",
            "token": token,
            "changes": changes.iter().map(|(p, v)| json!([*p as u32, v])).collect::<Vec<_>>(),
        }),
        NodeEvent::StepRequest { token, seq, round_index, payload } => {
            json!({"type": "step", "token": token, "seq": seq, "round_index": round_index, "payload": payload})
        }
    }
}

// ---------------------------------------------------------------------------
// Log records: queued by whichever runtime thread logs, forwarded to Python's
// `logging` by the host's thread (`drain_logs`, called from `Node.dispatch`).

const LOG_QUEUE_MAX: usize = 10_000;

struct QueueLogger {
    records: Mutex<VecDeque<(u32, String, String)>>,
}

static LOGGER: QueueLogger = QueueLogger { records: Mutex::new(VecDeque::new()) };

impl log::Log for QueueLogger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &log::Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        // Python's numeric levels.
        let level = match r.level() {
            log::Level::Error => 40,
            log::Level::Warn => 30,
            log::Level::Info => 20,
            log::Level::Debug => 10,
            log::Level::Trace => 5,
        };
        let Ok(mut q) = self.records.lock() else { return };
        if q.len() >= LOG_QUEUE_MAX {
            q.pop_front();
        }
        q.push_back((level, r.target().to_string(), r.args().to_string()));
    }

    fn flush(&self) {}
}

/// Takes the queued log records: `(python_level, target, message)`.
#[pyfunction]
fn drain_logs() -> Vec<(u32, String, String)> {
    LOGGER.records.lock().map(|mut q| q.drain(..).collect()).unwrap_or_default()
}

/// Sets the most verbose level queued (Python's numeric levels).
#[pyfunction]
fn set_log_level(level: u32) {
    log::set_max_level(match level {
        0..=5 => log::LevelFilter::Trace,
        6..=10 => log::LevelFilter::Debug,
        11..=20 => log::LevelFilter::Info,
        21..=30 => log::LevelFilter::Warn,
        31..=50 => log::LevelFilter::Error,
        _ => log::LevelFilter::Off,
    });
}

// ---------------------------------------------------------------------------
// Parameters.

/// Parses a value for parameter `param`: a number in its unit, or for
/// durations a number with a suffix ("500ms", "2s").
#[pyfunction]
fn parse_value(py: Python<'_>, param: u32, text: &str) -> PyResult<u64> {
    let p = param_of(py, param)?;
    p.parse_value(text).map_err(|e| raise(py, Error::Core(cgm_core::Error::Param(e))))
}

/// Checks a set of changes against the default parameters' static rules and
/// returns the resulting values (raises InvalidParameter).
#[pyfunction]
fn check_changes(py: Python<'_>, changes: Vec<(u32, u64)>) -> PyResult<Vec<u64>> {
    let c = changes.iter().map(|&(p, v)| Ok((param_of(py, p)?, v))).collect::<PyResult<Vec<_>>>()?;
    let p = Params::default().with_changes(&c).map_err(|e| raise(py, Error::Core(cgm_core::Error::Param(e))))?;
    Ok(Param::ALL.iter().map(|&q| p.get(q)).collect())
}

/// Every parameter's description, in number order.
#[pyfunction]
fn param_info(py: Python<'_>) -> PyResult<Py<PyAny>> {
    let v: Vec<Value> = Param::ALL
        .iter()
        .map(|&p| {
            let s = p.spec();
            json!({
                "number": p as u32,
                "name": s.name,
                "unit": s.unit.as_str(),
                "min": s.min,
                "max": s.max,
                "default": s.default,
                "global": matches!(s.nature, cgm_core::Nature::Global),
                "heartbeat": s.heartbeat,
            })
        })
        .collect();
    to_py(py, &Value::Array(v))
}

/// 32 fresh random bytes: a cluster key kept in memory.
#[pyfunction]
fn generate_key(py: Python<'_>) -> Py<PyBytes> {
    PyBytes::new(py, &Key::generate().0).unbind()
}

/// `n` free UDP ports on the IP address `host` that port-0 binds on this
/// host will not take before nodes bind them (see `cgm_runtime::free_ports`).
#[pyfunction]
fn free_ports(py: Python<'_>, host: &str, n: usize) -> PyResult<Vec<u16>> {
    let ip = host.parse().map_err(|e| error(py, ResultCode::InvalidArgument, format!("host {host:?}: {e}")))?;
    cgm_runtime::free_ports(ip, n).map_err(|e| raise(py, Error::Io(format!("no free ports on {host}: {e}"))))
}

// ---------------------------------------------------------------------------
// Locks.

/// A host thread's hold on a named local lock; `release()` gives it up.
#[pyclass(frozen, module = "cgm._cgm", name = "LockGuard")]
struct PyLockGuard {
    name: String,
    guard: Mutex<Option<LockGuard>>,
}

#[pymethods]
impl PyLockGuard {
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// Whether the lock is still held.
    #[getter]
    fn held(&self) -> bool {
        self.guard.lock().map(|g| g.is_some()).unwrap_or(false)
    }

    /// Releases the lock (idempotent).
    fn release(&self) {
        if let Ok(mut g) = self.guard.lock() {
            g.take();
        }
    }
}

// ---------------------------------------------------------------------------
// The node.

/// One running cluster member (see `cgm.Node` for the documented API).
#[pyclass(frozen, module = "cgm._cgm", name = "Node")]
struct PyNode {
    id: u32,
    pid: u32,
    node: RwLock<Option<Arc<Node>>>,
}

impl Drop for PyNode {
    fn drop(&mut self) {
        if std::process::id() != self.pid {
            // A forked child: the node's threads live only in the parent, so
            // shutting it down here would wait on threads that do not exist.
            if let Ok(mut n) = self.node.write() {
                if let Some(n) = n.take() {
                    std::mem::forget(n);
                }
            }
        }
    }
}

impl PyNode {
    fn get(&self, py: Python<'_>) -> PyResult<Arc<Node>> {
        if std::process::id() != self.pid {
            return Err(error(
                py,
                ResultCode::ShutDown,
                format!("node {} belongs to process {}, not this forked child", self.id, self.pid),
            ));
        }
        let n = self.node.read().map_err(|_| error(py, ResultCode::ShutDown, "node lock poisoned"))?;
        match n.as_ref() {
            Some(n) if !n.is_closed() => Ok(Arc::clone(n)),
            _ => Err(error(py, ResultCode::ShutDown, format!("node {} is closed", self.id))),
        }
    }

    fn started(py: Python<'_>, cfg: NodeConfig) -> PyResult<PyNode> {
        let id = cfg.node_id;
        let node = py.detach(|| Node::start(cfg)).map_err(|e| raise(py, e))?;
        Ok(PyNode { id, pid: std::process::id(), node: RwLock::new(Some(Arc::new(node))) })
    }
}

#[pymethods]
impl PyNode {
    #[new]
    #[pyo3(signature = (node_id, nodes, *, cluster = "cgm", key = None, key_file = None, insecure = false, encrypt = false,
                        quorum = true, params = Vec::new(), limits = Vec::new(), veto_hook = false, veto_timeout = 5.0,
                        max_jobs = 4, bind = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        node_id: u32,
        nodes: Vec<(u32, String)>,
        cluster: &str,
        key: Option<Vec<u8>>,
        key_file: Option<PathBuf>,
        insecure: bool,
        encrypt: bool,
        quorum: bool,
        params: Vec<(u32, u64)>,
        limits: Vec<(u32, u64)>,
        veto_hook: bool,
        veto_timeout: f64,
        max_jobs: usize,
        bind: Option<String>,
    ) -> PyResult<PyNode> {
        let mut cfg = NodeConfig::new(node_id, cluster);
        for (id, addr) in &nodes {
            cfg.add_node(*id, addr).map_err(|e| raise(py, e.into()))?;
        }
        cfg.key = match (key, key_file) {
            (Some(_), Some(_)) => return Err(error(py, ResultCode::InvalidArgument, "give key or key_file, not both")),
            (Some(k), None) => Some(Key::from_bytes(&k).map_err(|m| error(py, ResultCode::InvalidArgument, format!("key: {m}")))?),
            (None, Some(f)) => Some(Key::load(&f).map_err(|m| error(py, ResultCode::InvalidArgument, format!("key_file: {m}")))?),
            (None, None) => None,
        };
        cfg.insecure = insecure;
        cfg.encrypt = encrypt;
        cfg.quorum = quorum;
        let changes = params.iter().map(|&(p, v)| Ok((param_of(py, p)?, v))).collect::<PyResult<Vec<_>>>()?;
        if !changes.is_empty() {
            cfg.params = cfg.params.with_changes(&changes).map_err(|e| raise(py, Error::Core(cgm_core::Error::Param(e))))?;
        }
        for (p, v) in limits {
            cfg.limits.set(param_of(py, p)?, v);
        }
        cfg.veto_hook = veto_hook;
        cfg.veto_timeout = seconds(py, veto_timeout)?;
        cfg.max_jobs = max_jobs;
        if let Some(b) = bind {
            cfg.bind = Some(b.parse::<SocketAddr>().map_err(|e| error(py, ResultCode::InvalidArgument, format!("bind {b:?}: {e}")))?);
        }
        PyNode::started(py, cfg)
    }

    /// Starts a node from a TOML configuration file.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<PyNode> {
        let cfg = NodeConfig::load(&path).map_err(|e| raise(py, e.into()))?;
        PyNode::started(py, cfg)
    }

    #[getter]
    fn id(&self) -> u32 {
        self.id
    }

    /// The process that created the node.
    #[getter]
    fn pid(&self) -> u32 {
        self.pid
    }

    #[getter]
    fn closed(&self) -> bool {
        std::process::id() != self.pid || self.node.read().map(|n| n.as_ref().is_none_or(|n| n.is_closed())).unwrap_or(true)
    }

    fn status(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let n = self.get(py)?;
        let s = py.detach(|| n.status()).map_err(|e| raise(py, e))?;
        to_py(py, &status_json(&s))
    }

    fn query_status(&self, py: Python<'_>, member: u32, timeout: f64) -> PyResult<Py<PyAny>> {
        let n = self.get(py)?;
        let t = seconds(py, timeout)?;
        let s = py.detach(|| n.query_status(member, t)).map_err(|e| raise(py, e))?;
        to_py(py, &status_json(&s))
    }

    fn wait_ready(&self, py: Python<'_>, timeout: f64) -> PyResult<Py<PyAny>> {
        let n = self.get(py)?;
        let t = seconds(py, timeout)?;
        let s = py.detach(|| n.wait_ready(t)).map_err(|e| raise(py, e))?;
        to_py(py, &status_json(&s))
    }

    fn wait_members(&self, py: Python<'_>, members: usize, timeout: f64) -> PyResult<Py<PyAny>> {
        let n = self.get(py)?;
        let t = seconds(py, timeout)?;
        let s = py.detach(|| n.wait_members(members, t)).map_err(|e| raise(py, e))?;
        to_py(py, &status_json(&s))
    }

    #[pyo3(signature = (changes, txid, timeout))]
    fn propose(&self, py: Python<'_>, changes: Vec<(u32, u64)>, txid: Option<u64>, timeout: f64) -> PyResult<Py<PyAny>> {
        let n = self.get(py)?;
        let t = seconds(py, timeout)?;
        let c = changes.iter().map(|&(p, v)| Ok((param_of(py, p)?, v))).collect::<PyResult<Vec<_>>>()?;
        if c.is_empty() {
            return Err(error(py, ResultCode::InvalidParameter, "a change needs at least one parameter"));
        }
        let o = py.detach(|| n.propose(&c, txid, t)).map_err(|e| raise(py, e))?;
        to_py(py, &schema::outcome_to_json(&o))
    }

    /// Waits for the outcome of proposal (node, txid).
    fn outcome(&self, py: Python<'_>, node: u32, txid: u64, timeout: f64) -> PyResult<Py<PyAny>> {
        let n = self.get(py)?;
        let t = seconds(py, timeout)?;
        let pid = cgm_core::ProposalId { node, txid };
        let o = py.detach(|| n.outcome(pid, t)).map_err(|e| raise(py, e))?;
        to_py(py, &schema::outcome_to_json(&o))
    }

    #[pyo3(signature = (payload, rounds, lock, job, host, timeout))]
    #[allow(clippy::too_many_arguments)]
    fn run_protocol(
        &self,
        py: Python<'_>,
        payload: Vec<u8>,
        rounds: u8,
        lock: Option<String>,
        job: Option<String>,
        host: bool,
        timeout: f64,
    ) -> PyResult<Py<PyAny>> {
        let n = self.get(py)?;
        let t = seconds(py, timeout)?;
        let wait = match (lock, job, host) {
            (None, None, false) => None,
            (Some(l), None, false) => Some(Resource::Lock(l)),
            (None, Some(j), false) => Some(Resource::Job(j)),
            (None, None, true) => Some(Resource::Host),
            _ => return Err(error(py, ResultCode::InvalidArgument, "a protocol waits on at most one of lock, job, host")),
        };
        let app = AppProtocol { payload: payload.into(), rounds, wait };
        let o = py.detach(|| n.run_protocol(app, t)).map_err(|e| raise(py, e))?;
        to_py(py, &schema::outcome_to_json(&o))
    }

    fn params(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let n = self.get(py)?;
        let v = py.detach(|| n.params()).map_err(|e| raise(py, e))?;
        to_py(
            py,
            &json!({
                "configured": schema::params_to_json(&v.configured),
                "effective": schema::params_to_json(&v.effective),
                "generation": v.generation,
                "switch_over_pending": v.switch_over_pending,
            }),
        )
    }

    /// Takes the named local lock, waiting (GIL released) until it is free.
    fn lock(&self, py: Python<'_>, name: String) -> PyResult<PyLockGuard> {
        let n = self.get(py)?;
        let g = py.detach(|| n.lock(&name));
        Ok(PyLockGuard { name, guard: Mutex::new(Some(g)) })
    }

    fn try_lock(&self, py: Python<'_>, name: String) -> PyResult<Option<PyLockGuard>> {
        let n = self.get(py)?;
        Ok(n.try_lock(&name).map(|g| PyLockGuard { name, guard: Mutex::new(Some(g)) }))
    }

    fn fileno(&self, py: Python<'_>) -> PyResult<i32> {
        Ok(self.get(py)?.fd())
    }

    fn poll_event(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let n = self.get(py)?;
        n.poll_event().map(|e| to_py(py, &event_json(&e))).transpose()
    }

    #[pyo3(signature = (timeout = None))]
    fn next_event(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Py<PyAny>>> {
        let n = self.get(py)?;
        let t = timeout.map(|t| seconds(py, t)).transpose()?;
        let e = py.detach(|| n.next_event(t));
        e.map(|e| to_py(py, &event_json(&e))).transpose()
    }

    /// Answers a veto request: `reason=None` accepts, a string vetoes.
    #[pyo3(signature = (token, reason = None))]
    fn answer_veto(&self, py: Python<'_>, token: u64, reason: Option<String>) -> PyResult<()> {
        let n = self.get(py)?;
        n.answer_veto(token, reason.map_or(Ok(()), Err)).map_err(|e| raise(py, e))
    }

    /// Answers a step request with status bytes, or a failure reason.
    #[pyo3(signature = (token, payload = None, reason = None))]
    fn answer_step(&self, py: Python<'_>, token: u64, payload: Option<Vec<u8>>, reason: Option<String>) -> PyResult<()> {
        let n = self.get(py)?;
        let r = match reason {
            Some(r) => Err(r),
            None => Ok(payload.unwrap_or_default()),
        };
        n.answer_step(token, r).map_err(|e| raise(py, e))
    }

    /// Leaves the group gracefully and stops the node (idempotent; GIL released).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        if std::process::id() != self.pid {
            return Ok(());
        }
        let taken = self.node.write().map_err(|_| error(py, ResultCode::ShutDown, "node lock poisoned"))?.take();
        if let Some(n) = taken {
            py.detach(move || {
                n.shutdown();
                drop(n);
            });
        }
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("<cgm._cgm.Node id={}{}>", self.id, if self.closed() { " closed" } else { "" })
    }
}

/// The extension module.
#[pymodule]
#[pyo3(name = "_cgm")]
fn cgm_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<PyNode>()?;
    m.add_class::<PyLockGuard>()?;
    m.add_function(wrap_pyfunction!(parse_value, m)?)?;
    m.add_function(wrap_pyfunction!(check_changes, m)?)?;
    m.add_function(wrap_pyfunction!(param_info, m)?)?;
    m.add_function(wrap_pyfunction!(generate_key, m)?)?;
    m.add_function(wrap_pyfunction!(free_ports, m)?)?;
    m.add_function(wrap_pyfunction!(drain_logs, m)?)?;
    m.add_function(wrap_pyfunction!(set_log_level, m)?)?;
    Ok(())
}
