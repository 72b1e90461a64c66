"""PromQL for one model's signals, in the metric names its engine version exposes.

Recording rules call these with a fixed window (`5m`); dashboards call them with
`$__rate_interval`. Every selector goes through `selector()`, which refuses a
metric the catalog does not list for that engine version or exporter.
"""
from __future__ import annotations

from decimal import Decimal

from generator.capabilities import Capabilities
from generator.catalog import EXPORTERS
from generator.catalog.base import (
    BACKEND,
    ENGINE_CONTAINER,
    MODEL,
    WORKLOAD,
    Counters,
    Custom,
    ExporterSignal,
    Gauge,
    Metric,
    Part,
    PodSignal,
)
from generator.errors import CatalogError
from generator.inventory import Collectors, Inventory, Model
from generator.promql import le_matcher, number, quote, selector

WORKLOAD_LABELS = ("namespace", "pod")  # on kube-state-metrics series and engine targets
SITE = "site"  # scope of a collector's own series: only the model's selector labels


def exporter_signal(name: str) -> tuple[str, ExporterSignal]:
    """The exporter that carries a signal (`Exporter.signals`), by name, and the signal."""
    for exporter in EXPORTERS.values():
        if name in exporter.signals:
            return exporter.name, exporter.signals[name]
    raise CatalogError(f"no exporter carries the signal {name!r}")


def rename_labels(expr: str, renames) -> str:
    """`expr` with each (target, source) label copied to `target` where the two differ, in that order."""
    for target, source in renames:
        if source != target:
            expr = f'label_replace({expr}, "{target}", "$1", "{source}", "(.*)")'
    return expr


class ModelQueries:
    def __init__(self, inventory: Inventory, model: Model):
        self.inventory = inventory
        self.model = model
        self.can = Capabilities(model)
        self.engine = self.can.engine

    # -- selectors -------------------------------------------------------

    def _lookup(self, name: str) -> Metric:
        for metric in self.engine.metrics:
            if metric.name == name:
                if not metric.exposed_in(self.model.engine_version):
                    raise CatalogError(f"{self.model.path}: {self.engine.title} {self.model.engine_version} "
                                       f"does not expose {name}")
                return metric
        for exporter in EXPORTERS.values():
            for metric in exporter.metrics:
                if metric.name == name:
                    version = self.inventory.exporters[exporter.name]
                    if not metric.exposed_in(version):
                        raise CatalogError(f"{exporter.title} {version} does not expose {name}")
                    return metric
        raise CatalogError(f"{name} is not in the metric catalog")

    def selector(self, name: str, matchers=(), scope: str = MODEL, suffix: str = "") -> str:
        metric = self._lookup(name)
        if suffix and suffix not in ("_bucket", "_sum", "_count"):
            raise CatalogError(f"unknown series suffix {suffix!r} for {name}")
        if suffix and metric.type != "histogram":
            raise CatalogError(f"{name} is a {metric.type}, it has no {suffix} series")
        base: list[tuple[str, str, str]] = []
        if scope == MODEL:
            base += self.model_matchers()
        elif scope == BACKEND:
            if not self.engine.model_label:
                raise CatalogError(f"{name}: {self.engine.title} has no model label to name the backend model by")
            base += [(self.engine.model_label, "=", self.model.backend_model or self.model.served_name),
                     ("namespace", "=", self.model.namespace)]
        elif scope == WORKLOAD:
            base += self.engine_workload_matchers() if self._engine_metric(name) else \
                self.workload_matchers(self.is_dcgm(name))
        base += [(k, "=", v) for k, v in self.model.selector]
        return selector(name + suffix, base + list(matchers))

    def model_matchers(self) -> list[tuple[str, str, str]]:
        """The engine's model label and the namespace: two models served under one name in two namespaces
        (Triton's `ensemble`, a staging copy) stay apart. Where the deployment's naming leaves the model label
        without the served name (it reads "undefined"), the model's pods tell its series apart instead."""
        if not self.engine.model_label:
            return self.engine_workload_matchers()
        return [(self.engine.model_label, "=", self.model.served_name),
                (self.engine_workload_labels()[0], "=", self.model.namespace)]

    def engine_workload_labels(self) -> tuple[str, str]:
        """The labels carrying namespace and pod on the engine's series: its scrape target's, or (pushed
        telemetry) its Kubernetes resource attributes under the model's naming (`k8s_namespace_name`)."""
        if not self.model.pushed:
            return WORKLOAD_LABELS
        namespace, pod = self.engine.workload_attributes
        return namespace, pod

    def engine_workload_matchers(self) -> list[tuple[str, str, str]]:
        namespace, pod = self.engine_workload_labels()
        return [(namespace, "=", self.model.namespace), (pod, "=~", self.model.pod_regex)]

    def _engine_metric(self, name: str) -> bool:
        return any(m.name == name for m in self.engine.metrics)

    def workload_matchers(self, dcgm: bool = False) -> list[tuple[str, str, str]]:
        """The model's pods; on DCGM series in the labels the inventory's `collectors.dcgm` names."""
        namespace, pod = WORKLOAD_LABELS
        if dcgm:
            namespace, pod = self.collectors.dcgm_namespace_label, self.collectors.dcgm_pod_label
        return [(namespace, "=", self.model.namespace), (pod, "=~", self.model.pod_regex)]

    # -- clusters (multi-cluster mode) -------------------------------------

    @property
    def cluster(self) -> str | None:
        """The cluster label in multi-cluster mode, else None."""
        mc = self.inventory.multi_cluster if self.inventory is not None else None
        return mc.label if mc is not None else None

    def keys(self, *labels: str) -> list[str]:
        """Labels an aggregation or join keeps: the cluster label added in multi-cluster mode, so no query mixes
        clusters. Where the local series lack the label (an external label, rules evaluated per cluster) it
        is an empty grouping key and the result is what the label-less query gives."""
        return [*labels, self.cluster] if self.cluster else list(labels)

    def agg(self, op: str, expr: str, *labels: str) -> str:
        keys = self.keys(*labels)
        return f"{op} by ({', '.join(keys)}) ({expr})" if keys else f"{op}({expr})"

    def on(self, *labels: str) -> str:
        return f"on ({', '.join(self.keys(*labels))})"

    def zero(self) -> str:
        """0 where a query finds nothing: `vector(0)`; in multi-cluster mode a 0 per cluster the model runs in
        (a `vector(0)` there would be one label-less series beside the per-cluster ones)."""
        return f"(0 * {self.presence()})" if self.cluster else "vector(0)"

    def presence(self) -> str:
        """1 per cluster the model runs in: kube-state-metrics lists one of its pods there, or Prometheus has
        one of its engine targets (up or down)."""
        return (f"group by ({self.cluster}) ({self._workload('kube_pod_created')} or "
                f"{self._engine_targets()})")

    def constant(self, value: str) -> str:
        """A value recorded for the model (info, objectives): per cluster it runs in, in multi-cluster mode."""
        return f"{value} * {self.presence()}" if self.cluster else f"vector({value})"

    @property
    def collectors(self) -> Collectors:
        return self.inventory.collectors if self.inventory is not None else Collectors()

    def is_dcgm(self, name: str) -> bool:
        """Whether the metric is dcgm-exporter's: its workload and node are in the labels `collectors.dcgm` names."""
        return any(m.name == name for m in EXPORTERS["dcgm"].metrics)

    # -- what the engine can show: generator.capabilities ---------------------

    def signal(self, name: str):
        return self.can.signal(name)

    def has(self, name: str) -> bool:
        return self.can.has(name)

    def slo(self, name: str):
        return self.can.slo(name)

    def why_not(self, name: str) -> str:
        return self.can.why_not(name)

    def bucket_bounds(self, name: str) -> tuple[Decimal, ...]:
        return self.can.bucket_bounds(name)

    # -- queries ---------------------------------------------------------

    def rate(self, name: str, window: str) -> str:
        """Summed per-second rate of a counter signal."""
        spec = self.signal(name)
        if isinstance(spec, Custom):
            return spec.build(self, window)
        spec = self.can.need(name, Counters)
        terms = []
        for part in spec.parts:
            sel = self.selector(part.metric, part.matchers, part.scope, part.suffix)
            term = self.agg("sum", f"rate({sel}[{window}])")
            # Labelled counters have no series until their first event: count that as 0.
            terms.append(f"({term} or {self.zero()})" if part.optional else term)
        return " + ".join(terms)

    def ratio(self, numerator: str, denominator: str, window: str) -> str:
        """numerator / denominator, empty (not NaN) when the denominator is 0."""
        return f"({self.rate(numerator, window)}) / ({self.rate(denominator, window)} > 0)"

    def error_ratio(self, window: str) -> str:
        return self.ratio("errors", self.error_base(), window)

    def error_base(self) -> str:
        """The availability SLI's denominator: every inference request (vLLM: HTTP), else every finished one."""
        return "error_base" if self.has("error_base") else "requests"

    def slo_good(self, slo: str, threshold_seconds: Decimal | None, window: str) -> str:
        """Requests per second an SLI counts as good: within the threshold, or not failed."""
        if slo == "availability":
            return f"({self.rate(self.error_base(), window)}) - ({self.rate('errors', window)})"
        if threshold_seconds is None:
            raise CatalogError(f"{self.model.path}: the {slo} SLO has no threshold")
        metric, scale = self.can.histogram(slo)
        within = self.selector(metric, [le_matcher(threshold_seconds / scale)], suffix="_bucket")
        return self.agg("sum", f"rate({within}[{window}])")

    def slo_requests(self, slo: str, window: str) -> str:
        """Requests per second an SLI counts: its denominator, which its traffic guard must read too."""
        if slo == "availability":
            return self.rate(self.error_base(), window)
        metric, _ = self.can.histogram(slo)
        return self.agg("sum", f"rate({self.selector(metric, suffix='_count')}[{window}])")

    def gauge(self, name: str) -> str:
        spec = self.signal(name)
        if isinstance(spec, Custom):
            return spec.build(self, "")
        spec = self.can.need(name, Gauge)
        part = spec.candidates[0]
        expr = self.agg(spec.aggregation, self.selector(part.metric, part.matchers, part.scope, part.suffix))
        return expr if spec.scale == 1 else f"{expr} * {number(spec.scale)}"

    def gauge_by(self, name: str, label: str) -> str:
        """A gauge signal aggregated as the signal says, one series per value of `label`."""
        spec = self.can.need(name, Gauge)
        part = spec.candidates[0]
        expr = self.agg(spec.aggregation, self.selector(part.metric, part.matchers, part.scope, part.suffix), label)
        return expr if spec.scale == 1 else f"{expr} * {number(spec.scale)}"

    def replica_max(self, name: str) -> str:
        """The highest per-replica value of a summed gauge signal (one replica may run several engines)."""
        spec = self.signal(name)
        if isinstance(spec, Custom):
            return spec.build(self, "")
        spec = self.can.need(name, Gauge)
        part = spec.candidates[0]
        expr = self.agg("max", self.agg("sum", self.selector(part.metric, part.matchers, part.scope, part.suffix),
                                       "namespace", "pod"))
        return expr if spec.scale == 1 else f"{expr} * {number(spec.scale)}"

    def progress(self, window: str) -> str:
        """Completed requests plus generated tokens per second (where the engine counts tokens): 0 while
        nothing finishes and nothing is generated."""
        terms = [f"({self.rate('requests', window)})"]
        if self.has("generation_tokens"):
            terms.append(f"({self.rate('generation_tokens', window)})")
        return " + ".join(terms)

    def rate_by(self, name: str, label: str, window: str) -> str:
        """Per-second rate of a one-counter signal, one series per value of `label`."""
        spec = self.can.need(name, Counters)
        if len(spec.parts) != 1:
            raise CatalogError(f"{name}: a breakdown by {label} needs a signal of one counter")
        part = spec.parts[0]
        counter = self.selector(part.metric, part.matchers, part.scope, part.suffix)
        return self.agg("sum", f"rate({counter}[{window}])", label)

    def quantile(self, name: str, q: str, window: str) -> str:
        metric, scale = self.can.histogram(name)
        buckets = self.selector(metric, suffix="_bucket")
        expr = f"histogram_quantile({q}, {self.agg('sum', f'rate({buckets}[{window}])', 'le')})"
        return expr if scale == 1 else f"{expr} * {number(scale)}"

    def mean(self, name: str, window: str) -> str:
        spec = self.signal(name + "_mean")
        if isinstance(spec, Custom):
            return spec.build(self, window)
        metric, scale = self.can.histogram(name)
        total = self.agg("sum", f"rate({self.selector(metric, suffix='_sum')}[{window}])")
        count = self.agg("sum", f"rate({self.selector(metric, suffix='_count')}[{window}])")
        expr = f"{total} / ({count} > 0)"
        return expr if scale == 1 else f"({expr}) * {number(scale)}"

    def has_mean(self, name: str) -> bool:
        return self.has(name) or self.has(name + "_mean")

    def within_ratio(self, name: str, threshold_seconds: Decimal, window: str) -> str:
        """Share of observations at or under the threshold (which must be a bucket bound)."""
        metric, scale = self.can.histogram(name)
        bound = threshold_seconds / scale
        within = self.selector(metric, [le_matcher(bound)], suffix="_bucket")
        count = self.selector(metric, suffix="_count")
        return f"{self.agg('sum', f'rate({within}[{window}])')} / ({self.agg('sum', f'rate({count}[{window}])')} > 0)"

    # -- exporter signals: GPUs (DCGM), pods (kube-state-metrics) ---------------

    def _workload(self, name: str, matchers=()) -> str:
        return self.selector(name, matchers, scope=WORKLOAD)

    def canonical(self, expr: str) -> str:
        """A DCGM expression with the workload and node labels renamed to `namespace`, `pod` and `node`."""
        c = self.collectors
        return rename_labels(expr, (("namespace", c.dcgm_namespace_label), ("pod", c.dcgm_pod_label),
                                    ("node", c.dcgm_node_label)))

    def exporter_signal(self, name: str, window: str = "") -> str:
        """An exporter signal as the catalog describes it (`Exporter.signals`), on the model's pods."""
        exporter, spec = exporter_signal(name)
        if isinstance(spec, Custom):
            return spec.build(self, window)
        expr = self._workload(spec.metric, self.exporter_matchers(spec.matchers))
        if spec.rest:
            expr = f"{expr} / ({expr} + {self._workload(spec.rest, self.exporter_matchers(spec.matchers))})"
        if spec.value_filter:
            expr = f"{expr} {spec.value_filter}"
        if spec.counter:
            expr = f"rate({expr}[{window}])"
        expr = self.agg(spec.aggregation, expr, *spec.per)
        if spec.divisor != 1:
            expr = f"{expr} / {number(spec.divisor)}"
        if spec.zero_while_scraped:
            expr = self._or_zero_while(expr, self.collector_job(exporter))
        return expr

    def exporter_matchers(self, matchers) -> list[tuple[str, str, str]]:
        """A signal's matchers with the model's facts in: its engine container."""
        return [(label, op, self.model.container if value == ENGINE_CONTAINER else value)
                for label, op, value in matchers]

    def collector_job(self, exporter: str) -> str:
        """The scrape job of an exporter (the inventory's `collectors`)."""
        c = self.collectors
        return c.dcgm_job if exporter == "dcgm" else c.kube_state_metrics_job

    def _ready_pods(self, *matchers: tuple[str, str, str]) -> str:
        """The model's pods' Ready condition (1 Ready, 0 not), as the `pod_ready` signal reads it."""
        _, ready = exporter_signal("pod_ready")
        assert isinstance(ready, PodSignal)
        return self._workload(ready.metric, [*ready.matchers, *matchers])

    def gpu_utilization(self) -> str:
        return self.exporter_signal("gpu_utilization")

    def gpu_memory_usage(self) -> str:
        return self.exporter_signal("gpu_memory")

    def gpu_power(self) -> str:
        return self.exporter_signal("gpu_power")

    def gpu_xid(self) -> str:
        return self.exporter_signal("gpu_xid")

    def gpu_xid_events(self, window: str) -> str:
        """Per GPU, the XID code when one was reported within `window`."""
        return self.exporter_signal("gpu_xid_new", window)

    def gpu_count(self) -> str:
        return self.exporter_signal("gpus")

    def gpus_held(self) -> str:
        """1 per GPU the model's pods hold (the series the `gpus` signal counts), labelled `node` and `gpu`."""
        _, gpus = exporter_signal("gpus")
        assert isinstance(gpus, PodSignal)
        return self.agg("count", self.canonical(self._workload(gpus.metric)), "node", "gpu")

    def gpu_energy(self, window: str) -> str:
        """Joules per second the model's GPUs draw."""
        return self.exporter_signal("gpu_energy", window)

    def collector_up(self, job: str) -> str:
        """1 while Prometheus scrapes at least one target of the collector's job, else empty."""
        return f"{self.agg('max', self.selector('up', [('job', '=', job)], scope=SITE))} == 1"

    def _or_zero_while(self, expr: str, job: str) -> str:
        """`expr`, or 0 while the collector is scraped; empty while it is down, so nothing reads 0 for
        a model because kube-state-metrics or dcgm-exporter is gone."""
        return f"{expr} or ({self.zero()} and {self.on()} ({self.collector_up(job)}))"

    def replicas_ready(self) -> str:
        return self.exporter_signal("replicas_ready")

    def pod_ready(self) -> str:
        """Per pod of the model: 1 while Ready, 0 while not."""
        return self.exporter_signal("pod_ready")

    def container_waiting(self) -> str:
        """Per pod, the engine container's waiting reasons that mean it cannot start."""
        return self.exporter_signal("container_waiting")

    def oom_kills(self, window: str) -> str:
        """Per pod, engine container restarts within `window` whose last termination was an OOM kill."""
        return self.exporter_signal("oom_kills", window)

    def running_versions(self) -> str:
        """Per pod, the engine version its container image says (`running_version`)."""
        return self.exporter_signal("engine_version")

    def targets_up(self) -> str:
        if self.model.pushed:  # the ready pods stand in, unknown (not 0) while kube-state-metrics is down
            return self.replicas_ready()
        return f"{self.agg('sum', self._engine_targets())} or {self.zero()}"

    def target_up(self) -> str:
        """Per pod: whether Prometheus scrapes its engine target."""
        return self.agg("max", self._engine_targets(), "namespace", "pod")

    def targets(self) -> str:
        if self.model.pushed:
            return self._or_zero_while(self.agg("count", self._engine_targets()),
                                       self.collectors.kube_state_metrics_job)
        return f"{self.agg('count', self._engine_targets())} or {self.zero()}"

    def _engine_targets(self) -> str:
        """`up` of the engine container's targets; for pushed telemetry, which has no per-pod scrape target,
        the pods' readiness stands in (1 Ready, 0 not), so a scrape failure cannot be told."""
        if self.model.pushed:
            return self._ready_pods()
        return self.selector("up", [("container", "=", self.model.container)], scope=WORKLOAD)

    def series_count(self, name: str, matchers=(), scope: str = MODEL, suffix: str = "") -> str:
        """How many series of a metric the model has; 0 when none (engine metrics), empty while the
        collector that exports it is down (exporter metrics)."""
        expr = self.agg("count", self.selector(name, matchers, scope, suffix))
        if scope != WORKLOAD:
            return f"{expr} or {self.zero()}"
        job = self.collectors.dcgm_job if self.is_dcgm(name) else self.collectors.kube_state_metrics_job
        return self._or_zero_while(expr, job)

    def cold_start(self, lookback: str = "1h") -> str:
        """Longest start-up among pods created within `lookback`: to their first Ready, or so far."""
        return self.exporter_signal("cold_start", lookback)

    def new_pod_details(self, seconds: int) -> str:
        """Per pod created within the last `seconds`: its creation time, owner and engine image."""
        return self.exporter_signal("new_pods", str(seconds))


# -- per replica: the model dashboard's `$pod` drill-down ------------------------

POD_VARIABLE = "$pod"  # the dashboard variable every per-pod query narrows by


class PodQueries:
    """One series per pod of the model (label `pod`), narrowed to the pods the `$pod` variable selects.

    Engine series carry the pod from their scrape target; DCGM series in the label the inventory's
    `collectors.dcgm` names, renamed to `pod` here so every column joins on it.
    """

    def __init__(self, q: ModelQueries):
        self.q = q

    def _pod(self, dcgm: bool = False, engine: bool = False) -> tuple[str, str, str]:
        label = self.q.collectors.dcgm_pod_label if dcgm else self.q.engine_workload_labels()[1] if engine else "pod"
        return (label, "=~", POD_VARIABLE)

    def _sel(self, part: Part) -> str:
        dcgm = part.scope == WORKLOAD and self.q.is_dcgm(part.metric)
        engine = not dcgm and self.q._engine_metric(part.metric)
        return self.q.selector(part.metric, (*part.matchers, self._pod(dcgm, engine)), part.scope, part.suffix)

    def _as_pod(self, expr: str) -> str:
        """An engine expression with its pod label renamed to `pod` (pushed telemetry: `k8s_pod_name`)."""
        source = self.q.engine_workload_labels()[1]
        return expr if source == "pod" else f'label_replace({expr}, "pod", "$1", {quote(source)}, "(.*)")'

    def variable_source(self) -> str:
        """The series whose `pod` values are the model's pods, ready or not: what `$pod` lists."""
        return self.q._ready_pods()

    def ready(self) -> str:
        return self.exporter_signal("pod_ready")

    def age(self) -> str:
        """Seconds since each pod was created."""
        return f"max by (pod) (time() - {self.q._workload('kube_pod_created', [self._pod()])})"

    def gpu_xid(self) -> str:
        """The last XID error code any of the pod's GPUs reported (DCGM holds it until it restarts); 0 = none."""
        return self.exporter_signal("gpu_xid")

    def exporter_signal(self, name: str) -> str:
        """An exporter signal (`PodSignal`) per pod: aggregated as the catalog says, by `pod` and the labels it
        keeps besides the workload's."""
        exporter, spec = exporter_signal(name)
        if not isinstance(spec, PodSignal) or spec.counter or spec.zero_while_scraped or spec.value_filter:
            raise CatalogError(f"{name}: only a gauge of the pods' series breaks down by pod")
        matchers = self.q.exporter_matchers(spec.matchers)

        def series(metric: str) -> str:
            expr = self._sel(Part(metric, tuple(matchers), scope=WORKLOAD))
            return self.q.canonical(expr) if exporter == "dcgm" else expr

        expr = series(spec.metric)
        if spec.rest:
            expr = f"{expr} / ({expr} + {series(spec.rest)})"
        keys = ", ".join(["pod", *(label for label in spec.per if label not in WORKLOAD_LABELS)])
        expr = f"{spec.aggregation} by ({keys}) ({expr})"
        return expr if spec.divisor == 1 else f"{expr} / {number(spec.divisor)}"

    def latest_labels(self, name: str, *labels: str) -> str:
        """Per pod, the labels of the gauge signal's series set last (vLLM sets a timestamp gauge under new
        labels and keeps the old series): 1 per pod and label values."""
        series = self._sel(self.q.can.need(name, Gauge).candidates[0])
        return f"max by (pod, {', '.join(labels)}) (topk by (pod) (1, {series}) * 0 + 1)"

    def restarts(self, window: str) -> str:
        """Engine container restarts within `window` (the counter resets with the pod)."""
        restarts = self.q._workload("kube_pod_container_status_restarts_total",
                                    [("container", "=", self.q.model.container), self._pod()])
        return f"sum by (pod) (increase({restarts}[{window}]))"

    def image(self) -> str:
        """1 per pod and engine image: the image tag says the version it runs."""
        return self.exporter_signal("engine_image")

    def gauge(self, name: str) -> str | None:
        """A gauge signal per pod (summed over a pod's engines, else as the signal aggregates), or None
        where the engine computes it in a way that does not break down by pod."""
        spec = self.q.signal(name)
        if not isinstance(spec, Gauge):
            return None
        expr = f"{spec.aggregation} by (pod) ({self._as_pod(self._sel(spec.candidates[0]))})"
        return expr if spec.scale == 1 else f"{expr} * {number(spec.scale)}"

    def rate(self, name: str, window: str, zero: str | None = None) -> str:
        """Per-pod rate of a counter signal; a labelled counter with no series yet reads 0 on every pod
        `zero` (a per-pod expression) lists, by default the signal's first always-present part."""
        spec = self.q.can.need(name, Counters)
        terms = {part: f"sum by (pod) ({self._as_pod(f'rate({self._sel(part)}[{window}])')})" for part in spec.parts}
        zero = zero or next((t for p, t in terms.items() if not p.optional), None)
        if zero is None and any(p.optional for p in spec.parts):
            raise CatalogError(f"{name}: every part is optional; give the pods to count 0 on")
        return " + ".join(f"({t} or 0 * {zero})" if p.optional else t for p, t in terms.items())

    def error_ratio(self, window: str) -> str:
        base = self.rate(self.q.error_base(), window)
        return f"({self.rate('errors', window, zero=f'({base})')}) / ({base} > 0)"

    def quantile(self, name: str, quantile: str, window: str) -> str:
        metric, scale = self.q.can.histogram(name)
        buckets = self._sel(Part(metric, suffix="_bucket"))
        expr = f"histogram_quantile({quantile}, sum by (pod, le) ({self._as_pod(f'rate({buckets}[{window}])')}))"
        return expr if scale == 1 else f"{expr} * {number(scale)}"

    def gpu_utilization(self) -> str:
        return self.exporter_signal("gpu_utilization")

    def gpu_node(self) -> str:
        """1 per pod and the node its GPUs sit on (label `node`), as DCGM reports it."""
        _, gpus = exporter_signal("gpus")
        gpu = self.q.canonical(self._sel(Part(gpus.metric_names()[0], scope=WORKLOAD)))
        return f"max by (pod, node) ({gpu} * 0 + 1)"

    def gpu_memory_usage(self) -> str:
        return self.exporter_signal("gpu_memory")
