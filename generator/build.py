"""Inventory in, every generated file out: a pure function, no I/O."""
from __future__ import annotations

from generator import conventions as c
from generator.dashboards import build_dashboards
from generator.grafana_facts import dashboard_json
from generator.inventory import Inventory
from generator.kubernetes.manifests import manifests
from generator.rules.alertmanager import alertmanager_file
from generator.rules.files import rule_files
from generator.rules.promtool_tests import test_files
from generator.runbooks import runbooks

# The folders generation owns; stale generated files in them are removed.
OUTPUT_DIRS = ("dashboards", "alerts", "kubernetes")


def build(inventory: Inventory) -> dict[str, str]:
    """Relative path -> file content, for every generated file."""
    files: dict[str, str] = {}
    files.update(rule_files(inventory))
    files.update(test_files(inventory))
    files[c.ALERTMANAGER_FILE] = alertmanager_file(inventory)
    files.update(runbooks(inventory))
    files.update({path: dashboard_json(d) for path, d in build_dashboards(inventory).items()})
    files.update(manifests(inventory, files))
    return dict(sorted(files.items()))
