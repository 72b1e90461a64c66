"""One Triton + TensorRT-LLM replica's /metrics (port 8002), as prometheus-cpp writes it.

The model repository is the TensorRT-LLM backend's layout: the ensemble clients
call (the inventory's `served_name`), `preprocessing`, the TensorRT-LLM model
(`backend_model`) and `postprocessing`. What Triton does with them:

- Core metrics per model, labelled `model` and `version` (sorted, as prometheus-cpp keeps labels in a
  map); counters without `_total`; latencies as cumulative microsecond counters of successful requests.
- `nv_inference_request_failure` gets a series on the first failure, with `reason` from 24.08
  (core PR #377, July 2024; the first release is UNCONFIRMED).
- No `nv_inference_pending_request_count`: the catalog leaves it out, since Triton keeps it at 0 for
  the ensemble (pending requests are counted at composing models) and for the decoupled TensorRT-LLM
  model, which hands every request to its own batch manager (server issue #6494). A backlog shows in
  TTFT and in the batch manager's active requests.
- The first-response histogram (ms, catalog buckets) exists for decoupled models only: the ensemble
  and the TensorRT-LLM model (server qa/L0_metrics/histogram_metrics_test.py).
- `nv_trt_llm_*` gauges belong to the TensorRT-LLM model: request_type active/max/scheduled/context,
  kv_cache_block_type max/free/used/tokens_per (tensorrtllm_backend custom_metrics_reporter.cc, 2024).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from functools import cache, partial

from generator.catalog import ENGINES
from generator.catalog.base import COUNTER, GAUGE, HISTOGRAM
from generator.simulate.exposition import CPP, Exposition
from generator.simulate.fleet import Replica
from generator.simulate.gauges import replica_gauge
from generator.simulate.histograms import bucket_bounds, counter, histogram, histogram_scale, lognormal
from generator.simulate.roles import engine_roles, kind
from generator.simulate.timeline import ModelTimeline
from generator.simulate.workload import MAX_NUM_SEQS, Latency, Load
from generator.versions import v

ENGINE = ENGINES["triton-trtllm"]
FAILURE_REASON_SINCE = v("24.08")
PREPROCESSING, POSTPROCESSING = "preprocessing", "postprocessing"
TOKEN_BUCKETS = (Decimal(10), Decimal(50), Decimal(100), Decimal(500), Decimal(1000))  # metrics-catalog.md 4.2
KV_BLOCKS = 12000  # KV-cache blocks of the TensorRT-LLM model
TOKENS_PER_BLOCK = 64
PIPELINE_SECONDS = 0.002  # pre- plus postprocessing time of one request


@cache
def roles() -> dict[str, str]:
    """Catalog metric -> what it carries; the queue- and compute-time counters feed only custom signals."""
    return engine_roles(
        ENGINE, ("ttft", "errors", "requests", "e2e_mean", "prompt_tokens", "generation_tokens", "running",
                 "waiting", "kv_cache", "model_load"),
        extra=[("queue_duration", kind(COUNTER, "microseconds", "queue")),
               ("compute_duration", kind(COUNTER, "microseconds", "executing"))])


def _labels(model: str, **extra: str) -> list[tuple[str, str]]:
    """prometheus-cpp keeps labels in a std::map: sorted by name."""
    return sorted([("model", model), ("version", "1"), *extra.items()])


def render(replica: Replica, timeline: ModelTimeline, t: float) -> str:
    model, now = replica.model, timeline.scrape(replica.index, t)
    version, served = now.version, now.served
    ensemble, backend = model.served_name, model.backend_model or model.served_name
    repository = [ensemble] if ensemble == backend else [ensemble, PREPROCESSING, backend, POSTPROCESSING]
    decoupled = [ensemble] if ensemble == backend else [ensemble, backend]
    scale = float(histogram_scale(ENGINE, "ttft"))
    out = Exposition(CPP)

    def failing(name: str) -> bool:
        return name in (ensemble, backend)

    for metric in ENGINE.metrics:
        if not metric.exposed_in(version):
            continue
        role = roles()[metric.name]
        kind_ = {COUNTER: "counter", GAUGE: "gauge", HISTOGRAM: "histogram"}[metric.type]
        if role == "errors":  # a family with no series yet is not written at all
            failures = counter(served, lambda load: load.error_ratio)
            if failures:
                out.family(metric.name, kind_, metric.help)
                extra = {"reason": "BACKEND"} if version >= FAILURE_REASON_SINCE else {}
                for name in repository:
                    if failing(name):
                        out.sample(metric.name, _labels(name, **extra), failures)
            continue
        out.family(metric.name, kind_, metric.help)
        if role == "requests":
            for name in repository:
                out.sample(metric.name, _labels(name), counter(served, _successes(name)))
        elif role == "e2e_mean":
            for name in repository:
                busy = partial(_busy, _successes(name), _duration(name, ensemble, backend), 1e6)
                out.sample(metric.name, _labels(name), counter(served, busy))
        elif role == "queue_duration":
            for name in repository:
                per_request = 150e-6 if name == ensemble else 50e-6
                out.sample(metric.name, _labels(name), counter(served, partial(_each, per_request * 1e6)))
        elif role == "compute_duration":  # all of a request's time but the queue's and the I/O copies'
            for name in repository:
                busy = partial(_busy, _successes(name), _duration(name, ensemble, backend), 0.97e6)
                out.sample(metric.name, _labels(name), counter(served, busy))
        elif role == "waiting":
            for name in repository:
                out.sample(metric.name, _labels(name), 0)
        elif role == "ttft":
            for name in decoupled:
                shift = 0.0 if name == ensemble else -PIPELINE_SECONDS / 2
                value = histogram(served, bucket_bounds(replica, ENGINE, role, metric, version), scale,
                                  partial(_shifted_ttft, shift))
                out.histogram(metric.name, _labels(name), replace(value, total=math.floor(value.total)))
        elif role in ("prompt_tokens", "generation_tokens"):
            prompt = role == "prompt_tokens"
            kind_label = "total_input_tokens" if prompt else "total_output_tokens"
            tokens = histogram(served, TOKEN_BUCKETS, 1.0, partial(_token_sizes, prompt))
            labels = _labels(backend, response_metric_type=kind_label)
            out.histogram(metric.name, labels, replace(tokens, total=math.floor(tokens.total)))
        elif role == "running":
            running = int(replica_gauge("running", now, model.name))
            queued = round(now.load.waiting / now.serving)
            active = MAX_NUM_SEQS if now.load.batch_full else min(MAX_NUM_SEQS, running + queued)
            for request_type, requests in (("active", active), ("max", MAX_NUM_SEQS),
                                           ("scheduled", min(running, active)),
                                           ("context", max(1, round(0.08 * running)))):
                out.sample(metric.name, _labels(backend, request_type=request_type), requests)
        elif role == "kv_cache":
            fraction = replica_gauge("kv_cache", now, model.name)
            used = round(fraction * KV_BLOCKS)
            for block_type, blocks in (("max", KV_BLOCKS), ("free", KV_BLOCKS - used), ("used", used),
                                       ("tokens_per", TOKENS_PER_BLOCK)):
                out.sample(metric.name, _labels(backend, kv_cache_block_type=block_type), blocks)
        elif role == "model_load":
            engine_load = 0.6 * timeline.startup(now.replica, t)
            for name in repository:
                seconds = engine_load if name == backend else (0.05 if name == ensemble else 3.2)
                out.sample(metric.name, _labels(name), round(seconds, 3))
        else:
            raise AssertionError(f"no behaviour for Triton role {role}")
    return out.text()


def _successes(name: str) -> Callable[[Load], float]:
    """The share of a repository model's requests that succeed: preprocessing never fails."""
    if name == PREPROCESSING:
        return lambda load: 1.0
    return lambda load: 1 - load.error_ratio


def _duration(name: str, ensemble: str, backend: str) -> Callable[[Load], float]:
    """Seconds one request spends in a repository model."""
    if name == ensemble:
        return lambda load: load.e2e.mean()
    if name == backend:
        return lambda load: max(load.e2e.mean() - PIPELINE_SECONDS, 0.0)
    return lambda load: PIPELINE_SECONDS / 2


def _busy(successes: Callable[[Load], float], seconds: Callable[[Load], float], unit: float, load: Load) -> float:
    """Time (in `unit`s of a second) spent per request on successful requests."""
    return successes(load) * seconds(load) * unit


def _each(amount: float, load: Load) -> float:
    return amount


def _shifted_ttft(shift: float, load: Load) -> Latency:
    return load.ttft.shifted(shift)


def _token_sizes(prompt: bool, load: Load) -> Latency:
    return lognormal(load.prompt_tokens if prompt else load.output_tokens, 0.6)
