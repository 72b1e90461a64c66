"""A healthy simulated fleet in a real Prometheus: rules load, every series and panel has data, nothing alerts."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from generator import conventions as c
from generator import inventory as inventory_mod
from generator.dashboards.folders import dashboard_folders
from generator.simulate.workload import request_rate

from .conftest import EVENT_SERIES

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = inventory_mod.load(ROOT / "inventory.yaml")
MODELS = [m.name for m in EXAMPLE.models]
FOLDERS = dashboard_folders(EXAMPLE)
DASHBOARDS = sorted(c.dashboard_file(uid, folder.title) for uid, folder in FOLDERS.items())
FLEET, GPU = (c.dashboard_file(uid, FOLDERS[uid].title) for uid in (c.FLEET_UID, c.GPU_UID))


def test_every_simulated_target_is_scraped(healthy):
    down = [(t["labels"].get("job"), t["labels"].get("pod") or t["labels"].get("instance"), t["lastError"])
            for t in healthy.targets if t["health"] != "up"]
    assert not down, f"targets not scraped: {down}"


def test_every_rule_group_loads_and_evaluates_without_errors(stack, healthy):
    groups = {g["name"]: g for g in healthy.rules}
    expected = {g["name"] for path in [*(c.rules_file(m) for m in MODELS), c.COLLECTORS_FILE, c.SLO_WINDOWS_FILE]
                for g in yaml.safe_load(stack.files[path])["groups"]}
    assert len(expected) > 2 * len(MODELS)  # recording groups split to at most 20 rules each
    assert set(groups) == expected
    problems = [(g["name"], r["name"], r["health"], r.get("lastError")) for g in healthy.rules for r in g["rules"]
                if r["health"] != "ok" or r.get("lastError")]
    assert not problems, f"rules with errors: {problems}"


@pytest.mark.parametrize("model", MODELS)
def test_every_recording_rule_produces_series_for_the_model(stack, healthy, model):
    expected = stack.recorded()[model] - EVENT_SERIES  # those exist only during their fault (see the rounds)
    missing = sorted(expected - set(healthy.recorded.get(model, {})))
    assert not missing, f"{model}: recording rules with no series: {missing}"


@pytest.mark.parametrize("dashboard", DASHBOARDS)
def test_every_panel_query_returns_data_for_every_model_it_covers(healthy, dashboard):
    results = [r for r in healthy.dashboards if r["dashboard"] == dashboard]
    assert results, f"no queries checked for {dashboard}"
    empty = [f"panel {r['panel']!r} target {r['target']} (model {r['model'] or 'all'}): {r['query']}"
             + (f" -> error: {r['error']}" if "error" in r else "") for r in results if not r["series"]]
    assert not empty, f"{dashboard}: queries with no data:\n" + "\n".join(empty)


def test_fleet_dashboards_cover_every_model(healthy):
    for board in (FLEET, GPU):
        covered = {r["model"] for r in healthy.dashboards if r["dashboard"] == board and r["series"]}
        assert set(MODELS) <= covered, f"{board}: no panel shows data for {sorted(set(MODELS) - covered)}"


def test_dashboard_variables_list_every_team_and_model(stack, healthy):
    board = json.loads(stack.files[FLEET])
    variables = {v["name"]: v for v in board["templating"]["list"]}
    teams = {m.team.name for m in stack.inventory.models}
    # label_values(<series>, <label>): what Grafana asks Prometheus for to fill the variable.
    assert variables["team"]["query"] == f"label_values({c.MODEL_INFO}, team)"
    found = set(stack.prometheus.api("label/team/values", **{"match[]": c.MODEL_INFO}))
    assert found == teams
    found = set(stack.prometheus.api(f"label/{c.MODEL_LABEL}/values", **{"match[]": c.MODEL_INFO}))
    assert found == set(MODELS)
    assert variables["namespace"]["query"] == f'label_values({c.MODEL_INFO}{{team=~"$team"}}, namespace)'
    assert '$namespace' in variables["model"]["query"]  # the model list narrows by namespace
    found = set(stack.prometheus.api("label/namespace/values", **{"match[]": f'{c.MODEL_INFO}{{team="search"}}'}))
    assert found == {m.namespace for m in stack.inventory.models if m.team.name == "search"}


def test_a_healthy_fleet_raises_no_alert(healthy):
    seen = sorted({(a["labels"]["alertname"], a["labels"].get("model"), a["state"], a.get("activeAt"), a["value"])
                   for a in healthy.alerts})
    assert not seen, f"alerts pending or firing while every model is healthy: {seen}"
    delivered = [(a["labels"]["alertname"], a["labels"].get("model"), a["status"], a["startsAt"])
                 for n in healthy.notifications for a in n["alerts"]]
    assert not delivered, f"Alertmanager delivered alerts for a healthy fleet: {delivered}"


def test_two_models_served_as_ensemble_in_two_namespaces_each_see_only_their_own_requests(stack, healthy):
    """llama-3-1-70b-trt and llama-3-1-70b-trt-eval are both Triton's `ensemble`, in search-llm and
    search-llm-eval: each model's llm:requests:rate5m is its own simulated rate, not the sum of both.

    Prometheus is young here: rate() over 5m divides the increase by the whole 300 s, extrapolated from
    the first sample by half a scrape interval and to the window's end, so the expected value is the
    simulated rate times (samples - 0.5) / 300 (1 s scrapes). Tolerance 20%: the simulated traffic swings
    +-10% around its mean over ten minutes, the extrapolation to the window's end adds up to one
    interval (5% of about 20), and counters count whole requests. Merged series would read +50% (the 70b
    model) and +200% (the eval copy, with half the traffic): far outside it, and the two would be equal.
    """
    ensembles = [m for m in stack.inventory.models if m.served_name == "ensemble"]
    assert len(ensembles) == 2 and len({m.namespace for m in ensembles}) == 2
    measured = {}
    for model in ensembles:
        history = min(300.0, healthy.samples[model.name] - 0.5)
        expected = request_rate(model) * history / 300
        measured[model.name] = healthy.request_rates[model.name]
        assert abs(measured[model.name] - expected) <= 0.2 * expected, \
            (f"{model.name}: llm:requests:rate5m {measured[model.name]:.3f}/s; simulated {request_rate(model):.2f}/s "
             f"over {history:.1f} s of history gives {expected:.3f}/s")
    big, small = (m.name for m in sorted(ensembles, key=request_rate, reverse=True))
    assert measured[big] > 1.5 * measured[small]  # 2x the traffic, and not one merged number
