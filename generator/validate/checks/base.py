"""The shape of a check: a constant id, a one-line purpose, `check(context) -> findings`."""
from __future__ import annotations

from generator.validate.context import Context
from generator.validate.findings import ERROR, Finding, Location, Severity


class Check:
    """Subclasses set `id` and `severity` and write the purpose as the docstring's first line."""

    id: str = ""
    severity: Severity = ERROR  # of what it reports; a few findings are milder, said in their message

    @classmethod
    def purpose(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0]

    def check(self, ctx: Context) -> list[Finding]:
        raise NotImplementedError

    def finding(self, location: Location, message: str, severity: Severity | None = None) -> Finding:
        return Finding(self.id, self.severity if severity is None else severity, location, message)
