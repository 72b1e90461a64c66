"""`validate`: check the shipped dashboards and rules against the inventory and the metric catalog, offline.

`validate(inventory, output)` reads the files under `output` (what ships),
runs every check in `checks.CHECKS` and returns the findings, most severe
first within each file. It never prints; `command.py` reports.
"""
from __future__ import annotations

from pathlib import Path

from generator.validate.checks import CHECKS
from generator.validate.context import Context, load
from generator.validate.findings import ERROR, INFO, WARNING, Finding, Location, Severity


def run_checks(ctx: Context, checks=CHECKS) -> list[Finding]:
    found = [f for check in checks for f in check.check(ctx)]
    return sorted(found, key=Finding.sort_key)


def validate(inventory: str | Path, output: str | Path, checks=CHECKS) -> list[Finding]:
    return run_checks(load(inventory, output), checks)


__all__ = ["CHECKS", "ERROR", "INFO", "WARNING", "Finding", "Location", "Severity", "load", "run_checks", "validate"]
