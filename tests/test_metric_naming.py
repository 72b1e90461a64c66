"""A deployment's metric naming: the inventory says which one, the generator derives the stored names.

trtllm-serve exposes `trtllm_`-prefixed names with the served model in `model_name`, or (early builds)
bare names with `model_name="undefined"`; which release does which is unconfirmed, so the inventory's
`metric_naming` says it. Each naming must generate rules promtool accepts and whose generated tests pass,
validate clean, and be what the simulator serves.
"""
from __future__ import annotations

import pytest

from generator import inventory
from generator.build import OUTPUT_DIRS, build
from generator.catalog import ENGINES, engine_for
from generator.errors import InventoryError, InventoryErrors
from generator.output import write
from generator.queries import ModelQueries
from generator.simulate.renderers import RENDERERS
from generator.simulate.simulation import Simulation
from generator.simulate.targets import targets
from generator.validate import ERROR, validate

from conftest import HEADER, model_yaml, run_promtool

TRTLLM = HEADER + "models:\n" + model_yaml("fp8", served_name="nvidia/Llama-3.1-8B-FP8", engine="trtllm-serve",
                                           engine_version="1.4.0", namespace="llm-trt")


def with_naming(naming: str) -> str:
    return TRTLLM + f"    metric_naming: {naming}\n"


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
    (tmp_path / "inventory.yaml").write_text(with_naming(naming))
    inv = inventory.parse(with_naming(naming), "inventory.yaml")
    write(build(inv), tmp_path, OUTPUT_DIRS)
    rules = tmp_path / "alerts" / "fp8.rules.yaml"
    checked = run_promtool(promtool, "check", "rules", str(rules))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run_promtool(promtool, "test", "rules", "alerts/tests/fp8.test.yaml", cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr
    errors = [f for f in validate(tmp_path / "inventory.yaml", tmp_path) if f.severity >= ERROR]
    assert errors == [], "\n".join(f"{f.location.file} {f.message}" for f in errors)


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
