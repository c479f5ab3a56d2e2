//! The node: `cgm._cgm.Node`, one running cluster member. Every call that
//! may wait releases the GIL; a node used from a forked child raises
//! `cgm.errors.Closed` and is never shut down there.

use crate::args::{self, seconds};
use crate::config::NodeArgs;
use crate::errors::{error, raise};
use crate::json::{event_json, params_view_json, status_json, to_py};
use crate::lock::PyLockGuard;
use cgm_runtime::cgm_core::{self, schema, AppProtocol, Resource};
use cgm_runtime::{Node, NodeConfig, ResultCode};
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// One running cluster member (see `cgm.Node` for the documented API).
#[pyclass(frozen, module = "cgm._cgm", name = "Node")]
pub(crate) struct PyNode {
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
    /// The running node, or `Closed` if it is closed or this is a forked child.
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

    /// Starts a node (GIL released) from its configuration.
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
                        max_jobs = 4, bind = None, state_dir = None, join = false))]
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
        state_dir: Option<PathBuf>,
        join: bool,
    ) -> PyResult<PyNode> {
        let cluster = cluster.to_string();
        let args = NodeArgs {
            node_id,
            nodes,
            cluster,
            key,
            key_file,
            insecure,
            encrypt,
            quorum,
            params,
            limits,
            veto_hook,
            veto_timeout,
            max_jobs,
            bind,
            state_dir,
            join,
        };
        PyNode::started(py, args.config(py)?)
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
        let c = args::changes(py, &changes)?;
        if c.is_empty() {
            return Err(error(py, ResultCode::InvalidParameter, "a change needs at least one parameter"));
        }
        let o = py.detach(|| n.propose(&c, txid, t)).map_err(|e| raise(py, e))?;
        to_py(py, &schema::outcome_to_json(&o))
    }

    #[pyo3(signature = (key_file, txid, timeout))]
    fn rotate_key(&self, py: Python<'_>, key_file: std::path::PathBuf, txid: Option<u64>, timeout: f64) -> PyResult<Py<PyAny>> {
        let n = self.get(py)?;
        let t = seconds(py, timeout)?;
        let o = py.detach(|| n.rotate_key(&key_file, txid, t)).map_err(|e| raise(py, e))?;
        to_py(py, &schema::outcome_to_json(&o))
    }

    /// Changes the cluster's node set: adds `(id, "ip:port")` nodes and
    /// removes ids, in one transaction (GIL released).
    #[pyo3(signature = (add, remove, txid, timeout))]
    fn change_nodes(
        &self,
        py: Python<'_>,
        add: Vec<(u32, String)>,
        remove: Vec<u32>,
        txid: Option<u64>,
        timeout: f64,
    ) -> PyResult<Py<PyAny>> {
        let n = self.get(py)?;
        let t = seconds(py, timeout)?;
        let change = cgm_core::NodeChange { add, remove };
        let o = py.detach(|| n.change_nodes(&change, txid, t)).map_err(|e| raise(py, e))?;
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
        to_py(py, &params_view_json(&v))
    }

    /// Takes the named local lock, waiting (GIL released) until it is free.
    fn lock(&self, py: Python<'_>, name: String) -> PyResult<PyLockGuard> {
        let n = self.get(py)?;
        let g = py.detach(|| n.lock(&name));
        Ok(PyLockGuard::new(name, g))
    }

    fn try_lock(&self, py: Python<'_>, name: String) -> PyResult<Option<PyLockGuard>> {
        let n = self.get(py)?;
        Ok(n.try_lock(&name).map(|g| PyLockGuard::new(name, g)))
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
