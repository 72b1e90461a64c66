"""The shipped files as the checks see them: rules, dashboards, panels and their queries.

Accessors never raise on garbage: a missing or mistyped field reads as absent.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from generator.inventory import Model
from generator.validate import expr as x
from generator.validate.findings import Location

NO_QUERY_PANELS = {"row", "text", "news", "dashlist", "alertlist", "welcome", "annolist"}


@dataclass
class Rule:
    file: str
    group: str
    index: int  # 1-based within the group
    data: dict
    line: int | None
    model: Model | None

    @property
    def kind(self) -> str | None:
        if isinstance(self.data.get("alert"), str):
            return "alert"
        if isinstance(self.data.get("record"), str):
            return "record"
        return None

    @property
    def name(self) -> str:
        return str(self.data.get("alert") or self.data.get("record") or "?")

    @functools.cached_property  # read for every query that names the recorded series: once per rule
    def labels(self) -> dict[str, str]:
        return str_map(self.data.get("labels"))

    @property
    def annotations(self) -> dict[str, str]:
        return str_map(self.data.get("annotations"))

    @property
    def location(self) -> Location:
        return Location(self.file, self.line, group=self.group, rule=self.name, rule_index=self.index)


@dataclass
class Panel:
    data: dict
    row: str | None  # title of the collapsed row holding it

    @property
    def id(self):
        return self.data.get("id")

    @property
    def title(self) -> str | None:
        title = self.data.get("title")
        return title if isinstance(title, str) else None

    @property
    def type(self) -> str:
        value = self.data.get("type")
        return value if isinstance(value, str) else ""

    @property
    def targets(self) -> list[dict]:
        targets = self.data.get("targets")
        return [t for t in targets if isinstance(t, dict)] if isinstance(targets, list) else []

    @property
    def queries_data(self) -> bool:
        return self.type not in NO_QUERY_PANELS


@dataclass
class Dashboard:
    file: str
    data: dict
    model: Model | None

    @property
    def uid(self) -> str | None:
        uid = self.data.get("uid")
        return uid if isinstance(uid, str) else None

    @property
    def panels(self) -> list[Panel]:
        """Top-level panels, then those inside collapsed rows."""
        top = self.data.get("panels")
        if not isinstance(top, list):
            return []
        result = []
        for p in top:
            if not isinstance(p, dict):
                continue
            result.append(Panel(p, None))
            nested = p.get("panels")
            if isinstance(nested, list):
                result += [Panel(n, str(p.get("title"))) for n in nested if isinstance(n, dict)]
        return result

    def location(self, panel: Panel | None = None, target: str | None = None, key: str | None = None) -> Location:
        pid = panel.id if panel is not None and isinstance(panel.id, int) else None
        return Location(self.file, dashboard=self.uid or "?", panel_id=pid,
                        panel=panel.title if panel is not None else None, target=target, key=key)


@dataclass
class Query:
    """One PromQL expression as shipped: a rule's expr or a dashboard query."""

    text: str
    parsed: x.Parsed
    location: Location
    model: Model | None
    kind: str  # record | alert | target | annotation | variable
    rule: Rule | None = None
    dashboard: Dashboard | None = None
    panel: Panel | None = None


def listed(section) -> list:
    """`{"list": [...]}` sections (annotations, templating)."""
    if isinstance(section, dict) and isinstance(section.get("list"), list):
        return section["list"]
    return []


def str_map(value) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if not isinstance(v, (dict, list)) and v is not None}


def type_of(value) -> str:
    """How a value reads in a message: `a mapping`, `the string 'x'`, `nothing`."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return f"{type(value).__name__} {value!r}"[:60]
