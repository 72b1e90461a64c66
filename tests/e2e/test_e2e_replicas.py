"""One bad replica out of four, in a real Prometheus: the model dashboard's drill-down finds it.

A stack of its own (simulator, Prometheus, Alertmanager) for a one-model inventory with four replicas,
started with the `bad-replica` scenario: the last replica is slow, failing and full while the other three
stay healthy. The per-replica table's queries, as Grafana would send them with every pod selected, must
name that pod as the worst in TTFT p95, error ratio and KV cache, and the `$pod` variable must list all
four pods.
"""
from __future__ import annotations

import json
import re
import shutil

import pytest

from generator import conventions as c
from generator.build import OUTPUT_DIRS, build
from generator.inventory import load
from generator.output import write
from generator.queries import ModelQueries
from generator.simulate.fleet import Fleet, container_image
from generator.simulate.stack import Processes, Webhook, wait_for

from .conftest import INTERVAL, substitute
from .prometheus import Prometheus

pytestmark = pytest.mark.e2e

INVENTORY = """
version: 1
grafana_url: https://grafana.test
runbook_base_url: https://runbooks.test
defaults:
  labels: {cluster: test}
  slo:
    ttft: {threshold_seconds: 0.5, objective: 0.95}
    itl: {threshold_seconds: 0.1, objective: 0.95}
    e2e: {threshold_seconds: 30, objective: 0.95}
    availability: {objective: 0.99}
  thresholds:
    {kv_cache_usage: 0.9, queue_depth: 20, gpu_utilization: 0.95, gpu_memory_usage: 0.95, cold_start_seconds: 300}
teams:
  core: {folder: Core}
models:
  - name: chat
    served_name: org/chat
    engine: vllm
    engine_version: "0.11.2"
    team: core
    namespace: llm
    gpu: {type: H100-80GB, per_replica: 1}
    replicas: {min: 4, max: 8}
"""
WORST = {"TTFT p95": max, "Error ratio": max, "KV cache": max}  # column -> which end is the bad one


@pytest.fixture(scope="module")
def drill_down(tmp_path_factory):
    binaries = [shutil.which(name) for name in ("prometheus", "prometheus-alertmanager")]
    if not all(binaries):
        pytest.fail("the end-to-end tests need prometheus and prometheus-alertmanager (apt-get install ...)")
    work = tmp_path_factory.mktemp("replicas")
    path = work / "inventory.yaml"
    path.write_text(INVENTORY)
    inventory = load(path)
    files = build(inventory)
    write(files, work / "out", OUTPUT_DIRS)
    board = json.loads(next(text for name, text in files.items()
                            if name.endswith(f"/{c.model_dashboard_uid('chat')}.json")))
    pods = [r.pod for r in Fleet(inventory).replicas["chat"]]
    webhook = Webhook()
    try:
        with Processes(work) as processes:
            am = processes.alertmanager(binaries[1], webhook.url)
            sim, config = processes.simulator(path, str(work / "out" / "alerts" / "*.rules.yaml"), am, INTERVAL,
                                              scenarios=["bad-replica:chat"])
            prometheus = Prometheus(processes.prometheus(binaries[0], config))
            table = next(panel for panel in board["panels"] if panel["title"] == "Replicas")
            queries = _columns(table)

            def every_pod_in_every_column():
                return all(len(prometheus.query(q)) == len(pods) for q in queries.values())

            wait_for(every_pod_in_every_column, 90, "every column of the per-replica table to list every pod")
            yield board, pods, prometheus, {name: prometheus.query(q) for name, q in queries.items()}, inventory
    finally:
        webhook.stop()


def _columns(table: dict) -> dict[str, str]:
    """Column title -> the instant query behind it, as Grafana sends it with every pod selected."""
    organize = next(t for t in table["transformations"] if t["id"] == "organize")["options"]
    names = {f"Value #{t['refId']}": t for t in table["targets"]}
    return {organize["renameByName"][key]: substitute(target["expr"], ".*") for key, target in names.items()
            if key in organize["renameByName"]}


def _red_from(table: dict, column: str) -> float:
    """The value from which the column's cells turn red."""
    override = next(o for o in table["fieldConfig"]["overrides"] if o["matcher"]["options"] == column)
    steps = next(p["value"]["steps"] for p in override["properties"] if p["id"] == "thresholds")
    return next(s["value"] for s in steps if s["color"] == "red")


def test_the_per_replica_table_names_the_bad_pod_as_the_worst_and_only_its_row_turns_red(drill_down):
    board, pods, _, columns, _ = drill_down
    table = next(panel for panel in board["panels"] if panel["title"] == "Replicas")
    bad = pods[-1]
    assert set(WORST) <= set(columns)
    for column, worst in WORST.items():
        values = {row["metric"]["pod"]: float(row["value"][1]) for row in columns[column]}
        assert set(values) == set(pods), column
        assert worst(values, key=values.get) == bad, f"{column}: {values}"
        red = _red_from(table, column)
        assert [p for p in pods if values[p] >= red] == [bad], f"{column}: red from {red}: {values}"


def test_every_pod_is_ready_and_runs_the_inventory_image(drill_down):
    _, pods, _, columns, _ = drill_down
    assert {row["metric"]["pod"]: float(row["value"][1]) for row in columns["Ready"]} == dict.fromkeys(pods, 1.0)


def test_the_pod_variable_lists_all_four_pods(drill_down):
    board, pods, prometheus, _, _ = drill_down
    variable = next(v for v in board["templating"]["list"] if v["name"] == "pod")
    match = re.fullmatch(r"label_values\((.+), pod\)", variable["query"])
    assert match, variable["query"]
    assert (variable["multi"], variable["includeAll"]) == (True, True)
    # What Grafana asks Prometheus for to fill the variable.
    assert sorted(prometheus.api("label/pod/values", **{"match[]": match.group(1)})) == sorted(pods)
    assert len(pods) == 4


def test_choosing_one_pod_narrows_every_column_to_it(drill_down):
    board, pods, prometheus, _, _ = drill_down
    table = next(panel for panel in board["panels"] if panel["title"] == "Replicas")
    chosen = pods[1]  # pod names are [a-z0-9-]: the same as a regex
    for target in table["targets"]:
        expr = target["expr"].replace("$pod", chosen).replace("$__rate_interval", "15s")
        assert {row["metric"]["pod"] for row in prometheus.query(expr)} == {chosen}, expr


def test_the_deploy_annotation_names_each_new_pods_replicaset_and_image(drill_down):
    """The annotation's query with a window wide enough that every (old) simulated pod counts as new."""
    _, pods, prometheus, _, inventory = drill_down
    model = inventory.models[0]
    rows = prometheus.query(ModelQueries(inventory, model).new_pod_details(10 * 365 * 86400))
    assert sorted(r["metric"]["pod"] for r in rows) == sorted(pods)
    for row in rows:
        labels = row["metric"]
        assert labels["owner_kind"] == "ReplicaSet" and labels["pod"].startswith(labels["owner_name"] + "-")
        assert labels["image"] == container_image(model, model.engine_version)  # vllm/vllm-openai:v0.11.2
