"""Bring grafanalib's output onto Grafana's dashboard schema (schemaVersion 39+): one place, one rule table.

grafanalib 0.7 writes every legacy option it knows: dashboard `hideControls`,
`sharedCrosshair`, `style`, `gnetId: null`, pre-grid `rows`, `timepicker.time_options`;
per-panel `editable` and `error`; rows carrying data-panel keys; variable `tags`,
`useTags`, `tagsQuery`; pre-Grafana-7 target fields; and nulls for unset options.
Grafana tolerates them, its published schema does not have them.

`violations()` names each one with its JSON path; `clean()` removes exactly those.
`validate` reports the same violations on the shipped files (check
`dashboard/grafana-schema`), so what is removed here and what is flagged there
cannot drift apart. The null Grafana itself writes is kept: the base threshold step
(`"value": null` is minus infinity).

The keys Grafana sets on every save (`id`, `version`) are left out, tags are sorted, and
numbers are written as Grafana returns them (`1`, not `1.0`): a generated file is then exactly its
content, so `publish` fingerprints it from its bytes and compares that with what it
reads back from Grafana.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from generator.grafana_facts import SAVED_KEYS, canonical, parsed

JsonPath = tuple  # keys and list indexes from the dashboard root

LEGACY_DASHBOARD_KEYS = {
    "hideControls": "pre-Grafana-5 option; the schema has no such key",
    "sharedCrosshair": "replaced by graphTooltip",
    "style": "the theme is a user preference; removed from the schema",
    "rows": "pre-grid rows; row panels replace them",
}
LEGACY_TIMEPICKER_KEYS = {"time_options": "dropped by schemaVersion 41; the time picker ignores it"}
LEGACY_PANEL_KEYS = {
    "editable": "per-panel editable is not in the schema (the dashboard's is)",
    "error": "runtime state, not configuration",
}
LEGACY_TARGET_KEYS = {k: "pre-Grafana-7 target field" for k in ("query", "target", "metric", "step")}
LEGACY_VARIABLE_KEYS = {
    "tags": "variable tags were removed in Grafana 7",
    "useTags": "variable tags were removed in Grafana 7",
    "tagsQuery": "variable tags were removed in Grafana 7",
    "tagValuesQuery": "variable tags were removed in Grafana 7",
}
INTERVAL_ONLY_VARIABLE_KEYS = ("auto", "auto_count", "auto_min")
ROW_KEYS = frozenset({"type", "id", "title", "collapsed", "gridPos", "panels", "repeat", "datasource"})
EMPTY_LEGACY = {"__inputs": "export-only section; empty here"}
SAVED = {key: "set by Grafana on every save; a generated dashboard leaves it out" for key in SAVED_KEYS}


@dataclass(frozen=True)
class Violation:
    path: JsonPath
    message: str

    @property
    def where(self) -> str:
        """`panels[3].editable`: the JSON path, for findings."""
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        return out


def clean(dashboard: dict) -> dict:
    """A copy of the dashboard without any of the violations."""
    return _cleaned(canonical(dashboard))  # a deep copy; JSON's C codec does it several times faster


def clean_text(text: str) -> dict:
    """`clean(json.loads(text))`, without copying what was just parsed."""
    return _cleaned(parsed(text))


def _cleaned(result: dict) -> dict:
    """`result` without the violations, changed in place: the legacy keys `_dashboard` names and the nulls
    `_nulls` names (a null has nothing under it, so removing those first leaves every legacy path)."""
    if isinstance(result.get("tags"), list):
        result["tags"] = sorted({str(t) for t in result["tags"]})  # as publish compares them: a set
    legacy = sorted({v.path for v in _dashboard(result)}, key=len, reverse=True)  # found before anything goes
    _drop_nulls(result, ())
    for *parents, key in legacy:
        container = result
        for part in parents:
            container = container[part]
        container.pop(key, None)
    return result


def _drop_nulls(node, path: JsonPath) -> None:
    """Removes in place exactly the nulls `_nulls` reports; each dict's are decided before any goes."""
    if isinstance(node, dict):
        drop = [key for key, value in node.items() if value is None and not _null_allowed(node, (*path, key))]
        for key in drop:
            del node[key]
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                _drop_nulls(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, (dict, list)):
                _drop_nulls(value, (*path, i))


def violations(dashboard: dict) -> list[Violation]:
    """Every legacy key and unexpected null, by JSON path; never raises on garbage."""
    if not isinstance(dashboard, dict):
        return []
    found = list(_dashboard(dashboard))
    legacy = {f.path for f in found}
    found += [v for v in _nulls(dashboard, ()) if v.path not in legacy]
    return sorted(set(found), key=lambda v: v.where)


def _dashboard(board: dict) -> Iterator[Violation]:
    yield from _keys(board, (), LEGACY_DASHBOARD_KEYS)
    for key, why in SAVED.items():
        if key in board:
            yield Violation((key,), f"`{key}`: {why}")
    if "gnetId" in board and board["gnetId"] is None:
        yield Violation(("gnetId",), "`gnetId: null`: set only on dashboards imported from grafana.com")
    for key, why in EMPTY_LEGACY.items():
        if key in board and board[key] in ([], {}, None):
            yield Violation((key,), why)
    if isinstance(board.get("timepicker"), dict):
        yield from _keys(board["timepicker"], ("timepicker",), LEGACY_TIMEPICKER_KEYS)
    panels = board.get("panels")
    for i, panel in enumerate(panels if isinstance(panels, list) else []):
        yield from _panel(panel, ("panels", i))
        nested = panel.get("panels") if isinstance(panel, dict) else None
        for j, inner in enumerate(nested if isinstance(nested, list) else []):
            yield from _panel(inner, ("panels", i, "panels", j))
    templating = board.get("templating")
    variables = templating.get("list") if isinstance(templating, dict) else None
    for i, variable in enumerate(variables if isinstance(variables, list) else []):
        if isinstance(variable, dict):
            yield from _variable(variable, ("templating", "list", i))


def _panel(panel, path: JsonPath) -> Iterator[Violation]:
    if not isinstance(panel, dict):
        return
    if panel.get("type") == "row":
        for key in sorted(set(panel) - ROW_KEYS, key=str):
            yield Violation((*path, key), f"a row panel holds only {', '.join(sorted(ROW_KEYS))}; "
                                          f"`{key}` is a data-panel key")
        return
    yield from _keys(panel, path, LEGACY_PANEL_KEYS)
    targets = panel.get("targets")
    for i, target in enumerate(targets if isinstance(targets, list) else []):
        if isinstance(target, dict):
            yield from _keys(target, (*path, "targets", i), LEGACY_TARGET_KEYS)


def _variable(variable: dict, path: JsonPath) -> Iterator[Violation]:
    yield from _keys(variable, path, LEGACY_VARIABLE_KEYS)
    if variable.get("type") != "interval":
        for key in INTERVAL_ONLY_VARIABLE_KEYS:
            if key in variable:
                yield Violation((*path, key), f"`{key}` belongs to interval variables only")
    current = variable.get("current")
    if isinstance(current, dict) and "tags" in current:
        yield Violation((*path, "current", "tags"), "variable tags were removed in Grafana 7")


def _keys(node: dict, path: JsonPath, legacy: dict[str, str]) -> Iterator[Violation]:
    for key, why in legacy.items():
        if key in node:
            yield Violation((*path, key), f"legacy key `{key}`: {why}")


def _nulls(node, path: JsonPath) -> Iterator[Violation]:
    if isinstance(node, dict):
        for key, value in node.items():
            here = (*path, key)
            if value is None:
                if not _null_allowed(node, here):
                    yield Violation(here, f"`{key}: null`: leave an unset option out")
            else:
                yield from _nulls(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _nulls(value, (*path, i))


def _null_allowed(node: dict, path: JsonPath) -> bool:
    return path[-1] == "value" and "color" in node and "steps" in path  # the base threshold step: -Infinity
