#!/usr/bin/env python3
"""Self-test of tests/sim/check_history.py: every check can fail, a correct
history passes, and a real history from the simulator (if built) is readable.

Run as ``python3 tests/sim/test_check_history.py``.
"""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_history  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
BINARY = os.path.join(ROOT, "target", "release", "cgm-sim")

V0 = {"heartbeat-interval": 100, "max-fragment-size": 1400}
V1 = {"heartbeat-interval": 100, "max-fragment-size": 800}
V2 = {"heartbeat-interval": 50, "max-fragment-size": 800}


class H:
    """A tiny history builder; the clock advances by one µs per event."""

    def __init__(self, nodes=3):
        self.events = []
        self.t = 0
        self.inc = {}
        for n in range(1, nodes + 1):
            self.restart(n, t=0)

    def _add(self, node, event, t=None, **kw):
        if t is None:
            self.t += 1
            t = self.t
        obj = {"t_us": t, "node": node, "inc": kw.pop("inc", self.inc.get(node, 1)), "event": event}
        obj.update(kw)
        self.events.append(obj)
        return self

    def restart(self, node, t=None):
        self.inc[node] = self.inc.get(node, 0) + 1
        return self._add(node, "restart", t=t)

    def crash(self, node, t=None):
        return self._add(node, "crash", t=t)

    def view(self, node, members, epoch=1, leader=None, quorum=True, transferred=False, t=None):
        return self._add(node, "view", t=t, epoch=epoch, leader=members[0] if leader is None else leader,
                         members=list(members), quorum=quorum, transferred=transferred)

    def values(self, node, generation, values, t=None):
        return self._add(node, "values", t=t, generation=generation, values=dict(values))

    def outcome(self, node, seq, pid, kind="app", committed=True, generation=0, learned=False, era=0, t=None, **kw):
        return self._add(node, "outcome", t=t, seq=seq, pid=pid, kind=kind, committed=committed,
                         generation=generation, learned=learned, era=era, **kw)

    def all_views(self, members, epoch=1, **kw):
        for n in members:
            self.view(n, members, epoch=epoch, **kw)
        return self

    def everyone(self, members, seq, pid, **kw):
        for n in members:
            self.outcome(n, seq, pid, **kw)
        return self

    def change(self, members, seq, pid, generation, values, committed=True):
        """A param-change completed by members: values then outcome, at one t_us each."""
        for n in members:
            self.t += 1
            self.values(n, generation if committed else generation, values, t=self.t)
            self.outcome(n, seq, pid, kind="param-change", committed=committed, generation=generation, t=self.t)
        return self


def good():
    """A correct history touching every kind of event."""
    h = H(3)
    ms = [1, 2, 3]
    h.all_views(ms, epoch=1)
    h.everyone(ms, 1, "1:1", generation=0)
    h.change(ms, 2, "2:1", 1, V1)
    h.everyone(ms, 3, "3:1", committed=False, generation=1)
    # a rolled-back change: the old values come back at the old generation
    h.change(ms, 4, "1:2", 1, V1, committed=False)
    # node 3 is cut off, crashes, restarts and takes the state by transfer
    h.view(1, [1, 2], epoch=2)
    h.view(2, [1, 2], epoch=2)
    h.view(3, [3], epoch=2, quorum=False)
    h.change([1, 2], 5, "2:2", 2, V2)
    h.crash(3)
    h.restart(3)
    h.t += 1
    for n in (1, 2):
        h.view(n, ms, epoch=3, t=h.t)
    h.values(3, 2, V2, t=h.t)
    h.view(3, ms, epoch=3, transferred=True, t=h.t)
    h.everyone(ms, 6, "3:1048577", generation=2)
    # node 1's proposal is decided while it is cut off; it learns the fate
    h.view(1, [1], epoch=4, quorum=False)
    h.view(2, [2, 3], epoch=4)
    h.view(3, [2, 3], epoch=4)
    h.everyone([2, 3], 7, "1:3", generation=2)
    h.t += 1
    h.outcome(1, 7, "1:3", generation=2, learned=True, t=h.t)
    h.view(1, ms, epoch=5, transferred=True, t=h.t)
    h.view(2, ms, epoch=5)
    h.view(3, ms, epoch=5)
    h.everyone(ms, 8, "2:3", generation=2)
    return h


def era_change():
    """The cluster loses its state: era 1 restarts from older values."""
    h = H(3)
    ms = [1, 2, 3]
    h.all_views(ms)
    h.change(ms, 1, "1:1", 1, V1)
    h.view(3, [3], epoch=2, quorum=False)  # node 3 cut off, keeps generation 1
    h.view(1, [1, 2], epoch=2)
    h.view(2, [1, 2], epoch=2)
    h.change([1, 2], 2, "1:2", 2, V2)
    h.crash(1)
    h.crash(2)
    h.restart(1)
    h.restart(2)
    # era 1 restarts from node 3's state (generation 1); generation 2 differs now
    h.t += 1
    h.view(3, ms, epoch=3, t=h.t)
    h.values(1, 1, V1, t=h.t)
    h.view(1, ms, epoch=3, transferred=True, t=h.t)
    h.values(2, 1, V1, t=h.t)
    h.view(2, ms, epoch=3, transferred=True, t=h.t)
    h.change(ms, 2, "3:1", 2, {"heartbeat-interval": 7, "max-fragment-size": 800})
    for n in ms:
        h.outcome(n, 3, "2:9", generation=2, era=1)
    # fix the eras of the era-1 change
    for e in h.events:
        if e.get("pid") == "3:1":
            e["era"] = 1
    return h


def run(events, name="h.jsonl"):
    d = tempfile.mkdtemp()
    try:
        path = os.path.join(d, name)
        with open(path, "w") as f:
            for e in events:
                f.write((json.dumps(e) if not isinstance(e, str) else e) + "\n")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = check_history.main([path])
        return rc, out.getvalue()
    finally:
        shutil.rmtree(d)


class Checks(unittest.TestCase):
    def assertViolation(self, h, tag, line=None):
        rc, out = run(h.events if isinstance(h, H) else h)
        self.assertEqual(rc, 1, out)
        self.assertIn("[%s]" % tag, out, out)
        if line is not None:
            self.assertIn("h.jsonl:%d: [%s]" % (line, tag), out, out)
        return out

    def test_good_history_passes(self):
        rc, out = run(good().events)
        self.assertEqual(rc, 0, out)
        self.assertIn("0 violations", out)

    def test_era_change_passes(self):
        rc, out = run(era_change().events)
        self.assertEqual(rc, 0, out)
        self.assertIn("2 eras", out)

    # -- the promises ------------------------------------------------------
    def test_p1_same_pid_twice(self):
        h = good()
        h.everyone([1, 2, 3], 9, "2:4")
        h.outcome(2, 10, "2:4")  # node 2 reports pid 2:4 again, at another seq
        out = self.assertViolation(h, "P1", len(h.events))
        self.assertIn("2:4 a second time", out)

    def test_p1_same_seq_twice(self):
        h = good()
        h.everyone([1, 2, 3], 9, "2:4", generation=2)
        h.outcome(3, 9, "2:4", generation=2)
        out = self.assertViolation(h, "P1", len(h.events))
        self.assertIn("seq 9 a second time", out)

    def test_p1l_learned_for_foreign_proposal(self):
        h = good()
        h.outcome(1, 8, "2:3", generation=2, learned=True)
        self.assertViolation(h, "P1L", len(h.events))

    def test_p1l_fate_told_twice(self):
        h = good()
        h.everyone([2, 3], 9, "1:7", generation=2)
        h.outcome(1, 9, "1:7", generation=2, learned=True)
        h.outcome(1, 9, "1:7", generation=2)  # ... and then completes it too
        self.assertViolation(h, "P1L", len(h.events))

    def test_p2_seq_disagreement(self):
        h = good()
        h.everyone([1, 2], 9, "2:4", generation=2)
        h.outcome(3, 9, "2:4", committed=False, generation=2)
        out = self.assertViolation(h, "P2", len(h.events))
        self.assertIn("seq 9", out)

    def test_p2_pid_two_seqs(self):
        h = good()
        h.everyone([1, 2], 9, "2:4", generation=2)
        h.outcome(3, 10, "2:4", generation=2)  # same pid, another seq
        out = self.assertViolation(h, "P2", len(h.events))
        self.assertIn("pid 2:4", out)

    def test_p2_learned_reports_bind_too(self):
        h = good()
        h.everyone([2, 3], 9, "1:7", generation=2)
        h.outcome(1, 9, "1:7", committed=False, generation=2, learned=True)
        self.assertViolation(h, "P2", len(h.events))

    def test_p2_split_brain_across_members(self):
        h = H(3)
        h.all_views([1, 2, 3])
        h.outcome(1, 1, "1:1")
        h.outcome(2, 1, "2:1")
        self.assertViolation(h, "P2", len(h.events))

    def test_p3_order(self):
        h = good()
        h.everyone([1, 2, 3], 10, "2:4", generation=2)
        h.outcome(1, 9, "2:5", generation=2)
        self.assertViolation(h, "P3", len(h.events))

    def test_p3_transfer_resets_position(self):
        # after a transfer a member may continue from the lineage's position
        h = H(2)
        h.all_views([1, 2])
        h.everyone([1, 2], 1, "1:1")
        h.outcome(1, 5, "1:5")
        h.outcome(2, 4, "2:4")
        h.t += 1
        h.view(1, [1, 2], epoch=2, transferred=True, t=h.t)
        h.view(2, [1, 2], epoch=2)
        h.everyone([1, 2], 6, "1:6")
        rc, out = run(h.events)
        self.assertNotIn("[P3]", out)

    def test_p4_values_differ(self):
        h = H(2)
        h.all_views([1, 2])
        h.t += 1
        h.values(1, 1, V1, t=h.t).outcome(1, 1, "1:1", kind="param-change", generation=1, t=h.t)
        h.t += 1
        h.values(2, 1, V2, t=h.t).outcome(2, 1, "1:1", kind="param-change", generation=1, t=h.t)
        out = self.assertViolation(h, "P4", len(h.events) - 1)
        self.assertIn("heartbeat-interval", out)

    def test_p4_rollback_keeps_change(self):
        # a member "rolls back" to generation 1 but keeps generation 2's values
        h = good()
        h.change([1, 2, 3], 9, "2:5", 2, V1, committed=False)
        self.assertViolation(h, "P4")

    def test_p4_chain_skips_a_generation(self):
        h = H(2)
        h.all_views([1, 2])
        h.change([1, 2], 1, "1:1", 1, V1)
        h.t += 1
        h.values(1, 3, V2, t=h.t).outcome(1, 2, "1:2", kind="param-change", generation=3, t=h.t)
        out = self.assertViolation(h, "P4", len(h.events))
        self.assertIn("previous committed", out)

    def test_p4_chain_passes_over_a_change_told_as_the_members_own_fate(self):
        # node 2 learns its proposal 2:2 committed at generation 2 (cut off),
        # takes generation 2's values with the next view, is not told 2:2
        # again (once, P1L), and then commits generation 3: no gap
        h = H(2)
        h.all_views([1, 2])
        h.change([1, 2], 1, "1:1", 1, V1)
        h.t += 1
        h.values(1, 2, V2, t=h.t).outcome(1, 2, "2:2", kind="param-change", generation=2, t=h.t)
        h.outcome(2, 2, "2:2", kind="param-change", generation=2, learned=True)
        h.t += 1
        h.values(2, 2, V2, t=h.t).view(2, [1, 2], epoch=2, t=h.t)
        h.t += 1
        h.values(1, 3, V1, t=h.t).outcome(1, 3, "1:3", kind="param-change", generation=3, t=h.t)
        h.t += 1
        h.values(2, 3, V1, t=h.t).outcome(2, 3, "1:3", kind="param-change", generation=3, t=h.t)
        rc, out = run(h.events)
        self.assertNotIn("[P4]", out)
        # without the learned fate the same gap is a violation
        h.events = [e for e in h.events if not e.get("learned")]
        self.assertIn("[P4]", run(h.events)[1])

    def test_p5_committed_change_without_values(self):
        h = good()
        h.everyone([2, 3], 9, "1:7", kind="param-change", generation=2, committed=False)
        h.outcome(1, 10, "1:8", kind="param-change", generation=3, learned=True)
        self.assertViolation(h, "P5", len(h.events))

    def test_p5_and_p4_hold_key_rotations_to_the_rules_of_changes(self):
        h = good()
        # A committed rotation moves the generation: its values carry the new key.
        rotated = dict(V2, key=77)
        for n in (1, 2, 3):
            h.t += 1
            h.values(n, 3, rotated, t=h.t).outcome(n, 9, "2:9", kind="key-rotation", generation=3, t=h.t)
        rc, out = run(h.events)
        self.assertEqual(rc, 0, out)
        # One member holding another key at that generation breaks P4.
        h.t += 1
        h.values(3, 3, dict(V2, key=78), t=h.t)
        self.assertIn("[P4]", run(h.events)[1])
        # A committed rotation nobody reports values for breaks P5.
        h = good()
        h.outcome(1, 9, "1:9", kind="key-rotation", generation=3, learned=True)
        self.assertViolation(h, "P5", len(h.events))

    # -- extra checks ------------------------------------------------------
    def test_s1_time_goes_back(self):
        h = good()
        h.outcome(1, 9, "2:4", generation=2, t=1)
        self.assertViolation(h, "S1", len(h.events))

    def test_s2_event_while_crashed(self):
        h = good()
        h.crash(2)
        h.outcome(2, 9, "2:4", generation=2)
        self.assertViolation(h, "S2", len(h.events))

    def test_s2_wrong_incarnation(self):
        h = good()
        h.outcome(2, 9, "2:4", generation=2, inc=7)
        self.assertViolation(h, "S2", len(h.events))

    def test_s2_incarnation_goes_back(self):
        h = good()
        h.crash(3)
        h.inc[3] = 0
        h.restart(3)
        self.assertViolation(h, "S2", len(h.events))

    def test_s3_view_without_self(self):
        h = good()
        h.view(1, [2, 3], epoch=9)
        self.assertViolation(h, "S3", len(h.events))

    def test_e1_era_goes_back(self):
        h = era_change()
        h.outcome(1, 4, "1:9", generation=2, era=0)
        self.assertViolation(h, "E1", len(h.events))

    def test_g1_stale_generation(self):
        h = good()
        h.outcome(1, 9, "2:4", generation=1)  # node 1 has generation 2 in force
        self.assertViolation(h, "G1", len(h.events))

    def test_g1_committed_change_never_applied(self):
        h = good()
        h.everyone([1, 2, 3], 9, "2:4", kind="param-change", generation=3)
        self.assertViolation(h, "G1", len(h.events) - 2)

    def test_g1_batch_values_after_outcomes_pass(self):
        # at a view installation, the completed protocols come before the values
        h = H(2)
        h.all_views([1, 2])
        h.t += 1
        for n in (1, 2):
            h.outcome(n, 1, "1:1", kind="param-change", generation=1, t=h.t)
            h.values(n, 1, V1, t=h.t)
            h.view(n, [1, 2], epoch=2, t=h.t)
        rc, out = run(h.events)
        self.assertEqual(rc, 0, out)

    def test_v1_transfer_without_values(self):
        h = good()
        h.crash(3)
        h.restart(3)
        h.t += 1
        h.view(3, [1, 2, 3], epoch=9, transferred=True, t=h.t)  # no values event: node 3 is at generation 0
        h.outcome(3, 9, "2:4", generation=2)
        out = self.assertViolation(h, "V1", len(h.events))
        self.assertIn("line %d" % (len(h.events) - 1), out)

    def test_g2_generation_goes_back_along_seq(self):
        h = H(2)
        h.all_views([1, 2])
        h.change([1, 2], 1, "1:1", 1, V1)
        # seq 2 is reported (by a learned report, exempt from G1) at generation 0
        h.outcome(2, 2, "2:1", generation=0, learned=True)
        self.assertViolation(h, "G2", len(h.events))

    # -- values across eras --------------------------------------------------
    def test_values_compared_within_era_only(self):
        h = era_change()
        rc, out = run(h.events)
        self.assertNotIn("[P4]", out)
        # the same history with the era-1 change marked era 0 must fail P2/P4
        for e in h.events:
            if e.get("era") == 1:
                e["era"] = 0
        rc, out = run(h.events)
        self.assertEqual(rc, 1, out)
        self.assertIn("[P4]", out)

    # -- input errors ----------------------------------------------------------
    def test_malformed_line(self):
        events = good().events
        events.insert(3, "{not json")
        rc, out = run(events)
        self.assertEqual(rc, 2, out)
        self.assertIn("h.jsonl:4: malformed", out)

    def test_missing_field(self):
        events = good().events
        del events[5]["t_us"]
        rc, out = run(events)
        self.assertEqual(rc, 2, out)
        self.assertIn("h.jsonl:6: malformed", out)

    def test_unreadable(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = check_history.main(["/nonexistent/x.jsonl"])
        self.assertEqual(rc, 2, out.getvalue())


class RealHistory(unittest.TestCase):
    @unittest.skipUnless(os.access(BINARY, os.X_OK), "cgm-sim is not built")
    def test_real_history(self):
        d = tempfile.mkdtemp()
        try:
            binary = os.path.join(d, "cgm-sim")
            shutil.copy(BINARY, binary)  # the original may be rebuilt meanwhile
            path = os.path.join(d, "7000123.jsonl")
            subprocess.run([binary, "--seeds", "7000123", "--nodes", "5", "--history", path],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                rc = check_history.main([path])
            text = out.getvalue()
            self.assertNotEqual(rc, 2, text)
            self.assertRegex(text, r"checked 1 files, [1-9]\d* events, [1-9]\d* outcomes")
            self.assertEqual(rc, 0, text)
        finally:
            shutil.rmtree(d)


if __name__ == "__main__":
    unittest.main()
