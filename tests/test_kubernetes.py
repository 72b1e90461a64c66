"""Kubernetes manifests: what the inventory's `kubernetes:` block generates, checked against the CRD structure."""
from __future__ import annotations

import json

import pytest
import yaml

from generator import conventions as c
from generator import inventory
from generator.build import build
from generator.cli import main
from generator.errors import GeneratorError, InventoryError, InventoryErrors
from generator.kubernetes import names, structure
from generator.kubernetes.manifests import manifests

from conftest import MINIMAL, ROOT, built, load_yaml

BLOCK = """\
kubernetes:
  namespace: monitoring
  rule_labels: {release: kube-prometheus-stack}
  dashboards: %s
  operator: {instance_selector: {dashboards: grafana}}
"""


def generated(text: str) -> dict[str, str]:
    return build(inventory.parse(text, "inventory.yaml"))


def objects(files: dict[str, str]) -> dict[str, dict]:
    return {rel: load_yaml(text) for rel, text in files.items()
            if rel.startswith("kubernetes/") and rel != c.KUSTOMIZATION_FILE}


def of_kind(files, kind) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects(files).values() if o["kind"] == kind}


@pytest.fixture
def example():
    return built(ROOT / "inventory.yaml")


def test_one_prometheusrule_per_rule_file_holding_its_groups_with_the_rule_selector_labels(example):
    rules = of_kind(example, "PrometheusRule")
    inv = inventory.load(ROOT / "inventory.yaml")
    files = {c.rule_object_name(m.name): c.rules_file(m.name) for m in inv.models}
    files |= {name: path for path, name in c.SHARED_RULE_OBJECTS.items()}  # collector alerts, shared SLO windows
    assert sorted(rules) == sorted(files)
    for name, rel in files.items():
        obj = rules[name]
        assert obj["apiVersion"] == "monitoring.coreos.com/v1"
        assert obj["metadata"]["namespace"] == "monitoring"
        assert obj["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert obj["spec"]["groups"] == load_yaml(example[rel])["groups"]


def test_one_configmap_per_dashboard_for_the_sidecar_with_its_folder(example):
    boards = {rel: text for rel, text in example.items() if rel.startswith("dashboards/")}
    configmaps = of_kind(example, "ConfigMap")
    assert len(configmaps) == len(boards) == len(inventory.load(ROOT / "inventory.yaml").models) + 2  # the fleet, GPUs
    for rel, text in boards.items():
        uid = json.loads(text)["uid"]
        cm = configmaps[uid]
        assert cm["data"] == {f"{uid}.json": text}
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        folder = {"llm-fleet": "LLM fleet", "llm-platform": "LLM Platform", "search": "Search"}[rel.split("/")[1]]
        assert cm["metadata"]["annotations"] == {"k8s-sidecar-target-directory": folder}


def test_each_manifest_stays_under_the_client_side_apply_annotation_limit(example):
    sizes = {rel: len(json.dumps(obj, separators=(",", ":")).encode()) for rel, obj in objects(example).items()}
    assert max(sizes.values()) < names.ANNOTATION_LIMIT
    assert sum(sizes.values()) > names.ANNOTATION_LIMIT  # why one ConfigMap per dashboard: all in one would not fit


def test_grafana_operator_gets_a_folder_per_team_and_each_dashboard_in_its_folder(example):
    folders = of_kind(example, "GrafanaFolder")
    assert {name: f["spec"]["title"] for name, f in folders.items()} == {
        "llm-fleet": "LLM fleet", "llm-team-ml-platform": "LLM Platform", "llm-team-search": "Search"}
    dashboards = of_kind(example, "GrafanaDashboard")
    assert len(dashboards) == len(inventory.load(ROOT / "inventory.yaml").models) + 2  # the fleet and the GPU fleet
    for name, d in dashboards.items():
        assert d["spec"]["instanceSelector"] == {"matchLabels": {"dashboards": "grafana"}}
        assert d["spec"]["folderRef"] in folders
        assert d["spec"]["configMapRef"] == {"name": name, "key": f"{name}.json"}
    assert dashboards["llm-model-qwen2-5-72b"]["spec"]["folderRef"] == "llm-team-search"
    assert dashboards["llm-gpu-fleet"]["spec"]["folderRef"] == "llm-fleet"


def test_the_alertmanager_routes_become_an_alertmanagerconfig_with_the_same_matchers(example):
    (obj,) = of_kind(example, "AlertmanagerConfig").values()
    plain = yaml.safe_load(example[c.ALERTMANAGER_FILE])
    spec = obj["spec"]
    assert obj["apiVersion"] == "monitoring.coreos.com/v1alpha1"
    assert obj["metadata"]["namespace"] == "monitoring"

    def as_text(matchers):
        return [f"{m['name']}{m['matchType']}{json.dumps(m['value'])}" for m in matchers]

    assert spec["route"]["receiver"] == plain["route"]["receiver"]
    assert spec["route"]["groupBy"] == plain["route"]["group_by"]
    assert [spec["route"][k] for k in ("groupWait", "groupInterval", "repeatInterval")] == \
        [plain["route"][k] for k in ("group_wait", "group_interval", "repeat_interval")]
    assert [(r["receiver"], as_text(r["matchers"])) for r in spec["route"]["routes"]] == \
        [(r["receiver"], r["matchers"]) for r in plain["route"]["routes"]]
    assert spec["receivers"] == plain["receivers"]
    assert [(as_text(i["sourceMatch"]), as_text(i["targetMatch"]), i["equal"]) for i in spec["inhibitRules"]] == \
        [(i["source_matchers"], i["target_matchers"], i["equal"]) for i in plain["inhibit_rules"]]


def test_the_kustomization_lists_every_manifest_once(example):
    kustomization = yaml.safe_load(example[c.KUSTOMIZATION_FILE])
    assert kustomization["kind"] == "Kustomization"
    assert sorted(f"kubernetes/{r}" for r in kustomization["resources"]) == sorted(objects(example))


def test_sidecar_only_writes_no_operator_objects():
    files = generated(MINIMAL + BLOCK % "sidecar")
    assert not of_kind(files, "GrafanaDashboard") and not of_kind(files, "GrafanaFolder")
    assert all(cm["metadata"]["labels"]["grafana_dashboard"] == "1" for cm in of_kind(files, "ConfigMap").values())


def test_operator_only_keeps_the_configmaps_out_of_the_sidecars_sight():
    files = generated(MINIMAL + BLOCK % "operator")
    assert len(of_kind(files, "GrafanaDashboard")) == 3 and len(of_kind(files, "GrafanaFolder")) == 2
    assert all("grafana_dashboard" not in cm["metadata"]["labels"] and "annotations" not in cm["metadata"]
               for cm in of_kind(files, "ConfigMap").values())


def test_the_sidecar_label_and_folder_annotation_are_configurable():
    text = MINIMAL + (BLOCK % "sidecar") + "  sidecar: {label: dash, label_value: 'yes', folder_annotation: grafana_folder}\n"
    cm = next(iter(of_kind(generated(text), "ConfigMap").values()))
    assert cm["metadata"]["labels"]["dash"] == "yes" and "grafana_dashboard" not in cm["metadata"]["labels"]
    assert list(cm["metadata"]["annotations"]) == ["grafana_folder"]


def test_without_a_kubernetes_block_no_manifest_is_written():
    assert not [rel for rel in generated(MINIMAL) if rel.startswith("kubernetes/")]


def test_a_dashboard_too_large_for_client_side_apply_is_refused_by_name():
    inv = inventory.parse(MINIMAL + BLOCK % "sidecar", "inventory.yaml")
    files = build(inv)
    rel = next(r for r in files if r.startswith("dashboards/") and r.endswith(f"/{c.FLEET_UID}.json"))
    files[rel] = json.dumps({"uid": c.FLEET_UID, "padding": "x" * names.ANNOTATION_LIMIT})
    with pytest.raises(GeneratorError, match=f"ConfigMap {c.FLEET_UID} would be .* bytes"):
        manifests(inv, files)


def test_check_catches_a_stale_manifest(tmp_path, capsys):
    args = ["--inventory", str(ROOT / "tests" / "golden" / "inventory.yaml"), "--output", str(tmp_path)]
    assert main(["generate", *args]) == 0
    rule = tmp_path / "kubernetes" / "prometheusrule" / "llm-chat.yaml"
    rule.write_text(rule.read_text().replace("release: prom", "release: other"))
    capsys.readouterr()
    assert main(["check", *args]) == 1
    assert "kubernetes/prometheusrule/llm-chat.yaml" in capsys.readouterr().out


# -- the structure check catches what a CRD or the API server would refuse ---------------------------------

def _rule_object():
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": {"name": "llm-x", "namespace": "monitoring", "labels": {"release": "prom"}},
            "spec": {"groups": [{"name": "g", "rules": [{"record": "llm:x", "expr": "up"}]}]}}


def _dashboard_object():
    return {"apiVersion": "grafana.integreatly.org/v1beta1", "kind": "GrafanaDashboard",
            "metadata": {"name": "d", "namespace": "monitoring"},
            "spec": {"instanceSelector": {"matchLabels": {"dashboards": "grafana"}}, "folderRef": "f",
                     "configMapRef": {"name": "d", "key": "d.json"}}}


def _routing_object():
    return {"apiVersion": "monitoring.coreos.com/v1alpha1", "kind": "AlertmanagerConfig",
            "metadata": {"name": "r", "namespace": "monitoring"},
            "spec": {"route": {"receiver": "a", "groupBy": ["alertname"], "groupWait": "30s",
                               "routes": [{"receiver": "b", "matchers": [{"name": "model", "value": "x|y",
                                                                          "matchType": "=~"}]}]},
                     "receivers": [{"name": "a"}, {"name": "b"}],
                     "inhibitRules": [{"sourceMatch": [{"name": "severity", "value": "critical", "matchType": "="}],
                                       "targetMatch": [{"name": "severity", "value": "warning", "matchType": "="}],
                                       "equal": ["alertname"]}]}}


BROKEN = [
    ("a PrometheusRule group without a name", _rule_object, lambda o: o["spec"]["groups"][0].pop("name"),
     "spec.groups[0].name"),
    ("two groups of one name", _rule_object, lambda o: o["spec"]["groups"].append(dict(o["spec"]["groups"][0])),
     "spec.groups[1].name"),
    ("a rule with both record and alert", _rule_object,
     lambda o: o["spec"]["groups"][0]["rules"][0].update(alert="X"), "spec.groups[0].rules[0]"),
    ("a rule without expr", _rule_object, lambda o: o["spec"]["groups"][0]["rules"][0].pop("expr"),
     "spec.groups[0].rules[0].expr"),
    ("a for that is no duration", _rule_object,
     lambda o: o["spec"]["groups"][0]["rules"][0].update({"for": "5 minutes"}), "spec.groups[0].rules[0].for"),
    ("a name with capitals", _rule_object, lambda o: o["metadata"].update(name="LLM_x"), "metadata.name"),
    ("a namespace with a dot", _rule_object, lambda o: o["metadata"].update(namespace="mon.itoring"),
     "metadata.namespace"),
    ("a numeric label value", _rule_object, lambda o: o["metadata"]["labels"].update(release=1),
     "metadata.labels.release"),
    ("a wrong apiVersion", _rule_object, lambda o: o.update(apiVersion="monitoring.coreos.com/v1alpha1"),
     "apiVersion"),
    ("a GrafanaDashboard without instanceSelector", _dashboard_object, lambda o: o["spec"].pop("instanceSelector"),
     "spec.instanceSelector"),
    ("a GrafanaDashboard with two sources", _dashboard_object, lambda o: o["spec"].update(json="{}"), "spec"),
    ("a GrafanaDashboard with folderRef and folderUID", _dashboard_object,
     lambda o: o["spec"].update(folderUID="abc"), "spec"),
    ("a GrafanaDashboard with invalid JSON", _dashboard_object,
     lambda o: (o["spec"].pop("configMapRef"), o["spec"].update(json="{")), "spec.json"),
    ("an AlertmanagerConfig route with a snake_case key", _routing_object,
     lambda o: o["spec"]["route"].update(group_by=["alertname"]), "spec.route.group_by"),
    ("an AlertmanagerConfig matcher written as a string", _routing_object,
     lambda o: o["spec"]["route"]["routes"][0].update(matchers=['model=~"x|y"']), "spec.route.routes[0].matchers[0]"),
    ("an AlertmanagerConfig route to an unknown receiver", _routing_object,
     lambda o: o["spec"]["route"]["routes"][0].update(receiver="c"), "spec.route.routes[0].receiver"),
    ("an AlertmanagerConfig matcher with an unknown matchType", _routing_object,
     lambda o: o["spec"]["inhibitRules"][0]["sourceMatch"][0].update(matchType="=="),
     "spec.inhibitRules[0].sourceMatch[0].matchType"),
    ("an AlertmanagerConfig inhibit rule in the file's spelling", _routing_object,
     lambda o: o["spec"]["inhibitRules"][0].update(source_matchers=['severity="critical"']),
     "spec.inhibitRules[0].source_matchers"),
    ("two AlertmanagerConfig receivers of one name", _routing_object,
     lambda o: o["spec"]["receivers"].append({"name": "a"}), "spec.receivers[2].name"),
    ("an AlertmanagerConfig groupWait that is no duration", _routing_object,
     lambda o: o["spec"]["route"].update(groupWait="30 s"), "spec.route.groupWait"),
    ("a ConfigMap over 256 KiB", lambda: {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"},
                                          "data": {"a.json": "x" * names.ANNOTATION_LIMIT}}, lambda o: None, ""),
]


@pytest.mark.parametrize("make, breaks, key", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_the_structure_check_names_what_the_api_would_refuse(make, breaks, key):
    obj = make()
    assert structure.problems(obj) == [] or key == ""
    breaks(obj)
    assert key in [k for k, _ in structure.problems(obj)], structure.problems(obj)


@pytest.mark.parametrize("block, path, words", [
    ("kubernetes: {namespace: Monitoring}", "kubernetes.namespace", "RFC 1123"),
    ("kubernetes: {namespace: m, dashboards: operator}", "kubernetes.operator.instance_selector",
     "needs operator.instance_selector"),
    ("kubernetes: {namespace: m, dashboards: grafana}", "kubernetes.dashboards", "sidecar, operator, both"),
    ("kubernetes: {namespace: m, rule_labels: {'-release': x}}", "kubernetes.rule_labels.-release", "name '-release'"),
    ("kubernetes: {namespace: m, rule_labels: {release: 1}}", "kubernetes.rule_labels.release", "strings"),
    ("kubernetes: {namespace: m, sidecar: {folder_annotation: 'a b'}}", "kubernetes.sidecar.folder_annotation",
     "'a b'"),
    ("kubernetes: {namespce: m}", "kubernetes.namespce", "did you mean 'namespace'"),
])
def test_a_bad_kubernetes_block_is_reported_by_line_and_key(block, path, words):
    text = MINIMAL + block + "\n"
    with pytest.raises((InventoryErrors, InventoryError)) as caught:
        inventory.parse(text, "inv.yaml")
    errors = getattr(caught.value, "errors", [caught.value])
    line = text.count("\n")
    assert any(e.path == path and e.line == line and words in e.message for e in errors), \
        [str(e) for e in errors]
