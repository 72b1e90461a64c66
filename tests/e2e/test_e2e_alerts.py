"""Each failure scenario fires its alert for the model it targets, only that model, and reaches the receiver."""
from __future__ import annotations

import pytest

from . import plan
from generator.simulate.scenarios import SCENARIOS

pytestmark = pytest.mark.e2e


def _params():
    for run in plan.runs():
        bug = plan.KNOWN_BUGS.get((run.round, run.model, run.scenario))
        marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
        yield pytest.param(run, id=run.id, marks=marks)


RUNS = list(_params())


@pytest.mark.parametrize("run", RUNS)
def test_scenario_fires_its_alert_for_the_targeted_model_only(rounds, run):
    result = rounds[run.round]
    assert (run.alert, run.model) in result.fired, \
        f"{run.scenario} on {run.model}: {run.alert} never fired within the round ({result.seconds:.0f} s)"
    allowed = plan.allowed(run.round)
    others = sorted(m for (alert, m) in result.firing if alert == run.alert and run.alert not in allowed.get(m, ()))
    assert not others, f"{run.alert} also fires for {others}, which run no scenario that should fire it"


@pytest.mark.parametrize("run", RUNS)
def test_alert_reaches_the_receiver_with_routing_labels_and_rendered_annotations(stack, rounds, run):
    result = rounds[run.round]
    model = next(m for m in stack.inventory.models if m.name == run.model)
    delivered = [a for a in result.webhook
                 if a["labels"]["alertname"] == run.alert and a["labels"].get("model") == run.model
                 and a["status"] == "firing"]
    assert delivered, f"Alertmanager delivered no firing {run.alert} for {run.model}"
    alert = delivered[-1]
    labels, annotations = alert["labels"], alert["annotations"]
    assert labels["severity"] in ("critical", "warning")
    for key, value in model.team.labels:
        assert labels.get(key) == value, f"team label {key}={value!r} missing: {labels}"
    for key, value in model.selector:
        assert labels.get(key) == value
    assert set(annotations) >= {"summary", "description", "runbook_url", "dashboard_url"}
    for key, text in annotations.items():
        assert "{{" not in text and "<no value>" not in text and "%!" not in text, f"{key} not rendered: {text!r}"
    assert model.name in annotations["description"] and model.served_name in annotations["description"]
    assert annotations["runbook_url"] == f"{stack.inventory.runbook_base_url}/{run.alert}.md"
    assert annotations["dashboard_url"].startswith(f"{stack.inventory.grafana_url}/d/llm-model-")


def test_every_alert_the_example_inventory_generates_is_fired_by_a_scenario(stack, rounds):
    generated = set().union(*stack.generated_alerts().values())
    planned = {r.alert for r in plan.runs()}
    assert generated <= set(SCENARIOS[s].alert for s in SCENARIOS if SCENARIOS[s].alert), \
        f"no scenario exists for: {sorted(generated - {s.alert for s in SCENARIOS.values()})}"
    assert generated <= planned, f"no planned run fires: {sorted(generated - planned)}"
    proven = {r.alert for r in plan.runs() if (r.alert, r.model) in rounds[r.round].fired}
    assert generated <= proven, f"generated alerts never proven to fire: {sorted(generated - proven)}"


@pytest.mark.parametrize("number", sorted(plan.RECOVERIES))
def test_alerts_resolve_and_are_delivered_resolved_when_the_failure_ends(rounds, number):
    result = rounds[number]
    recoveries = plan.RECOVERIES[number]
    still = sorted(recoveries & result.active)
    assert not still, f"still pending or firing after the failure ended: {still}"
    resolved = {(a["labels"]["alertname"], a["labels"].get("model")) for a in result.webhook
                if a["status"] == "resolved"}
    assert recoveries <= resolved, f"no resolved notification for {sorted(recoveries - resolved)}"


def test_a_replica_that_crashes_and_recovers_is_not_a_slow_cold_start(rounds):
    crashed = {m for m, scenarios in plan.ROUNDS[2].items() if {"replica-down", "model-down"} & set(scenarios)}
    wrong = {n: sorted(m for (alert, m) in rounds[n].active if alert == "LLMColdStartSlow" and m in crashed)
             for n in (2, 3)}
    assert not any(wrong.values()), (
        f"LLMColdStartSlow pending or firing for replicas that crashed after they had become ready "
        f"(while down: {wrong[2]}; after they came back: {wrong[3]})")


def test_no_rule_fails_to_evaluate_under_any_scenario(stack, rounds):
    problems = [(g["name"], r["name"], r.get("lastError")) for g in stack.prometheus.rules() for r in g["rules"]
                if r["health"] != "ok" or r.get("lastError")]
    assert not problems, f"rules with evaluation errors: {problems}"
