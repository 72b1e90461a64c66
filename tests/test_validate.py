"""`validate`: the shipped output passes; each broken input fails on the right check and place; garbage never crashes.

The corpus is data: each case breaks one thing in the freshly generated output of
a small inventory (a vLLM 0.8.5 model and a Triton one) and names the check and
location that must report it.
"""
from __future__ import annotations

import argparse
import copy
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from generator import conventions as c
from generator import inventory
from generator.build import build
from generator.validate import CHECKS, ERROR, WARNING, command, gotemplate, load, report, validate
from generator.validate import expr as x

from conftest import HEADER, ROOT, WEIRD_YAML, generate_into, model_yaml, run_promtool

SMALL_HEADER = HEADER.replace("ttft: {threshold_seconds: 1.0", "ttft: {threshold_seconds: 0.5")  # a Triton bound
SMALL = SMALL_HEADER + """\
kubernetes:
  namespace: monitoring
  rule_labels: {release: prom}
  dashboards: both
  operator: {instance_selector: {dashboards: grafana}}
models:
""" + model_yaml("chat", served_name="org/chat-8B", engine_version="0.8.5", replicas=(2, 4)) + model_yaml(
    "trt", served_name="ensemble", engine="triton-trtllm", engine_version="25.01", gpu="H100-80GB", per_replica=2)
CHAT_RULES, TRT_RULES = "alerts/chat.rules.yaml", "alerts/trt.rules.yaml"
CHAT_RULE_OBJECT, CHAT_OPERATOR = "kubernetes/prometheusrule/llm-chat.yaml", "kubernetes/grafanadashboard/llm-model-chat.yaml"
CHAT, TRT, FLEET, GPU = "llm-model-chat", "llm-model-trt", "llm-fleet-overview", "llm-gpu-fleet"
SEL = 'model_name="org/chat-8B", cluster="test"'


@functools.lru_cache(maxsize=1)
def _generated() -> dict[str, str]:
    return build(inventory.parse(SMALL, "inventory.yaml"))


def board_file(uid: str) -> str:
    """Where the dashboard with this uid is generated: dashboards/<folder>/<uid>.json."""
    return next(rel for rel in _generated() if rel.startswith("dashboards/") and rel.endswith(f"/{uid}.json"))


class Bundle:
    """The generated output of SMALL in a temporary folder, with helpers to break one thing."""

    def __init__(self, root: Path):
        self.root = root
        self.inventory = root / "inventory.yaml"
        self.inventory.write_text(SMALL)
        for rel, content in _generated().items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(content)
        self._rules: dict[str, dict] = {}
        self._boards: dict[str, dict] = {}
        self._manifests: dict[str, dict] = {}

    # rules
    def rules(self, rel: str = CHAT_RULES) -> dict:
        if rel not in self._rules:
            self._rules[rel] = yaml.safe_load((self.root / rel).read_text())
        return self._rules[rel]

    def groups(self, kind: str, rel: str = CHAT_RULES) -> list[dict]:
        """The file's recording groups (record) or alert groups (alert), split to fit the ruler."""
        return [g for g in self.rules(rel)["groups"] if all(kind in r for r in g["rules"])]

    def group(self, kind: str, rel: str = CHAT_RULES) -> list[dict]:
        """The rules of the first group of that kind, to append to."""
        return self.groups(kind, rel)[0]["rules"]

    def alert(self, name: str, nth: int = 0, rel: str = CHAT_RULES) -> dict:
        return [r for g in self.groups("alert", rel) for r in g["rules"] if r["alert"] == name][nth]

    def record(self, name: str, rel: str = CHAT_RULES) -> dict:
        return next(r for g in self.groups("record", rel) for r in g["rules"] if r["record"] == name)

    # dashboards
    def board(self, uid: str) -> dict:
        if uid not in self._boards:
            self._boards[uid] = json.loads((self.root / board_file(uid)).read_text())
        return self._boards[uid]

    def panel(self, uid: str, title: str) -> dict:
        top = self.board(uid)["panels"]
        return next(p for p in top + [q for row in top for q in row.get("panels", [])] if p.get("title") == title)

    # manifests
    def manifest(self, rel: str) -> dict:
        if rel not in self._manifests:
            self._manifests[rel] = yaml.safe_load((self.root / rel).read_text())
        return self._manifests[rel]

    def write(self, rel: str, text: str):
        (self.root / rel).write_text(text)

    def findings(self):
        for rel, data in self._rules.items():
            self.write(rel, yaml.safe_dump(data, sort_keys=False, width=1 << 16))
        for uid, data in self._boards.items():
            self.write(board_file(uid), json.dumps(data, indent=2))
        for rel, data in self._manifests.items():
            self.write(rel, yaml.safe_dump(data, sort_keys=False, width=1 << 16))
        return validate(self.inventory, self.root)


@pytest.fixture
def bundle(tmp_path) -> Bundle:
    return Bundle(tmp_path)


def errors(findings):
    return [f for f in findings if f.severity >= ERROR]


def describe(findings) -> str:
    return "\n".join(f"{f.check} {f.severity} {f.location} | {f.message}" for f in findings) or "(no findings)"


# -- what ships passes -----------------------------------------------------


# Names that need escaping or shortening everywhere they land: a served name with PromQL string escapes, regex
# metacharacters and a Go template action; a model name too long for a dashboard uid; a folder title that is
# no slug.
WEIRD_NAMES = SMALL_HEADER.replace("teams:\n", "teams:\n  data: {folder: 'Équipe Données / GPU (EU)'}\n") + \
    "models:\n" + model_yaml("chat", served_name=WEIRD_YAML, team="data") + model_yaml(
        "a-model-name-long-enough-to-need-a-hashed-uid", served_name="ensemble", engine="triton-trtllm",
        engine_version="25.01", gpu="H100", per_replica=2)


def _weird_names_output(tmp_path: Path) -> tuple[Path, Path]:
    generate_into(tmp_path, WEIRD_NAMES)
    return tmp_path / "inventory.yaml", tmp_path


OUTPUTS = {
    "the example inventory's committed output": lambda tmp_path: (ROOT / "inventory.yaml", ROOT),
    "the committed golden tree": lambda tmp_path: (ROOT / "tests/golden/inventory.yaml", ROOT / "tests/golden"),
    "weird names, freshly generated": _weird_names_output,
}


@pytest.mark.parametrize("output", OUTPUTS, ids=list(OUTPUTS))
def test_validate_finds_nothing_in(output, tmp_path):
    """Every house rule validate checks holds on what ships: the corpus below proves each check would say."""
    findings = validate(*OUTPUTS[output](tmp_path))
    assert not findings, describe(findings)


def test_the_example_output_reads_every_rule_dashboard_and_query():
    ctx = load(ROOT / "inventory.yaml", ROOT)
    assert ctx.inventory is not None and not ctx.problems
    assert {r.model.name for r in ctx.rules if r.model} == {m.name for m in ctx.inventory.models}
    assert {r.file for r in ctx.rules if r.model is None} == {c.COLLECTORS_FILE, c.SLO_WINDOWS_FILE}
    assert len(ctx.dashboards) == len(ctx.inventory.models) + 2
    assert all(q.parsed.ast is not None for q in ctx.queries)
    assert sum(q.kind == "target" for q in ctx.queries) > 100


def test_a_freshly_generated_small_inventory_validates_clean(bundle):
    findings = bundle.findings()
    assert not findings, describe(findings)


# -- the corpus: each check catches its broken input ------------------------


@dataclass(frozen=True)
class Case:
    description: str
    breaks: Callable[[Bundle], None]
    check: str
    where: dict  # Location fields the finding must have
    severity: object = ERROR
    says: str = ""  # a fragment the message must contain


def _set(target: dict, key: str, value):
    target[key] = value


def _expr(b: Bundle, uid: str, title: str, text: str, ref: int = 0):
    b.panel(uid, title)["targets"][ref]["expr"] = text


def _replace_expr(b: Bundle, uid: str, title: str, old: str, new: str):
    target = b.panel(uid, title)["targets"][0]
    assert old in target["expr"]
    target["expr"] = target["expr"].replace(old, new)


def _duplicate_alert(b: Bundle):
    rules = b.group("alert")
    rules.append(copy.deepcopy(b.alert("LLMKVCacheNearFull")))


def _duplicate_record(b: Bundle):
    rules = b.group("record")
    rules.append(copy.deepcopy(b.record("llm:requests_running:sum")))


def _unsplit(b: Bundle):
    """The recording groups merged back into one group of more than 20 rules."""
    parts = b.groups("record")
    merged = {"name": "llm-chat-recording", "rules": [r for g in parts for r in g["rules"]]}
    b.rules()["groups"] = [merged] + [g for g in b.rules()["groups"] if g not in parts]


def _le(b: Bundle, value: str):
    """The TTFT SLI's bucket matcher (in its good-requests rate, which the ratio reads) set to `value`."""
    rule = next(r for g in b.groups("record") for r in g["rules"]
                if r["record"] == GOOD and r["labels"].get("slo") == "ttft")
    start = rule["expr"].index("le=")
    end = rule["expr"].index('"', rule["expr"].index('"', start) + 1) + 1
    rule["expr"] = rule["expr"][:start] + value + rule["expr"][end:]


def _misplaced(b: Bundle):
    (b.root / board_file(CHAT)).rename(b.root / "dashboards" / f"{CHAT}.json")


def _overlap(b: Bundle):
    b.panel(CHAT, "Requests waiting")["gridPos"] = dict(b.panel(CHAT, "Requests running")["gridPos"])


def _same_panel_id(b: Bundle):
    b.panel(CHAT, "Requests waiting")["id"] = b.panel(CHAT, "Requests running")["id"]


def _variable(b: Bundle, uid: str, name: str) -> dict:
    return next(v for v in b.board(uid)["templating"]["list"] if v["name"] == name)


def _inventory(b: Bundle, old: str, new: str):
    assert old in SMALL
    b.inventory.write_text(SMALL.replace(old, new))


def _rule_file(b: Bundle, text: str):
    b.write(CHAT_RULES, text)


def _drop_annotation(name: str, key: str):
    return lambda b: b.alert(name)["annotations"].pop(key)


GOOD = "llm:slo_good_requests:rate5m"
ALERT = {"file": CHAT_RULES, "group": "llm-chat-alerts"}
RECORD = {"file": CHAT_RULES, "group": "llm-chat-recording"}

CASES = [
    # PromQL
    Case("an alert expression that is not PromQL",
         lambda b: _set(b.alert("LLMQueueBackingUp"), "expr", "sum(rate(llm:requests_waiting:sum[5m]"),
         "promql/syntax", {**ALERT, "rule": "LLMQueueBackingUp"}),
    Case("a dashboard target that is not PromQL", lambda b: _expr(b, CHAT, "Requests waiting", "sum(vllm:{"),
         "promql/syntax", {"dashboard": CHAT, "panel": "Requests waiting", "target": "A"}),
    Case("a gauge rated in a dashboard",
         lambda b: _expr(b, CHAT, "Requests running",
                         f"sum(rate(vllm:num_requests_running{{{SEL}}}[$__rate_interval]))"),
         "promql/rate-on-gauge", {"dashboard": CHAT, "panel": "Requests running"}, says="vllm:num_requests_running"),
    Case("a recorded llm: series rated in an alert",
         lambda b: _set(b.alert("LLMQueueBackingUp"), "expr",
                        'rate(llm:requests_waiting:sum{model="chat", cluster="test"}[5m]) > 1'),
         "promql/rate-on-gauge", {**ALERT, "rule": "LLMQueueBackingUp"}),
    Case("a raw counter plotted without rate",
         lambda b: _expr(b, CHAT, "Requests", f"sum(vllm:request_success_total{{{SEL}}})"),
         "promql/raw-counter", {"dashboard": CHAT, "panel": "Requests", "target": "A"}),
    Case("a raw histogram count in a recording rule",
         lambda b: _set(b.record("llm:requests_running:sum"), "expr",
                        f"sum(vllm:e2e_request_latency_seconds_count{{{SEL}}})"),
         "promql/raw-counter", {**RECORD, "rule": "llm:requests_running:sum"}),
    Case("histogram_quantile after summing le away",
         lambda b: _set(b.record("llm:ttft_seconds:quantile_rate5m"), "expr",
                        b.record("llm:ttft_seconds:quantile_rate5m")["expr"].replace("sum by (le) ", "sum ")),
         "promql/histogram-quantile", {**RECORD, "rule": "llm:ttft_seconds:quantile_rate5m"}),
    Case("histogram_quantile in a dashboard aggregating by pod only",
         lambda b: _replace_expr(b, CHAT, "Time to first token", "sum by (le)", "sum by (pod)"),
         "promql/histogram-quantile", {"dashboard": CHAT, "panel": "Time to first token", "target": "A"}),
    # catalog
    Case("a metric from a newer vLLM used with vLLM 0.8.5",
         lambda b: _expr(b, CHAT, "KV-cache usage", f"max(vllm:kv_cache_usage_perc{{{SEL}}})"),
         "catalog/unknown-metric", {"dashboard": CHAT, "panel": "KV-cache usage", "target": "A"},
         says="vLLM 0.8.5 (model chat); vLLM exposes vllm:kv_cache_usage_perc from 0.9.2"),
    Case("a Triton metric on a vLLM dashboard",
         lambda b: _expr(b, CHAT, "Requests waiting",
                         'sum(nv_trt_llm_request_metrics{model="tensorrt_llm", request_type="active"})'),
         "catalog/unknown-metric", {"dashboard": CHAT, "panel": "Requests waiting"}, says="Triton"),
    Case("a misspelt metric in a recording rule",
         lambda b: _set(b.record("llm:requests_running:sum"), "expr", f"sum(vllm:num_request_running{{{SEL}}})"),
         "catalog/unknown-metric", {**RECORD, "rule": "llm:requests_running:sum"},
         says="did you mean vllm:num_requests_running"),
    Case("an engine metric on the fleet dashboard",
         lambda b: _expr(b, FLEET, "Requests by model", "sum by (model_name) (vllm:num_requests_running)"),
         "catalog/unknown-metric", {"dashboard": FLEET, "panel": "Requests by model"}),
    Case("a DCGM field outside the catalog on the GPU dashboard",
         lambda b: _expr(b, GPU, "Temperature per GPU", 'max by (node, gpu) (DCGM_FI_PROF_SM_ACTIVE{Hostname=~"$node"})'),
         "catalog/unknown-metric", {"dashboard": GPU, "panel": "Temperature per GPU", "target": "A"},
         says="DCGM_FI_PROF_SM_ACTIVE"),
    Case("an llm: series no rule records",
         lambda b: _expr(b, FLEET, "Requests by model", 'sum by (model) (llm:requests:rate2m{model=~"$model"})'),
         "rules/undefined-recording-rule", {"dashboard": FLEET, "panel": "Requests by model", "target": "A"}),
    Case("an llm: series recorded for other models only",
         lambda b: _set(b.alert("LLMKVCacheNearFull", rel=TRT_RULES), "expr",
                        'llm:preemptions:rate5m{model="trt", cluster="test"} > 1'),
         "rules/undefined-recording-rule", {"file": TRT_RULES, "rule": "LLMKVCacheNearFull"}, says='model="trt"'),
    # SLO buckets
    Case('an le="0.7" matcher, between two TTFT buckets', lambda b: _le(b, 'le="0.7"'),
         "slo/bucket-boundary", {**RECORD, "rule": GOOD}, says="0.5 below and 0.75 above"),
    Case('an le=~"3(\\.0)?" matcher, not a TTFT bucket', lambda b: _le(b, 'le=~"3(\\\\.0)?"'),
         "slo/bucket-boundary", {**RECORD, "rule": GOOD}, says="2.5 below and 5 above"),
    Case('an integral bound matched as le="1" only', lambda b: _le(b, 'le="1"'),
         "slo/bucket-boundary", {**RECORD, "rule": GOOD}, severity=WARNING),
    Case("an inventory TTFT threshold of 0.7 s",
         lambda b: _inventory(b, "ttft: {threshold_seconds: 0.5", "ttft: {threshold_seconds: 0.7"),
         "slo/bucket-boundary", {"key": "defaults.slo.ttft.threshold_seconds", "line": 7}, says="0.5 s below and 0.75 s above"),
    # alerts
    Case("an alert without severity", lambda b: b.alert("LLMKVCacheNearFull")["labels"].pop("severity"),
         "alerts/labels", {**ALERT, "rule": "LLMKVCacheNearFull"}),
    Case("an alert with severity page", lambda b: b.alert("LLMKVCacheNearFull")["labels"].update(severity="page"),
         "alerts/labels", {**ALERT, "rule": "LLMKVCacheNearFull"}),
    Case("an alert without for", lambda b: b.alert("LLMGPUSaturated").pop("for"),
         "alerts/for", {**ALERT, "rule": "LLMGPUSaturated"}),
    Case("an alert without runbook_url", _drop_annotation("LLMGPUSaturated", "runbook_url"),
         "alerts/annotations", {**ALERT, "rule": "LLMGPUSaturated"}, says="runbook_url"),
    Case("an alert with an empty summary", lambda b: b.alert("LLMGPUSaturated")["annotations"].update(summary=""),
         "alerts/annotations", {**ALERT, "rule": "LLMGPUSaturated"}, says="summary"),
    Case("a description reading $labels.pod after pod is aggregated away",
         lambda b: b.alert("LLMKVCacheNearFull")["annotations"].update(description="KV cache full on {{ $labels.pod }}"),
         "alerts/template", {**ALERT, "rule": "LLMKVCacheNearFull"}, says="$labels.pod"),
    Case("an unbalanced template", lambda b: b.alert("LLMKVCacheNearFull")["annotations"].update(
        description="{{ $value | humanizePercentage full"), "alerts/template", {**ALERT, "rule": "LLMKVCacheNearFull"},
        says="unclosed action"),
    Case("a template calling an unknown function", lambda b: b.alert("LLMKVCacheNearFull")["annotations"].update(
        description="{{ $value | humanise }}"), "alerts/template", {**ALERT, "rule": "LLMKVCacheNearFull"},
        says='function "humanise" not defined'),
    Case("an if without end", lambda b: b.alert("LLMKVCacheNearFull")["annotations"].update(
        summary="{{ if gt $value 0.5 }}high"), "alerts/template", {**ALERT, "rule": "LLMKVCacheNearFull"}),
    Case("a recording group holding every recording rule", _unsplit, "rules/group-size",
         {**RECORD, "group": "llm-chat-recording"}, says="rules, over the ruler limit of 20"),
    Case("two identical alerts in one file", _duplicate_alert, "alerts/duplicate",
         {**ALERT, "rule": "LLMKVCacheNearFull"}),
    Case("a recording rule recorded twice", _duplicate_record, "rules/duplicate",
         {**RECORD, "rule": "llm:requests_running:sum"}),
    Case("a dashboard_url to a missing uid", lambda b: b.alert("LLMGPUSaturated")["annotations"].update(
        dashboard_url="https://grafana.test/d/llm-model-gone"), "alerts/link", {**ALERT, "rule": "LLMGPUSaturated"}),
    Case("a runbook_url to a missing runbook", lambda b: b.alert("LLMGPUSaturated")["annotations"].update(
        runbook_url="https://runbooks.test/llm/LLMGPUMelted.md"), "alerts/link", {**ALERT, "rule": "LLMGPUSaturated"}),
    # dashboards
    Case("a panel without datasource", lambda b: b.panel(CHAT, "Requests running").pop("datasource"),
         "dashboard/datasource", {"dashboard": CHAT, "panel": "Requests running"}),
    Case("a target with a fixed datasource", lambda b: b.panel(CHAT, "Requests running")["targets"][0].update(
        datasource={"type": "prometheus", "uid": "prom-eu"}), "dashboard/datasource",
        {"dashboard": CHAT, "panel": "Requests running", "target": "A"}),
    Case("an annotation reading Grafana's default data source", lambda b: b.board(CHAT)["annotations"]["list"][
        0].pop("datasource"), "dashboard/datasource", {"dashboard": CHAT, "key": "annotation 'New pods (deploy, "
                                                                             "restart or scale-up)'"}),
    Case("a query variable with a fixed datasource", lambda b: _variable(b, CHAT, "pod").update(
        datasource={"type": "prometheus", "uid": "prom-eu"}), "dashboard/datasource",
        {"dashboard": CHAT, "key": "variable 'pod'"}, says="prom-eu"),
    Case("a dashboard without the datasource variable", lambda b: b.board(CHAT)["templating"]["list"].remove(
        _variable(b, CHAT, "datasource")), "dashboard/datasource", {"dashboard": CHAT, "key": "templating"}),
    Case("a panel without unit", lambda b: b.panel(CHAT, "Requests running")["fieldConfig"]["defaults"].pop("unit"),
         "dashboard/unit", {"dashboard": CHAT, "panel": "Requests running"}),
    Case("a panel without description", lambda b: b.panel(CHAT, "Requests running").pop("description"),
         "dashboard/description", {"dashboard": CHAT, "panel": "Requests running"}),
    Case("a rate over [5m] instead of $__rate_interval",
         lambda b: _replace_expr(b, CHAT, "Requests", "$__rate_interval", "5m"),
         "dashboard/rate-interval", {"dashboard": CHAT, "panel": "Requests", "target": "A"}, says="[5m]"),
    Case("two panels sharing an id", _same_panel_id, "dashboard/panel-id",
         {"dashboard": CHAT, "panel": "Requests waiting"}),
    Case("a panel 25 columns wide", lambda b: b.panel(CHAT, "Error ratio")["gridPos"].update(w=25),
         "dashboard/grid", {"dashboard": CHAT, "panel": "Error ratio"}),
    Case("two overlapping panels", _overlap, "dashboard/grid", {"dashboard": CHAT, "panel": "Requests waiting"},
         says="overlaps"),
    Case("a 41-character uid", lambda b: b.board(GPU).update(uid="g" * 41), "dashboard/uid",
         {"file": f"dashboards/{GPU}.json"}),
    Case("a link to a missing uid", lambda b: b.board(CHAT)["links"][0].update(url="/d/llm-nowhere"),
         "dashboard/link", {"dashboard": CHAT}, says="llm-nowhere"),
    Case("a panel link to a missing uid", lambda b: b.panel(CHAT, "Requests").update(
        links=[{"title": "more", "url": "https://grafana.test/d/llm-nowhere/x?orgId=1"}]), "dashboard/link",
        {"dashboard": CHAT, "panel": "Requests"}),
    Case("a dashboard with schemaVersion 27", lambda b: b.board(CHAT).update(schemaVersion=27), "dashboard/schema",
         {"dashboard": CHAT, "key": "schemaVersion"}),
    Case("a dashboard carrying hideControls", lambda b: b.board(CHAT).update(hideControls=False),
         "dashboard/grafana-schema", {"dashboard": CHAT, "key": "hideControls"}),
    Case("a dashboard with gnetId: null", lambda b: b.board(FLEET).update(gnetId=None), "dashboard/grafana-schema",
         {"dashboard": FLEET, "key": "gnetId"}, says="gnetId: null"),
    Case("a row panel carrying data-panel keys", lambda b: b.board(CHAT)["panels"][0].update(targets=[]),
         "dashboard/grafana-schema", {"dashboard": CHAT, "key": "panels[0].targets"}),
    Case("a null decimals", lambda b: b.panel(CHAT, "Requests")["fieldConfig"]["defaults"].update(decimals=None),
         "dashboard/grafana-schema", {"dashboard": CHAT}, says="decimals: null"),
    Case("a dashboard without panels", lambda b: b.board(GPU).pop("panels"), "dashboard/schema",
         {"dashboard": GPU, "key": "panels"}),
    Case("a chart target with an empty query", lambda b: _expr(b, CHAT, "Requests", " "), "dashboard/schema",
         {"dashboard": CHAT, "panel": "Requests", "target": "A"}, says="no `expr`"),
    Case("a stat panel without targets", lambda b: b.panel(CHAT, "Availability").pop("targets"), "dashboard/schema",
         {"dashboard": CHAT, "panel": "Availability"}),
    # reading
    Case("a rule file that is not YAML", lambda b: _rule_file(b, "groups:\n  - name: x\n    rules: [\n"),
         "yaml/parse", {"file": CHAT_RULES}),
    Case("a rule with both alert and record",
         lambda b: b.alert("LLMGPUSaturated").update(record="llm:gpu:saturated"), "yaml/parse",
         {**ALERT, "rule": "LLMGPUSaturated"}),
    Case("a recording rule with a for", lambda b: b.record("llm:requests_running:sum").update({"for": "5m"}),
         "yaml/parse", {**RECORD, "rule": "llm:requests_running:sum"}),
    Case("an inventory naming an unknown engine", lambda b: _inventory(b, "engine: vllm", "engine: vlm"),
         "inventory/schema", {"key": "models[0].engine"}, says="did you mean 'vllm'"),
    Case("a dashboard outside its team's folder directory", _misplaced, "output/coverage",
         {"dashboard": CHAT}, says="dashboards/infra/llm-model-chat.json"),
    # manifests
    Case("a GrafanaDashboard without instanceSelector", lambda b: b.manifest(CHAT_OPERATOR)["spec"].pop(
        "instanceSelector"), "kubernetes/manifests", {"file": CHAT_OPERATOR, "key": "spec.instanceSelector"}),
    Case("a PrometheusRule named with capitals", lambda b: b.manifest(CHAT_RULE_OBJECT)["metadata"].update(
        name="LLM_chat"), "kubernetes/manifests", {"file": CHAT_RULE_OBJECT, "key": "metadata.name"}),
    Case("a PrometheusRule whose groups differ from the rule file", lambda b: b.manifest(CHAT_RULE_OBJECT)["spec"][
        "groups"][0]["rules"].pop(), "kubernetes/manifests", {"file": CHAT_RULE_OBJECT, "key": "spec.groups"},
        says="differs from alerts/chat.rules.yaml", severity=WARNING),
    Case("a GrafanaDashboard in a folder that is not generated", lambda b: b.manifest(CHAT_OPERATOR)["spec"].update(
        folderRef="llm-team-gone"), "kubernetes/manifests", {"file": CHAT_OPERATOR, "key": "spec.folderRef"}),
    Case("a manifest the kustomization does not list", lambda b: b.write(
        "kubernetes/configmap/extra.yaml", (b.root / "kubernetes/configmap/llm-model-chat.yaml").read_text().replace(
            "name: llm-model-chat", "name: extra")), "kubernetes/manifests",
        {"file": "kubernetes/configmap/extra.yaml"}, says="not listed"),
    Case("a `for` with units out of order, which Prometheus refuses",
         lambda b: b.alert("LLMKVCacheNearFull").update({"for": "5s5m"}), "alerts/for",
         {**ALERT, "rule": "LLMKVCacheNearFull"}, says="largest first"),
    Case("a `for` longer than Prometheus can hold", lambda b: b.alert("LLMKVCacheNearFull").update(
        {"for": "99999999999999y"}), "alerts/for", {**ALERT, "rule": "LLMKVCacheNearFull"}, says="292 years"),
    Case("a __name__ label on an alert, which Prometheus refuses",
         lambda b: b.alert("LLMKVCacheNearFull")["labels"].update({"__name__": "x"}), "yaml/parse",
         {**ALERT, "rule": "LLMKVCacheNearFull"}, says="reserved"),
    Case("a dashboard query nested deeper than the parser can take",
         lambda b: _expr(b, CHAT, "Requests waiting", "(" * 5000 + "up" + ")" * 5000), "promql/syntax",
         {"dashboard": CHAT, "panel": "Requests waiting", "target": "A"}, says="over the limit"),
    Case("a duplicate key in the inventory is reported beside its other errors",
         lambda b: _inventory(b, "engine: vllm", "engine: vlm\n    engine: vllm"), "inventory/schema",
         {"key": "models[0].engine"}, says="did you mean 'vllm'"),
    Case("a model's rule file missing", lambda b: (b.root / TRT_RULES).unlink(), "output/coverage",
         {"file": "inventory.yaml"}, says=TRT_RULES),
]


def _matches(finding, case: Case) -> bool:
    loc = finding.location
    where = all((Path(loc.file).name == Path(v).name) if k == "file" else _group_matches(loc.group, v) if k == "group"
                else getattr(loc, k) == v for k, v in case.where.items())
    return finding.check == case.check and where and finding.severity == case.severity and case.says in finding.message


def _group_matches(group, expected: str) -> bool:
    """The group, its slow twin (evaluated every `window_interval`), or one of the parts either was split into
    to fit the ruler."""
    twins = {c.alert_group("chat"): c.slow_alert_group("chat"), c.recording_group("chat"): c.slow_recording_group("chat")}
    return isinstance(group, str) and any(group == name or re.fullmatch(re.escape(name) + r"-\d+", group)
                                          for name in (expected, twins.get(expected, expected)))


@pytest.mark.parametrize("case", CASES, ids=[c.description for c in CASES])
def test_validate_catches(case, bundle):
    case.breaks(bundle)
    findings = bundle.findings()
    assert any(_matches(f, case) for f in findings), describe(findings)
    if case.severity >= ERROR:
        assert command_exit(bundle) == 1


def test_every_check_has_a_case_in_the_corpus():
    covered = {c.check for c in CASES}
    assert {c.id for c in CHECKS} <= covered


def command_exit(bundle: Bundle, *extra: str) -> int:
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    args = parser.parse_args(["validate", "--inventory", str(bundle.inventory), "--output", str(bundle.root), *extra])
    return args.func(args)


# -- garbage never crashes ---------------------------------------------------

GARBAGE = {
    "an empty rule file": (CHAT_RULES, ""),
    "a rule file that is a list": (CHAT_RULES, "- 1\n- 2\n"),
    "a rule file with groups as a string": (CHAT_RULES, "groups: nope\n"),
    "rules that are numbers and strings": (CHAT_RULES, "groups:\n- name: g\n  rules: [1, x, null]\n"),
    "a rule without expr and labels as a list": (CHAT_RULES, "groups:\n- name: g\n  rules:\n  - alert: A\n    labels: [1]\n"),
    "non-PromQL text in every expr": (CHAT_RULES, "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: this is not promql\n"
                                                  "    annotations: {description: '{{'}\n  - record: 'a b'\n    expr: 12\n"),
    "invalid YAML": (CHAT_RULES, "groups: [\n  - {name: \n"),
    "a YAML file with duplicate keys": (CHAT_RULES, "groups: []\ngroups: []\n"),
    "binary junk in a rule file": (CHAT_RULES, "\x00\x01\x02\xff"),
    "a dashboard that is a JSON list": (f"dashboards/infra/{CHAT}.json", "[1, 2, 3]"),
    "a dashboard that is not JSON": (f"dashboards/infra/{CHAT}.json", "{\"uid\": "),
    "an empty dashboard object": (f"dashboards/infra/{CHAT}.json", "{}"),
    "a dashboard missing panels and targets": (f"dashboards/infra/{CHAT}.json",
                                               '{"uid": "llm-model-chat", "title": "t", "schemaVersion": 39, '
                                               '"panels": [{"type": "timeseries", "id": 1}]}'),
    "panels of the wrong types": (f"dashboards/infra/{CHAT}.json",
                                  '{"uid": 5, "panels": [1, "x", null, {"gridPos": "a", "targets": "b", "id": "c"}, '
                                  '{"targets": [1, {"expr": 3}, {"expr": "rate(x[5m]"}], "gridPos": {"x": "1"}}], '
                                  '"links": [1, {"type": "link", "url": 3}], "templating": [], "annotations": {"list": 1}}'),
    "a dashboard nested a thousand levels deep": (f"dashboards/infra/{CHAT}.json", "[" * 1000 + "]" * 1000),
    "a manifest that is not YAML": (CHAT_RULE_OBJECT, "spec: [\n"),
    "a manifest that is a list": (CHAT_RULE_OBJECT, "- 1\n"),
    "a manifest with garbage fields": (CHAT_OPERATOR, "kind: GrafanaDashboard\nmetadata: 3\nspec: {instanceSelector: 1, "
                                                      "configMapRef: [], folderRef: 2, json: 5}\n"),
    "a kustomization that is not a mapping": ("kubernetes/kustomization.yaml", "- a\n"),
    "a dashboard query 20,000 brackets deep": (f"dashboards/infra/{CHAT}.json", json.dumps(
        {"uid": "llm-model-chat", "title": "t", "schemaVersion": 39, "panels": [
            {"type": "timeseries", "id": 1, "targets": [{"expr": "(" * 20000 + "up" + ")" * 20000}]}]})),
    "a dashboard query of 10,000 additions": (f"dashboards/infra/{CHAT}.json", json.dumps(
        {"uid": "llm-model-chat", "title": "t", "schemaVersion": 39, "panels": [
            {"type": "timeseries", "id": 1, "targets": [{"expr": "+".join(["up"] * 10000)}]}]})),
    "an alias-bomb rule file": (CHAT_RULES, "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdef", "bcdefg", strict=True))),
    "a rule file nested 20,000 levels deep": (CHAT_RULES, "groups: " + "[" * 20000 + "]" * 20000 + "\n"),
    "an inventory that is not YAML": ("inventory.yaml", "models: [\n"),
    "an empty inventory": ("inventory.yaml", ""),
    "an inventory that is a list": ("inventory.yaml", "- a\n"),
}


@pytest.mark.parametrize("name", GARBAGE, ids=list(GARBAGE))
def test_every_check_survives(name, bundle):
    rel, text = GARBAGE[name]
    bundle.write(rel, text)
    ctx = load(bundle.inventory, bundle.root)
    for check in CHECKS:
        try:
            findings = check.check(ctx)
        except Exception as exc:  # name the check that crashed
            pytest.fail(f"{check.id} crashed on {name}: {exc!r}")
        assert all(f.check == check.id and f.message for f in findings), check.id


@pytest.mark.parametrize("name", GARBAGE, ids=list(GARBAGE))
def test_garbage_is_reported_not_raised(name, bundle):
    rel, text = GARBAGE[name]
    bundle.write(rel, text)
    assert command_exit(bundle) == 1


def test_a_missing_output_folder_is_reported(tmp_path):
    (tmp_path / "inventory.yaml").write_text(SMALL)
    findings = validate(tmp_path / "inventory.yaml", tmp_path / "nowhere")
    assert {f.check for f in errors(findings)} == {"output/coverage", "kubernetes/manifests"}


def test_promtool_test_files_beside_the_rules_are_not_read_as_rules(bundle):
    bundle.write("alerts/chat.tests.yaml", "rule_files: [chat.rules.yaml]\ntests: []\n")
    (bundle.root / "alerts" / "tests").mkdir(exist_ok=True)
    bundle.write("alerts/tests/extra.yaml", "rule_files: [../chat.rules.yaml]\ntests: []\n")
    findings = bundle.findings()
    assert not findings, describe(findings)


def test_a_renamed_rule_file_still_maps_to_its_model_through_the_model_label(bundle):
    (bundle.root / CHAT_RULES).rename(bundle.root / "alerts" / "renamed.rules.yaml")
    bundle.record("llm:requests_running:sum", rel="alerts/renamed.rules.yaml")["expr"] = \
        f"sum(vllm:kv_cache_usage_perc{{{SEL}}})"
    findings = bundle.findings()
    assert any(f.check == "catalog/unknown-metric" and "vLLM 0.8.5 (model chat)" in f.message for f in findings)
    assert any(f.check == "output/coverage" and f.severity == ERROR and CHAT_RULES in f.message for f in findings)


# -- pieces ------------------------------------------------------------------

TEMPLATES = [
    ("plain text", "no actions here", None, []),
    ("the value piped into humanize", "{{ $value | humanizePercentage }} of requests", None, []),
    ("a literal {{ through a string constant", 'model a{{ "{{" }}b}}', None, []),
    ("labels read three ways", '{{ $labels.pod }} {{ .Labels.namespace }} {{ index $labels "node" }}', None,
     ["pod", "namespace", "node"]),
    ("printf with arguments", '{{ printf "%.2f" $value }}', None, []),
    ("if, else and end", "{{ if gt $value 1.0 }}high{{ else }}low{{ end }}", None, []),
    ("a declared variable", "{{ $v := $value }}{{ $v | humanize }}", None, []),
    ("trim markers and a comment", "{{- /* note */ -}} {{- $value -}}", None, []),
    ("an unclosed action", "{{ $value ", "unclosed action", []),
    ("an unknown function", "{{ $value | humanise }}", 'function "humanise" not defined', []),
    ("an undefined variable", "{{ $values }}", "undefined variable", []),
    ("an end without a block", "x {{ end }}", "unexpected {{end}}", []),
    ("an if without end", "{{ if $value }}x", "unexpected EOF", []),
    ("a constant as a pipeline stage", '{{ $value | "x" }}', "non executable command", []),
    ("an empty action", "{{ }}", "missing value", []),
    ("an unterminated string", '{{ "abc }}', "unterminated quoted string", []),
]


@pytest.mark.parametrize("text,error,labels", [t[1:] for t in TEMPLATES], ids=[t[0] for t in TEMPLATES])
def test_go_template_subset(text, error, labels):
    if error is None:
        assert gotemplate.parse(text).labels == labels
    else:
        with pytest.raises(gotemplate.TemplateError, match=error.replace("{", r"\{").replace("}", r"\}")):
            gotemplate.parse(text)


LABELS = [
    ("a raw selector keeps its matchers and may have more", 'x{a="1"}', {"a"}, False),
    ("sum by keeps only its labels", "sum by (a, b) (x)", {"a", "b"}, True),
    ("sum without grouping keeps none", "sum(x)", set(), True),
    ("count without grouping keeps none", "count(rate(x[5m]))", set(), True),
    ("a scalar comparison keeps the vector side", "sum by (a) (x) > 1", {"a"}, True),
    ("and keeps the left side", "sum by (a) (x) and on () sum(y)", {"a"}, True),
    ("on() matching keeps the on labels", "sum by (a, b) (x) / on (a) sum by (a) (y)", {"a"}, True),
    ("histogram_quantile drops le", "histogram_quantile(0.9, sum by (le, a) (rate(x_bucket[5m])))", {"a"}, True),
    ("label_replace adds its target", 'label_replace(sum(x), "slo", "ttft", "", "")', {"slo"}, True),
    ("vector() has no labels", "vector(1)", set(), True),
]


@pytest.mark.parametrize("text,names,closed", [c[1:] for c in LABELS], ids=[c[0] for c in LABELS])
def test_output_labels_of_an_expression(text, names, closed):
    labels = x.output_labels(x.parse(text).ast, lambda name, matchers: None)
    assert (set(labels.names), labels.closed) == (names, closed)


def test_without_drops_a_label_from_an_open_set():
    labels = x.output_labels(x.parse("sum without (le) (rate(x_bucket[5m]))").ast, lambda n, m: None)
    assert not labels.may_have("le") and labels.may_have("pod")


def test_recorded_series_carry_their_rule_labels(bundle):
    ctx = load(bundle.inventory, bundle.root)
    labels = ctx.recorded_labels("llm:ttft_seconds:quantile_rate5m", {"model": "chat"})
    assert set(labels.names) == {"model", "cluster", "quantile"} and labels.closed


@pytest.mark.parametrize("text,window", [
    ("rate(x[$__rate_interval])", x.RATE_INTERVAL), ("rate(x[${__rate_interval}])", x.RATE_INTERVAL),
    ("max_over_time(x[$__range])", x.RANGE), ("rate(x[$__interval])", x.INTERVAL),
], ids=["$__rate_interval", "${__rate_interval}", "$__range", "$__interval"])
def test_grafana_range_variables_become_recognisable_windows(text, window):
    assert x.parse(text).ast.args[0].range == window


def test_variables_inside_strings_become_placeholders_that_matchers_skip():
    vs = x.parse('llm:x{model=~"$model", team="${team}", slo="ttft"}').ast
    assert x.equality_matchers(vs) == {"slo": "ttft"}


# -- registry, reporting, CLI --------------------------------------------------


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_every_check_has_an_id_and_a_one_line_purpose(check):
    assert "/" in check.id and check.purpose() and "\n" not in check.purpose()


def test_text_report_groups_by_file_and_ends_with_a_summary(bundle, capsys):
    bundle.alert("LLMGPUSaturated").pop("for")
    bundle.panel(CHAT, "Requests running").pop("description")
    findings = bundle.findings()
    out = report.text(findings)
    assert out.index("alerts/chat.rules.yaml\n") < out.index("alerts/for")
    assert "dashboards/infra/llm-model-chat.json\n" in out and "dashboard/description" in out
    # the PrometheusRule and ConfigMap wrapping the edited files no longer match them: a warning each
    assert out.rstrip().splitlines()[-1].startswith("validate FAILED: 2 errors, 2 warnings in 4 files")


def test_json_report_for_ci(bundle, capsys):
    bundle.panel(CHAT, "Requests running").pop("description")
    bundle.findings()
    assert command_exit(bundle, "--format", "json") == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["counts"]["error"] == 1
    [finding] = [f for f in data["findings"] if f["severity"] == "error"]
    assert finding["check"] == "dashboard/description" and finding["severity"] == "error"
    assert finding["location"]["dashboard"] == CHAT and finding["location"]["panel"] == "Requests running"


def test_a_clean_output_exits_0(bundle, capsys):
    assert command_exit(bundle) == 0
    assert "no problems found" in capsys.readouterr().out


def test_warnings_alone_do_not_fail(bundle, capsys):
    _le(bundle, 'le="1"')
    bundle.findings()
    assert command_exit(bundle) == 0
    assert "2 warnings" in capsys.readouterr().out  # the bucket bound, and the PrometheusRule now differing


@pytest.mark.parametrize("field,value", [("for", "5s5m"), ("for", "99999999999999y"), ("for", "1m1h"),
                                         ("labels", {"__name__": "x"})])
def test_validate_and_promtool_agree_on_what_prometheus_refuses(bundle, promtool, field, value):
    alert = bundle.alert("LLMKVCacheNearFull")
    if field == "labels":
        alert["labels"].update(value)
    else:
        alert[field] = value
    assert errors(bundle.findings())  # writes the broken file
    assert command_exit(bundle) == 1
    checked = run_promtool(promtool, "check", "rules", str(bundle.root / CHAT_RULES))
    assert checked.returncode != 0, checked.stdout
