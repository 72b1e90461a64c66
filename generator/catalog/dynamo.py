"""NVIDIA Dynamo: the frontend (`python -m dynamo.frontend`), the OpenAI server in front of the workers.

The frontend's /metrics (the HTTP port, 8000 by default) is written by the Rust `prometheus` crate:
names exactly as written (counters carry `_total` in their name), labels sorted by name, numbers in
Rust's shortest form (`le="1"`, `le="0.0022"`). Every family used here is labelled `model`, whose value
the frontend lower-cases (`model.to_string().to_lowercase()` in `create_inflight_guard`,
`create_response_collector` and `create_http_queue_guard`, in a 0.4-era, a 0.7-era and a 1.2-era copy
of `lib/llm/src/http/service/metrics.rs`): the inventory's served_name must be written in lower case.

Names: `nv_llm_http_service_*` up to 0.4.0, `dynamo_frontend_*` from 0.4.1 (ai-dynamo/dynamo PR #2176;
`DYN_METRICS_PREFIX` can bring the old prefix back, which this catalog does not follow). Default
buckets: fixed lists up to 0.5.x, log-spaced values rounded to two significant figures from 0.6.0
(`generate_log_buckets`; `DYN_METRICS_{TTFT,ITL,REQUEST_DURATION,...}_{MIN,MAX,COUNT}` change them:
declare the result under the model's `buckets`).

The workers behind the frontend (vLLM, SGLang or TensorRT-LLM) serve their own engine metrics, and
Dynamo's `dynamo_component_*` metrics, on a second port (`DYN_SYSTEM_PORT`, disabled by default).
This engine reads the frontend only: the worker signals (KV cache, preemptions, the engine's own
queue) are `cannot_show` here, and a deployment that scrapes the workers declares them as a model of
their own engine (README, "NVIDIA Dynamo").
"""
from generator.catalog.base import COUNTER, GAUGE, HISTOGRAM, Counters, Engine, Gauge, Histogram, Metric, Part, seconds
from generator.versions import v

NEW, OLD = "dynamo_frontend_", "nv_llm_http_service_"
RENAMED = v("0.4.1")  # ai-dynamo/dynamo PR #2176 (2025-07-30); the 0.4.1 wheel has no nv_llm_http_service
LOG_BUCKETS = v("0.6.0")  # generate_log_buckets; the DYN_METRICS_*_{MIN,MAX,COUNT} names appear in the 0.6.0 wheel
REQUEST_DURATION_MAX_512 = v("1.2.0")

WHEELS = "ai-dynamo-runtime wheels (strings of _core, prometheus_names.py from 0.6.0); engines.md 4.1"
OLD_CODE = "lib/llm/src/http/service/metrics.rs, 0.4-era copy (fixed bucket lists)"
LOG_CODE = ("lib/llm/src/http/service/metrics.rs, 0.7-era copy (wxsms/dynamo) and 1.2-era copy: generate_log_buckets "
            "(min, max, count) rounded to 2 significant figures, 0 first")

# Up to 0.5.x: the fixed lists of the 0.4-era metrics.rs (wheels 0.4.0-0.5.0 lack DYN_METRICS_TTFT).
TTFT_FIXED = seconds("0", "0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2", "5", "10", "30",
                     "60", "120", "240", "480")
ITL_FIXED = seconds("0", "0.001", "0.005", "0.01", "0.015", "0.02", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2")
DURATION_FIXED = seconds("0", "1", "2", "4", "8", "16", "32", "64", "128", "256")
ISL_FIXED = seconds("0", "50", "100", "500", "1000", "2000", "4000", "8000", "16000", "32000", "64000", "128000")
OSL_FIXED = seconds("0", "50", "100", "500", "1000", "2000", "4000", "8000", "16000", "32000")

# From 0.6.0: generate_log_buckets with the defaults in metrics.rs (tests/test_dynamo.py recomputes them).
TTFT_LOG = seconds("0", "0.0022", "0.0047", "0.01", "0.022", "0.047", "0.1", "0.22", "0.47", "1", "2.2", "4.7", "10",
                   "22", "48", "100", "220", "480")  # (0.001, 480, 18)
ITL_LOG = seconds("0", "0.0019", "0.0035", "0.0067", "0.013", "0.024", "0.045", "0.084", "0.16", "0.3", "0.56", "1.1",
                  "2")  # (0.001, 2.0, 13)
DURATION_LOG_256 = seconds("0", "1.9", "3.4", "6.3", "12", "22", "40", "75", "140", "260")  # (1.0, 256.0, 10)
DURATION_LOG_512 = seconds("0", "2", "4", "8", "16", "32", "64", "130", "260", "510")  # (1.0, 512.0, 10)
ISL_LOG = seconds("0", "100", "210", "430", "870", "1800", "3600", "7400", "15000", "31000", "63000",
                  "130000")  # (50, 128000, 12)
OSL_LOG = seconds("0", "100", "210", "430", "880", "1800", "3700", "7600", "16000", "32000")  # (50, 32000, 10)

DURATION_SOURCE = (f"{WHEELS}; {LOG_CODE}: the 0.7-era code passes (1.0, 256.0, 10), the 1.2-era code and main in "
                   f"2026 pass (1.0, 512.0, 10). UNCONFIRMED which release switched (0.8-1.2; the wheels' float "
                   f"constants are not readable): taken as 1.2.0. Declare buckets.e2e when in doubt")


def _pair(suffix: str, kind: str, unit: str, help_text: str, *, first: str = "0.4.0", fixed=(), later=(),
          source: str = f"{WHEELS}; {OLD_CODE}; {LOG_CODE}") -> tuple[Metric, Metric]:
    """The metric under its 0.4.1+ name and under its older one; `later`: (version, default buckets from then on)."""
    newest = later[-1][1] if later else fixed
    earlier = tuple(zip([since for since, _ in later], [fixed, *(bounds for _, bounds in later)][:len(later)],
                        strict=True))
    return (Metric(NEW + suffix, kind, unit, help_text, source, since=RENAMED, buckets=newest,
                   earlier_buckets=earlier),
            Metric(OLD + suffix, kind, unit, f"Old name (up to 0.4.0). {help_text}", source, since=v(first),
                   until=RENAMED, buckets=fixed))


_TTFT = _pair("time_to_first_token_seconds", HISTOGRAM, "seconds",
              "Time to first token, from the frontend's HTTP handler (includes routing, tokenization, the worker's "
              "queue and prefill).", fixed=TTFT_FIXED, later=((LOG_BUCKETS, TTFT_LOG),))
_ITL = _pair("inter_token_latency_seconds", HISTOGRAM, "seconds",
             "Latency between streamed tokens as the frontend sees them (a response's gap split over its tokens).",
             fixed=ITL_FIXED, later=((LOG_BUCKETS, ITL_LOG),))
_DURATION = _pair("request_duration_seconds", HISTOGRAM, "seconds",
                  "Duration of LLM requests at the frontend, end to end.", first="0.2.0", fixed=DURATION_FIXED,
                  later=((LOG_BUCKETS, DURATION_LOG_256), (REQUEST_DURATION_MAX_512, DURATION_LOG_512)),
                  source=DURATION_SOURCE)
_ISL = _pair("input_sequence_tokens", HISTOGRAM, "tokens", "Input sequence length in tokens, per request.",
             fixed=ISL_FIXED, later=((LOG_BUCKETS, ISL_LOG),))
_OSL = _pair("output_sequence_tokens", HISTOGRAM, "tokens", "Output sequence length in tokens, per finished request.",
             fixed=OSL_FIXED, later=((LOG_BUCKETS, OSL_LOG),))
_REQUESTS = _pair("requests_total", COUNTER, "requests",
                  "LLM requests processed, by model, endpoint, request_type (stream, unary) and status (success, "
                  "error); from a release up to 1.2.0 (first release UNCONFIRMED) also error_type.", first="0.2.0")
_INFLIGHT = _pair("inflight_requests", GAUGE, "requests",
                  "Requests in flight at the frontend: from the HTTP handler until the response is complete.",
                  first="0.2.0")

METRICS = (
    *_TTFT, *_ITL, *_DURATION, *_ISL, *_OSL, *_REQUESTS, *_INFLIGHT,
    Metric(NEW + "queued_requests", GAUGE, "requests",
           "Requests in the frontend's HTTP queue: from the HTTP handler until the first token, so prefill is "
           "included; not the engine's scheduler queue.",
           f"{WHEELS}; {LOG_CODE} (HttpQueueGuard); ai-dynamo/dynamo #8054", since=v("0.6.0")),
    Metric(NEW + "output_tokens_total", COUNTER, "tokens",
           "Output tokens generated, counted as they stream (updates in real time).",
           f"{WHEELS}; {LOG_CODE}", since=v("0.7.0")),
)

ENGINE = Engine(
    name="dynamo",
    title="NVIDIA Dynamo",
    model_label="model",
    oldest=v("0.4.0"),
    metrics=METRICS,
    signals={
        "ttft": Histogram((NEW + "time_to_first_token_seconds", OLD + "time_to_first_token_seconds")),
        "itl": Histogram((NEW + "inter_token_latency_seconds", OLD + "inter_token_latency_seconds")),
        "e2e": Histogram((NEW + "request_duration_seconds", OLD + "request_duration_seconds")),
        "prompt_length": Histogram((NEW + "input_sequence_tokens", OLD + "input_sequence_tokens")),
        "generation_length": Histogram((NEW + "output_sequence_tokens", OLD + "output_sequence_tokens")),
        "requests": Counters((Part(NEW + "requests_total", since=RENAMED),
                              Part(OLD + "requests_total", until=RENAMED))),
        # status="error" is every request the frontend did not finish well: server failures, and (where the
        # label exists) validation errors and client cancellations too; the error SLI errs towards paging.
        "errors": Counters((Part(NEW + "requests_total", (("status", "=", "error"),), optional=True, since=RENAMED),
                            Part(OLD + "requests_total", (("status", "=", "error"),), optional=True,
                                 until=RENAMED))),
        "prompt_tokens": Counters((Part(NEW + "input_sequence_tokens", suffix="_sum", since=RENAMED),
                                   Part(OLD + "input_sequence_tokens", suffix="_sum", until=RENAMED))),
        # Real time from 0.7.0; before, the output-length histogram's sum (counted when a request ends).
        "generation_tokens": Counters((Part(NEW + "output_tokens_total", since=v("0.7.0")),
                                       Part(NEW + "output_sequence_tokens", suffix="_sum", since=RENAMED,
                                            until=v("0.7.0")),
                                       Part(OLD + "output_sequence_tokens", suffix="_sum", until=RENAMED))),
        "running": Gauge((Part(NEW + "inflight_requests"), Part(OLD + "inflight_requests")), "sum"),
        "waiting": Gauge((Part(NEW + "queued_requests"),), "sum"),
    },
    cannot_show={
        "kv_cache": "The Dynamo frontend exports KV blocks per worker (worker_active_decode_blocks, from 1.0.0) and "
                    "per model (model_total_kv_blocks) under label sets this catalog cannot confirm, so no usage "
                    "ratio is derived. The workers' own engine metrics (DYN_SYSTEM_PORT) have it: declare the "
                    "workers as a model of their engine.",
        "preemptions": "The Dynamo frontend does not see preemptions; the workers' engine metrics do "
                       "(DYN_SYSTEM_PORT).",
        "queue_time": "The Dynamo frontend has no queue-time histogram: queued_requests is a gauge that spans HTTP "
                      "entry to first token (prefill included).",
        "tpot": "The Dynamo frontend exports no per-request time per output token.",
        "prefill_time": "The Dynamo frontend does not split a request into phases; TTFT is its prefill view.",
        "decode_time": "The Dynamo frontend does not split a request into phases.",
        "finish_reasons": "The Dynamo frontend counts requests by status (success, error), not by why a generation "
                          "stopped.",
        "prefix_cache_hits": "The Dynamo frontend's cached_tokens histogram (from 0.8.0) counts per-request prefix "
                             "hits; it is not charted yet.",
        "model_load": "The worker's model_load_time_seconds (from 1.0.0) is served on DYN_SYSTEM_PORT under a full "
                      "name this catalog cannot confirm; cold start is measured from kube-state-metrics.",
    },
    lowercases_model=True,
    container="frontend",
    # nvcr.io/nvidia/ai-dynamo/vllm-runtime:1.3.0, also sglang-runtime and tensorrtllm-runtime (docs.nvidia.com/dynamo
    # quickstart, v1.0.2-v1.4.0): the frontend runs from the runtime image of its workers' engine.
    image_pattern=".+-runtime:{version}(?:[-@].*)?",
    official_image="nvcr.io/nvidia/ai-dynamo/vllm-runtime:{version}",
    metrics_port=8000,
    complements={"status": "success"},
    signal_notes={
        "running": "On Dynamo: the frontend's inflight_requests, from HTTP entry to the end of the response.",
        "waiting": "On Dynamo: the frontend's queued_requests, from HTTP entry to the first token, so requests in "
                   "prefill count too.",
    },
    runbook_notes={
        "LLMQueueBackingUp": "the waiting count is the frontend's queued_requests, which spans HTTP entry to the "
                             "first token: requests in prefill count as waiting, not only those a worker has "
                             "not scheduled. Check TTFT and the workers' own queue (their engine metrics on "
                             "DYN_SYSTEM_PORT) before adding capacity.",
        "LLMGPUSaturated": "\"requests wait\" reads the frontend's queued_requests, which counts every request "
                           "before its first token, prefill included: with traffic flowing it is rarely 0, so on "
                           "Dynamo this alert says little more than GPU utilisation above its threshold.",
        "LLMEngineStalled": "running is the frontend's inflight_requests (HTTP entry to the end of the response) and "
                            "progress its request and output-token counters: a stall may be the workers or the "
                            "frontend's connection to them (etcd, NATS). Check the workers' logs and "
                            "dynamo_component_* metrics on DYN_SYSTEM_PORT.",
        "LLMErrorBudgetBurn": "errors are dynamo_frontend_requests_total{status=\"error\"}: besides server failures "
                              "this counts validation errors and client cancellations; from the releases with the "
                              "error_type label, break it down by error_type.",
        "LLMTimeToFirstTokenSLOBurn": "TTFT is measured at the frontend, so it includes routing, tokenization and "
                                      "the worker's queue and prefill (disaggregated: the prefill worker and the KV "
                                      "transfer too).",
    },
    requirements=(
        "Scrape the frontend's HTTP port (8000 by default); keep DYN_METRICS_PREFIX unset, or the names change.",
        "The frontend lower-cases the model label: write served_name in lower case.",
        "Custom DYN_METRICS_*_{MIN,MAX,COUNT} bucket settings must be declared under the model's buckets.",
    ),
)
