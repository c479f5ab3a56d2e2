"""Frozen values built from what the native module returns: :class:`Status`,
the events and :class:`Config` (:class:`Outcome` / :class:`ChangeOutcome` are in
:mod:`cgm._outcome`)."""

from __future__ import annotations

import copy
import dataclasses
import os
import types
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from ._enums import Param
from ._outcome import ChangeOutcome, Outcome
from ._values import ParamKey, ParamValue, Seconds, mapping_changes, param_dict, seconds

__all__ = [
    "ViewId",
    "Waiting",
    "ProtocolInfo",
    "PeerStatus",
    "LinkStatus",
    "DampedStatus",
    "Status",
    "ViewChanged",
    "Suspected",
    "ChangeCompleted",
    "ProtocolCompleted",
    "VetoRequest",
    "StepRequest",
    "Removed",
    "Event",
    "Config",
]


def _frozen_map(d: Mapping[Any, Any]) -> Mapping[Any, Any]:
    return types.MappingProxyType(dict(d))


@dataclasses.dataclass(frozen=True)
class ViewId:
    """A view: ordered by epoch, then by the node that formed it. Shown ``epoch.leader``."""

    epoch: int
    leader: int

    def __str__(self) -> str:
        return f"{self.epoch}.{self.leader}"


@dataclasses.dataclass(frozen=True)
class Waiting:
    """What a member waits on: ``kind`` is ``acks`` (``members`` not ACKed yet),
    ``lock`` or ``job`` (``name``), ``host``, ``veto`` or ``new-view``."""

    kind: str
    name: Optional[str]
    members: Tuple[int, ...]
    text: str

    def __str__(self) -> str:
        return self.text


@dataclasses.dataclass(frozen=True)
class ProtocolInfo:
    """The protocol a member is processing."""

    seq: int
    proposal: Tuple[int, int]
    kind: str
    rounds: int
    round_index: int
    running_for: float
    """Seconds since the member started it."""


@dataclasses.dataclass(frozen=True)
class PeerStatus:
    """What a member has received from another member."""

    id: int
    incarnation: int
    last_ack_round: int
    last_heard_ago: Optional[float]
    queued: int
    in_flight: int


@dataclasses.dataclass(frozen=True)
class LinkStatus:
    """One heartbeat link of a member."""

    peer: int
    outgoing: bool
    misses: int
    interval_ms: int
    switch_over_pending: bool


@dataclasses.dataclass(frozen=True)
class DampedStatus:
    """A member held out of the view for flapping (excluded again and again):
    it is readmitted only after its backoff."""

    id: int
    incarnation: int
    exclusions: int
    remaining: float
    """Seconds left of its backoff, as of the answer."""


@dataclasses.dataclass(frozen=True)
class Refusal:
    """A member refused this node for being outside the cluster's node set
    (a node never added by a node change, or one removed while it was away)."""

    by: int
    """The member that refused it."""
    generation: int
    """That member's committed generation."""
    nodes: Tuple[int, ...]
    """The node set that member committed (node ids), without this node."""
    ago: float
    """Seconds since the refusal arrived, as of the answer."""


@dataclasses.dataclass(frozen=True, repr=False)
class Status:
    """A member's status, built by that member from its own record.

    ``str(status)`` is the operator table (as ``cgm status`` prints it);
    ``to_dict()`` is JSON-ready.
    """

    node: int
    incarnation: int
    view: ViewId
    members: Tuple[int, ...]
    coordinator: Optional[int]
    quorum: bool
    phase: str
    current_round: int
    acked_round: int
    completed: int
    queued_protocols: int
    protocol: Optional[ProtocolInfo]
    waiting: Optional[Waiting]
    waited: Optional[float]
    """Seconds it has waited, as of its answer."""
    not_acked: Tuple[int, ...]
    peers: Tuple[PeerStatus, ...]
    links: Tuple[LinkStatus, ...]
    params: Mapping[Param, int] = dataclasses.field(hash=False)
    configured: Mapping[Param, int] = dataclasses.field(hash=False)
    """The member's own file's values: what it would start a new cluster with."""
    limits: Mapping[Param, int] = dataclasses.field(hash=False)
    """The member's local limits (``[limits]``): a change above one fails its apply."""
    nodes: Mapping[int, str] = dataclasses.field(hash=False)
    """The cluster's node set in force on the member, node id to address: the
    nodes whose majority a view needs for quorum. It starts as the configured
    nodes and changes by committed node changes (``Node.change_nodes``); a
    node that joined takes it by state transfer."""
    configured_nodes: Mapping[int, str] = dataclasses.field(hash=False)
    """The nodes the member's own configuration lists (its file's ``[[nodes]]``)."""
    generation: int
    switch_over_pending: bool
    keys: Mapping[str, Any] = dataclasses.field(hash=False)
    """The member's cluster keys by fingerprint (16 hex digits, ``None``
    without a key): ``committed`` (the active key), ``sending``,
    ``configured`` (its own key file's), ``accepting`` (a tuple) and
    ``rotating`` (a key rotation is in progress on it)."""
    counters: Mapping[str, int] = dataclasses.field(hash=False)
    damped: Tuple[DampedStatus, ...]
    refused: Optional[Refusal]
    """While the member is in no view with quorum: the last refusal it got
    for being outside the cluster's node set (``None``: none)."""
    text: str = dataclasses.field(repr=False, compare=False)
    _json: Mapping[str, Any] = dataclasses.field(default_factory=dict, repr=False, compare=False, hash=False)

    @classmethod
    def _from_native(cls, d: Dict[str, Any]) -> Status:
        w = d["waiting"]
        p = d["protocol"]
        return cls(
            node=d["node"],
            incarnation=d["incarnation"],
            view=ViewId(**d["view"]),
            members=tuple(d["members"]),
            coordinator=d["coordinator"],
            quorum=d["quorum"],
            phase=d["phase"],
            current_round=d["current_round"],
            acked_round=d["acked_round"],
            completed=d["completed"],
            queued_protocols=d["queued_protocols"],
            protocol=None
            if p is None
            else ProtocolInfo(
                seq=p["seq"],
                proposal=(p["proposal"][0], p["proposal"][1]),
                kind=p["kind"],
                rounds=p["rounds"],
                round_index=p["round_index"],
                running_for=p["running_for_us"] / 1e6,
            ),
            waiting=None if w is None else Waiting(kind=w["kind"], name=w["name"], members=tuple(w["members"]), text=w["text"]),
            waited=None if d["waited_us"] is None else d["waited_us"] / 1e6,
            not_acked=tuple(d["not_acked"]),
            peers=tuple(
                PeerStatus(
                    id=x["id"],
                    incarnation=x["incarnation"],
                    last_ack_round=x["last_ack_round"],
                    last_heard_ago=None if x["last_heard_us_ago"] is None else x["last_heard_us_ago"] / 1e6,
                    queued=x["queued"],
                    in_flight=x["in_flight"],
                )
                for x in d["peers"]
            ),
            links=tuple(LinkStatus(**x) for x in d["links"]),
            params=_frozen_map(param_dict(d["params"])),
            configured=_frozen_map(param_dict(d["configured"])),
            limits=_frozen_map(param_dict(d.get("limits", {}))),
            nodes=_frozen_map({x["id"]: x["address"] for x in d["nodes"]}),
            configured_nodes=_frozen_map({x["id"]: x["address"] for x in d["configured_nodes"]}),
            generation=d["generation"],
            switch_over_pending=d["switch_over_pending"],
            keys=_frozen_map({**d["keys"], "accepting": tuple(d["keys"]["accepting"])}),
            counters=_frozen_map(d["counters"]),
            damped=tuple(
                DampedStatus(id=x["id"], incarnation=x["incarnation"], exclusions=x["exclusions"], remaining=x["remaining_us"] / 1e6)
                for x in d.get("damped", [])
            ),
            refused=None
            if d.get("refused") is None
            else Refusal(
                by=d["refused"]["by"],
                generation=d["refused"]["generation"],
                nodes=tuple(d["refused"]["nodes"]),
                ago=d["refused"]["us_ago"] / 1e6,
            ),
            text=d["text"],
            _json={k: v for k, v in d.items() if k != "text"},
        )

    def to_dict(self) -> Dict[str, Any]:
        """The status in libcgm's one JSON schema (README, "Status as JSON"):
        what ``cgm status --json`` and C's ``cgm_status_to_json`` give for it."""
        return copy.deepcopy(dict(self._json))

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        waiting = f"{str(self.waiting)!r}" if self.waiting is not None else "None"
        return (
            f"Status(node={self.node}, view={self.view}, members={list(self.members)}, quorum={self.quorum}, "
            f"phase={self.phase!r}, round={self.current_round}, completed={self.completed}, waiting={waiting}, "
            f"generation={self.generation})"
        )


@dataclasses.dataclass(frozen=True)
class ViewChanged:
    """A new view was installed."""

    view: ViewId
    members: Tuple[int, ...]
    quorum: bool


@dataclasses.dataclass(frozen=True)
class Suspected:
    """This node suspects a member failed."""

    member: int
    reason: str


@dataclasses.dataclass(frozen=True)
class ChangeCompleted:
    """A parameter change ended (``outcome.committed`` says how) on every member."""

    outcome: ChangeOutcome

    @property
    def committed(self) -> bool:
        return self.outcome.committed


@dataclasses.dataclass(frozen=True)
class ProtocolCompleted:
    """An application protocol ended."""

    outcome: Outcome


@dataclasses.dataclass(frozen=True)
class VetoRequest:
    """The veto hook: answer with ``Node.answer_veto`` (``Node.dispatch`` does it
    with the hook set by ``Node.set_veto_hook``)."""

    token: int
    changes: Mapping[Param, int] = dataclasses.field(hash=False)


@dataclasses.dataclass(frozen=True)
class StepRequest:
    """An application protocol step waits for this host's status (``Node.answer_step``)."""

    token: int
    seq: int
    round_index: int
    payload: bytes


@dataclasses.dataclass(frozen=True)
class Removed:
    """A committed node change removed this node from the cluster: it left the
    group, and the others refuse it until a node change adds it again."""

    generation: int


Event = Union[ViewChanged, Suspected, ChangeCompleted, ProtocolCompleted, VetoRequest, StepRequest, Removed]


def _event(d: Dict[str, Any]) -> Event:
    t = d["type"]
    if t == "view":
        return ViewChanged(view=ViewId(**d["view"]), members=tuple(d["members"]), quorum=d["quorum"])
    if t == "suspect":
        return Suspected(member=d["member"], reason=d["reason"])
    if t == "change":
        return ChangeCompleted(outcome=ChangeOutcome._from_native(d["outcome"]))
    if t == "protocol":
        return ProtocolCompleted(outcome=Outcome._from_native(d["outcome"]))
    if t == "veto":
        return VetoRequest(token=d["token"], changes=_frozen_map({Param(p): v for p, v in d["changes"]}))
    if t == "step":
        return StepRequest(token=d["token"], seq=d["seq"], round_index=d["round_index"], payload=bytes(d["payload"]))
    if t == "removed":
        return Removed(generation=d["generation"])
    raise AssertionError(f"unknown event type {t!r}")


@dataclasses.dataclass
class Config:
    """A node's configuration, built in Python (or from a dict: ``Config(**d)``).

    ``nodes`` maps every configured node id to its ``"host:port"``. Give the
    cluster ``key`` (32 bytes) or ``key_file``, or set ``insecure=True``.
    ``params`` and ``limits`` map a :class:`Param` (or its name) to a value.
    ``veto_hook=True`` makes every change ask this host (``Node.set_veto_hook``).
    ``state_dir`` is where the node keeps its durable state (the committed
    parameters and generation, the lineage its quorum needs); a node started
    again with the same ``state_dir`` resumes from it. ``None`` keeps state
    in memory only: a restart forgets the committed values.
    ``join=True`` starts a node a node change added (``Node.add_node``) to
    join the cluster that exists: its ``nodes`` may list only itself and a
    member or two to contact; it takes the cluster's node set, parameters
    and generation by state transfer, and never starts a cluster of its own.
    """

    node_id: int
    nodes: Mapping[int, str]
    cluster: str = "cgm"
    key: Optional[bytes] = None
    key_file: Optional[Union[str, "os.PathLike[str]"]] = None
    insecure: bool = False
    encrypt: bool = False
    quorum: bool = True
    params: Mapping[ParamKey, ParamValue] = dataclasses.field(default_factory=dict)
    limits: Mapping[ParamKey, ParamValue] = dataclasses.field(default_factory=dict)
    veto_hook: bool = False
    veto_timeout: Seconds = 5.0
    max_jobs: int = 4
    bind: Optional[str] = None
    state_dir: Optional[Union[str, "os.PathLike[str]"]] = None
    join: bool = False

    def _native_kwargs(self) -> Dict[str, Any]:
        def want(name: str, v: object, *tys: type) -> None:
            if isinstance(v, bool) and bool not in tys or not isinstance(v, tys):
                raise TypeError(f"Config.{name}: expected {' or '.join(t.__name__ for t in tys)}, not {type(v).__name__}")

        want("node_id", self.node_id, int)
        want("cluster", self.cluster, str)
        for flag in ("insecure", "encrypt", "quorum", "veto_hook", "join"):
            want(flag, getattr(self, flag), bool)
        want("max_jobs", self.max_jobs, int)
        if not isinstance(self.nodes, Mapping):
            raise TypeError(f"Config.nodes: expected a mapping of node id to 'host:port', not {type(self.nodes).__name__}")
        nodes: List[Tuple[int, str]] = []
        for i, a in self.nodes.items():
            want("nodes id", i, int)
            want("nodes address", a, str)
            nodes.append((i, a))
        if self.key is not None:
            want("key", self.key, bytes)
        if self.bind is not None:
            want("bind", self.bind, str)
        key_file = None if self.key_file is None else os.fspath(self.key_file)
        state_dir = None if self.state_dir is None else os.fspath(self.state_dir)
        return dict(
            node_id=self.node_id,
            nodes=nodes,
            cluster=self.cluster,
            key=self.key,
            key_file=key_file,
            insecure=self.insecure,
            encrypt=self.encrypt,
            quorum=self.quorum,
            params=mapping_changes(self.params),
            limits=mapping_changes(self.limits),
            veto_hook=self.veto_hook,
            veto_timeout=seconds(self.veto_timeout, "veto_timeout"),
            max_jobs=self.max_jobs,
            bind=self.bind,
            state_dir=state_dir,
            join=self.join,
        )


