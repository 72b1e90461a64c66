"""One trtllm-serve replica's /prometheus/metrics, as TensorRT-LLM's MetricsCollector writes it.

- prometheus_client: counters defined with `_total` and exposed so, each with a `<name>_created`
  family (histograms too); `le` bounds are Python floats (`le="1.0"`).
- Every metric carries the collector's labels `model_name` and `engine_type="trtllm"`; under the early
  `unprefixed` naming the names lack `trtllm_` and both labels read "undefined" (aibrix#2004).
- `request_success_total` counts every finished request by `finished_reason` (values unconfirmed:
  `stop` and `length` here); `request_error_total{http_code}` gets a series per code once it happened.
- Gauges are iteration stats: one value per replica.
"""
from __future__ import annotations

from functools import cache, partial

from generator.catalog import ENGINES, engine_for
from generator.catalog.base import COUNTER, GAUGE, HISTOGRAM
from generator.simulate.exposition import PYTHON, Exposition
from generator.simulate.fleet import Replica
from generator.simulate.gauges import replica_gauge
from generator.simulate.histograms import LATENCIES, bucket_bounds, counter, histogram
from generator.simulate.roles import engine_roles
from generator.simulate.timeline import ModelTimeline

ENGINE = ENGINES["trtllm-serve"]
PREFIX_CACHE_HIT_SHARE = 0.3  # of prompt tokens found in the KV cache
CLIENT_ERROR_CODE = "400"  # request validation errors


@cache
def roles(naming: str | None = None) -> dict[str, str]:
    """Stored metric name -> what it carries, under one naming (None: the catalog's own names)."""
    return engine_roles(ENGINE if naming is None else ENGINE.named(naming),
                        ("ttft", "tpot", "e2e", "queue_time", "prefill_time", "decode_time", "errors", "requests",
                         "prompt_tokens", "generation_tokens", "prefix_cache_hits", "running", "waiting", "kv_cache"))


def render(replica: Replica, timeline: ModelTimeline, t: float) -> str:
    model, now = replica.model, timeline.scrape(replica.index, t)
    engine = engine_for(model)
    named = bool(engine.model_label)
    base = [("engine_type", "trtllm" if named else "undefined"),
            ("model_name", model.served_name if named else "undefined")]
    out = Exposition(PYTHON)
    created: list[tuple[str, str, list]] = []
    for metric in engine.metrics:
        if not metric.exposed_in(now.version):
            continue
        role = roles(model.metric_naming)[metric.name]
        if metric.type == HISTOGRAM:
            value = histogram(now.served, bucket_bounds(replica, engine, role, metric, now.version), 1.0,
                              LATENCIES[role])
            out.family(metric.name, "histogram", metric.help)
            out.histogram(metric.name, base, value)
            created.append((metric.name, metric.help, [base]))
        elif metric.type == COUNTER:
            series = _counter_series(role, now.served, base)
            out.family(metric.name, "counter", metric.help)
            for labels, number in series:
                out.sample(metric.name, labels, number)
            created.append((metric.name.removesuffix("_total"), metric.help, [labels for labels, _ in series]))
        elif metric.type == GAUGE:
            out.family(metric.name, "gauge", metric.help)
            out.sample(metric.name, base, replica_gauge(role, now, model.name))
    out.created(created, now.started)
    return out.text()


def _finished(share: float, load) -> float:
    """Requests finished for one reason, per second of load: the successful ones."""
    return (1 - load.error_ratio) * share


def _counter_series(role: str, served, base) -> list:
    if role == "requests":  # finished requests; failed ones are counted as errors instead
        return [(base + [("finished_reason", reason)], float(counter(served, partial(_finished, share))))
                for reason, share in (("length", 0.25), ("stop", 0.75))]
    if role == "errors":
        series = []
        for code, share in (("500", lambda load: load.error_ratio), (CLIENT_ERROR_CODE,
                                                                      lambda load: load.client_error_ratio)):
            value = counter(served, share)
            if value > 0:
                series.append((base + [("http_code", code)], float(value)))
        return series
    if role == "prompt_tokens":
        return [(base, float(counter(served, lambda load: load.prompt_tokens)))]
    if role == "generation_tokens":
        return [(base, float(counter(served, lambda load: load.output_tokens)))]
    if role == "prefix_cache_hits":
        return [(base, float(counter(served, lambda load: PREFIX_CACHE_HIT_SHARE * load.prompt_tokens)))]
    raise AssertionError(f"no counter behaviour for trtllm-serve role {role}")
