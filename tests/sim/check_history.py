#!/usr/bin/env python3
"""Independent checker for cgm-sim histories (``cgm-sim --history``).

Written from the history schema alone (rust/cgm-sim/src/history.rs header),
without reading the simulator's own checker, as a second opinion on it.

Usage::

    python3 tests/sim/check_history.py FILE_OR_DIR...

Every ``*.jsonl`` file given (directories are searched recursively) is checked
on its own.  One line is printed per violation as ``FILE:LINE: [CHECK] message``,
then a summary.  Exit status: 0 when every file holds, 1 on any violation,
2 when an input is unreadable or malformed (a malformed line is reported as
``FILE:LINE: malformed: ...``; the rest of that file is skipped).

The schema (one JSON object per line, in the order events happened; every
object has ``t_us``, ``node``, ``inc`` and ``event``):

- ``outcome``: ``seq``, ``pid`` ("NODE:TXID"), ``kind`` (param-change|key-rotation|node-change|app),
  ``committed``, ``generation``, ``learned``, ``era``;
- ``view``: ``epoch``, ``leader``, ``members``, ``quorum``, ``transferred``;
- ``values``: ``generation``, ``values`` {canonical-name: number};
- ``restart`` (new incarnation ``inc``: empty state, or, for a member that
  keeps durable state, the state on its disk, and then a ``values`` event
  with the values its host starts with follows at once) and ``crash``.

Checks (the tag printed with each violation):

Promises of the project
  P1  exactly once: a member (node, inc) reports a learned:false outcome for a
      given pid at most once and for a given seq at most once, per era.
  P1L own-fate reports: a learned:true outcome names the reporting member's own
      proposal (pid's NODE is the reporting node), and a member (node, inc)
      reports the fate of one pid at most once per era, learned or not (the
      host is told the fate of its proposal exactly once).  Real histories
      break this (first seen with cgm-sim of 2024-12-05, e.g. swarm seed 34
      lines 693/703): a proposer is told learned:true while in a minority
      view, then completes the same protocol itself (learned:false) when the
      next quorum view is installed.
  P2  agreement: within an era, all reports (any member, incarnation, learned
      or not) of one seq name the same pid, kind, committed and generation, and
      all reports of one pid name the same seq, kind, committed and generation.
  P3  total order: within (node, inc, era) learned:false outcomes have strictly
      increasing seq; a view with transferred=true resets the position.
  P4  values: within an era every values event at a generation carries
      identical values; per (node, inc, era), the generation of each committed
      learned:false change outcome (param-change, key-rotation or node-change) is one more than the member's previous
      committed change (the chain restarts after a transfer). The chain may
      pass over the generation of a change the member was told as its own
      proposal's fate (learned:true, committed): the host is told a fate once
      (P1L), so the member does not report that change again when it
      completes it (first seen with cgm-sim of 2026-12-06, swarm seed
      20793009 line 167).
  P5  validity: every committed change outcome at generation g in era e
      is matched by some values event at generation g in era e, or, for a fate
      learned in era e, in the earlier era that decided it (checked at end of
      file).

Extra checks (each holds for any correct run; see the notes)
  S1  time order: t_us never decreases along the file (events are written in
      the order they happened).
  S2  lifecycle: a node's first event is a restart; every restart has a larger
      incarnation than the node's previous one; no event is emitted by a
      crashed node, and every event carries the node's current incarnation.
  S3  view sanity: the installing node and the leader are members of the view
      and members are listed once each.
  E1  era never decreases along the file (it counts state losses so far).
  G1  generation in force: every learned:false outcome carries the parameter
      generation the reporting member itself has in force, i.e. the generation
      of its latest values event in this incarnation (0 before any).  A member
      that reports a committed change must have applied it, and a member
      running on stale parameters shows up here.  Batches: the simulator
      writes the events of one view installation at one member (the
      protocols the installation completes, then the values, then the view)
      at the same t_us, outcomes first; so an outcome may also carry the
      generation of a values event later in the same batch (same member, same
      t_us, up to and including its view event).  A divergence is reported
      once, then the checker follows the outcome's generation.
  V1  values after a transfer: the same failure as G1, when the member took
      the state by transfer (view transferred=true) and no values event
      accompanied the transfer although the generation it then works at
      differs from the last values it reported.  The schema promises a values
      event "after a state transfer"; the simulator leaves it out when the
      generation is unchanged (harmless: the values are the same, P4), so
      only transfers that change the generation are reported.
  G2  sequence/generation coherence (end of file, per era): ordering the
      distinct seqs reported in an era, the generation before a protocol
      (its generation, minus one for a committed change) is never below
      the generation after an earlier one.  Parameter generations cannot go
      backwards along the total order, and a committed change must advance it.

P4's chain check also works per batch: in a batch holding a transfer, the
committed changes are not chained (the member jumps to the lineage), and the
chain restarts at the generation the transfer's values event reports (unknown
when there is none).

Era of a values event.  Values events carry no era.  In every history the
simulator writes, a values event is immediately followed, at the same member
and simulated time, by either the param-change outcome it belongs to or the
view it was installed with (transfer/rollback).  A values event therefore takes
the era of the same member's next outcome in the same incarnation; if the
member crashes, restarts or the file ends first, the era of the latest outcome
in the file at that moment is used.  Values are compared once their era is
known.
"""

import json
import os
import sys

KINDS = ("param-change", "key-rotation", "node-change", "app")
# The kinds whose committed outcome grows the generation (a parameter change,
# a key rotation: both change the values, the key's fingerprint among them).
CHANGES = ("param-change", "key-rotation", "node-change")
EVENTS = ("outcome", "view", "values", "restart", "crash")


class Malformed(Exception):
    pass


def _int(obj, key, lineno, minimum=None):
    v = obj.get(key)
    if type(v) is not int:
        raise Malformed("field %r must be an integer, got %r" % (key, v))
    if minimum is not None and v < minimum:
        raise Malformed("field %r must be >= %d, got %r" % (key, minimum, v))
    return v


def _bool(obj, key):
    v = obj.get(key)
    if type(v) is not bool:
        raise Malformed("field %r must be a boolean, got %r" % (key, v))
    return v


def validate(obj):
    """Raise Malformed unless obj follows the schema."""
    if not isinstance(obj, dict):
        raise Malformed("line is not a JSON object")
    for k in ("t_us", "node", "inc"):
        _int(obj, k, None, 0)
    ev = obj.get("event")
    if ev not in EVENTS:
        raise Malformed("unknown event %r" % (ev,))
    if ev == "outcome":
        _int(obj, "seq", None, 0)
        _int(obj, "generation", None, 0)
        _int(obj, "era", None, 0)
        _bool(obj, "committed")
        _bool(obj, "learned")
        if obj.get("kind") not in KINDS:
            raise Malformed("outcome kind must be one of %s, got %r" % (KINDS, obj.get("kind")))
        pid = obj.get("pid")
        if not isinstance(pid, str):
            raise Malformed("pid must be a string, got %r" % (pid,))
        parts = pid.split(":")
        if len(parts) != 2 or not parts[0].isdigit() or not parts[1].isdigit():
            raise Malformed("pid must look like NODE:TXID, got %r" % (pid,))
    elif ev == "view":
        _int(obj, "epoch", None, 0)
        _int(obj, "leader", None, 0)
        _bool(obj, "quorum")
        _bool(obj, "transferred")
        m = obj.get("members")
        if not isinstance(m, list) or not m or any(type(x) is not int for x in m):
            raise Malformed("members must be a non-empty list of node ids, got %r" % (m,))
    elif ev == "values":
        _int(obj, "generation", None, 0)
        vals = obj.get("values")
        if not isinstance(vals, dict):
            raise Malformed("values must be an object, got %r" % (vals,))
        for k, v in vals.items():
            if k == "nodes":
                if not isinstance(v, list) or not v or any(type(x) is not int for x in v):
                    raise Malformed("nodes must be a non-empty list of node ids, got %r" % (v,))
            elif type(v) not in (int, float):
                raise Malformed("value of %r must be a number, got %r" % (k, v))


class Member:
    """What we know of one node's current incarnation."""

    __slots__ = ("node", "unreported", "inc", "alive", "gen", "last_seq", "chain", "pending_values", "seen_pid", "seen_seq", "fate_pid", "learned_gens",
                 "batch_t", "batch")

    def __init__(self, node, inc):
        self.node = node
        self.unreported = None  # line of a transfer not followed by a values event (V1)
        self.inc = inc
        self.alive = True
        self.gen = 0  # generation of the values in force (G1)
        self.last_seq = {}  # era -> (seq, line) of last learned:false outcome (P3)
        self.chain = None  # (era or None after a transfer, generation, line) of last committed change (P4)
        self.pending_values = []  # values events awaiting their era
        self.seen_pid = {}  # (era, pid) -> line of learned:false report (P1)
        self.seen_seq = {}  # (era, seq) -> line (P1)
        self.fate_pid = {}  # (era, pid) -> (line, learned) own-proposal fate (P1L)
        self.learned_gens = set()  # (era, generation) of committed changes told as own fates (P4)
        self.batch_t = None  # t_us of the member's open batch
        self.batch = []  # the batch: ("outcome", line, era, seq, pid, kind, committed, gen, gen_in_force)
        #                              | ("values", line, gen) | ("transfer", line, gen)


class FileChecker:
    def __init__(self, path, report):
        self.path = path
        self.report = report  # callable(path, line, tag, message)
        self.violations = 0
        self.events = 0
        self.outcomes = 0
        self.last_t = None
        self.era = 0  # largest era seen so far (E1)
        self.eras = set()
        self.members = {}  # node -> Member
        self.last_inc = {}  # node -> last incarnation seen
        self.by_seq = {}  # (era, seq) -> (pid, kind, committed, generation, line)
        self.by_pid = {}  # (era, pid) -> (seq, kind, committed, generation, line)
        self.values_at = {}  # (era, generation) -> (values, line)
        self.committed_changes = {}  # (era, generation) -> first line (P5)

    def bad(self, line, tag, msg):
        self.violations += 1
        self.report(self.path, line, tag, msg)

    # -- values, once their era is known -------------------------------
    def settle_values(self, m, era):
        for line, node, gen, vals in m.pending_values:
            key = (era, gen)
            prev = self.values_at.get(key)
            if prev is None:
                self.values_at[key] = (vals, line)
            elif prev[0] != vals:
                diff = sorted(k for k in set(prev[0]) | set(vals) if prev[0].get(k) != vals.get(k))
                shown = ", ".join("%s: %r vs %r" % (k, prev[0].get(k), vals.get(k)) for k in diff[:6])
                self.bad(line, "P4", "node %d reports values at generation %d (era %d) that differ from those "
                         "reported at line %d: %s" % (node, gen, era, prev[1], shown))
        m.pending_values = []

    # -- one event ------------------------------------------------------
    def feed(self, line, e):
        self.events += 1
        t, node, inc, ev = e["t_us"], e["node"], e["inc"], e["event"]
        if self.last_t is not None and t < self.last_t:
            self.bad(line, "S1", "t_us %d is earlier than the previous event's %d" % (t, self.last_t))
        self.last_t = t if self.last_t is None else max(t, self.last_t)

        m = self.members.get(node)
        if ev == "restart":
            prev = self.last_inc.get(node)
            if prev is not None and inc <= prev:
                self.bad(line, "S2", "node %d restarts with incarnation %d, not above its previous %d" % (node, inc, prev))
            if m is not None and m.alive:
                self.bad(line, "S2", "node %d restarts (inc %d) without a crash of incarnation %d" % (node, inc, m.inc))
            if m is not None:
                self.close_batch(m)
                self.settle_values(m, self.era)
            self.last_inc[node] = inc
            self.members[node] = Member(node, inc)
            return
        if m is None:
            self.bad(line, "S2", "node %d emits %s before any restart" % (node, ev))
            m = self.members[node] = Member(node, inc)
            self.last_inc[node] = inc
        elif not m.alive:
            self.bad(line, "S2", "node %d (inc %d) emits %s while crashed" % (node, inc, ev))
        elif inc != m.inc:
            self.bad(line, "S2", "node %d emits %s with incarnation %d but its current one is %d" % (node, ev, inc, m.inc))

        if m.batch_t != t:
            self.close_batch(m)
            m.batch_t = t

        if ev == "crash":
            self.close_batch(m)
            self.settle_values(m, self.era)
            m.alive = False
        elif ev == "view":
            members = e["members"]
            if node not in members:
                self.bad(line, "S3", "node %d installs view epoch %d whose members %r exclude it" % (node, e["epoch"], members))
            if e["leader"] not in members:
                self.bad(line, "S3", "view epoch %d at node %d has leader %d outside its members %r" % (e["epoch"], node, e["leader"], members))
            if len(set(members)) != len(members):
                self.bad(line, "S3", "view epoch %d at node %d lists a member twice: %r" % (e["epoch"], node, members))
            if e["transferred"]:
                # The member took the lineage's state: its position and change
                # chain restart from there (P2 still binds what it reports).
                m.last_seq.clear()
                m.batch.append(("transfer", line))
            self.close_batch(m)
        elif ev == "values":
            m.batch.append(("values", line, e["generation"]))
            m.pending_values.append((line, node, e["generation"], e["values"]))
        elif ev == "outcome":
            self.outcome(line, node, m, e)

    def outcome(self, line, node, m, e):
        self.outcomes += 1
        era, seq, pid, kind = e["era"], e["seq"], e["pid"], e["kind"]
        committed, gen, learned = e["committed"], e["generation"], e["learned"]
        if era < self.era:
            self.bad(line, "E1", "outcome era %d is below era %d already reported" % (era, self.era))
        self.era = max(self.era, era)
        self.eras.add(era)
        self.settle_values(m, era)
        desc = "seq %d pid %s" % (seq, pid)

        # P2 agreement, both directions.
        mine = (pid, kind, committed, gen)
        prev = self.by_seq.get((era, seq))
        if prev is None:
            self.by_seq[(era, seq)] = mine + (line,)
        elif prev[:4] != mine:
            self.bad(line, "P2", "era %d seq %d: node %d reports pid %s %s %s generation %d, but line %d reported "
                     "pid %s %s %s generation %d" % (era, seq, node, pid, kind, _fate(committed), gen, prev[4],
                                                    prev[0], prev[1], _fate(prev[2]), prev[3]))
        mine = (seq, kind, committed, gen)
        prev = self.by_pid.get((era, pid))
        if prev is None:
            self.by_pid[(era, pid)] = mine + (line,)
        elif prev[:4] != mine:
            self.bad(line, "P2", "era %d pid %s: node %d reports seq %d %s %s generation %d, but line %d reported "
                     "seq %d %s %s generation %d" % (era, pid, node, seq, kind, _fate(committed), gen, prev[4],
                                                    prev[0], prev[1], _fate(prev[2]), prev[3]))

        # P1L: own-proposal fates.
        proposer = int(pid.split(":")[0])
        if learned and proposer != node:
            self.bad(line, "P1L", "node %d learns the fate of %s, which is not its own proposal" % (node, pid))
        if learned or proposer == node:
            prev = m.fate_pid.get((era, pid))
            if prev is not None:
                self.bad(line, "P1L", "node %d (inc %d) is told the fate of its proposal %s again (learned=%s; "
                         "first at line %d, learned=%s)" % (node, m.inc, pid, _js(learned), prev[0], _js(prev[1])))
            else:
                m.fate_pid[(era, pid)] = (line, learned)

        if committed and kind in CHANGES:
            self.committed_changes.setdefault((era, gen), (line, pid, learned))

        if learned:
            if committed and kind in CHANGES:
                m.learned_gens.add((era, gen))
            return

        # P1 exactly once.
        prev = m.seen_pid.get((era, pid))
        if prev is not None:
            self.bad(line, "P1", "node %d (inc %d) reports %s a second time in era %d (first at line %d)" % (node, m.inc, pid, era, prev))
        else:
            m.seen_pid[(era, pid)] = line
        prev = m.seen_seq.get((era, seq))
        if prev is not None:
            self.bad(line, "P1", "node %d (inc %d) reports seq %d a second time in era %d (first at line %d)" % (node, m.inc, seq, era, prev))
        else:
            m.seen_seq[(era, seq)] = line

        # P3 total order.
        prev = m.last_seq.get(era)
        if prev is not None and seq <= prev[0]:
            self.bad(line, "P3", "node %d (inc %d) reports %s after seq %d (line %d) with no transfer in between" % (node, m.inc, desc, prev[0], prev[1]))
        m.last_seq[era] = (seq, line)

        # G1 and P4 wait for the end of the member's batch.
        m.batch.append(("outcome", line, era, seq, pid, kind, committed, gen))

    def close_batch(self, m):
        """End the member's batch of same-time events (see G1, V1 and P4)."""
        batch = m.batch
        if not batch:
            return
        m.batch = []
        node = m.node
        transfer = any(b[0] == "transfer" for b in batch)
        has_values = any(b[0] == "values" for b in batch)
        silent = None  # a transfer in this batch that no values event accompanies
        if transfer and not has_values:
            silent = [b[1] for b in batch if b[0] == "transfer"][0]
        for i, b in enumerate(batch):
            if b[0] == "values":
                m.gen = b[2]
                m.unreported = None
                continue
            if b[0] == "transfer":
                m.unreported = None if has_values else b[1]
                continue
            _, line, era, seq, pid, kind, committed, gen = b
            desc = "seq %d pid %s" % (seq, pid)
            # G1/V1: the generation it has in force, or one it takes later in the batch.
            later = [x[2] for x in batch[i + 1:] if x[0] == "values"]
            if gen != m.gen and gen not in later:
                culprit = m.unreported if m.unreported is not None else silent
                if culprit is not None:
                    self.bad(line, "V1", "node %d (inc %d) reports %s %s %s at generation %d, but when it took the "
                             "state by transfer at line %d no values event followed: the last values it reported "
                             "are generation %d" % (node, m.inc, desc, kind, _fate(committed), gen, culprit, m.gen))
                else:
                    self.bad(line, "G1", "node %d (inc %d) reports %s %s %s at generation %d, but the values it has in "
                             "force are generation %d%s" % (node, m.inc, desc, kind, _fate(committed), gen, m.gen,
                                                             (" (and then %s)" % later) if later else ""))
                m.gen = gen  # report a divergence once, not on every later outcome
            if m.unreported is not None and m.unreported != silent:
                m.unreported = None  # the first outcome after the transfer has been judged
            # P4: the member's committed changes advance the generation one by one.
            if committed and kind in CHANGES:
                prev = m.chain
                told = all((era, g) in m.learned_gens for g in range(prev[1] + 1, gen)) if prev is not None else True
                if not transfer and prev is not None and prev[0] in (None, era) and (gen <= prev[1] or not told):
                    self.bad(line, "P4", "node %d (inc %d) commits change %s at generation %d, but its previous "
                             "committed change (or state transfer) at line %d was generation %d"
                             % (node, m.inc, desc, gen, prev[2], prev[1]))
                m.chain = (era, gen, line)
        if transfer:
            # A transfer restarts the chain at the generation taken; unknown
            # when no values event says which (V1 reports that if it matters).
            line = [b[1] for b in batch if b[0] == "transfer"][-1]
            m.chain = (None, m.gen, line) if has_values else None

    def finish(self, last_line):
        for m in self.members.values():
            self.close_batch(m)
            self.settle_values(m, self.era)
        # P5 validity.
        for (era, gen), (line, pid, learned) in sorted(self.committed_changes.items(), key=lambda kv: kv[1][0]):
            # A fate learned in era e may be that of a change decided in an
            # earlier era: a member cut off when the state was lost kept it
            # and carried it into the new lineage (fates table).
            def decided_then(e):
                r = self.by_pid.get((e, pid))
                return r is not None and r[1] in CHANGES and r[2] and r[3] == gen and (e, gen) in self.values_at
            earlier = learned and any(decided_then(e) for e in range(era))
            if (era, gen) not in self.values_at and not earlier:
                self.bad(line, "P5", "committed param-change at generation %d (era %d) but no member ever reports "
                         "values at generation %d in that era" % (gen, era, gen))
        # G2 sequence/generation coherence per era.
        per_era = {}
        for (era, seq), (pid, kind, committed, gen, line) in self.by_seq.items():
            per_era.setdefault(era, []).append((seq, gen, committed and kind in CHANGES, line, pid))
        for era, rows in per_era.items():
            rows.sort()
            after = None
            for seq, gen, change, line, pid in rows:
                before = gen - 1 if change else gen
                if after is not None and before < after[0]:
                    self.bad(line, "G2", "era %d: seq %d (%s) runs at generation %d, below generation %d reached by "
                             "seq %d (line %d)" % (era, seq, pid, before, after[0], after[1], after[2]))
                if after is None or gen >= after[0]:
                    after = (gen, seq, line)


def _fate(committed):
    return "committed" if committed else "aborted"


def _js(b):
    return "true" if b else "false"


def iter_files(args):
    for a in args:
        if os.path.isdir(a):
            found = []
            for root, _dirs, files in os.walk(a):
                found.extend(os.path.join(root, f) for f in files if f.endswith(".jsonl"))
            yield from sorted(found, key=_natural)
        else:
            yield a


def _natural(p):
    base = os.path.basename(p)
    stem = base[:-6] if base.endswith(".jsonl") else base
    return (os.path.dirname(p), 0, int(stem), "") if stem.isdigit() else (os.path.dirname(p), 1, 0, stem)


def check_file(path, report, error):
    """Check one file; returns (FileChecker or None, malformed: bool)."""
    try:
        fh = open(path, "r", encoding="utf-8")
    except OSError as exc:
        error("%s: unreadable: %s" % (path, exc))
        return None, True
    fc = FileChecker(path, report)
    line = 0
    with fh:
        try:
            for line, text in enumerate(fh, 1):
                if not text.strip():
                    raise Malformed("empty line")
                try:
                    obj = json.loads(text)
                except ValueError as exc:
                    raise Malformed("not JSON: %s" % exc)
                validate(obj)
                fc.feed(line, obj)
        except Malformed as exc:
            error("%s:%d: malformed: %s" % (path, line, exc))
            return fc, True
        except (OSError, UnicodeDecodeError) as exc:
            error("%s:%d: unreadable: %s" % (path, line, exc))
            return fc, True
    fc.finish(line)
    return fc, False


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.stdout
    n_files = n_events = n_outcomes = n_viol = 0
    bad_files = 0
    malformed = False
    eras = 0
    max_era = 0

    def report(path, line, tag, msg):
        out.write("%s:%d: [%s] %s\n" % (path, line, tag, msg))

    def error(msg):
        out.write(msg + "\n")

    for path in iter_files(argv):
        n_files += 1
        fc, bad = check_file(path, report, error)
        malformed |= bad
        if fc is None:
            continue
        n_events += fc.events
        n_outcomes += fc.outcomes
        n_viol += fc.violations
        bad_files += fc.violations > 0
        eras += len(fc.eras)
        max_era = max([max_era] + list(fc.eras))
    if n_files == 0:
        error("no .jsonl history found in %s" % " ".join(argv))
        malformed = True
    out.write("checked %d files, %d events, %d outcomes, %d eras (largest era %d): %d violations in %d files%s\n"
              % (n_files, n_events, n_outcomes, eras, max_era, n_viol, bad_files,
                 ", MALFORMED INPUT" if malformed else ""))
    if malformed:
        return 2
    return 1 if n_viol else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
