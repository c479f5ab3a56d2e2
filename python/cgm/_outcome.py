"""How a peer protocol ended: :class:`Outcome`, :class:`ChangeOutcome` and each
member's :class:`MemberAck`, built from libcgm's JSON schema. It imports
nothing of the package, so :mod:`cgm.errors` can depend on it."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Dict, Mapping, Optional, Tuple, Type, TypeVar

__all__ = ["MemberAck", "Outcome", "ChangeOutcome"]


@dataclasses.dataclass(frozen=True)
class MemberAck:
    """A member's status in a protocol's last round: ``kind`` is ``received``,
    ``ok`` (with ``payload``) or ``failed`` (with ``reason``)."""

    member: int
    kind: str
    payload: Optional[bytes]
    reason: Optional[str]

    @property
    def failed(self) -> bool:
        return self.kind == "failed"


_O = TypeVar("_O", bound="Outcome")


@dataclasses.dataclass(frozen=True, repr=False)
class Outcome:
    """How a peer protocol ended, identical on every member."""

    seq: int
    proposal: Tuple[int, int]
    kind: str
    committed: bool
    generation: int
    statuses: Tuple[MemberAck, ...]
    reason: Optional[str]
    _json: Mapping[str, Any] = dataclasses.field(default_factory=dict, repr=False, compare=False, hash=False)

    @classmethod
    def _from_native(cls: Type[_O], d: Dict[str, Any]) -> _O:
        return cls(
            seq=d["seq"],
            proposal=(d["proposal"][0], d["proposal"][1]),
            kind=d["kind"],
            committed=d["committed"],
            generation=d["generation"],
            statuses=tuple(
                MemberAck(
                    member=m,
                    kind=a["kind"],
                    payload=None if a["payload"] is None else bytes(a["payload"]),
                    reason=a["reason"],
                )
                for m, a in d["statuses"]
            ),
            reason=d["reason"],
            _json=d,
        )

    @property
    def vetoed_by(self) -> Tuple[int, ...]:
        """Members whose host vetoed it."""
        return tuple(a.member for a in self.statuses if a.failed and (a.reason or "").startswith("vetoed"))

    @property
    def failed_members(self) -> Tuple[int, ...]:
        """Members whose step failed."""
        return tuple(a.member for a in self.statuses if a.failed)

    def to_dict(self) -> Dict[str, Any]:
        """The outcome in libcgm's one JSON schema (README, "Status as JSON"):
        what ``cgm set --json`` and C's ``cgm_change_outcome_to_json`` give for it."""
        return copy.deepcopy(dict(self._json))

    def __repr__(self) -> str:
        state = "committed" if self.committed else f"rolled back: {self.reason!r}"
        return (
            f"{type(self).__name__}(seq={self.seq}, proposal={self.proposal[0]}:{self.proposal[1]}, kind={self.kind!r}, "
            f"{state}, generation={self.generation}, failed={list(self.failed_members)})"
        )


@dataclasses.dataclass(frozen=True, repr=False)
class ChangeOutcome(Outcome):
    """How a parameter change ended: committed on every member, or rolled back on every member."""
