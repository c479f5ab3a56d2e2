"""Conversions of user values (parameters, durations, timeouts) to what the
native module takes. Wrong types raise ``TypeError``; bad values raise
:class:`cgm.InvalidParameter` (parameters) or :class:`cgm.InvalidArgument`."""

from __future__ import annotations

import datetime
import math
from typing import Dict, Iterable, List, Mapping, Tuple, Union

from . import _cgm
from ._enums import Param
from .errors import InvalidArgument, InvalidParameter

ParamKey = Union[Param, int, str]
"""A parameter: a :class:`Param`, its number or its name."""

ParamValue = Union[int, float, str, datetime.timedelta]
"""A value: a number in the parameter's unit, a string such as ``"500ms"``, or
(for durations) a :class:`datetime.timedelta`."""

Seconds = Union[int, float, datetime.timedelta]

_U64_MAX = 2**64 - 1


def param_value(p: Param, value: object) -> int:
    """The value of ``p`` in its unit, as the native module takes it."""
    if isinstance(value, bool):
        raise TypeError(f"{p.canonical_name}: a value is a number, a string or a timedelta, not bool")
    if isinstance(value, datetime.timedelta):
        if not p.is_duration:
            raise TypeError(f"{p.canonical_name} is in {p.unit}, not a duration: a timedelta does not fit it")
        us = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        if us % 1_000 != 0:
            raise InvalidParameter(f"{p.canonical_name}: {value} is not a whole number of milliseconds")
        n = us // 1_000
    elif isinstance(value, int):
        n = value
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise InvalidParameter(f"{p.canonical_name}: {value!r} is not a whole number of {p.unit}")
        n = int(value)
    elif isinstance(value, str):
        return int(_cgm.parse_value(int(p), value))
    else:
        raise TypeError(f"{p.canonical_name}: a value is a number, a string or a timedelta, not {type(value).__name__}")
    if n < 0 or n > _U64_MAX:
        raise InvalidParameter(f"{p.canonical_name}: {n} is out of range {p.min}..={p.max}")
    return n


def changes(items: Iterable[Tuple[object, object]]) -> List[Tuple[int, int]]:
    """``(param number, value)`` pairs from user pairs."""
    out: Dict[int, int] = {}
    for k, v in items:
        p = Param.of(k)
        out[int(p)] = param_value(p, v)
    return list(out.items())


def mapping_changes(m: object) -> List[Tuple[int, int]]:
    if not isinstance(m, Mapping):
        raise TypeError(f"parameters are a mapping of Param to value, not {type(m).__name__}")
    return changes(m.items())


def seconds(t: object, what: str = "timeout") -> float:
    """A timeout in seconds from a number or a timedelta."""
    if isinstance(t, bool):
        raise TypeError(f"{what} is a number of seconds or a timedelta, not bool")
    if isinstance(t, datetime.timedelta):
        s = t.total_seconds()
    elif isinstance(t, (int, float)):
        s = float(t)
    else:
        raise TypeError(f"{what} is a number of seconds or a timedelta, not {type(t).__name__}")
    if not math.isfinite(s) or s < 0:
        raise InvalidArgument(f"{what} must be >= 0 seconds, not {t!r}")
    return s


def param_dict(values: Mapping[str, int]) -> Dict[Param, int]:
    """Parameters as libcgm's JSON schema gives them (by canonical name), by
    :class:`Param`; names this version does not know (a newer member's) are skipped."""
    known = {p.canonical_name: p for p in Param}
    return {known[k]: int(v) for k, v in values.items() if k in known}
