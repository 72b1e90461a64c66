"""Which scenario runs on which model of the example inventory, and when.

Scenarios that do not interfere run at the same time on different models (and
several on one model), so the suite needs four rounds instead of one per
scenario. What decides the order:

- Round 1 comes first because the latency burn alerts (and the rate alerts: 5m windows)
  must fire while Prometheus's history is short (their 1h window holds every sample
  since start), and it lasts
  as long as a hung engine takes to be noticed (`rate(...[2m])` reaching 0, about
  two minutes). Meanwhile kube-state-metrics and every dcgm-exporter of the prod-eu
  site are down, so no alert that reads them may fire for any of its five models,
  and the staging model scales to zero, which must raise nothing.
- Round 2: the collectors are back; pod, container, GPU and version faults.
- Round 3 takes replicas down (crash loops, a model down): LLMModelDown must
  inhibit the model's other alerts in Alertmanager. Round 4 brings them back.

Engine-specific alerts (TTFT, errors, KV cache, hangs) are proven on a vLLM model
and on a Triton model. The per-request TPOT SLO (vLLM >= 0.11 only) is proven on
llama-3-1-8b (0.11.2, the first minor release that measures it), alongside its other
latency faults. Each other engine's alerts are proven on its model:
- SGLang on qwen3-32b-sglang (0.5.23): latency, TPOT (from 0.5.22), HTTP 5xx and KV cache
  in round 1, carried on; a hung engine on top in round 2, retractions (its preemptions) in round 3.
- TGI on gemma-2-9b-tgi, which measures no TTFT, ITL, TPOT or KV cache: the end-to-end SLO
  and the queue in round 1, carried on; a hung engine on top in round 2 (nothing completes),
  errors in round 3. Not in round 1: TGI records request durations for successful
  requests only, so failing 30% of them would slow the end-to-end burn past a loaded
  machine's round timeout.
- Dynamo on qwen3-32b-dynamo (the frontend; no KV cache): TTFT, ITL, end-to-end and error
  burns in round 1, queue backlog, GPU saturation and version drift in round 2, a hang on top
  in round 3 that resolves in round 4. Not busy-but-healthy: the frontend's waiting count
  includes requests in prefill, so the GPU-saturation alert reads utilisation alone there.
- trtllm-serve on llama-3-1-8b-fp8-trtllm: its latency, error and KV faults in round 1, carried
  on; a hung engine on top in round 2, its recovery and a queue backlog in round 3.
- OpenTelemetry GenAI on support-assistant-otel (pushed, its pods in `k8s_namespace_name` /
  `k8s_pod_name`): the TTFT, TPOT, end-to-end and error burns; it has no engine gauges, so no
  hung-engine, KV-cache or queue alert exists for it.
A scenario carried on into later rounds was proven where it started.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator import inventory as inventory_mod
from generator.simulate.fleet import Fleet
from generator.simulate.scenarios import SCENARIOS, drift_version

ROOT = Path(__file__).resolve().parents[2]
FLEET = Fleet(inventory_mod.load(ROOT / "inventory.yaml"))
PROD = "prod-eu"  # the site of every model but the staging one

# Round-1 faults carried on into later rounds, so that their alerts, which outlast the fault by their windows,
# stay explained there (a burn's 5m window still holds round 1's errors two rounds later).
SGLANG_ROUND_1 = ("ttft-spike", "slow-decode", "error-burst", "kv-cache-saturation")
TGI_ROUND_1 = ("e2e-spike", "queue-backlog")
TRTLLM_ROUND_1 = ("ttft-spike", "slow-decode", "error-burst", "kv-cache-saturation")
DYNAMO_ROUND_2 = ("ttft-spike", "itl-spike", "e2e-spike", "error-burst", "queue-backlog", "gpu-saturation",
                  "version-drift")

ROUNDS: dict[int, dict[str, tuple[str, ...]]] = {
    1: {
        "llama-3-1-8b": ("ttft-spike", "slow-decode", "e2e-spike", "kv-cache-saturation", "kube-state-metrics-down",
                         "dcgm-down"),
        "qwen2-5-72b": ("itl-spike", "error-burst", "preemption-storm"),
        "llama-3-1-70b-trt": ("ttft-spike", "error-burst", "kv-cache-saturation"),
        "mistral-7b-legacy": ("hung-engine",),
        "llama-3-1-70b-trt-eval": ("hung-engine",),
        "deepseek-r1-distill-7b": ("scale-to-zero",),
        "qwen3-32b-sglang": SGLANG_ROUND_1,
        "gemma-2-9b-tgi": TGI_ROUND_1,
        "qwen3-32b-dynamo": ("ttft-spike", "itl-spike", "e2e-spike", "error-burst"),
        "llama-3-1-8b-fp8-trtllm": TRTLLM_ROUND_1,
        "support-assistant-otel": ("ttft-spike", "slow-decode", "e2e-spike", "error-burst"),
    },
    2: {
        "llama-3-1-8b": ("ttft-spike", "slow-decode", "e2e-spike", "kv-cache-saturation", "gpu-saturation",
                         "oom-killed"),
        "qwen2-5-72b": ("itl-spike", "error-burst", "preemption-storm", "gpu-memory-full", "scrape-failing"),
        "llama-3-1-70b-trt": ("ttft-spike", "error-burst", "kv-cache-saturation", "gpu-xid", "stuck-rollout"),
        "mistral-7b-legacy": ("version-drift",),
        "llama-3-1-70b-trt-eval": ("busy-but-healthy",),
        "deepseek-r1-distill-7b": ("queue-backlog", "slow-cold-start", "gpu-telemetry-lost"),
        "qwen3-32b-sglang": (*SGLANG_ROUND_1, "hung-engine"),
        "gemma-2-9b-tgi": (*TGI_ROUND_1, "hung-engine"),
        "qwen3-32b-dynamo": DYNAMO_ROUND_2,
        "llama-3-1-8b-fp8-trtllm": (*TRTLLM_ROUND_1, "hung-engine"),
    },
    3: {
        "mistral-7b-legacy": ("model-down",),
        "gemma-2-9b-tgi": (*TGI_ROUND_1, "error-burst"),  # the engine recovers from its hang, then fails 30%
        "qwen2-5-72b": ("itl-spike", "error-burst", "preemption-storm", "gpu-memory-full", "replica-down"),
        "llama-3-1-70b-trt": ("ttft-spike", "error-burst", "kv-cache-saturation", "gpu-xid", "stuck-rollout",
                              "crash-loop"),
        "qwen3-32b-sglang": (*SGLANG_ROUND_1, "preemption-storm"),
        "qwen3-32b-dynamo": (*DYNAMO_ROUND_2, "hung-engine"),
        "llama-3-1-8b-fp8-trtllm": (*TRTLLM_ROUND_1, "queue-backlog"),
    },
    4: {  # the crashed replicas come back; the surge pod stays stuck
        "mistral-7b-legacy": (),
        "qwen2-5-72b": ("itl-spike", "error-burst", "preemption-storm", "gpu-memory-full"),
        "llama-3-1-70b-trt": ("ttft-spike", "error-burst", "kv-cache-saturation", "gpu-xid", "stuck-rollout"),
        "qwen3-32b-dynamo": DYNAMO_ROUND_2,
    },
}

# Alerts that must resolve (and be delivered as resolved) in a round, because their failure ended.
RECOVERIES = {
    2: {("LLMEngineStalled", "mistral-7b-legacy"), ("LLMEngineStalled", "llama-3-1-70b-trt-eval"),
        ("LLMCollectorDown", PROD)},
    3: {("LLMEngineScrapeFailing", "qwen2-5-72b"), ("LLMEngineStalled", "qwen3-32b-sglang"),
        ("LLMEngineStalled", "llama-3-1-8b-fp8-trtllm")},
    4: {("LLMModelDown", "mistral-7b-legacy"), ("LLMReplicasBelowMin", "qwen2-5-72b"),
        ("LLMReplicasBelowMin", "llama-3-1-70b-trt"), ("LLMEngineStalled", "qwen3-32b-dynamo")},
}

# Side effects a round must show besides its runs' own alerts: (alert, scope) -> labels it must carry.
SIDE_EFFECTS = {
    2: {("LLMTelemetryMissing", "mistral-7b-legacy"): {"signal": "kv_cache"}},  # 0.11 renamed the KV gauge
}

# Alerts that must still fire at the end of a round although the round changed other things.
STILL_FIRING = {
    4: {("LLMPodNotReady", "llama-3-1-70b-trt")},  # the surge pod is still not Ready
}

# Alerts that fire in Prometheus during a round but that Alertmanager must not deliver: inhibited by
# LLMModelDown of the same model.
INHIBITED = {
    3: {("LLMPodNotReady", "mistral-7b-legacy"), ("LLMEngineCrashLooping", "mistral-7b-legacy")},
}

# Queries run at the end of a round, for tests to check a scenario's conditions really held.
PROBES = {
    1: ('llm:replicas_ready:sum{model="deepseek-r1-distill-7b"}', 'llm:targets_up:sum{model="deepseek-r1-distill-7b"}',
        'llm:requests_running:sum{model="deepseek-r1-distill-7b"}',
        'llm:replicas_ready:sum{model="llama-3-1-8b"}', 'llm:gpus:count{model="llama-3-1-8b"}'),
}

# Runs that cannot pass until a generator bug is fixed: (round, model, scenario) -> the bug.
KNOWN_BUGS: dict[tuple[int, str, str], str] = {}


@dataclass(frozen=True)
class Run:
    round: int
    model: str
    scenario: str

    @property
    def alert(self) -> str | None:
        return SCENARIOS[self.scenario].alert

    @property
    def scope(self) -> str:
        """Where its alert fires: the model, or for a collector scenario the model's site."""
        return site_of(self.model) if SCENARIOS[self.scenario].site else self.model

    @property
    def key(self) -> tuple[str, str]:
        return self.alert, self.scope

    @property
    def id(self) -> str:
        return f"round{self.round}-{self.model}-{self.scenario}"


def expected_labels(run: Run) -> dict[str, str]:
    """Labels the run's alert must carry besides the model's: the pod, GPU and node it names, ..."""
    model = FLEET.models[run.model]
    first = FLEET.replicas[run.model][0]
    pod = {"namespace": model.namespace, "pod": first.pod}
    if run.scenario == "version-drift":  # only then: an engine the catalog knows at one version has no drift
        return {"running_version": drift_version(model)}
    return {
        "gpu-xid": {**pod, "gpu": str(first.gpus[0].index), "node": first.gpus[0].node},
        "oom-killed": pod,
        "scrape-failing": pod,
        "crash-loop": {**pod, "reason": "CrashLoopBackOff"},
        "stuck-rollout": {"namespace": model.namespace, "pod": FLEET.surge_pods[run.model]},
        "gpu-telemetry-lost": {"signal": "gpus", "collector": "dcgm-exporter"},
        "kube-state-metrics-down": {"collector": "kube-state-metrics", "job": "kube-state-metrics"},
        "dcgm-down": {"collector": "dcgm-exporter", "job": "dcgm-exporter"},
        "hung-engine": {"severity": "critical", "namespace": model.namespace},
    }.get(run.scenario, {})


def site_of(model: str) -> str:
    return FLEET.site_of[model]


def scope_of(labels: dict) -> str | None:
    """An alert's scope: its model, else the site whose selector labels it carries."""
    if "model" in labels:
        return labels["model"]
    return next((site.name for site in FLEET.sites.values()
                 if site.labels and all(labels.get(k) == v for k, v in site.labels)), None)


def runs() -> list[Run]:
    """Each scenario where it starts: a scenario carried on into a later round was proven where it started."""
    result, seen = [], set()
    for number, models in ROUNDS.items():
        for model, scenarios in models.items():
            for scenario in scenarios:
                if (model, scenario) not in seen:
                    seen.add((model, scenario))
                    result.append(Run(number, model, scenario))
    return result


def alerting_runs() -> list[Run]:
    return [r for r in runs() if r.alert]


def silent_runs() -> list[Run]:
    """Runs of the scenarios that exist to fire nothing (busy but healthy, scaled to zero)."""
    return [r for r in runs() if not r.alert]


def scenarios_in(number: int) -> dict[str, tuple[str, ...]]:
    """Every model's scenarios during a round (a round changes only the models it names)."""
    state: dict[str, tuple[str, ...]] = {}
    for n in sorted(ROUNDS):
        if n > number:
            break
        state.update(ROUNDS[n])
    return state


def allowed(number: int) -> dict[str, set[str]]:
    """scope (model or site) -> the alerts its scenarios in that round fire, intended or declared side effects."""
    result: dict[str, set[str]] = {}
    for model, scenarios in scenarios_in(number).items():
        for name in scenarios:
            scenario = SCENARIOS[name]
            scope = site_of(model) if scenario.site else model
            if scenario.alert:
                result.setdefault(scope, set()).add(scenario.alert)
            result.setdefault(model, set()).update(scenario.also)
    return result


def specs(number: int) -> list[str]:
    """The POST /scenarios body of a round: every named model's full set (`healthy:M` for none)."""
    body = []
    for model, scenarios in ROUNDS[number].items():
        body += [f"{s}:{model}" for s in scenarios] or [f"healthy:{model}"]
    return body
