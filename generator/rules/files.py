"""One Prometheus rule file per model: its recording, budget and alert groups; and one file of the SLO windows
derived from every model's recorded 5-minute rates (`conventions.SLO_WINDOWS_FILE`); each group split to fit
the ruler.

Mimir's and Cortex's rulers refuse a group of more than 20 rules by default
(`ruler.max-rules-per-rule-group`); the inventory's `ruler.max_rules_per_group`
sets the limit. A group that fits keeps its name; a larger one becomes
`<name>-1` … `<name>-n`, as even as possible, rules in their order. A recording rule
that reads another recorded series of its group (the 5-minute SLO ratios read the good
and total rates just recorded) stays in the part of the rules it reads; the derived
windows, the budget and the alerts read recorded series, in groups of their own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from generator import conventions as c
from generator.catalog import EXPORTERS
from generator.inventory import Inventory, Model
from generator.prometheus_syntax import duration_seconds
from generator.queries import ModelQueries
from generator.rules.alerts import alert_rules
from generator.rules.collectors import collector_rules
from generator.rules.recording import budget_rules, budget_series, recording_blocks, sample_rules, window_rules
from generator.yaml_out import comment, dump


def rule_file(inventory: Inventory, model: Model, windows: SharedWindows | None = None) -> str:
    q = ModelQueries(inventory, model)
    header = comment(c.GENERATED_HEADER)
    header += comment(f"Model {model.name} (served as {model.served_name!r}) on {q.engine.title} "
                      f"{model.engine_version}, team {model.team.name}.")
    missing = [s for s in ("ttft", "itl", "e2e", "waiting", "kv_cache", "preemptions", "prompt_tokens",
                           "generation_tokens", "model_load") if not q.has(s)]
    c_ = inventory.collectors
    header += comment(f"Engine targets: the {model.container!r} container of pods {model.pod_regex!r} in namespace "
                      f"{model.namespace!r}, labelled namespace, pod and container (as prometheus-operator's "
                      f"PodMonitor and ServiceMonitor label them).")
    header += comment(f"Collectors: kube-state-metrics as job {c_.kube_state_metrics_job!r}; dcgm-exporter as job "
                      f"{c_.dcgm_job!r}, workload in labels {c_.dcgm_namespace_label!r} and {c_.dcgm_pod_label!r}, "
                      f"node in {c_.dcgm_node_label!r}.")
    for signal in missing:
        header += comment(f"No {signal}: {q.why_not(signal)}")
    for requirement in (*q.engine.requirements, *(r for e in EXPORTERS.values() for r in e.requirements)):
        header += comment(f"Requires: {requirement}")
    return header + dump({"groups": rule_groups(inventory, model, windows)})


def rule_groups(inventory: Inventory, model: Model, windows: SharedWindows | None = None) -> list[dict]:
    """The model's groups in the order they depend on one another: see `model_groups`."""
    recording, reading = model_groups(inventory, model, windows)
    return recording + reading


def model_groups(inventory: Inventory, model: Model,
                 windows: SharedWindows | None = None) -> tuple[list[dict], list[dict]]:
    """The model's raw recording groups, and the groups that read recorded series (the budget and burn rates,
    alerts); each kind in a fast group (every evaluation interval) and a slow one (every
    `slo_policy.window_interval`). The SLO windows derived from the recording groups (shared by all models,
    `slo_window_groups`) come between the two in dependency order (promtool tests evaluate them so).

    An alert is slow when its `for` is at least `SLOW_ALERT_FOR` slow intervals (evaluating it every slow
    interval delays it by at most a tenth of its `for`); a recording rule is fast when a fast alert reads
    it, or a fast window reads it; the rest (dashboards, slow alerts) is slow."""
    limit, policy = inventory.max_rules_per_group, inventory.slo_policy
    windows = windows or shared_windows(inventory)
    fast_alerts, slow_alerts = windows.alerts.get(model.name) or alert_speeds(inventory, model)
    needed = read_series(fast_alerts) | read_series(windows.fast)
    blocks = recording_blocks(inventory, model)
    fast = [b for b in blocks if any(r["record"] in needed for r in b)]
    recording = [
        (c.recording_group(model.name), None, fast),
        (c.slow_recording_group(model.name), policy.window_interval, [b for b in blocks if b not in fast]),
    ]
    reading = [
        (c.budget_group(model.name), policy.budget_interval, [[r] for r in budget_rules(inventory, model)]),
        (c.alert_group(model.name), None, [[a] for a in fast_alerts]),
        (c.slow_alert_group(model.name), policy.window_interval, [[a] for a in slow_alerts]),
    ]
    return _groups(recording, limit), _groups(reading, limit)


def alert_speeds(inventory: Inventory, model: Model) -> tuple[list[dict], list[dict]]:
    """The model's fast alerts and its slow ones (`for` of `SLOW_ALERT_FOR` slow intervals or more)."""
    slow_every = duration_seconds(inventory.slo_policy.window_interval)
    alerts = alert_rules(inventory, model)
    slow = [a for a in alerts if duration_seconds(a["for"]) >= c.SLOW_ALERT_FOR * slow_every]
    return [a for a in alerts if a not in slow], slow


@dataclass(frozen=True)
class SharedWindows:
    """The derived SLO windows of every model: those some model's fast alert reads, and the others; and each
    model's fast and slow alerts they were told apart by (model id -> `alert_speeds`)."""
    fast: list[dict]
    slow: list[dict]
    alerts: dict[str, tuple[list[dict], list[dict]]]


def shared_windows(inventory: Inventory) -> SharedWindows:
    names = {r["record"] for r in window_rules(inventory)}
    alerts = {m.name: alert_speeds(inventory, m) for m in inventory.models}
    read = {n for fast, _ in alerts.values() for n in read_series(fast)} & names
    rules = window_rules(inventory, read)
    return SharedWindows([r for r in rules if r["record"] in read], [r for r in rules if r["record"] not in read],
                         alerts)


def slo_window_groups(inventory: Inventory, windows: SharedWindows | None = None) -> list[dict]:
    """The shared derived windows: the fast ones every evaluation interval; the slow ones every
    `window_interval`, after the copies of the recorded 5-minute rates they read, sampled that often; and
    the copies the models' SLO period reads, every `budget_interval` (in the slow group when the two
    intervals are equal)."""
    policy = inventory.slo_policy
    windows = windows or shared_windows(inventory)
    slow_reads = read_series(windows.slow)
    base = [c.REQUESTS.format(window="5m"), c.SLO_REQUESTS.format(window="5m"), c.SLO_GOOD]
    slow_copies = sample_rules([s for s in base if c.sampled(s, policy.window_interval) in slow_reads],
                               policy.window_interval)
    copied = {r["record"] for r in slow_copies}
    budget_copies = [r for r in sample_rules(budget_series(), policy.budget_interval) if r["record"] not in copied]
    return _groups([
        (c.WINDOWS_GROUP, None, [[r] for r in windows.fast]),
        (c.SLOW_WINDOWS_GROUP, policy.window_interval, [[r] for r in slow_copies + windows.slow]),
        (c.BUDGET_SAMPLES_GROUP, policy.budget_interval, [[r] for r in budget_copies]),
    ], inventory.max_rules_per_group)


def _groups(parts: list[tuple[str, str | None, list[list[dict]]]], limit: int) -> list[dict]:
    groups = []
    for name, interval, group_blocks in parts:
        if group_blocks:
            for group in split_blocks(name, group_blocks, limit):
                groups.append({"name": group["name"], **({"interval": interval} if interval else {}),
                               "rules": group["rules"]})
    return groups


def read_series(rules: list[dict]) -> set[str]:
    """The `llm:` series the rules' expressions read."""
    return {name for r in rules for name in re.findall(r"llm:[A-Za-z0-9_:]+", r["expr"])}


def split_group(name: str, rules: list[dict], limit: int) -> list[dict]:
    """The group, or its parts of at most `limit` rules each, sizes differing by at most one."""
    return split_blocks(name, [[r] for r in rules], limit)


def split_blocks(name: str, blocks: list[list[dict]], limit: int) -> list[dict]:
    """The group, or its parts of at most `limit` rules each, as even as the blocks allow, every block in one
    part: a block's later rules read what its earlier ones recorded in the same evaluation. (A block larger
    than `limit` is cut; its later rules then read the earlier ones' results one interval late.)"""
    pieces = [b[i:i + limit] for b in blocks for i in range(0, len(b), limit)]
    total = sum(map(len, pieces))
    count = max(1, -(-total // limit))
    while True:
        packed = _pack(pieces, count, limit)
        if packed is not None:
            break
        count += 1
    if len(packed) == 1:
        return [{"name": name, "rules": packed[0]}]
    return [{"name": c.group_part(name, i + 1), "rules": rules} for i, rules in enumerate(packed)]


def _pack(pieces: list[list[dict]], count: int, limit: int) -> list[list[dict]] | None:
    """The pieces in order in `count` parts, each near an even share of what is left; None if they need more."""
    parts: list[list[dict]] = []
    left = sum(map(len, pieces))
    i = 0
    for remaining in range(count, 0, -1):
        cap = min(limit, -(-left // remaining))
        part: list[dict] = []
        while i < len(pieces) and (not part or len(part) + len(pieces[i]) <= cap):
            part += pieces[i]
            i += 1
        parts.append(part)
        left -= len(part)
    return parts if i == len(pieces) else None


def rule_files(inventory: Inventory) -> dict[str, str]:
    windows = shared_windows(inventory)
    files = {c.rules_file(m.name): rule_file(inventory, m, windows) for m in inventory.models}
    files[c.COLLECTORS_FILE] = collector_file(inventory)
    files[c.SLO_WINDOWS_FILE] = slo_window_file(inventory, windows)
    return files


def slo_window_file(inventory: Inventory, windows: SharedWindows | None = None) -> str:
    header = comment(c.GENERATED_HEADER)
    header += comment("The SLO windows longer than 5 minutes, derived from the recorded 5-minute rates of every model "
                      "(one rule per series, window and SLO; each result keeps its model's labels). The models' rule "
                      "files read them: load this file with them, one inventory per Prometheus or ruler tenant.")
    return header + dump({"groups": slo_window_groups(inventory, windows)})


def collector_file(inventory: Inventory) -> str:
    header = comment(c.GENERATED_HEADER)
    header += comment("Collector health, per site: model alerts stay silent while a collector is down.")
    groups = split_group(c.COLLECTORS_GROUP, collector_rules(inventory), inventory.max_rules_per_group)
    return header + dump({"groups": groups})
