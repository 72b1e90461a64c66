"""End-to-end: the example inventory's rules and dashboards in a real Prometheus and Alertmanager.

One stack for the whole session: the fleet simulator, Prometheus (1 s scrape, 2 s
evaluation) with the generated rule files, Alertmanager with the generated
configuration (routes per team, inhibit rules) and a webhook served here added to
every receiver. The phases run in order, each a session fixture that records what
it saw: `healthy` (every model healthy), then rounds 1 to 4 (scenarios per `plan`).
Tests assert on those records, so they can run in any order.

`for` durations are shortened through the inventory's own `alerts:` overrides,
written into a copy of the example inventory. The copy also says that dcgm-exporter
is scraped as its Helm chart does by default (`honorLabels: false`), so the
workload's labels arrive as `exported_namespace` / `exported_pod`: every GPU panel,
recording rule and alert is proven through them (the default, `pod`, is proven by
the generated promtool tests and `make demo`).
"""
from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from generator import conventions as c
from generator import inventory as inventory_mod
from generator.build import OUTPUT_DIRS, build
from generator.output import write
from generator.prometheus_syntax import duration_seconds
from generator.promql import regex_escape
from generator.queries import ModelQueries
from generator.simulate.stack import Processes, Webhook, http, shortened_inventory, wait_for

from . import plan
from .prometheus import Prometheus

ROOT = Path(__file__).resolve().parents[2]
INTERVAL = "1s"  # scrape (and, in the other tests' stacks, evaluation)
# Rule evaluation in the session's stack: every 2 s, not every scrape. Its Prometheus then takes about 0.30 cores
# instead of 0.45 through the seven minutes of rounds, beside the CPU-bound rest of `make test`. An alert fires
# within 2 s of its `for` (`for: 3s` fires at the second evaluation after it became pending).
EVALUATION = "2s"
FOR = "3s"  # every alert's `for`, through the inventory's alerts: overrides ...
# ... except these, which a freshly started Prometheus would fire: it evaluates rules for up to 5 s
# before target discovery hands over the first targets, and until then `up` is absent, i.e. 0 replicas.
# LLMCollectorDown likewise (`absent(up{job=...})` until then).
SLOWER_FOR = {"LLMModelDown": "10s", "LLMReplicasBelowMin": "10s", "LLMCollectorDown": "10s",
              # Slower than LLMModelDown, as in production (cold-start budget and 10m against 5m), so a model that
              # goes down fires LLMModelDown first and Alertmanager inhibits these for it.
              "LLMPodNotReady": "20s", "LLMEngineCrashLooping": "20s"}
# How the e2e inventory copy says dcgm-exporter is scraped (Prometheus stores the workload labels as exported_*).
COLLECTORS = {"dcgm": {"namespace_label": "exported_namespace", "pod_label": "exported_pod"}}
# Recorded series that exist only while their fault does (a container waiting, an OOM kill, a new XID).
EVENT_SERIES = {c.CONTAINER_WAITING, c.OOM_KILLS, c.GPU_XID_NEW, c.NEW_PODS}
RATE_INTERVAL, RANGE = "15s", "1m"  # what Grafana's $__rate_interval and $__range become
QUIET_SECONDS = 8  # how long the healthy fleet is watched for alerts
ROUND_TIMEOUT = 210  # seconds a round may take to fire everything it should
NEW_ALERT_MARGIN = 1.5  # an alert that became active this long after a round's switch was caused by that round
KNOWN_BUG_GRACE = 10  # seconds to keep waiting for runs that a known bug stops, once the rest fired
SUMMARY: dict = {}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "e2e: end to end against real Prometheus and Alertmanager processes (slow; needs the "
                   "Debian prometheus and prometheus-alertmanager packages)")


def pytest_terminal_summary(terminalreporter):
    if SUMMARY:
        terminalreporter.section("end-to-end summary")
        for key, value in SUMMARY.items():
            terminalreporter.write_line(f"{key}: {value}")


def _binary(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(f"{names[0]} is required for the end-to-end tests: apt-get install prometheus prometheus-alertmanager")


# -- the stack ---------------------------------------------------------------


@dataclass
class Stack:
    work: Path
    inventory: inventory_mod.Inventory
    files: dict[str, str]
    prometheus: Prometheus
    alertmanager: str
    simulator: str
    webhook: Webhook
    started: float = field(default_factory=time.monotonic)

    def set_scenarios(self, specs: list[str]) -> dict:
        status, body = http("POST", f"{self.simulator}/scenarios", ",".join(specs).encode())
        assert status == 200, f"POST /scenarios {specs}: {status} {body!r}"
        return json.loads(body)

    def rule_files(self) -> dict[str, dict]:
        return {path: yaml.safe_load(text) for path, text in self.files.items() if path.endswith(".rules.yaml")}

    def recorded(self) -> dict[str, set[str]]:
        """model -> names its recording rules record, the shared SLO windows included."""
        return recorded_by_model(self.rule_files())

    def generated_alerts(self) -> dict[str, set[str]]:
        """model -> alert names generated for it."""
        result = {}
        for doc in self.rule_files().values():
            for group in doc["groups"]:
                model = group["name"][len("llm-"):-len("-alerts")] if group["name"].endswith("-alerts") else None
                for rule in group["rules"]:
                    if "alert" in rule:
                        result.setdefault(model, set()).add(rule["alert"])
        return result

    def firing(self) -> dict[tuple[str, str], dict]:
        """(alertname, scope) -> one firing alert from Prometheus; the scope is the model, or the site of an
        alert without one (LLMCollectorDown)."""
        return {key(a): a for a in self.prometheus.alerts() if a["state"] == "firing"}

    def alertmanager_alerts(self) -> list[dict]:
        """Alertmanager's view of every alert it holds, with `status.inhibitedBy`."""
        status, body = http("GET", f"{self.alertmanager}/api/v2/alerts")
        assert status == 200, f"GET /api/v2/alerts: {status} {body[:200]!r}"
        return json.loads(body)


def recorded_by_model(rule_files: dict[str, dict]) -> dict[str, set[str]]:
    """model -> names its recording rules record, from the parsed rule files (path -> document), the shared SLO
    windows included: a shared rule records a series for every model with the SLO it selects (`slo="..."`), or
    for every model if it selects none."""
    result: dict[str, set[str]] = {}
    slos: dict[str, set[str]] = {}
    shared = []
    for path, doc in rule_files.items():
        for group in doc["groups"]:
            for rule in group["rules"]:
                if "record" not in rule:
                    continue
                if path == c.SLO_WINDOWS_FILE:
                    shared.append(rule)
                    continue
                model = rule["labels"][c.MODEL_LABEL]
                result.setdefault(model, set()).add(rule["record"])
                slos.setdefault(model, set()).add(rule["labels"].get("slo"))
    for rule in shared:
        slo = re.search(r'slo="([^"]+)"', rule["expr"])
        for model, names in result.items():
            if slo is None or slo.group(1) in slos[model]:
                names.add(rule["record"])
    return result


def key(alert: dict) -> tuple[str, str]:
    return alert["labels"]["alertname"], plan.scope_of(alert["labels"])


def alert_for(name: str) -> str:
    return SLOWER_FOR.get(name, FOR)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    prometheus_bin = _binary("prometheus")
    alertmanager_bin = _binary("prometheus-alertmanager", "alertmanager")
    work = tmp_path_factory.mktemp("e2e")
    path = shortened_inventory(ROOT / "inventory.yaml", work / "inventory.yaml", FOR, SLOWER_FOR, COLLECTORS)
    inventory = inventory_mod.load(path)
    files = build(inventory)
    write(files, work / "out", OUTPUT_DIRS)
    wrong = {(rule["alert"], rule["for"]) for name, text in files.items() if name.endswith(".rules.yaml")
             for group in yaml.safe_load(text)["groups"] for rule in group["rules"]
             if "alert" in rule and rule["for"] != alert_for(rule["alert"])}
    assert not wrong, f"the alerts: overrides did not reach every alert: {sorted(wrong)}"

    webhook = Webhook()
    try:
        with Processes(work) as processes:
            routes = yaml.safe_load(files[c.ALERTMANAGER_FILE])
            am_url = processes.alertmanager(alertmanager_bin, webhook.url, routes, group_wait="1s",
                                            group_interval="1s")
            sim_url, config = processes.simulator(path, str(work / "out" / "alerts" / "*.rules.yaml"), am_url,
                                                  INTERVAL)
            settings = yaml.safe_load(config.read_text())
            settings["global"]["evaluation_interval"] = EVALUATION
            config.write_text(yaml.safe_dump(settings, sort_keys=False))
            prom_url = processes.prometheus(prometheus_bin, config)
            yield Stack(work, inventory, files, Prometheus(prom_url), am_url, sim_url, webhook)
    finally:
        webhook.stop()


# -- phase 1: a healthy fleet -----------------------------------------------------


@dataclass
class Healthy:
    targets: list[dict]
    rules: list[dict]
    recorded: dict[str, dict[str, int]]  # model -> record name -> series
    dashboards: list[dict]  # one entry per (dashboard, panel, target, model) query
    alerts: list[dict]  # every pending or firing alert seen while watching
    notifications: list[dict]
    seconds: float
    request_rates: dict[str, float]  # model -> llm:requests:rate5m
    samples: dict[str, int]  # model -> samples of its engine's request counter in the last 5m (one replica)


def _recorded_series(prometheus: Prometheus) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = {}
    for row in prometheus.query('count by (__name__, model) ({__name__=~"llm:.+"})'):
        result.setdefault(row["metric"].get("model"), {})[row["metric"]["__name__"]] = int(float(row["value"][1]))
    return result


@pytest.fixture(scope="session")
def healthy(stack) -> Healthy:
    prometheus, expected = stack.prometheus, stack.recorded()

    def everything_recorded():
        seen = _recorded_series(prometheus)
        return all(names - EVENT_SERIES <= set(seen.get(model, {})) for model, names in expected.items())

    wait_for(lambda: all(t["health"] == "up" for t in prometheus.targets()), 60, "every target to be scraped")
    wait_for(everything_recorded, 90, "every recording rule to produce series for every model")
    time.sleep(2 * duration_seconds(EVALUATION) + 1)  # let alert rules evaluate on complete data
    dashboards = check_dashboards(stack)
    alerts = []
    deadline = time.monotonic() + QUIET_SECONDS
    while time.monotonic() < deadline:
        alerts += prometheus.alerts()
        time.sleep(0.5)
    rates = {row["metric"]["model"]: float(row["value"][1])
             for row in prometheus.query(c.REQUESTS.format(window="5m"))}
    samples = {}
    for model in stack.inventory.models:  # how much history rate(...[5m]) had
        q = ModelQueries(stack.inventory, model)
        part = q.signal("requests").parts[0]  # a counter, or a histogram's _count (OpenTelemetry)
        counter = q.selector(part.metric, part.matchers, part.scope, part.suffix)
        samples[model.name] = int(float(prometheus.query(f"max(count_over_time({counter}[5m]))")[0]["value"][1]))
    result = Healthy(prometheus.targets(), prometheus.rules(), _recorded_series(prometheus), dashboards, alerts,
                     list(stack.webhook.notifications), time.monotonic() - stack.started, rates, samples)
    SUMMARY["healthy phase"] = f"{result.seconds:.0f} s after start"
    return result


# -- dashboards ---------------------------------------------------------------


def substitute(expr: str, model_regex: str) -> str:
    """Grafana's variables as a dashboard's default view would fill them."""
    for name, value in (("__rate_interval", RATE_INTERVAL), ("__range", RANGE), ("model", model_regex),
                        ("team", ".*"), ("pod", ".+"), ("node", ".+")):
        expr = expr.replace(f"${{{name}}}", value)
        expr = re.sub(rf"\${name}\b", value, expr)
    return expr


def llm_alternatives(expr: str) -> list[set[str]]:
    """The sets of `llm:` series an expression needs: one set per alternative of its `or`s."""
    import promql_parser as p

    def alt(node) -> list[set[str]]:
        if isinstance(node, p.BinaryExpr):
            left, right = alt(node.lhs), alt(node.rhs)
            if str(node.op) == "or":
                return left + right
            return [a | b for a in left for b in right]
        if isinstance(node, p.VectorSelector):
            return [{node.name}] if node.name and node.name.startswith("llm:") else [set()]
        if isinstance(node, p.MatrixSelector):
            return alt(node.vector_selector)
        if isinstance(node, p.Call):
            result = [set()]
            for arg in node.args:
                result = [a | b for a in result for b in alt(arg)]
            return result
        for attribute in ("expr",):
            if hasattr(node, attribute) and getattr(node, attribute) is not None:
                return alt(getattr(node, attribute))
        return [set()]

    return alt(p.parse(expr))


def check_dashboards(stack) -> list[dict]:
    """Run every panel query of every dashboard; for fleet-wide dashboards once per model (and for all)."""
    models = [m.name for m in stack.inventory.models]
    by_uid = {c.model_dashboard_uid(m): m for m in models}
    recorded = stack.recorded()
    results = []
    for path, text in sorted(stack.files.items()):
        if not path.startswith("dashboards/"):
            continue
        board = json.loads(text)
        own_model = by_uid.get(board["uid"])
        # Panels of collapsed rows too: Grafana runs their queries when the row opens.
        for panel in board["panels"] + [inner for row in board["panels"] for inner in row.get("panels", [])]:
            for index, target in enumerate(panel.get("targets", [])):
                expr = target["expr"]
                if own_model is not None or "$model" not in expr and "${model}" not in expr:
                    views = [(own_model, ".*")]
                else:
                    alternatives = llm_alternatives(substitute(expr, ".*"))
                    views = [(None, ".*")] + [
                        (m, regex_escape(m).replace("\\", "\\\\")) for m in models
                        if any(alt <= recorded.get(m, set()) for alt in alternatives)]
                for model, regex in views:
                    query = substitute(expr, regex)
                    entry = {"dashboard": path, "panel": panel["title"], "target": target.get("refId", index),
                             "model": model, "query": query, "instant": bool(target.get("instant"))}
                    try:
                        data = (stack.prometheus.query(query) if entry["instant"]
                                else stack.prometheus.query_range(query))
                        entry["series"] = len([s for s in data if s.get("value") or s.get("values")])
                    except ValueError as exc:
                        entry["series"], entry["error"] = 0, str(exc)
                    results.append(entry)
    panels = {(r["dashboard"], r["panel"]) for r in results}
    SUMMARY["dashboard panels checked"] = len(panels)
    SUMMARY["dashboard queries run"] = len(results)
    SUMMARY["distinct panel queries"] = len({(r["dashboard"], r["panel"], r["target"]) for r in results})
    return results


# -- the rounds: scenarios ---------------------------------------------------------------


@dataclass
class Round:
    number: int
    fired: dict[tuple[str, str], float]  # (alertname, scope) -> seconds after the round started
    firing: dict[tuple[str, str], dict]  # at the end of the round
    active: set[tuple[str, str]]  # pending or firing at the end of the round
    new: dict[tuple[str, str], dict]  # every alert that became active during the round and fired (one sample each)
    alerts: list[dict]  # Prometheus's alerts at the end of the round
    probes: dict[str, list[dict]]  # plan.PROBES queries at the end of the round
    webhook: list[dict]  # every alert delivered so far
    alertmanager: list[dict]  # Alertmanager's alerts at the end of the round
    seconds: float


def _active(stack) -> set[tuple[str, str]]:
    return {key(a) for a in stack.prometheus.alerts()}


def _delivered(stack, status: str) -> set[tuple[str, str]]:
    return {key(a) for a in stack.webhook.alerts() if a["status"] == status}


def _timestamp(text: str) -> float:
    """Prometheus's RFC 3339 `activeAt` (nanoseconds, `Z`) as Unix seconds."""
    from datetime import datetime
    head, _, fraction = text.rstrip("Z").partition(".")
    seconds = datetime.fromisoformat(head + "+00:00").timestamp()
    return seconds + (float("0." + fraction) if fraction else 0.0)


def play_round(stack, number: int) -> Round:
    """Switch the simulator to the round's scenarios, then watch until what should fire (or resolve) did."""
    stack.set_scenarios(plan.specs(number))
    started, switched = time.monotonic(), time.time()
    runs = [r for r in plan.alerting_runs() if r.round == number]
    inhibited = plan.INHIBITED.get(number, set())
    expected = {r.key for r in runs} | set(plan.SIDE_EFFECTS.get(number, {})) | inhibited
    hindered = {r.key for r in runs if (r.round, r.model, r.scenario) in plan.KNOWN_BUGS}
    recoveries = plan.RECOVERIES.get(number, set())
    fired: dict[tuple[str, str], float] = {}
    new: dict[tuple[str, str], dict] = {}
    rest_done_at = None

    def watch() -> None:
        for alert in stack.prometheus.alerts():
            if alert["state"] != "firing":  # pending for less than its `for`: nobody would be told
                continue
            fired.setdefault(key(alert), time.monotonic() - started)
            if _timestamp(alert["activeAt"]) >= switched + NEW_ALERT_MARGIN:
                new.setdefault(key(alert), alert)

    while time.monotonic() - started < ROUND_TIMEOUT:
        watch()
        missing = expected - set(fired)
        if not missing and not recoveries & _active(stack):
            break
        if missing and missing <= hindered and not recoveries & _active(stack):
            rest_done_at = rest_done_at or time.monotonic()
            if time.monotonic() - rest_done_at > KNOWN_BUG_GRACE:
                break
        time.sleep(0.5)
    try:
        wait_for(lambda: (watch() or True) and ((set(fired) & expected) - inhibited <= _delivered(stack, "firing")
                                               and recoveries <= _delivered(stack, "resolved")),
                 20, "Alertmanager to deliver the firing and resolved alerts")
    except TimeoutError:
        pass  # the delivery tests say which ones are missing
    if inhibited:  # give Alertmanager the time it would take to deliver them (group_wait + group_interval)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            watch()
            time.sleep(0.5)
    alerts = stack.prometheus.alerts()
    probes = {query: stack.prometheus.query(query) for query in plan.PROBES.get(number, ())}
    result = Round(number, fired, {key(a): a for a in alerts if a["state"] == "firing"}, {key(a) for a in alerts},
                   new, alerts, probes, stack.webhook.alerts(), stack.alertmanager_alerts(),
                   time.monotonic() - started)
    summary = f"{result.seconds:.0f} s"
    if expected & set(fired):
        summary += "; planned alerts fired after: " + ", ".join(
            f"{a}@{m} {fired[(a, m)]:.0f} s" for a, m in sorted(expected & set(fired), key=fired.get))
    if recoveries:
        summary += "; resolved: " + ", ".join(f"{a}@{m}" for a, m in sorted(recoveries - result.active))
    SUMMARY[f"round {number}"] = summary
    missing = sorted(expected - set(fired))
    if missing:
        SUMMARY[f"round {number} never fired"] = ", ".join(f"{a}@{m}" for a, m in missing)
    return result


@pytest.fixture(scope="session")
def round_one(stack, healthy) -> Round:
    return play_round(stack, 1)


@pytest.fixture(scope="session")
def round_two(stack, round_one) -> Round:
    return play_round(stack, 2)


@pytest.fixture(scope="session")
def round_three(stack, round_two) -> Round:
    return play_round(stack, 3)


@pytest.fixture(scope="session")
def round_four(stack, round_three) -> Round:
    result = play_round(stack, 4)
    SUMMARY["stack up until the last round ended"] = f"{time.monotonic() - stack.started:.0f} s"
    return result


@pytest.fixture(scope="session")
def rounds(stack, round_one, round_two, round_three, round_four) -> dict[int, Round]:
    result = {1: round_one, 2: round_two, 3: round_three, 4: round_four}
    proven = {}
    for run in plan.alerting_runs():
        alert = result[run.round].firing.get(run.key)
        if alert is not None:
            proven.setdefault(run.alert, set()).add(f"{run.scope} ({alert['labels']['severity']})")
    SUMMARY["alerts proven to fire"] = f"{len(proven)}: " + "; ".join(
        f"{name} on {', '.join(sorted(models))}" for name, models in sorted(proven.items()))
    delivered = stack.work / "webhook-alerts.json"
    delivered.write_text(json.dumps(stack.webhook.alerts(), indent=2))
    SUMMARY["alerts delivered to the webhook"] = f"{len(stack.webhook.alerts())}, saved in {delivered}"
    return result
