"""Hugging Face text-generation-inference (TGI), v1.0.0 to v3.3.7 (the last release).

TGI's router records with the Rust `metrics` crate and exposes through
metrics-exporter-prometheus, which writes names as the code spells them: counters
without `_total` (`tgi_request_success`), durations in seconds without a `_seconds`
suffix, and no model label at all, since one TGI process serves one model. Engine
series are therefore scoped to the model by its workload (namespace and pod regex),
like vLLM's `http_requests_total` (`Engine.model_label` is None).

The exporter renders a recorded histogram as a Prometheus *summary* (quantiles, no
`_bucket`) unless a bucket matcher applies. TGI sets buckets for every `*duration`
metric and for the token-length histograms since v0.5.0 (#163); before that, in
v0.3.0-v0.4.x, every histogram was a summary, on which no SLO and no
`histogram_quantile` can be computed. The catalog therefore starts at v1.0.0: the
first release of the 1.x line, well past v0.5.0, with the exporter at 0.12.x
(0.15.x from v2.3.0), and every metric below is a bucketed histogram, counter or
gauge in every version it covers.

`tgi_request_skipped_tokens` (v1.3.0+) is left out: its type changes by version (a
histogram with buckets 0..speculate in a 2.0-era router/src/server.rs, a summary at
v3.3.7 where that matcher is commented out; the release in between is UNCONFIRMED),
it is recorded per generation step rather than per request, and no signal needs it.
A query on it could only use `_sum`/`_count`, never `_bucket`.

What TGI does not measure, and why, is in `cannot_show`: no time to first token (the
queue and prefill phases are separate histograms, and the prefill one is per batch),
no inter-token latency, no KV-cache usage. `tgi_request_mean_time_per_token_duration`
is charted by no signal: it is inference time / generated tokens per request, prefill
included, so it is neither vLLM's per-request TPOT (decode only) nor an inter-token
gap, and an SLO on it would page on long prompts.

TGI entered maintenance mode on 2025-12-11 (#3344); v3.3.7 (2025-12-18) is the last tag.

Sources: ../shared/reference/engines.md section 2, read from the huggingface/text-generation-inference
repository at its release tags (router/src/server.rs, router/src/infer/mod.rs, router/src/validation.rs,
backends/v3/src/queue.rs).
"""
from decimal import Decimal

from generator.catalog.base import (
    COUNTER,
    GAUGE,
    HISTOGRAM,
    Counters,
    Engine,
    Gauge,
    Histogram,
    Metric,
    Part,
)
from generator.versions import v

SERVER = "huggingface/text-generation-inference router/src/server.rs (metrics, PrometheusBuilder); engines.md 2.1"
INFER = "huggingface/text-generation-inference router/src/infer/mod.rs; engines.md 2.1"
QUEUE = ("huggingface/text-generation-inference backends/v3/src/queue.rs (router/src/queue.rs before the v3 "
         "backend); engines.md 2.1")
VALIDATION = "huggingface/text-generation-inference router/src/validation.rs; engines.md 2.1"

# `Matcher::Suffix("duration")`: 0.0001 * 1.5^k for k = 1..35, as f64 products (router/src/server.rs). The
# exporter writes each `le` with Rust's shortest round-trip formatting, so these are the exact label values;
# an SLO threshold must be one of them (e.g. 0.7481827642679213 s, 28.76265888493261 s). Top: ~145.6 s.
DURATION_BUCKETS: tuple[Decimal, ...] = ()
_value = 0.0001
for _ in range(35):
    _value *= 1.5
    DURATION_BUCKETS += (Decimal(repr(_value)),)
del _value

# The token histograms get 100 linear buckets over the launcher's --max-input-tokens (input length) and
# --max-total-tokens (generated tokens): these bounds hold for 1024 and 2048, the v1/v2 launcher defaults.
# Other limits give other bounds; no query reads these bounds, only the simulator writes them.
MAX_INPUT_TOKENS, MAX_TOTAL_TOKENS = 1024, 2048
INPUT_BUCKETS = tuple(Decimal(MAX_INPUT_TOKENS) / 100 * (i + 1) for i in range(100))
GENERATED_BUCKETS = tuple(Decimal(MAX_TOTAL_TOKENS) / 100 * (i + 1) for i in range(100))

METRICS = (
    Metric("tgi_request_count", COUNTER, "requests",
           "Requests received by the generate entry points (counted on arrival).", INFER, since=v("0.5.0")),
    Metric("tgi_request_success", COUNTER, "requests", "Requests that finished successfully.", INFER,
           since=v("0.3.0")),
    Metric("tgi_request_failure", COUNTER, "requests",
           "Failed requests by err: generation (HTTP 424), incomplete (500), overloaded (429), validation and "
           "template (422), dropped (the client went away); series appear on the first failure.",
           f"{INFER}; {QUEUE}; HTTP status per error from router/src/server.rs impl From<InferError>",
           since=v("0.3.0")),
    Metric("tgi_request_duration", HISTOGRAM, "seconds",
           "End-to-end request duration, successful requests only.", SERVER, since=v("0.5.0"),
           buckets=DURATION_BUCKETS),
    Metric("tgi_request_queue_duration", HISTOGRAM, "seconds", "Time a request waited in the queue.", SERVER,
           since=v("0.5.0"), buckets=DURATION_BUCKETS),
    Metric("tgi_request_inference_duration", HISTOGRAM, "seconds",
           "Request inference duration, prefill plus decode.", SERVER, since=v("0.5.0"),
           buckets=DURATION_BUCKETS),
    Metric("tgi_request_mean_time_per_token_duration", HISTOGRAM, "seconds",
           "Per request: inference duration / generated tokens (prefill included).", SERVER, since=v("0.5.0"),
           buckets=DURATION_BUCKETS),
    Metric("tgi_request_input_length", HISTOGRAM, "tokens", "Input tokens per request.",
           f"{VALIDATION}; {SERVER}", since=v("0.5.0"), buckets=INPUT_BUCKETS),
    Metric("tgi_request_generated_tokens", HISTOGRAM, "tokens", "Generated tokens per successful request.",
           f"{INFER}; {SERVER}", since=v("0.5.0"), buckets=GENERATED_BUCKETS),
    Metric("tgi_queue_size", GAUGE, "requests", "Requests waiting in the queue.", QUEUE, since=v("0.3.0")),
    Metric("tgi_batch_current_size", GAUGE, "requests", "Requests in the running batch.", QUEUE,
           since=v("0.3.0")),
)

# Server-side failures: HTTP 424 and 500. Overloaded (429) is load shedding, validation and template (422)
# are the client's, dropped is a client that went away: vLLM's error SLI counts 5xx only, so does this one.
_SERVER_ERRORS = ("err", "=~", "generation|incomplete")

ENGINE = Engine(
    name="tgi",
    title="TGI",
    model_label=None,
    oldest=v("1.0.0"),
    metrics=METRICS,
    signals={
        "e2e": Histogram(("tgi_request_duration",)),
        "queue_time": Histogram(("tgi_request_queue_duration",)),
        "prompt_length": Histogram(("tgi_request_input_length",)),
        "generation_length": Histogram(("tgi_request_generated_tokens",)),
        # Finished requests: successes plus every failure (the failure series appear on the first one).
        "requests": Counters((Part("tgi_request_success"), Part("tgi_request_failure", optional=True))),
        "errors": Counters((Part("tgi_request_failure", (_SERVER_ERRORS,), optional=True),)),
        "prompt_tokens": Counters((Part("tgi_request_input_length", suffix="_sum"),)),
        "generation_tokens": Counters((Part("tgi_request_generated_tokens", suffix="_sum"),)),
        "running": Gauge((Part("tgi_batch_current_size"),), "sum"),
        "waiting": Gauge((Part("tgi_queue_size"),), "sum"),
    },
    cannot_show={
        "ttft": "TGI exports no time-to-first-token histogram: it measures the queue (tgi_request_queue_duration) "
                "and prefill per batch (tgi_batch_inference_duration{method=\"prefill\"}), and the sum of two "
                "quantiles is not a quantile. No TTFT SLO or burn alert is generated for TGI models, and none will "
                "come: TGI has been in maintenance mode since December 2025 (v3.3.7 is its last release).",
        "itl": "TGI exports no inter-token latency: its per-token histogram is one mean per request.",
        "tpot": "TGI's tgi_request_mean_time_per_token_duration is inference time / generated tokens per request "
                "with the prefill included, so it rises with prompt length; it is not a time per output token and "
                "no TPOT SLO is generated for TGI models.",
        "kv_cache": "TGI exports no KV-cache usage (tgi_batch_current_max_tokens / tgi_batch_max_total_tokens, "
                    "v2.3.1+, is a token budget, not cache blocks).",
        "preemptions": "TGI exports no preemption counter.",
        "model_load": "TGI exports no model-load duration; cold start is measured from kube-state-metrics.",
        "finish_reasons": "TGI counts successes and failures by error, not why a generation stopped.",
        "prefix_cache_hits": "TGI exports no prefix-cache metrics.",
        "prefill_time": "TGI times prefill per batch (tgi_batch_inference_duration{method=\"prefill\"}), not per "
                        "request.",
    },
    container="tgi",
    # ghcr.io/huggingface/text-generation-inference:3.3.7 (also 3.3.7-rocm, 3.3.7-intel-xpu, or a digest)
    image_pattern=".+/text-generation-inference:{version}(?:[-@].*)?",
    official_image="ghcr.io/huggingface/text-generation-inference:{version}",
    # The official image's entrypoint serves HTTP, /metrics included, on port 80 (Dockerfile: PORT=80);
    # the launcher's default without the image is 3000. `--prometheus-port` (v3.3.0+, default 9000) is
    # probably never served (the exporter future is dropped): UNCONFIRMED, scrape the HTTP port.
    metrics_port=80,
    matcher_examples={_SERVER_ERRORS[2]: "generation"},
    requirements=(
        "Scrape /metrics on TGI's HTTP port (80 in the official image, 3000 otherwise); TGI has no model "
        "label, so the scrape job must keep the pod and namespace labels that scope its series.",
    ),
)
