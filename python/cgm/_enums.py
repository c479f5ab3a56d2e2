"""The stable parameter numbers shared with C: ``cgm.Param`` (``cgm.Result`` is
in :mod:`cgm._result`)."""

from __future__ import annotations

import enum
from typing import Any, Dict, List

from . import _cgm
from .errors import InvalidParameter

__all__ = ["Param"]


_INFO: List[Dict[str, Any]] = _cgm.param_info()


class Param(enum.IntEnum):
    """The eleven cluster communication parameters, numbered as ``cgm_param`` in C."""

    HEARTBEAT_INTERVAL = 0
    HEARTBEAT_TIMEOUT = 1
    HEARTBEAT_ACK_TIMEOUT = 2
    HEARTBEAT_FAILURE_THRESHOLD = 3
    HEARTBEAT_ACK_FAILURE_THRESHOLD = 4
    RECEIVE_SEND_TIMER_RATIO = 5
    MAX_FRAGMENT_SIZE = 6
    MESSAGE_RETRY_TIMER = 7
    MAX_MESSAGE_RETRY_TIME = 8
    SEND_QUEUE_OVERFLOW_THRESHOLD = 9
    SEND_WINDOW_SIZE = 10

    @property
    def canonical_name(self) -> str:
        """The canonical (kebab-case) name used by TOML, the CLI and JSON."""
        return str(_INFO[self.value]["name"])

    @property
    def unit(self) -> str:
        """The unit of its value: ``ms``, ``count``, ``percent``, ``bytes`` or ``messages``."""
        return str(_INFO[self.value]["unit"])

    @property
    def is_duration(self) -> bool:
        """Whether the value is a duration in milliseconds."""
        return self.unit == "ms"

    @property
    def min(self) -> int:
        """Smallest valid value."""
        return int(_INFO[self.value]["min"])

    @property
    def max(self) -> int:
        """Largest valid value."""
        return int(_INFO[self.value]["max"])

    @property
    def default(self) -> int:
        """Default value."""
        return int(_INFO[self.value]["default"])

    @property
    def is_global(self) -> bool:
        """Whether both ends of a link must agree on it."""
        return bool(_INFO[self.value]["global"])

    @classmethod
    def of(cls, key: object) -> Param:
        """The parameter named by a :class:`Param`, its number, or a name
        (``"heartbeat-interval"``, ``"HEARTBEAT_INTERVAL"``, ``"heartbeat_interval"``).

        Raises ``TypeError`` for another type and :class:`cgm.InvalidParameter`
        for an unknown number or name.
        """
        if isinstance(key, Param):
            return key
        if isinstance(key, bool) or not isinstance(key, (int, str)):
            raise TypeError(f"a parameter is a cgm.Param, an int or a name, not {type(key).__name__}")
        if isinstance(key, int):
            try:
                return cls(key)
            except ValueError:
                raise InvalidParameter(f"unknown parameter number {key}") from None
        norm = key.strip().lower().replace("_", "-")
        for p in cls:
            if p.canonical_name == norm:
                return p
        raise InvalidParameter(f"unknown parameter {key!r}")


for _p in Param:
    # The Rust enum is the reference: same numbers, same order.
    assert _INFO[_p.value]["number"] == _p.value
    assert _INFO[_p.value]["name"] == _p.name.lower().replace("_", "-"), _p
