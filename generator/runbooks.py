"""One Markdown runbook per alert name, rendered with jinja2.

Alert annotations are Go templates (`{{ $labels.model }}`); they reach jinja2
only as data, and the template itself writes them inside `{% raw %}`, so
jinja2 never evaluates them. Whatever comes from the inventory (served names
inside expressions and descriptions, URLs) goes through a Markdown filter, as
label values go through PromQL quoting: a code span or fence longer than any
run of backticks inside it, link targets percent-encoded, so a served name
with backticks cannot open a heading, a link or an unclosed code block.
"""
from __future__ import annotations

import re

import jinja2

from generator import conventions as c
from generator.catalog import ENGINES
from generator.inventory import Inventory
from generator.rules.alert_table import DEFINITIONS
from generator.rules.alerts import alert_rules
from generator.rules.collectors import collector_rules

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("generator", "templates"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)


def code_span(text: str) -> str:
    """Inline code showing `text` as written: delimited by more backticks than it contains, on one line."""
    text = " ".join(str(text).splitlines())
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")) else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(text: str) -> str:
    """A code-fence delimiter no line of `text` can close: longer than its longest run of backticks."""
    return "`" * max(3, max((len(run) for run in re.findall(r"`+", str(text))), default=0) + 1)


def link_target(url: str) -> str:
    """A URL as a Markdown link target: characters that end or break a link percent-encoded."""
    return re.sub(r"[\s()<>\[\]`]", lambda m: f"%{ord(m.group()):02X}", str(url))


_ENV.filters.update(code_span=code_span, fence=fence, link_target=link_target)


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
        doc = DEFINITIONS[name].doc
        tiers = any("long" in r["labels"] for r in rules)
        notes = _engine_notes(inventory, name, {r["model"] for r in rules})
        files[c.runbook_file(name)] = template.render(header=c.GENERATED_HEADER, name=name, doc=doc, rules=rules,
                                                      tiers=tiers, notes=notes)
    return files


def _engine_notes(inventory: Inventory, alert: str, models: set[str]) -> list[tuple[str, str]]:
    """(engine title, note) for each engine of the alert's models that notes how it differs for it."""
    engines = sorted({m.engine for m in inventory.models if m.name in models})
    return [(ENGINES[e].title, ENGINES[e].runbook_notes[alert]) for e in engines if alert in ENGINES[e].runbook_notes]
