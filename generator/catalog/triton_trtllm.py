"""NVIDIA Triton Inference Server with the TensorRT-LLM backend.

Versions are Triton container releases (24.12, 25.01, ...). Triton core metrics
come from prometheus-cpp: counters have no `_total`, latencies are cumulative
microsecond counters, and the only latency histogram is the opt-in
first-response histogram in milliseconds. Core metrics are labelled `model`
(the model clients call, often an ensemble) and `version`; the `nv_trt_llm_*`
and `nv_llm_*` metrics are reported by the TensorRT-LLM backend model
(`tensorrt_llm` by default), so they are scoped to the backend model instead.
"""
from decimal import Decimal

from generator.catalog.base import (
    BACKEND,
    COUNTER,
    GAUGE,
    HISTOGRAM,
    Counters,
    Custom,
    Engine,
    Gauge,
    Histogram,
    Metric,
    Part,
)
from generator.versions import v

CORE = "triton-inference-server/core src/metric_model_reporter.cc, src/metrics.cc; server docs/user_guide/metrics.md"
TRTLLM = ("triton-inference-server/tensorrtllm_backend inflight_batcher_llm/src/custom_metrics_reporter/"
          "custom_metrics_reporter.cc (Triton metrics since 23.11)")

TOKENS = (f"{TRTLLM}; absent when tensorrtllm_backend#657 asked for token metrics (2024-12-11), present "
          f"in the backend's main branch in 2026; the first release is UNCONFIRMED, so the floor is a "
          f"conservative 25.08")

_TTFT_OPT_IN = ("Time to first token needs `--metrics-config histogram_latencies=true` and a decoupled "
                "(streaming) model; its default buckets are 100, 500, 2000 and 5000 ms.")

METRICS = (
    Metric("nv_inference_request_success", COUNTER, "requests", "Successful inference requests.", CORE,
           since=v("23.11")),
    Metric("nv_inference_request_failure", COUNTER, "requests",
           "Failed inference requests (label `reason` in newer releases); series appear on the first failure.",
           CORE, since=v("23.11")),
    Metric("nv_inference_request_duration_us", COUNTER, "microseconds",
           "Cumulative end-to-end request duration (includes cached requests).", CORE, since=v("23.11")),
    Metric("nv_inference_queue_duration_us", COUNTER, "microseconds", "Cumulative time requests spent queued.",
           CORE, since=v("23.11")),
    Metric("nv_inference_compute_infer_duration_us", COUNTER, "microseconds",
           "Cumulative time requests spent executing the model (compute infer).", CORE, since=v("23.11")),
    Metric("nv_inference_first_response_histogram_ms", HISTOGRAM, "milliseconds",
           "Time to first response (first streamed chunk for decoupled models). Opt-in: "
           "--metrics-config histogram_latencies=true.",
           f"{CORE}; added 2024-10-23; Triton 2.52.0 (24.11) release notes",
           since=v("24.11"), buckets=(Decimal(100), Decimal(500), Decimal(2000), Decimal(5000)),
           requires=_TTFT_OPT_IN),
    Metric("nv_model_load_duration_secs", GAUGE, "seconds", "Model load time in seconds.",
           f"{CORE}; core PR #397 merged 2024-10-21, two days before the 24.11 histogram change; the "
           f"release is UNCONFIRMED, so the floor is the next one, 24.12", since=v("24.12")),
    Metric("nv_trt_llm_request_metrics", GAUGE, "requests",
           "Request counts by request_type: active, max, scheduled, context, waiting.", TRTLLM,
           since=v("23.11")),
    Metric("nv_trt_llm_kv_cache_block_metrics", GAUGE, "blocks",
           "KV-cache blocks by kv_cache_block_type: max, free, used, tokens_per (fraction in newer releases).",
           TRTLLM, since=v("23.11")),
    Metric("nv_llm_input_token_len", HISTOGRAM, "tokens", "Input tokens per request.", TOKENS, since=v("25.08")),
    Metric("nv_llm_output_token_len", HISTOGRAM, "tokens", "Output tokens per request.", TOKENS, since=v("25.08")),
)


def _kv_cache_usage(ctx, window: str) -> str:
    # used / max blocks per instance; both exist since the first TRT-LLM metrics release.
    used = ctx.selector("nv_trt_llm_kv_cache_block_metrics", (("kv_cache_block_type", "=", "used"),),
                        scope=BACKEND)
    total = ctx.selector("nv_trt_llm_kv_cache_block_metrics", (("kv_cache_block_type", "=", "max"),),
                         scope=BACKEND)
    return ctx.agg("max", f"{used} / ignoring(kv_cache_block_type) ({total} > 0)")


def _kv_cache_inputs(usage: Decimal) -> list:
    blocks = Decimal(1000)
    return [("nv_trt_llm_kv_cache_block_metrics", BACKEND, (("kv_cache_block_type", "=", "used"),), usage * blocks),
            ("nv_trt_llm_kv_cache_block_metrics", BACKEND, (("kv_cache_block_type", "=", "max"),), blocks)]


def _batch_occupancy(ctx, window: str) -> str:
    # Active requests against the batch manager's maximum, per instance: at 1 new requests queue.
    active = ctx.selector("nv_trt_llm_request_metrics", (("request_type", "=", "active"),), scope=BACKEND)
    capacity = ctx.selector("nv_trt_llm_request_metrics", (("request_type", "=", "max"),), scope=BACKEND)
    return ctx.agg("max", f"{active} / ignoring(request_type) ({capacity} > 0)")


def _batch_occupancy_inputs(occupancy: Decimal) -> list:
    capacity = Decimal(256)
    return [("nv_trt_llm_request_metrics", BACKEND, (("request_type", "=", "active"),), occupancy * capacity),
            ("nv_trt_llm_request_metrics", BACKEND, (("request_type", "=", "max"),), capacity)]


def _e2e_mean(ctx, window: str) -> str:
    duration = ctx.selector("nv_inference_request_duration_us")
    success = ctx.selector("nv_inference_request_success")
    return (f"{ctx.agg('sum', f'rate({duration}[{window}])')} / 1000000"
            f" / ({ctx.agg('sum', f'rate({success}[{window}])')} > 0)")


def _per_request(counter: str):
    """Mean seconds per successful request from a cumulative microsecond counter."""
    def build(ctx, window: str) -> str:
        total, success = ctx.selector(counter), ctx.selector("nv_inference_request_success")
        return f"sum(rate({total}[{window}])) / 1000000 / (sum(rate({success}[{window}])) > 0)"
    return build


ENGINE = Engine(
    name="triton-trtllm",
    title="TensorRT-LLM on Triton",
    model_label="model",
    oldest=v("23.11"),
    metrics=METRICS,
    signals={
        "ttft": Histogram(("nv_inference_first_response_histogram_ms",), scale=Decimal("0.001")),
        "e2e_mean": Custom(("nv_inference_request_duration_us", "nv_inference_request_success"), _e2e_mean),
        "queue_time_mean": Custom(("nv_inference_queue_duration_us", "nv_inference_request_success"),
                                  _per_request("nv_inference_queue_duration_us")),
        "compute_time_mean": Custom(("nv_inference_compute_infer_duration_us", "nv_inference_request_success"),
                                    _per_request("nv_inference_compute_infer_duration_us")),
        "requests": Counters((Part("nv_inference_request_success"),
                              Part("nv_inference_request_failure", optional=True))),
        "errors": Counters((Part("nv_inference_request_failure", optional=True),)),
        "prompt_tokens": Counters((Part("nv_llm_input_token_len", suffix="_sum", scope=BACKEND),)),
        "generation_tokens": Counters((Part("nv_llm_output_token_len", suffix="_sum", scope=BACKEND),)),
        "running": Gauge((Part("nv_trt_llm_request_metrics", (("request_type", "=", "active"),),
                               scope=BACKEND),), "sum"),
        "kv_cache": Custom(("nv_trt_llm_kv_cache_block_metrics",), _kv_cache_usage, _kv_cache_inputs),
        "batch_occupancy": Custom(("nv_trt_llm_request_metrics",), _batch_occupancy, _batch_occupancy_inputs),
        "model_load": Gauge((Part("nv_model_load_duration_secs", scope=BACKEND),), "max"),
    },
    cannot_show={
        "itl": "Triton and the TensorRT-LLM backend export no inter-token latency metric.",
        "tpot": "Triton and the TensorRT-LLM backend export no per-request time per output token.",
        "e2e": "Triton exports end-to-end latency only as a cumulative microsecond counter: the mean is "
               "shown, percentiles and an end-to-end latency SLO cannot be computed.",
        "preemptions": "The TensorRT-LLM backend exports no preemption counter.",
        "prompt_length": "Triton's token-length histograms (nv_llm_input_token_len and nv_llm_output_token_len, from "
                         "25.08 at the earliest) feed the token rates; their distribution is not charted yet.",
        "finish_reasons": "Triton counts successes and failures (by reason: REJECTED, CANCELED, BACKEND, OTHER), not "
                          "why a generation stopped.",
        "prefix_cache_hits": "The TensorRT-LLM backend reports reused KV blocks (kv_cache_block_type=\"reused\") only "
                             "in releases this catalog does not confirm.",
        "waiting": "Queue depth is not measurable on this release: Triton keeps nv_inference_pending_request_count "
                   "at 0 for ensembles and for the decoupled TensorRT-LLM model, which hands every request to its "
                   "own batch manager, and the backend's nv_trt_llm_request_metrics{request_type=\"waiting\"} "
                   "appears only in later releases (first release unconfirmed).",
    },
    container="triton",
    # nvcr.io/nvidia/tritonserver:25.01-trtllm-python-py3
    image_pattern=".+:{version}-trtllm(?:[-@].*)?",
    official_image="nvcr.io/nvidia/tritonserver:{version}-trtllm-python-py3",
    metrics_port=8002,
    backend_model="tensorrt_llm",
    requirements=(
        _TTFT_OPT_IN,
        "Scrape Triton's metrics port (8002 by default).",
    ),
)
