"""The cluster's node set changes at runtime: ``Node.change_nodes``,
``add_node`` and ``remove_node``, seen in ``Status.nodes``."""

from __future__ import annotations

import time
from typing import Dict, Iterator, List

import pytest

import cgm

from conftest import eventually


def start(node_id: int, nodes: Dict[int, str], key: bytes, join: bool = False) -> cgm.Node:
    return cgm.Node(cgm.Config(node_id=node_id, nodes=nodes, cluster="grow", key=key, params=dict(cgm.LocalCluster.FAST_PARAMS), join=join))


@pytest.fixture
def grown() -> Iterator[Dict[str, object]]:
    """Three running nodes and the address and key a fourth would use."""
    key = cgm._cgm.generate_key()
    addrs = {i + 1: f"127.0.0.1:{p}" for i, p in enumerate(cgm._cgm.free_ports("127.0.0.1", 4))}
    three = {i: addrs[i] for i in (1, 2, 3)}
    nodes: List[cgm.Node] = []
    try:
        for i in three:
            nodes.append(start(i, three, key))
        for n in nodes:
            n.wait_members(3, 20.0)
        yield {"nodes": nodes, "addrs": addrs, "key": key}
    finally:
        for n in reversed(nodes):
            n.close()


def test_a_fourth_node_joins_with_a_file_of_two_and_takes_the_node_set_by_state_transfer(grown: Dict[str, object]) -> None:
    nodes: List[cgm.Node] = grown["nodes"]  # type: ignore[assignment]
    addrs: Dict[int, str] = grown["addrs"]  # type: ignore[assignment]
    key: bytes = grown["key"]  # type: ignore[assignment]
    three = {i: addrs[i] for i in (1, 2, 3)}
    s = nodes[0].status()
    assert dict(s.nodes) == three and dict(s.configured_nodes) == three
    assert s.to_dict()["nodes"] == [{"id": i, "address": a} for i, a in three.items()]

    o = nodes[0].add_node(4, addrs[4])
    assert isinstance(o, cgm.ChangeOutcome)
    assert o.committed and o.kind == "node-change" and o.proposal[0] == 1
    for n in nodes:
        eventually(lambda n=n: dict(n.status().nodes) == addrs, what=f"node {n.id} holding the node set of four")
    # The fourth node's configuration lists only itself and node 1.
    fourth = start(4, {1: addrs[1], 4: addrs[4]}, key, join=True)
    nodes.append(fourth)
    assert fourth.wait_members(4, 20.0).members == (1, 2, 3, 4)
    eventually(lambda: dict(fourth.status().nodes) == addrs, what="the fourth node taking the node set by state transfer")
    assert dict(fourth.status().configured_nodes) == {1: addrs[1], 4: addrs[4]}
    for n in nodes[:3]:
        n.wait_members(4, 20.0)
    assert dict(nodes[2].query_status(4).nodes) == addrs
    # It is a member like the others: a change it proposes commits everywhere.
    assert fourth.propose(cgm.Param.SEND_WINDOW_SIZE, 48).committed
    for n in nodes:
        eventually(lambda n=n: n.status().params[cgm.Param.SEND_WINDOW_SIZE] == 48, what=f"node {n.id} applying the change")

    # Removed again, the three go on as the cluster.
    gone = nodes[1].remove_node(4)
    assert gone.committed and gone.kind == "node-change" and gone.generation > o.generation
    for n in nodes[:3]:
        n.wait_members(3, 20.0)
        assert dict(n.status().nodes) == three


def test_a_node_started_before_it_is_added_is_refused_and_told_why(grown: Dict[str, object]) -> None:
    nodes: List[cgm.Node] = grown["nodes"]  # type: ignore[assignment]
    addrs: Dict[int, str] = grown["addrs"]  # type: ignore[assignment]
    key: bytes = grown["key"]  # type: ignore[assignment]
    fourth = start(4, {1: addrs[1], 4: addrs[4]}, key)
    try:
        eventually(lambda: fourth.status().refused is not None, what="node 4 told why it is refused")
        s = fourth.status()
        assert s.refused is not None
        assert isinstance(s.refused, cgm.Refusal)
        assert s.refused.by == 1 and s.refused.nodes == (1, 2, 3) and s.refused.ago >= 0
        assert s.to_dict()["refused"]["nodes"] == [1, 2, 3]
        assert "REFUSED by member 1" in str(s) and "cgm nodes add 4" in str(s)
        assert not s.quorum and nodes[0].status().counters["refused"] > 0
        assert nodes[0].status().refused is None
        # Added, it gets in, and the refusal is gone.
        assert nodes[1].add_node(4, addrs[4]).committed
        assert fourth.wait_members(4, 20.0).members == (1, 2, 3, 4)
        assert fourth.status().refused is None
    finally:
        fourth.close()


def test_a_removed_member_gets_a_removed_event_and_leaves(grown: Dict[str, object]) -> None:
    nodes: List[cgm.Node] = grown["nodes"]  # type: ignore[assignment]
    addrs: Dict[int, str] = grown["addrs"]  # type: ignore[assignment]
    third = nodes[2]
    seen: List[str] = []
    removed: List[cgm.Removed] = []
    third.on_protocol(lambda ev: seen.append(ev.outcome.kind))
    third.on_removed(removed.append)
    gone = nodes[0].change_nodes(remove=[3])
    assert gone.committed and gone.kind == "node-change"

    def told() -> bool:
        third.dispatch()
        return bool(removed)

    eventually(told, timeout=10.0, what="node 3's Removed event")
    assert removed == [cgm.Removed(generation=gone.generation)]
    assert seen == ["node-change"]  # the outcome came first
    eventually(lambda: third.status().phase == "left", what="node 3 leaving")
    for n in nodes[:2]:
        n.wait_members(2, 20.0)
        assert dict(n.status().nodes) == {1: addrs[1], 2: addrs[2]}
    # A removed node is no member any more: it proposes nothing.
    with pytest.raises(cgm.NotMember):
        third.add_node(4, addrs[4])


def test_bad_node_changes_raise_clear_errors_and_change_nothing(grown: Dict[str, object]) -> None:
    nodes: List[cgm.Node] = grown["nodes"]  # type: ignore[assignment]
    addrs: Dict[int, str] = grown["addrs"]  # type: ignore[assignment]
    node = nodes[0]
    before = node.status()
    with pytest.raises(cgm.InvalidArgument, match="not ip:port"):
        node.add_node(4, "localhost:7000")
    with pytest.raises(cgm.InvalidArgument, match="port other than 0"):
        node.add_node(4, "127.0.0.1:0")
    with pytest.raises(cgm.InvalidArgument, match="node 2 is already in the cluster"):
        node.add_node(2, addrs[4])
    with pytest.raises(cgm.InvalidArgument, match="which node 1 has"):
        node.add_node(4, addrs[1])
    with pytest.raises(cgm.InvalidArgument, match="reserved"):
        node.add_node(0, addrs[4])
    with pytest.raises(cgm.InvalidArgument, match="node 9 is not in the cluster"):
        node.remove_node(9)
    with pytest.raises(cgm.InvalidArgument, match="both added and removed"):
        node.change_nodes({4: addrs[4]}, remove=[4])
    with pytest.raises(cgm.InvalidArgument, match="adds and removes nothing"):
        node.change_nodes()
    with pytest.raises(cgm.InvalidArgument, match="majority"):
        node.change_nodes(remove=[2, 3])
    with pytest.raises(cgm.InvalidArgument, match="not a node id"):
        node.add_node(-1, addrs[4])
    with pytest.raises(cgm.InvalidArgument, match="not a node id"):
        node.remove_node(2**32)
    with pytest.raises(TypeError):
        node.add_node("4", addrs[4])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        node.add_node(4, 7000)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        node.remove_node(True)
    with pytest.raises(TypeError):
        node.change_nodes(remove="23")
    with pytest.raises(TypeError):
        node.change_nodes([(4, addrs[4])])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        node.add_node(4, addrs[4], txid="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Config.join"):
        cgm.Node(cgm.Config(node_id=4, nodes={1: addrs[1], 4: addrs[4]}, key=b"k" * 32, join="yes"))  # type: ignore[arg-type]
    with pytest.raises(cgm.InvalidArgument, match="lists no member to contact"):
        cgm.Node(cgm.Config(node_id=4, nodes={4: addrs[4]}, key=b"k" * 32, join=True))
    time.sleep(0.3)
    for n in nodes:
        s = n.status()
        assert dict(s.nodes) == dict(before.nodes)
        assert s.generation == before.generation and s.completed == before.completed
    # The errors carry the C result code.
    with pytest.raises(cgm.InvalidArgument) as e:
        node.add_node(4, "localhost:7000")
    assert e.value.code == cgm.Result.INVALID_ARGUMENT
