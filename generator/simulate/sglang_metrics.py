"""One SGLang replica's /metrics (port 30000, `--enable-metrics`), as prometheus_client's MultiProcessCollector
writes it.

- Multiprocess mode: no `_created` series and no process_* metrics; every HELP text is "Multiprocess metric";
  counters keep the one `_total` their definition has; `le` bounds are Python floats (`le="1.0"`).
- Request metrics (tokenizer) carry `model_name`, `engine_type="unified"` from 0.5.11 and, from 0.5.17,
  `is_streaming` ("true"/"false", one series each) on TTFT, E2E, per-request TPOT, token and request
  counters; not on ITL, aborted requests or start-up time.
- Scheduler metrics (queue time, running, waiting, token usage, retractions) carry `model_name`,
  `engine_type="unified"` (0.4.4), `tp_rank`/`pp_rank` (0.4.10) and `moe_ep_rank` (0.5.7); only the TP-0
  scheduler records (the default), so there is one series per replica.
- ITL is token-weighted: one observation per generated token after the first.
- `sglang:http_responses_total{endpoint,status_code,method}` (0.5.7): numeric status codes, the route path as
  endpoint, no model label, a series once it has happened; kubelet probes add GET /health.
- Failures: from 0.5.7 a failed request answers HTTP 500 and the engine finishes none of it; before, the
  simulator lets it end as an aborted request, the only failure count those versions have.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial

from generator.catalog import ENGINES
from generator.catalog.base import COUNTER, GAUGE, HISTOGRAM
from generator.simulate.exposition import PYTHON, Exposition
from generator.simulate.fleet import Replica
from generator.simulate.gauges import replica_gauge
from generator.simulate.histograms import LATENCIES, OBSERVATIONS, bucket_bounds, counter, histogram, portion
from generator.simulate.roles import engine_roles, kind
from generator.simulate.timeline import ModelTimeline, Scrape
from generator.versions import v

ENGINE = ENGINES["sglang"]
HELP = "Multiprocess metric"
HTTP_METRICS = v("0.5.7")
SCHEDULER_ENGINE_TYPE, RANKS, MOE_RANK = v("0.4.4"), v("0.4.10"), v("0.5.7")
TOKENIZER_ENGINE_TYPE, IS_STREAMING, CACHE_SOURCE = v("0.5.11"), v("0.5.17"), v("0.5.9")
STREAMING_SHARE = 0.8  # of requests that stream
ENDPOINTS = (("/v1/chat/completions", 0.85), ("/generate", 0.15))
HEALTH_PROBES = 0.1  # GET /health per second per replica (kubelet probes)
PREFIX_CACHE_HIT_SHARE = 0.35  # of prompt tokens found in the prefix cache
STREAMING_LABEL = {"ttft", "tpot", "e2e", "requests", "prompt_tokens", "generation_tokens"}
SCHEDULER_SIDE = {"queue_time", "running", "waiting", "kv_cache", "preemptions"}
STARTUP_PHASES = (("load_weight", 0.6), ("kv_cache_allocation", 0.05), ("scheduler_e2e", 0.85),
                  ("tokenizer_e2e", 0.9))  # share of the pod's time to Ready


@cache
def roles() -> dict[str, str]:
    """Catalog metric -> what it carries; the mixed old TPOT histogram and the whole start-up gauge feed no
    signal."""
    return engine_roles(
        ENGINE, ("ttft", "itl", "tpot", "e2e", "queue_time", "errors", "error_base", "requests", "prompt_tokens",
                 "generation_tokens", "prefix_cache_hits", "preemptions", "running", "waiting", "kv_cache",
                 "model_load"),
        extra=[("mixed_tpot", kind(HISTOGRAM, "seconds", "neither itl nor tpot")),
               ("startup", kind(GAUGE, "seconds", "engine start"))])


def _tokenizer(model: str, version) -> list[tuple[str, str]]:
    labels = [("model_name", model)]
    if version >= TOKENIZER_ENGINE_TYPE:
        labels.append(("engine_type", "unified"))
    return labels


def _scheduler(model: str, version) -> list[tuple[str, str]]:
    labels = [("model_name", model)]
    if version >= SCHEDULER_ENGINE_TYPE:
        labels.append(("engine_type", "unified"))
    if version >= RANKS:
        labels += [("tp_rank", "0"), ("pp_rank", "0")]
    if version >= MOE_RANK:
        labels.append(("moe_ep_rank", "0"))
    return labels


def _split(role: str, base: list, version) -> list[tuple[list, float]]:
    """(labels, share of the requests) per series: by is_streaming where this version has it."""
    if role in STREAMING_LABEL and version >= IS_STREAMING:
        return [(base + [("is_streaming", "false")], 1 - STREAMING_SHARE),
                (base + [("is_streaming", "true")], STREAMING_SHARE)]
    return [(base, 1.0)]


def _once(load) -> float:
    return 1.0


def _scaled(per: Callable[..., float], share: float, load) -> float:
    return per(load) * share


def render(replica: Replica, timeline: ModelTimeline, t: float) -> str:
    model, now = replica.model, timeline.scrape(replica.index, t)
    version, served = now.version, now.served
    tokenizer, scheduler = _tokenizer(model.served_name, version), _scheduler(model.served_name, version)
    out = Exposition(PYTHON)

    for metric in ENGINE.metrics:
        if not metric.exposed_in(version):
            continue
        role = roles()[metric.name]
        base = scheduler if role in SCHEDULER_SIDE else tokenizer
        if metric.type == HISTOGRAM:
            out.family(metric.name, "histogram", HELP)
            for labels, share in _split(role, base, version):
                per: Callable[..., float] = OBSERVATIONS.get(role, _once)
                value = histogram(served, bucket_bounds(replica, ENGINE, role, metric, version), 1.0, LATENCIES[role],
                                  partial(_scaled, per, share))
                out.histogram(metric.name, labels, value)
        elif metric.type == COUNTER:
            series = _counter_series(metric.name, role, now, timeline, base)
            if series:  # a family with no series yet is not written
                out.family(metric.name, "counter", HELP)
                for labels, value in series:
                    out.sample(metric.name, labels, value)
        elif metric.type == GAUGE:
            out.family(metric.name, "gauge", HELP)
            for labels, value in _gauge_series(metric.name, role, now, timeline, base, model.name):
                out.sample(metric.name, labels, value)
    return out.text()


def _failed(load) -> float:
    return load.error_ratio


def _counter_series(name, role, now, timeline, base):
    served, r, t, version = now.served, now.replica, now.t, now.version
    if role == "errors" and name.startswith("sglang:http_"):
        series = []
        for endpoint, share in ENDPOINTS:
            for status, part in (("200", lambda load: 1 - load.error_ratio - load.client_error_ratio),
                                 ("400", lambda load: load.client_error_ratio),
                                 ("500", _failed)):
                value = counter(served, partial(portion, share, part))
                if value > 0:
                    series.append(([("endpoint", endpoint), ("status_code", status), ("method", "POST")],
                                   float(value)))
        seconds = sum(dt for _, dt, _ in timeline.elapsed(r, t))
        if seconds * HEALTH_PROBES >= 1:
            series.append(([("endpoint", "/health"), ("status_code", "200"), ("method", "GET")],
                           float(int(seconds * HEALTH_PROBES))))
        return series
    if role == "errors":  # aborted requests: the failures, where no HTTP status metric exists yet
        if version >= HTTP_METRICS:
            return [(base, 0.0)]  # no client gives up in the simulation
        return [(base, float(counter(served, _failed)))]
    per_request = {
        "requests": lambda load: 1 - load.error_ratio,
        "prompt_tokens": lambda load: load.prompt_tokens,
        "generation_tokens": lambda load: load.output_tokens,
        "prefix_cache_hits": lambda load: PREFIX_CACHE_HIT_SHARE * load.prompt_tokens,
    }
    if role in per_request:
        if role == "prefix_cache_hits" and version >= CACHE_SOURCE:
            base = base + [("cache_source", "device")]
        return [(labels, float(counter(served, partial(_scaled, per_request[role], share))))
                for labels, share in _split(role, base, version)]
    if role == "preemptions":
        total = sum(load.preemption_rate / serving * dt for load, dt, serving in timeline.elapsed(r, t))
        return [(base, float(int(total)))]
    raise AssertionError(f"no counter behaviour for SGLang role {role}")


def _gauge_series(name: str, role: str, now: Scrape, timeline: ModelTimeline, base, model: str):
    if role in ("running", "waiting", "kv_cache"):
        return [(base, replica_gauge(role, now, model))]
    startup = timeline.startup(now.replica, now.t)
    if role == "model_load" and name == "sglang:startup_time_seconds":
        return [(base + [("phase", phase)], round(share * startup, 3)) for phase, share in STARTUP_PHASES]
    if role == "model_load":  # engine_load_weights_time, 0.5.2-0.5.16
        return [(base, round(0.6 * startup, 3))]
    if role == "startup":
        return [(base, round(0.9 * startup, 3))]
    raise AssertionError(f"no gauge behaviour for SGLang role {role}")
