"""`validate`: check the shipped dashboards and rules against the inventory and the metric catalog, offline.

`validate(inventory, output)` reads the files under `output` (what ships),
runs every check in `checks.CHECKS` and returns the findings, most severe
first within each file. It never prints; `command.py` reports.
"""
from __future__ import annotations

import contextlib
import gc
from pathlib import Path

from generator.validate.checks import CHECKS
from generator.validate.context import Context, load
from generator.validate.findings import ERROR, INFO, WARNING, Finding, Location, Severity


def run_checks(ctx: Context, checks=CHECKS) -> list[Finding]:
    found = [f for check in checks for f in check.check(ctx)]
    return sorted(found, key=Finding.sort_key)


def validate(inventory: str | Path, output: str | Path, checks=CHECKS) -> list[Finding]:
    with _collector_paused():
        return run_checks(load(inventory, output), checks)


@contextlib.contextmanager
def _collector_paused():
    """Python's cycle collector off while validating: reading builds millions of objects that live until the
    end (parsed files, queries, their syntax trees) and no reference cycles, so each of its passes over the
    growing heap found nothing and, at a fleet's size, cost a third of the run."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


__all__ = ["CHECKS", "ERROR", "INFO", "WARNING", "Finding", "Location", "Severity", "load", "run_checks", "validate"]
