#!/usr/bin/env python3
"""The network of tests/net/run.py as a userspace Ethernet switch: one TAP
device per node (moved into the node's namespace by run.py), frames
forwarded between them, and on the way the faults this kernel cannot make
(it has no netem qdisc): delay with jitter (which reorders), and
duplication. Loss, partitions and one-way cuts stay in nftables.

    switch.py PREFIX N SEED   creates PREFIXt1 .. PREFIXtN, prints "ready";
                              SEED drives the random delays and copies

Commands, one JSON object per line on stdin:

    {"delay_ms": D, "jitter_ms": J, "dup_pct": P, "to": [ids] | null}
        frames to these nodes (null: every node) wait D +- J ms (uniform,
        never below 0) and are sent twice with probability P %
    {"clear": true}    no delay, no duplication
    {"stats": true}    prints one JSON line: frames forwarded, delayed,
                       duplicated, and delivered out of order (after a
                       later frame of the same sender to the same node)

Exits when stdin closes; its TAP devices go with it.
"""

from __future__ import annotations

import fcntl
import heapq
import json
import os
import random
import selectors
import struct
import sys
import time
from typing import Dict, List, Optional, Tuple

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def open_tap(name: str) -> int:
    """A non-blocking TAP device `name` (frames without a packet header)."""
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


class Switch:
    def __init__(self, prefix: str, n: int, seed: int) -> None:
        self.ports = {i: open_tap(f"{prefix}t{i}") for i in range(1, n + 1)}
        self.macs: Dict[bytes, int] = {}
        self.rules: Dict[int, Tuple[float, float, float]] = {}
        self.rng = random.Random(seed)
        self.queue: List[Tuple[float, int, int, int, bytes]] = []
        self.sent = 0  # sequence number of every frame taken in
        self.last: Dict[Tuple[int, int], int] = {}  # (from, to): newest sequence delivered
        self.stats = {"forwarded": 0, "delayed": 0, "duplicated": 0, "reordered": 0}

    def take(self, src: int, frame: bytes) -> None:
        """A frame from port `src`: to the port that owns its destination
        address, or to every other port (broadcast, unknown address)."""
        self.macs[frame[6:12]] = src
        dst = self.macs.get(frame[0:6])
        targets = [dst] if dst is not None and dst != src else [p for p in self.ports if p != src]
        self.sent += 1
        now = time.monotonic()
        for t in targets:
            delay, jitter, dup = self.rules.get(t, (0.0, 0.0, 0.0))
            copies = 2 if dup and self.rng.random() * 100 < dup else 1
            self.stats["duplicated"] += copies - 1
            for _ in range(copies):
                wait = max(0.0, delay + self.rng.uniform(-jitter, jitter)) / 1000
                if wait:
                    self.stats["delayed"] += 1
                heapq.heappush(self.queue, (now + wait, self.sent, src, t, frame))

    def deliver_due(self) -> Optional[float]:
        """Sends every frame whose time has come; the seconds until the next."""
        now = time.monotonic()
        while self.queue and self.queue[0][0] <= now:
            _, seq, src, t, frame = heapq.heappop(self.queue)
            if seq < self.last.get((src, t), 0):
                self.stats["reordered"] += 1
            self.last[(src, t)] = max(seq, self.last.get((src, t), 0))
            try:
                os.write(self.ports[t], frame)
                self.stats["forwarded"] += 1
            except (BlockingIOError, OSError):
                pass  # the device's queue is full or it is down: lost, as on a wire
        return self.queue[0][0] - now if self.queue else None

    def command(self, line: str) -> None:
        c = json.loads(line)
        if c.get("clear"):
            self.rules.clear()
        elif c.get("stats"):
            print(json.dumps(self.stats), flush=True)
        else:
            rule = (float(c.get("delay_ms", 0)), float(c.get("jitter_ms", 0)), float(c.get("dup_pct", 0)))
            for t in c.get("to") or list(self.ports):
                self.rules[t] = rule

    def run(self) -> None:
        sel = selectors.DefaultSelector()
        for i, fd in self.ports.items():
            sel.register(fd, selectors.EVENT_READ, i)
        sel.register(0, selectors.EVENT_READ, 0)
        print("ready", flush=True)
        timeout: Optional[float] = None
        pending = b""
        while True:
            for key, _ in sel.select(timeout):
                if key.data == 0:
                    chunk = os.read(0, 65536)
                    if not chunk:
                        return
                    *lines, pending = (pending + chunk).split(b"\n")
                    for line in lines:
                        self.command(line.decode())
                    continue
                while True:
                    try:
                        frame = os.read(key.fd, 65536)
                    except BlockingIOError:
                        break
                    self.take(key.data, frame)
            timeout = self.deliver_due()


if __name__ == "__main__":
    Switch(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])).run()
