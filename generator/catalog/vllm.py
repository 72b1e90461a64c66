"""vLLM (V1 engine) metrics.

Counters are defined without `_total` and exposed with it by prometheus_client.
Every engine metric carries `model_name` (the served model name) and `engine`
(the data-parallel rank). Renames: `gpu_cache_usage_perc` -> `kv_cache_usage_perc`,
`time_per_output_token_seconds` -> `inter_token_latency_seconds` (0.11 also added the per-request
`request_time_per_output_token_seconds`, a different measure); a deprecated
metric is hidden one minor release after deprecation, so it counts as gone from
then on (`--show-hidden-metrics-for-version` would be needed).
"""

from generator.catalog.base import (
    COUNTER,
    GAUGE,
    HISTOGRAM,
    WORKLOAD,
    Counters,
    Engine,
    Gauge,
    Histogram,
    Metric,
    Part,
    seconds,
)
from generator.versions import v

LOGGERS = "vllm wheel, vllm/v1/metrics/loggers.py (PrometheusStatLogger)"
TTFT_BUCKETS = seconds("0.001", "0.005", "0.01", "0.02", "0.04", "0.06", "0.08", "0.1", "0.25", "0.5",
                       "0.75", "1.0", "2.5", "5.0", "7.5", "10.0", "20.0", "40.0", "80.0", "160.0",
                       "640.0", "2560.0")
ITL_BUCKETS = seconds("0.01", "0.025", "0.05", "0.075", "0.1", "0.15", "0.2", "0.3", "0.4", "0.5",
                      "0.75", "1.0", "2.5", "5.0", "7.5", "10.0", "20.0", "40.0", "80.0")
REQUEST_LATENCY_BUCKETS = seconds("0.3", "0.5", "0.8", "1.0", "1.5", "2.0", "2.5", "5.0", "10.0", "15.0",
                                  "20.0", "30.0", "40.0", "50.0", "60.0", "120.0", "240.0", "480.0",
                                  "960.0", "1920.0", "7680.0")

# vLLM's request_tokens family: the 1-2-5 series, capped at the model's max_model_len (here: up to 10000).
TOKEN_BUCKETS = seconds("1", "2", "5", "10", "20", "50", "100", "200", "500", "1000", "2000", "5000", "10000")
# Phase and length histograms: in the 0.33.0 wheel's loggers.py and the 0.8.x-era one (@a6f0308c), whose
# request-latency bucket family they share (metrics-catalog.md 1.2); the classic dashboard charts them.
PHASES = f"{LOGGERS}; metrics-catalog.md 1.2, 1.3 and 1.6(a)"
# Speculative decoding: the counters the 0.8.x-era V1 loggers.py (@a6f0308c) documents for the acceptance rate,
# rate(accepted) / rate(draft); in 0.33.0 registered only with speculative decoding (metrics-catalog.md 1.3).
SPEC_DECODE = f"{LOGGERS} @a6f0308c; 0.33.0 vllm/v1/spec_decode/metrics.py; metrics-catalog.md 1.3"
SPEC_DECODE_ON = "Exposed only with speculative decoding configured (`--speculative-config`)."
# Request parameters: observed per finished request in the 0.8.x-era V1 loggers.py (@a6f0308c) and the 0.33.0
# wheel's (metrics-catalog.md 1.2: the request_params_n and request_tokens bucket families).
PARAMS = f"{LOGGERS} @a6f0308c and 0.33.0; metrics-catalog.md 1.2, 1.3"

METRICS = (
    Metric("vllm:time_to_first_token_seconds", HISTOGRAM, "seconds",
           "Time to first token, from arrival (includes queueing).", LOGGERS,
           since=v("0.8.0"), buckets=TTFT_BUCKETS),
    Metric("vllm:inter_token_latency_seconds", HISTOGRAM, "seconds",
           "Latency between streamed outputs.", f"{LOGGERS}; wheels: absent in 0.10.1.1, present from 0.10.2",
           since=v("0.10.2"), buckets=ITL_BUCKETS),
    Metric("vllm:time_per_output_token_seconds", HISTOGRAM, "seconds",
           "Old name of inter-token latency; deprecated 0.11, hidden from 0.12.",
           f"{LOGGERS}; wheels: hidden 0.12.0-0.14.1, removed 0.15.0 (vllm PR #32661)", since=v("0.8.0"),
           until=v("0.12.0"), buckets=ITL_BUCKETS),
    Metric("vllm:request_time_per_output_token_seconds", HISTOGRAM, "seconds",
           "Per-request mean decode time per output token, decode_time / (generated tokens - 1); observed once "
           "per finished request, as 0 for requests with at most one generated token.",
           "vllm wheel, vllm/v1/metrics/stats.py and loggers.py; wheels: absent in 0.10.2, present from 0.11.0",
           since=v("0.11.0"), buckets=ITL_BUCKETS),
    Metric("vllm:e2e_request_latency_seconds", HISTOGRAM, "seconds",
           "End-to-end request latency, arrival to last token.", LOGGERS,
           since=v("0.8.0"), buckets=REQUEST_LATENCY_BUCKETS),
    Metric("vllm:request_queue_time_seconds", HISTOGRAM, "seconds",
           "Time spent waiting in the scheduler queue.", LOGGERS,
           since=v("0.8.0"), buckets=REQUEST_LATENCY_BUCKETS),
    Metric("vllm:request_prefill_time_seconds", HISTOGRAM, "seconds",
           "Time a request spends in the PREFILL phase.", PHASES, since=v("0.8.0"), buckets=REQUEST_LATENCY_BUCKETS),
    Metric("vllm:request_decode_time_seconds", HISTOGRAM, "seconds",
           "Time a request spends in the DECODE phase.", PHASES, since=v("0.8.0"), buckets=REQUEST_LATENCY_BUCKETS),
    Metric("vllm:request_prompt_tokens", HISTOGRAM, "tokens", "Prompt tokens per finished request.", PHASES,
           since=v("0.8.0"), buckets=TOKEN_BUCKETS),
    Metric("vllm:request_generation_tokens", HISTOGRAM, "tokens", "Generated tokens per finished request.",
           PHASES, since=v("0.8.0"), buckets=TOKEN_BUCKETS),
    Metric("vllm:request_params_max_tokens", HISTOGRAM, "tokens",
           "The max_tokens request parameter, per finished request.", PARAMS, since=v("0.8.0"), buckets=TOKEN_BUCKETS),
    Metric("vllm:request_params_n", HISTOGRAM, "count", "The n request parameter (completions asked for).",
           PARAMS, since=v("0.8.0"), buckets=seconds("1", "2", "5", "10", "20")),
    Metric("vllm:num_requests_waiting_by_reason", GAUGE, "requests",
           "Requests waiting, by reason: capacity or deferred; the reasons sum to vllm:num_requests_waiting.",
           f"{LOGGERS}; metrics-catalog.md 1.3: absent in the 0.13.0 wheel, present in 0.33.0; the release that "
           f"added it is UNCONFIRMED, so the floor is the first confirmed one", since=v("0.33.0")),
    Metric("vllm:spec_decode_num_draft_tokens_total", COUNTER, "tokens", "Draft tokens proposed by speculative "
           "decoding.", SPEC_DECODE, since=v("0.8.0"), requires=SPEC_DECODE_ON),
    Metric("vllm:spec_decode_num_accepted_tokens_total", COUNTER, "tokens", "Draft tokens the target model "
           "accepted.", SPEC_DECODE, since=v("0.8.0"), requires=SPEC_DECODE_ON),
    Metric("vllm:lora_requests_info", GAUGE, "timestamp",
           "Running stats on LoRA requests: labels max_lora, running_lora_adapters and waiting_lora_adapters "
           "(comma-separated names); no model_name or engine label; the value is the wall-clock time it was set.",
           f"{LOGGERS} @a6f0308c and 0.33.0; metrics-catalog.md 1.1, 1.3", since=v("0.8.0"),
           requires="Registered only when vLLM serves LoRA adapters (`--enable-lora`)."),
    Metric("vllm:prefix_cache_queries_total", COUNTER, "tokens",
           "Prefix cache queries, in queried tokens.",
           f"{LOGGERS}; metrics-catalog.md 1.5: replaces gpu_prefix_cache_queries from 0.9.2, as kv_cache_usage_perc "
           f"replaces gpu_cache_usage_perc", since=v("0.9.2")),
    Metric("vllm:prefix_cache_hits_total", COUNTER, "tokens",
           "Prefix cache hits, in cached tokens.",
           f"{LOGGERS}; metrics-catalog.md 1.5: replaces gpu_prefix_cache_hits from 0.9.2", since=v("0.9.2")),
    Metric("vllm:num_requests_running", GAUGE, "requests", "Requests in model execution batches.",
           LOGGERS, since=v("0.8.0")),
    Metric("vllm:num_requests_waiting", GAUGE, "requests", "Requests waiting to be scheduled.",
           LOGGERS, since=v("0.8.0")),
    Metric("vllm:kv_cache_usage_perc", GAUGE, "ratio", "KV-cache usage, 1 = full (a fraction despite the name).",
           f"{LOGGERS}; wheels: absent in 0.9.1, present from 0.9.2 (replaces gpu_cache_usage_perc)",
           since=v("0.9.2")),
    Metric("vllm:gpu_cache_usage_perc", GAUGE, "ratio", "Old name of KV-cache usage (fraction 0-1).",
           f"{LOGGERS}; hidden in 0.11, removed in 0.12.0", since=v("0.8.0"), until=v("0.11.0")),
    Metric("vllm:num_preemptions_total", COUNTER, "preemptions", "Cumulative preemptions by the scheduler.",
           LOGGERS, since=v("0.8.0")),
    Metric("vllm:prompt_tokens_total", COUNTER, "tokens", "Prefill tokens processed (includes cached tokens).",
           LOGGERS, since=v("0.8.0")),
    Metric("vllm:generation_tokens_total", COUNTER, "tokens", "Generation tokens processed.",
           LOGGERS, since=v("0.8.0")),
    Metric("vllm:request_success_total", COUNTER, "requests",
           "Finished requests by finished_reason (all reasons, despite the name).", LOGGERS, since=v("0.8.0")),
    Metric("http_requests_total", COUNTER, "requests",
           "HTTP requests by handler, method and status class (2xx, 4xx, 5xx); no model label.",
           "vllm wheel, vllm/entrypoints (prometheus-fastapi-instrumentator); docs/design/metrics.md",
           since=v("0.8.0")),
)

# Requests to the OpenAI-compatible inference endpoints: not model listing, health or metrics, which
# gateways poll and which would dilute the error ratio.
_INFERENCE_HANDLERS = ("handler", "=~", "/v1/(chat/completions|completions|embeddings|responses)")

ENGINE = Engine(
    name="vllm",
    title="vLLM",
    model_label="model_name",
    oldest=v("0.8.0"),
    metrics=METRICS,
    signals={
        "ttft": Histogram(("vllm:time_to_first_token_seconds",)),
        "itl": Histogram(("vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds")),
        "tpot": Histogram(("vllm:request_time_per_output_token_seconds",)),
        "e2e": Histogram(("vllm:e2e_request_latency_seconds",)),
        "queue_time": Histogram(("vllm:request_queue_time_seconds",)),
        "prefill_time": Histogram(("vllm:request_prefill_time_seconds",)),
        "decode_time": Histogram(("vllm:request_decode_time_seconds",)),
        "prompt_length": Histogram(("vllm:request_prompt_tokens",)),
        "generation_length": Histogram(("vllm:request_generation_tokens",)),
        "finish_reasons": Counters((Part("vllm:request_success_total"),)),
        "max_tokens_requested": Histogram(("vllm:request_params_max_tokens",)),
        "n_requested": Histogram(("vllm:request_params_n",)),
        "waiting_by_reason": Gauge((Part("vllm:num_requests_waiting_by_reason"),), "sum"),
        "spec_decode_draft_tokens": Counters((Part("vllm:spec_decode_num_draft_tokens_total"),)),
        "spec_decode_accepted_tokens": Counters((Part("vllm:spec_decode_num_accepted_tokens_total"),)),
        # No model label: the model's pods' series (their scrape target's namespace and pod).
        "lora_adapters": Gauge((Part("vllm:lora_requests_info", scope=WORKLOAD),), "max"),
        "prefix_cache_queries": Counters((Part("vllm:prefix_cache_queries_total"),)),
        "prefix_cache_hits": Counters((Part("vllm:prefix_cache_hits_total"),)),
        "requests": Counters((Part("vllm:request_success_total"),)),
        # HTTP status is what clients see, and it counts failures that never reach the engine. A stream
        # that fails after its 200 was sent shows only as finished_reason="error" (from 0.13), which a
        # non-streaming failure also counts besides its HTTP 500: the error SLI errs towards paging.
        "errors": Counters((Part("http_requests_total", (_INFERENCE_HANDLERS, ("status", "=", "5xx")),
                                 scope=WORKLOAD, optional=True),
                            Part("vllm:request_success_total", (("finished_reason", "=", "error"),),
                                 optional=True, since=v("0.13.0")))),
        "error_base": Counters((Part("http_requests_total", (_INFERENCE_HANDLERS,), scope=WORKLOAD),)),
        "prompt_tokens": Counters((Part("vllm:prompt_tokens_total"),)),
        "generation_tokens": Counters((Part("vllm:generation_tokens_total"),)),
        "preemptions": Counters((Part("vllm:num_preemptions_total"),)),
        "running": Gauge((Part("vllm:num_requests_running"),), "sum"),
        "waiting": Gauge((Part("vllm:num_requests_waiting"),), "sum"),
        "kv_cache": Gauge((Part("vllm:kv_cache_usage_perc"), Part("vllm:gpu_cache_usage_perc")), "max"),
    },
    cannot_show={
        "model_load": "vLLM exports no model-load duration; cold start is measured from kube-state-metrics "
                      "(pod created to pod ready).",
    },
    container="vllm",
    # vllm/vllm-openai:v0.11.2 (also with a -cu128 style suffix or an @sha256 digest)
    image_pattern=".+:v?{version}(?:[-@+].*)?",
    official_image="vllm/vllm-openai:v{version}",
    metrics_port=8000,
    matcher_examples={_INFERENCE_HANDLERS[2]: "/v1/chat/completions"},
    complements={"status": "2xx"},
    polled_request={"handler": "/v1/models", "method": "GET", "status": "2xx"},
    requirements=(
        "Scrape /metrics on the OpenAI server port; with --api-server-count > 1 vLLM runs in "
        "multiprocess mode and drops process_* metrics (not used here).",
    ),
)
