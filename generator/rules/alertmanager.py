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


def config(inventory: Inventory) -> dict:
    site_keys = sorted({k for m in inventory.models for k, _ in m.selector})
    routes = []
    for team in inventory.teams:
        models = [m.name for m in inventory.models if m.team.name == team.name]
        if not models:
            continue
        routes.append({"receiver": team_receiver(team.name),
                       "matchers": [f"{c.MODEL_LABEL}=~{quote('|'.join(regex_escape(m) for m in models))}"]})
    return {
        "route": {
            "receiver": DEFAULT_RECEIVER,
            "group_by": ["alertname", c.MODEL_LABEL, "namespace", *site_keys],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": routes,
        },
        "receivers": [{"name": DEFAULT_RECEIVER}] + [{"name": r["receiver"]} for r in routes],
        "inhibit_rules": [
            {"source_matchers": ['alertname="LLMModelDown"'],
             "target_matchers": ['alertname=~"LLM.+"', 'alertname!="LLMModelDown"'],
             "equal": [c.MODEL_LABEL, *site_keys]},
            {"source_matchers": ['alertname="LLMCollectorDown"'],
             "target_matchers": ['alertname="LLMTelemetryMissing"'],
             "equal": ["collector", *site_keys]},
            {"source_matchers": ['severity="critical"'],
             "target_matchers": ['severity="warning"'],
             "equal": ["alertname", c.MODEL_LABEL, *site_keys]},
        ],
    }


def alertmanager_file(inventory: Inventory) -> str:
    header = comment(c.GENERATED_HEADER)
    header += comment("Alertmanager routes (one receiver per team) and inhibit rules for the generated alerts.")
    header += comment("Add your integrations to the receivers, or merge route.routes and inhibit_rules into your "
                      "own configuration.")
    return header + dump(config(inventory))
