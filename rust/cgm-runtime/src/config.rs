//! Node configuration: built in code or loaded from a TOML file.
//!
//! Every parameter is set by its canonical name, with units where it has
//! them (`heartbeat-interval = "500ms"`). Unknown keys and bad values are
//! errors naming the file, the line and the field.

use crate::auth::Key;
use cgm_core::{Incarnation, LocalLimits, NodeId, Param, Params};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// A configuration that could not be read; nothing was started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file, if the configuration came from one.
    pub file: Option<PathBuf>,
    /// 1-based line of the offending field, when known.
    pub line: Option<usize>,
    /// The field.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
            }
            write!(f, ": ")?;
        }
        if self.field.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl ConfigError {
    /// An error about `field` with no file position.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError { file: None, line: None, field: field.into(), message: message.into() }
    }
}

/// Everything a node needs to start.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Cluster name (shown in logs and status; traffic is separated by the key).
    pub cluster: String,
    /// This node's id (non-zero).
    pub node_id: NodeId,
    /// Address to bind; defaults to this node's entry in `nodes`.
    pub bind: Option<SocketAddr>,
    /// Every configured node and its address.
    pub nodes: Vec<(NodeId, SocketAddr)>,
    /// The cluster key (32 bytes).
    pub key: Option<Key>,
    /// The file the key was read from, if it came from one: its directory
    /// is where this node looks for a key the cluster rotated to while it
    /// was away (a key file of a rotation sits beside the first one).
    pub key_file: Option<PathBuf>,
    /// Run without authentication; must be set explicitly.
    pub insecure: bool,
    /// Encrypt payloads as well as authenticating them.
    pub encrypt: bool,
    /// Whether views need a majority of the configured nodes.
    pub quorum: bool,
    /// Initial parameters.
    pub params: Params,
    /// Local limits: a change beyond them fails this node's apply.
    pub limits: LocalLimits,
    /// Whether every change asks the host's veto hook (answered through dispatch).
    pub veto_hook: bool,
    /// How long a veto decision may take before it counts as a veto.
    pub veto_timeout: Duration,
    /// Jobs that may run at once; creating one more waits.
    pub max_jobs: usize,
    /// IP multicast instead of unicast for member traffic, if set.
    pub multicast: Option<Multicast>,
    /// Where the node keeps its durable state (the file `state` in it):
    /// the committed parameters and generation, the lineage the quorum rule
    /// needs, and its promises; a restarted node resumes from it. `None`:
    /// state in memory only, lost at a restart.
    pub state_dir: Option<PathBuf>,
    /// Where the node appends its history, if anywhere: every host-visible
    /// event as JSON Lines in the simulator's schema (`cgm node --history`),
    /// for checking a run of real processes.
    pub history: Option<PathBuf>,
    /// This node joins a cluster that exists (TOML `join = true`): a node a
    /// node change added, whose `nodes` may list only itself and a member
    /// or two to contact. It takes the cluster's node set, parameters,
    /// generation and key by state transfer, and never starts a cluster of
    /// its own with the nodes its file lists.
    pub join: bool,
    /// The log level `cgm node` runs at (TOML `log_level`: `error`, `warn`,
    /// `info`, `debug`, `trace` or `off`), re-read on `SIGHUP`; `None`: the
    /// `RUST_LOG` environment variable's, else `warn`. A library host keeps
    /// its own logger and ignores it.
    pub log_level: Option<log::LevelFilter>,
    /// Where `cgm node` serves its metrics (Prometheus / OpenMetrics text
    /// on `GET /metrics`; TOML `[metrics] listen = "127.0.0.1:9464"`), if
    /// anywhere. A library host exports them itself (`Node::status`,
    /// `Node::local_metrics`).
    pub metrics: Option<SocketAddr>,
    /// Whether the host gets a [`crate::NodeEvent::ProtocolCompleted`] for
    /// every application protocol decided (default true). Each is a queue
    /// push and, when the host's thread waits for events, a wake-up of it:
    /// a host that learns application outcomes only from the calls that
    /// wait for them (`Node::outcome`, `Node::run_protocol`) turns them off,
    /// as `cgm node` does. Every other event is delivered either way.
    pub app_events: bool,
}

/// The IP multicast transport option: every datagram for other members goes
/// once to `group`, and every member receives the group's traffic (keeping
/// what is addressed to it). Operator tools still talk to each node's own
/// unicast address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Multicast {
    /// Group address and port (IPv4 224.0.0.0/4 or IPv6 ff00::/8), the same on every node.
    pub group: SocketAddr,
    /// Hops a datagram may travel (1: the local network only).
    pub ttl: u32,
}

impl NodeConfig {
    /// A configuration for `node_id` in `cluster`, with no nodes yet and defaults elsewhere.
    pub fn new(node_id: NodeId, cluster: &str) -> NodeConfig {
        NodeConfig {
            cluster: cluster.to_string(),
            node_id,
            bind: None,
            nodes: Vec::new(),
            key: None,
            key_file: None,
            insecure: false,
            encrypt: false,
            quorum: true,
            params: Params::default(),
            limits: LocalLimits::default(),
            veto_hook: false,
            veto_timeout: Duration::from_secs(5),
            max_jobs: 4,
            multicast: None,
            state_dir: None,
            history: None,
            join: false,
            log_level: None,
            metrics: None,
            app_events: true,
        }
    }

    /// Adds a node.
    ///
    /// # Errors
    /// A duplicate id, id 0, or an address that does not resolve.
    pub fn add_node(&mut self, id: NodeId, addr: &str) -> Result<(), ConfigError> {
        if id == 0 {
            return Err(ConfigError::field("nodes.id", "node id 0 is reserved for operator tools"));
        }
        if self.nodes.iter().any(|(n, _)| *n == id) {
            return Err(ConfigError::field("nodes.id", format!("node {id} is listed twice")));
        }
        let a = resolve(addr).map_err(|m| ConfigError::field("nodes.addr", m))?;
        self.nodes.push((id, a));
        Ok(())
    }

    /// Sets one parameter, validating it with the others.
    ///
    /// # Errors
    /// The value is out of range or breaks a rule; nothing changed.
    pub fn set_param(&mut self, p: Param, value: u64) -> Result<(), cgm_core::ParamError> {
        self.params = self.params.with_changes(&[(p, value)])?;
        Ok(())
    }

    /// The address of node `id`.
    pub fn addr_of(&self, id: NodeId) -> Option<SocketAddr> {
        self.nodes.iter().find(|(n, _)| *n == id).map(|(_, a)| *a)
    }

    /// The address to bind.
    pub fn bind_addr(&self) -> Option<SocketAddr> {
        self.bind.or_else(|| self.addr_of(self.node_id))
    }

    /// The core's configuration for this node in incarnation `incarnation`
    /// (what a member thread and a sans-IO C host both start a core with).
    pub fn core_config(&self, incarnation: Incarnation) -> cgm_core::Config {
        let mut c = cgm_core::Config::new(self.node_id, incarnation, self.nodes.iter().map(|(id, _)| *id).collect());
        c.quorum = self.quorum;
        c.params = self.params.with_key(self.key.as_ref().map_or(0, Key::fingerprint));
        c.addresses = self.nodes.iter().map(|(id, a)| (*id, a.to_string())).collect();
        c.limits = self.limits.clone();
        c.veto_hook = self.veto_hook;
        c.veto_timeout = self.veto_timeout;
        c.durable = self.state_dir.is_some();
        c.joins = self.join;
        #[cfg(feature = "flaws")]
        {
            c.flaw = std::env::var("CGM_FLAW").ok().map(|name| cgm_core::flaws::Flaw::parse(&name).expect("CGM_FLAW names a flaw"));
        }
        c
    }

    /// Checks the configuration as a whole.
    ///
    /// # Errors
    /// The first inconsistency.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.node_id == 0 {
            return Err(ConfigError::field("node_id", "node id 0 is reserved for operator tools"));
        }
        if self.addr_of(self.node_id).is_none() {
            return Err(ConfigError::field("nodes", format!("node_id {} has no [[nodes]] entry", self.node_id)));
        }
        if self.key.is_none() && !self.insecure {
            return Err(ConfigError::field("key_file", "no cluster key: set key_file (see `cgm keygen`) or insecure = true"));
        }
        if self.encrypt && self.key.is_none() {
            return Err(ConfigError::field("encrypt", "encryption needs a cluster key"));
        }
        self.params.validate().map_err(|e| ConfigError::field("params", e.to_string()))?;
        if let Some(m) = &self.multicast {
            if !m.group.ip().is_multicast() {
                return Err(ConfigError::field("multicast", format!("{} is not a multicast group address", m.group)));
            }
            if self.bind_addr().is_some_and(|b| b.is_ipv4() != m.group.is_ipv4()) {
                return Err(ConfigError::field("multicast", format!("group {} and bind address are of different IP versions", m.group)));
            }
            if !(1..=255).contains(&m.ttl) {
                return Err(ConfigError::field("multicast_ttl", format!("{} is outside 1..=255", m.ttl)));
            }
        }
        Ok(())
    }

    /// Loads a TOML configuration file; a relative `key_file` or `state_dir`
    /// is relative to the file.
    ///
    /// # Errors
    /// Unreadable file, TOML syntax, unknown keys, bad values (each naming file,
    /// line and field), or an unreadable key file.
    pub fn load(path: &Path) -> Result<NodeConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: Some(path.to_path_buf()),
            line: None,
            field: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        NodeConfig::parse(&text, Some(path)).map_err(|mut e| {
            e.file = Some(path.to_path_buf());
            e
        })
    }

    /// Parses TOML text (see [`NodeConfig::load`]).
    ///
    /// # Errors
    /// As [`NodeConfig::load`], without the file name.
    pub fn parse(text: &str, path: Option<&Path>) -> Result<NodeConfig, ConfigError> {
        let line_of = |offset: usize| text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1;
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
            file: None,
            line: e.span().map(|s| line_of(s.start)),
            field: String::new(),
            // Some syntax errors carry no message of their own; their display does.
            message: match e.message() {
                "" => format!("invalid TOML ({})", e.to_string().lines().next().unwrap_or("syntax error").trim()),
                m => m.to_string(),
            },
        })?;
        let at = |span: std::ops::Range<usize>, field: &str, message: String| ConfigError {
            file: None,
            line: Some(line_of(span.start)),
            field: field.to_string(),
            message,
        };
        let mut c = NodeConfig::new(*raw.node_id.get_ref(), &raw.cluster);
        for n in &raw.nodes {
            c.add_node(*n.id.get_ref(), n.addr.get_ref()).map_err(|e| at(n.addr.span(), &e.field, e.message))?;
        }
        if let Some(b) = &raw.bind {
            c.bind = Some(resolve(b.get_ref()).map_err(|m| at(b.span(), "bind", m))?);
        }
        c.insecure = raw.insecure.unwrap_or(false);
        c.encrypt = raw.encrypt.unwrap_or(false);
        if let Some(k) = &raw.key_file {
            let p = PathBuf::from(k.get_ref());
            let p = match path.and_then(Path::parent) {
                Some(dir) if p.is_relative() => dir.join(p),
                _ => p,
            };
            c.key = Some(Key::load(&p).map_err(|m| at(k.span(), "key_file", m))?);
            c.key_file = Some(std::path::absolute(&p).unwrap_or(p));
        }
        if let Some(d) = &raw.state_dir {
            let p = PathBuf::from(d);
            c.state_dir = Some(match path.and_then(Path::parent) {
                Some(dir) if p.is_relative() => dir.join(p),
                _ => p,
            });
        }
        if let Some(q) = &raw.quorum {
            c.quorum = match q.get_ref().as_str() {
                "majority" => true,
                "none" => false,
                other => return Err(at(q.span(), "quorum", format!("expected \"majority\" or \"none\", got {other:?}"))),
            };
        }
        if let Some(v) = &raw.veto_timeout {
            let ms = Param::HeartbeatInterval
                .parse_value(v.get_ref())
                .map_err(|_| at(v.span(), "veto_timeout", format!("cannot parse {:?} as a duration", v.get_ref())))?;
            c.veto_timeout = Duration::from_millis(ms);
        }
        if let Some(g) = &raw.multicast {
            let group = resolve(g.get_ref()).map_err(|m| at(g.span(), "multicast", m))?;
            c.multicast = Some(Multicast { group, ttl: raw.multicast_ttl.unwrap_or(1) });
        }
        if let Some(j) = raw.max_jobs {
            c.max_jobs = j.max(1);
        }
        c.join = raw.join.unwrap_or(false);
        if let Some(l) = &raw.log_level {
            c.log_level = Some(l.get_ref().parse().map_err(|_| {
                at(l.span(), "log_level", format!("expected one of off, error, warn, info, debug, trace, got {:?}", l.get_ref()))
            })?);
        }
        if let Some(m) = &raw.metrics {
            c.metrics = Some(resolve(m.listen.get_ref()).map_err(|e| at(m.listen.span(), "metrics.listen", e))?);
        }
        let mut changes = Vec::new();
        // In file order, so a broken cross-parameter rule names the first of
        // its keys the file sets.
        let mut keys: Vec<_> = raw.params.iter().collect();
        keys.sort_by_key(|(k, _)| k.span().start);
        for (name, value) in keys {
            changes.push(param_value(name, value).map_err(|m| at(value.span(), &format!("params.{}", name.get_ref()), m))?);
        }
        if !changes.is_empty() {
            c.params = c.params.with_changes(&changes).map_err(|e| {
                let field = match &e {
                    cgm_core::ParamError::Rule { param, .. } | cgm_core::ParamError::OutOfRange { param, .. } => param.name(),
                    _ => "params",
                };
                let span = raw.params.iter().find(|(k, _)| k.get_ref() == field).map(|(_, v)| v.span()).unwrap_or(0..0);
                at(span, &format!("params.{field}"), e.to_string())
            })?;
        }
        for (name, value) in &raw.limits {
            let (p, v) = param_value(name, value).map_err(|m| at(value.span(), &format!("limits.{}", name.get_ref()), m))?;
            c.limits.set(p, v);
        }
        c.validate().map_err(|mut e| {
            e.line = None;
            e
        })?;
        Ok(c)
    }
}

fn param_value(name: &Spanned<String>, value: &Spanned<toml::Value>) -> Result<(Param, u64), String> {
    let p = Param::from_name(name.get_ref()).ok_or_else(|| cgm_core::ParamError::UnknownName(name.get_ref().clone()).to_string())?;
    let v = match value.get_ref() {
        toml::Value::Integer(i) if *i >= 0 => *i as u64,
        toml::Value::Integer(i) => return Err(format!("{} = {i}: negative values are not allowed", p.name())),
        toml::Value::String(s) => p.parse_value(s).map_err(|e| e.to_string())?,
        other => return Err(format!("{}: expected a number or a string with a unit, got {}", p.name(), other.type_str())),
    };
    cgm_core::Params::check_range(p, v).map_err(|e| e.to_string())?;
    Ok((p, v))
}

/// Checks that every node a node change adds has an address every member
/// reads the same way: a literal `ip:port` (or `[ipv6]:port`), written as
/// Rust writes it back (no name to resolve differently on each host).
///
/// # Errors
/// [`ConfigError`] on field `add`, naming the node and its address.
pub fn check_node_change(c: &cgm_core::NodeChange) -> Result<(), ConfigError> {
    for (id, addr) in &c.add {
        match addr.parse::<SocketAddr>() {
            Ok(a) if a.to_string() == *addr && a.port() != 0 => {}
            Ok(a) => return Err(ConfigError::field("add", format!("node {id}: write its address as {a} (a port other than 0)"))),
            Err(_) => {
                return Err(ConfigError::field(
                    "add",
                    format!("node {id}: {addr:?} is not ip:port (names are not allowed: every member must read the same address)"),
                ))
            }
        }
    }
    Ok(())
}

/// Resolves `host:port` (IPv4, `[IPv6]:port` or a name).
pub(crate) fn resolve(addr: &str) -> Result<SocketAddr, String> {
    addr.to_socket_addrs()
        .map_err(|e| format!("cannot resolve {addr:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("{addr:?} resolves to no address"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    cluster: String,
    node_id: Spanned<NodeId>,
    bind: Option<Spanned<String>>,
    key_file: Option<Spanned<String>>,
    state_dir: Option<String>,
    insecure: Option<bool>,
    encrypt: Option<bool>,
    quorum: Option<Spanned<String>>,
    veto_timeout: Option<Spanned<String>>,
    max_jobs: Option<usize>,
    join: Option<bool>,
    log_level: Option<Spanned<String>>,
    metrics: Option<RawMetrics>,
    multicast: Option<Spanned<String>>,
    multicast_ttl: Option<u32>,
    #[serde(default)]
    nodes: Vec<RawNode>,
    #[serde(default)]
    params: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    limits: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    listen: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    id: Spanned<NodeId>,
    addr: Spanned<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
cluster = "prod"
node_id = 1
insecure = true
quorum = "majority"
[[nodes]]
id = 1
addr = "127.0.0.1:7401"
[[nodes]]
id = 2
addr = "127.0.0.1:7402"
[params]
heartbeat-interval = "500ms"
max-fragment-size = 1400
[limits]
max-fragment-size = 9000
"#;

    #[test]
    fn parses_the_documented_example() {
        let c = NodeConfig::parse(GOOD, None).unwrap();
        assert_eq!(c.params.get(Param::HeartbeatInterval), 500);
        assert_eq!(c.limits.get(Param::MaxFragmentSize), Some(9000));
        assert_eq!(c.bind_addr().unwrap().port(), 7401);
    }

    #[test]
    fn a_syntax_error_without_a_message_of_its_own_still_says_what_is_wrong() {
        // Found by the config_parse fuzz target: toml's error for this has an empty message.
        let e = NodeConfig::parse("e=", None).unwrap_err();
        assert!(!e.message.is_empty(), "{e:?}");
        assert_eq!(e.line, Some(1), "{e}");
    }

    #[test]
    fn errors_name_the_line_and_field() {
        let bad = GOOD.replace("heartbeat-interval = \"500ms\"", "heartbeat-interval = \"5 parsecs\"");
        let e = NodeConfig::parse(&bad, None).unwrap_err();
        assert_eq!(e.line, Some(13), "{e}");
        assert_eq!(e.field, "params.heartbeat-interval");
        let bad = GOOD.replace("cluster = \"prod\"", "cluster = \"prod\"\ncolour = 3");
        let e = NodeConfig::parse(&bad, None).unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
        assert_eq!(e.line, Some(3), "{e}");
        let bad = GOOD.replace("max-fragment-size = 1400", "max-fragmnt-size = 1400");
        let e = NodeConfig::parse(&bad, None).unwrap_err();
        assert!(e.to_string().contains("unknown parameter \"max-fragmnt-size\""), "{e}");
        // A cross-parameter rule names the key the file sets, at its line.
        let bad = GOOD.replace("heartbeat-interval = \"500ms\"", "heartbeat-interval = \"4s\"");
        let e = NodeConfig::parse(&bad, None).unwrap_err();
        assert_eq!(e.field, "params.heartbeat-interval");
        assert_eq!(e.line, Some(13), "{e}");
        assert!(e.to_string().contains("heartbeat-interval = 4000 is invalid: must be below heartbeat-timeout (3000ms)"), "{e}");
        let bad = GOOD.replace("insecure = true\n", "");
        let e = NodeConfig::parse(&bad, None).unwrap_err();
        assert!(e.to_string().contains("no cluster key"), "{e}");
        let bad = GOOD.replace("cluster = \"prod\"", "cluster = \"prod\"\nlog_level = \"loud\"");
        let e = NodeConfig::parse(&bad, None).unwrap_err();
        assert_eq!((e.field.as_str(), e.line), ("log_level", Some(3)), "{e}");
        assert!(e.to_string().contains("expected one of off, error, warn, info, debug, trace, got \"loud\""), "{e}");
    }

    #[test]
    fn the_metrics_address_is_optional_and_checked() {
        assert_eq!(NodeConfig::parse(GOOD, None).unwrap().metrics, None);
        let c = NodeConfig::parse(&format!("{GOOD}[metrics]\nlisten = \"127.0.0.1:9464\"\n"), None).unwrap();
        assert_eq!(c.metrics, Some("127.0.0.1:9464".parse().unwrap()));
        let e = NodeConfig::parse(&format!("{GOOD}[metrics]\nlisten = \"127.0.0.1\"\n"), None).unwrap_err();
        assert_eq!(e.field, "metrics.listen", "{e}");
    }

    #[test]
    fn the_log_level_is_optional() {
        assert_eq!(NodeConfig::parse(GOOD, None).unwrap().log_level, None);
        let c = NodeConfig::parse(&GOOD.replace("cluster = \"prod\"", "cluster = \"prod\"\nlog_level = \"Info\""), None).unwrap();
        assert_eq!(c.log_level, Some(log::LevelFilter::Info));
    }
}
