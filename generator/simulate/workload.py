"""What a model is doing: traffic, latency distributions, queue, KV cache and GPU levels.

`healthy(model)` is a fleet that meets its SLOs and stays under its thresholds;
scenarios (see `scenarios.py`) derive a failing `Load` from it. Levels are set
relative to the model's own SLO thresholds and alert thresholds, so the same
scenario breaches them on any inventory, not only on the example.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from generator.inventory import Model

MAX_NUM_SEQS = 256  # vLLM's default --max-num-seqs: running requests per replica stop there
OUTPUT_TOKENS = 220  # mean generated tokens per request
PROMPT_TOKENS = 900  # mean prompt tokens per request


@dataclass(frozen=True)
class Latency:
    """`floor` plus a log-normal part: no observation falls under the floor.

    A spike moves the floor above the SLO threshold, so every request misses it
    (as when a backend stalls), not only the slow tail.
    """

    floor: float
    median: float  # of the log-normal part
    sigma: float = 0.5

    def cdf(self, x: float) -> float:
        if x <= self.floor:
            return 0.0
        z = (math.log(x - self.floor) - math.log(self.median)) / self.sigma
        return 0.5 * (1 + math.erf(z / math.sqrt(2)))

    def mean(self) -> float:
        return self.floor + self.median * math.exp(self.sigma ** 2 / 2)

    def shifted(self, seconds: float) -> Latency:
        return replace(self, floor=self.floor + seconds)


@dataclass(frozen=True)
class Load:
    request_rate: float  # requests/s for the whole model
    ttft: Latency
    itl: Latency  # between streamed tokens
    e2e: Latency
    queue: Latency  # time waiting for a batch slot (part of TTFT)
    prompt_tokens: float  # per request
    output_tokens: float  # per request
    error_ratio: float  # requests failing server-side (HTTP 5xx, Triton failures)
    client_error_ratio: float  # HTTP 4xx (validation)
    waiting: float  # queued requests, whole model
    kv_cache: float  # fraction of KV blocks in use on the fullest replica
    preemption_rate: float  # per second, whole model
    gpu_utilization: float  # percent, 0-100
    gpu_memory: float  # fraction of framebuffer in use
    gpu_power: float  # fraction of the board's power limit
    # Events on single GPUs or pods.
    hot_gpu_memory: float | None = None  # one GPU of the first replica at this memory fraction
    xid: int = 0  # last XID error on one GPU of the first replica
    crashed: frozenset[int] = field(default_factory=frozenset)  # replicas whose engine crashed
    recreated: frozenset[int] = field(default_factory=frozenset)  # replicas replaced by a new pod
    cold_start: float = 0.0  # seconds the replaced pods take from creation to ready
    loading: float = 0.0  # of which still ahead when the scenario starts (not ready, not scraped meanwhile)
    oom_killed: frozenset[int] = field(default_factory=frozenset)  # replicas whose engine was OOM-killed (once)
    scrape_failing: frozenset[int] = field(default_factory=frozenset)  # replicas whose /metrics answers 503
    stalled: bool = False  # the engines hang: nothing completes, no token is generated, work stays in flight
    batch_full: bool = False  # TensorRT-LLM's batch manager at its maximum of active requests
    engine_version: str | None = None  # the version the pods run, if not the inventory's
    surge: bool = False  # a rollout's extra pod exists and never becomes Ready
    scaled_to_zero: bool = False  # no pod runs
    collectors_down: frozenset[str] = field(default_factory=frozenset)  # the site's collectors not answering
    gpu_pod_labels: bool = True  # False: dcgm-exporter reports this model's GPUs without pod labels (no -k)
    bad_replica: int | None = None  # this replica is slow, failing and full while its peers stay healthy

    @property
    def tpot(self) -> Latency:
        """Each request's mean time per output token (vLLM >= 0.11): the mean of its token gaps, so centred
        on the gaps' mean and far narrower than they are; slow decoding moves both."""
        return Latency(self.itl.floor, self.itl.mean() - self.itl.floor, 0.15)

    def running(self, replicas_serving: int) -> float:
        """Requests in the batch of each serving replica (Little's law, capped at the batch size)."""
        if replicas_serving == 0:
            return 0.0
        return min(MAX_NUM_SEQS, self.request_rate / replicas_serving * self.e2e.mean())


def for_replica(load: Load, replica: int, model: Model) -> Load:
    """The load one replica sees: the model's, except on a bad replica (`bad_replica`), whose first tokens
    take twice the TTFT SLO threshold, whose requests fail 30% of the time, whose KV cache sits near full
    with requests waiting, and whose GPUs run flat out, while its peers serve the same traffic healthily."""
    if load.bad_replica != replica:
        return load
    slo = slo_seconds(model, "ttft")
    ttft = Latency(2 * slo, 0.5 * slo, 0.4)
    limit = threshold(model, "kv_cache_usage")
    # The engines' KV gauges step each replica 0.02 under the model's level: the bad one sits above the limit.
    kv_cache = min(1.0, limit + (1 - limit) * 0.5 + 0.02 * replica)
    return replace(load, ttft=ttft, e2e=load.e2e.shifted(ttft.mean() - load.ttft.mean()), error_ratio=0.3,
                   kv_cache=kv_cache, waiting=load.waiting + 4 * replicas(model),
                   gpu_utilization=99.0, bad_replica=None)


def threshold(model: Model, name: str) -> float:
    return float(model.thresholds[name])


def slo_seconds(model: Model, signal: str) -> float:
    slo = model.slo.latency(signal)
    if slo is None:
        raise ValueError(f"{model.name} has no {signal} SLO")
    return float(slo.threshold_seconds)


def decode_slo_seconds(model: Model) -> float:
    """The tighter of the decode SLOs the model sets: inter-token latency, and time per output token if set."""
    return min(slo_seconds(model, s) for s in ("itl", "tpot") if model.slo.latency(s) is not None)


def replicas(model: Model) -> int:
    """Replicas the simulator runs: the inventory's minimum, at least one."""
    return max(1, model.replicas_min)


def request_rate(model: Model) -> float:
    """About 10 requests/s per single-GPU replica, fewer for larger (multi-GPU) models."""
    return round(replicas(model) * 10 / model.gpus_per_replica ** 0.35, 2)


def e2e_for(ttft: Latency, itl: Latency, output_tokens: float) -> Latency:
    steps = max(output_tokens - 1, 0)
    return Latency(ttft.floor + itl.floor * steps, ttft.median + itl.median * steps, 0.35)


def healthy(model: Model) -> Load:
    ttft_slo, e2e_slo = (slo_seconds(model, s) for s in ("ttft", "e2e"))
    itl_slo = decode_slo_seconds(model)
    queue = Latency(0.0, min(0.02, 0.05 * ttft_slo), 0.6)
    ttft = Latency(0.05 * ttft_slo, 0.22 * ttft_slo).shifted(queue.mean())
    itl = Latency(0.05 * itl_slo, 0.25 * itl_slo)
    # Outputs short enough that a request finishes well within the end-to-end SLO.
    output_tokens = max(16.0, min(OUTPUT_TOKENS, 0.3 * e2e_slo / itl.mean()))
    rate = request_rate(model)
    budget = 1 - float(model.slo.availability)
    return Load(
        request_rate=rate, ttft=ttft, itl=itl, e2e=e2e_for(ttft, itl, output_tokens), queue=queue,
        prompt_tokens=PROMPT_TOKENS, output_tokens=output_tokens,
        error_ratio=0.2 * budget, client_error_ratio=0.01,
        waiting=rate * queue.mean(),
        kv_cache=min(0.6, threshold(model, "kv_cache_usage") - 0.25),
        preemption_rate=min(0.01, 0.05 * threshold(model, "preemptions_per_second")),
        gpu_utilization=min(72.0, 100 * threshold(model, "gpu_utilization") - 20),
        gpu_memory=min(0.906, threshold(model, "gpu_memory_usage") - 0.04),
        gpu_power=0.6,
    )
