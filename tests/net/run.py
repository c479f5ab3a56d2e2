#!/usr/bin/env python3
"""libcgm on a real network: one Linux network namespace per node, joined by
a bridge in a namespace of its own, one `cgm node` process per namespace, a
nemesis that breaks the network and the processes, a client workload
throughout, and every node's history checked afterwards by the independent
checker (tests/sim/check_history.py).

    tests/net/run.py [--nodes 5] [--duration 150] [--seed S] [--soak] [--keep]

Needs root (network namespaces, nftables). Traffic stays between the
namespaces (private 10.77.0.0/24 addresses that exist only inside them).
Everything is torn down on exit, after a failure or Ctrl-C too.

Faults, all from what this kernel has (it has no netem qdisc; nftables
and TAP devices work): packet loss on a node's input hook (`numgen random
mod 100 < P drop`: an output-hook drop would make sendto fail with EPERM,
which a real network never does), partitions of random shapes and one-way
cuts (input rules on source addresses), delay with jitter (which reorders)
and duplication in the userspace switch that joins the namespaces
(tests/net/switch.py; without /dev/net/tun a kernel bridge joins them and
these three are left out, as the run says at its start), SIGSTOP/SIGCONT
pauses, and kill -9 followed by a restart from the node's state directory.

The run fails (exit 1) on any history violation, on a change a client was
told committed that no member's history shows committed at that
generation, or when the healed cluster does not converge to one view of
every node with quorum and equal values. A failing seed is printed so the
run replays (the nemesis schedule is a function of the seed; the kernel's
timing is not).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

ROOT = Path(__file__).resolve().parents[2]
CHECKER = ROOT / "tests" / "sim" / "check_history.py"
SWITCH = Path(__file__).resolve().parent / "switch.py"
SUBNET = "10.77.0"
PORT = 7400


def sh(*args: str, check: bool = True, quiet: bool = False) -> subprocess.CompletedProcess:
    r = subprocess.run(list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


class Net:
    """The namespaces, the links between them and each node's nftables table.

    The links are a userspace switch (tests/net/switch.py) on one TAP device
    per namespace, which can delay, jitter (and so reorder) and duplicate
    frames; without /dev/net/tun they are a kernel bridge, which cannot."""

    def __init__(self, n: int, seed: int) -> None:
        self.prefix = f"cgmn{os.getpid() % 100000}"
        self.hub = f"{self.prefix}-hub"
        self.ns = {i: f"{self.prefix}-{i}" for i in range(1, n + 1)}
        self.seed = seed
        self.made: List[str] = []
        self.switch: Optional[subprocess.Popen] = None

    def addr(self, i: int) -> str:
        return f"{SUBNET}.{i}"

    def up(self) -> str:
        """Creates the network; says what its links are."""
        for i, ns in self.ns.items():
            sh("ip", "netns", "add", ns)
            self.made.append(ns)
        self.switch = subprocess.Popen([sys.executable, str(SWITCH), self.prefix, str(len(self.ns)), str(self.seed)],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if self.switch.stdout.readline().strip() == "ready":
            links = "a userspace switch on TAP devices (loss, cuts; delay, jitter, reordering, duplication)"
            devs = {i: f"{self.prefix}t{i}" for i in self.ns}
        else:
            why = self.switch.stderr.read().strip().splitlines()[-1:]
            self.switch.wait()
            self.switch = None
            links = f"a kernel bridge (loss, cuts; no delay, reordering or duplication: the switch failed: {' '.join(why)})"
            devs = self.bridge()
        for i, ns in self.ns.items():
            sh("ip", "link", "set", devs[i], "netns", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "addr", "add", f"{self.addr(i)}/24", "dev", devs[i])
            sh("ip", "-n", ns, "link", "set", devs[i], "up")
            self.nft(i, "add table inet cgmnemesis")
            self.nft(i, "add chain inet cgmnemesis input { type filter hook input priority 0 ; policy accept ; }")
        return links

    def bridge(self) -> Dict[int, str]:
        """A bridge in a namespace of its own, a veth pair to each node; the
        node ends of the pairs."""
        sh("ip", "netns", "add", self.hub)
        self.made.append(self.hub)
        sh("ip", "-n", self.hub, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.hub, "link", "set", "br0", "up")
        devs = {}
        for i in self.ns:
            v, h = f"{self.prefix}v{i}", f"{self.prefix}h{i}"
            sh("ip", "link", "add", v, "type", "veth", "peer", "name", h)
            sh("ip", "link", "set", h, "netns", self.hub)
            sh("ip", "-n", self.hub, "link", "set", h, "master", "br0", "up")
            devs[i] = v
        return devs

    def nft(self, i: int, rule: str) -> None:
        sh("ip", "netns", "exec", self.ns[i], "nft", rule)

    def drop(self, i: int, match: str) -> None:
        self.nft(i, f"add rule inet cgmnemesis input {match} drop")

    def impair(self, to: Optional[List[int]], delay_ms: float = 0, jitter_ms: float = 0, dup_pct: float = 0) -> None:
        """Frames to the nodes `to` (None: all) wait delay +- jitter ms and
        are sent twice with probability dup_pct %."""
        self.tell({"delay_ms": delay_ms, "jitter_ms": jitter_ms, "dup_pct": dup_pct, "to": to})

    def tell(self, command: dict) -> None:
        assert self.switch is not None and self.switch.stdin is not None
        self.switch.stdin.write(json.dumps(command) + "\n")
        self.switch.stdin.flush()

    def link_stats(self) -> Optional[dict]:
        """The switch's counts of frames forwarded, delayed, duplicated and
        reordered; None with a bridge."""
        if self.switch is None:
            return None
        self.tell({"stats": True})
        return json.loads(self.switch.stdout.readline())

    def heal(self) -> None:
        for i in self.ns:
            self.nft(i, "flush chain inet cgmnemesis input")
        if self.switch is not None:
            self.tell({"clear": True})

    def down(self) -> None:
        for ns in reversed(self.made):
            sh("ip", "netns", "del", ns, check=False)
        self.made.clear()
        if self.switch is not None:
            self.switch.stdin.close()
            self.switch.wait()
            self.switch = None


class Cluster:
    """The `cgm node` processes, their files and histories."""

    def __init__(self, net: Net, cgm: str, work: Path, params: Dict[str, str], load: List[str]) -> None:
        self.net, self.cgm, self.work, self.load = net, cgm, work, load
        self.procs: Dict[int, Optional[subprocess.Popen]] = {i: None for i in net.ns}
        self.crashes: List[dict] = []
        sh(cgm, "keygen", "-o", str(work / "cluster.key"))
        for i in net.ns:
            t = f'cluster = "net"\nnode_id = {i}\nkey_file = "cluster.key"\nquorum = "majority"\nstate_dir = "state-{i}"\n[params]\n'
            t += "".join(f'{k} = "{v}"\n' for k, v in params.items())
            for j in net.ns:
                t += f'[[nodes]]\nid = {j}\naddr = "{net.addr(j)}:{PORT}"\n'
            (work / f"node{i}.toml").write_text(t)

    def history(self, i: int) -> Path:
        return self.work / f"history-{i}.jsonl"

    def run_in(self, i: int, *args: str, timeout: float = 20.0) -> subprocess.CompletedProcess:
        cmd = ["ip", "netns", "exec", self.net.ns[i], self.cgm, *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    def start(self, i: int) -> None:
        log = open(self.work / f"node{i}.log", "ab")
        cmd = ["ip", "netns", "exec", self.net.ns[i], self.cgm, "node", "-c", str(self.work / f"node{i}.toml"),
               "--history", str(self.history(i)), *self.load]
        self.procs[i] = subprocess.Popen(cmd, stdout=log, stderr=log, cwd=self.work)

    def incarnation(self, i: int) -> int:
        inc = 0
        for line in self.history(i).read_text().splitlines():
            e = json.loads(line)
            if e["event"] == "restart":
                inc = e["inc"]
        return inc

    def kill9(self, i: int) -> None:
        p = self.procs[i]
        if p is None:
            return
        inc = self.incarnation(i)
        p.send_signal(signal.SIGKILL)
        self.crashes.append({"t_us": time.time_ns() // 1000, "node": i, "inc": inc, "event": "crash"})
        p.wait()
        self.procs[i] = None

    def signal(self, i: int, sig: int) -> None:
        p = self.procs[i]
        if p is not None:
            p.send_signal(sig)

    def status(self, i: int) -> Optional[dict]:
        try:
            r = self.run_in(i, "status", "-c", str(self.work / f"node{i}.toml"), "--json", "--timeout", "1", timeout=5)
        except subprocess.TimeoutExpired:
            return None
        return json.loads(r.stdout) if r.returncode == 0 else None

    def statuses(self, ids: List[int]) -> List[Optional[dict]]:
        """The statuses of members `ids`, asked all at once (a poll takes as
        long as the slowest answer, not their sum)."""
        with ThreadPoolExecutor(len(ids)) as ex:
            return list(ex.map(self.status, ids))

    def stop_all(self) -> None:
        for i, p in self.procs.items():
            if p is not None:
                p.send_signal(signal.SIGCONT)
                p.kill()
                p.wait()
                self.procs[i] = None


class Workload(threading.Thread):
    """Parameter changes from several members and status queries, recording
    what every client was told. (Application protocols come from the nodes'
    own hosts: `cgm node --propose-every`.)"""

    def __init__(self, c: Cluster, members: List[int], seed: int) -> None:
        super().__init__(daemon=True)
        self.c, self.members, self.rng = c, members, random.Random(seed)
        self.stop = threading.Event()
        self.told: List[dict] = []
        self.counts = {"committed": 0, "rolled back": 0, "refused": 0, "unknown": 0, "queries": 0, "answered": 0}

    def run(self) -> None:
        while not self.stop.is_set():
            i = self.rng.choice(self.members)
            cfg = str(self.c.work / f"node{i}.toml")
            if self.rng.random() < 0.3:
                self.counts["queries"] += 1
                self.counts["answered"] += self.c.status(i) is not None
                continue
            value = self.rng.randint(16, 256)
            try:
                r = self.c.run_in(i, "set", "-c", cfg, "--json", "--timeout", "4", f"send-window-size={value}", timeout=10)
            except subprocess.TimeoutExpired:
                self.counts["unknown"] += 1
                continue
            kind = {0: "committed", 1: "rolled back", 2: "refused", 3: "unknown"}.get(r.returncode, "unknown")
            self.counts[kind] += 1
            if r.returncode in (0, 1):
                o = json.loads(r.stdout)
                self.told.append({"member": i, "pid": f"{o['proposal'][0]}:{o['proposal'][1]}", "committed": o["committed"],
                                  "generation": o["generation"]})


def converge(c: Cluster, ids: List[int], limit: float) -> Optional[float]:
    """Seconds until every node is in one view of all of them, with quorum,
    idle, with equal values and generation; None past `limit`."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        st = c.statuses(ids)
        if all(s is not None for s in st):
            first = st[0]
            if all(s["quorum"] and sorted(s["members"]) == ids and s["phase"] == "idle"
                   and s["generation"] == first["generation"] and s["params"] == first["params"] for s in st):
                return time.monotonic() - start
        time.sleep(0.2)
    return None


def one_view(c: Cluster, ids: List[int], limit: float, since: Optional[float] = None) -> Optional[float]:
    """Seconds until the members `ids` all hold one view of exactly them with
    quorum (protocols may still run); None past `limit`. Each poll asks every
    member at once, so the figure is good to about a poll (~0.05 s; up to the
    status timeout, 1 s, while a member does not answer). Counted from
    `since` (a time.monotonic()) if given, else from now."""
    start = time.monotonic() if since is None else since
    while time.monotonic() - start < limit:
        if in_one_view(c, ids):
            return time.monotonic() - start
        time.sleep(0.02)
    return None


def in_one_view(c: Cluster, ids: List[int]) -> bool:
    """Whether the members `ids` hold one view of exactly them with quorum now."""
    st = c.statuses(ids)
    return all(s is not None and s["quorum"] and sorted(s["members"]) == ids for s in st) and (
        len({(s["view"]["epoch"], s["view"]["leader"]) for s in st if s is not None}) == 1
    )


def nemesis(net: Net, c: Cluster, rng: random.Random, until: float, faults: Dict[str, int],
            heals: List[Tuple[str, Optional[float]]], crashes: List[Optional[float]]) -> None:
    """Injects faults until `until`; records the seconds from each healing
    (a heal, a resumed pause, a restart) of a fault that split the view to
    one view of every node, and from each kill -9 to one view of the others."""
    ids = sorted(net.ns)
    kinds = [k for k in faults if net.switch is not None or k not in ("delay", "duplicate")] or ["quiet"]
    while time.monotonic() < until:
        kind = rng.choice(kinds)
        hold = rng.uniform(1.0, 4.0)
        if kind == "delay":
            # Up to 150 ms each way, jitter up to the delay (which reorders),
            # on the links into every node or into a few.
            d = rng.randint(5, 150)
            net.impair(rng.choice([None, rng.sample(ids, rng.randint(1, len(ids) - 1))]), d, rng.uniform(0, d))
        elif kind == "duplicate":
            net.impair(None, 0, rng.uniform(0, 5), rng.randint(1, 30))
        elif kind == "loss":
            p = rng.randint(1, 30)
            for i in ids:
                net.drop(i, f"meta l4proto udp numgen random mod 100 < {p}")
        elif kind == "partition":
            side = set(rng.sample(ids, rng.randint(1, len(ids) // 2)))
            for i in ids:
                others = [net.addr(j) for j in ids if (j in side) != (i in side)]
                net.drop(i, f"ip saddr {{ {', '.join(others)} }}")
        elif kind == "one-way":
            a, b = rng.sample(ids, 2)
            net.drop(b, f"ip saddr {net.addr(a)}")
        elif kind == "pause":
            i = rng.choice(ids)
            c.signal(i, signal.SIGSTOP)
        elif kind == "kill":
            i = rng.choice(ids)
            start = time.monotonic()
            c.kill9(i)
            crashes.append(one_view(c, [j for j in ids if j != i], 10, start))
            hold = max(0.0, hold - (time.monotonic() - start))
        faults[kind] += 1
        time.sleep(hold)
        split = kind != "quiet" and not in_one_view(c, ids)
        if kind == "pause":
            c.signal(i, signal.SIGCONT)
        elif kind == "kill":
            c.start(i)
        elif kind != "quiet":
            net.heal()
        if split:
            heals.append((kind, one_view(c, ids, 30)))
        time.sleep(rng.uniform(0.2, 1.5))


FAULTS = ("loss", "delay", "duplicate", "partition", "one-way", "pause", "kill", "quiet")


def spread(xs: List[Optional[float]]) -> str:
    """p50 and max of measured seconds, and how many never happened."""
    done = [x for x in xs if x is not None]
    if not done:
        return f"none of {len(xs)}"
    missed = len(xs) - len(done)
    return f"p50 {statistics.median(done):.2f} s, max {max(done):.2f} s over {len(done)}" + (f", {missed} not within the limit" if missed else "")


# Heartbeat values the retune goes between (issue 19: 1 s and 50 ms), with
# failure thresholds for a lossy network: at 10 % loss three heartbeat
# round trips lost in a row happen every few seconds somewhere, eight
# about once a day.
SLOW = {"heartbeat-interval": "1s", "heartbeat-timeout": "3s", "heartbeat-ack-timeout": "3s"}
FAST = {"heartbeat-interval": "50ms", "heartbeat-timeout": "150ms", "heartbeat-ack-timeout": "150ms"}
LOSSY = {"heartbeat-failure-threshold": "8", "heartbeat-ack-failure-threshold": "8", "max-message-retry-time": "5s"}


def suspicions(c: Cluster, ids: List[int]) -> Tuple[int, int]:
    """Failure suspicions and views installed, summed over the members."""
    total = [0, 0]
    for i in ids:
        st = None
        for _ in range(20):
            st = c.status(i)
            if st is not None:
                break
        if st is None:
            raise RuntimeError(f"member {i} does not answer its status")
        total[0] += st["counters"]["suspicions"]
        total[1] += st["counters"]["views_installed"]
    return total[0], total[1]


def retune(net: Net, c: Cluster, ids: List[int], times: int, loss: int) -> Tuple[int, int, List[float], int]:
    """Retunes the heartbeat between SLOW and FAST `times` times under `loss`
    % loss on every node's input, each change committed and switched over on
    every link before the next (or given up on after 15 s); returns the
    failure suspicions and views installed meanwhile, each retune's seconds
    until switched over, and how many never switched over."""
    before = suspicions(c, ids)
    for i in ids:
        net.drop(i, f"meta l4proto udp numgen random mod 100 < {loss}")
    took: List[float] = []
    stuck = 0
    for k in range(times):
        target = FAST if k % 2 == 0 else SLOW
        via = ids[k % len(ids)]
        args = [f"{p}={v}" for p, v in target.items()]
        start = time.monotonic()
        for _ in range(10):
            r = c.run_in(via, "set", "-c", str(c.work / f"node{via}.toml"), "--json", "--timeout", "10", *args, timeout=30)
            if r.returncode == 0:
                break
        else:
            raise RuntimeError(f"retune {k + 1} never committed: {r.stdout} {r.stderr}")
        want = 50 if target is FAST else 1000
        switched = False
        while not switched and time.monotonic() - start <= 15:
            st = c.statuses(ids)
            switched = all(s is not None and not s["switch_over_pending"] and all(l["interval_ms"] == want for l in s["links"]) for s in st)
            if not switched:
                time.sleep(0.05)
        if switched:
            took.append(time.monotonic() - start)
        else:
            stuck += 1
    net.heal()
    after = suspicions(c, ids)
    return after[0] - before[0], after[1] - before[1], took, stuck


def check(c: Cluster, told: List[dict], out: Path) -> List[str]:
    """Merges the histories (and the crashes the harness caused) by time,
    runs the independent checker, and checks what the clients were told."""
    events: List[Tuple[int, int, int, dict]] = []
    for i in c.net.ns:
        for n, line in enumerate(c.history(i).read_text().splitlines()):
            e = json.loads(line)
            events.append((e["t_us"], i, n, e))
    for n, e in enumerate(c.crashes):
        events.append((e["t_us"], e["node"], (1 << 40) + n, e))
    events.sort(key=lambda x: (x[0], x[1], x[2]))
    with open(out, "w") as f:
        for *_, e in events:
            f.write(json.dumps(e) + "\n")
    problems = []
    r = subprocess.run([sys.executable, str(CHECKER), str(out)], capture_output=True, text=True)
    if r.returncode != 0:
        problems.append("history checker: " + (r.stdout + r.stderr).strip()[-3000:])
    # The check has teeth on this run's own histories: the same file with
    # one member's report of a committed change turned into a rollback
    # must fail it.
    outcomes = [e for *_, e in events if e["event"] == "outcome" and e["committed"] and not e["learned"]]
    if outcomes:
        victim = outcomes[len(outcomes) // 2]
        tampered = out.with_suffix(".tampered.jsonl")
        with open(tampered, "w") as f:
            for *_, e in events:
                f.write(json.dumps(dict(e, committed=False) if e is victim else e) + "\n")
        r = subprocess.run([sys.executable, str(CHECKER), str(tampered)], capture_output=True, text=True)
        if r.returncode == 0:
            problems.append(f"the checker passed a history with {victim} turned into a rollback")
    decided: Dict[str, Tuple[bool, int]] = {}
    kinds: Dict[str, List[int]] = {}
    for *_, e in events:
        if e["event"] == "outcome" and not e["learned"] and e["pid"] not in decided:
            decided[e["pid"]] = (e["committed"], e["generation"])
            kinds.setdefault(e["kind"], [0, 0])[0 if e["committed"] else 1] += 1
    print("protocols decided (committed, not): " + ", ".join(f"{k} {v[0]}, {v[1]}" for k, v in sorted(kinds.items())))
    for t in told:
        d = decided.get(t["pid"])
        if d != (t["committed"], t["generation"]):
            problems.append(f"member {t['member']} told its client {t} but the histories show {d}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=5)
    ap.add_argument("--duration", type=float, default=150.0, help="seconds of nemesis")
    ap.add_argument("--soak", action="store_true", help="10 minutes of nemesis")
    ap.add_argument("--seed", type=int, default=None, help="default: the day's seed")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--faults", default=",".join(FAULTS), type=lambda t: t.split(","),
                    help=f"the nemesis' kinds of fault, comma-separated (default: all of {','.join(FAULTS)}; quiet is a pause without a fault)")
    ap.add_argument("--cgm", default=str(ROOT / "target" / "release" / "cgm"))
    ap.add_argument("--retune", type=int, default=0, metavar="N",
                    help="instead of the nemesis: retune the heartbeat 1 s <-> 50 ms N times under --loss, count false failure detections")
    ap.add_argument("--loss", type=int, default=10, help="percent loss on every link during --retune")
    ap.add_argument("--flaw", default=None,
                    help="run nodes with this broken rule (a --cgm built with --features flaws): with --retune, "
                         "the run passes only if the flaw causes false failure detections")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("tests/net: needs root (network namespaces, nftables)", file=sys.stderr)
        return 2
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            print(f"tests/net: {tool} is missing (tests/setup.sh installs it)", file=sys.stderr)
            return 2
    a.cgm = os.path.abspath(a.cgm)
    unknown = [k for k in a.faults if k not in FAULTS]
    if unknown:
        print(f"tests/net: unknown fault {', '.join(unknown)}; known: {', '.join(FAULTS)}", file=sys.stderr)
        return 2
    if a.flaw:
        os.environ["CGM_FLAW"] = a.flaw
    seed = a.seed if a.seed is not None else int(time.time()) // 86400
    duration = 600.0 if a.soak else a.duration
    if a.retune:
        print(f"tests/net: {a.nodes} nodes, {a.retune} heartbeat retunes under {a.loss} % loss{', flaw ' + a.flaw if a.flaw else ''}")
    else:
        print(f"tests/net: seed {seed}, {a.nodes} nodes, {duration:.0f} s of nemesis (replay: tests/net/run.py --seed {seed})")
    work = Path(tempfile.mkdtemp(prefix="cgm-net-"))
    net = Net(a.nodes, seed)
    c: Optional[Cluster] = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        print(f"links: {net.up()}")
        params = {**SLOW, **LOSSY} if a.retune else {"heartbeat-interval": "100ms", "heartbeat-timeout": "400ms",
                                                       "heartbeat-ack-timeout": "400ms", "max-message-retry-time": "2s"}
        # In the nemesis every node's host also proposes application
        # protocols (10/s each) while it has quorum.
        c = Cluster(net, a.cgm, work, params, [] if a.retune else ["--propose-every", "0.1"])
        ids = sorted(net.ns)
        for i in ids:
            c.start(i)
        formed = converge(c, ids, 30)
        if formed is None:
            print("tests/net: FAILED: the cluster never formed", file=sys.stderr)
            return 1
        print(f"formed in {formed:.2f} s")
        if a.retune:
            false, views, took, stuck = retune(net, c, ids, a.retune, a.loss)
            spans = f"p50 {statistics.median(took):.2f} s, max {max(took):.2f} s" if took else "never"
            print(f"retuned the heartbeat 1 s <-> 50 ms {a.retune} times under {a.loss} % loss on every link: "
                  f"false failure detections {false}, views installed {views}, "
                  f"retunes not switched over on every link within 15 s {stuck}; commit to switched over: {spans}")
            if a.flaw:
                # A broken runtime must be caught.
                if false:
                    print(f"tests/net: passed: with the flaw {a.flaw} the retune caused {false} false failure detections, as it must")
                    return 0
                print(f"tests/net: FAILED: the flaw {a.flaw} went unnoticed: no false failure detection", file=sys.stderr)
                return 1
            if false or views or stuck:
                print("tests/net: FAILED: a retune caused false failure detections or did not switch over", file=sys.stderr)
                return 1
            print("tests/net: passed: no retune caused a false failure detection")
            return 0
        rng = random.Random(seed)
        load = Workload(c, ids, seed + 1)
        load.start()
        faults = {k: 0 for k in a.faults}
        heals: List[Tuple[str, Optional[float]]] = []
        crashes: List[Optional[float]] = []
        nemesis(net, c, rng, time.monotonic() + duration, faults, heals, crashes)
        load.stop.set()
        load.join()
        net.heal()
        healed = converge(c, ids, 60)
        c.stop_all()
        problems = check(c, load.told, work / "history.jsonl")
        if healed is None:
            problems.append("the cluster did not converge within 60 s of the last heal")
        print(f"faults injected: {sum(v for k, v in faults.items() if k != 'quiet')} ({faults})")
        print(f"client operations: {load.counts}")
        if net.switch is not None:
            print(f"frames through the switch: {net.link_stats()}")
        print(f"after the last heal: one view, quorum, equal values in {healed if healed is None else round(healed, 2)} s")
        print(f"healing a fault that split the view (heal, resume, restart) to one view of every node: {spread([t for _, t in heals])}")
        for kind in sorted({k for k, _ in heals}):
            print(f"  after {kind}: {spread([t for k, t in heals if k == kind])}")
        print(f"kill -9 to one view of the others: {spread(crashes)} "
              "(failure detection alone: a heartbeat-timeout of 400 ms of silence, then heartbeat-failure-threshold 3 misses at 100 ms checks)")
        if problems:
            print(f"tests/net: FAILED (seed {seed}; replay: tests/net/run.py --seed {seed}; files in {work}):", file=sys.stderr)
            for p in problems:
                print("  " + p, file=sys.stderr)
            a.keep = True
            return 1
        print("tests/net: passed: histories checked, every change a client was told is in the histories, one view after healing")
        return 0
    except KeyboardInterrupt:
        print("tests/net: interrupted", file=sys.stderr)
        return 130
    finally:
        if c is not None:
            c.stop_all()
        net.down()
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"tests/net: files kept in {work}")


if __name__ == "__main__":
    sys.exit(main())
