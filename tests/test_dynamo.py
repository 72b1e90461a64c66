"""NVIDIA Dynamo: the catalog's buckets and renames, the inventory's rules for it, and the simulator's /metrics."""
from __future__ import annotations

import math
from decimal import Decimal

import pytest
from test_simulator import parse

from generator import inventory
from generator.capabilities import Capabilities
from generator.catalog import ENGINES
from generator.catalog import dynamo as catalog
from generator.errors import InventoryErrors
from generator.queries import ModelQueries
from generator.simulate.renderers import RENDERERS
from generator.simulate.simulation import Simulation
from generator.versions import v

from conftest import HEADER, header_for, model_yaml

ENGINE = ENGINES["dynamo"]


def log_buckets(low: float, high: float, count: int) -> tuple[Decimal, ...]:
    """Dynamo's generate_log_buckets (lib/llm/src/http/service/metrics.rs), ported: 0, then log-spaced values
    rounded to two significant figures, consecutive duplicates dropped."""
    values = [0.0]
    for i in range(1, count):
        value = math.exp(math.log(low) + (math.log(high) - math.log(low)) * i / (count - 1))
        scale = 10 ** (1 - math.floor(math.log10(value)))
        values.append(round(value * scale) / scale)
    unique = [x for i, x in enumerate(values) if i == 0 or x != values[i - 1]]
    return tuple(Decimal(repr(x)).normalize() for x in unique)


@pytest.mark.parametrize("bounds, arguments", [
    (catalog.TTFT_LOG, (0.001, 480.0, 18)), (catalog.ITL_LOG, (0.001, 2.0, 13)),
    (catalog.DURATION_LOG_256, (1.0, 256.0, 10)), (catalog.DURATION_LOG_512, (1.0, 512.0, 10)),
    (catalog.ISL_LOG, (50.0, 128000.0, 12)), (catalog.OSL_LOG, (50.0, 32000.0, 10))])
def test_the_log_spaced_defaults_are_what_dynamos_formula_gives(bounds, arguments):
    assert tuple(b.normalize() for b in bounds) == log_buckets(*arguments)


@pytest.mark.parametrize("version, ttft, bounds", [
    ("0.4.0", "nv_llm_http_service_time_to_first_token_seconds", catalog.TTFT_FIXED),
    ("0.5.0", "dynamo_frontend_time_to_first_token_seconds", catalog.TTFT_FIXED),
    ("0.6.0", "dynamo_frontend_time_to_first_token_seconds", catalog.TTFT_LOG),
    ("1.4.0", "dynamo_frontend_time_to_first_token_seconds", catalog.TTFT_LOG)])
def test_a_version_reads_its_names_and_its_default_buckets(version, ttft, bounds):
    text = header_for("dynamo", version) + "models:\n" + model_yaml("d", engine="dynamo", engine_version=version)
    inv = inventory.parse(text, "t.yaml")
    q = Capabilities(inv.models[0])
    assert q.histogram("ttft")[0] == ttft
    assert q.bucket_bounds("ttft") == bounds
    requests = q.signal("requests").parts
    assert [p.metric for p in requests] == [ttft.split("_time_to")[0] + "_requests_total"]


def test_the_request_duration_buckets_change_with_the_version():
    metric = ENGINE.metric("dynamo_frontend_request_duration_seconds")
    assert metric.buckets_in(v("0.5.0")) == catalog.DURATION_FIXED
    assert metric.buckets_in(v("0.7.0")) == catalog.DURATION_LOG_256
    assert metric.buckets_in(v("1.4.0")) == catalog.DURATION_LOG_512
    assert v("1.2.0") in ENGINE.boundaries() and v("0.6.0") in ENGINE.boundaries()


def test_generation_tokens_come_from_the_real_time_counter_from_0_7_only():
    def parts(version):
        text = header_for("dynamo", version) + "models:\n" + model_yaml("d", engine="dynamo", engine_version=version)
        inv = inventory.parse(text, "t.yaml")
        return [(p.metric, p.suffix) for p in ModelQueries(inv, inv.models[0]).signal("generation_tokens").parts]
    assert parts("0.6.0") == [("dynamo_frontend_output_sequence_tokens", "_sum")]
    assert parts("0.7.0") == [("dynamo_frontend_output_tokens_total", "")]


def test_a_threshold_between_log_buckets_names_the_bounds_either_side():
    text = HEADER.replace("ttft: {threshold_seconds: 1.0", "ttft: {threshold_seconds: 0.5") + "models:\n" + \
        model_yaml("d", engine="dynamo", engine_version="1.4.0")
    with pytest.raises(InventoryErrors) as caught:
        inventory.parse(text, "t.yaml")
    message = str(caught.value)
    assert "the ttft SLO threshold 0.5 s" in message
    assert "the nearest bounds are 0.47 s below and 1 s above" in message


def test_a_threshold_past_the_highest_bound_says_there_is_none_above():
    text = header_for("dynamo", "1.4.0").replace("e2e: {threshold_seconds: 32,", "e2e: {threshold_seconds: 600,") + \
        "models:\n" + model_yaml("d", engine="dynamo", engine_version="1.4.0")
    with pytest.raises(InventoryErrors) as caught:
        inventory.parse(text, "t.yaml")
    assert "the nearest bounds are 510 s below and none above" in str(caught.value)


def test_a_mixed_case_served_name_is_refused_where_it_is_written():
    text = header_for("dynamo", "1.4.0") + "models:\n" + model_yaml("d", served_name="Qwen/Qwen3-32B",
                                                                    engine="dynamo", engine_version="1.4.0")
    with pytest.raises(InventoryErrors) as caught:
        inventory.parse(text, "t.yaml")
    error, = caught.value.errors
    line = text.splitlines().index("    served_name: Qwen/Qwen3-32B") + 1
    assert error.path == "models[0].served_name" and error.line == line
    assert "lower-cases the model label" in error.message and "'qwen/qwen3-32b'" in error.message


@pytest.fixture
def fleet():
    def make(version: str, served_name: str = "org/d", scenarios=("error-burst:d",)):
        text = header_for("dynamo", version) + "models:\n" + model_yaml(
            "d", served_name=served_name, engine="dynamo", engine_version=version, replicas=(2, 2))
        clock = [1_800_000_000.0]
        sim = Simulation(inventory.parse(text, "t.yaml"), clock=lambda: clock[0])
        sim.apply(list(scenarios))
        clock[0] += 120
        replica = sim.fleet.replicas["d"][0]
        return parse(RENDERERS["dynamo"](replica, sim.snapshot()["d"], clock[0])), \
            RENDERERS["dynamo"](replica, sim.snapshot()["d"], clock[0])
    return make


@pytest.mark.parametrize("version", [str(b) for b in ENGINE.boundaries()])
def test_the_frontend_serves_exactly_the_catalog_metrics_of_each_version(fleet, version):
    served, _ = fleet(version)
    expected = {s for m in ENGINE.metrics if m.exposed_in(v(version)) for s in m.series()}
    assert set(served) == expected
    assert not any(name.endswith("_created") for name in served)


def test_the_frontend_writes_rust_numbers_sorted_labels_and_its_log_bounds(fleet):
    served, text = fleet("1.4.0")
    bounds = [labels["le"] for labels, _ in served["dynamo_frontend_time_to_first_token_seconds_bucket"]]
    assert bounds[:3] == ["0", "0.0022", "0.0047"] and "1" in bounds and "0.47" in bounds and bounds[-1] == "+Inf"
    assert 'le="1.0"' not in text
    errors = [labels for labels, _ in served["dynamo_frontend_requests_total"] if labels["status"] == "error"]
    assert errors and all(labels["error_type"] == "internal" for labels in errors)
    line = next(x for x in text.splitlines() if x.startswith("dynamo_frontend_requests_total{"))
    names = [pair.split("=")[0] for pair in line[line.index("{") + 1:line.index("}")].split(",")]
    assert names == sorted(names) == ["endpoint", "error_type", "model", "request_type", "status"]


def test_the_old_frontend_has_no_error_type_and_the_old_prefix(fleet):
    served, _ = fleet("0.4.0")
    assert "nv_llm_http_service_requests_total" in served and "dynamo_frontend_requests_total" not in served
    assert all("error_type" not in labels for labels, _ in served["nv_llm_http_service_requests_total"])
    assert [lbl["le"] for lbl, _ in served["nv_llm_http_service_request_duration_seconds_bucket"]][:3] == ["0", "1", "2"]


def test_the_queue_gauge_counts_requests_before_their_first_token(fleet):
    served, _ = fleet("1.4.0", scenarios=())
    (_, queued), = served["dynamo_frontend_queued_requests"]
    (_, inflight), = served["dynamo_frontend_inflight_requests"]
    assert 0 < queued <= inflight  # healthy: nothing waits for a worker, yet prefill is in the queue gauge
