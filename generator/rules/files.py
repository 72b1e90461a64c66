"""One Prometheus rule file per model: its recording group, then its alert group."""
from __future__ import annotations

from generator import conventions as c
from generator.catalog import EXPORTERS
from generator.inventory import Inventory, Model
from generator.queries import ModelQueries
from generator.rules.alerts import alert_rules
from generator.rules.recording import recording_rules
from generator.yaml_out import comment, dump


def rule_file(inventory: Inventory, model: Model) -> str:
    q = ModelQueries(inventory, model)
    header = comment(c.GENERATED_HEADER)
    header += comment(f"Model {model.name} (served as {model.served_name!r}) on {q.engine.title} "
                      f"{model.engine_version}, team {model.team.name}.")
    missing = [s for s in ("ttft", "itl", "e2e", "waiting", "preemptions", "prompt_tokens", "generation_tokens",
                           "model_load") if not q.has(s)]
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
    return {c.rules_file(m.name): rule_file(inventory, m) for m in inventory.models}
