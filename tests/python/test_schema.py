"""One JSON schema for status and outcome: Python's ``to_dict()``, ``cgm status
--json`` / ``cgm set --json`` (the CLI) and C's ``cgm_status_to_json`` (libcgm
through ctypes) say the same of the same member."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

import cgm

CGM_BIN = os.environ.get("CGM_BIN", "")
CGM_LIB = os.environ.get("CGM_LIB", "")

# What does not change between two answers of one idle member a moment apart.
STABLE = ("schema", "node", "incarnation", "view", "members", "coordinator", "quorum", "phase", "completed",
          "params", "configured", "generation", "switch_over_pending", "not_acked", "waiting", "protocol")


def shape(v: Any) -> Any:
    """The keys of every object, recursively: the schema a value follows."""
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [shape(x) for x in v[:1]]
    return type(v).__name__ if v is not None else None


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[Dict[str, Any]]:
    if not CGM_BIN or not CGM_LIB:
        pytest.fail("CGM_BIN and CGM_LIB must name the cgm binary and libcgm.so (tests/python/run.sh sets them)")
    key = tmp_path / "cluster.key"
    subprocess.run([CGM_BIN, "keygen", "-o", str(key)], check=True, capture_output=True)
    ports = cgm._cgm.free_ports("127.0.0.1", 3)
    addrs = {i + 1: f"127.0.0.1:{p}" for i, p in enumerate(ports)}
    nodes: List[cgm.Node] = []
    try:
        for i in addrs:
            nodes.append(cgm.Node(cgm.Config(node_id=i, nodes=addrs, cluster="schema", key_file=key,
                                             params=dict(cgm.LocalCluster.FAST_PARAMS))))
        for n in nodes:
            n.wait_members(3, 20.0)
        toml = tmp_path / "node1.toml"
        lines = ['cluster = "schema"', "node_id = 1", f'key_file = "{key}"']
        for i, a in addrs.items():
            lines += ["[[nodes]]", f"id = {i}", f'addr = "{a}"']
        toml.write_text("\n".join(lines) + "\n")
        yield {"nodes": nodes, "toml": toml}
    finally:
        for n in nodes:
            n.close()


def c_status_json(toml: Path, member: int) -> Dict[str, Any]:
    lib = ctypes.CDLL(CGM_LIB)
    cfg, st, out = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_char_p()
    assert lib.cgm_config_load_file(str(toml).encode(), ctypes.byref(cfg)) == 0
    try:
        assert lib.cgm_operator_query_status(cfg, member, 2000, ctypes.byref(st)) == 0
        assert lib.cgm_status_to_json(st, ctypes.byref(out)) == 0
        assert out.value is not None
        text = out.value.decode()
        lib.cgm_string_free(out)
        lib.cgm_status_free(st)
    finally:
        lib.cgm_config_free(cfg)
    d: Dict[str, Any] = json.loads(text)
    return d


def test_python_the_cli_and_c_give_one_status_schema_for_the_same_member(keyed: Dict[str, Any]) -> None:
    py = keyed["nodes"][0].query_status(2).to_dict()
    cli = json.loads(subprocess.run([CGM_BIN, "status", "-c", str(keyed["toml"]), "--member", "2", "--json"],
                                    check=True, capture_output=True, text=True).stdout)
    c = c_status_json(keyed["toml"], 2)
    assert py["schema"] == 1 and py["node"] == 2
    assert py["params"]["heartbeat-interval"] == 100 and len(py["params"]) == 11
    assert shape(py) == shape(cli) == shape(c)
    for key in STABLE:
        assert py[key] == cli[key] == c[key], key


def test_python_and_the_cli_give_one_outcome_schema(keyed: Dict[str, Any]) -> None:
    o = keyed["nodes"][0].propose({"send-window-size": 40}, timeout=10.0).to_dict()
    out = subprocess.run([CGM_BIN, "set", "-c", str(keyed["toml"]), "--json", "send-window-size=41"],
                         check=True, capture_output=True, text=True).stdout
    cli = json.loads(out)
    assert shape(o) == shape(cli)
    assert (o["kind"], o["committed"], cli["committed"], cli["generation"]) == ("param-change", True, True, o["generation"] + 1)
