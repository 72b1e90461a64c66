"""Recording rules that normalise one model's engine metrics onto the `llm:` vocabulary."""
from __future__ import annotations

from collections.abc import Collection

from generator import conventions as c
from generator.inventory import Inventory, Model
from generator.prometheus_syntax import duration_seconds
from generator.promql import number, quote, selector
from generator.queries import ModelQueries
from generator.rules.telemetry import telemetry


def base_labels(model: Model) -> dict[str, str]:
    """Labels every recorded series of the model carries: its id and its selector labels."""
    return {c.MODEL_LABEL: model.name, **dict(model.selector)}


def slo_windows(inventory: Inventory) -> list[str]:
    """Every window a burn-rate tier reads, shortest first; 5m always (dashboards read it)."""
    windows = {"5m", *(w for t in inventory.slo_policy.tiers for w in (t.long, t.short))}
    return sorted(windows, key=duration_seconds)


def raw_window(window: str) -> bool:
    """Whether the window is recorded from raw engine series; longer ones are derived from recorded 5m rates."""
    return duration_seconds(window) <= duration_seconds(c.RAW_WINDOW_MAX)


def derived_windows(inventory: Inventory) -> list[str]:
    """The windows derived from the recorded 5-minute rates, shortest first."""
    return [w for w in slo_windows(inventory) if not raw_window(w)]


def recording_rules(inventory: Inventory, model: Model) -> list[dict]:
    return [rule for block in recording_blocks(inventory, model) for rule in block]


def recording_blocks(inventory: Inventory, model: Model) -> list[list[dict]]:
    """The model's recording rules from raw engine and exporter series, in blocks to keep in one group.

    Rules of one group evaluate in order, and a later rule reads an earlier one's result of the same
    evaluation; so a block's later rules read what its first ones recorded instead of the raw series again
    (the 5-minute SLO ratios are the recorded good over the recorded total), and a group split to fit the
    ruler keeps each block whole (`files.split_blocks`)."""
    q = ModelQueries(inventory, model)
    labels = base_labels(model)
    own = [(k, "=", v) for k, v in labels.items()]
    blocks: list[list[dict]] = []

    def rule(name: str, expr: str, **extra: str) -> dict:
        return {"record": name, "expr": expr, "labels": {**labels, **extra}}

    def record(name: str, expr: str, **extra: str):
        blocks.append([rule(name, expr, **extra)])

    record(c.MODEL_INFO, q.constant("1"), served_name=model.served_name, team=model.team.name,
           engine=model.engine, engine_version=str(model.engine_version), namespace=model.namespace,
           gpu_type=model.gpu_type, gpus_per_replica=str(model.gpus_per_replica),
           replicas_min=str(model.replicas_min), replicas_max=str(model.replicas_max),
           dashboard_uid=c.model_dashboard_uid(model.name))
    for signal in c.LATENCY_SIGNALS:
        slo = q.slo(signal)
        if slo is not None:
            record(c.SLO_OBJECTIVE, q.constant(number(slo.objective)), slo=signal)
            record(c.SLO_THRESHOLD, q.constant(number(slo.threshold_seconds)), slo=signal)
    record(c.SLO_OBJECTIVE, q.constant(number(model.slo.availability)), slo="availability")

    def recorded(name: str, slo: str) -> str:
        return f"sum without (slo) ({selector(name, [*own, ('slo', '=', slo)])})"

    for window in filter(raw_window, slo_windows(inventory)):
        record(c.REQUESTS.format(window=window), q.rate("requests", window))
        if window == "5m":  # good and total once from raw series, the ratio from what they recorded
            # the failed rate is read raw (a few 5xx series) so the ratio is the same division as before
            total, errors = recorded(c.SLO_REQUESTS.format(window=window), "availability"), q.rate("errors", window)
            blocks.append([rule(c.SLO_REQUESTS.format(window=window), q.slo_requests("availability", window),
                                slo="availability"),
                           rule(c.ERROR_RATIO.format(window=window), f"({errors}) / {q.on()} ({total} > 0)"),
                           rule(c.SLO_GOOD, f"{total} - {q.on()} ({errors})", slo="availability")])
        else:  # a tier window shorter than 5 minutes: from raw series
            record(c.ERROR_RATIO.format(window=window), q.error_ratio(window))
            record(c.SLO_REQUESTS.format(window=window), q.slo_requests("availability", window),
                   slo="availability")
        for signal in c.LATENCY_SIGNALS:
            if q.slo(signal) is not None:
                threshold = q.slo(signal).threshold_seconds
                within = c.LATENCY_WITHIN_SLO.format(signal=signal, window=window)
                if window == "5m":
                    total, good = recorded(c.SLO_REQUESTS.format(window=window), signal), \
                        recorded(c.SLO_GOOD, signal)
                    blocks.append([rule(c.SLO_REQUESTS.format(window=window), q.slo_requests(signal, window),
                                        slo=signal),
                                   rule(c.SLO_GOOD, q.slo_good(signal, threshold, window), slo=signal),
                                   rule(within, f"{good} / ({total} > 0)")])
                else:
                    record(within, q.within_ratio(signal, threshold, window))
                    record(c.SLO_REQUESTS.format(window=window), q.slo_requests(signal, window), slo=signal)

    for signal in c.LATENCY_SIGNALS:
        if q.has(signal):
            for quantile in c.QUANTILES:
                record(c.LATENCY_QUANTILE.format(signal=signal), q.quantile(signal, quantile, "5m"),
                       quantile=quantile)
        if q.has_mean(signal):
            record(c.LATENCY_MEAN.format(signal=signal), q.mean(signal, "5m"))

    if q.has("prompt_tokens"):
        record(c.PROMPT_TOKENS, q.rate("prompt_tokens", "5m"))
    if q.has("generation_tokens"):
        record(c.GENERATION_TOKENS, q.rate("generation_tokens", "5m"))
    if q.has("running"):  # a telemetry source (OpenTelemetry GenAI) may have no engine gauges
        record(c.RUNNING, q.gauge("running"))
    if q.has("waiting"):
        record(c.WAITING, q.gauge("waiting"))
        record(c.REPLICA_WAITING, q.replica_max("waiting"))
    if q.has("batch_occupancy"):
        record(c.BATCH_OCCUPANCY, q.replica_max("batch_occupancy"))
    record(c.PROGRESS, q.progress(c.STALL_WINDOW))
    if q.has("kv_cache"):
        record(c.KV_CACHE, q.gauge("kv_cache"))
    if q.has("preemptions"):
        record(c.PREEMPTIONS, q.rate("preemptions", "5m"))
    if q.has("model_load"):
        record(c.MODEL_LOAD, q.gauge("model_load"))

    record(c.GPU_UTILIZATION, q.gpu_utilization())
    record(c.GPU_MEMORY, q.gpu_memory_usage())
    record(c.GPU_POWER, q.gpu_power())
    record(c.GPU_XID, q.gpu_xid())
    record(c.GPU_XID_NEW, q.gpu_xid_events(c.XID_WINDOW))
    record(c.GPU_COUNT, q.gpu_count())
    record(c.GPU_HELD, q.gpus_held(), dashboard_uid=c.model_dashboard_uid(model.name))
    record(c.COLD_START, q.cold_start())
    record(c.REPLICAS_READY, q.replicas_ready())
    record(c.TARGETS_UP, q.targets_up())
    record(c.TARGETS, q.targets())
    record(c.POD_READY, q.pod_ready())
    record(c.TARGET_UP, q.target_up())
    record(c.CONTAINER_WAITING, q.container_waiting())
    record(c.OOM_KILLS, q.oom_kills(c.OOM_WINDOW))
    record(c.ENGINE_VERSION, q.running_versions())
    record(c.NEW_PODS, q.new_pod_details(c.NEW_POD_SECONDS))
    blocks += [[r] for r in _efficiency(inventory, q, labels)]
    for item in telemetry(q):
        record(c.TELEMETRY, item.expr, signal=item.signal)
    return blocks


def _efficiency(inventory: Inventory, q: ModelQueries, labels: dict[str, str]) -> list[dict]:
    """Generated tokens per GPU, energy per token and, with a price for the model's GPU type, its cost per
    hour and per million generated tokens. From raw series (dashboards read them; they evaluate every
    `slo_policy.window_interval`)."""
    model = q.model
    gpus, energy = q.gpu_count(), q.gpu_energy("5m")
    result = [(c.GPU_ENERGY, energy)]
    price = inventory.gpu_hour_price(model.gpu_type) if inventory is not None else None
    if price is not None:
        result.append((c.COST_PER_HOUR, f"{gpus} * {number(price)}"))
    if q.has("generation_tokens"):
        tokens = f"({q.rate('generation_tokens', '5m')})"
        result += [(c.TOKENS_PER_GPU, f"{tokens} / ({gpus} > 0)"),
                   (c.ENERGY_PER_TOKEN, f"({energy}) / ({tokens} > 0)")]
        if price is not None:
            result.append((c.COST_PER_MILLION_TOKENS,
                           f"{gpus} * {number(price)} / 3600 / ({tokens} > 0) * 1000000"))
    return [{"record": name, "expr": expr, "labels": dict(labels)} for name, expr in result]


def window_slos(inventory: Inventory) -> list[str]:
    """Every SLO some model has: availability, then the latency SLOs in vocabulary order."""
    return ["availability", *(s for s in c.LATENCY_SIGNALS
                              if any(ModelQueries(inventory, m).slo(s) is not None for m in inventory.models))]


def window_rules(inventory: Inventory, fast: Collection[str] = ()) -> list[dict]:
    """The SLO windows longer than `RAW_WINDOW_MAX`, from the recorded 5-minute rates instead of raw buckets,
    one rule per series, window and SLO for all models (the shared file `conventions.SLO_WINDOWS_FILE`).

    The share within an SLO over a window is the sum over the window of the recorded good rates over the
    sum of the recorded total rates: traffic-weighted like `rate(good[w]) / rate(total[w])`, but reading
    one recorded sample per evaluation instead of every raw bucket sample of every pod. The traffic guard
    and the request rate over a window are the mean of the recorded 5-minute rates. Each 5-minute rate
    looks 5 minutes back, so a window's edges are smoothed over 5 minutes; a gap in the recorded series
    (Prometheus down, a missed evaluation) drops the same samples from numerator and denominator.

    A rule selects its inputs by name and `slo` only and adds no label they lack: its results are each model's series
    with the labels of the model's inputs (`model` and the selector labels; `sum without (slo)` groups one
    model's series as it groups all), exactly what one rule per model would record. A window in `fast` (a
    fast alert reads it) reads the series recorded every evaluation interval; the others read their copies
    sampled every `slo_policy.window_interval` (`sample_rules`), as often as they are evaluated.
    """
    every = inventory.slo_policy.window_interval
    rules: list[dict] = []

    def read(name: str, series: str) -> str:
        """What the rule recording `name` reads for `series`: the series itself where a fast alert reads
        `name`, else its copy sampled as often as the rule is evaluated."""
        return series if name in fast else c.sampled(series, every)

    slos = window_slos(inventory)
    for window in derived_windows(inventory):
        name = c.REQUESTS.format(window=window)
        rules.append({"record": name, "expr": f"avg_over_time({read(name, c.REQUESTS.format(window='5m'))}[{window}])"})
        for slo in slos:
            mine = [("slo", "=", slo)]
            name = c.ERROR_RATIO.format(window=window) if slo == "availability" else \
                c.LATENCY_WITHIN_SLO.format(signal=slo, window=window)
            total = selector(read(name, c.SLO_REQUESTS.format(window="5m")), mine)
            ratio = (f"sum without (slo) (sum_over_time({selector(read(name, c.SLO_GOOD), mine)}[{window}])) "
                     f"/ (sum without (slo) (sum_over_time({total}[{window}])) > 0)")
            rules.append({"record": name, "expr": f"1 - ({ratio})" if slo == "availability" else ratio})
            name = c.SLO_REQUESTS.format(window=window)
            total = selector(read(name, c.SLO_REQUESTS.format(window="5m")), mine)
            # `slo` as the input has it: rules of one name differ in their labels (validate's rules/duplicate)
            rules.append({"record": name, "expr": f"avg_over_time({total}[{window}])", "labels": {"slo": slo}})
    return rules


def sample_rules(series: Collection[str], interval: str) -> list[dict]:
    """Shared copies of recorded 5-minute rates, in a group evaluated every `interval`: each copy is the series
    itself (every model, every label kept), one sample per `interval` instead of one per evaluation interval."""
    return [{"record": c.sampled(name, interval), "expr": name} for name in series]


def budget_series() -> list[str]:
    """The recorded series the SLO period reads, as copies sampled every `slo_policy.budget_interval`."""
    return [c.SLO_GOOD, c.SLO_REQUESTS.format(window="5m")]


def budget_rules(inventory: Inventory, model: Model) -> list[dict]:
    """The error budget over the SLO period, from the recorded 5-minute good and total rates (cheap: no raw
    buckets over 30 days) sampled every `slo_policy.budget_interval` (shared copies, `sample_rules`), in a
    group of its own evaluated every `budget_interval`; and the current burn rate per SLO and tier window, the
    recorded error ratio over the budget (1 - objective), which reads recorded series too and so cannot sit
    in the recording group. Per model: each divides by the model's objective."""
    q = ModelQueries(inventory, model)
    labels = base_labels(model)
    period = inventory.slo_policy.period
    # Groups evaluate in no fixed order: reading up to one budget interval ago keeps numerator and
    # denominator to the same samples (30 days against one interval of lag).
    lag = every = inventory.slo_policy.budget_interval
    objectives = {s: q.slo(s).objective for s in c.LATENCY_SIGNALS if q.slo(s) is not None}
    objectives["availability"] = model.slo.availability
    rules = []
    for slo, objective in objectives.items():
        own = {**labels, "slo": slo}
        inner = ", ".join(f"{k}={quote(v)}" for k, v in own.items())
        good = f"sum_over_time({c.sampled(c.SLO_GOOD, every)}{{{inner}}}[{period}] offset {lag})"
        total = f"sum_over_time({c.sampled(c.SLO_REQUESTS.format(window='5m'), every)}{{{inner}}}" \
                f"[{period}] offset {lag})"
        rules.append({"record": c.SLO_GOOD_PERIOD, "expr": f"{good} / ({total} > 0)", "labels": own})
        rules.append({"record": c.BUDGET_REMAINING,
                      "expr": f"1 - (1 - {c.SLO_GOOD_PERIOD}{{{inner}}}) / {number(1 - objective)}", "labels": own})
    for slo, objective in objectives.items():
        for window in slo_windows(inventory):
            rules.append({"record": c.BURN_RATE.format(window=window),
                          "expr": f"{error_ratio(model, slo, window)} / {number(1 - objective)}",
                          "labels": {**labels, "slo": slo}})
    return rules


def error_ratio(model: Model, slo: str, window: str) -> str:
    """The SLI's recorded share of bad requests (or, for ITL, token gaps) over `window`."""
    inner = ", ".join(f"{k}={quote(v)}" for k, v in base_labels(model).items())
    if slo == "availability":
        return f"{c.ERROR_RATIO.format(window=window)}{{{inner}}}"
    return f"(1 - {c.LATENCY_WITHIN_SLO.format(signal=slo, window=window)}{{{inner}}})"
