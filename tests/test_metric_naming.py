"""A deployment's metric naming: the inventory says which one, the generator derives the stored names.

trtllm-serve exposes `trtllm_`-prefixed names with the served model in `model_name`, or (early builds)
bare names with `model_name="undefined"`; which release does which is unconfirmed, so the inventory's
`metric_naming` says it. Each naming must generate rules promtool accepts and whose generated tests pass (those a
naming can fail: see naming_cases_pass_promtool), validate clean, and be what the simulator serves.
"""
from __future__ import annotations

import re

import pytest
import yaml

from generator import conventions as c
from generator import inventory
from generator.catalog import ENGINES, engine_for
from generator.errors import InventoryError, InventoryErrors
from generator.prometheus_syntax import duration_seconds
from generator.queries import ModelQueries
from generator.rules.alerts import alert_rules
from generator.simulate.renderers import RENDERERS
from generator.simulate.simulation import Simulation
from generator.simulate.targets import targets

from conftest import (
    HEADER,
    cheapest_firing_cases,
    fired_alerts,
    generate_into,
    model_yaml,
    promtool_subset_failures,
    reads,
    run_promtool,
    served_metrics,
    validation_errors,
)

TRTLLM = HEADER + "models:\n" + model_yaml("fp8", served_name="nvidia/Llama-3.1-8B-FP8", engine="trtllm-serve",
                                           engine_version="1.4.0", namespace="llm-trt")


def with_naming(naming: str) -> str:
    return TRTLLM + f"    metric_naming: {naming}\n"


def naming_cases_pass_promtool(promtool, root, inv: inventory.Inventory) -> None:
    """The generated test cases a naming can fail, passing in promtool.

    A naming changes only the names (and model label) of the engine's series. The rules that read those series
    read them over at most 5 minutes (asserted here); longer windows are computed from the recorded series, so
    they read no name a naming changes. A selector that matched nothing would leave every silent case silent, so
    the cases that can show a naming wrong are those expecting something: each recorded value, and each alert
    firing. promtool runs on those groups (the fewest-step firing case of each alert), not on the whole file."""
    model = inv.models[0]
    engine_series = {s for m in engine_for(model).metrics for s in m.series()}
    doc = yaml.safe_load((root / c.rules_file(model.name)).read_text())
    reading = [r for g in doc["groups"] for r in g["rules"]
               if any(reads(r["expr"], s) for s in engine_series)]
    assert reading  # the naming's names are read at all
    for rule in reading:
        windows = [duration_seconds(w) for w in re.findall(r"\[(\w+)(?::\w*)?\]", rule["expr"])]
        assert all(0 < w <= 300 for w in windows), (rule.get("record") or rule.get("alert"), windows)
    failures, kept, groups = promtool_subset_failures(
        promtool, root, model.name, lambda groups: cheapest_firing_cases(groups, per_labels=False))
    assert failures == ""
    fired = fired_alerts(groups)
    assert fired and fired == fired_alerts(kept)


def errors_of(text: str) -> list[InventoryError]:
    with pytest.raises((InventoryErrors, InventoryError)) as caught:
        inventory.parse(text, "inv.yaml")
    exc = caught.value
    return exc.errors if isinstance(exc, InventoryErrors) else [exc]


def test_the_default_naming_is_the_engines_first():
    model = inventory.parse(TRTLLM, "inv.yaml").models[0]
    assert model.metric_naming == "trtllm_"
    assert engine_for(model).signals["ttft"].candidates == ("trtllm_time_to_first_token_seconds",)


def test_an_unknown_naming_is_a_located_error_naming_the_allowed_values():
    [error] = errors_of(with_naming("prefixed"))
    assert error.path == "models[0].metric_naming" and error.line == TRTLLM.count("\n") + 1
    assert "'prefixed' is not a TensorRT-LLM trtllm-serve naming" in error.message
    assert "'trtllm_', 'unprefixed'" in error.message


def test_a_naming_on_an_engine_whose_names_do_not_vary_is_refused():
    text = HEADER + "models:\n" + model_yaml("v", extra="    metric_naming: trtllm_\n")
    [error] = errors_of(text)
    assert error.path == "models[0].metric_naming"
    assert "vLLM exposes one naming" in error.message and "trtllm-serve" in error.message


def test_unprefixed_names_scope_by_the_pods_not_the_undefined_model_label():
    inv = inventory.parse(with_naming("unprefixed"), "inv.yaml")
    q = ModelQueries(inv, inv.models[0])
    ttft = q.quantile("ttft", "0.95", "5m")
    assert "time_to_first_token_seconds_bucket{" in ttft and "trtllm_" not in ttft
    assert 'pod=~"fp8-.*"' in ttft and "model_name" not in ttft
    prefixed = ModelQueries(*(lambda i: (i, i.models[0]))(inventory.parse(TRTLLM, "inv.yaml")))
    assert 'trtllm_time_to_first_token_seconds_bucket{model_name="nvidia/Llama-3.1-8B-FP8"' in \
        prefixed.quantile("ttft", "0.95", "5m")


@pytest.mark.parametrize("naming", list(ENGINES["trtllm-serve"].namings))
def test_each_naming_generates_rules_that_pass_promtool_and_validate(naming, tmp_path, promtool):
    generate_into(tmp_path, with_naming(naming))
    rules = tmp_path / "alerts" / "fp8.rules.yaml"
    checked = run_promtool(promtool, "check", "rules", str(rules))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    naming_cases_pass_promtool(promtool, tmp_path, inventory.parse(with_naming(naming), "inv.yaml"))
    assert validation_errors(tmp_path / "inventory.yaml", tmp_path) == []


@pytest.mark.parametrize("naming, sample", [
    ("trtllm_", 'trtllm_request_success_total{engine_type="trtllm",model_name="nvidia/Llama-3.1-8B-FP8",'
                'finished_reason="stop"}'),
    ("unprefixed", 'request_success_total{engine_type="undefined",model_name="undefined",finished_reason="stop"}'),
])
def test_the_simulator_serves_the_naming_on_prometheus_metrics(naming, sample):
    inv = inventory.parse(with_naming(naming), "inv.yaml")
    simulation = Simulation(inv)
    replica = simulation.fleet.replicas["fp8"][0]
    text = RENDERERS["trtllm-serve"](replica, simulation.snapshot()["fp8"], simulation.start + 300)
    assert sample in text
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    stored = {s for m in engine_for(inv.models[0]).metrics for s in m.series()}
    assert {n for n in names if not n.endswith("_created")} <= stored
    [target] = targets(simulation.fleet)[:1]
    assert target.path == f"/pods/llm-trt/{replica.pod}/prometheus/metrics"


# -- OpenTelemetry GenAI: names after OTLP ingestion, per translation strategy (engines.md 6.2) --------------

OTEL = ENGINES["otel-genai"]
DERIVED = {  # semconv metric -> stored base name per strategy (histograms add _bucket/_sum/_count)
    "UnderscoreEscapingWithSuffixes": {
        "gen_ai.server.time_to_first_token": "gen_ai_server_time_to_first_token_seconds",
        "gen_ai.server.time_per_output_token": "gen_ai_server_time_per_output_token_seconds",
        "gen_ai.server.request.duration": "gen_ai_server_request_duration_seconds",
        "gen_ai.client.token.usage": "gen_ai_client_token_usage"},  # {token}: no unit suffix
    "NoUTF8EscapingWithSuffixes": {
        "gen_ai.server.time_to_first_token": "gen_ai.server.time_to_first_token_seconds",
        "gen_ai.server.time_per_output_token": "gen_ai.server.time_per_output_token_seconds",
        "gen_ai.server.request.duration": "gen_ai.server.request.duration_seconds",
        "gen_ai.client.token.usage": "gen_ai.client.token.usage"},
    "UnderscoreEscapingWithoutSuffixes": {
        "gen_ai.server.time_to_first_token": "gen_ai_server_time_to_first_token",
        "gen_ai.server.time_per_output_token": "gen_ai_server_time_per_output_token",
        "gen_ai.server.request.duration": "gen_ai_server_request_duration",
        "gen_ai.client.token.usage": "gen_ai_client_token_usage"},
    "NoTranslation": {m.name: m.name for m in OTEL.metrics},
}
LABELS = {"UnderscoreEscapingWithSuffixes": "gen_ai_request_model", "UnderscoreEscapingWithoutSuffixes":
          "gen_ai_request_model", "NoUTF8EscapingWithSuffixes": "gen_ai.request.model",
          "NoTranslation": "gen_ai.request.model"}


@pytest.mark.parametrize("strategy", list(DERIVED))
def test_otel_names_are_what_each_translation_strategy_stores(strategy):
    named = OTEL.named(strategy)
    assert {m.name for m in named.metrics} == set(DERIVED[strategy].values())
    assert named.model_label == LABELS[strategy]
    assert named.workload_attributes == ((("k8s_namespace_name", "k8s_pod_name")) if "Underscore" in strategy
                                         else ("k8s.namespace.name", "k8s.pod.name"))
    assert [m.name for m in OTEL.metrics] == list(DERIVED[strategy])  # the catalog keeps the convention's names


def test_otlptranslator_suffix_rules_on_other_units_and_types():
    from generator.catalog.base import COUNTER, GAUGE, Metric
    from generator.catalog.otel_genai import escaped_label, escaped_with_suffixes, utf8_with_suffixes

    def m(name, kind, unit):
        return Metric(name, kind, unit, "", "this test")
    assert escaped_with_suffixes(m("http.server.requests", COUNTER, "1")) == "http_server_requests_total"
    assert escaped_with_suffixes(m("requests.total", COUNTER, "1")) == "requests_total"
    assert escaped_with_suffixes(m("memory.usage", GAUGE, "By")) == "memory_usage_bytes"
    assert escaped_with_suffixes(m("cpu.utilization", GAUGE, "1")) == "cpu_utilization_ratio"
    assert escaped_with_suffixes(m("io.rate", GAUGE, "By/s")) == "io_rate_bytes_per_second"
    assert escaped_with_suffixes(m("latency.seconds", GAUGE, "s")) == "latency_seconds"
    assert utf8_with_suffixes(m("http.server.requests", COUNTER, "1")) == "http.server.requests_total"
    assert utf8_with_suffixes(m("memory.usage", GAUGE, "By")) == "memory.usage_bytes"
    assert escaped_label("error.type") == "error_type" and escaped_label("0x") == "key_0x"
    assert escaped_label("_x") == "key_x" and escaped_label("__x") == "__x"


def otel_model(strategy: str, labels: str = "resource_attributes") -> str:
    header = HEADER.replace("ttft: {threshold_seconds: 1.0", "ttft: {threshold_seconds: 0.5").replace(
        "e2e: {threshold_seconds: 30", "e2e: {threshold_seconds: 40.96")
    return header + "models:\n" + model_yaml(
        "chat", served_name="org/chat", engine="otel-genai", engine_version="1.37.0",
        extra=f"    metric_naming: {strategy}\n    kubernetes_labels: {labels}\n")


def test_utf8_strategies_write_prometheus_3_selectors_with_quoted_names():
    inv = inventory.parse(otel_model("NoUTF8EscapingWithSuffixes"), "inv.yaml")
    q = ModelQueries(inv, inv.models[0])
    assert q.error_ratio("5m").startswith(
        '((sum(rate({"gen_ai.server.request.duration_seconds_count", "gen_ai.request.model"="org/chat", '
        '"k8s.namespace.name"="llm", cluster="test", "error.type"=~".+"}[5m]))')
    inv = inventory.parse(otel_model("NoTranslation", "target"), "inv.yaml")
    q = ModelQueries(inv, inv.models[0])
    assert '{"gen_ai.server.time_to_first_token_bucket", "gen_ai.request.model"="org/chat", namespace="llm"' \
        in q.quantile("ttft", "0.95", "5m")


def test_pushed_telemetry_reads_pods_from_resource_attributes_and_ready_pods_for_targets():
    inv = inventory.parse(otel_model("UnderscoreEscapingWithSuffixes"), "inv.yaml")
    q = ModelQueries(inv, inv.models[0])
    assert 'k8s_namespace_name="llm"' in q.rate("requests", "5m") and "namespace=" not in q.rate("requests", "5m")
    assert "kube_pod_status_ready" in q.targets_up() and 'container="app"' not in q.targets_up()
    assert "LLMEngineScrapeFailing" not in {r["alert"] for r in alert_rules(inv, inv.models[0])}
    [error] = errors_of(TRTLLM + "    kubernetes_labels: resource_attributes\n")
    assert error.path == "models[0].kubernetes_labels" and "expected one of 'target'" in error.message


@pytest.mark.parametrize("strategy, labels", [("UnderscoreEscapingWithSuffixes", "resource_attributes"),
                                              ("UnderscoreEscapingWithoutSuffixes", "target")])
def test_otel_underscore_strategies_pass_promtool_and_validate_and_are_served(strategy, labels, tmp_path, promtool):
    inv = generate_into(tmp_path, otel_model(strategy, labels))
    naming_cases_pass_promtool(promtool, tmp_path, inv)
    assert validation_errors(tmp_path / "inventory.yaml", tmp_path) == []
    served = served_metrics(inv, "chat", 300)
    stored = {s for m in engine_for(inv.models[0]).metrics for s in m.series()}
    names = {line.split("{")[0] for line in served.splitlines() if line and not line.startswith("#")}
    assert names == stored
    assert ("k8s_pod_name=" in served) == (labels == "resource_attributes")
