"""One dashboard per inventory model, in the order an on-call engineer asks after a page.

Is it up and is it failing (the status strip), the golden signals (traffic and
errors, latency, saturation), the SLOs, then the rows that say why, collapsed
below the fold so the page opens fast. Status and SLO stats read the `llm:`
recording rules (the numbers alerts use); the charts
query the engine's own metrics through `ModelQueries`, in the names its version
exposes, with `$__rate_interval` windows. A signal the engine cannot show gets
a text panel saying why, never an empty chart.
"""
from __future__ import annotations

from urllib.parse import urlencode

from grafanalib.core import DashboardLink, Template

from generator import conventions as c
from generator.dashboards import efficiency
from generator.dashboards import panels as p
from generator.dashboards.common import (
    MODEL_TAG,
    cluster_label,
    cluster_variables,
    dashboard,
    link,
    model_dashboards_link,
    variable,
)
from generator.dashboards.layout import Section, spread
from generator.dashboards.why import why_sections
from generator.inventory import Inventory, Model
from generator.promql import number, selector
from generator.queries import ModelQueries, PodQueries
from generator.rules.recording import base_labels

LIVE = "$__rate_interval"


def model_dashboard(inventory: Inventory, model: Model) -> dict:
    q = ModelQueries(inventory, model)
    sections = [
        Section("status", "Status: is it up, is it failing", _status(q)),
        Section("traffic", "Traffic and errors", spread(_throughput(q) + _errors(q))),
        Section("latency", "Latency", spread(_latency(q))),
        Section("saturation", "Saturation: batch, queue and KV cache", spread(_queue(q) + _kv_cache(q))),
        Section("slo", "SLOs", spread(_slos(q))),
        Section("replicas", "Replicas: which one", _replicas(q)),
        *why_sections(q, _why_not),
        Section("gpu", "GPUs", spread(_gpus(q)), collapsed=True),
        Section("pods", "Cold start and replicas", spread(_pods(q)), collapsed=True),
        efficiency.model_section(q, _llm),
    ]
    engine = f"{q.engine.title} {model.engine_version}"
    return dashboard(
        c.model_dashboard_uid(model.name), f"LLM model / {model.name}",
        f"{model.served_name} on {engine}, team {model.team.name}, {model.gpus_per_replica} x {model.gpu_type} "
        f"per replica.", [MODEL_TAG], sections,
        [link(c.FLEET_UID, "Fleet overview"), _gpu_fleet_link(model), model_dashboards_link()],
        [*cluster_variables(inventory), _pod_variable(q)], [_deploy_annotation(q)],
        cluster=cluster_label(inventory),
    )


def _gpu_fleet_link(model: Model) -> DashboardLink:
    """The GPU fleet dashboard narrowed to this model (its per-model panels and table)."""
    query = urlencode([("var-model", model.name), ("var-namespace", model.namespace)])
    return DashboardLink(type="link", title="GPU fleet (this model)", uri=f"/d/{c.GPU_UID}?{query}",
                         icon="dashboard", keepTime=True, includeVars=False)


def _llm(model: Model, metric: str) -> str:
    """A recorded `llm:` series of this model."""
    return selector(metric, [(k, "=", v) for k, v in base_labels(model).items()])


def _why_not(q: ModelQueries, key: str, title: str, signal: str, height: int = p.HEIGHT) -> p.Text:
    return p.text(key, title, f"**Not available for {q.engine.title} {q.model.engine_version}.** "
                              f"{q.why_not(signal)}", height=height)


def _percent(value) -> str:
    return f"{number(value * 100)}%"


# -- status --------------------------------------------------------------


def _status(q: ModelQueries) -> list:
    """Four numbers that answer "is it up, is it failing" before anything else."""
    model = q.model
    enough = p.steps(p.BAD, (model.replicas_min, p.GOOD))
    alerts = selector("ALERTS", [("alertstate", "=", "firing"),
                                 *((k, "=", v) for k, v in base_labels(model).items())])
    return [
        p.stat("status.ready", "Ready replicas",
               f"Pods passing readiness now. Red below the minimum, {model.replicas_min} (maximum "
               f"{model.replicas_max}).", p.SHORT, [p.target(_llm(model, c.REPLICAS_READY), instant=True)],
               thresholds=enough),
        p.stat("status.targets", "Engine targets up",
               f"Engine /metrics endpoints Prometheus scrapes successfully now; below the replica count the "
               f"dashboard misses part of the fleet. Red below the minimum, {model.replicas_min}.", p.SHORT,
               [p.target(_llm(model, c.TARGETS_UP), instant=True)], thresholds=enough),
        p.stat("status.alerts", "Alerts firing",
               "Alerts firing now for this model (Prometheus's ALERTS series); 0 is green. The alert list in "
               "Grafana or Alertmanager names them.", p.SHORT,
               [p.target(f"count({alerts}) or vector(0)", instant=True)], thresholds=p.above(1)),
        p.stat("status.budget", "Error budget left",
               "The least error budget left among the model's SLOs over the SLO period: 1 - (1 - good share) / "
               "(1 - objective). Below 0 the budget is spent; red below 25%.", p.RATIO,
               [p.target(f"min({_llm(model, c.BUDGET_REMAINING)})", instant=True)],
               thresholds=p.at_least(0.25), decimals=1),
    ]


# -- per replica ---------------------------------------------------------


def _pod_variable(q: ModelQueries) -> Template:
    """`$pod`: the model's pods (ready or not), several at once, all by default."""
    return variable("pod", "Pod", f"label_values({PodQueries(q).variable_source()}, pod)")


def _replicas(q: ModelQueries) -> list:
    """A row per pod with what tells a bad replica from its peers, then the lines that move apart."""
    m, pods = q.model, PodQueries(q)
    kv_limit, budget = m.thresholds["kv_cache_usage"], 1 - m.slo.availability
    # (column, unit, query, thresholds) in display order; None where the engine version cannot say.
    wanted = [
        ("Ready", p.NONE, pods.ready(), p.steps(p.BAD, (1, p.GOOD))),
        ("Age", p.SECONDS, pods.age(), None),
        ("Restarts", p.NONE, pods.restarts(LIVE), p.steps(p.GOOD, (1, p.WARN))),
        ("Image", None, pods.image(), None),
        ("Node", None, pods.gpu_node(), None),
        ("Running", p.SHORT, pods.gauge("running"), None),
        ("Waiting", p.SHORT, pods.gauge("waiting"), p.above(m.thresholds["queue_depth"])),
        ("KV cache", p.RATIO, pods.gauge("kv_cache"), p.above(kv_limit)),
        ("TTFT p95", p.SECONDS, pods.quantile("ttft", "0.95", LIVE) if q.has("ttft") else None,
         p.above(m.slo.ttft.threshold_seconds)),
        ("Error ratio", p.RATIO, pods.error_ratio(LIVE), p.above(budget)),
        ("GPU utilisation", p.RATIO, pods.gpu_utilization(), p.above(m.thresholds["gpu_utilization"])),
        ("GPU memory", p.RATIO, pods.gpu_memory_usage(), p.above(m.thresholds["gpu_memory_usage"])),
        ("Last XID", p.NONE, pods.gpu_xid(), p.above(1)),
    ]
    columns = [(name, unit, expr, limits) for name, unit, expr, limits in wanted if expr is not None]
    targets = [p.target(expr, instant=True, table=True) for _, _, expr, _ in columns]
    values = {f"Value #{chr(ord('A') + i)}": name for i, (name, unit, _, _) in enumerate(columns) if unit}
    hidden = {f"Value #{chr(ord('A') + i)}": True for i, (_, unit, _, _) in enumerate(columns) if unit is None}
    order = ["pod", *(name if unit else name.lower() for name, unit, _, _ in columns)]
    overrides = [_column("pod", [{"id": "links", "value": [{
        "title": "Only this pod", "url": f"/d/{c.model_dashboard_uid(m.name)}?var-pod=${{__value.raw}}"
                                         f"&var-datasource=${{datasource}}&${{__url_time_range}}"}]}]),
                 _column("node", [{"id": "links", "value": [{
                     "title": "This node's GPUs on the GPU fleet dashboard",
                     "url": f"/d/{c.GPU_UID}?var-node=${{__value.raw}}&var-datasource=${{datasource}}"
                            f"&${{__url_time_range}}"}]}])]
    for name, unit, _, thresholds in columns:
        if unit is None:
            continue
        properties: list[dict] = [{"id": "unit", "value": unit}]
        if thresholds is not None:
            properties += [{"id": "thresholds", "value": {"mode": "absolute", "steps": thresholds}},
                           {"id": "custom.cellOptions", "value": {"type": "color-background"}}]
        overrides.append(_column(name, properties))
    table = p.table(
        "replicas.table", "Replicas",
        f"One row per pod the Pod variable selects: ready (1) or not, age, engine container restarts within "
        f"the rate interval, the image it runs (its tag is the engine version), the node its GPUs sit on "
        f"(click it for that node's GPUs on the GPU fleet dashboard), requests running and "
        f"waiting, KV-cache use, TTFT p95 and "
        f"error ratio over the rate interval, its GPUs' mean utilisation and fullest memory, and the last XID "
        f"error code any of its GPUs reported (0 = none; DCGM holds it until it restarts). Cells turn "
        f"red past the model's thresholds: TTFT past the SLO ({number(m.slo.ttft.threshold_seconds)} "
        f"s), errors past the budget ({_percent(budget)}), KV cache past {_percent(kv_limit)}. Click a pod "
        f"to show only it on this dashboard.",
        targets, transformations=[
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {"excludeByName": {"Time": True, **hidden}, "renameByName": values,
                                           "indexByName": {name: i for i, name in enumerate(order)}}},
        ], overrides=overrides, height=min(24, 6 + m.replicas_max))
    charts = [p.timeseries("replicas.error_ratio", "Error ratio by pod", "Share of each pod's requests that failed.",
                           p.RATIO, [p.target(pods.error_ratio(LIVE), "{{pod}}")], thresholds=p.above(budget),
                           minimum=0)]
    if q.has("ttft"):
        charts.insert(0, p.timeseries(
            "replicas.ttft_p95", "TTFT p95 by pod", "95th percentile of time to first token on each pod.",
            p.SECONDS, [p.target(pods.quantile("ttft", "0.95", LIVE), "{{pod}}")],
            thresholds=p.above(m.slo.ttft.threshold_seconds)))
    kv_cache = pods.gauge("kv_cache")
    if kv_cache is not None:
        charts.append(p.timeseries("replicas.kv_cache", "KV cache by pod", "Each pod's KV-cache usage, 1 = full.",
                                   p.RATIO, [p.target(kv_cache, "{{pod}}")],
                                   thresholds=p.above(kv_limit), minimum=0, maximum=1))
    return [table, *spread(charts)]


def _column(name: str, properties: list[dict]) -> dict:
    return {"matcher": {"id": "byName", "options": name}, "properties": properties}


# -- SLOs ----------------------------------------------------------------


def _slos(q: ModelQueries) -> list:
    model, result = q.model, []
    budgets = []
    for signal, what in c.LATENCY_SIGNALS.items():
        key, title = f"slo.{signal}", f"{signal.upper()} within SLO"
        if not q.has(signal):
            result.append(_why_not(q, key, title, signal, height=4))
            continue
        slo = q.slo(signal)
        if slo is None:  # an optional SLO (TPOT) no inventory layer sets: its latency panel stays
            continue
        units = "token gaps" if signal == "itl" else "requests"
        if signal == "itl":
            title = "ITL within SLO (token gaps)"
        result.append(p.stat(
            key, title,
            f"Share of {'gaps between streamed tokens (not of requests)' if signal == 'itl' else 'requests'} with "
            f"{what} at or under {number(slo.threshold_seconds)} s over the dashboard range, weighted by traffic "
            f"(good over total {units}, not a mean of ratios). Objective: {_percent(slo.objective)}; red below it.",
            p.RATIO, [p.target(_good_share(model, signal), instant=True)],
            thresholds=p.at_least(slo.objective), minimum=0, maximum=1, decimals=2))
        budgets.append((signal, "ITL (token gaps)" if signal == "itl" else signal.upper()))
    result.append(p.stat(
        "slo.availability", "Availability",
        f"Share of requests that did not fail over the dashboard range, weighted by traffic. Objective: "
        f"{_percent(model.slo.availability)}; red below it.",
        p.RATIO, [p.target(_good_share(model, "availability"), instant=True)],
        thresholds=p.at_least(model.slo.availability), minimum=0, maximum=1, decimals=2))
    budgets.append(("availability", "availability"))
    for slo, name in budgets:
        result.append(p.stat(
            f"budget.{slo}", f"Error budget left: {name}",
            f"Share of the {name} error budget of the SLO period left: 1 - (1 - good share over the period) / "
            f"(1 - objective). Below 0 the budget is spent; red below 25%.",
            p.RATIO, [p.target(_llm_slo(model, c.BUDGET_REMAINING, slo), instant=True)],
            thresholds=p.at_least(0.25), decimals=1))
    return result


def _llm_slo(model: Model, metric: str, slo: str) -> str:
    return selector(metric, [(k, "=", v) for k, v in base_labels(model).items()] + [("slo", "=", slo)])


def _good_share(model: Model, slo: str) -> str:
    """Good over total requests in the dashboard range: a traffic-weighted share."""
    good = f"sum_over_time({_llm_slo(model, c.SLO_GOOD, slo)}[$__range])"
    total = f"sum_over_time({_llm_slo(model, c.SLO_REQUESTS.format(window='5m'), slo)}[$__range])"
    return f"{good} / ({total} > 0)"


# -- engine signals ------------------------------------------------------


def _latency(q: ModelQueries) -> list:
    result = []
    for signal, what in c.LATENCY_SIGNALS.items():
        key, title = f"latency.{signal}", what[0].upper() + what[1:]
        if q.has(signal):
            slo = q.slo(signal)
            targets = [p.target(q.quantile(signal, quantile, LIVE), f"p{number(float(quantile) * 100)}")
                       for quantile in c.QUANTILES]
            if q.has_mean(signal):
                targets.append(p.target(q.mean(signal, LIVE), "mean"))
            line = (f" The dashed line is the SLO threshold, {number(slo.threshold_seconds)} s." if slo is not None
                    else " No SLO is set on it in the inventory.")
            result.append(p.timeseries(
                key, title,
                f"Percentiles and mean of {what} from the engine's histogram{_COUNTED.get(signal, '')}.{line}",
                p.SECONDS, targets, thresholds=p.above(slo.threshold_seconds) if slo is not None else None))
            continue
        result.append(_why_not(q, key, title, signal))
        if q.has_mean(signal):
            result.append(p.timeseries(
                f"{key}_mean", f"{title} (mean)", f"Mean {what}; the engine exports no histogram for it.",
                p.SECONDS, [p.target(q.mean(signal, LIVE), "mean")]))
    return result


# What one histogram observation is, where it is not simply one request.
_COUNTED = {
    "itl": ", one observation per gap between streamed tokens (long generations weigh more)",
    "tpot": ", one observation per request: its mean decode time per output token (0 for requests with at "
            "most one generated token)",
}


def _rate_or_text(q: ModelQueries, signal: str, key: str, title: str, description: str, unit: str,
                  legend: str, thresholds=None):
    if not q.has(signal):
        return _why_not(q, key, title, signal)
    return p.timeseries(key, title, description, unit, [p.target(q.rate(signal, LIVE), legend)],
                        thresholds=thresholds)


def _throughput(q: ModelQueries) -> list:
    return [
        _rate_or_text(q, "requests", "throughput.requests", "Requests", "Finished requests per second.",
                      p.REQPS, "requests/s"),
        _rate_or_text(q, "prompt_tokens", "throughput.prompt_tokens", "Prompt tokens",
                      "Prompt (prefill) tokens processed per second.", p.TOKENS_PER_SECOND, "prompt"),
        _rate_or_text(q, "generation_tokens", "throughput.generation_tokens", "Generation tokens",
                      "Tokens generated per second.", p.TOKENS_PER_SECOND, "generated"),
    ]


def _queue(q: ModelQueries) -> list:
    limit = q.model.thresholds["queue_depth"]
    notes = {s: f" {note}" for s, note in q.engine.signal_notes.items()}
    return [
        p.timeseries("queue.running", "Requests running",
                     f"Requests in the engine's running batch.{notes.get('running', '')}",
                     p.SHORT, [p.target(q.gauge("running"), "running")])
        if q.has("running") else _why_not(q, "queue.running", "Requests running", "running"),
        p.timeseries("queue.waiting", "Requests waiting",
                     f"Requests queued for a batch slot.{notes.get('waiting', '')} The dashed line is the "
                     f"queue-depth threshold, {number(limit)}.",
                     p.SHORT, [p.target(q.gauge("waiting"), "waiting")], thresholds=p.above(limit))
        if q.has("waiting") else _why_not(q, "queue.waiting", "Requests waiting", "waiting"),
    ]


def _kv_cache(q: ModelQueries) -> list:
    limit = q.model.thresholds["kv_cache_usage"]
    preemptions = q.model.thresholds["preemptions_per_second"]
    usage = p.timeseries(
        "kv.usage", "KV-cache usage",
        f"Fullest replica's KV cache, 1 = full. The dashed line is the threshold, {_percent(limit)}.",
        p.RATIO, [p.target(q.gauge("kv_cache"), "usage")], thresholds=p.above(limit), minimum=0, maximum=1) \
        if q.has("kv_cache") else _why_not(q, "kv.usage", "KV-cache usage", "kv_cache")
    return [usage, _rate_or_text(
        q, "preemptions", "kv.preemptions", "Preemptions",
        f"Requests preempted per second when the KV cache runs out. The dashed line is the threshold, "
        f"{number(preemptions)}/s.", p.PER_SECOND, "preemptions/s", thresholds=p.above(preemptions))]


def _errors(q: ModelQueries) -> list:
    budget = 1 - q.model.slo.availability
    return [p.timeseries(
        "errors.ratio", "Error ratio",
        f"Share of requests that failed. The dashed line is the error budget, {_percent(budget)} "
        f"(1 - the {_percent(q.model.slo.availability)} availability objective).",
        p.RATIO, [p.target(q.error_ratio(LIVE), "errors")], thresholds=p.above(budget), minimum=0)]


def _gpus(q: ModelQueries) -> list:
    t = q.model.thresholds
    return [
        p.timeseries("gpu.utilization", "GPU utilisation",
                     f"Mean utilisation of the model's GPUs (DCGM), 0-1. Dashed: {_percent(t['gpu_utilization'])}.",
                     p.RATIO, [p.target(q.gpu_utilization(), "utilisation")],
                     thresholds=p.above(t["gpu_utilization"]), minimum=0, maximum=1),
        p.timeseries("gpu.memory", "GPU memory used",
                     f"Fullest GPU's framebuffer memory in use, 0-1. Dashed: {_percent(t['gpu_memory_usage'])}.",
                     p.RATIO, [p.target(q.gpu_memory_usage(), "memory")],
                     thresholds=p.above(t["gpu_memory_usage"]), minimum=0, maximum=1),
        p.timeseries("gpu.power", "GPU power", "Power drawn by all of the model's GPUs.", p.WATT,
                     [p.target(q.gpu_power(), "power")]),
        p.timeseries("gpu.xid", "GPU XID errors", "Last XID error code any of the model's GPUs reported; 0 = none.",
                     p.NONE, [p.target(q.gpu_xid(), "xid")], thresholds=p.above(1), minimum=0),
    ]


def _pods(q: ModelQueries) -> list:
    m = q.model
    budget = m.thresholds["cold_start_seconds"]
    result = [
        p.timeseries("pods.ready", "Ready replicas",
                     f"Pods passing readiness. Dashed lines: the minimum ({m.replicas_min}) and maximum "
                     f"({m.replicas_max}) replica counts.", p.SHORT, [p.target(q.replicas_ready(), "ready")],
                     thresholds=p.steps(p.BAD, (m.replicas_min, p.GOOD), (m.replicas_max, p.WARN)), minimum=0),
        p.timeseries("pods.cold_start", "Cold start",
                     f"Longest time from pod creation to ready, for pods started in the last hour or not ready "
                     f"yet. The dashed line is the budget, {number(budget)} s.", p.SECONDS,
                     [p.target(q.cold_start(), "cold start")], thresholds=p.above(budget)),
    ]
    if q.has("model_load"):
        result.append(p.timeseries("pods.model_load", "Model load time", "Model load time the engine reports.",
                                   p.SECONDS, [p.target(q.gauge("model_load"), "load")]))
    else:
        result.append(_why_not(q, "pods.model_load", "Model load time", "model_load"))
    return result


def _deploy_annotation(q: ModelQueries) -> dict:
    """One marker per new pod, saying what it runs and which ReplicaSet (so which rollout) made it."""
    return {
        "name": "New pods (deploy, restart or scale-up)",
        "datasource": p.DATASOURCE,
        "enable": True,
        "expr": q.new_pod_details(c.NEW_POD_SECONDS),
        "iconColor": "blue",
        "step": "1m",
        "titleFormat": "New pod {{pod}}",
        "textFormat": "{{owner_kind}} {{owner_name}}, image {{image}}",
        "tagKeys": "owner_name,image",
    }
