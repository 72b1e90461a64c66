"""Failure scenarios: each plays one failure on a model, the way the real fleet would show it.

Every scenario names the alert it exists to fire, and the alerts the same real
failure also raises (`also`): a backlog of requests also delays the first
token; an inter-token latency spike also makes requests take longer end to end;
a crash-looping engine container also leaves its pod not Ready. Two scenarios
exist to fire nothing: `busy-but-healthy` and `scale-to-zero`; `bad-replica` exists for the
per-replica drill-down (one replica out of several is slow, failing and full). A scenario can
refuse a model it cannot apply to (`unfit`): preemptions on an engine that
exports none, a lost replica on a model that runs only one.

Collector scenarios (`kube-state-metrics-down`, `dcgm-down`) act on the site of
the model they are applied to: that site's collector stops answering, and its
alert, `LLMCollectorDown`, carries the site's labels rather than a model's
(`site=True`).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from generator.capabilities import Capabilities
from generator.catalog import ENGINES
from generator.errors import GeneratorError
from generator.inventory import Model
from generator.simulate.workload import Latency, Load, e2e_for, replicas, slo_seconds, threshold

KUBE_STATE_METRICS, DCGM_EXPORTER = "kube-state-metrics", "dcgm-exporter"
WAITING_PER_REPLICA = 2  # requests waiting for capacity on each replica when a model runs out of it

HEALTHY = "healthy"


class ScenarioError(GeneratorError):
    """An unknown scenario or model, or a scenario that cannot apply to the model."""


@dataclass(frozen=True)
class Scenario:
    name: str
    alert: str | None  # the alert this scenario exists to fire
    description: str
    apply: Callable[[Load, Model], Load]
    also: tuple[str, ...] = ()  # alerts the same failure raises as well
    unfit: Callable[[Model], str | None] = lambda model: None  # why it cannot apply, or None
    site: bool = False  # acts on the model's site; its alert carries the site's labels, not the model's


def _spike(latency: Latency, slo: float) -> Latency:
    """Every observation at least twice the SLO threshold."""
    return Latency(2 * slo, 0.5 * slo, 0.4)


def _ttft_spike(load: Load, model: Model) -> Load:
    ttft = _spike(load.ttft, slo_seconds(model, "ttft"))
    return replace(load, ttft=ttft, e2e=load.e2e.shifted(ttft.mean() - load.ttft.mean()))


def _itl_spike(load: Load, model: Model) -> Load:
    itl = _spike(load.itl, slo_seconds(model, "itl"))
    return replace(load, itl=itl, e2e=e2e_for(load.ttft, itl, load.output_tokens))


def _slow_decode(load: Load, model: Model) -> Load:
    """Every decode step slows: token gaps, and so each request's mean time per output token, at least
    twice the looser of the ITL and TPOT thresholds."""
    slo = max(slo_seconds(model, s) for s in ("itl", "tpot") if model.slo.latency(s) is not None)
    itl = _spike(load.itl, slo)
    return replace(load, itl=itl, e2e=e2e_for(load.ttft, itl, load.output_tokens))


def _e2e_spike(load: Load, model: Model) -> Load:
    """Clients ask for much longer outputs: requests take more than twice the end-to-end SLO."""
    slo = slo_seconds(model, "e2e")
    tokens = math.ceil((2.4 * slo - load.ttft.mean()) / load.itl.mean()) + 1
    return replace(load, output_tokens=float(tokens), e2e=Latency(2 * slo, 0.4 * slo, 0.35))


def _error_burst(load: Load, model: Model) -> Load:
    return replace(load, error_ratio=0.3)


def _waiting_for_capacity(load: Load, model: Model) -> Load:
    """A few requests wait for a batch slot on every replica (far under the queue threshold), and
    TensorRT-LLM's batch manager runs at its maximum of active requests."""
    return replace(load, waiting=max(load.waiting, float(WAITING_PER_REPLICA * replicas(model))), batch_full=True)


def _kv_cache_saturation(load: Load, model: Model) -> Load:
    limit = threshold(model, "kv_cache_usage")
    return _waiting_for_capacity(replace(
        load, kv_cache=min(0.995, limit + (1 - limit) * 0.6),
        preemption_rate=max(load.preemption_rate, 0.2 * threshold(model, "preemptions_per_second"))), model)


def _busy_but_healthy(load: Load, model: Model) -> Load:
    """Busy and healthy: GPUs at 99%, the KV cache at 95% (or above its threshold), 1.5x the traffic, and
    yet nothing waits, nothing is preempted and latency stays within the SLOs."""
    limit = threshold(model, "kv_cache_usage")
    return replace(load, request_rate=1.5 * load.request_rate, gpu_utilization=99.0, gpu_power=0.95,
                   kv_cache=min(0.99, max(0.95, limit + (1 - limit) / 2)), preemption_rate=0.0, waiting=0.0)


def _scale_to_zero(load: Load, model: Model) -> Load:
    return replace(load, scaled_to_zero=True, request_rate=0.0, waiting=0.0, preemption_rate=0.0)


def _hung_engine(load: Load, model: Model) -> Load:
    """The engines hang with work in flight: nothing completes, no token is generated, a few requests wait."""
    return replace(load, stalled=True, preemption_rate=0.0,
                   waiting=max(load.waiting, float(WAITING_PER_REPLICA * replicas(model))))


def _collector_down(name: str):
    def apply(load: Load, model: Model) -> Load:
        return replace(load, collectors_down=load.collectors_down | {name})
    return apply


def drift_version(model: Model) -> str:
    """The version a drifted deployment runs: the newest at which the catalog changes, or the one before when
    the inventory already says that one. An inventory on vLLM 0.8.5 then loses the KV-cache gauge, which 0.11
    renamed (gpu_cache_usage_perc -> kv_cache_usage_perc)."""
    others = [b for b in ENGINES[model.engine].boundaries() if b != model.engine_version]
    return str(others[-1])


def _another_version_known(model: Model) -> str | None:
    if any(b != model.engine_version for b in ENGINES[model.engine].boundaries()):
        return None
    return f"the catalog knows no {model.engine} version but {model.engine_version} to drift to"


def _version_drift(load: Load, model: Model) -> Load:
    return replace(load, engine_version=drift_version(model))


def _stuck_rollout(load: Load, model: Model) -> Load:
    return replace(load, surge=True)


def _oom_killed(load: Load, model: Model) -> Load:
    return replace(load, oom_killed=load.oom_killed | {0})


def _scrape_failing(load: Load, model: Model) -> Load:
    return replace(load, scrape_failing=load.scrape_failing | {0})


def _crash_loop(load: Load, model: Model) -> Load:
    return replace(load, crashed=load.crashed | {0})


def _gpu_telemetry_lost(load: Load, model: Model) -> Load:
    return replace(load, gpu_pod_labels=False)


def _preemption_storm(load: Load, model: Model) -> Load:
    limit = threshold(model, "preemptions_per_second")
    return replace(load, preemption_rate=8 * limit,
                   kv_cache=min(load.kv_cache + 0.2, threshold(model, "kv_cache_usage") - 0.03))


def _queue_backlog(load: Load, model: Model) -> Load:
    """More requests wait on each replica than the per-replica threshold allows; each waits longer for its
    first token (Little's law)."""
    waiting = math.ceil(1.6 * threshold(model, "queue_depth")) * replicas(model)
    wait = waiting / load.request_rate
    queue = Latency(0.8 * wait, 0.2 * wait, 0.3)
    return replace(load, waiting=float(waiting), queue=queue,
                   ttft=load.ttft.shifted(queue.mean() - load.queue.mean()),
                   e2e=load.e2e.shifted(queue.mean() - load.queue.mean()))


def _gpu_saturation(load: Load, model: Model) -> Load:
    return _waiting_for_capacity(replace(load, gpu_utilization=99.2, gpu_power=0.97), model)


def _gpu_memory_full(load: Load, model: Model) -> Load:
    limit = threshold(model, "gpu_memory_usage")
    return replace(load, hot_gpu_memory=min(0.995, limit + (1 - limit) * 0.7))


def _gpu_xid(load: Load, model: Model) -> Load:
    return replace(load, xid=48)  # double-bit ECC error: the GPU needs a reset


def _slow_cold_start(load: Load, model: Model) -> Load:
    """The replacement pod was created 1.5x the budget minus 10 s ago and is still loading; ready in 10 s."""
    return replace(load, recreated=frozenset({0}), cold_start=1.5 * threshold(model, "cold_start_seconds"),
                   loading=10.0)


def _bad_replica(load: Load, model: Model) -> Load:
    return replace(load, bad_replica=replicas(model) - 1)


def _replica_down(load: Load, model: Model) -> Load:
    return replace(load, crashed=load.crashed | {replicas(model) - 1})


def _model_down(load: Load, model: Model) -> Load:
    return replace(load, crashed=frozenset(range(replicas(model))))


def _needs_signal(signal: str, what: str):
    def unfit(model: Model) -> str | None:
        if Capabilities(model).has(signal):
            return None
        return f"{model.name} runs {model.engine} {model.engine_version}, which exports no {what}"
    return unfit


def _needs_tpot_slo(model: Model) -> str | None:
    reason = _needs_signal("tpot", "per-request time per output token histogram")(model)
    if reason is None and model.slo.tpot is None:
        return f"{model.name} has no tpot SLO in the inventory"
    return reason


def _scales_to_zero(model: Model) -> str | None:
    if model.replicas_min == 0:
        return None
    return f"{model.name} has replicas.min {model.replicas_min}; only a model with replicas.min 0 scales to zero"


def _needs_replicas(count: int):
    def unfit(model: Model) -> str | None:
        if model.replicas_min >= count:
            return None
        return f"{model.name} runs {replicas(model)} replica(s) (replicas.min {model.replicas_min}); " \
               f"this scenario needs replicas.min >= {count}"
    return unfit


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario(HEALTHY, None, "Traffic within every SLO, every level under its threshold.", lambda load, m: load),
    Scenario("ttft-spike", "LLMTimeToFirstTokenSLOBurn",
             "Every first token takes at least twice the TTFT SLO threshold (prefill stalls).", _ttft_spike,
             unfit=_needs_signal("ttft", "time-to-first-token histogram")),
    Scenario("itl-spike", "LLMInterTokenLatencySLOBurn",
             "Every streamed token takes at least twice the ITL SLO threshold (oversized batches).", _itl_spike,
             also=("LLMEndToEndLatencySLOBurn", "LLMTimePerOutputTokenSLOBurn"),  # slow gaps, slow requests
             unfit=_needs_signal("itl", "inter-token latency histogram")),
    Scenario("slow-decode", "LLMTimePerOutputTokenSLOBurn",
             "Decoding slows for every request: its mean time per output token (and every token gap) at least "
             "twice the SLO threshold.", _slow_decode,
             also=("LLMInterTokenLatencySLOBurn", "LLMEndToEndLatencySLOBurn"), unfit=_needs_tpot_slo),
    Scenario("e2e-spike", "LLMEndToEndLatencySLOBurn",
             "Clients ask for very long outputs: requests take over twice the end-to-end SLO threshold.",
             _e2e_spike, unfit=_needs_signal("e2e", "end-to-end latency histogram")),
    Scenario("error-burst", "LLMErrorBudgetBurn", "30% of requests fail server-side (HTTP 5xx, Triton failures).",
             _error_burst),
    Scenario("busy-but-healthy", None,
             "GPUs at 99%, KV cache at 95% (above its threshold), 1.5x the traffic; no request waits, none is "
             "preempted, latency within the SLOs.", _busy_but_healthy),
    Scenario("scale-to-zero", None, "The model scaled to zero: no pod, no traffic.", _scale_to_zero,
             unfit=_scales_to_zero),
    Scenario("hung-engine", "LLMEngineStalled",
             "The engines hang (stuck CUDA stream, hung NCCL collective): requests stay running and waiting, "
             "none completes, no token is generated; pods stay Ready and /metrics answers.", _hung_engine),
    Scenario("kube-state-metrics-down", "LLMCollectorDown",
             "kube-state-metrics of the model's site stops answering (503).", _collector_down(KUBE_STATE_METRICS),
             site=True),
    Scenario("dcgm-down", "LLMCollectorDown",
             "Every dcgm-exporter of the model's site stops answering (503).", _collector_down(DCGM_EXPORTER),
             site=True),
    Scenario("version-drift", "LLMEngineVersionDrift",
             "The pods run another engine version than the inventory's (the newest the catalog knows), with that "
             "version's metric names.", _version_drift,
             also=("LLMTelemetryMissing",),  # when the other version renamed a metric the model relies on
             unfit=_another_version_known),
    Scenario("stuck-rollout", "LLMPodNotReady",
             "A rollout's surge pod never becomes Ready (no engine target) while the old pods keep serving.",
             _stuck_rollout,
             also=("LLMColdStartSlow",)),  # once the pod is older than the cold-start budget
    Scenario("oom-killed", "LLMEngineOOMKilled",
             "The first replica's engine container is OOM-killed once and restarts (its counters from zero).",
             _oom_killed),
    Scenario("scrape-failing", "LLMEngineScrapeFailing",
             "The first replica's /metrics answers 503 while the pod stays Ready and serves.", _scrape_failing,
             unfit=_needs_replicas(2)),
    Scenario("crash-loop", "LLMEngineCrashLooping",
             "The first replica's engine container crashes on start, again and again (CrashLoopBackOff).",
             _crash_loop, also=("LLMPodNotReady", "LLMReplicasBelowMin", "LLMModelDown"),
             unfit=_needs_replicas(1)),
    Scenario("gpu-telemetry-lost", "LLMTelemetryMissing",
             "dcgm-exporter reports the model's GPUs without pod labels (restarted without Kubernetes mode, -k).",
             _gpu_telemetry_lost),
    Scenario("kv-cache-saturation", "LLMKVCacheNearFull",
             "The KV cache sits above its threshold and requests wait for capacity (vLLM: waiting on every "
             "replica, and preemptions; TensorRT-LLM: the batch manager at its maximum).", _kv_cache_saturation),
    Scenario("preemption-storm", "LLMPreemptionsHigh",
             "The scheduler preempts requests at eight times the threshold rate (KV cache just under its threshold).",
             _preemption_storm,
             unfit=_needs_signal("preemptions", "preemption counter")),
    Scenario("queue-backlog", "LLMQueueBackingUp",
             "1.6x the queue-depth threshold waits for a batch slot on each replica; first tokens come later.",
             _queue_backlog,
             also=("LLMTimeToFirstTokenSLOBurn",)),
    Scenario("gpu-saturation", "LLMGPUSaturated",
             "The model's GPUs run at 99% utilisation and requests wait for capacity (vLLM: waiting on every "
             "replica; TensorRT-LLM: the batch manager at its maximum).", _gpu_saturation),
    Scenario("gpu-memory-full", "LLMGPUMemoryNearFull",
             "Another process fills one GPU's framebuffer above the memory threshold.", _gpu_memory_full),
    Scenario("gpu-xid", "LLMGPUXidErrors", "One GPU reports XID 48 (double-bit ECC error).", _gpu_xid),
    Scenario("slow-cold-start", "LLMColdStartSlow",
             "The first replica's pod was replaced: the new pod, created almost 1.5x the cold-start budget ago, "
             "is still loading and becomes ready 10 s later.", _slow_cold_start,
             also=("LLMModelDown", "LLMReplicasBelowMin", "LLMPodNotReady")),
    Scenario("bad-replica", None,
             "The last replica alone goes bad: first tokens at twice the TTFT SLO threshold, 30% of its requests "
             "failing, its KV cache near full with requests waiting, its GPUs at 99%; the others stay healthy. "
             "Model-wide numbers move by a share of that; the per-replica table shows the one red row.",
             _bad_replica, unfit=_needs_replicas(2)),
    Scenario("replica-down", "LLMReplicasBelowMin",
             "The last replica's engine crashes and restarts in a loop: not ready, not scraped.", _replica_down,
             also=("LLMEngineCrashLooping", "LLMPodNotReady"), unfit=_needs_replicas(2)),
    Scenario("model-down", "LLMModelDown",
             "Every replica's engine crashes and restarts in a loop: nothing ready, nothing scraped.", _model_down,
             also=("LLMReplicasBelowMin", "LLMEngineCrashLooping", "LLMPodNotReady"), unfit=_needs_replicas(1)),
)}


def scenario(name: str) -> Scenario:
    if name not in SCENARIOS:
        raise ScenarioError(f"unknown scenario {name!r} (expected one of: {', '.join(SCENARIOS)})")
    return SCENARIOS[name]


def load_for(model: Model, names, base: Load) -> Load:
    """The model's load under a set of scenarios, applied in registry order."""
    load = base
    for name in SCENARIOS:
        if name in names:
            load = SCENARIOS[name].apply(load, model)
    return load


def assignments(specs: list[str], models: dict[str, Model]) -> dict[str, frozenset[str]]:
    """`NAME` or `NAME:MODEL` specs -> scenarios per model; NAME alone goes to every model it fits.

    `healthy` (or `healthy:MODEL`) clears the scenarios of those models.
    """
    result: dict[str, set[str]] = {name: set() for name in models}
    for spec in specs:
        name, _, target = spec.strip().partition(":")
        chosen = scenario(name)
        if target:
            if target not in models:
                raise ScenarioError(f"scenario {spec!r}: unknown model {target!r} "
                                    f"(expected one of: {', '.join(models)})")
            reason = chosen.unfit(models[target])
            if reason:
                raise ScenarioError(f"scenario {name} cannot apply to {target}: {reason}")
            targets = [target]
        else:
            targets = [m for m, model in models.items() if not chosen.unfit(model)]
        for target in targets:
            if name == HEALTHY:
                result[target].clear()
            else:
                result[target].add(name)
    return {name: frozenset(s) for name, s in result.items()}
