"""Multi-cluster mode end to end: two clusters remote-write into a central Prometheus that evaluates the rules.

The topology Mimir and Thanos receivers are fed by: each "cluster" is a Prometheus in
agent mode with its own external label (`cluster: a`, `cluster: b`), scraping its own
simulated fleet and remote-writing everything to a central Prometheus
(`--web.enable-remote-write-receiver`) that loads the generated rule files. The
inventory is the golden one (multi_cluster, the label only external), with shortened
`for` durations as in the other end-to-end tests. Asserted: every recorded `llm:` series
exists per cluster with that cluster's label and none without it; an alert provoked in
cluster a's fleet fires with `cluster="a"` and never for cluster b; the fleet dashboard's
queries with every cluster selected return data from both, one series per model and cluster (a's and b's, as
each cluster alone shows them).
"""
from __future__ import annotations

import json
import math
import re
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml

from generator import conventions as c
from generator import inventory as inventory_mod
from generator.build import OUTPUT_DIRS, build
from generator.output import write
from generator.simulate.stack import Processes, http, shortened_inventory, wait_for
from generator.yaml_out import dump

from .conftest import EVENT_SERIES, FOR, INTERVAL, RANGE, RATE_INTERVAL, SLOWER_FOR, _binary, recorded_by_model
from .prometheus import Prometheus

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CLUSTERS = ("a", "b")
PROVOKED = ("queue-backlog", "chat", "LLMQueueBackingUp")  # scenario, model, the alert it raises


class Topology:
    def __init__(self, central: Prometheus, simulators: dict[str, str], files: dict[str, str], label: str,
                 inventory):
        self.central, self.simulators, self.files, self.label = central, simulators, files, label
        self.inventory = inventory

    def recorded(self) -> dict[str, set[str]]:
        """model -> names its recording rules record, the shared SLO windows included."""
        return recorded_by_model({path: yaml.safe_load(text) for path, text in self.files.items()
                                  if path.endswith(".rules.yaml")})

    def series_by_cluster(self) -> dict[tuple[str, str], set[str]]:
        """(model, cluster) -> the llm: names the central Prometheus holds for it."""
        result: dict[tuple[str, str], set[str]] = {}
        for row in self.central.query(f'count by (__name__, model, {self.label}) ({{__name__=~"llm:.+"}})'):
            m = row["metric"]
            result.setdefault((m.get("model", ""), m.get(self.label, "")), set()).add(m["__name__"])
        return result


def _agent_config(simulator_config: Path, cluster: str, label: str, central: str) -> dict:
    """The simulator's scrape configuration as a cluster's agent: its external label, remote write to central."""
    config = yaml.safe_load(simulator_config.read_text())
    config.pop("rule_files", None)
    config.pop("alerting", None)
    config["global"].pop("evaluation_interval", None)
    config["global"]["external_labels"] = {label: cluster}
    config["remote_write"] = [{"url": f"{central}/api/v1/write",
                               "queue_config": {"batch_send_deadline": "1s", "min_backoff": "100ms"}}]
    return config


@pytest.fixture(scope="module")
def topology(tmp_path_factory):
    prometheus_bin = _binary("prometheus")
    work = tmp_path_factory.mktemp("multicluster")
    path = shortened_inventory(ROOT / "tests" / "golden" / "inventory.yaml", work / "inventory.yaml", FOR, SLOWER_FOR)
    inventory = inventory_mod.load(path)
    assert inventory.multi_cluster is not None, "the golden inventory is the multi-cluster one"
    label = inventory.multi_cluster.label
    files = build(inventory)
    write(files, work / "out", OUTPUT_DIRS)
    with ExitStack() as stack:
        central_work = work / "central"
        central_work.mkdir()
        central = stack.enter_context(Processes(central_work))
        config = central_work / "prometheus.yml"
        config.write_text(dump({"global": {"evaluation_interval": INTERVAL},
                                "rule_files": [str(work / "out" / "alerts" / "*.rules.yaml")]}))
        central_url = central.prometheus(prometheus_bin, config, name="central",
                                         flags=["--web.enable-remote-write-receiver"])
        simulators = {}
        for cluster in CLUSTERS:
            cluster_work = work / cluster
            cluster_work.mkdir()
            processes = stack.enter_context(Processes(cluster_work))
            simulators[cluster], scrape = processes.simulator(path, "unused", "127.0.0.1:9", INTERVAL)
            agent = cluster_work / "agent.yml"
            agent.write_text(dump(_agent_config(scrape, cluster, label, central_url)))
            processes.prometheus(prometheus_bin, agent, name=f"agent-{cluster}", agent=True)
        yield Topology(Prometheus(central_url), simulators, files, label, inventory)


@pytest.fixture(scope="module")
def recorded(topology) -> dict[tuple[str, str], set[str]]:
    """Once every recording rule produced series for every model in both clusters: what the central holds."""
    expected = topology.recorded()

    def complete():
        seen = topology.series_by_cluster()
        return all(names - EVENT_SERIES <= seen.get((model, cluster), set())
                   for model, names in expected.items() for cluster in CLUSTERS) and seen

    return wait_for(complete, 150, "every recording rule to produce series for each model in both clusters")


def test_every_recorded_series_exists_per_cluster_with_its_label(topology, recorded):
    expected = topology.recorded()
    assert {cluster for _, cluster in recorded} == set(CLUSTERS), sorted(recorded)
    for model, names in expected.items():
        for cluster in CLUSTERS:
            assert names - EVENT_SERIES <= recorded[(model, cluster)], (model, cluster)
    # Nothing recorded without the cluster: a label-less `vector(0)` or an aggregation across clusters would be.
    assert topology.central.query(f'count({{__name__=~"llm:.+", {topology.label}=""}})') == []
    # One value per cluster, never a sum of both: each cluster's request rate is its own fleet's.
    rates = topology.central.query(f'{c.REQUESTS.format(window="5m")}{{model="chat"}}')
    assert sorted(r["metric"][topology.label] for r in rates) == list(CLUSTERS)
    assert all(float(r["value"][1]) > 0 for r in rates)


def test_an_alert_provoked_in_one_cluster_carries_its_label_and_not_the_other(topology, recorded):
    scenario, model, alertname = PROVOKED
    status, body = http("POST", f"{topology.simulators['a']}/scenarios", f"{scenario}:{model}".encode())
    assert status == 200, body
    seen: list[dict] = []

    def fired():
        alerts = topology.central.alerts()
        seen.extend(alerts)
        return [a for a in alerts if a["labels"]["alertname"] == alertname and a["state"] == "firing"
                and a["labels"].get(c.MODEL_LABEL) == model]

    try:
        firing = wait_for(fired, 150, f"{alertname} to fire for {model} in cluster a")
        time.sleep(3 * float(FOR[:-1]))  # long enough for a wrong one in cluster b to fire too
        fired()
    finally:
        http("POST", f"{topology.simulators['a']}/scenarios", b"healthy")
    assert [a["labels"][topology.label] for a in firing] == ["a"]
    assert "in cluster a" in firing[0]["annotations"]["description"]
    wrong = {(a["labels"]["alertname"], a["labels"].get(c.MODEL_LABEL)) for a in seen
             if a["labels"]["alertname"] == alertname and a["labels"].get(topology.label) != "a"}
    assert not wrong, wrong
    assert all(a["labels"].get(topology.label) in CLUSTERS for a in seen), \
        [a["labels"] for a in seen if a["labels"].get(topology.label) not in CLUSTERS]


def _fleet_queries(topology) -> list[tuple[str, str]]:
    board = json.loads(topology.files[f"dashboards/llm-fleet/{c.FLEET_UID}.json"])
    return [(panel["title"], target["expr"]) for panel in board["panels"] for target in panel.get("targets", [])]


def _fill(expr: str, clusters: str) -> str:
    for name, value in (("__rate_interval", RATE_INTERVAL), ("__range", RANGE), ("model", ".*"), ("team", ".*"),
                        ("cluster", clusters)):
        expr = re.sub(rf"\${name}\b", value, expr)
    return expr


def test_the_fleet_dashboard_with_every_cluster_selected_shows_each_cluster(topology, recorded):
    queries = _fleet_queries(topology)
    assert queries
    at = f"{time.time() - 2:.3f}"  # one evaluation time for all three views: the same samples

    def values(expr: str, clusters: str) -> dict[str, float]:
        rows = topology.central.api("query", query=_fill(expr, clusters), time=at)["result"]
        return {json.dumps(r["metric"], sort_keys=True): float(r["value"][1]) for r in rows}

    options = topology.central.query(f"group by ({topology.label}) ({c.MODEL_INFO})")
    assert sorted(o["metric"][topology.label] for o in options) == list(CLUSTERS)  # the $cluster variable's values
    empty = [title for title, expr in queries if not values(expr, ".+")]
    assert not empty, f"fleet panels without data with every cluster selected: {empty}"
    # Kept apart per cluster (legends name it): selecting both shows a's lines and b's, each as alone.
    requests = next(expr for _, expr in queries
                    if expr.startswith(f"sum by (model, {topology.label}) (llm:requests:rate5m"))
    both, a, b = values(requests, ".+"), values(requests, "a"), values(requests, "b")
    assert a and b and not set(a) & set(b) and set(both) == set(a) | set(b)
    for key, value in {**a, **b}.items():
        assert math.isclose(both[key], value, rel_tol=1e-9), (key, both[key], value)
