"""Which scenario runs on which model of the example inventory, and when.

Scenarios that do not interfere run at the same time on different models (and
several on one model), so the suite needs two rounds instead of one per
scenario. Engine-specific alerts (TTFT, errors, KV cache) are proven on a vLLM model
and on the Triton model (which cannot measure queue depth). Round 2 holds the scenarios that take
replicas down, so that nothing they cause can blur round 1's "this model only"
checks; round 3 brings the replicas back, and their alerts must resolve.
"""
from __future__ import annotations

from dataclasses import dataclass

from generator.simulate.scenarios import SCENARIOS

ROUNDS: dict[int, dict[str, tuple[str, ...]]] = {
    1: {
        "llama-3-1-8b": ("ttft-spike", "kv-cache-saturation", "gpu-saturation"),
        "qwen2-5-72b": ("itl-spike", "error-burst", "gpu-memory-full"),
        "llama-3-1-70b-trt": ("ttft-spike", "error-burst", "kv-cache-saturation", "gpu-xid"),
        "deepseek-r1-distill-7b": ("e2e-spike", "preemption-storm", "queue-backlog", "slow-cold-start"),
        "mistral-7b-legacy": (),  # stays healthy: nothing may fire for it
    },
    2: {
        "mistral-7b-legacy": ("model-down",),
        "qwen2-5-72b": ("itl-spike", "error-burst", "gpu-memory-full", "replica-down"),
    },
    3: {  # the crashed replicas come back
        "mistral-7b-legacy": (),
        "qwen2-5-72b": ("itl-spike", "error-burst", "gpu-memory-full"),
    },
}

# Alerts that must resolve (and be delivered as resolved) in a round, because their failure ended.
RECOVERIES = {
    3: {("LLMModelDown", "mistral-7b-legacy"), ("LLMReplicasBelowMin", "qwen2-5-72b")},
}

# Runs that cannot pass until a generator bug is fixed: (round, model, scenario) -> the bug.
KNOWN_BUGS: dict[tuple[int, str, str], str] = {}


@dataclass(frozen=True)
class Run:
    round: int
    model: str
    scenario: str

    @property
    def alert(self) -> str:
        return SCENARIOS[self.scenario].alert

    @property
    def id(self) -> str:
        return f"round{self.round}-{self.model}-{self.scenario}"


def runs() -> list[Run]:
    """Each scenario where it starts: a scenario carried on into round 2 was proven in round 1."""
    result, seen = [], set()
    for number, models in ROUNDS.items():
        for model, scenarios in models.items():
            for scenario in scenarios:
                if (model, scenario) not in seen:
                    seen.add((model, scenario))
                    result.append(Run(number, model, scenario))
    return result


def scenarios_in(number: int) -> dict[str, tuple[str, ...]]:
    """Every model's scenarios during a round (a round changes only the models it names)."""
    state: dict[str, tuple[str, ...]] = {}
    for n in sorted(ROUNDS):
        if n > number:
            break
        state.update(ROUNDS[n])
    return state


def allowed(number: int) -> dict[str, set[str]]:
    """model -> the alerts its scenarios in that round fire, intended or as a declared side effect."""
    result = {}
    for model, scenarios in scenarios_in(number).items():
        alerts = set()
        for name in scenarios:
            alerts.add(SCENARIOS[name].alert)
            alerts.update(SCENARIOS[name].also)
        result[model] = alerts
    return result


def specs(number: int) -> list[str]:
    """The POST /scenarios body of a round: every named model's full set (`healthy:M` for none)."""
    body = []
    for model, scenarios in ROUNDS[number].items():
        body += [f"{s}:{model}" for s in scenarios] or [f"healthy:{model}"]
    return body
