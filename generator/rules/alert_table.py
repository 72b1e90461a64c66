"""Every alert, once: one `Definition` per alert name, in the order the rule files list them.

A definition holds the alert's name, default severity and `for`, which models
get it (`applies`: the model and engine capabilities it needs), a small builder
that writes its rules for one model (expression, description, and the
`Condition` its generated promtool cases set), and its runbook text (`AlertDoc`).
The rules (`alerts.py`), the promtool cases (`promtool_tests.py`, `fault_cases.py`),
the runbook pages (`runbooks.py`), the alert names the inventory accepts (`NAMES`)
and the README's alert table (checked by `tests/test_runbooks.py`) all derive from it.

Latency and error SLOs use multi-window burn rates (Google SRE workbook): a
fast tier pages (1h and 5m windows over 14.4x the budget), a slow tier tickets
(6h and 30m over 6x). Every ratio and latency alert also needs the model to
serve at least `thresholds.min_request_rate` requests per second over the long
window, so an idle model never pages on a handful of slow requests.

This module reads a model only through `ModelAlerts`, so the inventory can import
`NAMES` from it without an import circle.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from generator import conventions as c
from generator.prometheus_syntax import duration_text
from generator.promql import go_template_literal, number, selector

if TYPE_CHECKING:
    from generator.inventory import Inventory, Model
    from generator.queries import ModelQueries
    from generator.rules.telemetry import Telemetry

CRITICAL, WARNING = "critical", "warning"


@dataclass(frozen=True)
class Condition:
    """What makes an alert fire, in vocabulary terms, for generated promtool tests.

    `signal` names the recorded quantity (`kv_cache`, `ttft_miss`, ...), compared
    with `op` to `threshold`; `guard` is the window of the minimum-traffic guard.
    """

    signal: str
    op: str  # > >= < ==
    threshold: Decimal
    guard: str | None = None


@dataclass(frozen=True)
class AlertDoc:
    """What a runbook says about one alert."""

    title: str
    summary: str  # static annotation: one sentence ending in a period
    meaning: str
    causes: tuple[str, ...]
    queries: tuple[tuple[str, str], ...]  # (what it shows, PromQL with MODEL standing for the model id)
    mitigations: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """One rule a builder writes for a model, before the inventory's per-alert options apply."""

    expr: str
    description: str  # Go template
    condition: Condition | None = None  # None: a compound condition, proven by the fault cases instead
    severity: str | None = None  # None: the definition's
    for_: str | None = None  # None: the definition's
    labels: Mapping[str, str] = field(default_factory=dict)  # labels of this rule only (burn windows, signal)


@dataclass(frozen=True)
class ModelAlerts:
    """What a builder reads about one model: built by `alerts.py`."""

    inventory: Inventory
    model: Model
    q: ModelQueries
    labels: Mapping[str, str]  # the labels every `llm:` series of the model carries
    telemetry: tuple[Telemetry, ...]  # the series `LLMTelemetryMissing` watches

    def vocab(self, metric: str, *matchers: tuple[str, str, str]) -> str:
        """A recorded series of this model."""
        return selector(metric, [(k, "=", v) for k, v in self.labels.items()] + list(matchers))

    @property
    def name(self) -> str:
        """The model as descriptions name it: its id and served name (and cluster)."""
        return go_template_literal(f"{self.model.name} ({self.model.served_name})") + cluster_text(self.inventory)

    @property
    def th(self) -> Mapping[str, Decimal]:
        return self.model.thresholds

    def capacity_wait(self) -> str | None:
        """PromQL true while requests wait for capacity on some replica, in the engine's terms; None if unseen."""
        if self.q.has("waiting"):
            return f"{self.vocab(c.REPLICA_WAITING)} > 0"
        if self.q.has("batch_occupancy"):
            return f"{self.vocab(c.BATCH_OCCUPANCY)} >= 1"
        return None


def _always(a: ModelAlerts) -> bool:
    return True


@dataclass(frozen=True)
class Definition:
    """One alert: everything its rules, promtool cases, runbook page and README row derive from."""

    name: str
    severity: str | None  # None: each rule's own (burn-rate tiers take their tier's)
    for_: str | None  # None: each rule's own (burn-rate tiers, the cold-start budget)
    rules: Callable[[ModelAlerts], list[Rule]] | None  # None: one per site and collector, in collectors.py
    doc: AlertDoc
    applies: Callable[[ModelAlerts], bool] = _always  # which models get it


# -- builders: each alert's expression and description for one model --------------------------------------------

POD = "{{ $labels.pod }}"


def _compare(a: ModelAlerts, series: str, signal: str, op: str, threshold: Decimal, description: str) -> list[Rule]:
    """A threshold alert: the recorded `series` compared with `threshold`; promtool cases set it through `signal`."""
    return [Rule(f"{a.vocab(series)} {op} {number(threshold)}", description, Condition(signal, op, threshold))]


def _model_down(a: ModelAlerts) -> list[Rule]:
    return [Rule(f"{a.vocab(c.REPLICAS_READY)} == 0 or {a.vocab(c.TARGETS_UP)} == 0",
                 f"{a.name} has no ready replica or no engine target up (value {{{{ $value }}}}).",
                 Condition("replicas_ready", "==", Decimal(0)))]


def _engine_stalled(a: ModelAlerts) -> list[Rule]:
    in_flight = f"({a.vocab(c.RUNNING)} > 0" + (f" or {a.vocab(c.WAITING)} > 0)" if a.q.has("waiting") else ")")
    progress = "no request completes and no token is generated" if a.q.has("generation_tokens") \
        else "no request completes"
    return [Rule(f"{in_flight}\nand\n{a.vocab(c.PROGRESS)} == 0\n",
                 f"{a.name} has {{{{ $value }}}} requests in flight but {progress} (last {c.STALL_WINDOW}): the "
                 f"engine is hung while its pods stay Ready.")]


def _replicas_below_min(a: ModelAlerts) -> list[Rule]:
    minimum = a.model.replicas_min
    return _compare(a, c.REPLICAS_READY, "replicas_ready", "<", Decimal(minimum),
                    f"{a.name} has {{{{ $value }}}} ready replicas, below its minimum of {minimum}.")


def _pod_not_ready(a: ModelAlerts) -> list[Rule]:
    budget = a.th["cold_start_seconds"]
    return [Rule(f"{a.vocab(c.POD_READY)} == 0",
                 f"Pod {POD} of {a.name} has not been Ready for longer than the cold-start budget of "
                 f"{number(budget)} s (stuck rollout, Pending for a GPU, or failing readiness).",
                 for_=duration_text(budget))]


def _engine_crash_looping(a: ModelAlerts) -> list[Rule]:
    waiting = a.vocab(c.CONTAINER_WAITING, ("reason", "=", "CrashLoopBackOff"))
    return [Rule(f"max_over_time({waiting}[10m]) == 1",
                 f"The {go_template_literal(a.model.container)} container of pod {POD} of {a.name} is "
                 f"crash-looping.")]


def _engine_oom_killed(a: ModelAlerts) -> list[Rule]:
    return [Rule(f"{a.vocab(c.OOM_KILLS)} > 0",
                 f"The {go_template_literal(a.model.container)} container of pod {POD} of {a.name} was OOM-killed "
                 f"{{{{ $value }}}} times in the last {c.OOM_WINDOW}.")]


def _engine_scrape_failing(a: ModelAlerts) -> list[Rule]:
    return [Rule(f"{a.vocab(c.TARGET_UP)} == 0\nand {a.q.on('namespace', 'pod')}\n{a.vocab(c.POD_READY)} == 1\n",
                 f"Prometheus cannot scrape the engine of pod {POD} of {a.name} although the pod is Ready: its "
                 f"metrics (and every alert built on them) are blind for that replica.")]


def _latency_burn(signal: str, what: str) -> Callable[[ModelAlerts], list[Rule]]:
    """One rule per burn-rate tier: the share of `signal`'s observations over its SLO threshold."""
    def build(a: ModelAlerts) -> list[Rule]:
        slo = a.q.slo(signal)
        rules = []
        for tier in a.inventory.slo_policy.tiers:
            limit, op = _burn_limit(tier.factor, slo.objective)
            miss = [f"(1 - {a.vocab(c.LATENCY_WITHIN_SLO.format(signal=signal, window=w))}) {op} {limit}"
                    for w in (tier.long, tier.short)]
            rules.append(Rule(
                _guarded(a, miss, tier.long, signal),
                f"{{{{ $value | humanizePercentage }}}} of the {_units(signal)} of {a.name} had {what} above "
                f"{number(slo.threshold_seconds)} s over the last {tier.long}; the SLO allows "
                f"{_percent(1 - slo.objective)} and this alert fires above {_percent(Decimal(limit))} "
                f"({number(tier.factor)}x the budget).",
                Condition(f"{signal}_miss", op, Decimal(limit), tier.long), tier.severity, tier.for_,
                {"long": tier.long, "short": tier.short}))
        return rules
    return build


def _error_budget_burn(a: ModelAlerts) -> list[Rule]:
    rules = []
    for tier in a.inventory.slo_policy.tiers:
        limit, op = _burn_limit(tier.factor, a.model.slo.availability)
        errors = [f"{a.vocab(c.ERROR_RATIO.format(window=w))} {op} {limit}" for w in (tier.long, tier.short)]
        rules.append(Rule(
            _guarded(a, errors, tier.long, "availability"),
            f"{{{{ $value | humanizePercentage }}}} of requests to {a.name} failed over the last {tier.long}; "
            f"the availability SLO allows {_percent(1 - a.model.slo.availability)} and this alert fires above "
            f"{_percent(Decimal(limit))} ({number(tier.factor)}x the budget).",
            Condition("error_ratio", op, Decimal(limit), tier.long), tier.severity, tier.for_,
            {"long": tier.long, "short": tier.short}))
    return rules


def _queue_backing_up(a: ModelAlerts) -> list[Rule]:
    depth = a.th["queue_depth"]
    return _compare(a, c.REPLICA_WAITING, "replica_waiting", ">", depth,
                    f"A replica of {a.name} has {{{{ $value }}}} requests waiting (threshold {number(depth)} "
                    f"per replica).")


def _kv_cache_near_full(a: ModelAlerts) -> list[Rule]:
    waiting = a.capacity_wait()
    kv_waits = waiting if not a.q.has("preemptions") else f"({a.vocab(c.PREEMPTIONS)} > 0 or {waiting})"
    return [Rule(f"{a.vocab(c.KV_CACHE)} > {number(a.th['kv_cache_usage'])}\nand\n{kv_waits}\n",
                 f"The KV cache of {a.name} is {{{{ $value | humanizePercentage }}}} full "
                 f"(threshold {_percent(a.th['kv_cache_usage'])}) and requests wait for capacity or get preempted.")]


def _preemptions_high(a: ModelAlerts) -> list[Rule]:
    limit = a.th["preemptions_per_second"]
    return _compare(a, c.PREEMPTIONS, "preemptions", ">", limit,
                    f"{a.name} preempts {{{{ printf \"%.2f\" $value }}}} requests per second "
                    f"(threshold {number(limit)}).")


def _gpu_saturated(a: ModelAlerts) -> list[Rule]:
    return [Rule(f"{a.vocab(c.GPU_UTILIZATION)} > {number(a.th['gpu_utilization'])}\nand\n{a.capacity_wait()}\n",
                 f"The GPUs of {a.name} are {{{{ $value | humanizePercentage }}}} utilised on average "
                 f"(threshold {_percent(a.th['gpu_utilization'])}) and requests wait for a batch slot.")]


def _gpu_memory_near_full(a: ModelAlerts) -> list[Rule]:
    limit = a.th["gpu_memory_usage"]
    return _compare(a, c.GPU_MEMORY, "gpu_memory", ">", limit,
                    f"A GPU of {a.name} has {{{{ $value | humanizePercentage }}}} of its memory in use "
                    f"(threshold {_percent(limit)}).")


def _gpu_xid_errors(a: ModelAlerts) -> list[Rule]:
    return [Rule(f"{a.vocab(c.GPU_XID_NEW)} > 0",
                 f"GPU {{{{ $labels.gpu }}}} on node {{{{ $labels.node }}}} (pod {POD}) of {a.name} reported XID "
                 f"error {{{{ $value }}}} within the last {c.XID_WINDOW}.")]


def _cold_start_slow(a: ModelAlerts) -> list[Rule]:
    budget = a.th["cold_start_seconds"]
    return _compare(a, c.COLD_START, "cold_start", ">", budget,
                    f"A replica of {a.name} took {{{{ $value | humanizeDuration }}}} from creation to ready "
                    f"(budget {number(budget)} s).")


def _telemetry_missing(a: ModelAlerts) -> list[Rule]:
    """One rule per series the model's panels and alerts read (`signal` label)."""
    return [Rule(f"{a.vocab(c.TELEMETRY, ('signal', '=', item.signal))} == 0\nand ignoring (signal)\n"
                 f"{a.vocab(c.TARGETS_UP)} > 0\n",
                 f"{a.name}: its engine targets are up but no {go_template_literal(item.metric)} series matches "
                 f"(signal {item.signal}), so its panels are empty and its alerts silent. Likely cause: "
                 f"{go_template_literal(item.cause)}",
                 labels={"signal": item.signal, "collector": item.collector})
            for item in a.telemetry]


def _engine_version_drift(a: ModelAlerts) -> list[Rule]:
    model = a.model
    version = go_template_literal(str(model.engine_version))
    return [Rule(f"count by ({', '.join(a.q.keys(*a.labels, 'running_version'))}) (\n  "
                 f"{a.vocab(c.ENGINE_VERSION, ('running_version', '!=', str(model.engine_version)))}\n)\n",
                 f"{{{{ $value }}}} pods of {a.name} run {a.q.engine.title} {{{{ $labels.running_version }}}} "
                 f"(from the {go_template_literal(model.container)} container's image) while the inventory says "
                 f"{version}: dashboards and alerts query the metric names of {version}. Update engine_version "
                 f"in the inventory.")]


def _latency_burn_definition(name: str, signal: str, what: str, title: str, causes: tuple[str, ...],
                             mitigations: tuple[str, ...]) -> Definition:
    """A latency SLO burn alert, generated where the engine version measures the SLI and the model has the SLO."""
    return Definition(name, None, None, _latency_burn(signal, what), _slo_doc(signal, title, causes, mitigations),
                      applies=lambda a: a.q.slo(signal) is not None)


# -- helpers ----------------------------------------------------------------------------------------------------

def cluster_text(inventory: Inventory) -> str:
    """` in cluster <value>` for alert descriptions in multi-cluster mode: the series' label, or (where it is only
    an external label and the rules run in each cluster's Prometheus) the external label."""
    mc = inventory.multi_cluster
    if mc is None:
        return ""
    if mc.where == "series":
        return f" in cluster {{{{ $labels.{mc.label} }}}}"
    return f" in cluster {{{{ or $labels.{mc.label} $externalLabels.{mc.label} }}}}"


def _burn_limit(factor: Decimal, objective: Decimal) -> tuple[str, str]:
    """factor x budget, capped at 1: with a loose objective a fast burn means every request misses."""
    limit = factor * (1 - objective)
    if limit >= 1:
        return "1", ">="
    return number(limit), ">"


def _guarded(a: ModelAlerts, conditions: list[str], long: str, slo: str) -> str:
    """Both windows burn, and the SLI's own denominator saw enough traffic over the long window."""
    requests = a.vocab(c.SLO_REQUESTS.format(window=long), ("slo", "=", slo))
    traffic = f"{requests} >= {number(a.th['min_request_rate'])}"
    burning = "\nand\n".join(f"({cond})" for cond in conditions)
    return f"{burning}\nand ignoring (slo)\n({traffic})\n"


def _percent(fraction: Decimal) -> str:
    return f"{number(fraction * 100)}%"


def _units(signal: str) -> str:
    """What a latency SLI counts: requests, or (inter-token latency) the gaps between streamed tokens."""
    return "gaps between streamed tokens" if signal == "itl" else "requests"


# What each latency SLI counts, for the runbook: one observation per what, and what that weighs.
_COUNTS = {
    "ttft": "One observation per request, from arrival to its first token (queueing included).",
    "itl": "One observation per gap between two streamed outputs, not per request: a long generation weighs as "
           "much as many short ones, so the share is a share of token gaps. The time per output token SLO, where "
           "the engine version measures it, is the per-request view.",
    "tpot": "One observation per finished request: its mean decode time per output token (decode time over "
            "generated tokens minus one), so every request weighs the same whatever its length. A request with at "
            "most one generated token is recorded as 0 and counts as within the SLO.",
    "e2e": "One observation per request, from arrival to its last token.",
}


def _slo_doc(signal: str, what: str, causes: tuple[str, ...], mitigations: tuple[str, ...]) -> AlertDoc:
    return AlertDoc(
        f"{what} SLO burn",
        f"{what} is burning the SLO error budget.",
        f"{_COUNTS[signal]} Too many {_units(signal)} of this model miss the {what.lower()} SLO threshold: at the "
        f"current rate "
        f"the error budget of the SLO period runs out early. With the default tiers, the critical ones page "
        f"(1h and 5m windows over 14.4x the budget: 2% of a 30-day budget gone within an hour; 6h and 30m over "
        f"6x: 5% within six hours) and the warning ones ticket (1d and 2h over 3x; 3d and 6h over 1x: the "
        f"budget would be gone before the period ends).",
        causes,
        ((f"Share of {_units(signal)} within the {what.lower()} threshold, per window",
          f'{c.LATENCY_WITHIN_SLO.format(signal=signal, window="5m")}{{model="MODEL"}}'),
         ("Burn rate over the last 5 minutes (1 spends the budget exactly over the SLO period)",
          f'{c.BURN_RATE.format(window="5m")}{{model="MODEL", slo="{signal}"}}'),
         ("p95 and p99", f'{c.LATENCY_QUANTILE.format(signal=signal)}{{model="MODEL"}}'),
         ("Waiting and running requests", f'{c.WAITING}{{model="MODEL"}} or {c.RUNNING}{{model="MODEL"}}'),
         ("KV-cache usage", f'{c.KV_CACHE}{{model="MODEL"}}')),
        mitigations,
    )


# -- the table --------------------------------------------------------------------------------------------------

TABLE: tuple[Definition, ...] = (
    Definition(
        "LLMModelDown", CRITICAL, "5m", _model_down, applies=lambda a: a.model.replicas_min >= 1,
        doc=AlertDoc(
            "Model down", "An LLM model has no ready replica or no engine target up.",
            "Clients of this model get errors or time out: no pod is Ready, or Prometheus scrapes the engine "
            "container of none of the model's pods (which also blinds every other alert for it). While "
            "kube-state-metrics is down the ready-replica count is unknown, not 0: LLMCollectorDown fires "
            "instead of this alert.",
            ("Pods crash-looping while loading weights (out of GPU memory, bad model path, driver error).",
             "No GPU node available, so new pods stay Pending.",
             "A deploy with a broken image or config.",
             "The scrape configuration no longer matches the pods (renamed namespace, pod or port)."),
            (("Ready replicas", f'{c.REPLICAS_READY}{{model="MODEL"}}'),
             ("Scrape targets up", f'{c.TARGETS_UP}{{model="MODEL"}}'),
             ("Start-up in progress", f'{c.COLD_START}{{model="MODEL"}}')),
            ("Roll back the last deploy if the outage started with it.",
             "Check pod events and logs: `kubectl -n NAMESPACE describe pod` and `kubectl logs --previous`.",
             "If pods are Pending for GPUs, free or add GPU nodes; if weights fail to load, check the storage "
             "the weights come from."))),
    Definition(
        # Without a gauge of requests in flight a hang looks like no traffic.
        "LLMEngineStalled", CRITICAL, "3m", _engine_stalled, applies=lambda a: a.q.has("running"),
        doc=AlertDoc(
            "Engine stalled", "An LLM engine has work in flight but makes no progress.",
            "Requests are running or waiting, yet none completes and no token is generated: the engine is hung "
            "(a stuck CUDA stream, a hung NCCL collective, a deadlocked scheduler) while its pods stay Ready and "
            "/metrics still answers. Every SLO ratio loses its denominator in this state, so the burn-rate "
            "alerts go silent: this alert is the one that pages.",
            ("A hung NCCL collective between tensor-parallel ranks (one GPU or NVLink failed).",
             "A stuck CUDA kernel or a GPU that fell off the bus (look for XID errors).",
             "A deadlock in the engine's scheduler or tokenizer process."),
            (("Requests in flight", f'{c.RUNNING}{{model="MODEL"}} or {c.WAITING}{{model="MODEL"}}'),
             ("Progress (completions and tokens per second)", f'{c.PROGRESS}{{model="MODEL"}}'),
             ("New XID errors", f'{c.GPU_XID_NEW}{{model="MODEL"}}')),
            ("Restart the stalled pods (`kubectl -n NAMESPACE delete pod POD`): a hung engine rarely recovers.",
             "Collect a stack dump first if you can (`py-spy dump --pid 1` in the container).",
             "Add a liveness probe that sends a tiny generation request, so Kubernetes restarts hung engines."))),
    Definition(
        "LLMReplicasBelowMin", WARNING, "15m", _replicas_below_min, applies=lambda a: a.model.replicas_min >= 2,
        doc=AlertDoc(
            "Replicas below minimum",
            "An LLM model runs fewer ready replicas than its minimum.",
            "The model serves with less capacity than planned: latency and queueing rise under load and one "
            "more failure may take it down.",
            ("Pods restarting or failing readiness.", "Not enough free GPUs to schedule the replicas.",
             "A rollout stuck half way."),
            (("Ready replicas", f'{c.REPLICAS_READY}{{model="MODEL"}}'),
             ("Start-up in progress", f'{c.COLD_START}{{model="MODEL"}}')),
            ("Find the pods that are not Ready and why (`kubectl get pods`, events).",
             "Check GPU capacity in the cluster; move or evict lower-priority GPU workloads."))),
    Definition(
        "LLMPodNotReady", WARNING, None, _pod_not_ready,  # `for`: the cold-start budget
        doc=AlertDoc(
            "Pod not ready", "A pod of an LLM model has not been Ready for longer than its "
            "cold-start budget.",
            "A pod of this model stays not Ready beyond the cold-start budget: a rollout stuck on a pod that never "
            "becomes Ready, a pod Pending for a GPU node, an image that cannot be pulled, or a replica that "
            "stopped passing its readiness probe. The alert keeps firing until the pod is Ready or gone.",
            ("No GPU node with free GPUs (the pod is Pending).", "Image pull errors or a wrong image tag.",
             "Weights that fail to load or load very slowly.", "A readiness probe that never passes."),
            (("Pods not ready", f'{c.POD_READY}{{model="MODEL"}} == 0'),
             ("Engine container waiting reasons", f'{c.CONTAINER_WAITING}{{model="MODEL"}}'),
             ("Longest recent start-up", f'{c.COLD_START}{{model="MODEL"}}')),
            ("`kubectl -n NAMESPACE describe pod POD`: the events say whether it waits for a node, an image or "
             "its probe.", "Roll back a rollout stuck on its new pods (`kubectl rollout undo`).",
             "Free or add GPU nodes for Pending pods."))),
    Definition(
        "LLMEngineCrashLooping", WARNING, "10m", _engine_crash_looping,
        doc=AlertDoc(
            "Engine crash-looping", "The engine container of an LLM pod is crash-looping.",
            "Kubernetes keeps restarting the engine container of this pod and backs off (CrashLoopBackOff). "
            "Each restart reloads the weights, so the replica serves nothing meanwhile.",
            ("CUDA out of memory while loading weights or capturing CUDA graphs.",
             "A bad model path, tokenizer or engine flag after a deploy.", "A driver or XID fault on the GPU."),
            (("Engine container waiting reasons", f'{c.CONTAINER_WAITING}{{model="MODEL"}}'),
             ("OOM kills", f'{c.OOM_KILLS}{{model="MODEL"}}'),
             ("Pods not ready", f'{c.POD_READY}{{model="MODEL"}} == 0')),
            ("`kubectl -n NAMESPACE logs POD -c CONTAINER --previous`: the last crash's error.",
             "Roll back the last deploy if the crashes started with it."))),
    Definition(
        "LLMEngineOOMKilled", WARNING, "1m", _engine_oom_killed,
        doc=AlertDoc(
            "Engine OOM-killed", "The engine container of an LLM pod was OOM-killed.",
            "The kernel killed the engine container for exceeding its memory limit (host memory, not GPU memory): "
            "in-flight requests on that replica failed and it reloads its weights.",
            ("CPU swap space or KV offload to host memory larger than the container's limit.",
             "Tokenizer or multimodal preprocessing memory growth.", "A memory limit set below what loading "
             "the weights needs."),
            (("OOM kills per pod", f'{c.OOM_KILLS}{{model="MODEL"}}'),
             ("Engine container waiting reasons", f'{c.CONTAINER_WAITING}{{model="MODEL"}}')),
            ("Raise the container's memory limit, or lower --swap-space / CPU offload.",
             "Check `kubectl -n NAMESPACE describe pod POD` for the last state and its limit."))),
    Definition(
        # Pushed telemetry has no per-pod scrape target whose failure could be told.
        "LLMEngineScrapeFailing", WARNING, "10m", _engine_scrape_failing, applies=lambda a: not a.model.pushed,
        doc=AlertDoc(
            "Engine scrape failing", "Prometheus cannot scrape the engine of a Ready "
            "LLM pod.",
            "The pod is Ready, so it receives traffic, but Prometheus cannot read its engine's /metrics: every "
            "panel and alert is blind for that replica.",
            ("The engine's metrics port or path changed (a new engine version, a flag).",
             "The API server is too busy to answer /metrics within the scrape timeout.",
             "A network policy blocking Prometheus."),
            (("Engine targets up per pod", f'{c.TARGET_UP}{{model="MODEL"}}'),
             ("Scrape errors", 'up{namespace="NAMESPACE"} == 0')),
            ("Open Prometheus' Targets page for the pod and read the scrape error.",
             "Compare the ServiceMonitor or PodMonitor port with the engine's."))),
    _latency_burn_definition(
        "LLMTimeToFirstTokenSLOBurn", "ttft", "a time to first token", "Time to first token",
        ("Requests queue because the model is at capacity (waiting requests rising).",
         "Long prompts: prefill time grows with prompt length.",
         "KV cache full, so new requests wait for running ones to finish or get preempted.",
         "A replica lost (fewer replicas share the load)."),
        ("Scale out replicas, or lower max_num_seqs / concurrency limits to protect latency.",
         "Enable or tune chunked prefill and prefix caching.",
         "Shed or rate-limit the heaviest clients.")),
    _latency_burn_definition(
        "LLMInterTokenLatencySLOBurn", "itl", "an inter-token latency", "Inter-token latency",
        ("Batches too large: decode steps slow down as more sequences share the GPU.",
         "Long prefills interleaved with decodes (no chunked prefill).",
         "GPU throttling (power, temperature) or a degraded GPU."),
        ("Lower the maximum batch size (max_num_seqs) or enable chunked prefill.",
         "Scale out so each replica runs smaller batches.",
         "Check GPU clocks and XID errors on the model's nodes.")),
    _latency_burn_definition(
        "LLMTimePerOutputTokenSLOBurn", "tpot", "a time per output token", "Time per output token",
        ("Decode slowed down: larger batches, long prefills interleaved with decodes, or a slower GPU.",
         "Preemptions: a preempted request's decode time includes the wait to resume.",
         "A change in output lengths or sampling (speculative decoding switched off) that slows each token."),
        ("Lower the maximum batch size (max_num_seqs) or enable chunked prefill.",
         "Scale out so each replica runs smaller batches.",
         "Check GPU clocks and XID errors on the model's nodes; compare with the inter-token latency panel.")),
    _latency_burn_definition(
        "LLMEndToEndLatencySLOBurn", "e2e", "an end-to-end latency", "End-to-end latency",
        ("Clients asking for much longer outputs than usual.",
         "Queueing under load, or slower decoding (see TTFT and inter-token latency).",
         "Preemptions restarting work."),
        ("Check whether TTFT or inter-token latency burns too, and follow that runbook (TGI measures "
         "neither: compare its queue time with the end-to-end time on the model dashboard).",
         "Cap max_tokens for clients that do not need long outputs.",
         "Scale out replicas.")),
    Definition(
        "LLMErrorBudgetBurn", None, None, _error_budget_burn,  # severity and `for`: each burn-rate tier's
        doc=AlertDoc(
            "Error budget burn", "LLM requests fail faster than the availability SLO allows.",
            "A growing share of requests fails (HTTP 5xx for vLLM; failed inference requests for Triton; for TGI "
            "tgi_request_failure with err generation or incomplete, HTTP 424 and 500, while overloaded (429) and "
            "validation (422) failures do not count). At this rate the availability budget runs out early.",
            ("Out-of-memory or CUDA errors in the engine.", "Requests rejected while overloaded.",
             "A bad deploy (model, tokenizer or config).", "A replica crashing mid-request."),
            (("Error ratio per window", f'{c.ERROR_RATIO.format(window="5m")}{{model="MODEL"}}'),
             ("Burn rate over the last 5 minutes (1 spends the budget exactly over the SLO period)",
              f'{c.BURN_RATE.format(window="5m")}{{model="MODEL", slo="availability"}}'),
             ("Requests per second", f'{c.REQUESTS.format(window="5m")}{{model="MODEL"}}'),
             ("Ready replicas", f'{c.REPLICAS_READY}{{model="MODEL"}}')),
            ("Roll back if the errors started with a deploy.", "Read the engine logs of the failing pods.",
             "Scale out if errors are overload rejections."))),
    Definition(
        "LLMQueueBackingUp", WARNING, "10m", _queue_backing_up, applies=lambda a: a.q.has("waiting"),
        doc=AlertDoc(
            "Queue backing up", "Requests are piling up in the queue of an LLM replica.",
            "On at least one replica more requests wait for a batch slot than the per-replica threshold allows; "
            "time to first token grows with the queue. One replica with a long queue among idle ones points at "
            "a stuck replica or uneven load balancing.",
            ("Traffic above the capacity of the current replicas.", "KV cache full, so the scheduler admits "
             "fewer requests.", "A replica lost, or load balancing that pins clients to one replica."),
            (("Longest queue of one replica", f'{c.REPLICA_WAITING}{{model="MODEL"}}'),
             ("Waiting requests, all replicas", f'{c.WAITING}{{model="MODEL"}}'),
             ("Requests per second", f'{c.REQUESTS.format(window="5m")}{{model="MODEL"}}'),
             ("KV-cache usage", f'{c.KV_CACHE}{{model="MODEL"}}')),
            ("Scale out replicas.", "Rate-limit the noisiest clients.", "Check for lost replicas and for "
             "sticky load balancing."))),
    Definition(
        "LLMKVCacheNearFull", WARNING, "15m", _kv_cache_near_full,
        applies=lambda a: a.capacity_wait() is not None and a.q.has("kv_cache"),
        doc=AlertDoc(
            "KV cache near full",
            "An LLM model's KV cache is nearly full and requests wait or get preempted.",
            "The KV cache holds the attention state of running requests. A nearly full cache alone is normal for "
            "a busy engine (vLLM reserves memory up front and fills it); this alert needs the harm too: requests "
            "waiting for capacity on some replica, or the scheduler preempting running requests (vLLM), or the "
            "batch manager at its maximum of active requests (TensorRT-LLM on Triton).",
            ("Many concurrent long-context requests.", "gpu_memory_utilization or max_model_len set so "
             "that few KV blocks fit."),
            (("KV-cache usage", f'{c.KV_CACHE}{{model="MODEL"}}'),
             ("Longest queue of one replica", f'{c.REPLICA_WAITING}{{model="MODEL"}}'),
             ("Preemptions per second", f'{c.PREEMPTIONS}{{model="MODEL"}}'),
             ("Running requests", f'{c.RUNNING}{{model="MODEL"}}')),
            ("Scale out, or lower max_num_seqs so fewer sequences compete.",
             "Raise gpu_memory_utilization or use a quantised KV cache (fp8) if memory allows."))),
    Definition(
        "LLMPreemptionsHigh", WARNING, "15m", _preemptions_high, applies=lambda a: a.q.has("preemptions"),
        doc=AlertDoc(
            "Preemptions high", "An LLM model preempts requests often.",
            "The scheduler evicts running requests to free KV cache and recomputes them later: throughput "
            "drops and latency rises.",
            ("KV cache exhausted by long or many concurrent sequences.",),
            (("Preemptions per second", f'{c.PREEMPTIONS}{{model="MODEL"}}'),
             ("KV-cache usage", f'{c.KV_CACHE}{{model="MODEL"}}')),
            ("Lower max_num_seqs or max_num_batched_tokens.", "Scale out replicas."))),
    Definition(
        "LLMGPUSaturated", WARNING, "15m", _gpu_saturated, applies=lambda a: a.capacity_wait() is not None,
        doc=AlertDoc(
            "GPU saturated", "The GPUs of an LLM model are saturated: busy, and requests wait.",
            "The model's GPUs are busy nearly all the time and requests wait for a batch slot: there is no "
            "headroom left. GPU utilisation alone (DCGM_FI_DEV_GPU_UTIL: some kernel was running) is high for any "
            "healthy, continuously batching engine, so this alert also needs requests waiting for capacity "
            "(vLLM: waiting requests on a replica; TensorRT-LLM on Triton: the batch manager at its maximum).",
            ("Traffic near capacity.", "Inefficient batching (many small batches)."),
            (("GPU utilisation", f'{c.GPU_UTILIZATION}{{model="MODEL"}}'),
             ("Longest queue of one replica", f'{c.REPLICA_WAITING}{{model="MODEL"}}'),
             ("Requests per second", f'{c.REQUESTS.format(window="5m")}{{model="MODEL"}}')),
            ("Scale out before latency SLOs burn.", "Review batching limits."))),
    Definition(
        "LLMGPUMemoryNearFull", WARNING, "15m", _gpu_memory_near_full,
        doc=AlertDoc(
            "GPU memory near full", "The GPU memory of an LLM model is nearly full.",
            "GPU framebuffer memory is close to full. Engines pre-allocate most of it (vLLM's "
            "gpu_memory_utilization defaults to 0.9), so this alert fires only above that reservation: a "
            "leak or another process on the GPU.",
            ("Another process sharing the GPU.", "Memory fragmentation or a leak in the engine.",
             "gpu_memory_utilization set too high."),
            (("Highest GPU memory use", f'{c.GPU_MEMORY}{{model="MODEL"}}'),),
            ("Check nvidia-smi on the node for other processes.", "Restart the affected pod if memory grows "
             "without bound."))),
    Definition(
        "LLMGPUXidErrors", WARNING, "1m", _gpu_xid_errors,
        doc=AlertDoc(
            "GPU XID errors", "A GPU of an LLM model reported an XID error.",
            "The NVIDIA driver reported an XID error on a GPU serving this model within the last 10 minutes. "
            "DCGM_FI_DEV_XID_ERRORS holds the last XID code until dcgm-exporter restarts, so the alert fires on "
            "a change (a new code, or a GPU series appearing with one) and resolves 10 minutes later; it names "
            "the pod, the GPU and the node. Some XIDs are application faults (13, 31, 43); others mean the GPU "
            "needs a reset or replacement (48, 63, 64, 74, 79, 92, 94, 95).",
            ("Hardware fault (ECC, NVLink, fallen off the bus).", "Driver or firmware bug.",
             "An illegal memory access in a kernel."),
            (("New XID codes per GPU", f'{c.GPU_XID_NEW}{{model="MODEL"}}'),
             ("Last XID code per GPU", 'DCGM_FI_DEV_XID_ERRORS{namespace="NAMESPACE"} > 0')),
            ("Look the XID code up in NVIDIA's XID catalog.", "Cordon and drain the node named by the alert if "
             "the XID means a hardware fault (`kubectl cordon NODE`, `kubectl drain NODE`); move the pods "
             "elsewhere."))),
    Definition(
        "LLMColdStartSlow", WARNING, "1m", _cold_start_slow,
        doc=AlertDoc(
            "Cold start slow", "An LLM replica took too long to become ready.",
            "A new replica of this model took (or is taking) longer than the cold-start budget from pod "
            "creation to Ready. Scale-ups and rollouts are slow to add capacity.",
            ("Weights (10-20 GB and more) downloaded from a slow or remote store.",
             "Image pull of a large container.", "CUDA graph capture and warm-up.", "Waiting for a GPU node."),
            (("Longest recent start-up", f'{c.COLD_START}{{model="MODEL"}}'),
             ("Engine model-load time (where exported)", f'{c.MODEL_LOAD}{{model="MODEL"}}')),
            ("Cache weights on node-local disk or a nearby store.", "Pre-pull images on GPU nodes.",
             "Keep a warm minimum of replicas."))),
    Definition(
        "LLMTelemetryMissing", WARNING, "10m", _telemetry_missing,
        doc=AlertDoc(
            "Telemetry missing", "A series an LLM model's dashboards and alerts rely on "
            "is missing.",
            "The model's engine targets are up, but a metric its panels and alerts read has no series: the "
            "panels are empty and the alerts built on it cannot fire. The `signal` label says which "
            "(`requests`, `ttft`, `kv_cache`: engine metrics; `gpus`: the DCGM join; `pods`: the "
            "kube-state-metrics join) and the description names the metric and the likely cause.",
            ("Version drift: the pods run an engine version that renamed the metric (see LLMEngineVersionDrift).",
             "dcgm-exporter scraped with honorLabels: false, so its workload labels are exported_namespace and "
             "exported_pod (set collectors.dcgm in the inventory).",
             "A metric that must be switched on (Triton's TTFT histogram needs histogram_latencies=true).",
             "A served name or backend model that differs from the inventory's.",
             "TGI has no model label: its series are found by namespace and pod alone, so a scrape config that "
             "drops the pod label, or a pod_regex that misses the pods, hides them."),
            (("Series per signal", f'{c.TELEMETRY}{{model="MODEL"}}'),
             ("Running engine versions", f'{c.ENGINE_VERSION}{{model="MODEL"}}')),
            ("Fix the inventory (engine_version, served_name, collectors) and regenerate, or switch the metric "
             "on in the engine.",))),
    Definition(
        "LLMEngineVersionDrift", WARNING, "15m", _engine_version_drift,
        doc=AlertDoc(
            "Engine version drift", "LLM pods run another engine version than the "
            "inventory says.",
            "The engine container's image names a version that differs from the model's engine_version in the "
            "inventory. The generated queries use the metric names of the inventory's version, so renamed "
            "metrics go missing (empty panels, silent alerts).",
            ("An engine upgrade deployed without updating the inventory.", "A canary or rollback in progress."),
            (("Running versions per pod", f'{c.ENGINE_VERSION}{{model="MODEL"}}'),
             ("Series per signal", f'{c.TELEMETRY}{{model="MODEL"}}')),
            ("Set engine_version in the inventory to the version running, regenerate and deploy the rules.",
             "If the image tags do not follow the official pattern, set models[].container.image_pattern."))),
    Definition(
        "LLMCollectorDown", WARNING, "5m", None,  # per site (selector label set), in collectors.py
        doc=AlertDoc(
            "Collector down", "A collector the LLM alerts rely on is not scraped.",
            "Prometheus scrapes no target of kube-state-metrics or dcgm-exporter (or some dcgm-exporter targets "
            "are down). The model alerts that read it stay silent rather than page for every model: replica "
            "counts, cold starts and GPU alerts are unknown until it is back.",
            ("The collector's pod crashed or was evicted.", "A changed job name or ServiceMonitor.",
             "A dcgm-exporter DaemonSet pod missing on some GPU nodes."),
            (("Collector targets", 'up{job=~"kube-state-metrics|dcgm-exporter"}'),),
            ("`kubectl get pods -A | grep -E 'kube-state-metrics|dcgm-exporter'` and their logs.",
             "If the job names differ, set collectors.*.job in the inventory."))),
)
NAMES = tuple(d.name for d in TABLE)  # every alert name, as the inventory's `alerts:` overrides accept them
DEFINITIONS = {d.name: d for d in TABLE}
