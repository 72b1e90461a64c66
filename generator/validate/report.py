"""Findings as text for people (grouped by file) or JSON for CI. Formatting only: no checking, no printing."""
from __future__ import annotations

import json
from itertools import groupby

from generator.validate.findings import ERROR, INFO, WARNING, Finding


def summary(findings: list[Finding], elapsed: float | None = None) -> str:
    counts = {s: sum(1 for f in findings if f.severity == s) for s in (ERROR, WARNING, INFO)}
    files = len({f.location.file for f in findings})
    took = f" ({elapsed:.2f} s)" if elapsed is not None else ""
    if not findings:
        return f"validate: no problems found{took}"
    verdict = "FAILED" if counts[ERROR] else "passed"
    parts = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n)
    return f"validate {verdict}: {parts} in {files} file{'s' if files != 1 else ''}{took}"


def text(findings: list[Finding], elapsed: float | None = None) -> str:
    """One block per file; each finding: severity, check id, location within the file, message."""
    lines = []
    for file, group in groupby(findings, key=lambda f: f.location.file):
        lines.append(file)
        for f in group:
            line = f":{f.location.line}" if f.location.line else ""
            where = f.location.where()
            lines.append(f"  {str(f.severity):7} {f.check}{line}  {where}" if where else
                         f"  {str(f.severity):7} {f.check}{line}")
            lines.append(f"          {f.message}")
        lines.append("")
    lines.append(summary(findings, elapsed))
    return "\n".join(lines) + "\n"


def as_json(findings: list[Finding], elapsed: float | None = None) -> str:
    counts = {str(s): sum(1 for f in findings if f.severity == s) for s in (ERROR, WARNING, INFO)}
    payload = {"findings": [f.to_json() for f in findings], "counts": counts, "ok": counts["error"] == 0}
    if elapsed is not None:
        payload["seconds"] = round(elapsed, 3)
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
