"""libcgm from Python: a local cluster, a status table, a committed change and a vetoed one."""

from __future__ import annotations

from typing import Mapping, Optional

import cgm
from cgm import Param

with cgm.LocalCluster(3) as cluster:
    # Each member answers a status query from its own record.
    print(f"{'member':>6} {'view':>5} {'phase':>6} {'round':>5} {'heartbeat':>9}")
    for s in cluster.statuses():
        interval = s.params[Param.HEARTBEAT_INTERVAL]
        print(f"{s.node:>6} {str(s.view):>5} {s.phase:>6} {s.current_round:>5} {interval:>7}ms")

    # A change commits on every member (two ACK rounds) ...
    outcome = cluster[0].propose({Param.HEARTBEAT_INTERVAL: "200ms", Param.HEARTBEAT_TIMEOUT: "1s"})
    print("committed:", outcome.committed, "generation", outcome.generation)

    # ... or is rolled back on every member: member 3's host vetoes it.
    def pin_window(changes: Mapping[Param, int]) -> Optional[str]:
        return "the send window is pinned" if Param.SEND_WINDOW_SIZE in changes else None

    cluster[2].set_veto_hook(pin_window)
    try:
        cluster[0].propose(Param.SEND_WINDOW_SIZE, 32)
    except cgm.Vetoed as e:
        assert e.outcome is not None
        print("vetoed by member", *e.outcome.vetoed_by, "-", e.outcome.reason)
    print("window everywhere:", {s.node: s.params[Param.SEND_WINDOW_SIZE] for s in cluster.statuses()})
