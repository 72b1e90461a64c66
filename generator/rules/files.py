"""One Prometheus rule file per model: its recording group, then its alert group."""
from __future__ import annotations

from generator import conventions as c
from generator.catalog import EXPORTERS
from generator.inventory import Inventory, Model
from generator.queries import ModelQueries
from generator.rules.alerts import alert_rules
from generator.rules.collectors import collector_file
from generator.rules.recording import recording_rules
from generator.yaml_out import comment, dump


def rule_file(inventory: Inventory, model: Model) -> str:
    q = ModelQueries(inventory, model)
    header = comment(c.GENERATED_HEADER)
    header += comment(f"Model {model.name} (served as {model.served_name!r}) on {q.engine.title} "
                      f"{model.engine_version}, team {model.team.name}.")
    missing = [s for s in ("ttft", "itl", "e2e", "waiting", "preemptions", "prompt_tokens", "generation_tokens",
                           "model_load") if not q.has(s)]
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
    groups = {"groups": [
        {"name": c.recording_group(model.name), "rules": recording_rules(inventory, model)},
        {"name": c.alert_group(model.name), "rules": alert_rules(inventory, model)},
    ]}
    return header + dump(groups)


def rule_files(inventory: Inventory) -> dict[str, str]:
    files = {c.rules_file(m.name): rule_file(inventory, m) for m in inventory.models}
    files[c.COLLECTORS_FILE] = collector_file(inventory)
    return files
