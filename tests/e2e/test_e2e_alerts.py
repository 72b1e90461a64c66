"""Each failure scenario fires its alert where it runs, nothing else starts firing, and Alertmanager routes and
inhibits as generated."""
from __future__ import annotations

import pytest

from generator.rules.alertmanager import DEFAULT_RECEIVER, team_receiver
from generator.simulate.scenarios import SCENARIOS

from . import plan
from .conftest import key

pytestmark = pytest.mark.e2e

# Alerts that read kube-state-metrics or dcgm-exporter: the ones a collector outage could fire falsely.
COLLECTOR_FED = {"LLMModelDown", "LLMReplicasBelowMin", "LLMPodNotReady", "LLMEngineCrashLooping", "LLMEngineOOMKilled",
                 "LLMEngineScrapeFailing", "LLMGPUSaturated", "LLMGPUMemoryNearFull", "LLMGPUXidErrors",
                 "LLMColdStartSlow", "LLMTelemetryMissing", "LLMEngineVersionDrift"}


def _params(runs):
    for run in runs:
        bug = plan.KNOWN_BUGS.get((run.round, run.model, run.scenario))
        marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
        yield pytest.param(run, id=run.id, marks=marks)


RUNS = list(_params(plan.alerting_runs()))


def _model(stack, name):
    return next(m for m in stack.inventory.models if m.name == name)


@pytest.mark.parametrize("run", RUNS)
def test_scenario_fires_its_alert_where_it_runs_only(rounds, run):
    result = rounds[run.round]
    assert run.key in result.fired, \
        f"{run.scenario} on {run.model}: {run.alert} never fired for {run.scope} within the round " \
        f"({result.seconds:.0f} s)"
    allowed = plan.allowed(run.round)
    others = sorted(scope for (alert, scope) in result.firing
                    if alert == run.alert and run.alert not in allowed.get(scope, ()))
    assert not others, f"{run.alert} also fires for {others}, which run no scenario that should fire it"
    wanted = plan.expected_labels(run)
    if wanted:
        matching = [a for a in result.alerts if key(a) == run.key and a["state"] == "firing"
                    and all(a["labels"].get(k) == v for k, v in wanted.items())]
        assert matching, (f"no firing {run.alert} for {run.scope} carries {wanted}: "
                          f"{[a['labels'] for a in result.alerts if key(a) == run.key]}")


@pytest.mark.parametrize("run", RUNS)
def test_alert_reaches_its_team_receiver_with_routing_labels_and_rendered_annotations(stack, rounds, run):
    result = rounds[run.round]
    model = _model(stack, run.model)
    delivered = [a for a in result.webhook if key(a) == run.key and a["status"] == "firing"]
    assert delivered, f"Alertmanager delivered no firing {run.alert} for {run.scope}"
    alert = delivered[-1]
    labels, annotations = alert["labels"], alert["annotations"]
    assert labels["severity"] in ("critical", "warning")
    for key_, value in model.selector:
        assert labels.get(key_) == value
    assert set(annotations) >= {"summary", "description", "runbook_url", "dashboard_url"}
    for name, text in annotations.items():
        assert "{{" not in text and "<no value>" not in text and "%!" not in text, f"{name} not rendered: {text!r}"
    assert annotations["runbook_url"] == f"{stack.inventory.runbook_base_url}/{run.alert}.md"
    if SCENARIOS[run.scenario].site:
        assert alert["receiver"] == DEFAULT_RECEIVER
        return
    assert alert["receiver"] == team_receiver(model.team.name), f"{run.alert}@{run.model} went to {alert['receiver']}"
    assert labels["namespace"] == model.namespace
    for key_, value in model.team.labels:
        assert labels.get(key_) == value, f"team label {key_}={value!r} missing: {labels}"
    assert model.name in annotations["description"] and model.served_name in annotations["description"]
    assert annotations["dashboard_url"].startswith(f"{stack.inventory.grafana_url}/d/llm-model-")


def test_every_alert_the_example_inventory_generates_is_fired_by_a_scenario(stack, rounds):
    generated = set().union(*stack.generated_alerts().values())
    planned = {r.alert for r in plan.alerting_runs()}
    assert generated <= set(s.alert for s in SCENARIOS.values() if s.alert), \
        f"no scenario exists for: {sorted(generated - {s.alert for s in SCENARIOS.values()})}"
    assert generated <= planned, f"no planned run fires: {sorted(generated - planned)}"
    proven = {r.alert for r in plan.alerting_runs() if r.key in rounds[r.round].fired}
    assert generated <= proven, f"generated alerts never proven to fire: {sorted(generated - proven)}"


@pytest.mark.parametrize("number", sorted(plan.ROUNDS))
def test_every_alert_that_starts_in_a_round_is_one_its_scenarios_declare(rounds, number):
    """Nothing fires that the round's failures do not explain: healthy models, busy-but-healthy and
    scaled-to-zero models raise nothing, and a collector outage raises only the collector's alert."""
    allowed = plan.allowed(number)
    unexpected = sorted(f"{alert}@{scope} ({a['state']}, value {a['value']})"
                        for (alert, scope), a in rounds[number].new.items() if alert not in allowed.get(scope, ()))
    assert not unexpected, f"round {number}: alerts no scenario of the round explains: {unexpected}"


def test_a_collector_outage_raises_one_alert_per_collector_and_no_model_alert_that_reads_it(stack, rounds):
    result = rounds[1]
    collectors = {a["labels"]["collector"] for a in result.alerts
                  if key(a) == ("LLMCollectorDown", plan.PROD) and a["state"] == "firing"}
    assert collectors == {"kube-state-metrics", "dcgm-exporter"}
    site_models = {m.name for m in stack.inventory.models if plan.site_of(m.name) == plan.PROD}
    false = sorted(f"{alert}@{scope}" for (alert, scope) in result.new
                   if scope in site_models and alert in COLLECTOR_FED)
    assert not false, f"alerts that read a collector fired while it was down: {false}"
    # ... and the outage was real: the prod-eu models' pod and GPU series were gone.
    for query in ('llm:replicas_ready:sum{model="llama-3-1-8b"}', 'llm:gpus:count{model="llama-3-1-8b"}'):
        assert result.probes[query] == [], f"{query} during the outage: {result.probes[query]}"


@pytest.mark.parametrize("run", list(_params(plan.silent_runs())))
def test_silent_scenarios_raise_nothing_for_their_model(rounds, run):
    later = [n for n in sorted(plan.ROUNDS) if n >= run.round and run.scenario in plan.scenarios_in(n)[run.model]]
    for number in later:
        result = rounds[number]
        started = sorted(alert for (alert, scope) in result.new if scope == run.model)
        assert not started, f"{run.scenario} on {run.model}: round {number} started {started}"
        active = sorted(alert for (alert, scope) in result.active if scope == run.model)
        assert not active, f"{run.scenario} on {run.model}: pending or firing at the end of round {number}: {active}"


def test_busy_but_healthy_really_is_busy(stack, rounds):
    """The silence proves something only if the levels that used to page (GPU 99%, KV cache 95%) were there."""
    model = next(r.model for r in plan.silent_runs() if r.scenario == "busy-but-healthy")
    assert "busy-but-healthy" in plan.scenarios_in(max(plan.ROUNDS))[model]  # still running now
    thresholds = _model(stack, model).thresholds

    def value(query):
        rows = stack.prometheus.query(f'{query}{{model="{model}"}}')
        assert rows, f"{query} has no series for {model}"
        return float(rows[0]["value"][1])

    assert value("llm:gpu_utilization:avg") > float(thresholds["gpu_utilization"])
    assert value("llm:kv_cache_usage:max") > float(thresholds["kv_cache_usage"])


def test_scale_to_zero_really_has_no_replica_and_no_engine(rounds):
    probes = rounds[1].probes

    def values(query):
        return [float(r["value"][1]) for r in probes[query]]

    assert values('llm:replicas_ready:sum{model="deepseek-r1-distill-7b"}') == [0.0]
    assert values('llm:targets_up:sum{model="deepseek-r1-distill-7b"}') == [0.0]
    assert values('llm:requests_running:sum{model="deepseek-r1-distill-7b"}') == []  # no engine to scrape


@pytest.mark.parametrize("number", sorted(plan.SIDE_EFFECTS))
def test_declared_side_effects_fire_with_their_labels(rounds, number):
    for (alert, scope), labels in plan.SIDE_EFFECTS[number].items():
        matching = [a for a in rounds[number].alerts if key(a) == (alert, scope) and a["state"] == "firing"
                    and all(a["labels"].get(k) == v for k, v in labels.items())]
        assert matching, f"round {number}: no firing {alert}@{scope} with {labels}"


@pytest.mark.parametrize("number", sorted(plan.RECOVERIES))
def test_alerts_resolve_and_are_delivered_resolved_when_the_failure_ends(rounds, number):
    result = rounds[number]
    recoveries = plan.RECOVERIES[number]
    still = sorted(recoveries & result.active)
    assert not still, f"still pending or firing after the failure ended: {still}"
    resolved = {key(a) for a in result.webhook if a["status"] == "resolved"}
    assert recoveries <= resolved, f"no resolved notification for {sorted(recoveries - resolved)}"


@pytest.mark.parametrize("number", sorted(plan.STILL_FIRING))
def test_alerts_keep_firing_while_their_failure_lasts(rounds, number):
    missing = sorted(plan.STILL_FIRING[number] - set(rounds[number].firing))
    assert not missing, f"round {number}: no longer firing though the failure lasts: {missing}"


@pytest.mark.parametrize("number", sorted(plan.INHIBITED))
def test_alerts_inhibited_by_model_down_fire_but_are_not_delivered(rounds, number):
    result = rounds[number]
    for alert, scope in plan.INHIBITED[number]:
        assert (alert, scope) in result.fired, f"{alert}@{scope} never fired in Prometheus"
        assert ("LLMModelDown", scope) in result.fired
        delivered = [a for a in result.webhook if key(a) == (alert, scope) and a["status"] == "firing"]
        assert not delivered, f"{alert}@{scope} was delivered although LLMModelDown of {scope} fires"
        held = [a for a in result.alertmanager if key(a) == (alert, scope)]
        assert held and all(a["status"]["inhibitedBy"] for a in held), f"Alertmanager's view: {held}"


def test_a_critical_burn_inhibits_its_warning_tier(stack, rounds):
    """Once a burn alert's critical tier fires, notifications of the alert and model carry no warning tier."""
    pairs = set()
    for notification in stack.webhook.notifications:
        firing = [a for a in notification["alerts"] if a["status"] == "firing"]
        tiers = {}
        for a in firing:
            tiers.setdefault((a["labels"]["alertname"], a["labels"].get("model")), set()).add(a["labels"]["severity"])
        for pair, severities in tiers.items():
            if "critical" in severities:
                pairs.add(pair)
                assert "warning" not in severities, f"{pair}: a notification carries both tiers"
    # Both tiers firing in Prometheus at once, with Alertmanager holding the warning as inhibited.
    inhibited = [a for a in rounds[1].alertmanager if a["labels"].get("severity") == "warning"
                 and (a["labels"]["alertname"], a["labels"].get("model")) in pairs and a["status"]["inhibitedBy"]]
    assert inhibited, f"no warning tier held back under its critical tier; critical tiers delivered: {sorted(pairs)}"


def test_every_delivered_alert_went_to_its_teams_receiver(stack, rounds):
    teams = {m.name: m.team.name for m in stack.inventory.models}
    wrong = sorted({(a["labels"]["alertname"], a["labels"].get("model"), a["receiver"]) for a in stack.webhook.alerts()
                    if a["receiver"] != (team_receiver(teams[a["labels"]["model"]]) if "model" in a["labels"]
                                         else DEFAULT_RECEIVER)})
    assert not wrong, f"delivered through the wrong receiver: {wrong}"
    assert {a["receiver"] for a in stack.webhook.alerts()} >= {team_receiver(t) for t in set(teams.values())}


def test_a_replica_that_crashes_and_recovers_is_not_a_slow_cold_start(rounds):
    crashed = {m for m, scenarios in plan.ROUNDS[3].items()
               if {"replica-down", "model-down", "crash-loop"} & set(scenarios)}
    wrong = {n: sorted(m for (alert, m) in rounds[n].active if alert == "LLMColdStartSlow" and m in crashed)
             for n in (3, 4)}
    assert not any(wrong.values()), (
        f"LLMColdStartSlow pending or firing for replicas that crashed after they had become ready "
        f"(while down: {wrong[3]}; after they came back: {wrong[4]})")


def test_no_rule_fails_to_evaluate_under_any_scenario(stack, rounds):
    problems = [(g["name"], r["name"], r.get("lastError")) for g in stack.prometheus.rules() for r in g["rules"]
                if r["health"] != "ok" or r.get("lastError")]
    assert not problems, f"rules with evaluation errors: {problems}"
