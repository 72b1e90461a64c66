"""Multi-cluster mode: one inventory entry per model, every rule keeps the cluster label apart."""
from __future__ import annotations

import promql_parser as pp
import pytest
import yaml

from generator import conventions as c
from generator import inventory
from generator.build import build
from generator.errors import InventoryError, InventoryErrors
from generator.validate import expr as promql

from conftest import HEADER, MINIMAL, model_yaml

TRITON = model_yaml("trt", served_name="ensemble", engine="triton-trtllm", engine_version="25.01", gpu="H100-80GB",
                    per_replica=2, extra="    slo: {ttft: {threshold_seconds: 0.5}}\n")


def multi(text: str, block: str = "multi_cluster: {label: region, where: series}\n") -> str:
    return block + text.replace("  labels: {cluster: test}\n", "", 1)


@pytest.fixture(scope="module")
def rules():
    files = build(inventory.parse(multi(MINIMAL + TRITON), "inv.yaml"))
    return [rule for rel, text in files.items() if rel.endswith(".rules.yaml")
            for group in yaml.safe_load(text)["groups"] for rule in group["rules"]]


def _problems(expr: str, label: str) -> list[str]:
    parsed = promql.parse(expr)
    assert parsed.error is None, parsed.error
    found = []
    for node, _ in promql.walk(parsed.ast):
        if isinstance(node, pp.AggregateExpr) and promql.agg_op(node) not in ("topk", "bottomk"):
            modifier = node.modifier
            keeps = modifier is not None and (label in modifier.labels) == (modifier.type == pp.AggModifierType.By)
            if not keeps:  # `by` without the label, or `without` naming it, or neither
                found.append(f"{promql.agg_op(node)} drops {label}")
        if isinstance(node, pp.BinaryExpr) and node.modifier is not None and node.modifier.matching is not None:
            matching = node.modifier.matching
            if matching.type == pp.LabelModifierType.Include and label not in matching.labels:
                found.append(f"on ({', '.join(matching.labels)}) joins across {label}")
            if matching.type == pp.LabelModifierType.Exclude and label in matching.labels:
                found.append(f"ignoring ({label})")
        if promql.call_name(node) in ("vector", "absent", "absent_over_time"):
            found.append(f"{promql.call_name(node)}() has no {label}")
    return found


def test_no_rule_aggregates_or_joins_across_clusters(rules):
    assert len(rules) > 100
    assert {r.get("record") or r["alert"]: _problems(r["expr"], "region") for r in rules
            if _problems(r["expr"], "region")} == {}


def test_no_rule_pins_a_cluster(rules):
    for rule in rules:
        assert "region" not in rule.get("labels", {}), rule
        parsed = promql.parse(rule["expr"])
        assert all("region" not in [m.name for m in s.matchers.matchers] for s in promql.selectors(parsed.ast))


def test_the_check_above_catches_what_single_cluster_rules_do():
    files = build(inventory.parse(MINIMAL, "inv.yaml"))
    text = files[c.rules_file("small")]
    exprs = [r["expr"] for g in yaml.safe_load(text)["groups"] for r in g["rules"]]
    assert any(_problems(e, "cluster") for e in exprs)  # sum(...), vector(0), on () ...


@pytest.mark.parametrize("where, template", [
    ("series", "in cluster {{ $labels.region }}"),
    ("external", "in cluster {{ or $labels.region $externalLabels.region }}"),
])
def test_alert_descriptions_name_the_cluster(where, template):
    files = build(inventory.parse(multi(MINIMAL, f"multi_cluster: {{label: region, where: {where}}}\n"), "i.yaml"))
    alerts = [r for g in yaml.safe_load(files[c.rules_file("small")])["groups"] for r in g["rules"] if "alert" in r]
    assert alerts and all(template in r["annotations"]["description"] for r in alerts)


def test_the_alertmanager_routes_group_and_inhibit_per_cluster():
    files = build(inventory.parse(multi(MINIMAL), "inv.yaml"))
    am = yaml.safe_load(files[c.ALERTMANAGER_FILE])
    assert "region" in am["route"]["group_by"]
    assert all("region" in rule["equal"] for rule in am["inhibit_rules"])


@pytest.mark.parametrize("text, path, words", [
    (multi(MINIMAL, "multi_cluster: {where: everywhere}\n"), "multi_cluster.where", "series, external"),
    (multi(MINIMAL, "multi_cluster: {label: namespace}\n"), "multi_cluster.label", "set by the generator"),
    (multi(MINIMAL, "multi_cluster: {label: 'a-b'}\n"), "multi_cluster.label", ""),
    (multi(MINIMAL, "multi_cluster: {lable: x}\n"), "multi_cluster.lable", "label"),
    ("multi_cluster: {}\n" + MINIMAL, "defaults.labels.cluster", "multi_cluster is on"),
    (multi(MINIMAL, "multi_cluster: {}\n") + "    labels: {cluster: eu}\n", "models[0].labels.cluster",
     "would pin one cluster"),
    (multi(MINIMAL.replace("labels: {team: infra}", "labels: {team: infra, cluster: eu}"), "multi_cluster: {}\n"),
     "teams.infra.labels.cluster", "multi_cluster is on"),
])
def test_bad_multi_cluster_settings_are_located(text, path, words):
    with pytest.raises((InventoryErrors, InventoryError)) as caught:
        inventory.parse(text, "inv.yaml")
    errors = getattr(caught.value, "errors", [caught.value])
    assert any(e.path == path and e.line and words in e.message for e in errors), [str(e) for e in errors]


def test_header_still_pins_the_cluster_in_single_cluster_mode():
    inv = inventory.parse(HEADER + MINIMAL[len(HEADER):], "inv.yaml")
    assert inv.multi_cluster is None and dict(inv.models[0].selector) == {"cluster": "test"}


def _exprs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from _exprs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _exprs(value)


def test_dashboards_get_a_cluster_variable_every_query_honours():
    import json
    files = build(inventory.parse(multi(MINIMAL + TRITON), "inv.yaml"))
    boards = {rel: json.loads(text) for rel, text in files.items() if rel.endswith(".json")}
    assert len(boards) == 4
    for rel, board in boards.items():
        (cluster,) = [v for v in board["templating"]["list"] if v["name"] == "cluster"]
        assert cluster["multi"] and cluster["includeAll"] and "label_values(llm:model:info, region)" in cluster["query"]
        exprs = list(_exprs(board["panels"])) + list(_exprs(board["annotations"]))
        assert exprs, rel
        for text in exprs:
            parsed = promql.parse(text)
            assert parsed.error is None, (rel, text)
            for sel in promql.selectors(parsed.ast):
                assert ("region", "__var_cluster__") in [(m.name, m.value) for m in sel.matchers.matchers], (rel, text)
            assert not _joins_across(parsed.ast), (rel, text)


def _joins_across(ast) -> bool:
    return any(isinstance(n, pp.BinaryExpr) and n.modifier is not None and n.modifier.matching is not None
               and n.modifier.matching.type == pp.LabelModifierType.Include and "region" not in n.modifier.matching.labels
               for n, _ in promql.walk(ast))


def test_single_cluster_dashboards_have_no_cluster_variable():
    files = build(inventory.parse(MINIMAL, "inv.yaml"))
    assert "$cluster" not in "".join(text for rel, text in files.items() if rel.endswith(".json"))
