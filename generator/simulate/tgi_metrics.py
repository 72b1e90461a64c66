"""One TGI replica's /metrics (HTTP port 80 in the official image), as metrics-exporter-prometheus writes it.

- No model label and no other constant label: one TGI process serves one model; the scrape adds
  namespace, pod and container.
- Counters without `_total` (`tgi_request_success`), integer values; gauges and `_sum` as Rust's f64
  `Display` (shortest round trip, integers without a point, no exponent): the `RUST` style.
- Histograms with the catalog's buckets; `le` is the f64 bound as Rust prints it
  (`le="0.00015000000000000001"`, `le="28.76265888493261"`), then `le="+Inf"`, `_sum`, `_count`.
- A series exists once something recorded it: `tgi_request_failure{err}` appears on the first failure
  of that kind.
- `# HELP` only for described metrics: TGI describes them from v2.3.0, the release that documented its
  metrics (#2230); a 2.0-era router/src/server.rs describes none. The exact release is UNCONFIRMED.
- Client errors (HTTP 422) are `err="validation"` failures; server errors `err="generation"` (HTTP 424).
  `tgi_request_duration` and `tgi_request_generated_tokens` are recorded for successful requests only.
"""
from __future__ import annotations

from functools import cache

from generator.catalog import ENGINES
from generator.catalog.base import COUNTER, GAUGE, HISTOGRAM, Metric
from generator.simulate import histograms
from generator.simulate.exposition import RUST, Exposition
from generator.simulate.fleet import Replica
from generator.simulate.gauges import replica_gauge
from generator.simulate.histograms import bucket_bounds, counter, histogram
from generator.simulate.roles import engine_roles, kind
from generator.simulate.timeline import ModelTimeline
from generator.simulate.workload import Latency
from generator.versions import v

ENGINE = ENGINES["tgi"]
DESCRIBED_SINCE = v("2.3.0")


def _inference(load) -> Latency:
    """Prefill plus decode: the request's time after the queue."""
    return Latency(max(0.0, load.e2e.floor - load.queue.mean()), load.e2e.median, load.e2e.sigma)


def _per_token(load) -> Latency:
    """Inference time over generated tokens, per request (prefill included)."""
    tokens = max(load.output_tokens, 1.0)
    inference = _inference(load)
    return Latency(inference.floor / tokens, inference.median / tokens, 0.2)


LATENCIES = {**histograms.LATENCIES, "inference_duration": _inference, "mean_time_per_token": _per_token}


def _once(load) -> float:
    return 1.0


def _success(load) -> float:
    return max(0.0, 1 - load.error_ratio - load.client_error_ratio)


# Observations per served request: the success-only histograms, and every request for the others.
OBSERVATIONS = {"e2e": _success, "generation_length": _success, "mean_time_per_token": _success,
                "inference_duration": _success}


@cache
def roles() -> dict[str, str]:
    """Catalog metric -> what it carries; the failure counter is `errors` (its `err` values split it)."""
    return engine_roles(
        ENGINE, ("e2e", "queue_time", "prompt_length", "generation_length", "errors", "requests", "running",
                 "waiting"),
        extra=[("received", kind(COUNTER, "requests", "received")),
               ("inference_duration", kind(HISTOGRAM, "seconds", "prefill plus decode")),
               ("mean_time_per_token", kind(HISTOGRAM, "seconds", "per request", "generated tokens"))])


def render(replica: Replica, timeline: ModelTimeline, t: float) -> str:
    model, now = replica.model, timeline.scrape(replica.index, t)
    version, served = now.version, now.served
    out = Exposition(RUST)
    # The exporter writes counters, then gauges, then histograms.
    families: dict[str, list[Metric]] = {COUNTER: [], GAUGE: [], HISTOGRAM: []}
    for metric in ENGINE.metrics:
        if metric.exposed_in(version):
            families[metric.type].append(metric)

    def family(metric, kind_: str) -> None:
        out.family(metric.name, kind_, metric.help if version >= DESCRIBED_SINCE else None)

    for metric in families[COUNTER]:
        role = roles()[metric.name]
        if role == "errors":
            series = [(err, counter(served, share))
                      for err, share in (("generation", lambda load: load.error_ratio),
                                         ("validation", lambda load: load.client_error_ratio))]
            series = [(err, value) for err, value in series if value > 0]
            if series:
                family(metric, "counter")
                for err, value in series:
                    out.sample(metric.name, [("err", err)], value)
            continue
        share = {"requests": _success, "received": lambda load: 1.0}[role]
        family(metric, "counter")
        out.sample(metric.name, [], counter(served, share))
    for metric in families[GAUGE]:
        role = roles()[metric.name]
        family(metric, "gauge")
        out.sample(metric.name, [], int(replica_gauge(role, now, model.name)))
    for metric in families[HISTOGRAM]:
        role = roles()[metric.name]
        observed = histogram(served, bucket_bounds(replica, ENGINE, role, metric, version), 1.0, LATENCIES[role],
                             OBSERVATIONS.get(role, _once))
        family(metric, "histogram")
        out.histogram(metric.name, [], observed)
    return out.text()
