"""The alert rules of one model, from the table of definitions (`alert_table.py`) and the inventory's options.

A definition's builder writes each rule's expression and description; this
module applies the model's per-alert options (`enabled`, `severity`, `for`,
`keep_firing_for`, `labels`) and adds the routing labels and the annotations
every alert carries.
"""
from __future__ import annotations

from dataclasses import dataclass

from generator import conventions as c
from generator.inventory import AlertOptions, Inventory, Model
from generator.queries import ModelQueries
from generator.rules.alert_table import TABLE, Condition, Definition, ModelAlerts, Rule
from generator.rules.recording import base_labels
from generator.rules.telemetry import telemetry


@dataclass(frozen=True)
class Alert:
    rule: dict
    condition: Condition | None  # None: a compound condition, proven by the fault cases instead


def alert_rules(inventory: Inventory, model: Model) -> list[dict]:
    return [a.rule for a in alerts(inventory, model)]


def alerts(inventory: Inventory, model: Model) -> list[Alert]:
    """The model's alerting rules in the table's order, each with the condition its promtool cases set."""
    q = ModelQueries(inventory, model)
    about = ModelAlerts(inventory, model, q, base_labels(model), tuple(telemetry(q)))
    result = []
    for definition in TABLE:
        options = model.alerts.get(definition.name, AlertOptions())
        if definition.rules is None or not options.enabled or not definition.applies(about):
            continue
        result += [Alert(_rule(inventory, model, definition, rule, options), rule.condition)
                   for rule in definition.rules(about)]
    return result


def _rule(inventory: Inventory, model: Model, definition: Definition, rule: Rule, options: AlertOptions) -> dict:
    severity = options.severity or rule.severity or definition.severity
    for_ = options.for_ or rule.for_ or definition.for_
    assert severity is not None and for_ is not None, f"{definition.name}: no severity or `for`"
    result: dict = {"alert": definition.name, "expr": rule.expr, "for": for_}
    if options.keep_firing_for:
        result["keep_firing_for"] = options.keep_firing_for
    # `namespace` routes the alert to a namespaced AlertmanagerConfig (prometheus-operator).
    result["labels"] = {"severity": severity, "namespace": model.namespace, **dict(model.team.labels),
                        **dict(model.severity_labels.get(severity, ())), **dict(options.labels), **rule.labels}
    result["annotations"] = {
        "summary": definition.doc.summary,
        "description": rule.description,
        "runbook_url": f"{inventory.runbook_base_url}/{definition.name}.md",
        "dashboard_url": f"{inventory.grafana_url}/d/{c.model_dashboard_uid(model.name)}",
    }
    return result
