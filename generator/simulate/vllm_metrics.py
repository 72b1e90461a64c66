"""One vLLM replica's /metrics, as prometheus_client writes it for the V1 engine.

- Engine metrics carry `model_name` (the served name) and `engine` (the data-parallel rank, "0").
- Counters are defined without `_total` and exposed with it, each with a `<name>_created` gauge
  family (prometheus_client outside multiprocess mode); histograms get `_created` too.
- `le` bounds are Python floats: `le="1.0"`, `le="0.5"`.
- `vllm:request_success_total` counts every finished request by `finished_reason`; vLLM creates all
  reason series up front. `error` is a reason from 0.13 on; before, a failed request ends as `abort`.
- `http_requests_total{handler,method,status}` comes from prometheus-fastapi-instrumentator: status
  classes (`2xx`, `4xx`, `5xx`), no model label, a series per combination once it has happened.
"""
from __future__ import annotations

from functools import cache, partial

from generator.catalog import ENGINES
from generator.catalog.base import COUNTER, GAUGE, HISTOGRAM
from generator.simulate import histograms
from generator.simulate.exposition import PYTHON, Exposition
from generator.simulate.fleet import Replica
from generator.simulate.gauges import replica_gauge
from generator.simulate.histograms import bucket_bounds, counter, histogram, histogram_scale, lognormal, portion
from generator.simulate.roles import engine_roles
from generator.simulate.timeline import ModelTimeline, Scrape
from generator.versions import v

ENGINE = ENGINES["vllm"]
ERROR_REASON_SINCE = v("0.13.0")  # finished_reason="error" (README: exists only from 0.13)
HANDLERS = (("/v1/chat/completions", 0.85), ("/v1/completions", 0.15))
MODELS_LIST_RATE = 0.2  # GET /v1/models per second per replica (clients checking the served models)
LATENCIES = {
    **histograms.LATENCIES,
    # Clients ask for more than they get: max_tokens well above the typical output; n is almost always 1.
    "max_tokens_requested": lambda load: lognormal(max(256.0, 2.0 * load.output_tokens), 0.3),
    "n_requested": lambda load: lognormal(1.0, 0.15),
}
DRAFT_PER_TOKEN, ACCEPTED = 0.6, 0.7  # draft tokens per generated token, and the share the target accepts
LORA_ADAPTERS = ("support-tone", "sql")  # adapters every replica serves; vLLM joins them with commas
PREFIX_CACHE_HIT_SHARE = 0.35  # of prompt tokens found in the prefix cache


@cache
def roles() -> dict[str, str]:
    """Catalog metric -> what it carries (resolved on first use, so a catalog addition the simulator does
    not know breaks only the simulator)."""
    return engine_roles(ENGINE, ("ttft", "itl", "tpot", "e2e", "queue_time", "requests", "errors", "error_base",
                                 "prompt_tokens", "generation_tokens", "preemptions", "running", "waiting",
                                 "kv_cache", "prefill_time", "decode_time", "prompt_length", "generation_length",
                                 "prefix_cache_queries", "prefix_cache_hits", "max_tokens_requested", "n_requested",
                                 "waiting_by_reason", "spec_decode_draft_tokens", "spec_decode_accepted_tokens",
                                 "lora_adapters"))


def render(replica: Replica, timeline: ModelTimeline, t: float) -> str:
    model, now = replica.model, timeline.scrape(replica.index, t)
    label = ENGINE.model_label
    assert label is not None  # vLLM labels its engine metrics with the served name
    base = [(label, model.served_name), ("engine", "0")]
    out = Exposition(PYTHON)
    created: list[tuple[str, str, list]] = []  # (family, help, label sets) for the _created families

    for metric in ENGINE.metrics:
        if not metric.exposed_in(now.version):
            continue
        role = roles()[metric.name]
        if metric.type == HISTOGRAM:
            value = histogram(now.served, bucket_bounds(replica, ENGINE, role, metric, now.version),
                              float(histogram_scale(ENGINE, role)), LATENCIES[role],
                              histograms.OBSERVATIONS.get(role, lambda load: 1.0))
            out.family(metric.name, "histogram", metric.help)
            out.histogram(metric.name, base, value)
            created.append((metric.name, metric.help, [base]))
        elif metric.type == COUNTER:
            family = metric.name[:-len("_total")] if metric.name.endswith("_total") else metric.name
            series = _counter_series(role, now, timeline, base)
            out.family(metric.name, "counter", metric.help)
            for labels, count in series:
                out.sample(metric.name, labels, count)
            created.append((family, metric.help, [labels for labels, _ in series]))
        elif metric.type == GAUGE and role == "lora_adapters":  # no model label; the value is a timestamp
            out.family(metric.name, "gauge", metric.help)
            out.sample(metric.name, [("max_lora", "4"), ("waiting_lora_adapters", ""),
                                     ("running_lora_adapters", ",".join(LORA_ADAPTERS))], t)
        elif metric.type == GAUGE and role == "waiting_by_reason":  # every waiting request waits for capacity
            out.family(metric.name, "gauge", metric.help)
            waiting = replica_gauge("waiting", now, model.name)
            for reason, requests in (("capacity", waiting), ("deferred", 0.0)):
                out.sample(metric.name, base + [("reason", reason)], requests)
        elif metric.type == GAUGE:
            out.family(metric.name, "gauge", metric.help)
            out.sample(metric.name, base, replica_gauge(role, now, model.name))
    out.created(created, now.started)
    return out.text()


def _counter_series(role: str, now: Scrape, timeline: ModelTimeline, base: list[tuple[str, str]]) -> list:
    served, r, t, version = now.served, now.replica, now.t, now.version
    if role == "requests":
        error_reason = version >= ERROR_REASON_SINCE
        reasons = [
            ("stop", lambda load: (1 - load.error_ratio) * 0.72),
            ("length", lambda load: (1 - load.error_ratio) * 0.22),
            ("abort", lambda load: (1 - load.error_ratio) * 0.06 + (0 if error_reason else load.error_ratio)),
        ]
        if error_reason:
            reasons.append(("error", lambda load: load.error_ratio))
        return [(base + [("finished_reason", name)], float(counter(served, share))) for name, share in reasons]
    if role in ("errors", "error_base"):
        series = []
        for handler, share in HANDLERS:
            for status, part in (("2xx", lambda load: 1 - load.error_ratio),
                                 ("4xx", lambda load: load.client_error_ratio),
                                 ("5xx", lambda load: load.error_ratio)):
                value = counter(served, partial(portion, share, part))
                if value > 0:
                    series.append(([("handler", handler), ("method", "POST"), ("status", status)], float(value)))
        seconds = sum(dt for _, dt, _ in timeline.elapsed(r, t))
        if seconds * MODELS_LIST_RATE >= 1:
            series.append(([("handler", "/v1/models"), ("method", "GET"), ("status", "2xx")],
                           float(int(seconds * MODELS_LIST_RATE))))
        return series
    if role == "prompt_tokens":
        return [(base, float(counter(served, lambda load: load.prompt_tokens)))]
    if role == "generation_tokens":
        return [(base, float(counter(served, lambda load: load.output_tokens)))]
    if role == "spec_decode_draft_tokens":  # every replica drafts (the simulated fleet decodes speculatively)
        return [(base, float(counter(served, lambda load: DRAFT_PER_TOKEN * load.output_tokens)))]
    if role == "spec_decode_accepted_tokens":
        return [(base, float(counter(served, lambda load: DRAFT_PER_TOKEN * ACCEPTED * load.output_tokens)))]
    if role == "prefix_cache_queries":
        return [(base, float(counter(served, lambda load: load.prompt_tokens)))]
    if role == "prefix_cache_hits":
        return [(base, float(counter(served, lambda load: PREFIX_CACHE_HIT_SHARE * load.prompt_tokens)))]
    if role == "preemptions":
        total = sum(load.preemption_rate / serving * dt for load, dt, serving in timeline.elapsed(r, t))
        return [(base, float(int(total)))]
    raise AssertionError(f"no counter behaviour for vLLM role {role}")
