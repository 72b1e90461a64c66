"""promtool unit tests for every generated alert and the recording rules, one file per model.

For each alerting rule: it fires once its condition has held for `for`; it
does not fire before `for` elapses; it does not fire just under its threshold;
and, for ratio and latency alerts, it does not fire below the minimum-traffic
guard. Inputs are raw engine and exporter series (`test_inputs.py`), so each
test runs the model's recording rules too. A baseline test checks recorded
values against numbers computed by hand from the inputs. The burn-rate alerts'
cases of one kind share test groups (`_pack`): a group costs promtool its length
in evaluations of every rule, whatever it holds.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from decimal import Decimal

from generator import conventions as c
from generator.catalog.base import WORKLOAD
from generator.inventory import Inventory, Model
from generator.prometheus_syntax import duration_seconds
from generator.promql import number, quote
from generator.queries import ModelQueries
from generator.rules.alert_table import Condition
from generator.rules.alerts import Alert, alerts
from generator.rules.collectors import collector_jobs, collector_rules, sites
from generator.rules.fault_cases import fault_cases
from generator.rules.files import SharedWindows, model_groups, shared_windows, slo_window_groups
from generator.rules.recording import base_labels, raw_window
from generator.rules.rendering import render
from generator.rules.test_inputs import LATENCY, Inputs, Series
from generator.yaml_out import comment, dump

RATE = Decimal(100)  # requests per second in every test with traffic: the 3d guard holds within 5 minutes
RATE_SIGNALS = {*LATENCY, "error_ratio", "preemptions"}
FRACTIONS = {*LATENCY, "error_ratio", "kv_cache", "gpu_utilization", "gpu_memory"}
MISSES = {"ttft": Decimal("0.1"), "itl": Decimal("0.2"), "tpot": Decimal("0.15"), "e2e": Decimal("0.05")}
SLO_SIGNALS = {*LATENCY, "error_ratio"}  # the burn-rate alerts' conditions: their cases are packed (`_pack`)
CASE_SEPARATOR = "; "  # between the titles of the cases one test group holds


# Fields in which two models may differ and still share every alert's logic: their names, where their
# series are and who is paged. Models alike in everything else (engine version, SLOs, thresholds, buckets,
# replicas, GPUs, alert options) get one promtool test file, the first's: the cases prove the rules' logic,
# which is the same for all of them, so test time grows with the kinds of models, not their number. The
# rules of every model still pass `promtool check rules` and `validate`; names that need escaping are
# proven by the weird-names golden tree and the fuzz tests.
NAMES_ONLY = ("name", "served_name", "namespace", "pod_regex", "backend_model", "team", "selector", "path",
              "container", "image_pattern", "severity_labels")


def shapes(inventory: Inventory) -> list[tuple[Model, tuple[Model, ...]]]:
    """Each model whose test file proves a kind of model, with the later models of the same kind."""
    kinds: dict[str, list[Model]] = {}
    for model in inventory.models:
        kind = [(f.name, getattr(model, f.name)) for f in fields(model) if f.name not in NAMES_ONLY]
        kinds.setdefault(repr(kind), []).append(model)
    return [(first, tuple(rest)) for first, *rest in kinds.values()]


def test_files(inventory: Inventory) -> dict[str, str]:
    windows = shared_windows(inventory)
    files = {c.rules_test_file(m.name): test_file(inventory, m, alike, windows) for m, alike in shapes(inventory)}
    files[c.COLLECTORS_TEST_FILE] = collector_test_file(inventory)
    return files


def collector_test_file(inventory: Inventory) -> str:
    """Each site's collectors: silent while scraped; firing when a target is down or none is scraped."""
    rules = collector_rules(inventory)
    jobs = collector_jobs(inventory).items()
    pairs = [(site, collector, job) for site in sites(inventory) for collector, job in jobs]

    def up(site, job: str, instance: str) -> str:
        labels = {"job": job, **dict(site.labels), "instance": instance}
        return "up{" + ", ".join(f"{k}={quote(v)}" for k, v in sorted(labels.items())) + "}"

    tests = []
    for site, collector, job in pairs:
        where = ", ".join(f"{k}={v}" for k, v in site.labels) or "the only site"
        rule = next(r for r in rules if r["labels"]["collector"] == collector
                    and all(r["labels"].get(k) == v for k, v in site.labels))
        hold = _minutes(rule["for"])
        length = hold + 5
        others = [{"series": up(s, j, "a"), "values": f"1x{length}"} for s, _, j in pairs if (s, j) != (site, job)]

        def expect(value: int, rule=rule, job=job, site=site) -> list[dict]:
            annotations = dict(rule["annotations"])
            annotations["description"] = render(annotations["description"], float(value))
            return [{"exp_labels": {"job": job, **dict(site.labels), **rule["labels"]},
                     "exp_annotations": annotations}]

        cases: tuple[tuple[str, dict[str, str], list[dict]], ...] = (
            ("scraped: silent", {"a": f"1x{length}", "b": f"1x{length}"}, []),
            ("one of two targets down: fires", {"a": f"1x{length}", "b": f"1 0x{length - 1}"}, expect(1)),
            ("no target scraped at all: fires", {}, expect(1)),
        )
        for title, values, expected in cases:
            tests.append({
                "name": f"LLMCollectorDown {collector} ({where}): {title}",
                "interval": "1m",
                "input_series": [{"series": up(site, job, instance), "values": v} for instance, v in values.items()]
                + others,
                "alert_rule_test": [{"eval_time": f"{hold + 3}m", "alertname": "LLMCollectorDown",
                                     "exp_alerts": expected}],
            })
    doc = {"rule_files": [f"../{c.COLLECTORS_FILE.split('/', 1)[1]}"], "evaluation_interval": "1m", "tests": tests}
    return comment(c.GENERATED_HEADER) + comment(f"promtool tests for {c.COLLECTORS_FILE}.") + dump(doc)


def test_file(inventory: Inventory, model: Model, alike: tuple[Model, ...] = (),
              windows: SharedWindows | None = None) -> str:
    """`alike`: the models of the same kind whose alerts these cases prove too. The tests load the model's rule
    file and the shared SLO windows (`conventions.SLO_WINDOWS_FILE`), whose rules see only this model's series."""
    windows = windows or shared_windows(inventory)
    inputs = Inputs(inventory, model)
    rules = alerts(inventory, model)
    tests = [_baseline(inventory, model, inputs)]
    if ModelQueries(inventory, model).has("generation_tokens"):
        tests.append(_efficiency(inventory, model, inputs))
    slo_cases: list[Case] = []
    for alert in rules:
        if alert.condition is not None:
            siblings = [a for a in rules if a.rule["alert"] == alert.rule["alert"]]
            cases = _alert_cases(alert.rule, alert.condition, siblings, model, inputs)
            if alert.condition.signal in SLO_SIGNALS:
                slo_cases += cases
            else:
                tests += [_group([case]) for case in cases]
    tests += [_group(bundle) for bundle in _pack(slo_cases)]
    tests += fault_cases(inventory, model, rules, inputs)
    # promtool evaluates every group each minute (it ignores a group's own interval) in this order: rules
    # that read recorded series see this minute's values, as the hand-computed expectations assume.
    # The shared windows (and the copies the slow windows and the SLO period read, then equal to the series
    # they copy) come after the model's recording groups and before its budget and alerts.
    recording, reading = model_groups(inventory, model, windows)
    order = [g["name"] for g in recording + slo_window_groups(inventory, windows) + reading]
    doc = {"rule_files": [f"../{c.rules_file(model.name).split('/', 1)[1]}",
                          f"../{c.SLO_WINDOWS_FILE.split('/', 1)[1]}"], "evaluation_interval": "1m",
           "group_eval_order": order, "tests": tests}
    also = ""
    if alike:
        also = comment(f"They prove the alerts of {', '.join(m.name for m in alike)} too: the same kind of model "
                       "(only names, namespace, pods and team differ).")
    return comment(c.GENERATED_HEADER) + comment(f"promtool tests for {c.rules_file(model.name)}.") + also + \
        dump(doc)


# -- alerts ----------------------------------------------------------------

def tier_name(rule: dict) -> str:
    """How a test names one rule of an alert: its severity, and its windows for burn-rate tiers."""
    labels = rule["labels"]
    return f"{labels['severity']}, {labels['long']}/{labels['short']}" if "long" in labels else labels["severity"]


@dataclass(frozen=True)
class Case:
    """One case of one alert rule: its input series and what promtool is to see of the alert.

    `kind` is what the case shows (it fires after `for` and not before, it is silent just under the threshold,
    or silent below the traffic guard); `minutes` is how long its series run."""
    kind: str
    title: str
    alert: str
    series: tuple[Series, ...]
    checks: tuple[dict, ...]
    minutes: int


def _alert_cases(rule: dict, cond: Condition, siblings: list[Alert], model: Model, inputs: Inputs) -> list[Case]:
    name = rule["alert"]
    tier = f" ({tier_name(rule)})" if len(siblings) > 1 else ""
    hold = _minutes(rule["for"])
    fire, near = _fire_value(cond), _near_value(cond)
    # Twice the minimum-traffic guard where a model sets it above RATE, so the guard holds as soon as with RATE.
    rate = max(RATE, 2 * model.thresholds["min_request_rate"])
    start = _first_minute(cond, fire, rate, model)
    assert start is not None, f"{name}: the fire value {fire} at {rate} requests/s never fires"
    before, after = start + hold - 1, start + hold + 1

    def case(kind: str, title: str, value: Decimal, rate: Decimal, checks: list[tuple[int, Decimal | None]]) -> Case:
        return Case(kind, f"{name}{tier}: {title}", name, tuple(inputs.signal(cond.signal, value, rate)),
                    tuple({"eval_time": f"{t}m", "alertname": name,
                           "exp_alerts": _expected(siblings, v, t, rate, model)} for t, v in checks),
                    after + 2)

    cases = [
        case("fires", f"fires after {rule['for']} at {number(fire)}, not before", fire, rate,
             [(max(before, 0), fire), (after, fire)]),
        case("near", f"silent just under the threshold, at {number(near)}", near, rate, [(after, near)]),
    ]
    if cond.guard:
        quiet = model.thresholds["min_request_rate"] / 2
        cases.append(case("guard", f"silent below the minimum traffic, at {number(quiet)} requests/s", fire, quiet,
                          [(after, None)]))
    return cases


def _group(cases: list[Case]) -> dict:
    """One promtool test group holding `cases` (their series side by side, as long as the longest): named by
    their titles, one per case, joined by `CASE_SEPARATOR`."""
    minutes = max(case.minutes for case in cases)
    series = list(dict.fromkeys(s for case in cases for s in case.series))
    return {
        "name": CASE_SEPARATOR.join(case.title for case in cases),
        "interval": "1m",
        "input_series": [{"series": s.text(), "values": s.values(minutes)} for s in series],
        "alert_rule_test": [check for case in cases for check in case.checks],
    }


def _pack(cases: list[Case]) -> list[list[Case]]:
    """The SLO alerts' cases packed into shared promtool test groups (first fit), each case as it is alone.

    promtool evaluates every rule of the model's files at every minute of every group, so a group costs its
    length whatever it holds. Cases of one kind and length share a group when no two are of one alert (each
    check names its alert) and the metrics they share are the same series with the same values: then a case's
    alert reads what it reads alone (each SLO has series of its own; the request counters every case carries
    run at one rate within a kind). That a burn alert reads its own SLO's series only, which cases in one
    state cannot tell apart, is checked on the expressions (tests/test_promtool_tests.py) and by the
    recording-rules case, which gives each SLO a different miss ratio."""
    bundles: list[list[Case]] = []
    for case in cases:
        fit = next((b for b in bundles if _fits(b, case)), None)
        if fit is None:
            bundles.append([case])
        else:
            fit.append(case)
    return bundles


def _fits(bundle: list[Case], case: Case) -> bool:
    first = bundle[0]
    if (first.kind, first.minutes) != (case.kind, case.minutes) or any(b.alert == case.alert for b in bundle):
        return False
    held, mine = _by_metric(s for b in bundle for s in b.series), _by_metric(case.series)
    return all(held[name] == series for name, series in mine.items() if name in held)


def _by_metric(series: Iterable[Series]) -> dict[str, set[Series]]:
    result: dict[str, set[Series]] = {}
    for s in series:
        result.setdefault(s.name, set()).add(s)
    return result


def _expected(siblings: list[Alert], value: Decimal | None, minute: int, rate: Decimal, model: Model) -> list[dict]:
    """The alerts of this name that fire at `minute`: each tier's condition (with its traffic guard) held
    for at least its `for`."""
    if value is None:
        return []
    out = []
    for alert in siblings:
        if alert.condition is None or not _holds(alert.condition, value):
            continue
        start = _first_minute(alert.condition, value, rate, model)
        if start is None or minute - start < _minutes(alert.rule["for"]):
            continue
        annotations = dict(alert.rule["annotations"])
        annotations["description"] = render(annotations["description"], float(value))
        out.append({"exp_labels": {**base_labels(model), **alert.rule["labels"]}, "exp_annotations": annotations})
    return out


def _first_minute(cond: Condition, value: Decimal, rate: Decimal, model: Model) -> int | None:
    """The first evaluation (in minutes) at which the condition holds for series that start at 0.

    Prometheus divides the increase seen so far by the whole range while a
    counter is younger than the range, so `rate(x[w])` of a series that grew
    at r since t=0 reads r*t/w until t reaches w. Ratios of two such rates
    are exact from the second sample; a plain rate or the traffic guard ramps up.
    A derived window's guard is the mean of the recorded 5-minute rates seen so
    far (from minute 1, one a minute), each of them ramping up that way.
    """
    def ramped(per_second: Decimal, window: str, enough: Callable[[Decimal], bool]) -> int | None:
        if not enough(per_second):
            return None  # never, however long the series
        minute = 1
        while not enough(_read(per_second, window, minute)):
            minute += 1
        return minute

    if cond.signal == "preemptions":
        return ramped(value, "5m", lambda r: _holds(cond, r))
    if cond.signal in RATE_SIGNALS:
        minimum = model.thresholds["min_request_rate"]
        return ramped(rate, cond.guard, lambda r: r >= minimum) if cond.guard else 1
    return 0


def _read(per_second: Decimal, window: str, minute: int) -> Decimal:
    """What the recorded rate over `window` reads at `minute` for a counter growing at `per_second` from 0."""
    if raw_window(window):
        seconds = _minutes(window) * 60
        return per_second * min(minute * 60, seconds) / seconds
    samples = range(max(1, minute - _minutes(window)), minute + 1)  # the range includes both ends
    return sum((_read(per_second, "5m", m) for m in samples), Decimal(0)) / len(samples)


def _holds(cond: Condition, value: Decimal) -> bool:
    return {">": value > cond.threshold, ">=": value >= cond.threshold, "<": value < cond.threshold,
            "==": value == cond.threshold}[cond.op]


def _fire_value(cond: Condition) -> Decimal:
    if cond.op == "==":
        return cond.threshold
    if cond.op == "<":
        return cond.threshold - 1
    if cond.op == ">=":
        return cond.threshold
    if cond.signal in FRACTIONS:
        return (cond.threshold + 1) / 2
    if cond.threshold == 0:
        return Decimal(1)
    return cond.threshold * 2


def _near_value(cond: Condition) -> Decimal:
    if cond.op == "==":
        return cond.threshold + 1
    if cond.op == "<":
        return cond.threshold
    return cond.threshold * Decimal("0.99")


def _minutes(duration: str) -> int:
    return math.ceil(duration_seconds(duration) / 60)


# -- recording rules -------------------------------------------------------

def _efficiency(inventory: Inventory, model: Model, inputs: Inputs) -> dict:
    """Tokens per GPU, joules per token and cost per million tokens against hand arithmetic: two GPUs
    drawing 300 W each, 400 generated tokens/s, and the inventory's GPU-hour price."""
    gpus, watts, tokens = 2, Decimal(300), Decimal(400)
    series = [inputs._gauge("DCGM_FI_DEV_GPU_UTIL", WORKLOAD, Decimal(50), dcgm=True, gpu=str(i)) for i in range(gpus)]
    series += [Series("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", inputs.labels(WORKLOAD, dcgm=True, gpu=str(i)),
                      watts * 1000 * 60, Decimal(0), counter=True) for i in range(gpus)]  # millijoules per minute
    series += inputs.counter_signal("generation_tokens", tokens)
    expected = [(c.TOKENS_PER_GPU, tokens / gpus), (c.GPU_ENERGY, gpus * watts),
                (c.ENERGY_PER_TOKEN, gpus * watts / tokens)]  # 2 x 300 W / 400 tok/s = 1.5 J per token
    price = inventory.gpu_hour_price(model.gpu_type)
    if price is not None:
        # 2 GPUs x price per GPU-hour / 3600 s = cost per second; / 400 tok/s x 1e6 = cost per million tokens.
        expected += [(c.COST_PER_HOUR, gpus * price),
                     (c.COST_PER_MILLION_TOKENS, gpus * price / 3600 / tokens * 1_000_000)]
    inner = ", ".join(f"{k}={quote(v)}" for k, v in base_labels(model).items())
    return {
        "name": "efficiency and cost: hand-computed values",
        "interval": "1m",
        "input_series": [{"series": s.text(), "values": s.values(12)} for s in series],
        "promql_expr_test": [{"expr": f"round({name}{{{inner}}}, 0.000001)", "eval_time": "10m",
                              "exp_samples": [{"labels": f"{{{inner}}}",
                                               "value": float(round(value, 6))}]}
                             for name, value in expected],
    }


def _baseline(inventory: Inventory, model: Model, inputs: Inputs) -> dict:
    """Recorded values against numbers computed by hand from the inputs."""
    q = ModelQueries(inventory, model)
    labels = base_labels(model)
    values = {  # vocabulary signal -> value put in
        "error_ratio": Decimal("0.02"), "kv_cache": Decimal("0.42"), "waiting": Decimal(3),
        "gpu_utilization": Decimal("0.5"), "gpu_memory": Decimal("0.6"), "cold_start": Decimal(300),
    }
    series = inputs.signal("error_ratio", values["error_ratio"], RATE)
    expected = [(c.REQUESTS.format(window="5m"), RATE), (c.ERROR_RATIO.format(window="5m"), values["error_ratio"])]
    gauges = {"kv_cache": c.KV_CACHE, "waiting": c.WAITING, "gpu_utilization": c.GPU_UTILIZATION,
              "gpu_memory": c.GPU_MEMORY, "cold_start": c.COLD_START}
    for signal, record in gauges.items():
        if signal in ("waiting", "kv_cache") and not q.has(signal):
            continue
        series += inputs.signal(signal, values[signal], RATE)
        expected.append((record, values[signal]))
    if q.has("preemptions"):
        series += inputs.signal("preemptions", Decimal("0.25"), RATE)
        expected.append((c.PREEMPTIONS, Decimal("0.25")))
    budgets = []  # (slo, budget remaining): 1 - (1 - good) / (1 - objective)
    burns = []  # (slo, burn rate over 5 minutes): (1 - good) / (1 - objective)
    for signal, miss in MISSES.items():
        if q.slo(signal) is not None:
            series += inputs.miss(signal, miss, RATE)
            expected.append((c.LATENCY_WITHIN_SLO.format(signal=signal, window="5m"), 1 - miss))
            budgets.append((signal, 1 - miss / (1 - q.slo(signal).objective)))
            burns.append((signal, miss / (1 - q.slo(signal).objective)))
    budgets.append(("availability", 1 - values["error_ratio"] / (1 - model.slo.availability)))
    burns.append(("availability", values["error_ratio"] / (1 - model.slo.availability)))
    seen, unique = set(), []
    for s in series:  # the first of two equal series wins: error_ratio sets the request counters
        if (s.name, s.labels) not in seen:
            seen.add((s.name, s.labels))
            unique.append(s)
    inner = ", ".join(f"{k}={quote(v)}" for k, v in labels.items())
    return {
        "name": "recording rules: hand-computed values",
        "interval": "1m",
        "input_series": [{"series": s.text(), "values": s.values(12)} for s in unique],
        "promql_expr_test": [{"expr": f"{name}{{{inner}}}", "eval_time": "10m",
                              "exp_samples": [{"labels": f"{name}{{{inner}}}", "value": float(value)}]}
                             for name, value in expected] + [
            {"expr": f"round({c.BUDGET_REMAINING}{{{inner}, slo={quote(slo)}}}, 0.000001)", "eval_time": "10m",
             "exp_samples": [{"labels": f"{{{inner}, slo={quote(slo)}}}", "value": float(value)}]}
            for slo, value in budgets] + [
            {"expr": f"round({burn}{{{inner}, slo={quote(slo)}}}, 0.000001)", "eval_time": "10m",
             "exp_samples": [{"labels": f"{{{inner}, slo={quote(slo)}}}", "value": float(value)}]}
            for burn in (c.BURN_RATE.format(window="5m"),) for slo, value in burns],
    }
