"""Alerts on the `llm:` vocabulary, one set per model, each with its runbook text.

Latency and error SLOs use multi-window burn rates (Google SRE workbook): a
fast tier pages (1h and 5m windows over 14.4x the budget), a slow tier tickets
(6h and 30m over 6x). Every ratio and latency alert also needs the model to
serve at least `thresholds.min_request_rate` requests per second over the long
window, so an idle model never pages on a handful of slow requests.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from generator import conventions as c
from generator.inventory import Inventory, Model
from generator.promql import go_template_literal, number, selector
from generator.queries import ModelQueries
from generator.rules.recording import base_labels

CRITICAL, WARNING = "critical", "warning"


@dataclass(frozen=True)
class BurnTier:
    severity: str
    long: str
    short: str
    factor: Decimal
    for_: str


BURN_TIERS = (
    BurnTier(CRITICAL, "1h", "5m", Decimal("14.4"), "2m"),
    BurnTier(WARNING, "6h", "30m", Decimal("6"), "15m"),
)


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
class Alert:
    rule: dict
    condition: Condition


@dataclass(frozen=True)
class AlertDoc:
    """What a runbook says about one alert."""

    name: str
    title: str
    summary: str  # static annotation: one sentence ending in a period
    meaning: str
    causes: tuple[str, ...]
    queries: tuple[tuple[str, str], ...]  # (what it shows, PromQL with MODEL standing for the model id)
    mitigations: tuple[str, ...]


def _slo_doc(name: str, signal: str, what: str, causes, mitigations) -> AlertDoc:
    return AlertDoc(
        name, f"{what} SLO burn",
        f"{what} is burning the SLO error budget.",
        f"Too many requests of this model miss the {what.lower()} SLO threshold: at the current rate the "
        f"error budget of the SLO period runs out early. The critical tier (1h and 5m windows, 14.4x the "
        f"budget) means about 2% of a 30-day budget is gone within an hour; the warning tier (6h and 30m, 6x) "
        f"means a slower but sustained burn.",
        causes,
        ((f"Share of requests within the {what.lower()} threshold, per window",
          f'{c.LATENCY_WITHIN_SLO.format(signal=signal, window="5m")}{{model="MODEL"}}'),
         ("p95 and p99", f'{c.LATENCY_QUANTILE.format(signal=signal)}{{model="MODEL"}}'),
         ("Waiting and running requests", f'{c.WAITING}{{model="MODEL"}} or {c.RUNNING}{{model="MODEL"}}'),
         ("KV-cache usage", f'{c.KV_CACHE}{{model="MODEL"}}')),
        mitigations,
    )


DOCS = {d.name: d for d in (
    AlertDoc("LLMModelDown", "Model down", "An LLM model has no ready replica or no scrape target up.",
             "Clients of this model get errors or time out: no pod is Ready, or Prometheus scrapes none of "
             "the model's pods (which also blinds every other alert for it).",
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
              "the weights come from.")),
    AlertDoc("LLMReplicasBelowMin", "Replicas below minimum",
             "An LLM model runs fewer ready replicas than its minimum.",
             "The model serves with less capacity than planned: latency and queueing rise under load and one "
             "more failure may take it down.",
             ("Pods restarting or failing readiness.", "Not enough free GPUs to schedule the replicas.",
              "A rollout stuck half way."),
             (("Ready replicas", f'{c.REPLICAS_READY}{{model="MODEL"}}'),
              ("Start-up in progress", f'{c.COLD_START}{{model="MODEL"}}')),
             ("Find the pods that are not Ready and why (`kubectl get pods`, events).",
              "Check GPU capacity in the cluster; move or evict lower-priority GPU workloads.")),
    _slo_doc("LLMTimeToFirstTokenSLOBurn", "ttft", "Time to first token",
             ("Requests queue because the model is at capacity (waiting requests rising).",
              "Long prompts: prefill time grows with prompt length.",
              "KV cache full, so new requests wait for running ones to finish or get preempted.",
              "A replica lost (fewer replicas share the load)."),
             ("Scale out replicas, or lower max_num_seqs / concurrency limits to protect latency.",
              "Enable or tune chunked prefill and prefix caching.",
              "Shed or rate-limit the heaviest clients.")),
    _slo_doc("LLMInterTokenLatencySLOBurn", "itl", "Inter-token latency",
             ("Batches too large: decode steps slow down as more sequences share the GPU.",
              "Long prefills interleaved with decodes (no chunked prefill).",
              "GPU throttling (power, temperature) or a degraded GPU."),
             ("Lower the maximum batch size (max_num_seqs) or enable chunked prefill.",
              "Scale out so each replica runs smaller batches.",
              "Check GPU clocks and XID errors on the model's nodes.")),
    _slo_doc("LLMEndToEndLatencySLOBurn", "e2e", "End-to-end latency",
             ("Clients asking for much longer outputs than usual.",
              "Queueing under load, or slower decoding (see TTFT and inter-token latency).",
              "Preemptions restarting work."),
             ("Check whether TTFT or inter-token latency burns too, and follow that runbook.",
              "Cap max_tokens for clients that do not need long outputs.",
              "Scale out replicas.")),
    AlertDoc("LLMErrorBudgetBurn", "Error budget burn", "LLM requests fail faster than the availability SLO allows.",
             "A growing share of requests fails (HTTP 5xx for vLLM; failed inference requests for Triton). At "
             "this rate the availability budget runs out early.",
             ("Out-of-memory or CUDA errors in the engine.", "Requests rejected while overloaded.",
              "A bad deploy (model, tokenizer or config).", "A replica crashing mid-request."),
             (("Error ratio per window", f'{c.ERROR_RATIO.format(window="5m")}{{model="MODEL"}}'),
              ("Requests per second", f'{c.REQUESTS.format(window="5m")}{{model="MODEL"}}'),
              ("Ready replicas", f'{c.REPLICAS_READY}{{model="MODEL"}}')),
             ("Roll back if the errors started with a deploy.", "Read the engine logs of the failing pods.",
              "Scale out if errors are overload rejections.")),
    AlertDoc("LLMQueueBackingUp", "Queue backing up", "Requests are piling up in an LLM model's queue.",
             "More requests wait for a batch slot than the threshold allows; time to first token grows with "
             "the queue.",
             ("Traffic above the capacity of the current replicas.", "KV cache full, so the scheduler admits "
              "fewer requests.", "A replica lost."),
             (("Waiting requests", f'{c.WAITING}{{model="MODEL"}}'),
              ("Requests per second", f'{c.REQUESTS.format(window="5m")}{{model="MODEL"}}'),
              ("KV-cache usage", f'{c.KV_CACHE}{{model="MODEL"}}')),
             ("Scale out replicas.", "Rate-limit the noisiest clients.", "Check for lost replicas.")),
    AlertDoc("LLMKVCacheNearFull", "KV cache near full", "An LLM model's KV cache is nearly full.",
             "The KV cache holds the attention state of running requests. Near full, the scheduler admits "
             "fewer requests and preempts running ones, so latency climbs.",
             ("Many concurrent long-context requests.", "gpu_memory_utilization or max_model_len set so "
              "that few KV blocks fit."),
             (("KV-cache usage", f'{c.KV_CACHE}{{model="MODEL"}}'),
              ("Running requests", f'{c.RUNNING}{{model="MODEL"}}')),
             ("Scale out, or lower max_num_seqs so fewer sequences compete.",
              "Raise gpu_memory_utilization or use a quantised KV cache (fp8) if memory allows.")),
    AlertDoc("LLMPreemptionsHigh", "Preemptions high", "An LLM model preempts requests often.",
             "The scheduler evicts running requests to free KV cache and recomputes them later: throughput "
             "drops and latency rises.",
             ("KV cache exhausted by long or many concurrent sequences.",),
             (("Preemptions per second", f'{c.PREEMPTIONS}{{model="MODEL"}}'),
              ("KV-cache usage", f'{c.KV_CACHE}{{model="MODEL"}}')),
             ("Lower max_num_seqs or max_num_batched_tokens.", "Scale out replicas.")),
    AlertDoc("LLMGPUSaturated", "GPU saturated", "The GPUs of an LLM model are saturated.",
             "The model's GPUs are busy nearly all the time: there is no headroom for bursts.",
             ("Traffic near capacity.", "Inefficient batching (many small batches)."),
             (("GPU utilisation", f'{c.GPU_UTILIZATION}{{model="MODEL"}}'),
              ("Requests per second", f'{c.REQUESTS.format(window="5m")}{{model="MODEL"}}')),
             ("Scale out before latency SLOs burn.", "Review batching limits.")),
    AlertDoc("LLMGPUMemoryNearFull", "GPU memory near full", "The GPU memory of an LLM model is nearly full.",
             "GPU framebuffer memory is close to full. Engines pre-allocate most of it (vLLM's "
             "gpu_memory_utilization defaults to 0.9), so this alert fires only above that reservation: a "
             "leak or another process on the GPU.",
             ("Another process sharing the GPU.", "Memory fragmentation or a leak in the engine.",
              "gpu_memory_utilization set too high."),
             (("Highest GPU memory use", f'{c.GPU_MEMORY}{{model="MODEL"}}'),),
             ("Check nvidia-smi on the node for other processes.", "Restart the affected pod if memory grows "
              "without bound.")),
    AlertDoc("LLMGPUXidErrors", "GPU XID errors", "A GPU of an LLM model reported an XID error.",
             "The NVIDIA driver reported an XID error on a GPU serving this model. Some XIDs are "
             "application faults (13, 31, 43); others mean the GPU needs a reset or replacement (48, 63, 64, "
             "74, 79, 92, 94, 95).",
             ("Hardware fault (ECC, NVLink, fallen off the bus).", "Driver or firmware bug.",
              "An illegal memory access in a kernel."),
             (("Last XID code per model", f'{c.GPU_XID}{{model="MODEL"}}'),
              ("Per GPU", 'DCGM_FI_DEV_XID_ERRORS{namespace="NAMESPACE"} > 0')),
             ("Look the XID code up in NVIDIA's XID catalog.", "Cordon and drain the node if the XID means "
              "a hardware fault; move the pods elsewhere.")),
    AlertDoc("LLMColdStartSlow", "Cold start slow", "An LLM replica took too long to become ready.",
             "A new replica of this model took (or is taking) longer than the cold-start budget from pod "
             "creation to Ready. Scale-ups and rollouts are slow to add capacity.",
             ("Weights (10-20 GB and more) downloaded from a slow or remote store.",
              "Image pull of a large container.", "CUDA graph capture and warm-up.", "Waiting for a GPU node."),
             (("Longest recent start-up", f'{c.COLD_START}{{model="MODEL"}}'),
              ("Engine model-load time (where exported)", f'{c.MODEL_LOAD}{{model="MODEL"}}')),
             ("Cache weights on node-local disk or a nearby store.", "Pre-pull images on GPU nodes.",
              "Keep a warm minimum of replicas.")),
)}


def alert_rules(inventory: Inventory, model: Model) -> list[dict]:
    return [a.rule for a in alerts(inventory, model)]


def alerts(inventory: Inventory, model: Model) -> list[Alert]:
    q = ModelQueries(inventory, model)
    sel = base_labels(model)
    name = go_template_literal(f"{model.name} ({model.served_name})")
    th = model.thresholds
    rules: list[Alert] = []

    def vocab(metric: str) -> str:
        return selector(metric, [(k, "=", v) for k, v in sel.items()])

    def alert(alertname: str, severity: str, condition: Condition, expr: str, for_: str, description: str,
              **labels: str):
        rules.append(Alert({
            "alert": alertname,
            "expr": expr,
            "for": model.alert_for.get(alertname, for_),
            "labels": {"severity": severity, **dict(model.team.labels), **labels},
            "annotations": {
                "summary": DOCS[alertname].summary,
                "description": description,
                "runbook_url": f"{inventory.runbook_base_url}/{alertname}.md",
                "dashboard_url": f"{inventory.grafana_url}/d/{c.model_dashboard_uid(model.name)}",
            },
        }, condition))

    if model.replicas_min >= 1:
        alert("LLMModelDown", CRITICAL, Condition("replicas_ready", "==", Decimal(0)),
              f"{vocab(c.REPLICAS_READY)} == 0 or {vocab(c.TARGETS_UP)} == 0", "5m",
              f"{name} has no ready replica or no scrape target up (value {{{{ $value }}}}).")
    if model.replicas_min >= 2:
        alert("LLMReplicasBelowMin", WARNING, Condition("replicas_ready", "<", Decimal(model.replicas_min)),
              f"{vocab(c.REPLICAS_READY)} < {model.replicas_min}", "15m",
              f"{name} has {{{{ $value }}}} ready replicas, below its minimum of {model.replicas_min}.")

    burns = [(s, f"LLM{doc}SLOBurn", what) for s, doc, what in (
        ("ttft", "TimeToFirstToken", "a time to first token"),
        ("itl", "InterTokenLatency", "an inter-token latency"),
        ("e2e", "EndToEndLatency", "an end-to-end latency"))]
    for signal, alertname, what in burns:
        if not q.has(signal):
            continue
        slo = model.slo.latency(signal)
        for tier in BURN_TIERS:
            limit, op = _burn_limit(tier.factor, slo.objective)
            miss = [f"(1 - {vocab(c.LATENCY_WITHIN_SLO.format(signal=signal, window=w))}) {op} {limit}"
                    for w in (tier.long, tier.short)]
            alert(alertname, tier.severity, Condition(f"{signal}_miss", op, Decimal(limit), tier.long),
                  _guarded(miss, vocab, tier, th), tier.for_,
                  f"{{{{ $value | humanizePercentage }}}} of requests to {name} had {what} above "
                  f"{number(slo.threshold_seconds)} s over the last {tier.long}; the SLO allows "
                  f"{_percent(1 - slo.objective)} and this alert fires above {_percent(Decimal(limit))} "
                  f"({number(tier.factor)}x the budget).",
                  long=tier.long, short=tier.short)

    for tier in BURN_TIERS:
        limit, op = _burn_limit(tier.factor, model.slo.availability)
        errors = [f"{vocab(c.ERROR_RATIO.format(window=w))} {op} {limit}" for w in (tier.long, tier.short)]
        alert("LLMErrorBudgetBurn", tier.severity, Condition("error_ratio", op, Decimal(limit), tier.long),
              _guarded(errors, vocab, tier, th), tier.for_,
              f"{{{{ $value | humanizePercentage }}}} of requests to {name} failed over the last {tier.long}; "
              f"the availability SLO allows {_percent(1 - model.slo.availability)} and this alert fires above "
              f"{_percent(Decimal(limit))} ({number(tier.factor)}x the budget).",
              long=tier.long, short=tier.short)

    if q.has("waiting"):
        alert("LLMQueueBackingUp", WARNING, Condition("waiting", ">", th["queue_depth"]),
              f"{vocab(c.WAITING)} > {number(th['queue_depth'])}", "10m",
              f"{name} has {{{{ $value }}}} requests waiting (threshold {number(th['queue_depth'])}).")
    alert("LLMKVCacheNearFull", WARNING, Condition("kv_cache", ">", th["kv_cache_usage"]), f"{vocab(c.KV_CACHE)} > {number(th['kv_cache_usage'])}", "15m",
          f"The KV cache of {name} is {{{{ $value | humanizePercentage }}}} full "
          f"(threshold {_percent(th['kv_cache_usage'])}).")
    if q.has("preemptions"):
        alert("LLMPreemptionsHigh", WARNING, Condition("preemptions", ">", th["preemptions_per_second"]),
              f"{vocab(c.PREEMPTIONS)} > {number(th['preemptions_per_second'])}", "15m",
              f"{name} preempts {{{{ printf \"%.2f\" $value }}}} requests per second "
              f"(threshold {number(th['preemptions_per_second'])}).")
    alert("LLMGPUSaturated", WARNING, Condition("gpu_utilization", ">", th["gpu_utilization"]), f"{vocab(c.GPU_UTILIZATION)} > {number(th['gpu_utilization'])}", "30m",
          f"The GPUs of {name} are {{{{ $value | humanizePercentage }}}} utilised on average "
          f"(threshold {_percent(th['gpu_utilization'])}).")
    alert("LLMGPUMemoryNearFull", WARNING, Condition("gpu_memory", ">", th["gpu_memory_usage"]), f"{vocab(c.GPU_MEMORY)} > {number(th['gpu_memory_usage'])}", "15m",
          f"A GPU of {name} has {{{{ $value | humanizePercentage }}}} of its memory in use "
          f"(threshold {_percent(th['gpu_memory_usage'])}).")
    alert("LLMGPUXidErrors", WARNING, Condition("gpu_xid", ">", Decimal(0)), f"{vocab(c.GPU_XID)} > 0", "1m",
          f"A GPU of {name} reported XID error {{{{ $value }}}}.")
    alert("LLMColdStartSlow", WARNING, Condition("cold_start", ">", th["cold_start_seconds"]), f"{vocab(c.COLD_START)} > {number(th['cold_start_seconds'])}", "1m",
          f"A replica of {name} took {{{{ $value | humanizeDuration }}}} from creation to ready "
          f"(budget {number(th['cold_start_seconds'])} s).")
    return rules


def _burn_limit(factor: Decimal, objective: Decimal) -> tuple[str, str]:
    """factor x budget, capped at 1: with a loose objective a fast burn means every request misses."""
    limit = factor * (1 - objective)
    if limit >= 1:
        return "1", ">="
    return number(limit), ">"


def _guarded(conditions: list[str], vocab, tier: BurnTier, thresholds) -> str:
    traffic = f"{vocab(c.REQUESTS.format(window=tier.long))} >= {number(thresholds['min_request_rate'])}"
    return "\nand\n".join(f"({cond})" for cond in [*conditions, traffic]) + "\n"


def _percent(fraction: Decimal) -> str:
    return f"{number(fraction * 100)}%"
