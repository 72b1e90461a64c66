"""One Markdown runbook per alert name, rendered with jinja2.

Alert annotations are Go templates (`{{ $labels.model }}`); they reach jinja2
only as data, and the template itself writes them inside `{% raw %}`, so
jinja2 never evaluates them.
"""
from __future__ import annotations

import jinja2

from generator import conventions as c
from generator.inventory import Inventory
from generator.rules.alerts import DOCS, alert_rules
from generator.rules.collectors import collector_rules

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("generator", "templates"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)


def runbooks(inventory: Inventory) -> dict[str, str]:
    by_alert: dict[str, list[dict]] = {}
    for model in inventory.models:
        for rule in alert_rules(inventory, model):
            by_alert.setdefault(rule["alert"], []).append({**rule, "model": model.name})
    for rule in collector_rules(inventory):
        by_alert.setdefault(rule["alert"], []).append({**rule, "model": "(every model of the site)"})
    template = _ENV.get_template("runbook.md.j2")
    files = {}
    for name, rules in sorted(by_alert.items()):
        doc = DOCS[name]
        tiers = any("long" in r["labels"] for r in rules)
        files[c.runbook_file(name)] = template.render(header=c.GENERATED_HEADER, doc=doc, rules=rules, tiers=tiers)
    return files
