"""SGLang: the catalog's version history, the queries it gives, and the simulator's /metrics for each version."""
from __future__ import annotations

from decimal import Decimal

import pytest
from test_simulator import parse

from generator import inventory
from generator.capabilities import Capabilities
from generator.catalog import ENGINES
from generator.errors import InventoryErrors
from generator.queries import ModelQueries
from generator.rules.recording import recording_rules
from generator.simulate.renderers import RENDERERS
from generator.simulate.simulation import Simulation
from generator.versions import Version

from conftest import HEADER, model_yaml

ENGINE = ENGINES["sglang"]
# The catalog's boundaries and the versions whose labels change (scheduler ranks, engine_type, is_streaming).
VERSIONS = sorted({str(b) for b in ENGINE.boundaries()} | {"0.4.10", "0.5.6", "0.5.11", "0.5.16", "0.5.23"},
                  key=lambda s: tuple(int(p) for p in s.split(".")))
# Thresholds that are bounds of SGLang's default buckets in every covered version (TTFT 1.0, ITL 0.1, E2E 40).
SGLANG_HEADER = HEADER.replace("e2e: {threshold_seconds: 30", "e2e: {threshold_seconds: 40")


def model(version: str, header: str = SGLANG_HEADER):
    inv = inventory.parse(header + "models:\n" + model_yaml("sg", engine="sglang", engine_version=version),
                          "test.yaml")
    return inv, inv.models[0]


def exposition(version: str, scenarios: tuple[str, ...] = (), seconds: float = 120) -> dict:
    inv, _ = model(version)
    clock = [1_800_000_000.0]
    sim = Simulation(inv, clock=lambda: clock[0])
    if scenarios:
        sim.apply([f"{s}:sg" for s in scenarios])
    clock[0] += seconds
    replica = sim.fleet.replicas["sg"][0]
    return RENDERERS["sglang"](replica, sim.snapshot()["sg"], clock[0])


def labels_of(series: dict, name: str) -> set[str]:
    return set(series[name][0][0])


@pytest.mark.parametrize("version", VERSIONS)
def test_each_version_serves_exactly_its_catalog_metrics_as_the_multiprocess_collector_writes_them(version):
    text = exposition(version)
    series = parse(text)
    expected = {s for m in ENGINE.metrics if m.exposed_in(Version.parse(version)) for s in m.series()}
    optional = {"sglang:num_aborted_requests_total", "sglang:http_responses_total"}  # appear on first event
    assert expected - optional <= set(series) <= expected
    assert not any(name.endswith("_created") or name.startswith("process_") for name in series)
    helps = [line for line in text.splitlines() if line.startswith("# HELP")]
    assert helps and all(line.endswith(" Multiprocess metric") for line in helps)
    counters = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE") and line.endswith("counter")]
    assert counters and all(name.endswith("_total") and not name.endswith("_total_total") for name in counters)


def test_scheduler_labels_gain_ranks_from_0_4_10_and_moe_rank_from_0_5_7():
    old, ranks, moe = (parse(exposition(v)) for v in ("0.4.7", "0.4.10", "0.5.7"))
    assert labels_of(old, "sglang:num_running_reqs") == {"model_name", "engine_type"}
    assert labels_of(ranks, "sglang:num_running_reqs") == {"model_name", "engine_type", "tp_rank", "pp_rank"}
    assert labels_of(moe, "sglang:token_usage") == {"model_name", "engine_type", "tp_rank", "pp_rank", "moe_ep_rank"}
    # Request metrics stay on the tokenizer's labels.
    assert labels_of(moe, "sglang:time_to_first_token_seconds_count") == {"model_name"}


def test_is_streaming_splits_request_metrics_from_0_5_17_but_not_inter_token_latency():
    before, after = parse(exposition("0.5.16")), parse(exposition("0.5.17"))
    assert "is_streaming" not in labels_of(before, "sglang:e2e_request_latency_seconds_count")
    streams = {labels["is_streaming"] for labels, _ in after["sglang:time_to_first_token_seconds_count"]}
    assert streams == {"true", "false"}
    assert {labels.get("is_streaming") for labels, _ in after["sglang:num_requests_total"]} == {"true", "false"}
    assert "is_streaming" not in labels_of(after, "sglang:inter_token_latency_seconds_count")
    assert labels_of(after, "sglang:inter_token_latency_seconds_count") == {"model_name", "engine_type"}


def test_bounds_are_python_floats_and_follow_the_bucket_history():
    def bounds(series, name):
        return [labels["le"] for labels, _ in series[f"{name}_bucket"] if labels.get("is_streaming") != "true"]

    old, new = parse(exposition("0.5.11")), parse(exposition("0.5.12"))
    assert bounds(old, "sglang:queue_time_seconds")[:3] == ["0.0", "0.1", "0.2"]
    assert bounds(new, "sglang:queue_time_seconds")[:6] == ["0.0", "0.001", "0.005", "0.01", "0.05", "0.1"]
    ttft = bounds(new, "sglang:time_to_first_token_seconds")
    assert ttft[0] == "0.1" and "1.0" in ttft and ttft[-1] == "+Inf"  # starts at 100 ms
    assert bounds(parse(exposition("0.4.7")), "sglang:e2e_request_latency_seconds")[-2] == "800.0"
    assert bounds(new, "sglang:e2e_request_latency_seconds")[-2] == "2400.0"


def test_queue_time_is_queue_time_s_in_0_5_2_only():
    names = {v: set(parse(exposition(v))) for v in ("0.4.7", "0.5.2", "0.5.3")}
    assert not any(n.startswith("sglang:queue_time") for n in names["0.4.7"])
    assert "sglang:queue_time_s_bucket" in names["0.5.2"] and "sglang:queue_time_seconds_bucket" not in names["0.5.2"]
    assert "sglang:queue_time_seconds_bucket" in names["0.5.3"] and "sglang:queue_time_s_bucket" not in names["0.5.3"]


def test_startup_time_by_phase_from_0_5_17_and_the_load_weights_gauge_before():
    old, new = parse(exposition("0.5.16")), parse(exposition("0.5.17"))
    assert "sglang:engine_load_weights_time" in old and "sglang:startup_time_seconds" not in old
    phases = {labels["phase"] for labels, _ in new["sglang:startup_time_seconds"]}
    assert phases == {"load_weight", "kv_cache_allocation", "scheduler_e2e", "tokenizer_e2e"}
    assert "sglang:engine_load_weights_time" not in new
    for version, metric, phase in (("0.5.16", "sglang:engine_load_weights_time{", False),
                                   ("0.5.17", "sglang:startup_time_seconds{", True)):
        inv, m = model(version)
        query = ModelQueries(inv, m).gauge("model_load")
        assert metric in query and ('phase="load_weight"' in query) == phase
    inv, m = model("0.5.1")
    assert not Capabilities(m).has("model_load")


def test_failures_are_http_500s_from_0_5_7_and_aborted_requests_before():
    failing_new = parse(exposition("0.5.7", ("error-burst",)))
    five = sum(v for labels, v in failing_new["sglang:http_responses_total"] if labels["status_code"] == "500")
    assert five > 0
    assert {labels["endpoint"] for labels, _ in failing_new["sglang:http_responses_total"]} >= {
        "/v1/chat/completions", "/generate", "/health"}
    failing_old = parse(exposition("0.5.6", ("error-burst",)))
    assert "sglang:http_responses_total" not in failing_old
    assert failing_old["sglang:num_aborted_requests_total"][0][1] > 0

    for version, present, absent in (("0.5.6", "sglang:num_aborted_requests_total", "sglang:http_responses_total"),
                                     ("0.5.7", 'sglang:http_responses_total{', "sglang:num_aborted_requests_total")):
        inv, m = model(version)
        errors = ModelQueries(inv, m).error_ratio("5m")
        assert present in errors and absent not in errors
    inv, m = model("0.5.7")
    assert 'status_code=~"5.."' in ModelQueries(inv, m).error_ratio("5m")


def test_retractions_are_the_preemption_signal_from_0_5_7():
    inv, m = model("0.5.6")
    assert not Capabilities(m).has("preemptions")
    assert "retract" in Capabilities(m).why_not("preemptions")
    inv, m = model("0.5.7")
    assert "sglang:num_retracted_requests_total" in ModelQueries(inv, m).rate("preemptions", "5m")
    storm = parse(exposition("0.5.7", ("preemption-storm",)))
    assert storm["sglang:num_retracted_requests_total"][0][1] > 0


def test_the_old_mixed_time_per_output_token_histogram_is_no_signal():
    mapped = {name for spec in ENGINE.signals.values() for name in spec.metric_names()}
    assert "sglang:time_per_output_token_seconds" not in mapped
    inv, m = model("0.5.21")
    assert not Capabilities(m).has("tpot") and "0.5.22" in Capabilities(m).why_not("tpot")
    inv, m = model("0.5.22")
    assert Capabilities(m).histogram("tpot") == ("sglang:request_time_per_output_token_seconds", Decimal(1))
    tpot = [r for r in recording_rules(inv, m) if "request_time_per_output_token" in r["expr"]]
    assert tpot and all('le=~"0.1' in r["expr"] or "_count" in r["expr"] or "histogram_quantile" in r["expr"]
                        or "_sum" in r["expr"] for r in tpot)


def test_slo_thresholds_are_checked_against_the_buckets_of_the_models_version():
    # 0.5 s is a TTFT bound of no SGLang version from 0.4.5 on: the inventory names the nearest bounds.
    with pytest.raises(InventoryErrors) as caught:
        model("0.5.23", SGLANG_HEADER.replace("ttft: {threshold_seconds: 1.0", "ttft: {threshold_seconds: 0.5"))
    assert "0.4 s below and 0.6 s above" in str(caught.value)
    # The queue-time buckets gained 0.05 s in 0.5.12: the capability reads the version's own list.
    _, old = model("0.5.11")
    _, new = model("0.5.12")
    assert Decimal("0.05") not in Capabilities(old).bucket_bounds("queue_time")
    assert Decimal("0.05") in Capabilities(new).bucket_bounds("queue_time")


def test_the_engine_says_how_to_deploy_and_scrape_it():
    assert ENGINE.metrics_port == 30000 and ENGINE.container == "sglang"
    assert ENGINE.official_image.format(version="0.5.23") == "lmsysorg/sglang:v0.5.23"
    assert any("--enable-metrics" in r for r in ENGINE.requirements)
    assert ENGINE.oldest == Version.parse("0.4.7")
