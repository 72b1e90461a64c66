"""TensorRT-LLM's own OpenAI server, `trtllm-serve` (NVIDIA/TensorRT-LLM `tensorrt_llm/metrics/collector.py`).

Versions are TensorRT-LLM releases (1.1.0, 1.2.0, ...). Prometheus text is served on
`/prometheus/metrics` (`/metrics` answers iteration stats as JSON). The collector writes with
prometheus_client: counters defined with `_total`, histograms with Python-float `le` bounds. Per-request
metrics need `return_perf_metrics: true`, iteration metrics `enable_iter_perf_stats: true`.

No release tag could be checked (engines.md §3, §11): every `since` below is the first release after the
PR that added the metric, floors chosen conservatively where the release is UNCONFIRMED. The catalog
covers trtllm-serve from 1.4.0, the floor of `trtllm_request_error_total`: before it trtllm-serve exports
no error metric at all, and every model's availability SLO needs one (the earlier metrics keep their
`since` as facts). Which names a
deployment exposes is UNCONFIRMED per release as well, so the inventory says it (`metric_naming`):
`trtllm_`-prefixed names with the served model in `model_name` (the collector at every stored version,
1.3.0 images per aibrix#2023), or the early bare names with `model_name="undefined"` (aibrix#2004,
fixed by PR #12545).
"""
from generator.catalog.base import (
    COUNTER,
    GAUGE,
    HISTOGRAM,
    Counters,
    Engine,
    Gauge,
    Histogram,
    Metric,
    Naming,
    Part,
    seconds,
)
from generator.versions import v

COLLECTOR = "NVIDIA/TensorRT-LLM tensorrt_llm/metrics/collector.py @050f80de (engines.md 3.1)"
CORE = (f"{COLLECTOR}; PR #5785 'Core Metrics Implementation', merged 2025-08-11 (issue #4926); present in "
        f"1.2.0rc2 images (issue #9678); first release UNCONFIRMED, floor 1.1.0")
PR_11243 = f"{COLLECTOR}; PR #11243 (2026-02); release UNCONFIRMED, floor 1.3.0"
PR_12545 = (f"{COLLECTOR}; PR #12545 (merged 2026-03-25), 'to be added to TensorRT-LLM 1.3.0' "
            f"(gateway-api-inference-extension#2596); release UNCONFIRMED, floor 1.3.0")
PR_12636 = f"{COLLECTOR}; PR #12636 (merged 2026-03-31 or later); release UNCONFIRMED, conservative floor 1.4.0"

# Copied from vLLM v0.10.0rc1 by the collector ("Adapted from ..."): the same bounds as vllm.py's.
TTFT_BUCKETS = seconds("0.001", "0.005", "0.01", "0.02", "0.04", "0.06", "0.08", "0.1", "0.25", "0.5",
                       "0.75", "1.0", "2.5", "5.0", "7.5", "10.0", "20.0", "40.0", "80.0", "160.0",
                       "640.0", "2560.0")
TPOT_BUCKETS = seconds("0.01", "0.025", "0.05", "0.075", "0.1", "0.15", "0.2", "0.3", "0.4", "0.5",
                       "0.75", "1.0", "2.5", "5.0", "7.5", "10.0", "20.0", "40.0", "80.0")
REQUEST_BUCKETS = seconds("0.3", "0.5", "0.8", "1.0", "1.5", "2.0", "2.5", "5.0", "10.0", "15.0", "20.0",
                          "30.0", "40.0", "50.0", "60.0", "120.0", "240.0", "480.0", "960.0", "1920.0", "7680.0")
PREFILL_BUCKETS = seconds("0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5",
                          "5.0", "10.0", "20.0", "40.0", "80.0", "160.0", "640.0", "2560.0")

_PERF = "Per-request metrics need `return_perf_metrics: true` in --extra_llm_api_options."
_ITER = "Iteration metrics need `enable_iter_perf_stats: true` in --extra_llm_api_options."

METRICS = (
    Metric("trtllm_request_success_total", COUNTER, "requests",
           "Finished requests by finished_reason (values UNCONFIRMED; 'unknown' by default).", CORE,
           since=v("1.1.0"), requires=_PERF),
    Metric("trtllm_e2e_request_latency_seconds", HISTOGRAM, "seconds", "End-to-end request latency.", CORE,
           since=v("1.1.0"), buckets=REQUEST_BUCKETS, requires=_PERF),
    Metric("trtllm_time_to_first_token_seconds", HISTOGRAM, "seconds", "Time to first token.", CORE,
           since=v("1.1.0"), buckets=TTFT_BUCKETS, requires=_PERF),
    Metric("trtllm_time_per_output_token_seconds", HISTOGRAM, "seconds",
           "Per-request time per output token (one observation per request, not per token).", CORE,
           since=v("1.1.0"), buckets=TPOT_BUCKETS, requires=_PERF),
    Metric("trtllm_request_queue_time_seconds", HISTOGRAM, "seconds", "Time a request waited in the queue.",
           CORE, since=v("1.1.0"), buckets=REQUEST_BUCKETS, requires=_PERF),
    Metric("trtllm_kv_cache_utilization", GAUGE, "ratio", "KV-cache usage, usedNumBlocks / maxNumBlocks (0-1).",
           PR_11243, since=v("1.3.0"), requires=_ITER),
    Metric("trtllm_request_prefill_time_seconds", HISTOGRAM, "seconds", "Time a request spends in prefill.",
           PR_12545, since=v("1.3.0"), buckets=PREFILL_BUCKETS, requires=_PERF),
    Metric("trtllm_request_decode_time_seconds", HISTOGRAM, "seconds", "Time a request spends in decode.",
           PR_12545, since=v("1.3.0"), buckets=REQUEST_BUCKETS, requires=_PERF),
    Metric("trtllm_prompt_tokens_total", COUNTER, "tokens", "Prompt tokens of finished requests.", PR_12545,
           since=v("1.3.0"), requires=_PERF),
    Metric("trtllm_generation_tokens_total", COUNTER, "tokens", "Generated tokens of finished requests.",
           PR_12545, since=v("1.3.0"), requires=_PERF),
    Metric("trtllm_num_requests_running", GAUGE, "requests", "Requests running in the batch.", PR_12545,
           since=v("1.3.0"), requires=_ITER),
    Metric("trtllm_num_requests_waiting", GAUGE, "requests", "Requests waiting in the queue.", PR_12545,
           since=v("1.3.0"), requires=_ITER),
    Metric("trtllm_prompt_cached_tokens_total", COUNTER, "tokens",
           "Prompt tokens found in the KV cache (prefix cache hits, in tokens).", PR_12636, since=v("1.4.0"),
           requires=_PERF),
    Metric("trtllm_request_error_total", COUNTER, "requests",
           "Failed requests by http_code (request validation errors among them); a series per code once "
           "one happened.", PR_12636, since=v("1.4.0")),
)

# Server failures: the 5xx codes. Request validation errors (4xx) are the client's.
_SERVER_ERRORS = ("http_code", "=~", "5..")


def _unprefixed(metric: Metric) -> str:
    return metric.name.removeprefix("trtllm_")


ENGINE = Engine(
    name="trtllm-serve",
    title="TensorRT-LLM trtllm-serve",
    model_label="model_name",
    oldest=v("1.4.0"),  # the first release with an error metric (see the module docstring)
    metrics=METRICS,
    signals={
        "ttft": Histogram(("trtllm_time_to_first_token_seconds",)),
        "tpot": Histogram(("trtllm_time_per_output_token_seconds",)),
        "e2e": Histogram(("trtllm_e2e_request_latency_seconds",)),
        "queue_time": Histogram(("trtllm_request_queue_time_seconds",)),
        "prefill_time": Histogram(("trtllm_request_prefill_time_seconds",)),
        "decode_time": Histogram(("trtllm_request_decode_time_seconds",)),
        # Every request: finished ones, and failed ones (which never finish), of any code.
        "requests": Counters((Part("trtllm_request_success_total"),
                              Part("trtllm_request_error_total", optional=True))),
        "finish_reasons": Counters((Part("trtllm_request_success_total"),)),
        "errors": Counters((Part("trtllm_request_error_total", (_SERVER_ERRORS,), optional=True),)),
        "prompt_tokens": Counters((Part("trtllm_prompt_tokens_total"),)),
        "generation_tokens": Counters((Part("trtllm_generation_tokens_total"),)),
        "prefix_cache_queries": Counters((Part("trtllm_prompt_tokens_total"),)),
        "prefix_cache_hits": Counters((Part("trtllm_prompt_cached_tokens_total"),)),
        "running": Gauge((Part("trtllm_num_requests_running"),), "sum"),
        "waiting": Gauge((Part("trtllm_num_requests_waiting"),), "sum"),
        "kv_cache": Gauge((Part("trtllm_kv_cache_utilization"),), "max"),
    },
    cannot_show={
        "itl": "trtllm-serve exports time per output token per request (TPOT), not the latency between tokens.",
        "preemptions": "trtllm-serve exports no preemption counter (trtllm_num_paused_requests is a gauge whose "
                       "meaning is unconfirmed).",
        "model_load": "trtllm-serve exports no model-load duration; cold start is measured from kube-state-metrics.",
        "prompt_length": "trtllm-serve counts prompt and generated tokens but exports no per-request length "
                         "histogram.",
        "generation_length": "trtllm-serve counts generated tokens but exports no per-request length histogram.",
        "batch_occupancy": "trtllm-serve's trtllm_prefill_batch_occupancy is the prefill batch's fill, not the "
                           "share of the running batch in use.",
    },
    container="trtllm",
    # nvcr.io/nvidia/tensorrt-llm/release:1.2.0rc2 (rc suffixes are part of the tag's last component)
    image_pattern=".+:{version}(?:[-@].*)?",
    official_image="nvcr.io/nvidia/tensorrt-llm/release:{version}",
    metrics_port=8000,
    metrics_path="/prometheus/metrics",
    matcher_examples={_SERVER_ERRORS[2]: "500"},
    runbook_notes={
        "LLMModelDown": "trtllm-serve serves Prometheus text on /prometheus/metrics, not /metrics (which answers "
                        "iteration stats as JSON): a PodMonitor on /metrics leaves its target failing to parse.",
        "LLMEngineScrapeFailing": "Check that the scrape path is /prometheus/metrics; /metrics returns JSON.",
        "LLMTelemetryMissing": "Per-request metrics appear only with `return_perf_metrics: true`, iteration "
                               "metrics (running, waiting, KV cache) only with `enable_iter_perf_stats: true` in "
                               "--extra_llm_api_options. Bare names (`e2e_request_latency_seconds`) or "
                               "model_name=\"undefined\" mean an early build: set the model's "
                               "`metric_naming: unprefixed`.",
        "LLMErrorBudgetBurn": "Errors are trtllm_request_error_total with a 5xx http_code; the denominator is "
                              "finished plus failed requests (any code). Request validation errors (4xx) do not count.",
        "LLMEngineStalled": "Progress is finished requests plus generated tokens; both come from per-request "
                            "perf metrics, so a server started without `return_perf_metrics: true` looks stalled "
                            "whenever requests are in flight.",
    },
    namings={
        "trtllm_": Naming("`trtllm_`-prefixed names, the served model in model_name: the collector at every "
                          "stored version, and TensorRT-LLM 1.3.0 images (aibrix#2023)."),
        "unprefixed": Naming("Bare names (`e2e_request_latency_seconds`) with model_name and engine_type "
                             "\"undefined\": early trtllm-serve (aibrix#2004, fixed by PR #12545); series are "
                             "told apart by namespace and pod.", metric=_unprefixed, model_scoped=False),
    },
    requirements=(
        _PERF,
        _ITER,
        "Scrape /prometheus/metrics on the server port (8000 by default): /metrics answers iteration stats "
        "as JSON.",
    ),
)
