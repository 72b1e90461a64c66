"""The one metric catalog: engines and exporters behind one registry each.

A new engine is one module with an `ENGINE` and one line here.
"""
from generator.catalog import dcgm, kube_state_metrics, prometheus, triton_trtllm, vllm
from generator.catalog.base import Engine, Exporter

ENGINES: dict[str, Engine] = {e.name: e for e in (vllm.ENGINE, triton_trtllm.ENGINE)}
EXPORTERS: dict[str, Exporter] = {
    e.name: e for e in (dcgm.EXPORTER, kube_state_metrics.EXPORTER, prometheus.EXPORTER)
}

# Every normalised signal an engine may map; anything else in an engine's map is a typo.
SIGNALS = (
    "ttft", "itl", "e2e", "e2e_mean", "queue_time", "requests", "errors", "error_base",
    "prompt_tokens", "generation_tokens", "preemptions", "running", "waiting", "kv_cache", "model_load", "batch_occupancy",
    # The "why" signals: request phases, length distributions, finish reasons, prefix cache.
    "prefill_time", "decode_time", "queue_time_mean", "compute_time_mean", "prompt_length", "generation_length",
    "finish_reasons", "prefix_cache_queries", "prefix_cache_hits",
)
