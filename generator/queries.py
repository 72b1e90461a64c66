"""PromQL for one model's signals, in the metric names its engine version exposes.

Recording rules call these with a fixed window (`5m`); dashboards call them with
`$__rate_interval`. Every selector goes through `selector()`, which refuses a
metric the catalog does not list for that engine version or exporter.
"""
from __future__ import annotations

from decimal import Decimal

from generator.catalog import ENGINES, EXPORTERS
from generator.catalog.base import BACKEND, MODEL, WORKLOAD, Counters, Custom, Gauge, Histogram, Metric
from generator.errors import CatalogError
from generator.inventory import Inventory, Model
from generator.promql import le_matcher, number, selector


class ModelQueries:
    def __init__(self, inventory: Inventory, model: Model):
        self.inventory = inventory
        self.model = model
        self.engine = ENGINES[model.engine]

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
            base.append((self.engine.model_label, "=", self.model.served_name))
        elif scope == BACKEND:
            base.append((self.engine.model_label, "=", self.model.backend_model or self.model.served_name))
        elif scope == WORKLOAD:
            base += self.workload_matchers()
        base += [(k, "=", v) for k, v in self.model.selector]
        return selector(name + suffix, base + list(matchers))

    def workload_matchers(self) -> list[tuple[str, str, str]]:
        return [("namespace", "=", self.model.namespace), ("pod", "=~", self.model.pod_regex)]

    # -- what the engine can show ----------------------------------------

    def signal(self, name: str):
        """The signal with its metric resolved for this version, or None."""
        spec = self.engine.signals.get(name)
        if spec is None:
            return None
        version = self.model.engine_version
        if isinstance(spec, Histogram):
            for candidate in spec.candidates:
                if self.engine.metric(candidate).exposed_in(version):
                    return Histogram((candidate,), spec.scale)
            return None
        if isinstance(spec, Gauge):
            for part in spec.candidates:
                if self.engine.metric(part.metric).exposed_in(version):
                    return Gauge((part,), spec.aggregation, spec.scale)
            return None
        if all(self.engine.metric(m).exposed_in(version) for m in spec.metric_names()):
            return spec
        return None

    def has(self, name: str) -> bool:
        return self.signal(name) is not None

    def why_not(self, name: str) -> str:
        if name in self.engine.cannot_show:
            return self.engine.cannot_show[name]
        spec = self.engine.signals.get(name)
        if spec is None:
            return f"{self.engine.title} exports no metric for this."
        since = ", ".join(f"{n} from {self.engine.metric(n).since}" for n in spec.metric_names())
        return f"{self.engine.title} {self.model.engine_version} does not expose it yet ({since})."

    def _need(self, name: str, kind):
        spec = self.signal(name)
        if not isinstance(spec, kind):
            raise CatalogError(f"{self.model.path}: {self.engine.title} {self.model.engine_version} "
                               f"has no {kind.__name__.lower()} for {name!r}")
        return spec

    # -- queries ---------------------------------------------------------

    def rate(self, name: str, window: str) -> str:
        """Summed per-second rate of a counter signal."""
        spec = self.signal(name)
        if isinstance(spec, Custom):
            return spec.build(self, window)
        spec = self._need(name, Counters)
        terms = []
        for part in spec.parts:
            sel = self.selector(part.metric, part.matchers, part.scope, part.suffix)
            term = f"sum(rate({sel}[{window}]))"
            # Labelled counters have no series until their first event: count that as 0.
            terms.append(f"({term} or vector(0))" if part.optional else term)
        return " + ".join(terms)

    def ratio(self, numerator: str, denominator: str, window: str) -> str:
        """numerator / denominator, empty (not NaN) when the denominator is 0."""
        return f"({self.rate(numerator, window)}) / ({self.rate(denominator, window)} > 0)"

    def error_ratio(self, window: str) -> str:
        base = "error_base" if self.has("error_base") else "requests"
        return self.ratio("errors", base, window)

    def gauge(self, name: str) -> str:
        spec = self.signal(name)
        if isinstance(spec, Custom):
            return spec.build(self, "")
        spec = self._need(name, Gauge)
        part = spec.candidates[0]
        expr = f"{spec.aggregation}({self.selector(part.metric, part.matchers, part.scope, part.suffix)})"
        return expr if spec.scale == 1 else f"{expr} * {number(spec.scale)}"

    def _histogram(self, name: str) -> tuple[str, Decimal]:
        spec = self._need(name, Histogram)
        return spec.candidates[0], spec.scale

    def quantile(self, name: str, q: str, window: str) -> str:
        metric, scale = self._histogram(name)
        buckets = self.selector(metric, suffix="_bucket")
        expr = f"histogram_quantile({q}, sum by (le) (rate({buckets}[{window}])))"
        return expr if scale == 1 else f"{expr} * {number(scale)}"

    def mean(self, name: str, window: str) -> str:
        spec = self.signal(name + "_mean")
        if isinstance(spec, Custom):
            return spec.build(self, window)
        metric, scale = self._histogram(name)
        total = f"sum(rate({self.selector(metric, suffix='_sum')}[{window}]))"
        count = f"sum(rate({self.selector(metric, suffix='_count')}[{window}]))"
        expr = f"{total} / ({count} > 0)"
        return expr if scale == 1 else f"({expr}) * {number(scale)}"

    def has_mean(self, name: str) -> bool:
        return self.has(name) or self.has(name + "_mean")

    def bucket_bounds(self, name: str) -> tuple[Decimal, ...]:
        """Bucket bounds in seconds: declared in the inventory, else the engine default."""
        if name in self.model.buckets:
            return self.model.buckets[name]
        metric, scale = self._histogram(name)
        return tuple(b * scale for b in self.engine.metric(metric).buckets)

    def within_ratio(self, name: str, threshold_seconds: Decimal, window: str) -> str:
        """Share of observations at or under the threshold (which must be a bucket bound)."""
        metric, scale = self._histogram(name)
        bound = threshold_seconds / scale
        within = self.selector(metric, [le_matcher(bound)], suffix="_bucket")
        count = self.selector(metric, suffix="_count")
        return f"sum(rate({within}[{window}])) / (sum(rate({count}[{window}])) > 0)"

    # -- GPUs (DCGM), pods (kube-state-metrics), targets -------------------

    def gpu_utilization(self) -> str:
        return f"avg({self.selector('DCGM_FI_DEV_GPU_UTIL', scope=WORKLOAD)}) / 100"

    def gpu_memory_usage(self) -> str:
        used = self.selector("DCGM_FI_DEV_FB_USED", scope=WORKLOAD)
        free = self.selector("DCGM_FI_DEV_FB_FREE", scope=WORKLOAD)
        return f"max({used} / ({used} + {free}))"

    def gpu_power(self) -> str:
        return f"sum({self.selector('DCGM_FI_DEV_POWER_USAGE', scope=WORKLOAD)})"

    def gpu_xid(self) -> str:
        return f"max({self.selector('DCGM_FI_DEV_XID_ERRORS', scope=WORKLOAD)})"

    def gpu_count(self) -> str:
        return f"count({self.selector('DCGM_FI_DEV_GPU_UTIL', scope=WORKLOAD)})"

    def replicas_ready(self) -> str:
        ready = self.selector("kube_pod_status_ready", [("condition", "=", "true")], scope=WORKLOAD)
        return f"sum({ready}) or vector(0)"

    def targets_up(self) -> str:
        return f"sum({self.selector('up', scope=WORKLOAD)}) or vector(0)"

    def cold_start(self, lookback: str = "1h") -> str:
        """Longest start-up among pods created within `lookback`: to their first Ready, or so far.

        The first Ready transition counts (`min_over_time`), so a pod that later
        crashes and recovers keeps its true start-up time; a pod that was never
        Ready within the lookback is still starting. Older pods are left to the
        replica alerts.
        """
        created = self.selector("kube_pod_created", scope=WORKLOAD)
        ready_time = self.selector("kube_pod_status_ready_time", scope=WORKLOAD)
        seconds = _duration_seconds(lookback)
        young = f"({created} > time() - {seconds})"
        started = f"(min_over_time({ready_time}[{lookback}]) - on (namespace, pod, uid) {young})"
        starting = (f"((time() - {young}) unless on (namespace, pod, uid) "
                    f"max_over_time({ready_time}[{lookback}]))")
        return f"max({started} or {starting})"

    def new_pods(self, seconds: int) -> str:
        """Pods created within the last `seconds`: deploys, restarts and scale-ups."""
        return f"count({self.selector('kube_pod_created', scope=WORKLOAD)} > time() - {seconds})"


def _duration_seconds(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return int(text[:-1]) * units[text[-1]]

