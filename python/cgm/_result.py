"""The stable result codes shared with C: ``cgm.Result``. It imports nothing
of the package, so :mod:`cgm.errors` can depend on it."""

from __future__ import annotations

import enum

__all__ = ["Result"]


class Result(enum.IntEnum):
    """Result codes: ``cgm_result`` in C, ``.code`` of every :class:`cgm.CgmError`."""

    OK = 0
    NULL_ARGUMENT = 1
    INVALID_ARGUMENT = 2
    INVALID_PARAMETER = 3
    BAD_HANDLE = 4
    TIMEOUT = 5
    ROLLED_BACK = 6
    VETOED = 7
    NO_QUORUM = 8
    NOT_MEMBER = 9
    AUTHENTICATION = 10
    VERSION_MISMATCH = 11
    IO = 12
    BACKPRESSURE = 13
    SHUT_DOWN = 14
    PANIC = 15
