"""An Alertmanager configuration for the generated alerts: one route per team, and the inhibitions.

Receivers are named and left without integrations: add `slack_configs`,
`pagerduty_configs` or `webhook_configs` to them (or merge the routes and
inhibit rules into your own configuration). It passes `amtool check-config`
as generated.

Inhibitions, each within one model (or one site for collector alerts):
- `LLMModelDown` suppresses the model's other alerts: one page, not ten;
- `LLMCollectorDown` suppresses the `LLMTelemetryMissing` alerts of the series that collector exports;
- a critical alert suppresses the warning of the same alert name (the slow burn tier under the fast one).
"""
from __future__ import annotations

from generator import conventions as c
from generator.inventory import Inventory
from generator.promql import quote, regex_escape
from generator.yaml_out import comment, dump

DEFAULT_RECEIVER = "llm-default"


def team_receiver(team: str) -> str:
    return f"llm-team-{team}"


Matcher = tuple[str, str, str]  # label, operator (= != =~ !~), value


def _routing(inventory: Inventory) -> dict:
    """The routes, receivers and inhibitions, matchers as (label, op, value): one source for both formats."""
    site_keys = sorted({k for m in inventory.models for k, _ in m.selector}
                       | ({inventory.multi_cluster.label} if inventory.multi_cluster else set()))
    routes = []
    for team in inventory.teams:
        models = [m.name for m in inventory.models if m.team.name == team.name]
        if models:
            routes.append((team_receiver(team.name),
                           [(c.MODEL_LABEL, "=~", "|".join(regex_escape(m) for m in models))]))
    return {
        "group_by": ["alertname", c.MODEL_LABEL, "namespace", *site_keys],
        "routes": routes,
        "receivers": [DEFAULT_RECEIVER] + [receiver for receiver, _ in routes],
        "inhibit_rules": [
            ([("alertname", "=", "LLMModelDown")],
             [("alertname", "=~", "LLM.+"), ("alertname", "!=", "LLMModelDown")], [c.MODEL_LABEL, *site_keys]),
            ([("alertname", "=", "LLMCollectorDown")], [("alertname", "=", "LLMTelemetryMissing")],
             ["collector", *site_keys]),
            ([("severity", "=", "critical")], [("severity", "=", "warning")],
             ["alertname", c.MODEL_LABEL, *site_keys]),
        ],
    }


TIMING = {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}


def config(inventory: Inventory) -> dict:
    """The Alertmanager configuration file's form: snake_case keys, matchers as strings."""
    r = _routing(inventory)

    def text(matchers: list[Matcher]) -> list[str]:
        return [f"{label}{op}{quote(value)}" for label, op, value in matchers]

    return {
        "route": {"receiver": DEFAULT_RECEIVER, "group_by": r["group_by"], **TIMING,
                  "routes": [{"receiver": receiver, "matchers": text(m)} for receiver, m in r["routes"]]},
        "receivers": [{"name": name} for name in r["receivers"]],
        "inhibit_rules": [{"source_matchers": text(source), "target_matchers": text(target), "equal": equal}
                          for source, target, equal in r["inhibit_rules"]],
    }


def operator_spec(inventory: Inventory) -> dict:
    """The same routing as the `spec` of prometheus-operator's `AlertmanagerConfig` (monitoring.coreos.com/v1alpha1):
    camelCase keys, matchers as {name, value, matchType}, inhibit rules as sourceMatch/targetMatch."""
    r = _routing(inventory)

    def structured(matchers: list[Matcher]) -> list[dict]:
        return [{"name": label, "value": value, "matchType": op} for label, op, value in matchers]

    return {
        "route": {"receiver": DEFAULT_RECEIVER, "groupBy": r["group_by"], "groupWait": TIMING["group_wait"],
                  "groupInterval": TIMING["group_interval"], "repeatInterval": TIMING["repeat_interval"],
                  "routes": [{"receiver": receiver, "matchers": structured(m)} for receiver, m in r["routes"]]},
        "receivers": [{"name": name} for name in r["receivers"]],
        "inhibitRules": [{"sourceMatch": structured(source), "targetMatch": structured(target), "equal": equal}
                         for source, target, equal in r["inhibit_rules"]],
    }


def alertmanager_file(inventory: Inventory) -> str:
    header = comment(c.GENERATED_HEADER)
    header += comment("Alertmanager routes (one receiver per team) and inhibit rules for the generated alerts.")
    header += comment("Add your integrations to the receivers, or merge route.routes and inhibit_rules into your "
                      "own configuration.")
    return header + dump(config(inventory))
