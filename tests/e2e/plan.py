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

Engine-specific alerts (TTFT, errors, KV cache, hangs) are proven on a vLLM model,
on a Triton model and on the trtllm-serve model (round 1 its latency, error and KV faults, round 2 a
hung engine, round 3 its recovery and a queue backlog). The OpenTelemetry GenAI model (pushed, its pods in
`k8s_namespace_name`/`k8s_pod_name`) proves what its conventions can show: the TTFT, TPOT, end-to-end and
error burns; it has no engine gauges, so no hung-engine, KV-cache or queue alert exists for it. The per-request TPOT SLO (vLLM >= 0.11 only) is proven on
llama-3-1-8b (0.11.2, the first minor release that measures it), alongside its other
latency faults. A scenario carried on into later rounds was proven where it started.
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

ROUNDS: dict[int, dict[str, tuple[str, ...]]] = {
    1: {
        "llama-3-1-8b": ("ttft-spike", "slow-decode", "e2e-spike", "kv-cache-saturation", "kube-state-metrics-down",
                         "dcgm-down"),
        "qwen2-5-72b": ("itl-spike", "error-burst", "preemption-storm"),
        "llama-3-1-70b-trt": ("ttft-spike", "error-burst", "kv-cache-saturation"),
        "mistral-7b-legacy": ("hung-engine",),
        "llama-3-1-70b-trt-eval": ("hung-engine",),
        "deepseek-r1-distill-7b": ("scale-to-zero",),
        "llama-3-1-8b-fp8-trtllm": ("ttft-spike", "slow-decode", "error-burst", "kv-cache-saturation"),
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
        "llama-3-1-8b-fp8-trtllm": ("hung-engine",),
    },
    3: {
        "mistral-7b-legacy": ("model-down",),
        "qwen2-5-72b": ("itl-spike", "error-burst", "preemption-storm", "gpu-memory-full", "replica-down"),
        "llama-3-1-70b-trt": ("ttft-spike", "error-burst", "kv-cache-saturation", "gpu-xid", "stuck-rollout",
                              "crash-loop"),
        "llama-3-1-8b-fp8-trtllm": ("queue-backlog",),
    },
    4: {  # the crashed replicas come back; the surge pod stays stuck
        "mistral-7b-legacy": (),
        "qwen2-5-72b": ("itl-spike", "error-burst", "preemption-storm", "gpu-memory-full"),
        "llama-3-1-70b-trt": ("ttft-spike", "error-burst", "kv-cache-saturation", "gpu-xid", "stuck-rollout"),
    },
}

# Alerts that must resolve (and be delivered as resolved) in a round, because their failure ended.
RECOVERIES = {
    2: {("LLMEngineStalled", "mistral-7b-legacy"), ("LLMEngineStalled", "llama-3-1-70b-trt-eval"),
        ("LLMCollectorDown", PROD)},
    3: {("LLMEngineScrapeFailing", "qwen2-5-72b"), ("LLMEngineStalled", "llama-3-1-8b-fp8-trtllm")},
    4: {("LLMModelDown", "mistral-7b-legacy"), ("LLMReplicasBelowMin", "qwen2-5-72b"),
        ("LLMReplicasBelowMin", "llama-3-1-70b-trt")},
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
