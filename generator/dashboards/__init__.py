"""Grafana dashboards from the inventory: one per model, the fleet overview, the GPU fleet.

grafanalib stays inside this package; callers get plain JSON-ready dicts.
"""
from __future__ import annotations

from generator import conventions as c
from generator.dashboards.fleet import fleet_dashboard
from generator.dashboards.folders import dashboard_folders
from generator.dashboards.gpu import gpu_dashboard
from generator.dashboards.model import model_dashboard
from generator.inventory import Inventory


def build_dashboards(inventory: Inventory) -> dict[str, dict]:
    """Output path (`dashboards/<folder directory>/<uid>.json`) -> dashboard JSON as plain dicts and lists."""
    boards = [fleet_dashboard(inventory), gpu_dashboard(inventory)]
    boards += [model_dashboard(inventory, model) for model in inventory.models]
    folder_of = dashboard_folders(inventory)
    result: dict[str, dict] = {}
    uids: set[str] = set()
    for board in boards:
        if board["uid"] in uids:
            raise ValueError(f"two dashboards share the uid {board['uid']!r}")
        uids.add(board["uid"])
        result[c.dashboard_file(board["uid"], folder_of[board["uid"]].title)] = board
    return result
