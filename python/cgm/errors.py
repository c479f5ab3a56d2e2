"""libcgm's exceptions. Each has a ``.code`` equal to the C result code
(:class:`cgm.Result`); the native module raises them from the runtime's errors
in one exhaustive match over those codes. This module imports only
:mod:`cgm._result` and :mod:`cgm._outcome`, which import nothing of the package."""

from __future__ import annotations

from typing import Any, ClassVar, Optional, Tuple

from ._outcome import ChangeOutcome
from ._result import Result

__all__ = [
    "CgmError",
    "InvalidArgument",
    "InvalidParameter",
    "Closed",
    "Timeout",
    "RolledBack",
    "Vetoed",
    "NoQuorum",
    "NotMember",
    "AuthenticationError",
    "VersionMismatch",
    "IoError",
    "Backpressure",
]


class CgmError(Exception):
    """Base of every libcgm error; ``.code`` is the C result code."""

    default_code: ClassVar[Result] = Result.PANIC

    code: Result
    message: str

    def __init__(self, message: str, code: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = Result(code) if code is not None else type(self).default_code

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code.name})"


class InvalidArgument(CgmError, ValueError):
    """An argument is invalid (bad configuration, address, timeout, ...)."""

    default_code = Result.INVALID_ARGUMENT


class InvalidParameter(CgmError, ValueError):
    """A parameter value is invalid: range, unit, a cross-parameter rule or an
    unknown name. Nothing was sent, nothing changed."""

    default_code = Result.INVALID_PARAMETER


class Closed(CgmError):
    """The node is closed (or belongs to the parent of this forked process)."""

    default_code = Result.SHUT_DOWN


class Timeout(CgmError, TimeoutError):
    """No answer in time. For a proposal, ``.proposal`` names it
    (``(node, txid)``): it goes on, and ``Node.outcome`` reads its outcome later."""

    default_code = Result.TIMEOUT

    proposal: Optional[Tuple[int, int]]

    def __init__(self, message: str, code: Optional[int] = None, proposal: Any = None) -> None:
        super().__init__(message, code)
        self.proposal = (int(proposal[0]), int(proposal[1])) if proposal is not None else None


class RolledBack(CgmError):
    """The change was rolled back on every member; ``.outcome`` says why."""

    default_code = Result.ROLLED_BACK

    outcome: Optional[ChangeOutcome]

    def __init__(self, message: str, code: Optional[int] = None, outcome: Any = None) -> None:
        super().__init__(message, code)
        if isinstance(outcome, dict):
            outcome = ChangeOutcome._from_native(outcome)
        self.outcome = outcome


class Vetoed(RolledBack):
    """A member's host vetoed the change; it was rolled back on every member."""

    default_code = Result.VETOED


class NoQuorum(CgmError):
    """The node's view holds no quorum: nothing was run."""

    default_code = Result.NO_QUORUM


class NotMember(CgmError):
    """The node is not (or no longer) a member, or the member is unknown."""

    default_code = Result.NOT_MEMBER


class AuthenticationError(CgmError):
    """Authentication failed or no key was given."""

    default_code = Result.AUTHENTICATION


class VersionMismatch(CgmError):
    """A peer speaks another protocol version."""

    default_code = Result.VERSION_MISMATCH


class IoError(CgmError):
    """An operating-system I/O error (a socket could not be bound, ...)."""

    default_code = Result.IO


class Backpressure(CgmError):
    """A send queue is over its threshold; try again later."""

    default_code = Result.BACKPRESSURE
