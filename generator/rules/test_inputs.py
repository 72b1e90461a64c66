"""Input series, in each engine's real metric names, that give a vocabulary signal a chosen value.

The inverse of `queries.py`: where a query reads `vllm:kv_cache_usage_perc`, this
writes a `vllm:kv_cache_usage_perc` series; where Triton's KV usage is used/max
blocks, it writes both. Exporter signals (GPU, pods, cold start) are inverted from
their catalog description (`Exporter.signals`), as their queries are built from it.
Series are in promtool's expanding notation, one sample per minute.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from generator import conventions as c
from generator.catalog.base import BACKEND, MODEL, WORKLOAD, Counters, Custom, Gauge, Histogram, Part, PodSignal
from generator.errors import CatalogError
from generator.inventory import Inventory, Model
from generator.podnames import pod_name
from generator.promql import number, quote
from generator.queries import ModelQueries, exporter_signal

LATENCY = {f"{signal}_miss": signal for signal in c.LATENCY_SIGNALS}


@dataclass(frozen=True)
class Series:
    name: str
    labels: tuple[tuple[str, str], ...]
    per_minute: Decimal  # counter increase per minute, or 0 for a gauge
    value: Decimal  # gauge value, or the counter's start
    counter: bool = False

    def text(self) -> str:
        inner = ", ".join(f"{k}={quote(v)}" for k, v in self.labels)
        return f"{self.name}{{{inner}}}"

    def values(self, minutes: int) -> str:
        if self.per_minute:
            return f"{number(self.value)}+{number(self.per_minute)}x{minutes}"
        return f"{number(self.value)}x{minutes}"


NODE = "gpu-node-1"


class Inputs:
    def __init__(self, inventory: Inventory, model: Model):
        self.model = model
        self.q = ModelQueries(inventory, model)
        self.collectors = inventory.collectors
        self.pods = [pod_name(model.pod_regex, f"{model.name}/{i}") for i in range(max(model.replicas_min, 1))]
        self.surge_pod = pod_name(model.pod_regex, f"{model.name}/surge")  # a rollout's extra pod

    def pod_labels(self, pod: str, **extra: str) -> tuple[tuple[str, str], ...]:
        """A kube-state-metrics or target series of one pod by name."""
        return tuple(sorted({**dict(self.model.selector), "namespace": self.model.namespace, "pod": pod,
                             **extra}.items()))

    # -- label sets -------------------------------------------------------

    def labels(self, scope: str, matchers=(), pod: int = 0, dcgm: bool = False,
               **extra: str) -> tuple[tuple[str, str], ...]:
        """Labels of a series as Prometheus stores it: engine series carry their target's namespace, pod
        and container; DCGM series the workload in the labels `collectors.dcgm` names, and the node."""
        return self._labels(scope, matchers, pod, dcgm, extra)

    def _labels(self, scope: str, matchers, pod: int, dcgm: bool,
                extra: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        result: dict[str, str] = dict(self.model.selector)
        if scope in (MODEL, BACKEND):
            label = self.q.engine.model_label  # "" where the deployment's naming carries no model name
            if label:
                result[label] = self.model.served_name if scope == MODEL else \
                    self.model.backend_model or self.model.served_name
            namespace, pod_label = self.q.engine_workload_labels()
            result.update({namespace: self.model.namespace, pod_label: self.pods[pod]})
            if not self.model.pushed:  # a scrape target's label; pushed series have none
                result["container"] = self.model.container
        elif scope == WORKLOAD and dcgm:
            c = self.collectors
            result.update({c.dcgm_namespace_label: self.model.namespace, c.dcgm_pod_label: self.pods[pod],
                           c.dcgm_node_label: NODE})
        elif scope == WORKLOAD:
            result.update(namespace=self.model.namespace, pod=self.pods[pod])
        for label, op, value in matchers:
            if op == "=":
                result[label] = value
            elif op == "=~" and value in self.q.engine.matcher_examples:
                result[label] = self.q.engine.matcher_examples[value]
            else:
                raise CatalogError(f"no example value for the matcher {label}{op}{value!r}")
        result.update(extra)
        return tuple(sorted(result.items()))

    def _counter(self, part: Part, rate: Decimal, extra: Mapping[str, str] | None = None) -> Series:
        return Series(part.metric + part.suffix, self._labels(part.scope, part.matchers, 0, False, extra or {}),
                      rate * 60, Decimal(0), counter=True)

    def _gauge(self, name: str, scope: str, value: Decimal, matchers=(), pod: int = 0, dcgm: bool = False,
               **extra: str) -> Series:
        return Series(name, self._labels(scope, matchers, pod, dcgm, extra), Decimal(0), value)

    # -- signals ------------------------------------------------------------

    def requests(self, rate: Decimal) -> list[Series]:
        spec = self.q.signal("requests")
        return [self._counter(spec.parts[0], rate)]

    def miss(self, signal: str, ratio: Decimal, rate: Decimal, every_bucket: bool = True) -> list[Series]:
        """`ratio` of `rate` requests/s slower than the SLO threshold; the rest in the lowest bucket.

        Without `every_bucket`, only the bucket at the SLO threshold (and +Inf): what the SLO ratios read.
        """
        spec = self.q.signal(signal)
        assert isinstance(spec, Histogram)
        metric = spec.candidates[0]
        bounds = [b / spec.scale for b in self.q.bucket_bounds(signal)]
        if not every_bucket:
            slo = self.model.slo.latency(signal)
            if slo is None:
                raise CatalogError(f"{self.model.path}: no {signal} SLO to put a bucket at")
            threshold = slo.threshold_seconds / spec.scale
            bounds = [b for b in bounds if b == threshold]
        spellings = [number(b) if signal in self.model.buckets else str(b) for b in bounds]
        good = rate * (1 - ratio) * 60
        series = [Series(f"{metric}_bucket", self.labels(MODEL, le=le), good, Decimal(0), True) for le in spellings]
        series.append(Series(f"{metric}_bucket", self.labels(MODEL, le="+Inf"), rate * 60, Decimal(0), True))
        series.append(Series(f"{metric}_count", self.labels(MODEL), rate * 60, Decimal(0), True))
        return self._requests_unless_shared(series, rate)

    def error_ratio(self, ratio: Decimal, rate: Decimal) -> list[Series]:
        errors = self.q.signal("errors").parts[0]
        base = self.q.signal("error_base") or self.q.signal("requests")
        others = [p for p in base.parts if p.metric != errors.metric]
        if others:
            # Triton: requests = success + failure.
            return [self._counter(errors, rate * ratio), self._counter(others[0], rate * (1 - ratio))]
        same = [p for p in base.parts if (p.metric, p.suffix) == (errors.metric, errors.suffix)]
        if same and not same[0].matchers:
            # OpenTelemetry: failed requests are the request counter's series that carry error.type.
            return [self._counter(errors, rate * ratio), self._counter(same[0], rate * (1 - ratio))]
        # vLLM: errors are the 5xx share of all HTTP requests; the rest answer 2xx.
        base_labels = {m[0] for m in base.parts[0].matchers}
        complement = {label: self.q.engine.complements.get(label, f"not-{value}")
                      for label, _, value in errors.matchers if label not in base_labels}
        other = [m for m in errors.matchers if m[0] not in complement]
        ok = Series(errors.metric, self._labels(errors.scope, other, 0, False, complement), rate * (1 - ratio) * 60,
                    Decimal(0), True)
        # Dynamo: errors and requests are one counter, which the two series above already make up.
        return self._requests_unless_shared([self._counter(errors, rate * ratio), ok], rate)

    def _requests_unless_shared(self, series: list[Series], rate: Decimal) -> list[Series]:
        names = {s.name for s in series}
        extra = [s for s in self.requests(rate) if s.name not in names]
        return series + extra

    def gauge_signal(self, signal: str, value: Decimal) -> list[Series]:
        spec = self.q.signal(signal)
        if isinstance(spec, Custom):
            if spec.inputs is None:
                raise CatalogError(f"{self.q.engine.name} {signal}: no input recipe for generated tests")
            return [self._gauge(name, scope, v, matchers) for name, scope, matchers, v in spec.inputs(value)]
        assert isinstance(spec, Gauge)
        part = spec.candidates[0]
        return [self._gauge(part.metric, part.scope, value / spec.scale, part.matchers)]

    def counter_signal(self, signal: str, rate: Decimal) -> list[Series]:
        spec = self.q.signal(signal)
        assert isinstance(spec, Counters)
        return [self._counter(spec.parts[0], rate)]

    def exporter_signal(self, signal: str, value: Decimal, pod: int = 0,
                        labels: Mapping[str, str] | None = None) -> list[Series]:
        """Series of one of the model's pods giving an exporter signal (`Exporter.signals`) the `value`, as
        the catalog's description of the signal says; a counter's value is its per-second rate. `labels`
        override the description's (another GPU: `{"gpu": "1"}`)."""
        _, spec = exporter_signal(signal)
        inputs = spec.inputs
        if inputs is None:
            raise CatalogError(f"{signal}: no input recipe for generated tests")
        recipe = inputs(value)
        counter = isinstance(spec, PodSignal) and spec.counter
        series = []
        for name, scope, matchers, v in recipe:
            stored = self._labels(scope, self.q.exporter_matchers(matchers), pod, self.q.is_dcgm(name), labels or {})
            series.append(Series(name, stored, v * 60, Decimal(0), True) if counter else
                          Series(name, stored, Decimal(0), v))
        return series

    def gpu_utilization(self, value: Decimal) -> list[Series]:
        return self.exporter_signal("gpu_utilization", value)

    def gpu_memory(self, value: Decimal) -> list[Series]:
        return self.exporter_signal("gpu_memory", value)

    def gpu_xid(self, value: Decimal) -> list[Series]:
        return self.exporter_signal("gpu_xid", value)

    def replicas_ready(self, ready: int) -> list[Series]:
        """`ready` of the model's pods Ready, the rest not; every pod's engine target up."""
        series = []
        for i in range(len(self.pods)):
            series += self.exporter_signal("replicas_ready", Decimal(1 if i < ready else 0), pod=i)
            series.append(self._gauge("up", WORKLOAD, Decimal(1), pod=i, container=self.model.container))
        return series

    def signal(self, signal: str, value: Decimal, rate: Decimal) -> list[Series]:
        """Series giving the vocabulary `signal` the `value`, with `rate` requests/s where traffic matters."""
        if signal in LATENCY:
            return self.miss(LATENCY[signal], value, rate)
        if signal == "error_ratio":
            return self.error_ratio(value, rate)
        if signal in ("kv_cache", "waiting", "batch_occupancy"):
            return self.gauge_signal(signal, value)
        if signal == "replica_waiting":
            return self.gauge_signal("waiting", value)
        if signal == "preemptions":
            return self.counter_signal(signal, value)
        if signal == "replicas_ready":
            return self.replicas_ready(int(value))
        return self.exporter_signal(signal, value)
