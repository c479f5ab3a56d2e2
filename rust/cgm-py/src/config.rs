//! A node's configuration from the keyword arguments of `cgm._cgm.Node`
//! ([`NodeArgs`]), and the values a host needs to write one: a fresh key
//! ([`generate_key`]) and free ports ([`free_ports`]).

use crate::args::{self, param_of, seconds};
use crate::errors::{error, param_error, raise};
use cgm_runtime::{Error, Key, NodeConfig, ResultCode};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The arguments of `cgm._cgm.Node(...)`, as Python gives them (see
/// `cgm.Config` for their meaning).
pub(crate) struct NodeArgs {
    /// This node's id.
    pub(crate) node_id: u32,
    /// Every configured node: `(id, "host:port")`.
    pub(crate) nodes: Vec<(u32, String)>,
    /// The cluster name.
    pub(crate) cluster: String,
    /// The cluster key's 32 bytes (not with `key_file`).
    pub(crate) key: Option<Vec<u8>>,
    /// A file holding the cluster key (not with `key`).
    pub(crate) key_file: Option<PathBuf>,
    /// Run without a key.
    pub(crate) insecure: bool,
    /// Encrypt datagrams.
    pub(crate) encrypt: bool,
    /// Require a quorum.
    pub(crate) quorum: bool,
    /// Parameter values: `(parameter number, value)`.
    pub(crate) params: Vec<(u32, u64)>,
    /// Local limits: `(parameter number, value)`.
    pub(crate) limits: Vec<(u32, u64)>,
    /// Whether every change asks this host (the veto hook).
    pub(crate) veto_hook: bool,
    /// Seconds the veto hook has to answer.
    pub(crate) veto_timeout: f64,
    /// The most jobs run at once.
    pub(crate) max_jobs: usize,
    /// The address to bind, if not this node's configured one.
    pub(crate) bind: Option<String>,
    /// Where the node keeps its durable state, if anywhere.
    pub(crate) state_dir: Option<PathBuf>,
    /// Whether the node joins a cluster that exists.
    pub(crate) join: bool,
}

impl NodeArgs {
    /// The node configuration, or the `cgm.errors` exception of the first
    /// invalid argument.
    pub(crate) fn config(self, py: Python<'_>) -> PyResult<NodeConfig> {
        let mut cfg = NodeConfig::new(self.node_id, &self.cluster);
        for (id, addr) in &self.nodes {
            cfg.add_node(*id, addr).map_err(|e| raise(py, e.into()))?;
        }
        cfg.key = match (self.key, self.key_file) {
            (Some(_), Some(_)) => return Err(error(py, ResultCode::InvalidArgument, "give key or key_file, not both")),
            (Some(k), None) => Some(Key::from_bytes(&k).map_err(|m| error(py, ResultCode::InvalidArgument, format!("key: {m}")))?),
            (None, Some(f)) => {
                let k = Key::load(&f).map_err(|m| error(py, ResultCode::InvalidArgument, format!("key_file: {m}")))?;
                cfg.key_file = Some(std::path::absolute(&f).unwrap_or(f));
                Some(k)
            }
            (None, None) => None,
        };
        cfg.insecure = self.insecure;
        cfg.encrypt = self.encrypt;
        cfg.quorum = self.quorum;
        let changes = args::changes(py, &self.params)?;
        if !changes.is_empty() {
            cfg.params = cfg.params.with_changes(&changes).map_err(|e| param_error(py, e))?;
        }
        for (p, v) in self.limits {
            cfg.limits.set(param_of(py, p)?, v);
        }
        cfg.veto_hook = self.veto_hook;
        cfg.veto_timeout = seconds(py, self.veto_timeout)?;
        cfg.max_jobs = self.max_jobs;
        cfg.state_dir = self.state_dir;
        cfg.join = self.join;
        if let Some(b) = self.bind {
            cfg.bind = Some(b.parse::<SocketAddr>().map_err(|e| error(py, ResultCode::InvalidArgument, format!("bind {b:?}: {e}")))?);
        }
        Ok(cfg)
    }
}

/// 32 fresh random bytes: a cluster key kept in memory.
#[pyfunction]
pub(crate) fn generate_key(py: Python<'_>) -> Py<PyBytes> {
    PyBytes::new(py, &Key::generate().0).unbind()
}

/// `n` free UDP ports on the IP address `host` that port-0 binds on this
/// host will not take before nodes bind them (see `cgm_runtime::free_ports`).
#[pyfunction]
pub(crate) fn free_ports(py: Python<'_>, host: &str, n: usize) -> PyResult<Vec<u16>> {
    let ip = host.parse().map_err(|e| error(py, ResultCode::InvalidArgument, format!("host {host:?}: {e}")))?;
    cgm_runtime::free_ports(ip, n).map_err(|e| raise(py, Error::Io(format!("no free ports on {host}: {e}"))))
}
