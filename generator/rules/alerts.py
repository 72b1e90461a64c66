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
from generator.inventory import AlertOptions, BurnTier, Inventory, Model
from generator.prometheus_syntax import duration_text
from generator.promql import go_template_literal, number, selector
from generator.queries import ModelQueries
from generator.rules.recording import base_labels
from generator.rules.telemetry import telemetry

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
class Alert:
    rule: dict
    condition: Condition | None  # None: a compound condition, proven by the fault cases instead


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


def _slo_doc(name: str, signal: str, what: str, causes, mitigations) -> AlertDoc:
    return AlertDoc(
        name, f"{what} SLO burn",
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


DOCS = {d.name: d for d in (
    AlertDoc("LLMModelDown", "Model down", "An LLM model has no ready replica or no engine target up.",
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
    _slo_doc("LLMTimePerOutputTokenSLOBurn", "tpot", "Time per output token",
             ("Decode slowed down: larger batches, long prefills interleaved with decodes, or a slower GPU.",
              "Preemptions: a preempted request's decode time includes the wait to resume.",
              "A change in output lengths or sampling (speculative decoding switched off) that slows each token."),
             ("Lower the maximum batch size (max_num_seqs) or enable chunked prefill.",
              "Scale out so each replica runs smaller batches.",
              "Check GPU clocks and XID errors on the model's nodes; compare with the inter-token latency panel.")),
    _slo_doc("LLMEndToEndLatencySLOBurn", "e2e", "End-to-end latency",
             ("Clients asking for much longer outputs than usual.",
              "Queueing under load, or slower decoding (see TTFT and inter-token latency).",
              "Preemptions restarting work."),
             ("Check whether TTFT or inter-token latency burns too, and follow that runbook (TGI measures "
              "neither: compare its queue time with the end-to-end time on the model dashboard).",
              "Cap max_tokens for clients that do not need long outputs.",
              "Scale out replicas.")),
    AlertDoc("LLMErrorBudgetBurn", "Error budget burn", "LLM requests fail faster than the availability SLO allows.",
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
              "Scale out if errors are overload rejections.")),
    AlertDoc("LLMQueueBackingUp", "Queue backing up", "Requests are piling up in the queue of an LLM replica.",
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
              "sticky load balancing.")),
    AlertDoc("LLMKVCacheNearFull", "KV cache near full",
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
              "Raise gpu_memory_utilization or use a quantised KV cache (fp8) if memory allows.")),
    AlertDoc("LLMPreemptionsHigh", "Preemptions high", "An LLM model preempts requests often.",
             "The scheduler evicts running requests to free KV cache and recomputes them later: throughput "
             "drops and latency rises.",
             ("KV cache exhausted by long or many concurrent sequences.",),
             (("Preemptions per second", f'{c.PREEMPTIONS}{{model="MODEL"}}'),
              ("KV-cache usage", f'{c.KV_CACHE}{{model="MODEL"}}')),
             ("Lower max_num_seqs or max_num_batched_tokens.", "Scale out replicas.")),
    AlertDoc("LLMGPUSaturated", "GPU saturated", "The GPUs of an LLM model are saturated: busy, and requests wait.",
             "The model's GPUs are busy nearly all the time and requests wait for a batch slot: there is no "
             "headroom left. GPU utilisation alone (DCGM_FI_DEV_GPU_UTIL: some kernel was running) is high for any "
             "healthy, continuously batching engine, so this alert also needs requests waiting for capacity "
             "(vLLM: waiting requests on a replica; TensorRT-LLM on Triton: the batch manager at its maximum).",
             ("Traffic near capacity.", "Inefficient batching (many small batches)."),
             (("GPU utilisation", f'{c.GPU_UTILIZATION}{{model="MODEL"}}'),
              ("Longest queue of one replica", f'{c.REPLICA_WAITING}{{model="MODEL"}}'),
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
              "elsewhere.")),
    AlertDoc("LLMEngineStalled", "Engine stalled", "An LLM engine has work in flight but makes no progress.",
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
              "Add a liveness probe that sends a tiny generation request, so Kubernetes restarts hung engines.")),
    AlertDoc("LLMPodNotReady", "Pod not ready", "A pod of an LLM model has not been Ready for longer than its "
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
              "Free or add GPU nodes for Pending pods.")),
    AlertDoc("LLMEngineCrashLooping", "Engine crash-looping", "The engine container of an LLM pod is crash-looping.",
             "Kubernetes keeps restarting the engine container of this pod and backs off (CrashLoopBackOff). "
             "Each restart reloads the weights, so the replica serves nothing meanwhile.",
             ("CUDA out of memory while loading weights or capturing CUDA graphs.",
              "A bad model path, tokenizer or engine flag after a deploy.", "A driver or XID fault on the GPU."),
             (("Engine container waiting reasons", f'{c.CONTAINER_WAITING}{{model="MODEL"}}'),
              ("OOM kills", f'{c.OOM_KILLS}{{model="MODEL"}}'),
              ("Pods not ready", f'{c.POD_READY}{{model="MODEL"}} == 0')),
             ("`kubectl -n NAMESPACE logs POD -c CONTAINER --previous`: the last crash's error.",
              "Roll back the last deploy if the crashes started with it.")),
    AlertDoc("LLMEngineOOMKilled", "Engine OOM-killed", "The engine container of an LLM pod was OOM-killed.",
             "The kernel killed the engine container for exceeding its memory limit (host memory, not GPU memory): "
             "in-flight requests on that replica failed and it reloads its weights.",
             ("CPU swap space or KV offload to host memory larger than the container's limit.",
              "Tokenizer or multimodal preprocessing memory growth.", "A memory limit set below what loading "
              "the weights needs."),
             (("OOM kills per pod", f'{c.OOM_KILLS}{{model="MODEL"}}'),
              ("Engine container waiting reasons", f'{c.CONTAINER_WAITING}{{model="MODEL"}}')),
             ("Raise the container's memory limit, or lower --swap-space / CPU offload.",
              "Check `kubectl -n NAMESPACE describe pod POD` for the last state and its limit.")),
    AlertDoc("LLMEngineScrapeFailing", "Engine scrape failing", "Prometheus cannot scrape the engine of a Ready "
             "LLM pod.",
             "The pod is Ready, so it receives traffic, but Prometheus cannot read its engine's /metrics: every "
             "panel and alert is blind for that replica.",
             ("The engine's metrics port or path changed (a new engine version, a flag).",
              "The API server is too busy to answer /metrics within the scrape timeout.",
              "A network policy blocking Prometheus."),
             (("Engine targets up per pod", f'{c.TARGET_UP}{{model="MODEL"}}'),
              ("Scrape errors", 'up{namespace="NAMESPACE"} == 0')),
             ("Open Prometheus' Targets page for the pod and read the scrape error.",
              "Compare the ServiceMonitor or PodMonitor port with the engine's.")),
    AlertDoc("LLMTelemetryMissing", "Telemetry missing", "A series an LLM model's dashboards and alerts rely on "
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
              "on in the engine.",)),
    AlertDoc("LLMEngineVersionDrift", "Engine version drift", "LLM pods run another engine version than the "
             "inventory says.",
             "The engine container's image names a version that differs from the model's engine_version in the "
             "inventory. The generated queries use the metric names of the inventory's version, so renamed "
             "metrics go missing (empty panels, silent alerts).",
             ("An engine upgrade deployed without updating the inventory.", "A canary or rollback in progress."),
             (("Running versions per pod", f'{c.ENGINE_VERSION}{{model="MODEL"}}'),
              ("Series per signal", f'{c.TELEMETRY}{{model="MODEL"}}')),
             ("Set engine_version in the inventory to the version running, regenerate and deploy the rules.",
              "If the image tags do not follow the official pattern, set models[].container.image_pattern.")),
    AlertDoc("LLMCollectorDown", "Collector down", "A collector the LLM alerts rely on is not scraped.",
             "Prometheus scrapes no target of kube-state-metrics or dcgm-exporter (or some dcgm-exporter targets "
             "are down). The model alerts that read it stay silent rather than page for every model: replica "
             "counts, cold starts and GPU alerts are unknown until it is back.",
             ("The collector's pod crashed or was evicted.", "A changed job name or ServiceMonitor.",
              "A dcgm-exporter DaemonSet pod missing on some GPU nodes."),
             (("Collector targets", 'up{job=~"kube-state-metrics|dcgm-exporter"}'),),
             ("`kubectl get pods -A | grep -E 'kube-state-metrics|dcgm-exporter'` and their logs.",
              "If the job names differ, set collectors.*.job in the inventory.")),
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
    name = go_template_literal(f"{model.name} ({model.served_name})") + cluster_text(inventory)
    th = model.thresholds
    rules: list[Alert] = []

    def vocab(metric: str, *matchers: tuple[str, str, str]) -> str:
        return selector(metric, [(k, "=", v) for k, v in sel.items()] + list(matchers))

    def alert(alertname: str, severity: str, condition: Condition | None, expr: str, for_: str, description: str,
              **labels: str):
        options = model.alerts.get(alertname, AlertOptions())
        if not options.enabled:
            return
        severity = options.severity or severity
        rule = {"alert": alertname, "expr": expr, "for": options.for_ or for_}
        if options.keep_firing_for:
            rule["keep_firing_for"] = options.keep_firing_for
        # `namespace` routes the alert to a namespaced AlertmanagerConfig (prometheus-operator).
        rule["labels"] = {"severity": severity, "namespace": model.namespace, **dict(model.team.labels),
                          **dict(model.severity_labels.get(severity, ())), **dict(options.labels), **labels}
        rule["annotations"] = {
            "summary": DOCS[alertname].summary,
            "description": description,
            "runbook_url": f"{inventory.runbook_base_url}/{alertname}.md",
            "dashboard_url": f"{inventory.grafana_url}/d/{c.model_dashboard_uid(model.name)}",
        }
        rules.append(Alert(rule, condition))

    pod = "{{ $labels.pod }}"
    if model.replicas_min >= 1:
        alert("LLMModelDown", CRITICAL, Condition("replicas_ready", "==", Decimal(0)),
              f"{vocab(c.REPLICAS_READY)} == 0 or {vocab(c.TARGETS_UP)} == 0", "5m",
              f"{name} has no ready replica or no engine target up (value {{{{ $value }}}}).")
    if q.has("running"):  # without a gauge of requests in flight a hang looks like no traffic
        in_flight = f"({vocab(c.RUNNING)} > 0" + (f" or {vocab(c.WAITING)} > 0)" if q.has("waiting") else ")")
        progress = "no request completes and no token is generated" if q.has("generation_tokens") \
            else "no request completes"
        alert("LLMEngineStalled", CRITICAL, None, f"{in_flight}\nand\n{vocab(c.PROGRESS)} == 0\n", "3m",
              f"{name} has {{{{ $value }}}} requests in flight but {progress} (last {c.STALL_WINDOW}): the engine "
              f"is hung while its pods stay Ready.")
    if model.replicas_min >= 2:
        alert("LLMReplicasBelowMin", WARNING, Condition("replicas_ready", "<", Decimal(model.replicas_min)),
              f"{vocab(c.REPLICAS_READY)} < {model.replicas_min}", "15m",
              f"{name} has {{{{ $value }}}} ready replicas, below its minimum of {model.replicas_min}.")
    budget = th["cold_start_seconds"]
    alert("LLMPodNotReady", WARNING, None, f"{vocab(c.POD_READY)} == 0", duration_text(budget),
          f"Pod {pod} of {name} has not been Ready for longer than the cold-start budget of {number(budget)} s "
          f"(stuck rollout, Pending for a GPU, or failing readiness).")
    alert("LLMEngineCrashLooping", WARNING, None,
          f"max_over_time({vocab(c.CONTAINER_WAITING, ('reason', '=', 'CrashLoopBackOff'))}[10m]) == 1", "10m",
          f"The {go_template_literal(model.container)} container of pod {pod} of {name} is crash-looping.")
    alert("LLMEngineOOMKilled", WARNING, None, f"{vocab(c.OOM_KILLS)} > 0", "1m",
          f"The {go_template_literal(model.container)} container of pod {pod} of {name} was OOM-killed "
          f"{{{{ $value }}}} times in the last {c.OOM_WINDOW}.")
    if not model.pushed:  # pushed telemetry has no per-pod scrape target whose failure could be told
        alert("LLMEngineScrapeFailing", WARNING, None,
              f"{vocab(c.TARGET_UP)} == 0\nand {q.on('namespace', 'pod')}\n{vocab(c.POD_READY)} == 1\n", "10m",
              f"Prometheus cannot scrape the engine of pod {pod} of {name} although the pod is Ready: its "
              f"metrics (and every alert built on them) are blind for that replica.")

    burns = [(s, f"LLM{doc}SLOBurn", what) for s, doc, what in (
        ("ttft", "TimeToFirstToken", "a time to first token"),
        ("itl", "InterTokenLatency", "an inter-token latency"),
        ("tpot", "TimePerOutputToken", "a time per output token"),
        ("e2e", "EndToEndLatency", "an end-to-end latency"))]
    for signal, alertname, what in burns:
        slo = q.slo(signal)
        if slo is None:
            continue
        for tier in inventory.slo_policy.tiers:
            limit, op = _burn_limit(tier.factor, slo.objective)
            miss = [f"(1 - {vocab(c.LATENCY_WITHIN_SLO.format(signal=signal, window=w))}) {op} {limit}"
                    for w in (tier.long, tier.short)]
            alert(alertname, tier.severity, Condition(f"{signal}_miss", op, Decimal(limit), tier.long),
                  _guarded(miss, vocab, tier, th, signal), tier.for_,
                  f"{{{{ $value | humanizePercentage }}}} of the {_units(signal)} of {name} had {what} above "
                  f"{number(slo.threshold_seconds)} s over the last {tier.long}; the SLO allows "
                  f"{_percent(1 - slo.objective)} and this alert fires above {_percent(Decimal(limit))} "
                  f"({number(tier.factor)}x the budget).",
                  long=tier.long, short=tier.short)

    for tier in inventory.slo_policy.tiers:
        limit, op = _burn_limit(tier.factor, model.slo.availability)
        errors = [f"{vocab(c.ERROR_RATIO.format(window=w))} {op} {limit}" for w in (tier.long, tier.short)]
        alert("LLMErrorBudgetBurn", tier.severity, Condition("error_ratio", op, Decimal(limit), tier.long),
              _guarded(errors, vocab, tier, th, "availability"), tier.for_,
              f"{{{{ $value | humanizePercentage }}}} of requests to {name} failed over the last {tier.long}; "
              f"the availability SLO allows {_percent(1 - model.slo.availability)} and this alert fires above "
              f"{_percent(Decimal(limit))} ({number(tier.factor)}x the budget).",
              long=tier.long, short=tier.short)

    waiting = capacity_wait(q, vocab)
    if q.has("waiting"):
        alert("LLMQueueBackingUp", WARNING, Condition("replica_waiting", ">", th["queue_depth"]),
              f"{vocab(c.REPLICA_WAITING)} > {number(th['queue_depth'])}", "10m",
              f"A replica of {name} has {{{{ $value }}}} requests waiting (threshold {number(th['queue_depth'])} "
              f"per replica).")
    if waiting is not None and q.has("kv_cache"):
        kv_waits = waiting if not q.has("preemptions") else f"({vocab(c.PREEMPTIONS)} > 0 or {waiting})"
        alert("LLMKVCacheNearFull", WARNING, None,
              f"{vocab(c.KV_CACHE)} > {number(th['kv_cache_usage'])}\nand\n{kv_waits}\n", "15m",
              f"The KV cache of {name} is {{{{ $value | humanizePercentage }}}} full "
              f"(threshold {_percent(th['kv_cache_usage'])}) and requests wait for capacity or get preempted.")
    if q.has("preemptions"):
        alert("LLMPreemptionsHigh", WARNING, Condition("preemptions", ">", th["preemptions_per_second"]),
              f"{vocab(c.PREEMPTIONS)} > {number(th['preemptions_per_second'])}", "15m",
              f"{name} preempts {{{{ printf \"%.2f\" $value }}}} requests per second "
              f"(threshold {number(th['preemptions_per_second'])}).")
    if waiting is not None:
        alert("LLMGPUSaturated", WARNING, None,
              f"{vocab(c.GPU_UTILIZATION)} > {number(th['gpu_utilization'])}\nand\n{waiting}\n", "15m",
              f"The GPUs of {name} are {{{{ $value | humanizePercentage }}}} utilised on average "
              f"(threshold {_percent(th['gpu_utilization'])}) and requests wait for a batch slot.")
    alert("LLMGPUMemoryNearFull", WARNING, Condition("gpu_memory", ">", th["gpu_memory_usage"]),
          f"{vocab(c.GPU_MEMORY)} > {number(th['gpu_memory_usage'])}", "15m",
          f"A GPU of {name} has {{{{ $value | humanizePercentage }}}} of its memory in use "
          f"(threshold {_percent(th['gpu_memory_usage'])}).")
    alert("LLMGPUXidErrors", WARNING, None, f"{vocab(c.GPU_XID_NEW)} > 0", "1m",
          f"GPU {{{{ $labels.gpu }}}} on node {{{{ $labels.node }}}} (pod {pod}) of {name} reported XID error "
          f"{{{{ $value }}}} within the last {c.XID_WINDOW}.")
    alert("LLMColdStartSlow", WARNING, Condition("cold_start", ">", th["cold_start_seconds"]),
          f"{vocab(c.COLD_START)} > {number(th['cold_start_seconds'])}", "1m",
          f"A replica of {name} took {{{{ $value | humanizeDuration }}}} from creation to ready "
          f"(budget {number(th['cold_start_seconds'])} s).")
    for item in telemetry(q):
        alert("LLMTelemetryMissing", WARNING, None,
              f"{vocab(c.TELEMETRY, ('signal', '=', item.signal))} == 0\nand ignoring (signal)\n"
              f"{vocab(c.TARGETS_UP)} > 0\n", "10m",
              f"{name}: its engine targets are up but no {go_template_literal(item.metric)} series matches "
              f"(signal {item.signal}), so its panels are empty and its alerts silent. Likely cause: "
              f"{go_template_literal(item.cause)}",
              signal=item.signal, collector=item.collector)
    version = go_template_literal(str(model.engine_version))
    alert("LLMEngineVersionDrift", WARNING, None,
          f"count by ({', '.join(q.keys(*sel, 'running_version'))}) (\n  "
          f"{vocab(c.ENGINE_VERSION, ('running_version', '!=', str(model.engine_version)))}\n)\n", "15m",
          f"{{{{ $value }}}} pods of {name} run {q.engine.title} {{{{ $labels.running_version }}}} (from the "
          f"{go_template_literal(model.container)} container's image) while the inventory says {version}: "
          f"dashboards and alerts query the metric names of {version}. Update engine_version in the inventory.")
    return rules


def cluster_text(inventory: Inventory) -> str:
    """` in cluster <value>` for alert descriptions in multi-cluster mode: the series' label, or (where it is only
    an external label and the rules run in each cluster's Prometheus) the external label."""
    mc = inventory.multi_cluster
    if mc is None:
        return ""
    if mc.where == "series":
        return f" in cluster {{{{ $labels.{mc.label} }}}}"
    return f" in cluster {{{{ or $labels.{mc.label} $externalLabels.{mc.label} }}}}"


def capacity_wait(q: ModelQueries, vocab) -> str | None:
    """PromQL true while requests wait for capacity on some replica, in the engine's terms; None if unseen."""
    if q.has("waiting"):
        return f"{vocab(c.REPLICA_WAITING)} > 0"
    if q.has("batch_occupancy"):
        return f"{vocab(c.BATCH_OCCUPANCY)} >= 1"
    return None


def _burn_limit(factor: Decimal, objective: Decimal) -> tuple[str, str]:
    """factor x budget, capped at 1: with a loose objective a fast burn means every request misses."""
    limit = factor * (1 - objective)
    if limit >= 1:
        return "1", ">="
    return number(limit), ">"


def _guarded(conditions: list[str], vocab, tier: BurnTier, thresholds, slo: str) -> str:
    """Both windows burn, and the SLI's own denominator saw enough traffic over the long window."""
    requests = vocab(c.SLO_REQUESTS.format(window=tier.long), ("slo", "=", slo))
    traffic = f"{requests} >= {number(thresholds['min_request_rate'])}"
    burning = "\nand\n".join(f"({cond})" for cond in conditions)
    return f"{burning}\nand ignoring (slo)\n({traffic})\n"


def _percent(fraction: Decimal) -> str:
    return f"{number(fraction * 100)}%"
