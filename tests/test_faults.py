"""The fault model's settings end to end through promtool and amtool: exporter labels, routing, inhibitions."""
import shutil
import subprocess

import pytest
import yaml

from conftest import MINIMAL, ROOT, run_promtool
from generator import conventions as c
from generator import inventory
from generator.build import build
from generator.output import write
from generator.rules.alertmanager import DEFAULT_RECEIVER, team_receiver

EXPORTED = MINIMAL.replace("teams:\n", "collectors:\n  dcgm: {namespace_label: exported_namespace, "
                                       "pod_label: exported_pod, node_label: Hostname}\nteams:\n")


@pytest.fixture(scope="module")
def amtool():
    path = shutil.which("amtool")
    if path is None:
        pytest.fail("amtool is required: apt-get install prometheus-alertmanager")
    return path


def test_gpu_queries_read_the_workload_labels_the_inventory_names():
    inv = inventory.parse(EXPORTED, "inv.yaml")
    rules = yaml.safe_load(build(inv)[c.rules_file("small")])
    gpu = next(r for g in rules["groups"] for r in g["rules"] if r.get("record") == c.GPU_UTILIZATION)
    assert 'exported_namespace="llm"' in gpu["expr"] and 'exported_pod=~"small-.*"' in gpu["expr"]
    xid = next(r for g in rules["groups"] for r in g["rules"] if r.get("record") == c.GPU_XID_NEW)
    assert 'label_replace' in xid["expr"] and '"pod", "$1", "exported_pod"' in xid["expr"]


def test_with_exported_labels_declared_every_generated_gpu_case_passes_in_promtool(promtool, tmp_path):
    # The generated inputs carry exported_namespace/exported_pod, as Prometheus stores a DCGM scrape
    # with honorLabels: false; the GPU alerts fire on them (and the XID alert names the pod).
    inv = inventory.parse(EXPORTED, "inv.yaml")
    files = build(inv)
    write(files, tmp_path, ("dashboards", "alerts"))
    test = yaml.safe_load(files[c.rules_test_file("small")])
    gpu_inputs = [s["series"] for g in test["tests"] for s in g["input_series"] if s["series"].startswith("DCGM_")]
    assert gpu_inputs and all("exported_pod=" in s for s in gpu_inputs)
    fired = {t["alertname"] for g in test["tests"] for t in g.get("alert_rule_test", []) if t["exp_alerts"]}
    assert {"LLMGPUMemoryNearFull", "LLMGPUXidErrors", "LLMGPUSaturated"} <= fired
    result = run_promtool(promtool, "test", "rules", str(tmp_path / c.rules_test_file("small")))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr


def test_the_generated_alertmanager_configuration_passes_amtool(amtool, tmp_path):
    path = tmp_path / "alertmanager.yaml"
    path.write_text((ROOT / c.ALERTMANAGER_FILE).read_text())
    result = subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 inhibit rules" in result.stdout


def test_each_models_alerts_route_to_its_teams_receiver_and_collector_alerts_to_the_default(example, amtool):
    path = ROOT / c.ALERTMANAGER_FILE
    for model in example.models:
        result = subprocess.run([amtool, "config", "routes", "test", f"--config.file={path}",
                                 "alertname=LLMModelDown", f"model={model.name}", "severity=critical"],
                                capture_output=True, text=True, timeout=60)
        assert result.stdout.strip() == team_receiver(model.team.name), (model.name, result.stdout, result.stderr)
    result = subprocess.run([amtool, "config", "routes", "test", f"--config.file={path}",
                             "alertname=LLMCollectorDown", "collector=kube-state-metrics"],
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == DEFAULT_RECEIVER


def test_inhibitions_keep_one_page_per_model_and_site():
    config = yaml.safe_load((ROOT / c.ALERTMANAGER_FILE).read_text())
    rules = {tuple(r["source_matchers"]): r for r in config["inhibit_rules"]}
    down = rules[('alertname="LLMModelDown"',)]
    assert 'alertname!="LLMModelDown"' in down["target_matchers"] and "model" in down["equal"]
    assert "collector" in rules[('alertname="LLMCollectorDown"',)]["equal"]
    assert rules[('severity="critical"',)]["equal"][:2] == ["alertname", "model"]


def test_every_model_alert_carries_its_namespace_and_per_pod_alerts_keep_the_pod(example):
    files = build(example)
    for model in example.models:
        doc = yaml.safe_load(files[c.rules_file(model.name)])
        for rule in (r for g in doc["groups"] for r in g["rules"] if "alert" in r):
            assert rule["labels"]["namespace"] == model.namespace, rule["alert"]
            if rule["alert"] in ("LLMPodNotReady", "LLMEngineCrashLooping", "LLMEngineOOMKilled",
                                 "LLMEngineScrapeFailing", "LLMGPUXidErrors"):
                assert "{{ $labels.pod }}" in rule["annotations"]["description"]


def test_an_alert_disabled_for_one_team_leaves_no_rule_case_or_runbook_for_it_there():
    text = MINIMAL.replace("  infra: {folder: Infra, labels: {team: infra}}\n",
                           "  infra: {folder: Infra, labels: {team: infra}, alerts: {LLMGPUSaturated: {enabled: false}}}\n"
                           "  other: {folder: Other}\n")
    other = MINIMAL[MINIMAL.index("  - name: small"):].replace("name: small", "name: second").replace(
        "team: infra", "team: other")
    inv = inventory.parse(text + other, "inv.yaml")
    files = build(inv)
    for model, present in (("small", False), ("second", True)):
        rules = yaml.safe_load(files[c.rules_file(model)])
        alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
        assert ("LLMGPUSaturated" in alerts) is present
        tests = yaml.safe_load(files[c.rules_test_file(model)])["tests"]
        named = {t["alertname"] for g in tests for t in g.get("alert_rule_test", [])}
        assert ("LLMGPUSaturated" in named) is present
    runbook = files[c.runbook_file("LLMGPUSaturated")]
    assert "`second`" in runbook and "`small`" not in runbook


def test_overrides_set_severity_labels_and_keep_firing_for_on_the_rule():
    text = MINIMAL.replace("  thresholds: {", "  alerts: {LLMEngineStalled: {severity: warning, keep_firing_for: 15m, "
                                              "labels: {escalation: sre}}}\n"
                                              "  severity_labels: {warning: {route: ticket}}\n  thresholds: {")
    inv = inventory.parse(text, "inv.yaml")
    rules = yaml.safe_load(build(inv)[c.rules_file("small")])
    stalled = next(r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "LLMEngineStalled")
    assert stalled["labels"]["severity"] == "warning" and stalled["labels"]["route"] == "ticket"
    assert stalled["labels"]["escalation"] == "sre" and stalled["keep_firing_for"] == "15m"
