"""promtool cases for the README's fault model: each a short history of one model, healthy then failing.

A case is a list of phases, each holding a `State` (traffic, queue, KV cache,
pods, exporters) for some minutes; the phases become raw engine, kube-state-
metrics and DCGM series in the names the model's engine version and the
inventory's collectors use, so the case runs the model's recording rules too.
Checks say which alerts fire at which minute, with which labels, and which
stay silent: every fault has its alert, and the healthy, busy-but-healthy and
idle states raise nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from generator import conventions as c
from generator.inventory import Inventory, Model
from generator.podnames import pod_name
from generator.prometheus_syntax import duration_seconds
from generator.promql import number, quote, regex_escape
from generator.rules.alerts import Alert
from generator.rules.recording import base_labels
from generator.rules.rendering import render
from generator.rules.test_inputs import NODE, Inputs, Series

RATE = Decimal(10)
OUTPUT_TOKENS = Decimal(220)
BATCH = Decimal(256)  # the batch capacity the inputs give engines that report one
OLD_POD = Decimal(-86400)  # pods created a day before the case starts


@dataclass(frozen=True)
class State:
    """What the model does during one phase."""

    rate: Decimal = RATE  # requests completed per second
    tokens: bool = True  # tokens are generated
    running: Decimal = Decimal(8)
    waiting: Decimal = Decimal(0)  # waiting for capacity on the first replica
    kv: Decimal = Decimal("0.5")
    gpu_util: Decimal = Decimal("0.6")
    preemptions: Decimal = Decimal(0)
    pods: bool = True  # the model's pods exist (False: scaled to zero)
    ready: bool = True
    surge: bool = False  # an extra pod, created when this phase starts, never Ready
    crash_loop: bool = False  # the first pod's engine container waits in CrashLoopBackOff
    oom_kills: int = 0  # OOM kills of the first pod's engine container so far
    engine_scraped: bool = True  # the first pod's engine target answers
    kube_state_metrics: bool = True  # the collector is scraped
    dcgm: bool = True
    dcgm_exported: bool = False  # DCGM series carry exported_namespace / exported_pod (honorLabels: false)
    kv_series: bool = True  # the KV-cache metric is exported
    version: str | None = None  # the version the image says; None: the inventory's
    xid: Decimal = Decimal(0)
    errors: Decimal = Decimal(0)  # share of requests failing (HTTP 5xx for vLLM, failures for Triton)
    engine_finishes: bool = True  # the engine counts the requests as finished
    polling: bool = False  # a gateway polls a route the SLI leaves out once a second (Engine.polled_request)
    stream_errors: Decimal = Decimal(0)  # share failing after the stream started (HTTP 200, finished_reason=error)
    twin: bool = False  # another namespace serves the same model name at five times the traffic
    engines_down: bool = False  # no engine target answers, while a sidecar on the same pods does


HEALTHY = State()
BUSY = State(rate=Decimal(40), running=Decimal(200), kv=Decimal("0.95"), gpu_util=Decimal("0.99"))
IDLE = State(rate=Decimal(0), tokens=False, running=Decimal(0))
SCALED_TO_ZERO = replace(IDLE, pods=False)


@dataclass(frozen=True)
class Check:
    minute: int
    alert: str
    fires: bool  # the alert fires (with `labels`), or none of that name does
    labels: dict = field(default_factory=dict)  # labels from the expression (pod, gpu, ...)
    value: Decimal | None = None  # $value, for the rendered description
    alone: bool = True  # no other rule of the name fires; False: check only the rules matching `labels`


@dataclass(frozen=True)
class Case:
    title: str
    phases: tuple[tuple[int, State], ...]  # (minutes, state)
    checks: tuple[Check, ...]
    samples: tuple[tuple[str, Decimal], ...] = ()  # (PromQL, value) at the last check's minute


def fault_cases(inventory: Inventory, model: Model, rules: list[Alert], inputs: Inputs) -> list[dict]:
    names = list(dict.fromkeys(a.rule["alert"] for a in rules))
    by_name: dict[str, list[Alert]] = {}
    for alert in rules:
        by_name.setdefault(alert.rule["alert"], []).append(alert)
    world = _World(inventory, model, inputs)
    kept = []
    for case in cases(model, inputs, names):  # a disabled alert has no checks
        case = replace(case, checks=tuple(check for check in case.checks if check.alert in by_name))
        if case.checks or case.samples:
            kept.append(world.group(case, names, by_name))
    return kept


def cases(model: Model, inputs: Inputs, names: list[str]) -> list[Case]:
    q = inputs.q
    result = []
    silent_all = tuple(Check(25, name, False) for name in names)
    result.append(Case("healthy: nothing fires", ((30, HEALTHY),), silent_all))
    result.append(Case("busy but healthy (GPU 99%, KV cache 95%, no queue, no preemptions): nothing fires",
                       ((30, BUSY),), silent_all))
    result.append(Case("idle, no traffic: nothing fires", ((30, IDLE),), silent_all))
    if model.replicas_min == 0:
        result.append(Case("scaled to zero: nothing fires", ((30, SCALED_TO_ZERO),), silent_all))

    hung = State(rate=Decimal(0), tokens=False, running=Decimal(8), waiting=Decimal(3 if q.has("waiting") else 0))
    in_flight = hung.running
    result.append(Case("hung engine (work in flight, nothing completes, pods Ready): stalled within 10 minutes",
                       ((10, HEALTHY), (20, hung)),
                       (Check(12, "LLMEngineStalled", False), Check(20, "LLMEngineStalled", True, value=in_flight),
                        Check(20, "LLMModelDown", False))))

    ksm_gone = replace(HEALTHY, kube_state_metrics=False)
    result.append(Case("kube-state-metrics gone, the model serving: no model alert",
                       ((10, HEALTHY), (30, ksm_gone)),
                       tuple(Check(35, name, False) for name in names)))

    if inventory_dcgm_default(inputs):
        exported = replace(HEALTHY, dcgm_exported=True)
        result.append(Case("DCGM scraped with exported_namespace/exported_pod: the GPU join is reported missing",
                           ((30, exported),),
                           (Check(25, "LLMTelemetryMissing", True, {"signal": "gpus"}, Decimal(0)),)))
    if q.has("kv_cache"):
        result.append(Case("the KV-cache metric missing while the engine is up: reported",
                           ((30, replace(HEALTHY, kv_series=False)),),
                           (Check(25, "LLMTelemetryMissing", True, {"signal": "kv_cache"}, Decimal(0)),)))
    other = "9.9.9" if model.engine_version != "9.9.9" else "9.9.8"
    result.append(Case(f"pods run {other} while the inventory says {model.engine_version}: drift reported",
                       ((30, replace(HEALTHY, version=other)),),
                       (Check(25, "LLMEngineVersionDrift", True, {"running_version": other},
                              Decimal(len(inputs.pods))),)))

    budget = _minutes_of(model.alert_for.get("LLMPodNotReady"), model.thresholds["cold_start_seconds"])
    surge = inputs.surge_pod
    result.append(Case("a surge pod that never becomes Ready: fires after the cold-start budget and keeps firing",
                       ((10, HEALTHY), (70, replace(HEALTHY, surge=True))),
                       (Check(10 + budget - 1, "LLMPodNotReady", False),
                        Check(10 + budget + 1, "LLMPodNotReady", True, {"namespace": model.namespace, "pod": surge},
                              Decimal(0)),
                        Check(75, "LLMPodNotReady", True, {"namespace": model.namespace, "pod": surge}, Decimal(0)))))
    first = {"namespace": model.namespace, "pod": inputs.pods[0]}
    result.append(Case("the engine container crash-looping",
                       ((10, HEALTHY), (25, replace(HEALTHY, crash_loop=True, ready=False))),
                       (Check(30, "LLMEngineCrashLooping", True, {**first, "reason": "CrashLoopBackOff"},
                              Decimal(1)),)))
    result.append(Case("the engine container OOM-killed once: fires, resolves after 10 minutes",
                       ((10, HEALTHY), (25, replace(HEALTHY, oom_kills=1))),
                       (Check(13, "LLMEngineOOMKilled", True, first, Decimal(1)),
                        Check(30, "LLMEngineOOMKilled", False))))
    result.append(Case("a Ready pod whose engine cannot be scraped",
                       ((10, HEALTHY), (20, replace(HEALTHY, engine_scraped=False))),
                       (Check(25, "LLMEngineScrapeFailing", True, first, Decimal(0)),)))
    gpu = {**first, "gpu": "0", "node": NODE}
    result.append(Case("a single XID 79: fires naming pod, GPU and node, resolves after its window",
                       ((10, HEALTHY), (25, replace(HEALTHY, xid=Decimal(79)))),
                       (Check(12, "LLMGPUXidErrors", True, gpu, Decimal(79)),
                        Check(30, "LLMGPUXidErrors", False))))
    ratio = c.ERROR_RATIO.format(window="5m")
    if q.has("error_base") and q.engine.polled_request:
        route = next((v for v in q.engine.polled_request.values() if v.startswith("/")), "a route")
        result.append(Case(f"a gateway polls GET {route} at 1 request/s: the error ratio is unchanged",
                           ((15, replace(HEALTHY, rate=Decimal("0.5"), errors=Decimal("0.1"), polling=True)),), (),
                           ((ratio, Decimal("0.1")),)))
    if any(label == "finished_reason" for p in q.signal("errors").parts for label, _, _ in p.matchers):
        result.append(Case("10% of streams fail after their HTTP 200 (finished_reason=error): counted",
                           ((15, replace(HEALTHY, stream_errors=Decimal("0.1"))),), (), ((ratio, Decimal("0.1")),)))
    if "LLMErrorBudgetBurn" in names:
        # Little traffic, yet above the minimum-traffic guard (0.1 requests/s unless the model sets another).
        low = max(Decimal("0.15"), model.thresholds["min_request_rate"] * Decimal("1.5"))
        outage = replace(HEALTHY, rate=low, errors=Decimal(1), engine_finishes=False)
        result.append(Case(f"the HTTP layer fails every request for two hours at {number(low)} requests/s, the "
                           "engine finishes none: the page holds for the whole outage",
                           ((60, HEALTHY), (121, outage)),
                           tuple(Check(60 + m, "LLMErrorBudgetBurn", True, {"long": "1h"}, alone=False)
                                 for m in (60, 90, 120))))
    twin = f"{model.namespace}-twin"
    result.append(Case(f"the same served name in namespace {twin} at 5x the traffic: not merged",
                       ((15, replace(HEALTHY, twin=True)),), (),
                       ((f'{c.REQUESTS.format(window="5m")}', RATE),)))
    if "LLMModelDown" in names and not model.pushed:  # pushed telemetry: no engine target to lose
        result.append(Case("every engine target down while a sidecar target of the same pods is up: model down",
                           ((10, HEALTHY), (15, replace(HEALTHY, engines_down=True))),
                           (Check(20, "LLMModelDown", True, value=Decimal(0)),)))
    if "LLMGPUSaturated" in names:
        saturated = replace(BUSY, waiting=Decimal(5))
        result.append(Case("GPUs busy and requests waiting for capacity: saturated",
                           ((30, saturated),), (Check(25, "LLMGPUSaturated", True, value=saturated.gpu_util),)))
    if "LLMKVCacheNearFull" in names:
        full = (model.thresholds["kv_cache_usage"] + 1) / 2
        pressure = replace(BUSY, kv=full, preemptions=Decimal(1)) if q.has("preemptions") \
            else replace(BUSY, kv=full, waiting=Decimal(5))
        result.append(Case("KV cache full and requests preempted or waiting: KV pressure",
                           ((30, pressure),), (Check(25, "LLMKVCacheNearFull", True, value=pressure.kv),)))
    return result


def inventory_dcgm_default(inputs: Inputs) -> bool:
    return inputs.collectors.dcgm_pod_label == "pod"


def _minutes_of(override: str | None, seconds: Decimal) -> int:
    """Whole minutes (rounded up) of a `for` override, else of the budget in seconds."""
    if override:
        seconds = Decimal(duration_seconds(override))
    return -(-int(seconds) // 60)


class _World:
    """Series for a model's states, stitched over phases."""

    def __init__(self, inventory: Inventory, model: Model, inputs: Inputs):
        self.inventory, self.model, self.inputs = inventory, model, inputs

    def series(self, state: State, surge_created: Decimal) -> list[Series]:
        i, q, m = self.inputs, self.inputs.q, self.model
        out: list[Series] = []
        if state.pods:
            traffic = i.error_ratio(state.errors, state.rate)
            if not state.engine_finishes:
                failed = {p.metric for p in q.signal("errors").parts}
                finished = {p.metric for p in q.signal("requests").parts} - failed
                traffic = [replace(s, per_minute=Decimal(0)) if s.name in finished else s for s in traffic]
            if state.stream_errors:
                traffic = [self._stream_errors(s, state) if s.name == q.signal("requests").parts[0].metric else s
                           for s in traffic]
                traffic.append(self._stream_errors(i.requests(state.rate)[0], state, failed=True))
            out += traffic
            if state.polling:
                base = q.signal("error_base").parts[0]
                polled = [(label, "=", value) for label, value in q.engine.polled_request.items()]
                out.append(Series(base.metric, i.labels(base.scope, polled), Decimal(60), Decimal(0), True))
            for signal in c.LATENCY_SIGNALS:
                if q.slo(signal) is not None:
                    out += i.miss(signal, Decimal(0), state.rate, every_bucket=False)
            waiting_for_capacity = state.waiting > 0
            if q.has("batch_occupancy"):
                active = BATCH if waiting_for_capacity else state.running
                out += i.gauge_signal("batch_occupancy", active / BATCH)
            elif q.has("running"):
                out += i.gauge_signal("running", state.running)
            if q.has("waiting"):
                out += i.gauge_signal("waiting", state.waiting)
            if state.kv_series and q.has("kv_cache"):
                out += i.gauge_signal("kv_cache", state.kv)
            if q.has("preemptions"):
                out += i.counter_signal("preemptions", state.preemptions)
            if q.has("generation_tokens"):
                out += i.counter_signal("generation_tokens", state.rate * OUTPUT_TOKENS if state.tokens else Decimal(0))
            if state.dcgm:
                dcgm = i.gpu_utilization(state.gpu_util) + i.gpu_memory(Decimal("0.5")) + i.gpu_xid(state.xid)
                out += [self._exported(s) for s in dcgm] if state.dcgm_exported else dcgm
            if state.twin:
                # Engine series (their target's container; `up` is added below): with the model label, or
                # alone where the engine has none.
                out += [self._twin(s) for s in out if "container" in dict(s.labels)]
            for index, pod in enumerate(i.pods):
                first = index == 0
                up = Decimal(0) if (first and not state.engine_scraped) or state.engines_down else Decimal(1)
                out.append(Series("up", i.pod_labels(pod, container=m.container), Decimal(0), up))
                if state.engines_down:
                    out.append(Series("up", i.pod_labels(pod, container="istio-proxy"), Decimal(0), Decimal(1)))
                if state.kube_state_metrics:
                    out += self._pod(pod, state, OLD_POD, state.ready, first)
            if state.surge and state.kube_state_metrics:
                out += self._pod(i.surge_pod, state, surge_created, False, False)
        site = tuple(m.selector)
        collectors = self.inventory.collectors
        out.append(Series("up", tuple(sorted((("job", collectors.kube_state_metrics_job), *site))), Decimal(0),
                          Decimal(1 if state.kube_state_metrics else 0)))
        out.append(Series("up", tuple(sorted((("job", collectors.dcgm_job), *site))), Decimal(0),
                          Decimal(1 if state.dcgm else 0)))
        return out

    def _stream_errors(self, series: Series, state: State, failed: bool = False) -> Series:
        """The engine's finished-request counter split: `stream_errors` of it with finished_reason=error."""
        share = state.stream_errors if failed else 1 - state.stream_errors
        labels = dict(series.labels)
        labels["finished_reason"] = "error" if failed else "stop"
        return replace(series, labels=tuple(sorted(labels.items())), per_minute=series.per_minute * share)

    def _twin(self, series: Series) -> Series:
        """The series of a same-named model in another namespace, at five times the traffic."""
        labels = dict(series.labels)
        labels[self.inputs.q.engine_workload_labels()[0]] = f"{self.model.namespace}-twin"
        return replace(series, labels=tuple(sorted(labels.items())), per_minute=series.per_minute * 5)

    def _exported(self, series: Series) -> Series:
        """A DCGM series as Prometheus stores it when scraped with honorLabels: false."""
        labels = dict(series.labels)
        labels["exported_namespace"], labels["exported_pod"] = labels.pop("namespace"), labels.pop("pod")
        labels.update(namespace="gpu-operator", pod="nvidia-dcgm-exporter-7xk2p")
        return replace(series, labels=tuple(sorted(labels.items())))

    def _pod(self, pod: str, state: State, created: Decimal, ready: bool, first: bool) -> list[Series]:
        i, m = self.inputs, self.model
        uid = {"uid": f"uid-{pod}"}
        version = state.version or str(m.engine_version)
        image = pod_name(m.image_pattern.format(version=regex_escape(version)), f"{m.name}/image")
        out = [
            Series("kube_pod_created", i.pod_labels(pod, **uid), Decimal(0), created),
            Series("kube_pod_status_ready", i.pod_labels(pod, condition="true", **uid), Decimal(0),
                   Decimal(1 if ready else 0)),
            Series("kube_pod_container_info", i.pod_labels(pod, container=m.container, image=image, **uid),
                   Decimal(0), Decimal(1)),
            Series("kube_pod_container_status_restarts_total", i.pod_labels(pod, container=m.container, **uid),
                   Decimal(0), Decimal(state.oom_kills if first else 0)),
        ]
        if ready:
            out.append(Series("kube_pod_status_ready_time", i.pod_labels(pod, **uid), Decimal(0), created + 300))
        if first and state.crash_loop:
            out.append(Series("kube_pod_container_status_waiting_reason",
                              i.pod_labels(pod, container=m.container, reason="CrashLoopBackOff", **uid),
                              Decimal(0), Decimal(1)))
        if first and state.oom_kills:
            out.append(Series("kube_pod_container_status_last_terminated_reason",
                              i.pod_labels(pod, container=m.container, reason="OOMKilled", **uid),
                              Decimal(0), Decimal(1)))
        return out

    def input_series(self, phases: tuple[tuple[int, State], ...]) -> list[dict]:
        """promtool input_series: every series of every phase, counters carried across phases, `_` where absent."""
        order: list[tuple] = []
        values: dict[tuple, list[str]] = {}
        carried: dict[tuple, Decimal] = {}
        minute = 0
        total = sum(length for length, _ in phases)
        for length, state in phases:
            present: dict[tuple, Series] = {}
            for series in self.series(state, Decimal(minute * 60)):
                present.setdefault((series.name, series.labels), series)
            for key in present:
                if key not in values:
                    order.append(key)
                    values[key] = ["_"] * minute
            for key in order:
                s = present.get(key)
                column = values[key]
                for step in range(length):
                    if s is None:
                        column.append("_")
                    elif s.counter:
                        column.append(number(carried.get(key, s.value) + s.per_minute * step))
                    else:
                        column.append(number(s.value))
                if s is not None and s.counter:
                    carried[key] = carried.get(key, s.value) + s.per_minute * length
            minute += length
        result = []
        for key in order:
            column = values[key] + ["_"] * (total - len(values[key]))
            name, labels = key
            result.append({"series": Series(name, labels, Decimal(0), Decimal(0)).text(),
                           "values": _compress(column)})
        return result

    def group(self, case: Case, names: list[str], by_name: dict[str, list[Alert]]) -> dict:
        tests, firing = [], []
        for check in case.checks:
            if not check.alone:
                firing.append(self._firing(check, by_name))
                continue
            expected = []
            if check.fires:
                for alert in by_name[check.alert]:
                    static = alert.rule["labels"]
                    if any(static.get(k, v) != v for k, v in check.labels.items()):
                        continue
                    labels = {**base_labels(self.model), **static, **check.labels}
                    annotations = dict(alert.rule["annotations"])
                    annotations["description"] = render(annotations["description"], float(check.value or 0), labels)
                    expected.append({"exp_labels": labels, "exp_annotations": annotations})
            tests.append({"eval_time": f"{check.minute}m", "alertname": check.alert, "exp_alerts": expected})
        group: dict[str, Any] = {"name": f"fault: {case.title}", "interval": "1m",
                 "input_series": self.input_series(case.phases)}
        if tests:
            group["alert_rule_test"] = tests
        if firing:
            group["promql_expr_test"] = firing
        if case.samples:
            inner = ", ".join(f"{k}={quote(v)}" for k, v in base_labels(self.model).items())
            minute = sum(length for length, _ in case.phases) - 1
            group["promql_expr_test"] = group.get("promql_expr_test", []) + [
                {"expr": f"{expr}{{{inner}}}", "eval_time": f"{minute}m",
                 "exp_samples": [{"labels": f"{expr}{{{inner}}}", "value": float(value)}]}
                for expr, value in case.samples]
        return group


    def _firing(self, check: Check, by_name: dict[str, list[Alert]]) -> dict:
        """A check on the ALERTS series: the rules of the name matching `labels` fire, whatever else does."""
        matchers = {"alertname": check.alert, "alertstate": "firing", **base_labels(self.model), **check.labels}
        samples = []
        for alert in by_name[check.alert]:
            static = alert.rule["labels"]
            if all(static.get(k, v) == v for k, v in check.labels.items()):
                labels = {"alertname": check.alert, "alertstate": "firing", **base_labels(self.model), **static,
                          **check.labels}
                samples.append({"labels": _series("ALERTS", labels), "value": 1})
        return {"expr": _series("ALERTS", matchers), "eval_time": f"{check.minute}m", "exp_samples": samples}


def _series(name: str, labels: dict[str, str]) -> str:
    return name + "{" + ", ".join(f"{k}={quote(v)}" for k, v in sorted(labels.items())) + "}"


def _compress(column: list[str]) -> str:
    """Values in promtool's expanding notation: runs of equal steps as `a+bxn`, gaps as `_xn`."""
    parts, i = [], 0
    while i < len(column):
        if column[i] == "_":
            j = i
            while j + 1 < len(column) and column[j + 1] == "_":
                j += 1
            parts.append("_" if j == i else f"_x{j - i + 1}")  # `_xn` is n blanks
            i = j + 1
            continue
        j = i
        step: Decimal | None = None
        while j + 1 < len(column) and column[j + 1] != "_":
            delta = Decimal(column[j + 1]) - Decimal(column[j])
            if step is None:
                step = delta
            elif delta != step:
                break
            j += 1
        if j == i:
            parts.append(column[i])
        else:
            assert step is not None  # set by the first step of the run
            sign = "+" if step >= 0 else "-"
            parts.append(f"{column[i]}{sign}{number(abs(step))}x{j - i}")
        i = j + 1
    return " ".join(parts)
