"""An engine is one catalog module and one simulator module: proven by adding a throwaway one.

The toy engine below lives in a temporary folder added to the two packages' search paths; nothing in
the repository names it. Its models then generate rules promtool accepts and whose generated tests
pass, `validate` finds nothing wrong, and the simulator serves its /metrics.
"""
from __future__ import annotations

import sys
import textwrap

import pytest

import generator.catalog
import generator.simulate
from generator import inventory
from generator.catalog import ENGINES, discover
from generator.catalog.base import Engine
from generator.simulate import renderers
from generator.simulate.renderers import RENDERERS
from generator.simulate.scenarios import ScenarioError, drift_version
from generator.simulate.simulation import Simulation

from conftest import (
    HEADER,
    fired_alerts,
    firing_and_quiet_cases,
    generate_into,
    header_for,
    model_yaml,
    promtool_subset_failures,
    run_promtool,
    served_metrics,
    validation_errors,
)

TOY_CATALOG = '''
from generator.catalog.base import COUNTER, GAUGE, HISTOGRAM, Counters, Engine, Gauge, Histogram, Metric, Part, seconds
from generator.versions import v

ENGINE = Engine(
    name="toy", title="Toy", model_label="served", oldest=v("1.0"),
    metrics=(
        Metric("toy_first_token_seconds", HISTOGRAM, "seconds", "Time to first token.", "this test",
               since=v("1.0"), buckets=seconds("0.1", "0.5", "1.0", "5.0")),
        Metric("toy_successes_total", COUNTER, "requests", "Requests that succeeded.", "this test", since=v("1.0")),
        Metric("toy_failures_total", COUNTER, "requests", "Failed requests.", "this test", since=v("1.0")),
        Metric("toy_running", GAUGE, "requests", "Requests running.", "this test", since=v("1.0")),
        Metric("toy_kv_ratio", GAUGE, "ratio", "KV cache in use.", "this test", since=v("1.0")),
    ),
    signals={
        "ttft": Histogram(("toy_first_token_seconds",)),
        "requests": Counters((Part("toy_successes_total"), Part("toy_failures_total", optional=True))),
        "errors": Counters((Part("toy_failures_total", optional=True),)),
        "running": Gauge((Part("toy_running"),), "sum"),
        "kv_cache": Gauge((Part("toy_kv_ratio"),), "max"),
    },
    container="toy", image_pattern=".+:{version}", official_image="example.org/toy:{version}", metrics_port=9100,
)
'''

TOY_SIMULATOR = '''
from generator.catalog import ENGINES
from generator.simulate.exposition import PYTHON, Exposition, bound
from generator.simulate.histograms import counter, histogram

ENGINE = ENGINES["toy"]


def render(replica, timeline, t):
    served = timeline.served(replica.index, t)
    load = timeline.at(t).load
    base = [("served", replica.model.served_name)]
    out = Exposition(PYTHON)
    for name, latency, per_request in (("toy_first_token_seconds", lambda load: load.ttft, lambda load: 1.0),):
        metric = ENGINE.metric(name)
        value = histogram(served, metric.buckets, 1.0, latency, per_request)
        out.family(name, "histogram", metric.help)
        for le, count in value.buckets:
            out.sample(name + "_bucket", base + [("le", bound(le, PYTHON))], count)
        out.sample(name + "_bucket", base + [("le", "+Inf")], value.count)
        out.sample(name + "_count", base, value.count)
        out.sample(name + "_sum", base, value.total)
    for name, share in (("toy_successes_total", lambda load: 1 - load.error_ratio),
                        ("toy_failures_total", lambda load: load.error_ratio)):
        out.family(name, "counter", ENGINE.metric(name).help)
        out.sample(name, base, float(counter(served, share)))
    out.family("toy_running", "gauge", "Requests running.")
    out.sample("toy_running", base, float(round(load.running(1))))
    out.family("toy_kv_ratio", "gauge", "KV cache in use.")
    out.sample("toy_kv_ratio", base, load.kv_cache)
    return out.text()
'''


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """The toy engine registered the way a new module is: found on the packages' paths."""
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "toy_engine.py").write_text(textwrap.dedent(TOY_CATALOG))
    (tmp_path / "simulate").mkdir()
    (tmp_path / "simulate" / "toy_metrics.py").write_text(textwrap.dedent(TOY_SIMULATOR))
    monkeypatch.setattr(generator.catalog, "__path__", [*generator.catalog.__path__, str(tmp_path / "catalog")])
    monkeypatch.setattr(generator.simulate, "__path__", [*generator.simulate.__path__, str(tmp_path / "simulate")])
    for name, engine in discover("ENGINE", Engine).items():
        monkeypatch.setitem(ENGINES, name, engine)
    for name, render in renderers.discover().items():
        monkeypatch.setitem(RENDERERS, name, render)
    yield ENGINES["toy"]
    for module in ("generator.catalog.toy_engine", "generator.simulate.toy_metrics"):
        sys.modules.pop(module, None)


@pytest.mark.parametrize("engine, version", [(e.name, str(b)) for e in ENGINES.values() for b in e.boundaries()])
def test_a_fleet_of_one_engine_version_validates_clean(engine, version, tmp_path):
    """Every page, the fleet overview too, queries only what some model of the inventory records."""
    header = header_for(engine, version)
    generate_into(tmp_path, header + "models:\n" + model_yaml("only", engine=engine, engine_version=version))
    assert validation_errors(tmp_path / "inventory.yaml", tmp_path) == []


def test_every_catalog_engine_has_a_simulator_renderer():
    assert set(RENDERERS) == set(ENGINES)


def test_a_new_engine_needs_no_edit_outside_its_two_modules(toy, tmp_path, promtool):
    text = HEADER + "models:\n" + model_yaml("toy-model", served_name="toy/model-1", engine="toy",
                                             engine_version="1.2")
    out = tmp_path / "out"
    out.mkdir()
    inv = generate_into(out, text)

    rules = out / "alerts" / "toy-model.rules.yaml"
    assert "toy_first_token_seconds_bucket" in rules.read_text()
    checked = run_promtool(promtool, "check", "rules", str(rules))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # promtool runs the cases that show the engine's series wired in: each recorded value and each alert firing
    # in its shortest case, which a series the generator missed would fail, and those where nothing may fire. A
    # selector matching nothing leaves the other silent cases silent; the burn tiers read the same recorded
    # series through other windows.
    failures, kept, groups = promtool_subset_failures(promtool, out, "toy-model", firing_and_quiet_cases)
    assert failures == ""
    assert fired_alerts(kept) == fired_alerts(groups)
    assert validation_errors(out / "inventory.yaml", out) == []

    served = served_metrics(inv, "toy-model", 120)
    assert 'toy_successes_total{served="toy/model-1"}' in served and "toy_first_token_seconds_bucket" in served
    assert Simulation(inv).fleet.replicas["toy-model"][0].container == "toy"
    # Its version boundaries drive the drift scenario: 1.2 drifts to 1.0, and 1.0 has nowhere to go.
    assert drift_version(inv.models[0]) == "1.0"
    only = inventory.parse(text.replace('engine_version: "1.2"', 'engine_version: "1.0"'), "inventory.yaml")
    with pytest.raises(ScenarioError, match="no toy version but 1.0"):
        Simulation(only).apply(["version-drift:toy-model"])
