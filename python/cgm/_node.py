"""``cgm.Node``, its lock context manager and ``cgm.LocalCluster``."""

from __future__ import annotations

import logging
import os
import selectors
import socket
import threading
import types
from types import TracebackType
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Type, TypeVar, Union

from . import _cgm
from ._enums import Param
from ._outcome import ChangeOutcome, Outcome
from ._types import (
    ChangeCompleted,
    Config,
    Event,
    ProtocolCompleted,
    Removed,
    Status,
    StepRequest,
    Suspected,
    VetoRequest,
    ViewChanged,
    _event,
)
from ._values import ParamKey, ParamValue, Seconds, changes, param_dict, seconds
from .errors import Closed, InvalidArgument

__all__ = ["Node", "LockHold", "LocalCluster", "VetoHook", "StepHook"]

_log = logging.getLogger("cgm")

VetoHook = Callable[[Mapping[Param, int]], Union[bool, str, None]]
"""Called with a proposed change: ``None`` or ``True`` accepts it, ``False`` or a
reason string vetoes it, an exception vetoes it with the exception's text."""

StepHook = Callable[[StepRequest], bytes]
"""Called for an application protocol step waiting on the host: returns this
member's status bytes; an exception fails the step."""

F = TypeVar("F", bound=Callable[..., Any])

_NO_NODES: Mapping[int, str] = types.MappingProxyType({})


def _node_id(what: str, v: object) -> int:
    """A node id argument: an int of 32 bits (the runtime refuses id 0 with its reason)."""
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{what} is a node id (int), not {type(v).__name__}")
    if not 0 <= v < 2**32:
        raise InvalidArgument(f"{what} {v} is not a node id (0 < id < 2**32)")
    return v


def _txid(txid: Optional[int]) -> Optional[int]:
    if txid is not None and (isinstance(txid, bool) or not isinstance(txid, int)):
        raise TypeError(f"txid is an int, not {type(txid).__name__}")
    if txid is not None and not 0 <= txid < 2**64:
        raise InvalidArgument(f"txid {txid} is out of range")
    return txid


def forward_logs() -> int:
    """Forwards the native log records queued so far to the ``cgm`` logger
    (on the calling thread: no library thread calls Python). Returns their number."""
    records = _cgm.drain_logs()
    for level, target, message in records:
        _log.log(level, "%s: %s", target, message)
    return len(records)


class LockHold:
    """``with node.lock("name"):`` holds the node's named local lock; a protocol
    step that needs it waits, visibly in the member's status. Waiting for the
    lock releases the GIL."""

    def __init__(self, native: _cgm.Node, name: str) -> None:
        self._native = native
        self._name = name
        self._guard: Optional[_cgm.LockGuard] = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def held(self) -> bool:
        return self._guard is not None and self._guard.held

    def acquire(self) -> LockHold:
        if self.held:
            raise InvalidArgument(f"lock {self._name!r} is already held by this LockHold")
        self._guard = self._native.lock(self._name)
        return self

    def release(self) -> None:
        if self._guard is not None:
            self._guard.release()
            self._guard = None

    def __enter__(self) -> LockHold:
        return self if self.held else self.acquire()

    def __exit__(self, t: Optional[Type[BaseException]], e: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<LockHold {self._name!r} {'held' if self.held else 'free'}>"


class Node:
    """One cluster member, started on creation.

    ``Node(config)`` takes a :class:`cgm.Config` or a dict of its fields;
    ``Node.from_file(path)`` reads a TOML configuration. Leaving the ``with``
    block (or ``close()``) leaves the group gracefully. Every method may be
    called from any thread and releases the GIL while it waits. A node used
    from a forked child raises :class:`cgm.Closed`.

    Events (views, suspicions, change outcomes, veto requests, this node's
    removal from the cluster) are delivered on
    the host's own thread: ``fileno()`` is readable while events wait and
    ``dispatch()`` runs the callbacks, or iterate ``events()``.
    """

    _native: _cgm.Node

    def __init__(self, config: Union[Config, Mapping[str, Any]]) -> None:
        if isinstance(config, Mapping):
            config = Config(**config)
        elif not isinstance(config, Config):
            raise TypeError(f"Node() takes a cgm.Config or a dict, not {type(config).__name__}")
        self._setup(_cgm.Node(**config._native_kwargs()))

    @classmethod
    def from_file(cls, path: Union[str, "os.PathLike[str]"]) -> Node:
        """Starts a node from a TOML configuration file (as ``cgm node -c``)."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path is a str or os.PathLike, not {type(path).__name__}")
        node = cls.__new__(cls)
        node._setup(_cgm.Node.from_file(os.fspath(path)))
        return node

    def _setup(self, native: _cgm.Node) -> None:
        self._native = native
        self._on_view: List[Callable[[ViewChanged], Any]] = []
        self._on_suspect: List[Callable[[Suspected], Any]] = []
        self._on_change: List[Callable[[ChangeCompleted], Any]] = []
        self._on_protocol: List[Callable[[ProtocolCompleted], Any]] = []
        self._on_removed: List[Callable[[Removed], Any]] = []
        self._veto_hook: Optional[VetoHook] = None
        self._step_hook: Optional[StepHook] = None

    # -- identity and lifetime -------------------------------------------------

    @property
    def id(self) -> int:
        """This node's id."""
        return self._native.id

    @property
    def closed(self) -> bool:
        """Whether the node is closed (or belongs to another process)."""
        return self._native.closed

    def close(self) -> None:
        """Leaves the group gracefully and stops the node. Idempotent."""
        self._native.close()
        forward_logs()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, t: Optional[Type[BaseException]], e: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.close()

    def __repr__(self) -> str:
        native = getattr(self, "_native", None)
        if native is None:
            return "<cgm.Node (not started)>"
        return f"<cgm.Node id={native.id}{' closed' if native.closed else ''}>"

    # -- status ----------------------------------------------------------------

    def status(self) -> Status:
        """This node's own status."""
        return Status._from_native(self._native.status())

    def query_status(self, member: Optional[int] = None, timeout: Seconds = 1.0) -> Status:
        """The status of ``member`` (this node's own for ``None``), answered by
        that member from its own record, even while it waits on an ACK, a lock,
        a job or its host's veto. Raises :class:`cgm.Timeout` with no answer."""
        t = seconds(timeout)
        if member is None:
            return self.status()
        if isinstance(member, bool) or not isinstance(member, int):
            raise TypeError(f"member is a node id (int), not {type(member).__name__}")
        if member <= 0 or member >= 2**32:
            raise InvalidArgument(f"member {member} is not a node id")
        return Status._from_native(self._native.query_status(member, t))

    def wait_ready(self, timeout: Seconds = 10.0) -> Status:
        """Waits until this node is in a view with quorum (raises :class:`cgm.Timeout`)."""
        return Status._from_native(self._native.wait_ready(seconds(timeout)))

    def wait_members(self, members: int, timeout: Seconds = 10.0) -> Status:
        """Waits until the view holds exactly ``members`` members, with quorum."""
        if isinstance(members, bool) or not isinstance(members, int):
            raise TypeError(f"members is an int, not {type(members).__name__}")
        if members < 0:
            raise InvalidArgument("members must be >= 0")
        return Status._from_native(self._native.wait_members(members, seconds(timeout)))

    # -- parameters ------------------------------------------------------------

    def propose(
        self,
        changes_or_param: Union[Mapping[ParamKey, ParamValue], ParamKey],
        value: Optional[ParamValue] = None,
        *,
        timeout: Seconds = 5.0,
        txid: Optional[int] = None,
    ) -> ChangeOutcome:
        """Changes parameters cluster-wide in one transaction and returns its
        outcome, committed on every member::

            node.propose({Param.HEARTBEAT_INTERVAL: "500ms", Param.HEARTBEAT_TIMEOUT: 2.0 * 1000})
            node.propose(Param.SEND_WINDOW_SIZE, 48)

        Raises :class:`cgm.InvalidParameter` (nothing sent), :class:`cgm.Vetoed`
        or :class:`cgm.RolledBack` (rolled back on every member, with
        ``.outcome``), :class:`cgm.NoQuorum`, :class:`cgm.Timeout` (the
        proposal goes on: ``.proposal`` names it). Re-proposing the same
        ``txid`` is idempotent.

        It returns once the outcome is final: every member has decided it
        (holds the committed values, or has undone the change), so no later
        view change can reverse it, and every member reports this same
        outcome.
        """
        if isinstance(changes_or_param, Mapping):
            if value is not None:
                raise TypeError("propose(mapping) takes no value: put every value in the mapping")
            pairs = changes(changes_or_param.items())
        else:
            if value is None:
                raise TypeError("propose(param, value) needs a value")
            pairs = changes([(changes_or_param, value)])
        if txid is not None and (isinstance(txid, bool) or not isinstance(txid, int)):
            raise TypeError(f"txid is an int, not {type(txid).__name__}")
        if txid is not None and not 0 <= txid < 2**64:
            raise InvalidArgument(f"txid {txid} is out of range")
        return ChangeOutcome._from_native(self._native.propose(pairs, txid, seconds(timeout)))

    def rotate_key(self, key_file: Union[str, "os.PathLike[str]"], *, timeout: Seconds = 10.0, txid: Optional[int] = None) -> ChangeOutcome:
        """Rotates the cluster key by transaction to the key in ``key_file``
        and returns the outcome, committed on every member::

            node.rotate_key("/etc/cgm/cluster-2.key")

        Place the file (32 random bytes, as ``cgm keygen`` writes) at that
        path on every node first,
        beside the first key file. In round 1 every member loads it and
        accepts datagrams under both keys; in round 2 every member sends under
        the new one. Raises :class:`cgm.RolledBack` (a member could not load
        it: undone on every member, the old key stays; ``.outcome`` names
        the member), :class:`cgm.InvalidArgument` (the file is not a key, the
        cluster has no key, or the key is already in force; nothing sent),
        :class:`cgm.NoQuorum`, :class:`cgm.Timeout` (the rotation goes on).
        The key itself never travels; ``Status.keys`` shows fingerprints.
        """
        if not isinstance(key_file, (str, os.PathLike)):
            raise TypeError(f"key_file is a path, not {type(key_file).__name__}")
        if txid is not None and (isinstance(txid, bool) or not isinstance(txid, int)):
            raise TypeError(f"txid is an int, not {type(txid).__name__}")
        return ChangeOutcome._from_native(self._native.rotate_key(os.fspath(key_file), txid, seconds(timeout)))

    def change_nodes(
        self,
        add: Mapping[int, str] = _NO_NODES,
        remove: Iterable[int] = (),
        *,
        timeout: Seconds = 10.0,
        txid: Optional[int] = None,
    ) -> ChangeOutcome:
        """Changes the cluster's node set by transaction and returns the
        outcome, committed on every member: the nodes of ``add`` (id to
        ``"ip:port"``) join it and the ids of ``remove`` leave it, all in one
        change of two ACK rounds, or none::

            node.change_nodes({4: "10.0.0.4:7000"})
            node.change_nodes({5: "10.0.0.5:7000"}, remove=[2])

        The node set decides quorum (a view has quorum with a majority of
        it), and ``Status.nodes`` shows it. Start an added node afterwards
        with a configuration that lists itself and at least one member to
        contact: it joins and takes the node set by state transfer. A removed
        member is told, leaves the group and gets a :class:`cgm.Removed`
        event (``Node.on_removed``); close it then.

        Addresses are literal ``ip:port`` (``[ipv6]:port``), as every member
        must read them the same way. Raises :class:`cgm.InvalidArgument`
        (nothing sent) for an address that is not, or a change that does not
        fit the node set in force: empty, node id 0, a node already in it or
        added twice, removing one not in it, a node both added and removed,
        an address another node has, or removing half or more of the view at
        once; :class:`cgm.RolledBack` (undone on every member, with
        ``.outcome``), :class:`cgm.NotMember` (this node was removed),
        :class:`cgm.NoQuorum`, :class:`cgm.Timeout` (the change goes on:
        ``.proposal`` names it). Re-proposing the same ``txid`` is idempotent.
        """
        if not isinstance(add, Mapping):
            raise TypeError(f"add is a mapping of node id to 'ip:port', not {type(add).__name__}")
        if isinstance(remove, (str, bytes)) or not isinstance(remove, Iterable):
            raise TypeError(f"remove is an iterable of node ids, not {type(remove).__name__}")
        pairs: List[Tuple[int, str]] = []
        for i, a in add.items():
            if not isinstance(a, str):
                raise TypeError(f"the address of node {i!r} is a str ('ip:port'), not {type(a).__name__}")
            pairs.append((_node_id("an added node", i), a))
        ids = [_node_id("a removed node", i) for i in remove]
        return ChangeOutcome._from_native(self._native.change_nodes(pairs, ids, _txid(txid), seconds(timeout)))

    def add_node(self, node_id: int, address: str, *, timeout: Seconds = 10.0, txid: Optional[int] = None) -> ChangeOutcome:
        """Adds one node to the cluster's node set: ``change_nodes({node_id: address})``."""
        return self.change_nodes({node_id: address}, timeout=timeout, txid=txid)

    def remove_node(self, node_id: int, *, timeout: Seconds = 10.0, txid: Optional[int] = None) -> ChangeOutcome:
        """Removes one node from the cluster's node set: ``change_nodes(remove=[node_id])``."""
        return self.change_nodes(remove=[node_id], timeout=timeout, txid=txid)

    def outcome(self, proposal: Tuple[int, int], timeout: Seconds = 5.0) -> Outcome:
        """Waits for the outcome of a proposal (``Timeout.proposal``).

        A member remembers its last 4,096 outcomes; only the last 16 keep
        every member's status, so an older one comes back with empty
        ``statuses`` (its verdict is whole)."""
        node, txid = proposal
        return Outcome._from_native(self._native.outcome(node, txid, seconds(timeout)))

    def params(self) -> Dict[str, Any]:
        """``{"configured": {Param: value}, "effective": {Param: value},
        "generation": int, "switch_over_pending": bool}``."""
        d = self._native.params()
        return {
            "configured": param_dict(d["configured"]),
            "effective": param_dict(d["effective"]),
            "generation": d["generation"],
            "switch_over_pending": d["switch_over_pending"],
        }

    # -- protocols, locks ------------------------------------------------------

    def run_protocol(
        self,
        payload: bytes,
        rounds: int = 1,
        lock: Optional[str] = None,
        timeout: Seconds = 5.0,
        *,
        job: Optional[str] = None,
        host_step: bool = False,
    ) -> Outcome:
        """Runs an application peer protocol of ``rounds`` ACK rounds over the
        group, in the total order. Each member waits on the named ``lock``
        (or ``job``, or its host's step answer with ``host_step``) before each ACK.
        A payload carries at most 1 MiB (``cgm.InvalidArgument`` above)."""
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise TypeError(f"payload is bytes, not {type(payload).__name__}")
        if isinstance(rounds, bool) or not isinstance(rounds, int):
            raise TypeError(f"rounds is an int, not {type(rounds).__name__}")
        if not 1 <= rounds <= 255:
            raise InvalidArgument(f"rounds must be in 1..=255, not {rounds}")
        for what, v in (("lock", lock), ("job", job)):
            if v is not None and not isinstance(v, str):
                raise TypeError(f"{what} is a name (str), not {type(v).__name__}")
        if not isinstance(host_step, bool):
            raise TypeError("host_step is a bool")
        return Outcome._from_native(self._native.run_protocol(bytes(payload), rounds, lock, job, host_step, seconds(timeout)))

    def lock(self, name: str) -> LockHold:
        """A context manager holding the named local lock: ``with node.lock("db"): ...``."""
        if not isinstance(name, str):
            raise TypeError(f"a lock name is a str, not {type(name).__name__}")
        return LockHold(self._native, name)

    def try_lock(self, name: str) -> Optional[LockHold]:
        """The named local lock, held, if it is free now (release it with
        ``with`` or ``release()``); ``None`` otherwise. Never blocks."""
        if not isinstance(name, str):
            raise TypeError(f"a lock name is a str, not {type(name).__name__}")
        guard = self._native.try_lock(name)
        if guard is None:
            return None
        hold = LockHold(self._native, name)
        hold._guard = guard
        return hold

    # -- events ----------------------------------------------------------------

    def fileno(self) -> int:
        """A file descriptor readable while events wait (for ``select``,
        ``selectors`` or ``loop.add_reader(node.fileno(), node.dispatch)``)."""
        return self._native.fileno()

    def on_view(self, callback: F) -> F:
        """Registers ``callback(ViewChanged)``, run by :meth:`dispatch`. Usable as a decorator."""
        self._on_view.append(callback)
        return callback

    def on_suspect(self, callback: F) -> F:
        """Registers ``callback(Suspected)``, run by :meth:`dispatch`."""
        self._on_suspect.append(callback)
        return callback

    def on_change(self, callback: F) -> F:
        """Registers ``callback(ChangeCompleted)``, run by :meth:`dispatch`."""
        self._on_change.append(callback)
        return callback

    def on_protocol(self, callback: F) -> F:
        """Registers ``callback(ProtocolCompleted)``, run by :meth:`dispatch`."""
        self._on_protocol.append(callback)
        return callback

    def on_removed(self, callback: F) -> F:
        """Registers ``callback(Removed)``, run by :meth:`dispatch` when a
        committed node change removed this node (it left the group)."""
        self._on_removed.append(callback)
        return callback

    def set_veto_hook(self, hook: Optional[VetoHook]) -> None:
        """Sets the veto hook, called by :meth:`dispatch` on the dispatching
        thread for every proposed change (the node's configuration must have
        ``veto_hook=True``). Without a hook, dispatch accepts every change."""
        if hook is not None and not callable(hook):
            raise TypeError("the veto hook must be callable or None")
        self._veto_hook = hook

    def set_step_hook(self, hook: Optional[StepHook]) -> None:
        """Sets the hook answering ``host_step`` protocol steps (default: an empty OK)."""
        if hook is not None and not callable(hook):
            raise TypeError("the step hook must be callable or None")
        self._step_hook = hook

    def answer_veto(self, request: Union[VetoRequest, int], reason: Optional[str] = None) -> None:
        """Answers a :class:`cgm.VetoRequest` taken from :meth:`events`: ``reason=None`` accepts."""
        token = request.token if isinstance(request, VetoRequest) else request
        self._native.answer_veto(token, reason)

    def answer_step(self, request: Union[StepRequest, int], payload: bytes = b"", reason: Optional[str] = None) -> None:
        """Answers a :class:`cgm.StepRequest`: status bytes, or a failure ``reason``."""
        token = request.token if isinstance(request, StepRequest) else request
        self._native.answer_step(token, bytes(payload), reason)

    def poll_event(self) -> Optional[Event]:
        """The next event if one waits (never blocks); the caller answers veto and step requests."""
        raw = self._native.poll_event()
        return None if raw is None else _event(raw)

    def events(self, timeout: Optional[Seconds] = None) -> Iterator[Event]:
        """Iterates over events as they come, waiting (GIL released) up to
        ``timeout`` seconds for each (forever for ``None``); ends when none comes
        in time or the node is closed. Veto and step requests are yielded for
        the caller to answer (:meth:`answer_veto`, :meth:`answer_step`)."""
        limit = None if timeout is None else seconds(timeout)
        while True:
            waited = 0.0
            raw: Optional[Dict[str, Any]] = None
            while raw is None:
                if self.closed:
                    return
                step = 0.2 if limit is None else min(0.2, limit - waited)
                try:
                    raw = self._native.next_event(max(step, 0.0))
                except Closed:
                    return
                forward_logs()
                waited += step
                if raw is None and limit is not None and waited >= limit:
                    return
            yield _event(raw)

    def dispatch(self) -> int:
        """Takes every waiting event and runs its callbacks on this thread,
        answering veto requests with the veto hook. Returns the number of events.
        The first exception a callback raised is re-raised after the queue is drained."""
        forward_logs()
        n = 0
        first: Optional[BaseException] = None
        while True:
            raw = self._native.poll_event()
            if raw is None:
                break
            n += 1
            try:
                self._handle(_event(raw))
            except Exception as e:  # noqa: BLE001 - re-raised below
                if first is None:
                    first = e
        if first is not None:
            raise first
        return n

    def _handle(self, ev: Event) -> None:
        if isinstance(ev, VetoRequest):
            self._native.answer_veto(ev.token, self._decide(ev))
        elif isinstance(ev, StepRequest):
            hook = self._step_hook
            if hook is None:
                self._native.answer_step(ev.token, b"", None)
                return
            try:
                payload = hook(ev)
            except Exception as e:  # noqa: BLE001 - the step fails with its text
                self._native.answer_step(ev.token, None, f"{type(e).__name__}: {e}")
                return
            self._native.answer_step(ev.token, bytes(payload), None)
        elif isinstance(ev, ViewChanged):
            for vcb in list(self._on_view):
                vcb(ev)
        elif isinstance(ev, Suspected):
            for scb in list(self._on_suspect):
                scb(ev)
        elif isinstance(ev, ChangeCompleted):
            for ccb in list(self._on_change):
                ccb(ev)
        elif isinstance(ev, Removed):
            for rcb in list(self._on_removed):
                rcb(ev)
        else:
            for pcb in list(self._on_protocol):
                pcb(ev)

    def _decide(self, req: VetoRequest) -> Optional[str]:
        hook = self._veto_hook
        if hook is None:
            return None
        try:
            r = hook(req.changes)
        except Exception as e:  # noqa: BLE001 - an exception vetoes with its text
            return str(e) or type(e).__name__
        if r is None or r is True:
            return None
        if r is False:
            return "vetoed by the host"
        if isinstance(r, str):
            return r
        return f"the veto hook returned {r!r}"


class LocalCluster:
    """``n`` nodes on loopback (free ports) with an in-memory key and fast
    heartbeats, for tests and notebooks::

        with cgm.LocalCluster(3) as cluster:
            print(cluster[0].query_status(2))

    ``cluster[i]`` is a :class:`Node` (node id ``i + 1``). Every node asks its
    host's veto hook (``cluster[i].set_veto_hook(...)``); with
    ``dispatch="thread"`` (the default) a background thread runs
    ``dispatch()`` for every node, so callbacks and hooks run there. With
    ``dispatch="manual"`` the caller dispatches (e.g. from asyncio).
    """

    FAST_PARAMS: Mapping[Param, int] = {
        Param.HEARTBEAT_INTERVAL: 100,
        Param.HEARTBEAT_TIMEOUT: 400,
        Param.HEARTBEAT_ACK_TIMEOUT: 400,
    }

    def __init__(
        self,
        n: int = 5,
        *,
        params: Optional[Mapping[ParamKey, ParamValue]] = None,
        veto_hooks: bool = True,
        veto_timeout: Seconds = 5.0,
        dispatch: str = "thread",
        encrypt: bool = False,
        host: str = "127.0.0.1",
        start_timeout: Seconds = 30.0,
    ) -> None:
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n is an int, not {type(n).__name__}")
        if not 1 <= n <= 64:
            raise InvalidArgument(f"a LocalCluster has 1..=64 nodes, not {n}")
        if dispatch not in ("thread", "manual"):
            raise InvalidArgument(f"dispatch is 'thread' or 'manual', not {dispatch!r}")
        merged: Dict[ParamKey, ParamValue] = {k: v for k, v in self.FAST_PARAMS.items()}
        merged.update(params or {})
        key = _cgm.generate_key()
        addrs = {i + 1: f"{host}:{p}" for i, p in enumerate(_cgm.free_ports(host, n))}
        self.nodes: List[Node] = []
        self._stop: Optional[threading.Event] = None
        self._thread: Optional[threading.Thread] = None
        self._wake_r, self._wake_w = socket.socketpair()
        try:
            for i in range(1, n + 1):
                cfg = Config(
                    node_id=i,
                    nodes=addrs,
                    cluster="local",
                    key=key,
                    encrypt=encrypt,
                    params=merged,
                    veto_hook=veto_hooks,
                    veto_timeout=veto_timeout,
                )
                self.nodes.append(Node(cfg))
            if dispatch == "thread":
                self._start_dispatcher()
            t = seconds(start_timeout, "start_timeout")
            for node in self.nodes:
                node.wait_members(n, t)
        except BaseException:
            self.close()
            raise

    def _start_dispatcher(self) -> None:
        stop = threading.Event()
        sel = selectors.DefaultSelector()
        for node in self.nodes:
            sel.register(node.fileno(), selectors.EVENT_READ, node)
        sel.register(self._wake_r, selectors.EVENT_READ, None)

        def run() -> None:
            try:
                while not stop.is_set():
                    for key, _ in sel.select(timeout=0.5):
                        node = key.data
                        if node is None or stop.is_set():
                            continue
                        try:
                            node.dispatch()
                        except Closed:
                            pass
                        except Exception:  # noqa: BLE001 - a callback's error must not stop the others
                            _log.exception("cgm.LocalCluster: a callback of node %d raised", node.id)
                    forward_logs()
            finally:
                sel.close()

        self._stop = stop
        self._thread = threading.Thread(target=run, name="cgm-local-cluster-dispatch", daemon=True)
        self._thread.start()

    def __getitem__(self, i: int) -> Node:
        return self.nodes[i]

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def statuses(self, timeout: Seconds = 2.0) -> List[Status]:
        """Every member's status, each answered by that member (asked through node 1)."""
        first = self.nodes[0]
        return [first.query_status(node.id, timeout) for node in self.nodes]

    def close(self) -> None:
        """Stops the dispatching thread and every node (each leaves gracefully). Idempotent."""
        if self._stop is not None and self._thread is not None:
            self._stop.set()
            try:
                self._wake_w.send(b"x")
            except OSError:
                pass
            self._thread.join()
            self._stop = None
            self._thread = None
        for node in reversed(self.nodes):
            node.close()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, t: Optional[Type[BaseException]], e: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<cgm.LocalCluster n={len(self.nodes)}>"
