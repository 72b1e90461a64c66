"""SGLang metrics (`python -m sglang.launch_server --enable-metrics`).

Facts from the sglang wheels of every minor release 0.3.6-0.5.23 (shared/reference/engines.md section 1,
which corrects metrics-catalog.md section 3 where they disagree):

- Off by default: `--enable-metrics`; /metrics on the HTTP server port (30000 by default), written by
  prometheus_client's MultiProcessCollector: counters are defined with `_total` (one `_total` exposed), no
  `_created` series, no process_* metrics, every HELP text "Multiprocess metric".
- Request metrics (tokenizer side) carry `model_name` (the served name); from 0.5.11 `engine_type`, from
  0.5.17 `is_streaming` on TTFT, E2E, per-request TPOT, token and request counters (not on ITL). Scheduler
  metrics carry `model_name`, `engine_type` (0.4.4), `tp_rank`/`pp_rank` (0.4.10), `moe_ep_rank` (0.5.7);
  by default only the TP-0 scheduler records, so summing over ranks counts each request once.
- TTFT and E2E buckets start at 0.1 s: a latency SLO under 100 ms cannot be read from them.
- The old `sglang:time_per_output_token_seconds` (0.3.6-0.4.4) is deliberately mapped to nothing: it was
  observed on every streamed chunk as the running mean since the first token, plus once at finish as e2e /
  tokens (0.3.6 tokenizer_manager.py), a mix that is neither per-token ITL nor per-request TPOT
  (engines.md 9.2). The per-request TPOT histogram exists from 0.5.22 only.
- `inter_token_latency_seconds` is token-weighted: a streamed chunk of n tokens records interval/n n times.

The catalog starts at 0.4.7: the availability SLO needs a failure count, and 0.4.0-0.4.6 export none (no
aborted-request counter, no HTTP status metrics).
"""

from decimal import Decimal

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
)
from generator.versions import v

WHEELS = "sglang wheels 0.3.6-0.5.23 (engines.md 1.3-1.5)"
COLLECTOR = (f"{WHEELS}: sglang/srt/metrics/collector.py (0.3.6-0.5.9), "
             f"sglang/srt/observability/metrics_collector.py (0.5.10+)")
HTTP = f"{WHEELS}: sglang/srt/utils/common.py (0.5.7+), observability/http_request_metrics.py (0.5.23)"

def seconds(*values: str) -> tuple[Decimal, ...]:
    """Bounds spelled as prometheus_client writes them in `le`: Python floats (1 -> "1.0", 0.010 -> "0.01")."""
    return tuple(Decimal(repr(float(x))) for x in values)


TTFT_BUCKETS = seconds("0.1", "0.2", "0.4", "0.6", "0.8", "1", "2", "4", "6", "8", "10", "20", "40", "60", "80",
                       "100", "200", "400")
TTFT_EARLIER = (
    (v("0.4.2"), seconds("0.001", "0.005", "0.01", "0.02", "0.04", "0.06", "0.08", "0.1", "0.25", "0.5", "0.75",
                         "1.0", "2.5", "5.0", "7.5", "10", "15", "20", "25", "30")),
    (v("0.4.4"), seconds("0.1", "0.25", "0.5", "0.75", "1", "2", "5", "10", "20", "40", "60", "80", "120", "160")),
    (v("0.4.5"), seconds("0.1", "0.3", "0.5", "0.7", "0.9", "1", "2", "4", "6", "8", "10", "20", "40", "60", "80",
                         "120", "160")),
)
ITL_BUCKETS = seconds("0.002", "0.004", "0.006", "0.008", "0.010", "0.015", "0.020", "0.025", "0.030", "0.035",
                      "0.040", "0.060", "0.080", "0.100", "0.200", "0.400", "0.600", "0.800", "1.0", "2.0", "4.0",
                      "6.0", "8.0")
ITL_EARLIER = (
    (v("0.4.5"), seconds("0.002", "0.004", "0.006", "0.008", "0.010", "0.015", "0.020", "0.025", "0.030", "0.035",
                         "0.040", "0.050", "0.075", "0.100", "0.150", "0.200", "0.300", "0.400", "0.500", "0.750",
                         "1.000", "2.000")),
)
MIXED_TPOT_BUCKETS = seconds("0.002", "0.005", "0.010", "0.020", "0.030", "0.040", "0.050", "0.060", "0.070",
                             "0.080", "0.090", "0.100", "0.150", "0.200", "0.300", "0.400", "0.600", "0.800",
                             "1.000", "2.000")
MIXED_TPOT_EARLIER = (
    (v("0.4.4"), seconds("0.005", "0.01", "0.015", "0.02", "0.025", "0.03", "0.04", "0.05", "0.075", "0.1", "0.15",
                         "0.2", "0.3", "0.4", "0.5", "0.75", "1.0", "2.5")),
)
E2E_BUCKETS = seconds("0.1", "0.2", "0.4", "0.6", "0.8", "1", "2", "4", "6", "8", "10", "20", "40", "60", "80", "100",
                      "200", "400", "600", "1200", "1800", "2400")
E2E_EARLIER = (
    (v("0.4.2"), seconds("0.3", "0.5", "0.8", "1.0", "1.5", "2.0", "2.5", "5", "10", "15", "20", "30", "40", "50",
                         "60")),
    (v("0.4.4"), seconds("0.1", "0.25", "0.5", "1", "2", "5", "10", "20", "40", "60", "80", "120", "160")),
    (v("0.4.5"), seconds("0.1", "0.2", "0.4", "0.8", "1", "2", "5", "10", "20", "40", "60", "80", "100", "150", "200",
                         "250", "300", "350", "500", "1000")),
    (v("0.5.2"), seconds("0.1", "0.2", "0.4", "0.6", "0.8", "1", "2", "4", "6", "8", "10", "20", "40", "60", "80",
                         "100", "200", "400", "800")),
)
_QUEUE_TAIL = ("0.1", "0.2", "0.5", "1", "2", "3", "4", "5", "10", "15", "20", "30", "40", "50", "60", "70", "80", "90",
               "100", "200", "300", "400", "500", "600", "700", "800", "900", "1000", "1200", "1400", "1600", "1800",
               "2000", "2500", "3000")
QUEUE_BUCKETS_0_5_2 = seconds("0.0", *_QUEUE_TAIL)
QUEUE_BUCKETS = seconds("0.0", "0.001", "0.005", "0.010", "0.050", *_QUEUE_TAIL)

STARTUP_PHASE = ("phase", "=", "load_weight")

METRICS = (
    Metric("sglang:time_to_first_token_seconds", HISTOGRAM, "seconds",
           "Time to first token, from the request's arrival at the tokenizer (includes queueing).",
           f"{COLLECTOR}; bucket history engines.md 1.4", since=v("0.3.6"), buckets=TTFT_BUCKETS,
           earlier_buckets=TTFT_EARLIER),
    Metric("sglang:inter_token_latency_seconds", HISTOGRAM, "seconds",
           "Latency between streamed tokens, token-weighted (a chunk of n tokens records interval/n n times).",
           f"{COLLECTOR}; observe_inter_token_latency @0.5.23", since=v("0.4.4"), buckets=ITL_BUCKETS,
           earlier_buckets=ITL_EARLIER),
    Metric("sglang:time_per_output_token_seconds", HISTOGRAM, "seconds",
           "Old mixed per-chunk running mean and per-request mean; neither ITL nor TPOT, so mapped to no signal.",
           f"{WHEELS}: metrics/collector.py @0.4.4, managers/tokenizer_manager.py @0.3.6; engines.md 9.2",
           since=v("0.3.6"), until=v("0.4.5"), buckets=MIXED_TPOT_BUCKETS, earlier_buckets=MIXED_TPOT_EARLIER),
    Metric("sglang:request_time_per_output_token_seconds", HISTOGRAM, "seconds",
           "Per-request time per output token, (finished - first token) / (completion tokens - 1).",
           f"{COLLECTOR}; wheels: absent in 0.5.21, present from 0.5.22", since=v("0.5.22"), buckets=ITL_BUCKETS),
    Metric("sglang:e2e_request_latency_seconds", HISTOGRAM, "seconds",
           "End-to-end request latency, arrival to last token.", f"{COLLECTOR}; bucket history engines.md 1.4",
           since=v("0.3.6"), buckets=E2E_BUCKETS, earlier_buckets=E2E_EARLIER),
    Metric("sglang:queue_time_s", HISTOGRAM, "seconds", "Time a request waited in the scheduler queue (0.5.2 name).",
           f"{WHEELS}: metrics/collector.py @0.5.2; renamed queue_time_seconds in 0.5.3", since=v("0.5.2"),
           until=v("0.5.3"), buckets=QUEUE_BUCKETS_0_5_2),
    Metric("sglang:queue_time_seconds", HISTOGRAM, "seconds", "Time a request waited in the scheduler queue.",
           f"{COLLECTOR}; 0.5.3-0.5.11 lack the 0.001-0.05 bounds (engines.md 1.4, 10)", since=v("0.5.3"),
           buckets=QUEUE_BUCKETS, earlier_buckets=((v("0.5.12"), QUEUE_BUCKETS_0_5_2),)),
    Metric("sglang:prompt_tokens_total", COUNTER, "tokens", "Prefill tokens processed (cached tokens included).",
           COLLECTOR, since=v("0.3.6")),
    Metric("sglang:generation_tokens_total", COUNTER, "tokens", "Generation tokens processed.", COLLECTOR,
           since=v("0.3.6")),
    Metric("sglang:cached_tokens_total", COUNTER, "tokens",
           "Prompt tokens found in the prefix cache (by cache_source device/host/storage from 0.5.9).",
           COLLECTOR, since=v("0.4.4")),
    Metric("sglang:num_requests_total", COUNTER, "requests",
           "Requests processed (finished); whether an aborted request is counted here too is UNCONFIRMED.",
           f"{COLLECTOR}; engines.md 1.3", since=v("0.4.2")),
    Metric("sglang:num_aborted_requests_total", COUNTER, "requests",
           "Aborted requests: client disconnects, /abort_request and pause-with-abort; not server errors.",
           f"{COLLECTOR}; defined without _total until 0.5.2, exposed with it throughout; incremented in "
           f"TokenizerManager.abort_request only (sgl-project/sglang managers/tokenizer_manager.py)",
           since=v("0.4.7")),
    Metric("sglang:http_responses_total", COUNTER, "responses",
           "HTTP responses by endpoint (route path), numeric status_code and method; no model label.",
           f"{HTTP}; add_prometheus_track_response_middleware", since=v("0.5.7")),
    Metric("sglang:num_running_reqs", GAUGE, "requests", "Requests in the running batch.", COLLECTOR,
           since=v("0.3.6")),
    Metric("sglang:num_queue_reqs", GAUGE, "requests", "Requests waiting in the scheduler queue.", COLLECTOR,
           since=v("0.3.6")),
    Metric("sglang:token_usage", GAUGE, "ratio", "KV-cache token pool usage, 1 = full.", COLLECTOR,
           since=v("0.3.6")),
    Metric("sglang:num_retracted_requests_total", COUNTER, "requests",
           "Requests retracted (SGLang's preemption: evicted from the running batch when the KV cache is full).",
           f"{COLLECTOR}; wheels: absent in 0.5.6, present from 0.5.7", since=v("0.5.7")),
    Metric("sglang:engine_load_weights_time", GAUGE, "seconds", "Seconds the engine took to load the weights.",
           f"{WHEELS}: metrics/collector.py @0.5.2; replaced by startup_time_seconds in 0.5.17",
           since=v("0.5.2"), until=v("0.5.17")),
    Metric("sglang:engine_startup_time", GAUGE, "seconds", "Seconds from engine start to ready to serve.",
           f"{WHEELS}: metrics/collector.py @0.5.2; replaced by startup_time_seconds in 0.5.17",
           since=v("0.5.2"), until=v("0.5.17")),
    Metric("sglang:startup_time_seconds", GAUGE, "seconds",
           "Start-up seconds by phase: load_weight, kv_cache_allocation, scheduler_e2e, tokenizer_e2e.",
           f"{COLLECTOR}; emit_startup_time() @0.5.23; wheels: absent in 0.5.16, present from 0.5.17",
           since=v("0.5.17")),
)

# Requests to the inference endpoints (native /generate and the OpenAI-compatible ones): not /health,
# /metrics or /v1/models, which probes and gateways poll and which would dilute the error ratio.
_INFERENCE_ENDPOINTS = ("endpoint", "=~", "/generate|/v1/(chat/completions|completions|embeddings|responses)")
_SERVER_ERRORS = ("status_code", "=~", "5..")
HTTP_METRICS = v("0.5.7")

ENGINE = Engine(
    name="sglang",
    title="SGLang",
    model_label="model_name",
    oldest=v("0.4.7"),
    metrics=METRICS,
    signals={
        "ttft": Histogram(("sglang:time_to_first_token_seconds",)),
        "itl": Histogram(("sglang:inter_token_latency_seconds",)),
        "tpot": Histogram(("sglang:request_time_per_output_token_seconds",)),
        "e2e": Histogram(("sglang:e2e_request_latency_seconds",)),
        "queue_time": Histogram(("sglang:queue_time_seconds", "sglang:queue_time_s")),
        # Before 0.5.7 the only failure count is the aborted requests, which num_requests_total may not
        # include: requests are both there, as Triton's are success plus failure.
        "requests": Counters((Part("sglang:num_requests_total"),
                              Part("sglang:num_aborted_requests_total", optional=True, until=HTTP_METRICS))),
        # From 0.5.7: HTTP 5xx of the inference endpoints, what clients see. Before, no server error is
        # counted anywhere; the aborted requests (client disconnects, operator aborts) are the only failure
        # count those versions have, so the error SLI there measures requests given up, not server errors.
        # A stream that fails after its 200 was sent shows in neither.
        "errors": Counters((Part("sglang:http_responses_total", (_INFERENCE_ENDPOINTS, _SERVER_ERRORS),
                                 scope=WORKLOAD, optional=True, since=HTTP_METRICS),
                            Part("sglang:num_aborted_requests_total", optional=True, until=HTTP_METRICS))),
        "error_base": Counters((Part("sglang:http_responses_total", (_INFERENCE_ENDPOINTS,), scope=WORKLOAD,
                                     since=HTTP_METRICS),)),
        "prompt_tokens": Counters((Part("sglang:prompt_tokens_total"),)),
        "generation_tokens": Counters((Part("sglang:generation_tokens_total"),)),
        "prefix_cache_queries": Counters((Part("sglang:prompt_tokens_total"),)),
        "prefix_cache_hits": Counters((Part("sglang:cached_tokens_total"),)),
        "preemptions": Counters((Part("sglang:num_retracted_requests_total"),)),
        "running": Gauge((Part("sglang:num_running_reqs"),), "sum"),
        "waiting": Gauge((Part("sglang:num_queue_reqs"),), "sum"),
        "kv_cache": Gauge((Part("sglang:token_usage"),), "max"),
        "model_load": Gauge((Part("sglang:startup_time_seconds", (STARTUP_PHASE,)),
                             Part("sglang:engine_load_weights_time")), "max"),
    },
    cannot_show={
        "tpot": "SGLang measures the per-request time per output token from 0.5.22 "
                "(sglang:request_time_per_output_token_seconds). Its older time_per_output_token_seconds "
                "(0.3.6-0.4.4) mixed per-chunk running means with per-request means and is not used.",
        "preemptions": "SGLang counts retracted requests (its preemptions) from 0.5.7 "
                       "(sglang:num_retracted_requests_total); earlier versions export only a gauge of the "
                       "last batch's retractions, which a scrape can miss.",
        "queue_time": "SGLang measures queue time from 0.5.2 (sglang:queue_time_s, renamed "
                      "sglang:queue_time_seconds in 0.5.3).",
        "model_load": "SGLang exports weight-loading time from 0.5.2 (sglang:engine_load_weights_time; "
                      "sglang:startup_time_seconds{phase} from 0.5.17); cold start is measured from "
                      "kube-state-metrics (pod created to pod ready).",
        "finish_reasons": "SGLang has no finish-reason breakdown: it counts finished and aborted requests only.",
        "prefill_time": "SGLang's per-stage latency histogram (0.5.3+) is not charted yet.",
        "prompt_length": "SGLang's token-length histograms need --collect-tokens-histogram and are not charted.",
    },
    runbook_notes={
        "LLMErrorBudgetBurn": "from 0.5.7 the failures are HTTP 5xx of the inference routes in "
                              "`sglang:http_responses_total` (per pod: it has no model label). Before 0.5.7 they "
                              "are `sglang:num_aborted_requests_total`: client disconnects and operator aborts, not "
                              "server errors. A burn there usually means clients give up (timeouts shorter than "
                              "the latency): check TTFT and the client timeout before the engine logs.",
        "LLMPreemptionsHigh": "preemption is *retraction*: when the KV cache cannot hold the running batch's next "
                              "tokens, SGLang retracts requests back to the queue "
                              "(`sglang:num_retracted_requests_total`, 0.5.7+). Lower `--max-running-requests`, "
                              "raise `--schedule-conservativeness`, or give the KV cache more memory "
                              "(`--mem-fraction-static`).",
        "LLMKVCacheNearFull": "the gauge is `sglang:token_usage`, the used share of the KV token pool of the TP-0 "
                              "scheduler.",
        "LLMTelemetryMissing": "SGLang exports no metrics unless started with `--enable-metrics`: an engine target "
                               "that is up with no `sglang:` series means the flag is missing. The HTTP status "
                               "counter appears from 0.5.7, the retraction counter from 0.5.7.",
    },
    container="sglang",
    # lmsysorg/sglang:v0.5.23 (also -cu129 style suffixes, .postN releases or an @sha256 digest)
    image_pattern=".+:v?{version}(?:[-@+].*)?",
    official_image="lmsysorg/sglang:v{version}",
    metrics_port=30000,
    matcher_examples={_INFERENCE_ENDPOINTS[2]: "/v1/chat/completions", _SERVER_ERRORS[2]: "500"},
    complements={"status_code": "200"},
    polled_request={"endpoint": "/health", "status_code": "200", "method": "GET"},
    requirements=(
        "Start SGLang with --enable-metrics: it exports no metrics without it (/metrics on the server "
        "port, 30000 by default).",
        "Leave --enable-metrics-for-all-schedulers off, or every tensor-parallel rank reports the same "
        "scheduler gauges and the summed running and waiting counts multiply.",
    ),
)

