"""Property: random parameter values either commit on every member or raise
InvalidParameter with nothing changed anywhere."""

from __future__ import annotations

import time
from typing import Iterator, Union

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cgm
from cgm import Param

# Valid values that keep a loaded 2-core machine free of false suspicions, and
# consistent with each other (interval x ratio < both timeouts).
SAFE = {
    Param.HEARTBEAT_INTERVAL: (50, 200),
    Param.HEARTBEAT_TIMEOUT: (400, 2000),
    Param.HEARTBEAT_ACK_TIMEOUT: (400, 2000),
    Param.HEARTBEAT_FAILURE_THRESHOLD: (2, 10),
    Param.HEARTBEAT_ACK_FAILURE_THRESHOLD: (2, 10),
    Param.RECEIVE_SEND_TIMER_RATIO: (100, 150),
    Param.MAX_FRAGMENT_SIZE: (512, 9000),
    Param.MESSAGE_RETRY_TIMER: (20, 100),
    Param.MAX_MESSAGE_RETRY_TIME: (3000, 10000),
    Param.SEND_QUEUE_OVERFLOW_THRESHOLD: (1000, 100000),
    Param.SEND_WINDOW_SIZE: (16, 256),
}

Value = Union[int, str]


def valid(p: Param) -> st.SearchStrategy[tuple[Value, bool]]:
    lo, hi = SAFE[p]
    as_int = st.integers(lo, hi)
    as_text = as_int.map(lambda v: f"{v}ms" if p.is_duration else str(v))
    return st.one_of(as_int, as_text).map(lambda v: (v, True))


def invalid(p: Param) -> st.SearchStrategy[tuple[Value, bool]]:
    below = st.integers(-(2**70), p.min - 1)
    above = st.integers(p.max + 1, 2**70)
    junk = st.sampled_from(["", "fast", "5 parsecs", "-3", "1.5", "10xs"])
    return st.one_of(below, above, junk).map(lambda v: (v, False))


@st.composite
def proposals(draw: st.DrawFn) -> dict[Param, tuple[Value, bool]]:
    params = draw(st.lists(st.sampled_from(list(Param)), min_size=1, max_size=4, unique=True))
    return {p: draw(st.one_of(valid(p), invalid(p)) if draw(st.integers(0, 3)) == 0 else valid(p)) for p in params}


@pytest.fixture(scope="module")
def cluster() -> Iterator[cgm.LocalCluster]:
    with cgm.LocalCluster(3) as c:
        yield c


def all_params(cluster: cgm.LocalCluster) -> list[dict[Param, int]]:
    return [dict(cluster[0].query_status(m, timeout=5.0).params) for m in (1, 2, 3)]


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(proposal=proposals(), proposer=st.integers(0, 2))
def test_random_values_commit_everywhere_or_change_nothing(
    cluster: cgm.LocalCluster, proposal: dict[Param, tuple[Value, bool]], proposer: int
) -> None:
    before = all_params(cluster)
    changes = {p: v for p, (v, _) in proposal.items()}
    if all(ok for _, ok in proposal.values()):
        o = cluster[proposer].propose(changes, timeout=20.0)
        assert o.committed
        expected = dict(before[0])
        for p, v in changes.items():
            expected[p] = v if isinstance(v, int) else int(v.removesuffix("ms"))
        deadline = time.monotonic() + 5.0
        while (after := all_params(cluster)) != [expected] * 3:
            assert time.monotonic() < deadline, f"not applied everywhere: {after} != {expected}"
            time.sleep(0.01)
    else:
        with pytest.raises(cgm.InvalidParameter):
            cluster[proposer].propose(changes, timeout=20.0)
        assert all_params(cluster) == before
