"""`cgm node`'s metrics endpoint (`[metrics] listen`) and `cgm status
--format prometheus`, read by a real parser: the Prometheus project's own
Python client's strict OpenMetrics parser."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.parser import text_string_to_metric_families

import cgm

CGM_BIN = os.environ.get("CGM_BIN", "")
DASHBOARD = Path(__file__).resolve().parents[2] / "packaging" / "grafana" / "libcgm-dashboard.json"


def families(text: str) -> Dict[str, Metric]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def value(fam: Metric, suffix: str = "", **labels: str) -> float:
    """The one sample of `fam` (name + suffix) with these labels."""
    got = [s.value for s in fam.samples if s.name == fam.name + suffix and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(got) == 1, f"{fam.name}{suffix} {labels}: {fam.samples}"
    return float(got[0])


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Dict[str, object]]:
    if not CGM_BIN:
        pytest.fail("CGM_BIN must name the cgm binary (tests/python/run.sh sets it)")
    key = tmp_path / "cluster.key"
    subprocess.run([CGM_BIN, "keygen", "-o", str(key)], check=True, capture_output=True)
    *ports, metrics_port = cgm._cgm.free_ports("127.0.0.1", 4)
    procs: List[subprocess.Popen] = []
    try:
        for i in (1, 2, 3):
            lines = ['cluster = "metrics"', f"node_id = {i}", f'key_file = "{key}"', 'quorum = "majority"',
                     f'state_dir = "state-{i}"']
            if i == 1:
                lines += ["[metrics]", f'listen = "127.0.0.1:{metrics_port}"']
            for j, p in enumerate(ports, 1):
                lines += ["[[nodes]]", f"id = {j}", f'addr = "127.0.0.1:{p}"']
            (tmp_path / f"node{i}.toml").write_text("\n".join(lines) + "\n")
            procs.append(subprocess.Popen([CGM_BIN, "node", "-c", str(tmp_path / f"node{i}.toml")],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        end = time.monotonic() + 20
        while True:
            r = subprocess.run([CGM_BIN, "status", "-c", str(tmp_path / "node1.toml"), "--json"], capture_output=True, text=True)
            if r.returncode == 0 and len(json.loads(r.stdout)["members"]) == 3:
                break
            assert time.monotonic() < end, f"no view of 3: {r.stdout} {r.stderr}"
            time.sleep(0.1)
        yield {"dir": tmp_path, "url": f"http://127.0.0.1:{metrics_port}"}
    finally:
        for p in procs:
            p.terminate()
            p.wait()


def test_the_endpoint_serves_what_a_strict_openmetrics_parser_reads(cluster: Dict[str, object]) -> None:
    d, url = cluster["dir"], cluster["url"]
    assert isinstance(d, Path) and isinstance(url, str)
    for v in (33, 34, 35):
        subprocess.run([CGM_BIN, "set", "-c", str(d / "node2.toml"), f"send-window-size={v}"], check=True, capture_output=True)
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        assert r.headers["Content-Type"].startswith("application/openmetrics-text")
        text = r.read().decode()
    f = families(text)
    assert value(f["cgm_view_members"], node="1") == 3
    assert value(f["cgm_quorum"], node="1") == 1
    assert value(f["cgm_changes_committed"], "_total", node="1") >= 3
    assert value(f["cgm_datagrams_sent"], "_total", node="1") > 0
    assert value(f["cgm_param"], node="1", name="send-window-size") == 35
    assert {s.labels["peer"] for s in f["cgm_peer_ack_lag_rounds"].samples} == {"2", "3"}
    assert {s.labels["reason"] for s in f["cgm_dropped"].samples} >= {"auth", "replay", "malformed"}
    # The histograms: cumulative buckets ending in +Inf, which holds them all.
    for name, at_least in (("cgm_change_seconds", 3), ("cgm_ack_round_seconds", 6)):
        h = f[name]
        assert h.type == "histogram"
        count = value(h, "_count")
        assert count >= at_least, f"{name}: {count}"
        buckets = [(s.labels["le"], s.value) for s in h.samples if s.name == name + "_bucket"]
        assert buckets[-1] == ("+Inf", count)
        assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))
        assert 0 < value(h, "_sum") < count * 10
    # Every series the shipped Grafana dashboard queries is served.
    served = {s.name for fam in f.values() for s in fam.samples}
    dashboard = json.loads(DASHBOARD.read_text())
    queried = {m for p in dashboard["panels"] for t in p["targets"] for m in re.findall(r"\bcgm_[a-z_]+", t["expr"])}
    assert len(queried) >= 15 and queried <= served, f"the dashboard queries what is not served: {sorted(queried - served)}"
    # Only /metrics is served.
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url + "/", timeout=5)
    assert e.value.code == 404
    e.value.close()


def test_cgm_status_prints_any_members_figures_in_the_same_exposition(cluster: Dict[str, object]) -> None:
    d = cluster["dir"]
    assert isinstance(d, Path)
    r = subprocess.run([CGM_BIN, "status", "-c", str(d / "node1.toml"), "--member", "3", "--format", "prometheus"],
                       check=True, capture_output=True, text=True)
    f = families(r.stdout)
    assert value(f["cgm_view_members"], node="3") == 3
    assert {s.labels["peer"] for s in f["cgm_peer_last_ack_round"].samples} == {"1", "2"}
    # A member's local figures stay on it: not in a status over the network.
    assert "cgm_ack_round_seconds" not in f and "cgm_datagrams_sent" not in f


def test_a_taken_metrics_address_fails_the_start_with_a_clear_error(cluster: Dict[str, object], tmp_path: Path) -> None:
    d, url = cluster["dir"], cluster["url"]
    assert isinstance(d, Path) and isinstance(url, str)
    toml = (d / "node1.toml").read_text().replace('state_dir = "state-1"', f'state_dir = "{tmp_path}/other"')
    (tmp_path / "again.toml").write_text(toml)
    r = subprocess.run([CGM_BIN, "node", "-c", str(tmp_path / "again.toml")], capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert f"cannot serve metrics on {url.removeprefix('http://')}" in r.stderr, r.stderr
