"""Fixtures for the Python suite: it tests the installed wheel (`import cgm`)."""

from __future__ import annotations

import time
from typing import Callable, Iterator

import pytest

import cgm


@pytest.fixture
def cluster() -> Iterator[cgm.LocalCluster]:
    with cgm.LocalCluster(5) as c:
        yield c


@pytest.fixture
def cluster3() -> Iterator[cgm.LocalCluster]:
    with cgm.LocalCluster(3) as c:
        yield c


def eventually(check: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Polls `check` until it holds, failing after `timeout` seconds."""
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)
