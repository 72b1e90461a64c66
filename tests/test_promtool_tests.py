"""The generated promtool tests: every alert rule covered by its four cases, and all of them pass."""
import math
import re
import shutil

import pytest

from generator import conventions as c
from generator import inventory
from generator.build import build
from generator.queries import ModelQueries
from generator.rules import promtool_tests as pt
from generator.rules.alerts import alerts
from generator.rules.recording import base_labels
from generator.rules.rendering import humanize, humanize_duration, humanize_percentage, render
from generator.versions import v

from conftest import (
    HEADER,
    MINIMAL,
    ROOT,
    fired_alerts,
    firing_and_quiet_cases,
    load_yaml,
    model_yaml,
    promtool_subset_failures,
    run_promtool,
)


def test_the_golden_tree_s_promtool_tests_pass_where_its_inventory_differs_from_the_example(promtool, tmp_path):
    """Unlike the example's, the golden inventory's models run in several clusters, the cluster an external label
    (alert descriptions read `$externalLabels`). `make test` runs every case of the example's files. Here
    promtool runs the cases that difference can fail: each recorded value, each alert firing in its shortest
    case, with its rendered annotations (its other burn tiers read the same recorded series through other
    windows), and the cases that expect nothing to fire, which a rule matching too much would fail. The
    collector alerts' file runs whole."""
    shutil.copytree(ROOT / "tests" / "golden" / "alerts", tmp_path / "alerts")
    files = sorted(p.name for p in (tmp_path / "alerts" / "tests").glob("*.test.yaml"))
    assert files == ["_collectors.test.yaml", "chat.test.yaml", "trt.test.yaml"]  # two models and the collectors
    result = run_promtool(promtool, "test", "rules", "_collectors.test.yaml", cwd=tmp_path / "alerts" / "tests")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    for model in ("chat", "trt"):
        failures, kept, groups = promtool_subset_failures(promtool, tmp_path, model, firing_and_quiet_cases)
        assert failures == "", model
        assert fired_alerts(kept) == fired_alerts(groups)


def test_models_that_differ_only_in_names_share_one_test_file_and_any_other_difference_gets_its_own(promtool,
                                                                                                    tmp_path):
    text = HEADER + "  search: {folder: Search, labels: {team: search}}\nmodels:\n" + model_yaml("a") + \
        model_yaml("b", served_name="org/other", namespace="other", team="search") + \
        model_yaml("c", extra="    thresholds: {queue_depth: 10}\n") + model_yaml("d", replicas=(2, 4)) + \
        "".join(model_yaml(name, extra="    slo: {ttft: {threshold_seconds: 0.5}}\n") for name in ("e", "f"))
    files = build(inventory.parse(text, "inventory.yaml"))
    tests = sorted(p for p in files if p.startswith("alerts/tests/") and not p.endswith("_collectors.test.yaml"))
    assert tests == [c.rules_test_file(name) for name in ("a", "c", "d", "e")]
    assert c.rules_file("b") in files
    assert "They prove the alerts of b too" in files[c.rules_test_file("a")]
    # The same SLO said on each model (two places in the file) is one kind of model.
    assert "They prove the alerts of f too" in files[c.rules_test_file("e")]
    assert "prove the alerts of" not in files[c.rules_test_file("c")]
    # The shared file passes. What differs between a and b is names only: the cases that expect something (each
    # recorded value, each alert firing) and those that expect nothing to fire are the ones names can fail.
    (tmp_path / "alerts" / "tests").mkdir(parents=True)
    for path in (c.rules_file("a"), c.SLO_WINDOWS_FILE, c.rules_test_file("a")):
        (tmp_path / path).write_text(files[path])
    failures, _, _ = promtool_subset_failures(promtool, tmp_path, "a", firing_and_quiet_cases)
    assert failures == ""


def test_a_model_whose_minimum_traffic_is_above_the_usual_test_rate_gets_cases_that_pass(promtool, tmp_path):
    # The threshold cases ran at 100 requests/s whatever the guard; above it `generate` failed with a TypeError.
    text = MINIMAL.replace("cold_start_seconds: 600}", "cold_start_seconds: 600, min_request_rate: 150}")
    inv = inventory.parse(text, "inventory.yaml")
    files = build(inv)
    (tmp_path / "alerts" / "tests").mkdir(parents=True)
    for path in (c.rules_file("small"), c.SLO_WINDOWS_FILE, c.rules_test_file("small")):
        (tmp_path / path).write_text(files[path])
    assert "silent below the minimum traffic, at 75 requests/s" in files[c.rules_test_file("small")]
    # The guard sets the rate of every threshold case (twice the guard, or half of it below the guard) and of
    # the fault cases a burn alert fires in; the other fault cases run at the usual rate, which the guard
    # changes nothing in.
    burns = {a.rule["alert"] for a in alerts(inv, inv.models[0])
             if a.condition is not None and a.condition.signal in pt.SLO_SIGNALS}

    def at_the_guard(groups):
        return [g for g in groups if not g["name"].startswith("fault: ") or fired_alerts([g]) & burns]

    failures, kept, groups = promtool_subset_failures(promtool, tmp_path, "small", at_the_guard)
    assert failures == ""
    assert any(g["name"].startswith("fault: ") for g in kept) and len(kept) < len(groups)


def test_every_model_of_the_example_inventory_has_its_own_test_file(example):
    assert [(m.name, alike) for m, alike in pt.shapes(example)] == [(name, ()) for name in EXAMPLE_MODELS]


_GROUPS: dict[str, list[dict]] = {}


def _groups(example, model) -> list[dict]:
    """The test groups generated for a model of the example inventory, parsed once per process (callers read
    them only)."""
    if model.name not in _GROUPS:
        _GROUPS[model.name] = load_yaml(pt.test_file(example, model))["tests"]
    return _GROUPS[model.name]


def _cases(groups) -> dict[str, list[dict]]:
    """Each case by its title (`<alert> (<tier>): <what>`), as the checks of its alert in the group holding it."""
    cases = {}
    for group in groups:
        for title in group["name"].split(pt.CASE_SEPARATOR):
            alert = title.split(":")[0].split(" (")[0]
            cases[title] = [t for t in group.get("alert_rule_test", []) if t["alertname"] == alert]
    return cases


def _fired(check) -> list[dict]:
    return [a["exp_labels"] for a in check.get("exp_alerts") or []]


EXAMPLE_MODELS = [m.name for m in inventory.load(ROOT / "inventory.yaml").models]


@pytest.mark.parametrize("name", EXAMPLE_MODELS)
def test_every_threshold_alert_rule_has_its_four_cases(example, name):
    model = next(m for m in example.models if m.name == name)
    cases = _cases(_groups(example, model))
    rules = [a for a in alerts(example, model) if a.condition is not None]
    assert rules
    for alert in rules:
        name, labels = alert.rule["alert"], {**base_labels(model), **alert.rule["labels"]}
        siblings = [a for a in rules if a.rule["alert"] == name]
        prefix = f"{name} ({pt.tier_name(alert.rule)})" if len(siblings) > 1 else name
        mine = {t.split(": ", 1)[1].split(" ")[0]: checks for t, checks in cases.items() if t.startswith(prefix + ":")}
        assert {"fires", "silent"} <= set(mine), f"{model.name} {prefix}: {sorted(mine)}"
        before, after = mine["fires"]
        assert labels in _fired(after), f"{prefix} does not fire in its own test"
        assert labels not in _fired(before), f"{prefix} fires before its for"
        assert int(before["eval_time"][:-1]) < int(after["eval_time"][:-1])
        near = [checks for t, checks in cases.items() if t.startswith(f"{prefix}: silent just under")]
        assert near and len(near[0]) == 1 and labels not in _fired(near[0][0])
        if alert.condition.guard:
            quiet = [checks for t, checks in cases.items() if t.startswith(f"{prefix}: silent below the minimum traffic")]
            assert quiet and len(quiet[0]) == 1 and quiet[0][0].get("exp_alerts") == []


@pytest.mark.parametrize("name", EXAMPLE_MODELS)
def test_every_alert_fires_in_a_fault_case_and_nothing_fires_healthy_busy_or_idle(example, name):
    model = next(m for m in example.models if m.name == name)
    faults = [g for g in _groups(example, model) if g["name"].startswith("fault: ")]
    generated = {a.rule["alert"] for a in alerts(example, model)}
    fired = {t["alertname"] for g in faults for t in g.get("alert_rule_test", []) if t["exp_alerts"]}
    compound = {a.rule["alert"] for a in alerts(example, model) if a.condition is None}
    assert compound <= fired, f"no fault case fires {sorted(compound - fired)}"
    for title in ("healthy", "busy but healthy", "idle, no traffic"):
        case = next(g for g in faults if g["name"].startswith(f"fault: {title}"))
        silent = {t["alertname"] for t in case["alert_rule_test"] if t["exp_alerts"] == []}
        assert silent == generated, f"{title}: not checked silent: {sorted(generated - silent)}"
    if model.replicas_min == 0:
        assert any(g["name"].startswith("fault: scaled to zero") for g in faults)


def test_a_hung_engine_pages_within_ten_minutes_and_a_collector_outage_pages_no_model(example):
    for model in example.models:
        faults = {g["name"].split(" (")[0].split(":")[1].strip(): g for g in _groups(example, model)
                  if g["name"].startswith("fault: ")}
        hung = next(g for t, g in faults.items() if t.startswith("hung engine"))
        stalled = [t for t in hung["alert_rule_test"] if t["alertname"] == "LLMEngineStalled" and t["exp_alerts"]]
        if "LLMEngineStalled" in {a.rule["alert"] for a in alerts(example, model)}:
            assert stalled and int(stalled[0]["eval_time"][:-1]) - 10 <= 10
            assert stalled[0]["exp_alerts"][0]["exp_labels"]["severity"] == "critical"
        else:  # no gauge of requests in flight (OpenTelemetry GenAI): a hang cannot be told from no traffic
            assert not ModelQueries(example, model).has("running") and not stalled
        outage = next(g for t, g in faults.items() if t.startswith("kube-state-metrics gone"))
        assert all(t["exp_alerts"] == [] for t in outage["alert_rule_test"])
        assert "LLMModelDown" in {t["alertname"] for t in outage["alert_rule_test"]} or model.replicas_min == 0


def test_recording_rules_are_checked_against_hand_computed_values(example):
    for model in example.models:
        baseline = _groups(example, model)[0]
        assert baseline["name"].startswith("recording rules")
        checked = {t["expr"].split("{")[0] for t in baseline["promql_expr_test"]}
        q = ModelQueries(example, model)
        assert {"llm:requests:rate5m", "llm:request_errors:ratio_rate5m", "llm:gpu_utilization:avg",
                "llm:cold_start_seconds:max"} <= checked
        # What the engine version measures is checked too (TGI: no KV cache, no TTFT; its end-to-end SLO).
        assert ("llm:kv_cache_usage:max" in checked) == q.has("kv_cache")
        for signal in ("ttft", "e2e"):
            assert (f"llm:{signal}_within_slo:ratio_rate5m" in checked) == (q.slo(signal) is not None)


def test_inputs_use_each_engine_s_real_metric_names(example):
    names = {}
    for model in example.models:
        series = {s["series"].split("{")[0] for g in _groups(example, model) for s in g["input_series"]}
        names[model.engine] = names.get(model.engine, set()) | series
    assert "vllm:kv_cache_usage_perc" in names["vllm"] and "vllm:gpu_cache_usage_perc" in names["vllm"]
    assert "nv_inference_request_success" in names["triton-trtllm"]
    assert not any(n.startswith("llm:") for n in names["vllm"] | names["triton-trtllm"])


GO_FORMATS = [
    (humanize_percentage, 0.86, "86%"), (humanize_percentage, 0.515, "51.5%"), (humanize_percentage, 1.0, "100%"),
    (humanize, 1.0, "1"), (humanize, 1234.0, "1.234k"), (humanize, 0.25, "250m"), (humanize, 0.0, "0"),
    (humanize_duration, 1200.0, "20m 0s"), (humanize_duration, 90061.0, "1d 1h 1m 1s"), (humanize_duration, 42.0, "42s"),
]


@pytest.mark.parametrize("fn,value,text", GO_FORMATS, ids=[f"{f.__name__}({v}) is {t}" for f, v, t in GO_FORMATS])
def test_expected_annotations_use_prometheus_number_formats(fn, value, text):
    assert fn(value) == text


def test_rendering_keeps_literal_braces_and_refuses_unknown_actions():
    assert render('a {{ "{{" }}b}} {{ $value }}', 79.0) == "a {{b}} 79"
    assert render('{{ printf "%.2f" $value }}/s', 0.5476) == "0.55/s"
    assert render("pod {{ $labels.pod }}", 1.0, {"pod": "p-1"}) == "pod p-1"
    with pytest.raises(ValueError):
        render("{{ $externalLabels.cluster }}", 1.0)
    assert math.isclose(float(render("{{ $value }}", 0.5)), 0.5)


def test_slis_read_one_source_and_the_cases_that_prove_it_exist(example):
    for model in example.models:
        faults = [g for g in _groups(example, model) if g["name"].startswith("fault: ")]
        titles = [g["name"] for g in faults]
        outage = next(g for g in faults if "HTTP layer fails every request" in g["name"])
        assert [t["eval_time"] for t in outage["promql_expr_test"]] == ["120m", "150m", "180m"]
        assert all(t["exp_samples"] for t in outage["promql_expr_test"])
        if model.engine == "vllm":
            assert any("polls GET /v1/models" in t for t in titles)
        streams = any("after their HTTP 200" in t for t in titles)
        assert streams == (model.engine == "vllm" and model.engine_version >= v("0.13.0"))


def test_burn_alert_cases_of_one_kind_share_a_group_and_each_alert_reads_only_its_own_slo(example):
    # promtool evaluates every rule at every minute of every group: one group per tier and kind of case
    # instead of one per alert, tier and kind.
    model = next(m for m in example.models if m.name == "llama-3-1-8b")
    groups = _groups(example, model)
    packed = [g for g in groups if pt.CASE_SEPARATOR in g["name"]]
    slos = ["availability", *c.LATENCY_SIGNALS]
    tiers = example.slo_policy.tiers
    assert len(packed) == 3 * len(tiers) and all(len(g["name"].split(pt.CASE_SEPARATOR)) == len(slos) for g in packed)
    for group in packed:
        names = [t["alertname"] for t in group["alert_rule_test"]]
        assert len(set(names)) == len(slos), group["name"]  # one case of each alert
        keys = [s["series"] for s in group["input_series"]]
        assert len(keys) == len(set(keys))
    # Cases in one state cannot tell which SLO's series an alert reads: the expressions say it.
    for alert in alerts(example, model):
        cond = alert.condition
        if cond is None or cond.signal not in pt.SLO_SIGNALS:
            continue
        slo = "availability" if cond.signal == "error_ratio" else cond.signal.removesuffix("_miss")
        own = c.ERROR_RATIO.split(":")[1] if slo == "availability" else f"{slo}_within_slo"
        for name, matchers in re.findall(r"(llm:[a-z0-9_]+:[a-z0-9_]+)\{([^}]*)\}", alert.rule["expr"]):
            assert name.split(":")[1] == own or f'slo="{slo}"' in matchers, (alert.rule["alert"], name, matchers)
            assert not any(f'slo="{other}"' in matchers for other in slos if other != slo)


def test_cases_whose_shared_metrics_differ_keep_their_own_groups(example):
    # TGI: the availability cases set tgi_request_success to the successful share, the latency cases to every
    # request: together, the error ratio would read the wrong successes.
    model = next(m for m in example.models if m.engine == "tgi")
    cases = [g for g in _groups(example, model) if "SLOBurn" in g["name"] or "BudgetBurn" in g["name"]]
    assert cases
    for group in cases:
        names = {t["alertname"] for t in group["alert_rule_test"]}
        assert not {"LLMErrorBudgetBurn", "LLMEndToEndLatencySLOBurn"} <= names, group["name"]
