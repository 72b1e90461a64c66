"""The fault model's settings end to end through promtool and amtool: exporter labels, routing, inhibitions."""
import json
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from generator import conventions as c
from generator import inventory
from generator.build import OUTPUT_DIRS, build
from generator.output import write
from generator.rules.alertmanager import DEFAULT_RECEIVER, team_receiver

from conftest import (
    MINIMAL,
    ROOT,
    built,
    expects_recorded_values,
    fired_alerts,
    load_yaml,
    model_yaml,
    promtool_subset_failures,
    reads,
    run_promtool,
)

EXPORTED = MINIMAL.replace("teams:\n", "collectors:\n  dcgm: {namespace_label: exported_namespace, "
                                       "pod_label: exported_pod, node_label: Hostname}\nteams:\n")


def test_gpu_queries_read_the_workload_labels_the_inventory_names():
    inv = inventory.parse(EXPORTED, "inv.yaml")
    rules = load_yaml(build(inv)[c.rules_file("small")])
    gpu = next(r for g in rules["groups"] for r in g["rules"] if r.get("record") == c.GPU_UTILIZATION)
    assert 'exported_namespace="llm"' in gpu["expr"] and 'exported_pod=~"small-.*"' in gpu["expr"]
    xid = next(r for g in rules["groups"] for r in g["rules"] if r.get("record") == c.GPU_XID_NEW)
    assert 'label_replace' in xid["expr"] and '"pod", "$1", "exported_pod"' in xid["expr"]


def gpu_dependent(rule_docs: list[dict]) -> set[str]:
    """Records and alerts that read a DCGM series, directly or through another such record."""
    rules = [r for doc in rule_docs for g in doc["groups"] for r in g["rules"]]
    names: set[str] = set()
    while True:
        found = {r.get("record") or r["alert"] for r in rules
                 if "DCGM_" in r["expr"] or any(reads(r["expr"], n) for n in names)}
        if found <= names:
            return names
        names |= found


def test_with_exported_labels_declared_every_generated_gpu_case_passes_in_promtool(promtool, tmp_path):
    """The generated inputs carry exported_namespace/exported_pod, as Prometheus stores a DCGM scrape
    with honorLabels: false; the GPU alerts fire on them (and the XID alert names the pod).

    The GPU cases are the test groups with DCGM inputs that assert an alert or a recorded value computed from a
    DCGM series (directly or through records, found from the rule files): firing and silent ones. promtool runs on
    those groups only; the others read no series the collector setting changes."""
    inv = inventory.parse(EXPORTED, "inv.yaml")
    files = build(inv)
    write(files, tmp_path, OUTPUT_DIRS)
    test = load_yaml(files[c.rules_test_file("small")])
    gpu_inputs = [s["series"] for g in test["tests"] for s in g["input_series"] if s["series"].startswith("DCGM_")]
    assert gpu_inputs and all("exported_pod=" in s for s in gpu_inputs)
    gpu = gpu_dependent([load_yaml(files[f"alerts/{Path(f).name}"]) for f in test["rule_files"]])
    assert {"LLMGPUMemoryNearFull", "LLMGPUXidErrors", "LLMGPUSaturated", c.GPU_UTILIZATION} <= gpu

    def gpu_cases(groups: list[dict]) -> list[dict]:
        return [g for g in groups if any(s["series"].startswith("DCGM_") for s in g["input_series"]) and (
            any(t["alertname"] in gpu for t in g.get("alert_rule_test", []))
            or any("DCGM_" in t["expr"] or any(reads(t["expr"], n) for n in gpu)
                   for t in g.get("promql_expr_test", [])))]

    failures, kept, _ = promtool_subset_failures(promtool, tmp_path, "small", gpu_cases)
    assert failures == ""
    fired = fired_alerts(kept)
    assert {"LLMGPUMemoryNearFull", "LLMGPUXidErrors", "LLMGPUSaturated"} <= fired
    assert any(expects_recorded_values(g) for g in kept)


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
    config = load_yaml((ROOT / c.ALERTMANAGER_FILE).read_text())
    rules = {tuple(r["source_matchers"]): r for r in config["inhibit_rules"]}
    down = rules[('alertname="LLMModelDown"',)]
    assert 'alertname!="LLMModelDown"' in down["target_matchers"] and "model" in down["equal"]
    assert "collector" in rules[('alertname="LLMCollectorDown"',)]["equal"]
    assert rules[('severity="critical"',)]["equal"][:2] == ["alertname", "model"]


def test_every_model_alert_carries_its_namespace_and_per_pod_alerts_keep_the_pod(example):
    files = built(ROOT / "inventory.yaml")
    for model in example.models:
        doc = load_yaml(files[c.rules_file(model.name)])
        for rule in (r for g in doc["groups"] for r in g["rules"] if "alert" in r):
            assert rule["labels"]["namespace"] == model.namespace, rule["alert"]
            if rule["alert"] in ("LLMPodNotReady", "LLMEngineCrashLooping", "LLMEngineOOMKilled",
                                 "LLMEngineScrapeFailing", "LLMGPUXidErrors"):
                assert "{{ $labels.pod }}" in rule["annotations"]["description"]


def test_an_alert_disabled_for_one_team_leaves_no_rule_case_or_runbook_for_it_there():
    text = MINIMAL.replace("  infra: {folder: Infra, labels: {team: infra}}\n",
                           "  infra: {folder: Infra, labels: {team: infra}, alerts: {LLMGPUSaturated: {enabled: false}}}\n"
                           "  other: {folder: Other}\n")
    inv = inventory.parse(text + model_yaml("second", team="other"), "inv.yaml")
    files = build(inv)
    for model, present in (("small", False), ("second", True)):
        rules = load_yaml(files[c.rules_file(model)])
        alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
        assert ("LLMGPUSaturated" in alerts) is present
        tests = load_yaml(files[c.rules_test_file(model)])["tests"]
        named = {t["alertname"] for g in tests for t in g.get("alert_rule_test", [])}
        assert ("LLMGPUSaturated" in named) is present
    runbook = files[c.runbook_file("LLMGPUSaturated")]
    assert "`second`" in runbook and "`small`" not in runbook


def test_overrides_set_severity_labels_and_keep_firing_for_on_the_rule():
    text = MINIMAL.replace("  thresholds: {", "  alerts: {LLMEngineStalled: {severity: warning, keep_firing_for: 15m, "
                                              "labels: {escalation: sre}}}\n"
                                              "  severity_labels: {warning: {route: ticket}}\n  thresholds: {")
    inv = inventory.parse(text, "inv.yaml")
    rules = load_yaml(build(inv)[c.rules_file("small")])
    stalled = next(r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "LLMEngineStalled")
    assert stalled["labels"]["severity"] == "warning" and stalled["labels"]["route"] == "ticket"
    assert stalled["labels"]["escalation"] == "sre" and stalled["keep_firing_for"] == "15m"


def test_the_dashboard_ttft_stat_is_traffic_weighted_over_the_range(promtool, tmp_path):
    # One busy hour at 99% good, one quiet hour at 50% good: 36,000 of 36,720 requests were good (0.980);
    # a mean of the 5-minute ratios would show about 0.75.
    inv = inventory.parse(MINIMAL, "inv.yaml")
    files = build(inv)
    board = json.loads(next(text for path, text in files.items() if path.endswith("llm-model-small.json")))
    panel = next(pn for pn in board["panels"] if pn.get("title") == "TTFT within SLO")
    stat = panel["targets"][0]["expr"].replace("$__range", "2h")
    (tmp_path / "rules.yaml").write_text(files[c.rules_file("small")])
    labels = 'model_name="org/small-1.0", namespace="llm", pod="small-x", cluster="test"'
    (tmp_path / "test.yaml").write_text(f"""\
rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'vllm:time_to_first_token_seconds_bucket{{{labels}, le="1.0"}}'
        values: '0+594x60 35646+6x59'
      - series: 'vllm:time_to_first_token_seconds_bucket{{{labels}, le="+Inf"}}'
        values: '0+600x60 36012+12x59'
      - series: 'vllm:time_to_first_token_seconds_count{{{labels}}}'
        values: '0+600x60 36012+12x59'
    promql_expr_test:
      - expr: '({stat} > bool 0.979) + ({stat} < bool 0.981)'
        eval_time: 120m
        exp_samples:
          - labels: '{{cluster="test", model="small", slo="ttft"}}'
            value: 2
""")
    result = run_promtool(promtool, "test", "rules", str(tmp_path / "test.yaml"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


@pytest.mark.parametrize("burn,fires", [(4, ["1d", "3d"]), (Decimal("0.9"), [])],
                         ids=["a 4x burn for a day raises both ticket tiers and no page",
                              "a 0.9x burn raises nothing"])
def test_a_sustained_burn_raises_the_ticket_tiers_and_a_slower_one_nothing(promtool, tmp_path, burn, fires):
    inv = inventory.parse(MINIMAL, "inv.yaml")
    model = inv.models[0]
    files = build(inv)
    (tmp_path / "rules.yaml").write_text(files[c.rules_file("small")])
    (tmp_path / "windows.yaml").write_text(files[c.SLO_WINDOWS_FILE])  # the 1d, 3d, 2h and 6h windows
    per_minute = Decimal(600)  # 10 requests/s, `burn` times the 0.5% budget failing
    failed = per_minute * burn * (1 - model.slo.availability)
    http = 'handler="/v1/chat/completions", method="POST", namespace="llm", pod="small-x", cluster="test"'
    engine = 'model_name="org/small-1.0", namespace="llm", pod="small-x", cluster="test", finished_reason="stop"'
    labels = {"alertname": "LLMErrorBudgetBurn", "alertstate": "firing", "model": "small", "cluster": "test",
              "namespace": "llm", "team": "infra", "severity": "warning"}
    windows = {"1d": "2h", "3d": "6h"}
    samples = "".join(
        "\n          - labels: 'ALERTS{" + ", ".join(f'{k}="{v}"' for k, v in
                                          sorted({**labels, "long": w, "short": windows[w]}.items())) + "}'\n"
        "            value: 1" for w in fires) or " []"
    (tmp_path / "test.yaml").write_text(f"""\
rule_files: [rules.yaml, windows.yaml]
evaluation_interval: 5m
tests:
  - interval: 5m
    input_series:
      - series: 'http_requests_total{{{http}, status="5xx"}}'
        values: '0+{failed * 5}x320'
      - series: 'http_requests_total{{{http}, status="2xx"}}'
        values: '0+{(per_minute - failed) * 5}x320'
      - series: 'vllm:request_success_total{{{engine}}}'
        values: '0+{per_minute * 5}x320'
    promql_expr_test:
      - expr: 'ALERTS{{alertname="LLMErrorBudgetBurn", alertstate="firing"}}'
        eval_time: 25h
        exp_samples:{samples}
""")
    result = run_promtool(promtool, "test", "rules", str(tmp_path / "test.yaml"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
