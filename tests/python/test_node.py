"""The Python API end to end on a LocalCluster on loopback."""

from __future__ import annotations

import datetime
import logging
import os
import threading
import time

import pytest

import cgm
from cgm import Param

from conftest import eventually


def test_every_member_answers_a_status_query_about_itself(cluster: cgm.LocalCluster) -> None:
    ids = tuple(n.id for n in cluster)
    assert ids == (1, 2, 3, 4, 5)
    for asker in cluster:
        for member in ids:
            s = asker.query_status(member, timeout=2.0)
            assert isinstance(s, cgm.Status)
            assert s.node == member
            assert s.members == ids
            assert s.quorum
            assert s.coordinator == 1
            assert s.phase == "idle"
            assert s.params[Param.HEARTBEAT_INTERVAL] == 100
            assert s.damped == ()  # nobody flapped
    s = cluster[1].query_status()
    assert s.node == 2
    assert "member 2" in str(s) and "quorum yes" in str(s)
    assert repr(s).startswith("Status(node=2, view=")
    d = s.to_dict()
    assert d["node"] == 2 and d["params"]["heartbeat-interval"] == 100 and d["damped"] == []
    with pytest.raises(dataclasses_frozen_error()):
        s.node = 3  # type: ignore[misc]


def dataclasses_frozen_error() -> type:
    import dataclasses

    return dataclasses.FrozenInstanceError


def test_a_change_commits_on_every_member(cluster: cgm.LocalCluster) -> None:
    o = cluster[2].propose(
        {
            Param.HEARTBEAT_INTERVAL: "150ms",
            Param.HEARTBEAT_TIMEOUT: datetime.timedelta(milliseconds=600),
            "heartbeat-ack-timeout": 600.0,
            Param.SEND_WINDOW_SIZE: 48,
        },
        timeout=10.0,
    )
    assert isinstance(o, cgm.ChangeOutcome)
    assert o.committed and o.kind == "param-change" and o.generation == 1
    assert o.proposal[0] == 3
    assert "committed" in repr(o)
    assert o.to_dict()["committed"] is True
    for member in range(1, 6):

        def applied(m: int = member) -> bool:
            p = cluster[0].query_status(m).params
            return p[Param.HEARTBEAT_INTERVAL] == 150 and p[Param.HEARTBEAT_TIMEOUT] == 600 and p[Param.SEND_WINDOW_SIZE] == 48

        eventually(applied, what=f"member {member} applying the change")
    p = cluster[4].params()
    assert p["effective"][Param.SEND_WINDOW_SIZE] == 48
    assert p["configured"][Param.SEND_WINDOW_SIZE] == 64
    assert p["generation"] == 1
    # The one-parameter form.
    o2 = cluster[0].propose(Param.MAX_FRAGMENT_SIZE, "1200")
    assert o2.committed and o2.generation == 2


def test_a_python_veto_rolls_the_change_back_everywhere(cluster: cgm.LocalCluster) -> None:
    asked: list[dict[Param, int]] = []
    threads: list[str] = []

    def hook(changes: object) -> None:
        assert isinstance(changes, dict) or hasattr(changes, "items")
        asked.append(dict(changes))  # type: ignore[call-overload]
        threads.append(threading.current_thread().name)
        raise RuntimeError("maintenance window closed")

    cluster[3].set_veto_hook(hook)
    with pytest.raises(cgm.Vetoed) as info:
        cluster[0].propose({Param.SEND_WINDOW_SIZE: 32}, timeout=10.0)
    e = info.value
    assert isinstance(e, cgm.RolledBack) and isinstance(e, cgm.CgmError)
    assert e.code == cgm.Result.VETOED == 7
    assert e.outcome is not None and not e.outcome.committed
    assert e.outcome.vetoed_by == (4,)
    assert "maintenance window closed" in (e.outcome.reason or "")
    assert asked == [{Param.SEND_WINDOW_SIZE: 32}]
    assert threads == ["cgm-local-cluster-dispatch"]
    for node in cluster:  # each member decides when round 2's last ACK reaches it
        assert not node.outcome(e.outcome.proposal).committed
    for member in range(1, 6):
        s = cluster[1].query_status(member)
        assert s.params[Param.SEND_WINDOW_SIZE] == 64
        assert s.generation == 0
    # A hook that returns a reason vetoes too; one that accepts lets it commit.
    cluster[3].set_veto_hook(lambda changes: "not today")
    with pytest.raises(cgm.Vetoed, match="not today"):
        cluster[2].propose(Param.SEND_WINDOW_SIZE, 32)
    cluster[3].set_veto_hook(lambda changes: None)
    assert cluster[2].propose(Param.SEND_WINDOW_SIZE, 32).committed


def test_a_member_blocked_on_a_held_lock_answers_a_query_that_names_the_lock(cluster3: cgm.LocalCluster) -> None:
    result: list[object] = []
    with cluster3[2].lock("db") as hold:
        assert hold.held
        # One round: cgm-runtime deadlocks a member on its own lock when a
        # multi-round protocol waits on a lock again in round 2 (reported).
        t = threading.Thread(target=lambda: result.append(cluster3[0].run_protocol(b"payload", rounds=1, lock="db", timeout=20.0)))
        t.start()

        def blocked() -> bool:
            s = cluster3[0].query_status(3)
            return s.phase == "waiting-local" and s.waiting is not None and s.waiting.kind == "lock"

        eventually(blocked, what="member 3 waiting on the lock")
        s = cluster3[0].query_status(3)
        assert s.waiting is not None and s.waiting.name == "db"
        assert 'lock "db"' in str(s)
        assert s.protocol is not None and s.protocol.kind == "app"
        eventually(lambda: 3 in cluster3[0].query_status(1).not_acked, what="member 1 naming member 3 as not ACKed")
        assert t.is_alive()
        assert cluster3[2].try_lock("db") is None
    t.join(20)
    assert not t.is_alive()
    (o,) = result
    assert isinstance(o, cgm.Outcome) and o.committed and o.kind == "app"
    # Member 3 gives the lock up when it completes the protocol too.
    free = None
    for _ in range(500):
        free = cluster3[2].try_lock("db")
        if free is not None:
            break
        time.sleep(0.01)
    assert free is not None and free.held
    with free:
        pass
    assert not free.held


def test_wrong_types_raise_type_error_and_bad_values_invalid_parameter(cluster3: cgm.LocalCluster) -> None:
    n = cluster3[0]
    for bad_type in (True, None, object(), [1], b"500ms"):
        with pytest.raises(TypeError):
            n.propose(Param.SEND_WINDOW_SIZE, bad_type)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        n.propose(Param.MAX_FRAGMENT_SIZE, datetime.timedelta(seconds=1))
    with pytest.raises(TypeError):
        n.propose(1.5, 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        n.propose({Param.SEND_WINDOW_SIZE: 3}, 4)
    with pytest.raises(TypeError):
        n.query_status("2")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        n.query_status(2, timeout="1s")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cgm.Node(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cgm.Node({"node_id": 1})
    with pytest.raises(TypeError):
        n.lock(7)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        n.run_protocol("text")  # type: ignore[arg-type]
    bad_values: list[dict[cgm.ParamKey, cgm.ParamValue]] = [
        {Param.HEARTBEAT_INTERVAL: 0},
        {Param.HEARTBEAT_INTERVAL: -5},
        {Param.HEARTBEAT_INTERVAL: "5 parsecs"},
        {Param.HEARTBEAT_INTERVAL: 1.5},
        {Param.HEARTBEAT_INTERVAL: datetime.timedelta(microseconds=1500)},
        {Param.SEND_WINDOW_SIZE: 2**70},
        {Param.MAX_FRAGMENT_SIZE: 100},
        {Param.HEARTBEAT_INTERVAL: 500, Param.HEARTBEAT_TIMEOUT: 400},  # interval must stay below the timeout
        {"no-such-parameter": 1},
        {99: 1},
    ]
    for changes in bad_values:
        with pytest.raises(cgm.InvalidParameter) as info:
            n.propose(changes)
        assert info.value.code == cgm.Result.INVALID_PARAMETER == 3
        assert isinstance(info.value, ValueError)
    for member in (1, 2, 3):
        assert n.query_status(member).generation == 0
    with pytest.raises(cgm.InvalidArgument):
        n.query_status(2, timeout=-1)
    with pytest.raises(cgm.InvalidArgument):
        n.run_protocol(b"x", rounds=0)
    with pytest.raises(cgm.InvalidArgument, match="larger than the largest"):
        n.run_protocol(bytes((1 << 20) + 1))
    with pytest.raises(cgm.InvalidArgument) as cfg_err:
        cgm.Node(cgm.Config(node_id=1, nodes={1: "127.0.0.1:1"}))  # no key and not insecure
    assert cfg_err.value.code == cgm.Result.INVALID_ARGUMENT
    with pytest.raises(cgm.InvalidParameter):
        cgm.Node({"node_id": 1, "nodes": {1: "127.0.0.1:1"}, "insecure": True, "params": {"send-window-size": 0}})
    # A cross-parameter refusal names the parameter being set and the value it conflicts with.
    with pytest.raises(cgm.InvalidParameter) as rule:
        cgm.Node({"node_id": 1, "nodes": {1: "127.0.0.1:1"}, "insecure": True, "params": {"heartbeat-interval": 4000}})
    assert "heartbeat-interval = 4000 is invalid: must be below heartbeat-timeout (3000ms)" in str(rule.value)
    with pytest.raises(cgm.InvalidParameter) as rule:
        n.propose({Param.MESSAGE_RETRY_TIMER: "10s"})
    assert "message-retry-timer = 10000 is invalid: must be below max-message-retry-time" in str(rule.value)


def test_exceptions_carry_the_c_result_codes() -> None:
    assert issubclass(cgm.Timeout, TimeoutError) and issubclass(cgm.Timeout, cgm.CgmError)
    assert issubclass(cgm.InvalidParameter, ValueError)
    assert issubclass(cgm.Vetoed, cgm.RolledBack)
    e = cgm.Timeout("timed out", 5, proposal=(1, 2))
    assert e.code == cgm.Result.TIMEOUT and e.proposal == (1, 2) and str(e) == "timed out"
    assert cgm.Closed("x").code == cgm.Result.SHUT_DOWN == 14
    assert [r.value for r in cgm.Result] == list(range(16))
    assert [p.value for p in cgm.Param] == list(range(11))
    assert [p.canonical_name for p in cgm.Param][:2] == ["heartbeat-interval", "heartbeat-timeout"]
    assert cgm.Param.of("HEARTBEAT_TIMEOUT") is cgm.Param.HEARTBEAT_TIMEOUT
    assert cgm.Param.of("send_window_size") is cgm.Param.SEND_WINDOW_SIZE


def test_a_closed_node_raises_closed_and_close_is_idempotent() -> None:
    with cgm.LocalCluster(3) as c:
        c[2].close()
        c[2].close()
        assert c[2].closed
        with pytest.raises(cgm.Closed) as info:
            c[2].status()
        assert info.value.code == cgm.Result.SHUT_DOWN
        eventually(lambda: c[0].status().members == (1, 2), what="the view without node 3")
        # Asking a member that left: it is no longer a member, or no answer comes.
        with pytest.raises((cgm.Timeout, cgm.NotMember)):
            c[0].query_status(3, timeout=0.2)


def test_a_forked_child_gets_closed(cluster3: cgm.LocalCluster) -> None:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            cluster3[0].status()
        except cgm.Closed:
            code = 0
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert cluster3[0].status().quorum  # the parent's node is untouched


def test_events_iterator_delivers_views_and_outcomes() -> None:
    with cgm.LocalCluster(2, veto_hooks=False, dispatch="manual") as c:
        assert c[1].propose(Param.SEND_WINDOW_SIZE, 40).committed
        seen: list[cgm.Event] = []
        for ev in c[0].events(timeout=1.0):
            seen.append(ev)
            if isinstance(ev, cgm.ChangeCompleted):
                break
        assert any(isinstance(e, cgm.ViewChanged) and e.members == (1, 2) for e in seen)
        change = seen[-1]
        assert isinstance(change, cgm.ChangeCompleted) and change.committed


def test_node_from_a_toml_file_and_native_logs_reach_python_logging(tmp_path: "os.PathLike[str]", caplog: pytest.LogCaptureFixture) -> None:
    import socket

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    path = os.path.join(os.fspath(tmp_path), "node1.toml")
    with open(path, "w") as f:
        f.write(
            f'cluster = "solo"\nnode_id = 1\ninsecure = true\nquorum = "none"\n'
            f'[[nodes]]\nid = 1\naddr = "127.0.0.1:{port}"\n[params]\nheartbeat-interval = "200ms"\n'
        )
    caplog.set_level(logging.WARNING, logger="cgm")
    with cgm.Node.from_file(path) as node:
        s1 = node.wait_ready(5.0)
        assert s1.members == (1,)
        assert node.params()["configured"][Param.HEARTBEAT_INTERVAL] == 200
        node.dispatch()
    assert any("insecure" in r.getMessage() and r.name == "cgm" for r in caplog.records)
    with pytest.raises(cgm.InvalidArgument, match="node1.toml"):
        with open(path, "a") as f:
            f.write("bogus-key = 1\n")
        cgm.Node.from_file(path)


def test_a_node_with_a_state_dir_restarts_with_its_committed_values_and_refuses_a_damaged_state(tmp_path: "os.PathLike[str]") -> None:
    import socket

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    state = os.path.join(os.fspath(tmp_path), "state")
    config = cgm.Config(node_id=1, nodes={1: f"127.0.0.1:{port}"}, insecure=True, state_dir=state)
    with cgm.Node(config) as node:
        node.wait_ready(5.0)
        outcome = node.propose(Param.SEND_WINDOW_SIZE, 40)
        assert outcome.committed
    # Started again from the same directory: the committed value and its generation.
    with cgm.Node(config) as node:
        node.wait_ready(5.0)
        p = node.params()
        assert p["effective"][Param.SEND_WINDOW_SIZE] == 40
        assert p["configured"][Param.SEND_WINDOW_SIZE] == 64
        assert p["generation"] == outcome.generation
    # A damaged state file (a bit flipped in each of its two slots) is
    # refused, named, and left as it is.
    path = os.path.join(state, "state")
    half = os.path.getsize(path) // 2
    with open(path, "r+b") as f:
        for at in (40, half + 40):
            f.seek(at)
            byte = f.read(1)
            f.seek(at)
            f.write(bytes([byte[0] ^ 0x40]))
    with open(path, "rb") as f:
        damaged = f.read()
    with pytest.raises(cgm.InvalidArgument, match="checksum mismatch") as info:
        cgm.Node(config)
    assert path in str(info.value)
    with open(path, "rb") as f:
        assert f.read() == damaged
    with pytest.raises(TypeError):
        cgm.Node(cgm.Config(node_id=1, nodes={1: f"127.0.0.1:{port}"}, insecure=True, state_dir=5))  # type: ignore[arg-type]


def test_the_cluster_key_rotates_by_transaction_and_every_member_runs_under_the_new_key(
    cluster3: cgm.LocalCluster, tmp_path: "os.PathLike[str]"
) -> None:
    before = cluster3[1].query_status().keys
    assert before["committed"] == before["sending"] == before["configured"]
    assert before["accepting"] == (before["committed"],) and not before["rotating"]
    path = os.path.join(os.fspath(tmp_path), "cluster-2.key")
    with open(path, "wb") as f:
        f.write(os.urandom(32))
    outcome = cluster3[0].rotate_key(path)
    assert outcome.committed and outcome.kind == "key-rotation"
    for node in cluster3:
        k = cluster3[0].query_status(node.id).keys
        assert k["committed"] == k["sending"] != before["committed"]
        assert k["configured"] == before["configured"]
        assert not k["rotating"]
    assert "key " + cluster3[2].status().keys["committed"] in str(cluster3[2].status())
    # Refused before anything is sent: not a key, the key in force, not a path.
    short = os.path.join(os.fspath(tmp_path), "short.key")
    with open(short, "wb") as f:
        f.write(b"too short")
    with pytest.raises(cgm.InvalidArgument, match="32 bytes"):
        cluster3[0].rotate_key(short)
    with pytest.raises(cgm.InvalidArgument, match="already the cluster's key"):
        cluster3[0].rotate_key(path)
    with pytest.raises(cgm.InvalidArgument, match="nonexistent"):
        cluster3[0].rotate_key("/nonexistent/cgm.key")
    with pytest.raises(TypeError):
        cluster3[0].rotate_key(42)  # type: ignore[arg-type]
    assert cluster3[0].status().generation == outcome.generation
