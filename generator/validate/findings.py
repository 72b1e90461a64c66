"""The one shape of every finding: check id, severity, location, message.

Checks return findings; reporting (text, JSON) lives in `report.py`.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.IntEnum):
    """Ordered: info < warning < error. `validate` fails on any error."""

    INFO = 0
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name.lower()


INFO, WARNING, ERROR = Severity.INFO, Severity.WARNING, Severity.ERROR


@dataclass(frozen=True)
class Location:
    """Where a finding is: a file, then the dashboard/panel/target, rule group/rule, or inventory key."""

    file: str
    line: int | None = None
    dashboard: str | None = None  # uid
    panel_id: int | None = None
    panel: str | None = None  # title
    target: str | None = None  # refId, or another name for a query inside a dashboard
    group: str | None = None
    rule: str | None = None  # alert or record name
    rule_index: int | None = None  # 1-based position in its group: tiers share a name
    key: str | None = None  # inventory key path or a JSON/YAML path

    def where(self) -> str:
        """Everything after the file, for humans."""
        parts = []
        if self.dashboard is not None:
            parts.append(f"dashboard {self.dashboard}")
        if self.panel_id is not None or self.panel is not None:
            title = f" {self.panel!r}" if self.panel else ""
            parts.append(f"panel {self.panel_id}{title}" if self.panel_id is not None else f"panel{title}")
        if self.target is not None:
            parts.append(f"target {self.target}")
        if self.group is not None:
            parts.append(f"group {self.group}")
        if self.rule is not None:
            index = f" (#{self.rule_index})" if self.rule_index is not None else ""
            parts.append(f"rule {self.rule}{index}")
        if self.key is not None:
            parts.append(self.key)
        return ", ".join(parts)

    def __str__(self) -> str:
        head = f"{self.file}:{self.line}" if self.line else self.file
        rest = self.where()
        return f"{head}: {rest}" if rest else head

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Finding:
    check: str  # the check's id, e.g. `promql/syntax`
    severity: Severity
    location: Location
    message: str

    def sort_key(self) -> tuple:
        """By file, then line; a stable sort keeps check order and panel order within them."""
        return (self.location.file, self.location.line or 0)

    def to_json(self) -> dict:
        return {"check": self.check, "severity": str(self.severity), "location": self.location.to_json(),
                "message": self.message}
