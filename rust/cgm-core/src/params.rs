//! The eleven cluster communication parameters: names, units, ranges, defaults,
//! nature (global or local), cross-parameter rules and value parsing.
//!
//! A [`Params`] value is always valid: every way of building or changing one
//! ([`Params::with_changes`]) validates the whole set and returns a new value,
//! leaving the old one untouched on error.

use crate::roster::Roster;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Size in bytes of the largest frame header plus authentication overhead a
/// data fragment carries; `max-fragment-size` must leave room for it.
pub const FRAME_OVERHEAD: u64 = 128;

/// One cluster communication parameter.
///
/// The discriminants are the stable numbers used by the C ABI (`cgm_param`)
/// and Python (`cgm.Param`); they are append-only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[repr(u32)]
pub enum Param {
    /// Period at which a member sends heartbeats to its ring successor (ms).
    HeartbeatInterval = 0,
    /// Silence from the ring predecessor after which one heartbeat counts as missed (ms).
    HeartbeatTimeout = 1,
    /// Time a sent heartbeat may stay unacknowledged before it counts as missed (ms).
    HeartbeatAckTimeout = 2,
    /// Consecutive missed heartbeats after which the predecessor is suspected.
    HeartbeatFailureThreshold = 3,
    /// Consecutive missed heartbeat ACKs after which the successor is suspected.
    HeartbeatAckFailureThreshold = 4,
    /// Receive-check period as a percentage of the heartbeat interval.
    ReceiveSendTimerRatio = 5,
    /// Largest datagram a member sends, header included (bytes).
    MaxFragmentSize = 6,
    /// Time after which an unacknowledged fragment is sent again (ms).
    MessageRetryTimer = 7,
    /// Time after which an unacknowledged fragment is given up and its peer suspected (ms).
    MaxMessageRetryTime = 8,
    /// Messages queued behind the send window to one peer past which new sends are refused.
    SendQueueOverflowThreshold = 9,
    /// Fragments in flight (sent, not acknowledged) to one peer at most.
    SendWindowSize = 10,
}

/// Number of parameters.
pub const PARAM_COUNT: usize = 11;

/// The unit a parameter's value is expressed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unit {
    /// Milliseconds.
    Milliseconds,
    /// A count of events (missed heartbeats).
    Count,
    /// Percent.
    Percent,
    /// Bytes.
    Bytes,
    /// Messages (or, for the window, datagrams).
    Messages,
}

impl Unit {
    /// Short name used in tables, JSON and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Milliseconds => "ms",
            Unit::Count => "count",
            Unit::Percent => "percent",
            Unit::Bytes => "bytes",
            Unit::Messages => "messages",
        }
    }
}

/// Whether both ends of a link must agree on a parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Nature {
    /// Both ends of a link must agree: heartbeat ones switch over link by link.
    Global,
    /// Only the owning member's judgement: takes effect at once.
    Local,
}

/// Static description of one parameter.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    /// The parameter.
    pub param: Param,
    /// Canonical name (kebab case), used by the CLI, TOML, JSON and C.
    pub name: &'static str,
    /// Unit of its value.
    pub unit: Unit,
    /// Smallest valid value.
    pub min: u64,
    /// Largest valid value.
    pub max: u64,
    /// Default value.
    pub default: u64,
    /// Global or local.
    pub nature: Nature,
    /// Whether it is carried by the heartbeat record and switched over per link.
    pub heartbeat: bool,
}

// One row of the parameter table: a constructor with one argument per column.
#[allow(clippy::too_many_arguments)]
const fn spec(
    param: Param,
    name: &'static str,
    unit: Unit,
    min: u64,
    max: u64,
    default: u64,
    nature: Nature,
    heartbeat: bool,
) -> ParamSpec {
    ParamSpec { param, name, unit, min, max, default, nature, heartbeat }
}

use Nature::{Global, Local};
use Unit::*;

/// Every parameter's description, indexed by its number.
pub const SPECS: [ParamSpec; PARAM_COUNT] = [
    spec(Param::HeartbeatInterval, "heartbeat-interval", Milliseconds, 1, 60_000, 1_000, Global, true),
    spec(Param::HeartbeatTimeout, "heartbeat-timeout", Milliseconds, 2, 600_000, 3_000, Global, true),
    spec(Param::HeartbeatAckTimeout, "heartbeat-ack-timeout", Milliseconds, 2, 600_000, 3_000, Global, true),
    spec(Param::HeartbeatFailureThreshold, "heartbeat-failure-threshold", Count, 1, 100, 3, Local, false),
    spec(Param::HeartbeatAckFailureThreshold, "heartbeat-ack-failure-threshold", Count, 1, 100, 3, Local, false),
    spec(Param::ReceiveSendTimerRatio, "receive-send-timer-ratio", Percent, 100, 1_000, 100, Global, true),
    spec(Param::MaxFragmentSize, "max-fragment-size", Bytes, 256, 65_000, 1_400, Global, false),
    spec(Param::MessageRetryTimer, "message-retry-timer", Milliseconds, 1, 10_000, 50, Local, false),
    spec(Param::MaxMessageRetryTime, "max-message-retry-time", Milliseconds, 10, 600_000, 5_000, Local, false),
    spec(Param::SendQueueOverflowThreshold, "send-queue-overflow-threshold", Messages, 1, 1_000_000, 10_000, Local, false),
    spec(Param::SendWindowSize, "send-window-size", Messages, 1, 4_096, 64, Global, false),
];

impl Param {
    /// Every parameter, in number order.
    pub const ALL: [Param; PARAM_COUNT] = [
        Param::HeartbeatInterval,
        Param::HeartbeatTimeout,
        Param::HeartbeatAckTimeout,
        Param::HeartbeatFailureThreshold,
        Param::HeartbeatAckFailureThreshold,
        Param::ReceiveSendTimerRatio,
        Param::MaxFragmentSize,
        Param::MessageRetryTimer,
        Param::MaxMessageRetryTime,
        Param::SendQueueOverflowThreshold,
        Param::SendWindowSize,
    ];

    /// The parameter with stable number `n`, if any.
    pub fn from_u32(n: u32) -> Option<Param> {
        Param::ALL.get(n as usize).copied()
    }

    /// The parameter with canonical name `name` (kebab case; `_` is accepted for `-`
    /// and case is ignored, so the C and Python spellings work too).
    pub fn from_name(name: &str) -> Option<Param> {
        let norm = name.trim().to_ascii_lowercase().replace('_', "-");
        SPECS.iter().find(|s| s.name == norm).map(|s| s.param)
    }

    /// Static description.
    pub fn spec(self) -> &'static ParamSpec {
        &SPECS[self as usize]
    }

    /// Canonical name.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Parses a value for this parameter: a plain number in the parameter's unit,
    /// or for durations a number with a unit suffix (`us`, `ms`, `s`, `m`), e.g. `"500ms"`.
    ///
    /// # Errors
    /// [`ParamError::Unparsable`] if the text is not a number (with a known suffix);
    /// the range is not checked here.
    pub fn parse_value(self, text: &str) -> Result<u64, ParamError> {
        let t = text.trim();
        let bad = || ParamError::Unparsable { param: self, text: text.to_string() };
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, suffix) = t.split_at(split);
        let n: u64 = num.parse().map_err(|_| bad())?;
        let suffix = suffix.trim();
        match (self.spec().unit, suffix) {
            (_, "") => Ok(n),
            (Unit::Milliseconds, "ms") => Ok(n),
            (Unit::Milliseconds, "s") => n.checked_mul(1_000).ok_or_else(bad),
            (Unit::Milliseconds, "m" | "min") => n.checked_mul(60_000).ok_or_else(bad),
            (Unit::Milliseconds, "us") if n.is_multiple_of(1_000) => Ok(n / 1_000),
            (Unit::Bytes, "B" | "b") => Ok(n),
            (Unit::Percent, "%") => Ok(n),
            _ => Err(bad()),
        }
    }

    /// Formats a value with its unit, e.g. `1000ms`, `1400 bytes`.
    pub fn format_value(self, v: u64) -> String {
        match self.spec().unit {
            Unit::Milliseconds => format!("{v}ms"),
            Unit::Percent => format!("{v}%"),
            u => format!("{v} {}", u.as_str()),
        }
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every canonical name, comma-separated, in parameter order (from the table).
fn known_names() -> String {
    Param::ALL.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
}

/// Why a parameter value or set was refused. Nothing changed when one is returned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ParamError {
    /// The name is not one of the eleven canonical names.
    #[error("unknown parameter {0:?}; known: {known}", known = known_names())]
    UnknownName(String),
    /// The number is not a parameter number.
    #[error("unknown parameter number {0}")]
    UnknownNumber(u32),
    /// The text is not a number in the parameter's unit.
    #[error("{param}: cannot parse {text:?} as a value in {}", param.spec().unit.as_str())]
    Unparsable {
        /// The parameter.
        param: Param,
        /// The text given.
        text: String,
    },
    /// The value is outside the valid range.
    #[error("{param} = {value} is out of range: valid range is {min}..={max} {}", param.spec().unit.as_str())]
    OutOfRange {
        /// The parameter.
        param: Param,
        /// The value given.
        value: u64,
        /// Smallest valid value.
        min: u64,
        /// Largest valid value.
        max: u64,
    },
    /// The set breaks a rule relating two parameters.
    #[error("{param} = {value} is invalid: {rule}")]
    Rule {
        /// The parameter that breaks the rule.
        param: Param,
        /// Its value.
        value: u64,
        /// The rule, in words.
        rule: String,
    },
    /// The same parameter appears twice in one change.
    #[error("{0} appears more than once in the change")]
    Duplicate(Param),
    /// A change with no parameters.
    #[error("a change must name at least one parameter")]
    Empty,
    /// The value exceeds this member's local limit (`[limits]`).
    #[error("{param} = {value} exceeds this member's local limit of {limit}")]
    OverLocalLimit {
        /// The parameter.
        param: Param,
        /// The value proposed.
        value: u64,
        /// The member's limit.
        limit: u64,
    },
}

/// The values a cluster commits by transaction: a complete, valid set of the
/// eleven parameter values, each in its unit, and the fingerprint of the
/// cluster key members send with ([`Params::key`], changed by a key
/// rotation, never by a parameter change), and the cluster's node set
/// ([`Params::nodes`], changed by a node change). Decoding (from the wire, a
/// report, a status) validates it like any other way of making one: a set
/// that breaks a range or a cross-parameter rule does not decode.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawParams")]
pub struct Params {
    values: [u64; PARAM_COUNT],
    key: u64,
    nodes: Roster,
}

/// The encoded form of [`Params`], validated into one when decoded.
#[derive(Deserialize)]
struct RawParams {
    values: [u64; PARAM_COUNT],
    key: u64,
    nodes: Roster,
}

impl TryFrom<RawParams> for Params {
    type Error = ParamError;

    fn try_from(raw: RawParams) -> Result<Params, ParamError> {
        let p = Params { values: raw.values, key: raw.key, nodes: raw.nodes };
        p.validate()?;
        Ok(p)
    }
}

impl Default for Params {
    fn default() -> Self {
        let mut values = [0; PARAM_COUNT];
        for s in &SPECS {
            values[s.param as usize] = s.default;
        }
        Params { values, key: 0, nodes: Roster::default() }
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for p in Param::ALL {
            m.entry(&p.name(), &self.get(p));
        }
        m.entry(&"key", &format_args!("{:016x}", self.key));
        m.entry(&"nodes", &format_args!("{}", self.nodes));
        m.finish()
    }
}

impl Params {
    /// The value of `p`, in its unit.
    pub fn get(&self, p: Param) -> u64 {
        self.values[p as usize]
    }

    /// The fingerprint of the cluster key members send with (0: none, an
    /// insecure cluster). See [`Params::with_key`].
    pub fn key(&self) -> u64 {
        self.key
    }

    /// The same values with the key of fingerprint `key`: what a node starts
    /// with (the fingerprint of its configured key) and what a committed key
    /// rotation puts in force.
    pub fn with_key(&self, key: u64) -> Params {
        Params { key, ..self.clone() }
    }

    /// The cluster's node set (empty only in [`Params::default`]: a node
    /// puts its configured nodes there when it starts). See
    /// [`Params::with_nodes`].
    pub fn nodes(&self) -> &Roster {
        &self.nodes
    }

    /// The same values with the node set `nodes`: what a node starts with
    /// (its configured nodes) and what a committed node change puts in force.
    pub fn with_nodes(&self, nodes: Roster) -> Params {
        Params { nodes, ..self.clone() }
    }

    /// A duration parameter as a [`Duration`].
    pub fn duration(&self, p: Param) -> Duration {
        debug_assert_eq!(p.spec().unit, Unit::Milliseconds);
        Duration::from_millis(self.get(p))
    }

    /// Checks one value against its range alone.
    ///
    /// # Errors
    /// [`ParamError::OutOfRange`] naming the parameter, value and range.
    pub fn check_range(p: Param, value: u64) -> Result<(), ParamError> {
        let s = p.spec();
        if value < s.min || value > s.max {
            return Err(ParamError::OutOfRange { param: p, value, min: s.min, max: s.max });
        }
        Ok(())
    }

    /// A new set with `changes` applied, validated as a whole; `self` is unchanged.
    ///
    /// # Errors
    /// The first range, duplicate or cross-parameter rule broken. A broken
    /// cross-parameter rule blames the first parameter of `changes` it
    /// involves and names the value it conflicts with.
    pub fn with_changes(&self, changes: &[(Param, u64)]) -> Result<Params, ParamError> {
        if changes.is_empty() {
            return Err(ParamError::Empty);
        }
        let mut next = self.clone();
        for (i, &(p, v)) in changes.iter().enumerate() {
            if changes[..i].iter().any(|&(q, _)| q == p) {
                return Err(ParamError::Duplicate(p));
            }
            Params::check_range(p, v)?;
            next.values[p as usize] = v;
        }
        next.check_rules(changes)?;
        Ok(next)
    }

    /// Checks every range and cross-parameter rule.
    ///
    /// # Errors
    /// The first rule broken, naming the parameter, its value and the rule.
    pub fn validate(&self) -> Result<(), ParamError> {
        for p in Param::ALL {
            Params::check_range(p, self.get(p))?;
        }
        self.check_rules(&[])
    }

    /// The cross-parameter rules. A broken rule is blamed on the first
    /// parameter of `set` (the values the caller is setting) that it involves,
    /// else on the rule's own subject; the message names the other values.
    fn check_rules(&self, set: &[(Param, u64)]) -> Result<(), ParamError> {
        use Param::*;
        let v = |p: Param| self.get(p);
        let blame = |involved: &[Param]| set.iter().map(|&(p, _)| p).find(|p| involved.contains(p)).unwrap_or(involved[0]);
        let rule = |param: Param, rule: String| Err(ParamError::Rule { param, value: v(param), rule });
        let interval = v(HeartbeatInterval);
        // Both timeouts must exceed the interval.
        let low: Vec<Param> = [HeartbeatTimeout, HeartbeatAckTimeout].into_iter().filter(|&t| v(t) <= interval).collect();
        if let Some(&first) = low.first() {
            let p = blame(&[first, HeartbeatInterval]);
            if p == HeartbeatInterval {
                let others: Vec<String> = low.iter().map(|&t| format!("{t} ({}ms)", v(t))).collect();
                return rule(p, format!("must be below {}", others.join(" and ")));
            }
            return rule(first, format!("must exceed heartbeat-interval ({interval}ms)"));
        }
        // The receive check (interval x ratio) must come before the timeout.
        let (ratio, timeout) = (v(ReceiveSendTimerRatio), v(HeartbeatTimeout));
        let check = interval * ratio / 100;
        if check >= timeout {
            return match blame(&[ReceiveSendTimerRatio, HeartbeatInterval, HeartbeatTimeout]) {
                HeartbeatTimeout => rule(
                    HeartbeatTimeout,
                    format!("must exceed the receive-check period (heartbeat-interval {interval}ms x receive-send-timer-ratio {ratio}% = {check}ms)"),
                ),
                HeartbeatInterval => rule(
                    HeartbeatInterval,
                    format!("the receive-check period (heartbeat-interval x receive-send-timer-ratio {ratio}% = {check}ms) must be below heartbeat-timeout ({timeout}ms)"),
                ),
                p => rule(
                    p,
                    format!("the receive-check period (heartbeat-interval {interval}ms x ratio = {check}ms) must be below heartbeat-timeout ({timeout}ms)"),
                ),
            };
        }
        let (retry, max_retry) = (v(MessageRetryTimer), v(MaxMessageRetryTime));
        if max_retry <= retry {
            return match blame(&[MaxMessageRetryTime, MessageRetryTimer]) {
                MessageRetryTimer => rule(MessageRetryTimer, format!("must be below max-message-retry-time ({max_retry}ms)")),
                p => rule(p, format!("must exceed message-retry-timer ({retry}ms)")),
            };
        }
        if v(MaxFragmentSize) < FRAME_OVERHEAD * 2 {
            return rule(MaxFragmentSize, format!("must leave room for the {FRAME_OVERHEAD}-byte frame header"));
        }
        Ok(())
    }

    /// The parameters whose values differ between `self` and `other`.
    pub fn diff(&self, other: &Params) -> Vec<(Param, u64)> {
        Param::ALL.iter().filter(|&&p| self.get(p) != other.get(p)).map(|&p| (p, other.get(p))).collect()
    }
}

/// Node-local upper bounds (`[limits]` in the config): a change beyond a member's
/// limit fails that member's local apply, and so rolls the change back everywhere.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalLimits {
    limits: Vec<(Param, u64)>,
}

impl LocalLimits {
    /// Sets the largest value this member accepts for `p`.
    pub fn set(&mut self, p: Param, max: u64) {
        self.limits.retain(|&(q, _)| q != p);
        self.limits.push((p, max));
    }

    /// Every limit set, in parameter order.
    pub fn all(&self) -> Vec<(Param, u64)> {
        let mut v = self.limits.clone();
        v.sort_unstable();
        v
    }

    /// The limit for `p`, if any.
    pub fn get(&self, p: Param) -> Option<u64> {
        self.limits.iter().find(|&&(q, _)| q == p).map(|&(_, v)| v)
    }

    /// Checks a change against these limits.
    ///
    /// # Errors
    /// [`ParamError::OverLocalLimit`] for the first value over its limit.
    pub fn check(&self, changes: &[(Param, u64)]) -> Result<(), ParamError> {
        for &(p, v) in changes {
            if let Some(limit) = self.get(p) {
                if v > limit {
                    return Err(ParamError::OverLocalLimit { param: p, value: v, limit });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_decoded_parameter_set_is_validated_like_any_other() {
        let good = Params::default();
        let bytes = postcard::to_allocvec(&good).unwrap();
        assert_eq!(postcard::from_bytes::<Params>(&bytes).unwrap(), good);
        // A forged set whose fragment size leaves no room for the frame
        // header (it would underflow the chunk size) does not decode.
        let mut values = good.values;
        values[Param::MaxFragmentSize as usize] = 64;
        let forged = postcard::to_allocvec(&values).unwrap();
        assert!(postcard::from_bytes::<Params>(&forged).is_err());
        values = good.values;
        values[Param::HeartbeatInterval as usize] = 0;
        assert!(postcard::from_bytes::<Params>(&postcard::to_allocvec(&values).unwrap()).is_err());
    }

    use super::*;

    #[test]
    fn defaults_are_valid_and_names_round_trip() {
        Params::default().validate().unwrap();
        for (i, p) in Param::ALL.iter().enumerate() {
            assert_eq!(*p as usize, i);
            assert_eq!(SPECS[i].param, *p);
            assert_eq!(Param::from_name(p.name()), Some(*p));
            assert_eq!(Param::from_name(&p.name().to_uppercase().replace('-', "_")), Some(*p));
        }
        assert_eq!(Param::from_name("nope"), None);
    }

    #[test]
    fn parses_durations_with_units() {
        let p = Param::HeartbeatInterval;
        assert_eq!(p.parse_value("500ms").unwrap(), 500);
        assert_eq!(p.parse_value("2s").unwrap(), 2000);
        assert_eq!(p.parse_value("250").unwrap(), 250);
        assert!(p.parse_value("-5").is_err());
        assert!(p.parse_value("5 parsecs").is_err());
        assert!(Param::SendWindowSize.parse_value("5s").is_err());
    }

    #[test]
    fn refusals_name_parameter_value_and_range() {
        let base = Params::default();
        let e = base.with_changes(&[(Param::SendWindowSize, 0)]).unwrap_err();
        assert_eq!(e.to_string(), "send-window-size = 0 is out of range: valid range is 1..=4096 messages");
        let e = base.with_changes(&[(Param::HeartbeatTimeout, 500)]).unwrap_err();
        assert!(e.to_string().contains("heartbeat-timeout = 500"), "{e}");
        assert!(e.to_string().contains("must exceed heartbeat-interval"), "{e}");
        let e = base.with_changes(&[(Param::SendWindowSize, 4), (Param::SendWindowSize, 5)]).unwrap_err();
        assert_eq!(e, ParamError::Duplicate(Param::SendWindowSize));
        // A multi-parameter change can move the interval and its timeout together.
        let ok = base
            .with_changes(&[(Param::HeartbeatInterval, 50), (Param::HeartbeatTimeout, 150), (Param::HeartbeatAckTimeout, 150)])
            .unwrap();
        assert_eq!(ok.get(Param::HeartbeatInterval), 50);
        assert_eq!(base, Params::default(), "a change never touches the original set");
    }

    #[test]
    fn a_broken_rule_blames_the_parameter_being_set() {
        let base = Params::default();
        let msg = |changes: &[(Param, u64)]| base.with_changes(changes).unwrap_err().to_string();
        // Issue 13: the user set the interval, not the timeout.
        assert_eq!(
            msg(&[(Param::HeartbeatInterval, 4000)]),
            "heartbeat-interval = 4000 is invalid: must be below heartbeat-timeout (3000ms) and heartbeat-ack-timeout (3000ms)"
        );
        assert_eq!(msg(&[(Param::HeartbeatTimeout, 1000)]), "heartbeat-timeout = 1000 is invalid: must exceed heartbeat-interval (1000ms)");
        let ack = base.with_changes(&[(Param::HeartbeatTimeout, 9000)]).unwrap();
        assert_eq!(
            ack.with_changes(&[(Param::HeartbeatInterval, 4000)]).unwrap_err().to_string(),
            "heartbeat-interval = 4000 is invalid: must be below heartbeat-ack-timeout (3000ms)"
        );
        assert_eq!(
            msg(&[(Param::MessageRetryTimer, 6000)]),
            "message-retry-timer = 6000 is invalid: must be below max-message-retry-time (5000ms)"
        );
        assert_eq!(
            msg(&[(Param::MaxMessageRetryTime, 50)]),
            "max-message-retry-time = 50 is invalid: must exceed message-retry-timer (50ms)"
        );
        // The receive-check rule, from each of its three parameters.
        assert_eq!(
            msg(&[(Param::ReceiveSendTimerRatio, 300)]),
            "receive-send-timer-ratio = 300 is invalid: the receive-check period (heartbeat-interval 1000ms x ratio = 3000ms) must be below heartbeat-timeout (3000ms)"
        );
        let r = base.with_changes(&[(Param::ReceiveSendTimerRatio, 250)]).unwrap();
        assert_eq!(
            r.with_changes(&[(Param::HeartbeatTimeout, 2500)]).unwrap_err().to_string(),
            "heartbeat-timeout = 2500 is invalid: must exceed the receive-check period (heartbeat-interval 1000ms x receive-send-timer-ratio 250% = 2500ms)"
        );
        assert_eq!(
            r.with_changes(&[(Param::HeartbeatInterval, 1200)]).unwrap_err().to_string(),
            "heartbeat-interval = 1200 is invalid: the receive-check period (heartbeat-interval x receive-send-timer-ratio 250% = 3000ms) must be below heartbeat-timeout (3000ms)"
        );
        // Several values set: the first one the rule involves is named.
        let e =
            base.with_changes(&[(Param::SendWindowSize, 8), (Param::HeartbeatTimeout, 900), (Param::HeartbeatInterval, 950)]).unwrap_err();
        assert!(e.to_string().starts_with("heartbeat-timeout = 900 is invalid"), "{e}");
        // A whole set (a loaded file, no change) blames the rule's subject, as before.
        let mut whole = base;
        whole.values[Param::HeartbeatInterval as usize] = 4000;
        assert!(whole.validate().unwrap_err().to_string().starts_with("heartbeat-timeout = 3000 is invalid"));
    }

    #[test]
    fn local_limits_refuse_values_over_the_limit() {
        let mut l = LocalLimits::default();
        l.set(Param::MaxFragmentSize, 9000);
        assert!(l.check(&[(Param::MaxFragmentSize, 9000)]).is_ok());
        let e = l.check(&[(Param::MaxFragmentSize, 9001)]).unwrap_err();
        assert!(e.to_string().contains("exceeds this member's local limit of 9000"));
    }
}
