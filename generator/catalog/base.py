"""The shape of a metric catalog entry and of an engine's signal map.

A `Metric` is one name as the exporter exposes it in /metrics, with the
versions that expose it and the public source that says so. An `Engine` maps
each normalised signal (TTFT, requests, KV cache, ...) to the metrics that
carry it; where a metric was renamed, a signal lists the candidates newest
first and the engine version picks the one it exposes. An `Exporter` (DCGM,
kube-state-metrics) maps its signals likewise, read on the model's pods.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from generator.versions import Version

COUNTER, GAUGE, HISTOGRAM = "counter", "gauge", "histogram"


@dataclass(frozen=True)
class Metric:
    name: str  # as exposed: counters with `_total` where the client adds it; histograms by base name
    type: str  # counter | gauge | histogram
    unit: str
    help: str
    source: str
    since: Version | None = None  # first version that exposes it by default
    until: Version | None = None  # first version that no longer does (hidden or removed)
    buckets: tuple[Decimal, ...] = ()  # default bucket bounds, in `unit`
    requires: str = ""  # what must be switched on in the engine for it to appear; "" when exposed by default
    # Earlier default buckets, oldest first: (until, bounds) = the default before version `until`;
    # `buckets` is the default from the last `until` on.
    earlier_buckets: tuple[tuple[Version, tuple[Decimal, ...]], ...] = ()

    def buckets_in(self, version: Version | None) -> tuple[Decimal, ...]:
        """The default bucket bounds of this version (the newest default when the version is unknown)."""
        if version is not None:
            for until, bounds in self.earlier_buckets:
                if version < until:
                    return bounds
        return self.buckets

    def exposed_in(self, version: Version) -> bool:
        if self.since is not None and version < self.since:
            return False
        return self.until is None or version < self.until

    def series(self) -> tuple[str, ...]:
        """Series names a query may use for this metric."""
        if self.type == HISTOGRAM:
            return tuple(f"{self.name}{s}" for s in ("_bucket", "_sum", "_count"))
        return (self.name,)


# Which label set scopes a series to one inventory model.
MODEL = "model"  # the engine's model label equals the served name; the workload where the engine has none
WORKLOAD = "workload"  # the model's pods: namespace and pod name
BACKEND = "backend"  # the engine model label set to the backend model (Triton's tensorrt_llm)


@dataclass(frozen=True)
class Part:
    """One metric (or one series of a histogram) with fixed extra matchers."""

    metric: str
    matchers: tuple[tuple[str, str, str], ...] = ()
    suffix: str = ""  # "_sum" / "_count" to use one series of a histogram
    scope: str = MODEL
    optional: bool = False  # series appear only after the first event (labelled counters)
    since: Version | None = None  # first engine version whose series carry these matchers' values
    until: Version | None = None  # first engine version the part no longer applies to

    def applies_to(self, version: Version) -> bool:
        return (self.since is None or version >= self.since) and (self.until is None or version < self.until)


@dataclass(frozen=True)
class Histogram:
    """A latency histogram; candidates newest first; `scale` converts its unit to seconds."""

    candidates: tuple[str, ...]
    scale: Decimal = Decimal(1)

    def metric_names(self) -> tuple[str, ...]:
        return self.candidates


@dataclass(frozen=True)
class Gauge:
    candidates: tuple[Part, ...]
    aggregation: str  # sum | max | avg
    scale: Decimal = Decimal(1)

    def metric_names(self) -> tuple[str, ...]:
        return tuple(p.metric for p in self.candidates)


@dataclass(frozen=True)
class Counters:
    """The summed per-second rate of one or more counters."""

    parts: tuple[Part, ...]

    def metric_names(self) -> tuple[str, ...]:
        return tuple(p.metric for p in self.parts)


@dataclass(frozen=True)
class Custom:
    """A query too specific for the shapes above: build(ctx, window) -> PromQL.

    `inputs(value)` is its inverse for generated tests: the series
    (metric, scope, matchers, value) that make the query return `value`.
    """

    metrics: tuple[str, ...]
    build: Callable[..., str]
    inputs: Callable[..., list] | None = None

    def metric_names(self) -> tuple[str, ...]:
        return self.metrics


Signal = Histogram | Gauge | Counters | Custom


def _same(name: str) -> str:
    return name


def _own_name(metric: Metric) -> str:
    return metric.name


@dataclass(frozen=True)
class Naming:
    """How one deployment exposes the catalog's names: the metric and label names Prometheus stores.

    The catalog keeps the names its sources define (an engine's own, or a semantic convention's); a
    naming derives what a deployment really exposes from them (a prefix, a translation strategy). An
    engine that declares namings lets the inventory say, per model, which one its deployment uses.
    """

    summary: str  # one sentence: what this naming is and when it applies
    metric: Callable[[Metric], str] = _own_name  # catalog metric -> stored name (histograms: base name)
    label: Callable[[str], str] = _same  # catalog label -> stored label name
    # False when the engine's model label does not carry the served name (it reads "undefined"): series
    # are then told apart by the workload's pods, and the model label is not matched.
    model_scoped: bool = True


@dataclass(frozen=True)
class Engine:
    name: str
    title: str
    # The label carrying the served model name; None where one process serves one model and its series carry
    # no model label (TGI): the model's series are then its workload's (namespace and pod regex).
    model_label: str | None
    oldest: Version  # the oldest version this catalog covers
    metrics: tuple[Metric, ...]
    signals: dict[str, Signal]
    # Signals the engine never exposes, with the sentence dashboards show instead.
    cannot_show: dict[str, str] = field(default_factory=dict)
    # What must be switched on in the engine for some metrics to appear.
    requirements: tuple[str, ...] = ()
    # Deployment facts: the engine container's usual name in a pod, the image reference of the official
    # image with `{version}` where the version stands (an RE2 regex, anchored by Prometheus), that image
    # itself, and the port serving /metrics.
    # The engine writes its model label's value in lower case (Dynamo's frontend): a served name must be too.
    lowercases_model: bool = False
    container: str = "engine"
    image_pattern: str = ".+:{version}"
    official_image: str = ""
    metrics_port: int = 8000
    metrics_path: str = "/metrics"  # the path of that port serving Prometheus text
    # The model behind the served one whose series some metrics carry (Triton: the TensorRT-LLM model
    # behind an ensemble); None when the engine has no such model, and `backend_model` is refused.
    backend_model: str | None = None
    # For generated test inputs: a label value each regex matcher of the signal map accepts, and a
    # value of a label that fails its equality matcher (the HTTP requests that are not errors).
    matcher_examples: dict[str, str] = field(default_factory=dict)
    complements: dict[str, str] = field(default_factory=dict)
    # Labels of a request the availability SLI leaves out (a gateway polling model listing or health), as
    # the `error_base` counter records it: generated tests prove such polling leaves the error ratio alone.
    polled_request: dict[str, str] = field(default_factory=dict)
    # Where a signal means something else on this engine than its name says: signal -> the sentence its panel adds.
    signal_notes: dict[str, str] = field(default_factory=dict)
    # Where an alert reads differently on this engine: alert name -> the sentence its runbook adds.
    runbook_notes: dict[str, str] = field(default_factory=dict)
    # The resource attributes naming a series' Kubernetes namespace and pod, for a telemetry source whose series
    # may carry them instead of a scrape target's `namespace` and `pod` (OpenTelemetry: k8s.namespace.name,
    # k8s.pod.name); () when series always come from a per-pod scrape target.
    workload_attributes: tuple[str, ...] = ()
    # How a deployment may expose the names above, by the name the inventory's `metric_naming` uses; the
    # first is the default. Empty: the catalog's names are the stored names.
    namings: dict[str, Naming] = field(default_factory=dict)

    def metric(self, name: str) -> Metric:
        return find(self.metrics, name)

    @property
    def default_naming(self) -> str:
        return next(iter(self.namings), "")

    def named(self, naming: str) -> Engine:
        """The engine as a deployment with this naming exposes it: every metric, signal, matcher and model
        label under its stored name, so queries, validation and the simulator read stored names only."""
        if not self.namings:
            return self
        rule = self.namings[naming or self.default_naming]
        names = {m.name: rule.metric(m) for m in self.metrics}

        def part(p: Part) -> Part:
            return replace(p, metric=names[p.metric], matchers=tuple((rule.label(k), op, value)
                                                                      for k, op, value in p.matchers))

        def signal(spec: Signal) -> Signal:
            if isinstance(spec, Histogram):
                return replace(spec, candidates=tuple(names[c] for c in spec.candidates))
            if isinstance(spec, Gauge):
                return replace(spec, candidates=tuple(part(p) for p in spec.candidates))
            if isinstance(spec, Counters):
                return replace(spec, parts=tuple(part(p) for p in spec.parts))
            raise TypeError(f"{self.name}: a Custom signal cannot be renamed by a naming")

        return replace(
            self, metrics=tuple(replace(m, name=names[m.name]) for m in self.metrics),
            signals={k: signal(s) for k, s in self.signals.items()},
            model_label=None if self.model_label is None else rule.label(self.model_label) if rule.model_scoped else "",
            complements={rule.label(k): v for k, v in self.complements.items()},
            workload_attributes=tuple(rule.label(a) for a in self.workload_attributes), namings={})

    def boundaries(self) -> tuple[Version, ...]:
        """Every version at which what the engine exposes changes, oldest first, from `oldest` on.

        Between two boundaries the catalog reads the same, so these versions cover every view of it.
        """
        found = {self.oldest}
        found |= {b for m in self.metrics for b in (m.since, m.until) if b is not None}
        found |= {until for m in self.metrics for until, _ in m.earlier_buckets}
        for spec in self.signals.values():
            parts = spec.parts if isinstance(spec, Counters) else spec.candidates if isinstance(spec, Gauge) else ()
            found |= {b for p in parts for b in (p.since, p.until) if b is not None}
        return tuple(sorted(b for b in found if b >= self.oldest))


# A version as image tags spell it (0.11.2, 0.10.1.1, 25.01): what `{version}` matches in an image pattern.
IMAGE_VERSION = "[0-9]+(?:[.][0-9A-Za-z]+)+"


# A matcher value standing for the model's engine container (the inventory's `container`).
ENGINE_CONTAINER = "{engine container}"


@dataclass(frozen=True)
class PodSignal:
    """An exporter signal: one metric's series on the model's pods, aggregated to the model.

    The query reads `metric{matchers}` on the pods' workload labels (the series' `namespace` and `pod`, or
    the labels the inventory's `collectors` names), keeps `value_filter` series, takes the per-second rate
    of a `counter`, or the share `metric / (metric + rest)` per series, aggregates over the pods with
    `aggregation` keeping `per`, and divides by `divisor` (the exporter's unit per signal unit: percent
    is 100 per ratio). Generated tests invert it on one pod: `value * divisor` (a counter's per-second
    rate), or a share of `whole` split between `metric` and `rest`, each series also carrying `labels`.
    """

    metric: str
    aggregation: str  # sum | max | avg | count
    matchers: tuple[tuple[str, str, str], ...] = ()
    per: tuple[str, ...] = ()  # the labels the aggregation keeps: () is one value for the model
    divisor: Decimal = Decimal(1)
    counter: bool = False
    rest: str = ""  # a share: the metric that with `metric` makes the whole (used / (used + free))
    value_filter: str = ""  # a comparison each series must pass before aggregating ("== 1")
    # 0 while the exporter is scraped and the model has no series; empty while it is down.
    zero_while_scraped: bool = False
    whole: Decimal = Decimal(1000)  # generated tests: the whole a share's two series split
    # Generated tests: labels each series carries besides the workload's, and a value for a regex matcher's label.
    labels: tuple[tuple[str, str], ...] = ()

    def metric_names(self) -> tuple[str, ...]:
        return (self.metric, self.rest) if self.rest else (self.metric,)

    def inputs(self, value: Decimal) -> list[tuple[str, str, tuple[tuple[str, str, str], ...], Decimal]]:
        """The series (metric, scope, matchers, value) that give the signal `value`, as `Custom.inputs`: one
        pod's, one per metric."""
        given = dict(self.labels)  # a label given here stands in for its matcher (a regex's example)
        matchers = (*(m for m in self.matchers if m[0] not in given), *((k, "=", text) for k, text in given.items()))
        if self.rest:
            return [(self.metric, WORKLOAD, matchers, value * self.whole),
                    (self.rest, WORKLOAD, matchers, (1 - value) * self.whole)]
        return [(self.metric, WORKLOAD, matchers, value * self.divisor)]


ExporterSignal = PodSignal | Custom


@dataclass(frozen=True)
class Exporter:
    """A non-engine source joined to models by namespace and pod (DCGM, kube-state-metrics).

    `signals` are what the model's rules and dashboards read from it, by name, as engines map theirs:
    `ModelQueries.exporter_signal` builds each query, `rules.test_inputs` the series a test feeds.
    """

    name: str
    title: str
    default_version: Version
    oldest: Version
    metrics: tuple[Metric, ...]
    requirements: tuple[str, ...] = ()
    signals: dict[str, ExporterSignal] = field(default_factory=dict)

    def metric(self, name: str) -> Metric:
        return find(self.metrics, name)


def find(metrics: tuple[Metric, ...], name: str) -> Metric:
    for metric in metrics:
        if metric.name == name:
            return metric
    raise KeyError(name)


def seconds(*values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(x) for x in values)
