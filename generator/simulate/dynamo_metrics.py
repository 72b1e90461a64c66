"""One NVIDIA Dynamo frontend's /metrics (HTTP port 8000), as the Rust `prometheus` crate writes it.

- Names exactly as registered: `dynamo_frontend_*` from 0.4.1, `nv_llm_http_service_*` before; counters
  carry `_total` in their name and get no `_created` series.
- Labels sorted by name (the crate sorts a metric's label pairs); the `model` value lower-cased, as the
  frontend does before it touches a metric.
- Numbers in Rust's `Display` for f64: `le="0"`, `le="1"`, `le="0.0022"`, `12`, never an exponent.
- `requests_total{endpoint,model,request_type,status}` gets a series per combination once it happens;
  `error_type` joins the label set from 1.2.0 (first release UNCONFIRMED, engines.md 4.1): "" on success,
  `internal` on a server failure.
- `inflight_requests` counts requests from HTTP entry to the end of the response; `queued_requests` (0.6.0+)
  from HTTP entry to the first token, so requests in prefill are in it as well as those the workers queue.
- The frontend does not run the model: the replica here is one pod with the frontend and an aggregated
  worker (the quickstart layout), whose GPUs dcgm-exporter reports.
"""
from __future__ import annotations

from functools import cache, partial

from generator.catalog import ENGINES
from generator.catalog.base import COUNTER, GAUGE, HISTOGRAM
from generator.simulate.exposition import RUST, Exposition
from generator.simulate.fleet import Replica
from generator.simulate.histograms import LATENCIES, OBSERVATIONS, bucket_bounds, counter, histogram, portion
from generator.simulate.roles import engine_roles
from generator.simulate.timeline import ModelTimeline, Scrape, wave
from generator.versions import v

ENGINE = ENGINES["dynamo"]
ERROR_TYPE_SINCE = v("1.2.0")
ENDPOINTS = (("chat_completions", 0.85), ("completions", 0.15))
STREAMED = 0.8  # share of requests that stream (request_type="stream")


@cache
def roles() -> dict[str, str]:
    """Catalog metric -> what it carries; the output-length histogram feeds generation_tokens before 0.7.0."""
    return engine_roles(ENGINE, ("ttft", "itl", "e2e", "prompt_length", "generation_length", "requests", "errors",
                                 "prompt_tokens", "generation_tokens", "running", "waiting"))


def render(replica: Replica, timeline: ModelTimeline, t: float) -> str:
    model, now = replica.model, timeline.scrape(replica.index, t)
    version, served = now.version, now.served
    name = model.served_name.lower()
    base = [("model", name)]
    out = Exposition(RUST)

    for metric in ENGINE.metrics:
        if not metric.exposed_in(version):
            continue
        role = roles()[metric.name]
        if metric.type == HISTOGRAM:
            value = histogram(served, bucket_bounds(replica, ENGINE, role, metric, version), 1.0, LATENCIES[role],
                              OBSERVATIONS.get(role, lambda load: 1.0))
            out.family(metric.name, "histogram", metric.help)
            out.histogram(metric.name, base, value)
        elif metric.type == COUNTER:
            out.family(metric.name, "counter", metric.help)
            for labels, number in _counter_series(role, served, version, name):
                out.sample(metric.name, labels, number)
        elif metric.type == GAUGE:
            out.family(metric.name, "gauge", metric.help)
            out.sample(metric.name, base, _gauge(role, now, model.name))
    return out.text()


def _counter_series(role: str, served, version, name: str):
    if role in ("requests", "errors"):
        error_type = version >= ERROR_TYPE_SINCE
        series = []
        for endpoint, share in ENDPOINTS:
            for request_type, kind in (("stream", STREAMED), ("unary", 1 - STREAMED)):
                for status, part, kind_of_error in (("success", lambda load: 1 - load.error_ratio, ""),
                                                    ("error", lambda load: load.error_ratio, "internal")):
                    value = counter(served, partial(portion, share * kind, part))
                    if value == 0:
                        continue
                    labels = [("endpoint", endpoint), ("model", name), ("request_type", request_type),
                              ("status", status)]
                    if error_type:
                        labels.append(("error_type", kind_of_error))
                    series.append((sorted(labels), float(value)))  # the crate sorts label pairs by name
        return series
    if role == "generation_tokens":
        return [([("model", name)], float(counter(served, lambda load: load.output_tokens)))]
    raise AssertionError(f"no counter behaviour for Dynamo role {role}")


def _gauge(role: str, now: Scrape, model: str) -> float:
    load, serving, r, t = now.load, now.serving, now.replica, now.t
    per_replica = load.request_rate / serving
    if role == "running":
        # In flight at the frontend: every request between HTTP entry and its last token.
        return float(round(load.running(serving) + load.waiting / serving * (1 + 0.05 * wave(t, 37, model, r, "run"))))
    if role == "waiting":
        # HTTP entry to first token: the requests the workers queue, and those in prefill (Little's law).
        before_first_token = 0.0 if load.stalled else per_replica * load.ttft.mean()
        return float(round((load.waiting / serving + before_first_token) * (1 + 0.1 * wave(t, 23, model, r, "queue"))))
    raise AssertionError(f"no gauge behaviour for Dynamo role {role}")
