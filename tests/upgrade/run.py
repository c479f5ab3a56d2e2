#!/usr/bin/env python3
"""A rolling upgrade, with real processes on loopback: five `cgm node`
processes of this build (wire versions 6..6) are replaced one by one by a
build of the next wire version (`--features wire-next`: versions 6..7),
under load (every node's host proposes application protocols, and a
parameter change runs after each step through an old member and a new one).

After every step the run checks that the five form one view with quorum,
that a change commits, that the `cgm status` of each build reads members of
both, that each node sends each peer the newest version both speak (its
metrics' `cgm_peer_wire_version`: 7 between two new nodes, else 6), and
that no member dropped a datagram for its version.

    tests/upgrade/run.py --old target/release/cgm --next target/flaws/release/cgm
    tests/upgrade/run.py ... --flaw newest-wire-always   must be caught: the
        next build then sends every peer its newest version

(tests/run_all.sh builds the next build as target/flaws, with the features
flaws and wire-next: without CGM_FLAW set it breaks no rule.) Exits 1 with
what failed; the work directory is kept then.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

N = 5


def free_ports(n: int, kind: int) -> List[int]:
    socks = [socket.socket(socket.AF_INET, kind) for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Cluster:
    def __init__(self, old: str, next_: str, work: Path, flaw: Optional[str]) -> None:
        self.old, self.next, self.work, self.flaw = old, next_, work, flaw
        self.build: Dict[int, str] = {i: old for i in range(1, N + 1)}
        self.procs: Dict[int, Optional[subprocess.Popen]] = {i: None for i in range(1, N + 1)}
        ports = free_ports(N, socket.SOCK_DGRAM)
        self.metrics = dict(zip(range(1, N + 1), free_ports(N, socket.SOCK_STREAM)))
        subprocess.run([old, "keygen", "-o", str(work / "cluster.key")], check=True, capture_output=True)
        for i in range(1, N + 1):
            t = (f'cluster = "upgrade"\nnode_id = {i}\nkey_file = "cluster.key"\nquorum = "majority"\nstate_dir = "state-{i}"\n'
                 '[params]\nheartbeat-interval = "100ms"\nheartbeat-timeout = "400ms"\nheartbeat-ack-timeout = "400ms"\n'
                 f'[metrics]\nlisten = "127.0.0.1:{self.metrics[i]}"\n')
            for j, p in enumerate(ports, 1):
                t += f'[[nodes]]\nid = {j}\naddr = "127.0.0.1:{p}"\n'
            (work / f"node{i}.toml").write_text(t)

    def start(self, i: int) -> None:
        log = open(self.work / f"node{i}.log", "ab")
        env = dict(os.environ)
        env.pop("CGM_FLAW", None)
        if self.flaw and self.build[i] == self.next:
            env["CGM_FLAW"] = self.flaw
        self.procs[i] = subprocess.Popen([self.build[i], "node", "-c", str(self.work / f"node{i}.toml"), "--propose-every", "0.05"],
                                         stdout=log, stderr=log, cwd=self.work, env=env)

    def stop(self, i: int) -> None:
        p = self.procs[i]
        if p is not None:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=10)
            self.procs[i] = None

    def status(self, tool: str, asker: int, member: int) -> Optional[dict]:
        r = subprocess.run([tool, "status", "-c", str(self.work / f"node{asker}.toml"), "--member", str(member), "--json",
                            "--timeout", "1"], capture_output=True, text=True)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def wire_versions(self, i: int) -> Dict[int, int]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics[i]}/metrics", timeout=5) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if line.startswith("cgm_peer_wire_version{"):
                labels, value = line.rsplit(" ", 1)
                peer = int(labels.split('peer="')[1].split('"')[0])
                out[peer] = int(float(value))
        return out


def one_view(c: Cluster, limit: float = 20.0) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        st = [c.status(c.build[i], i, i) for i in range(1, N + 1)]
        if all(s is not None and s["quorum"] and len(s["members"]) == N for s in st) and \
                len({(s["view"]["epoch"], s["view"]["leader"]) for s in st if s}) == 1:
            return True
        time.sleep(0.1)
    return False


def check_step(c: Cluster, step: str, value: int) -> List[str]:
    problems = []
    if not one_view(c):
        return [f"{step}: the five do not form one view with quorum within 20 s"]
    olds = [i for i in c.build if c.build[i] == c.old]
    news = [i for i in c.build if c.build[i] == c.next]
    # A change through an old member and through a new one, each with its own tool.
    for via in [olds[0]] if olds else []:
        r = subprocess.run([c.old, "set", "-c", str(c.work / f"node{via}.toml"), f"send-window-size={value}"], capture_output=True, text=True)
        if r.returncode != 0:
            problems.append(f"{step}: a change through old member {via} did not commit: {r.stdout} {r.stderr}")
    for via in [news[0]] if news else []:
        r = subprocess.run([c.next, "set", "-c", str(c.work / f"node{via}.toml"), f"send-window-size={value + 1}"], capture_output=True, text=True)
        if r.returncode != 0:
            problems.append(f"{step}: a change through new member {via} did not commit: {r.stdout} {r.stderr}")
    # Each build's tool reads members of both builds.
    for tool in (c.old, c.next):
        for member in range(1, N + 1):
            if c.status(tool, 1, member) is None:
                problems.append(f"{step}: `cgm status` of the {'old' if tool == c.old else 'next'} build cannot read member {member} ({'old' if member in olds else 'new'})")
    # Each node sends each peer the newest version both speak.
    for i in range(1, N + 1):
        want = {j: 7 if (i in news and j in news) else 6 for j in range(1, N + 1) if j != i}
        end = time.monotonic() + 5
        got = c.wire_versions(i)
        while got != want and time.monotonic() < end:
            time.sleep(0.1)
            got = c.wire_versions(i)
        if got != want:
            problems.append(f"{step}: node {i} sends its peers wire versions {got}, not {want}")
    # Nothing was ever dropped for its version.
    for i in range(1, N + 1):
        s = c.status(c.build[i], i, i)
        if s is None or s["counters"]["version_mismatch"]:
            problems.append(f"{step}: node {i} dropped datagrams for their wire version: {s and s['counters']['version_mismatch']}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", required=True)
    ap.add_argument("--next", required=True)
    ap.add_argument("--flaw", default=None, help="run the next build's nodes with this broken rule: the run passes only if it is caught")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cgm-upgrade-"))
    c = Cluster(str(Path(a.old).resolve()), str(Path(a.next).resolve()), work, a.flaw)
    problems: List[str] = []
    try:
        for i in range(1, N + 1):
            c.start(i)
        problems += check_step(c, "all five on the old build", 20)
        print(f"upgrade: all five on the old build: {'ok' if not problems else problems}")
        for i in range(1, N + 1):
            c.stop(i)
            c.build[i] = c.next
            c.start(i)
            found = check_step(c, f"node {i} upgraded", 20 + 2 * i)
            print(f"upgrade: node {i} on the next build: {'ok' if not found else found}")
            problems += found
            if found and a.flaw:
                break
        final = [c.status(c.next, i, i) for i in range(1, N + 1)]
        if not all(s is not None for s in final) or len({(s["generation"], json.dumps(s["params"], sort_keys=True)) for s in final if s}) != 1:
            problems.append("after the upgrade the members do not hold the same values and generation")
    finally:
        for i in range(1, N + 1):
            c.stop(i)
    if a.flaw:
        shutil.rmtree(work, ignore_errors=True)
        if problems:
            print(f"upgrade: passed: with the flaw {a.flaw} the upgrade failed, as it must: {problems[0]}")
            return 0
        print(f"upgrade: FAILED: the flaw {a.flaw} went unnoticed", file=sys.stderr)
        return 1
    if problems:
        print(f"upgrade: FAILED (files kept in {work}):", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("upgrade: passed: five nodes upgraded one by one to the next wire version under load, one group throughout, "
          "each link at the newest version both ends speak, no datagram dropped for its version")
    return 0


if __name__ == "__main__":
    sys.exit(main())
