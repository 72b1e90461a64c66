"""TGI: its /metrics as metrics-exporter-prometheus writes it, and a model that has no model label and no TTFT."""
from __future__ import annotations

import re

import pytest
from test_simulator import parse

from generator import conventions as c
from generator import inventory
from generator.build import build
from generator.catalog import ENGINES
from generator.catalog.tgi import DURATION_BUCKETS
from generator.errors import InventoryErrors
from generator.queries import ModelQueries
from generator.simulate.renderers import RENDERERS
from generator.simulate.simulation import Simulation

from conftest import HEADER, header_for, model_yaml

TGI = ENGINES["tgi"]
E2E_BOUND = "28.76265888493261"  # the duration bucket nearest 30 s
SLO = f"    slo: {{e2e: {{threshold_seconds: {E2E_BOUND}}}}}\n"


def tgi_inventory(version: str = "3.3.7", extra: str = SLO):
    text = HEADER + "models:\n" + model_yaml("gemma", served_name="google/gemma-2-9b-it", engine="tgi",
                                             engine_version=version, namespace="llm", extra=extra)
    return inventory.parse(text, "inventory.yaml")


def exposition(version: str, seconds: float = 600) -> str:
    inv = tgi_inventory(version)
    clock = [1_800_000_000.0]
    sim = Simulation(inv, clock=lambda: clock[0])
    clock[0] += seconds
    replica = sim.fleet.replicas["gemma"][0]
    return RENDERERS["tgi"](replica, sim.snapshot()["gemma"], sim.start + seconds)


def test_duration_buckets_are_tgis_geometric_series_up_to_145_6_seconds():
    assert len(DURATION_BUCKETS) == 35
    assert str(DURATION_BUCKETS[0]) == "0.00015000000000000001"  # 0.0001 * 1.5, as an f64
    assert str(DURATION_BUCKETS[30]) == E2E_BOUND
    assert 145.6 < float(DURATION_BUCKETS[-1]) < 145.7
    assert all(abs(float(b) / float(a) - 1.5) < 1e-12 for a, b in zip(DURATION_BUCKETS[:-1], DURATION_BUCKETS[1:], strict=True))


def test_counters_have_no_total_suffix_and_no_series_carries_a_model_label():
    text = exposition("3.3.7")
    series = parse(text)
    assert re.search(r"^# TYPE tgi_request_success counter$", text, re.M)
    assert not [name for name in series if name.endswith("_total")]
    assert {k for samples in series.values() for labels, _ in samples for k in labels} <= {"le", "err"}
    assert series["tgi_request_success"][0][1] > 0
    # Client (422) and server (424) failures in their own series; the error SLI reads only the server ones.
    assert {labels["err"] for labels, _ in series["tgi_request_failure"]} == {"generation", "validation"}


def test_duration_bounds_are_written_as_rust_prints_the_f64():
    series = parse(exposition("3.3.7"))
    bounds = [labels["le"] for labels, _ in series["tgi_request_duration_bucket"]]
    assert bounds[0] == "0.00015000000000000001" and E2E_BOUND in bounds and bounds[-1] == "+Inf"
    assert len(bounds) == 36
    lengths = [labels["le"] for labels, _ in series["tgi_request_input_length_bucket"]]
    assert lengths[0] == "10.24" and lengths[99] == "1024"  # integers without a point


def test_every_histogram_has_buckets_so_no_summary_is_exposed_for_a_covered_version():
    text = exposition(str(TGI.oldest))
    assert "summary" not in re.findall(r"^# TYPE \S+ (\S+)$", text, re.M)
    assert "quantile=" not in text


def test_help_lines_appear_only_from_the_release_that_describes_the_metrics():
    assert "# HELP" not in exposition("2.0.4")
    assert "# HELP tgi_request_count " in exposition("2.3.0")


def test_failure_series_appear_only_after_the_first_failure():
    assert "tgi_request_failure" not in exposition("3.3.7", seconds=0.5)


def test_engine_series_are_scoped_by_namespace_and_pods_since_tgi_has_no_model_label():
    inv = tgi_inventory()
    q = ModelQueries(inv, inv.models[0])
    sel = q.selector("tgi_request_success")
    assert 'namespace="llm"' in sel and 'pod=~"gemma-.*"' in sel
    assert "google/gemma" not in sel
    assert 'err=~"generation|incomplete"' in q.rate("errors", "5m")


def test_a_model_inherits_ttft_itl_and_tpot_slos_it_cannot_measure_and_gets_no_rules_for_them():
    inv = tgi_inventory()
    q = ModelQueries(inv, inv.models[0])
    assert inv.models[0].slo.ttft is not None  # inherited from defaults: validates
    assert [s for s in ("ttft", "itl", "tpot", "e2e") if q.slo(s) is not None] == ["e2e"]
    files = build(inv)
    rules = files["alerts/gemma.rules.yaml"]
    assert "LLMTimeToFirstTokenSLOBurn" not in rules and "LLMInterTokenLatencySLOBurn" not in rules
    assert "LLMEndToEndLatencySLOBurn" in rules and "LLMKVCacheNearFull" not in rules
    assert c.KV_CACHE not in rules
    assert f'le="{E2E_BOUND}"' in rules
    dashboard = files["dashboards/infra/llm-model-gemma.json"]
    assert "TGI exports no time-to-first-token histogram" in dashboard
    assert "maintenance mode since December 2025" in dashboard


def test_a_model_that_sets_a_ttft_slo_itself_is_a_located_error():
    with pytest.raises(InventoryErrors) as error:
        tgi_inventory(extra=SLO.replace("slo: {", "slo: {ttft: {threshold_seconds: 0.49878850951194753}, "))
    message = str(error.value)
    assert "models[0].slo.ttft" in message and "TGI 3.3.7 cannot measure a ttft SLO" in message


def test_an_inherited_end_to_end_threshold_off_the_buckets_names_the_nearest_bounds():
    with pytest.raises(InventoryErrors) as error:
        tgi_inventory(extra="")
    assert f"nearest bounds are {E2E_BOUND} s below and 43.143988327398915 s above" in str(error.value)


def test_the_test_header_moves_inherited_thresholds_onto_tgi_bounds():
    header = header_for("tgi", "3.3.7")
    assert f"e2e: {{threshold_seconds: {E2E_BOUND}," in header
    assert "ttft: {threshold_seconds: 1.0," in header  # not measured: left alone
