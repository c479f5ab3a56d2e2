//! How the `cgm` tool prints statuses and outcomes: tables for people, JSON
//! for scripts, the Prometheus text format for a textfile collector.

use cgm_runtime::cgm_core::{AckStatus, Outcome, Param, Status};
use std::fmt::Write;

/// A status as a table, with its parameters configured and effective.
pub fn status_table(s: &Status) -> String {
    let mut o = format!("{s:#}");
    o.push_str(&params_table(&[s]));
    o
}

/// Each peer's ACK lag as a bar (`cgm watch`): the rounds its last ACK is
/// behind the member's current round, one `#` a round up to 40, and how long
/// the member has waited for its ACK of the current round.
pub fn ack_lag_bars(s: &Status) -> String {
    let mut o = String::from("ACK lag (rounds behind this member's current round)\n");
    for p in &s.peers {
        let lag = s.ack_lag(p);
        let bar: String = "#".repeat(lag.min(40) as usize);
        let more = if lag > 40 { "+" } else { "" };
        let waited = s.ack_wait(p.id).map_or(String::new(), |w| format!("  waited {:.1} s for its ACK", w.as_secs_f64()));
        let _ = writeln!(o, "  peer {:>4}  {lag:>6}  |{bar:<40}{more}|{waited}", p.id);
    }
    o
}

/// Parameters of one or several members; a column per member, differences flagged.
pub fn params_table(members: &[&Status]) -> String {
    let mut o = String::new();
    let _ = write!(o, "  {:<34}", "parameter");
    for s in members {
        let _ = write!(o, " {:<24}", format!("member {}", s.node));
    }
    let _ = writeln!(o);
    let (mut files, mut limits) = (false, false);
    for p in Param::ALL {
        let _ = write!(o, "  {:<34}", p.name());
        let first = members[0].params.get(p);
        let (mut differs, mut file_differs) = (false, false);
        for s in members {
            let effective = s.params.get(p);
            differs |= effective != first;
            let mut cell = p.format_value(effective);
            if s.configured.get(p) != effective {
                file_differs = true;
                let _ = write!(cell, " (file {})", p.format_value(s.configured.get(p)));
            }
            if let Some(l) = s.limits.get(p) {
                limits = true;
                let _ = write!(cell, " (limit {})", p.format_value(l));
            }
            let _ = write!(o, " {cell:<24}");
        }
        files |= file_differs;
        let _ = writeln!(o, "{}", row_flag(differs, file_differs));
    }
    if members.len() > 1 {
        let _ = write!(o, "  {:<34}", "generation");
        for s in members {
            let _ = write!(o, " {:<24}", s.generation);
        }
        let _ = writeln!(o);
        // The node set: the committed one, and a file that lists another.
        let ids = |r: &cgm_runtime::cgm_core::Roster| r.ids().map(|id| id.to_string()).collect::<Vec<_>>().join(",");
        let _ = write!(o, "  {:<34}", "node set");
        let (mut differs, mut file_differs) = (false, false);
        for s in members {
            differs |= s.params.nodes() != members[0].params.nodes();
            let mut cell = ids(s.params.nodes());
            if !s.configured.nodes().is_empty() && s.configured.nodes().ids().ne(s.params.nodes().ids()) {
                file_differs = true;
                let _ = write!(cell, " (file {})", ids(s.configured.nodes()));
            }
            let _ = write!(o, " {cell:<24}");
        }
        files |= file_differs;
        let _ = writeln!(o, "{}", row_flag(differs, file_differs));
    }
    if files {
        let _ = writeln!(
            o,
            "(file X): the member's own file sets X; the value in force is the cluster's committed one (a file's global values and node set only start a new cluster)"
        );
    }
    if limits {
        let _ = writeln!(o, "(limit X): the member's [limits]: a change above X fails its apply and rolls back everywhere");
    }
    o
}

/// The end of a row of [`params_table`]: whether the values in force
/// differ between members, or only a member's file differs.
fn row_flag(differs: bool, file_differs: bool) -> &'static str {
    if differs {
        "   <-- DIFFERS"
    } else if file_differs {
        "   <-- a file differs"
    } else {
        ""
    }
}

/// An outcome, one line per member.
pub fn outcome_table(o: &Outcome) -> String {
    let what = match o.kind.as_str() {
        "key-rotation" => "key rotation",
        "node-change" => "node change",
        _ => "change",
    };
    let mut s = format!(
        "{what} {} (seq {}): {} at generation {}\n",
        o.pid,
        o.seq,
        if o.committed { "COMMITTED on every member" } else { "ROLLED BACK on every member" },
        o.generation
    );
    for (id, st) in &o.statuses {
        let text = match st {
            AckStatus::Ok(_) => "applied".to_string(),
            AckStatus::Received => "no status".to_string(),
            AckStatus::Failed(why) => format!("FAILED: {why}"),
        };
        let _ = writeln!(s, "  member {id:>4}: {text}");
    }
    s
}
