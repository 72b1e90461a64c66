"""One Prometheus rule file per model: its recording group, then its alert group, each split to fit the ruler.

Mimir's and Cortex's rulers refuse a group of more than 20 rules by default
(`ruler.max-rules-per-rule-group`); the inventory's `ruler.max_rules_per_group`
sets the limit. A group that fits keeps its name; a larger one becomes
`<name>-1` … `<name>-n`, as even as possible, rules in their order. No recording
rule reads another recorded series, so splitting changes no result.
"""
from __future__ import annotations

from generator import conventions as c
from generator.catalog import EXPORTERS
from generator.inventory import Inventory, Model
from generator.queries import ModelQueries
from generator.rules.alerts import alert_rules
from generator.rules.collectors import collector_rules
from generator.rules.recording import budget_rules, recording_rules
from generator.yaml_out import comment, dump


def rule_file(inventory: Inventory, model: Model) -> str:
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
    limit = inventory.max_rules_per_group
    groups = {"groups": [
        *split_group(c.recording_group(model.name), recording_rules(inventory, model), limit),
        *({"name": g["name"], "interval": inventory.slo_policy.budget_interval, "rules": g["rules"]}
          for g in split_group(c.budget_group(model.name), budget_rules(inventory, model), limit)),
        *split_group(c.alert_group(model.name), alert_rules(inventory, model), limit),
    ]}
    return header + dump(groups)


def split_group(name: str, rules: list[dict], limit: int) -> list[dict]:
    """The group, or its parts of at most `limit` rules each, sizes differing by at most one."""
    count = max(1, -(-len(rules) // limit))
    if count == 1:
        return [{"name": name, "rules": rules}]
    size, extra = divmod(len(rules), count)
    groups, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        groups.append({"name": c.group_part(name, i + 1), "rules": rules[start:end]})
        start = end
    return groups


def rule_files(inventory: Inventory) -> dict[str, str]:
    files = {c.rules_file(m.name): rule_file(inventory, m) for m in inventory.models}
    files[c.COLLECTORS_FILE] = collector_file(inventory)
    return files


def collector_file(inventory: Inventory) -> str:
    header = comment(c.GENERATED_HEADER)
    header += comment("Collector health, per site: model alerts stay silent while a collector is down.")
    groups = split_group(c.COLLECTORS_GROUP, collector_rules(inventory), inventory.max_rules_per_group)
    return header + dump({"groups": groups})
