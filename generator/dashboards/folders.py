"""Which Grafana folder each dashboard goes into: its team's folder, or the shared fleet folder.

The folder decides the dashboard's directory under dashboards/, the sidecar's
folder annotation and the grafana-operator folder objects; `publish` puts each
dashboard in the same folder (its own mapping is tested to agree with this one).
"""
from __future__ import annotations

from dataclasses import dataclass

from generator import conventions as c
from generator.inventory import Inventory, Team


@dataclass(frozen=True)
class Folder:
    uid: str
    title: str

    @property
    def directory(self) -> str:
        return c.folder_directory(self.title)


SHARED = Folder(c.SHARED_FOLDER_UID, c.SHARED_FOLDER_TITLE)


def team_folder(team: Team) -> Folder:
    return Folder(c.folder_uid(team.name), team.folder)


def dashboard_folders(inventory: Inventory) -> dict[str, Folder]:
    """Dashboard uid -> folder, for every generated dashboard."""
    result = {c.FLEET_UID: SHARED, c.GPU_UID: SHARED}
    result.update({c.model_dashboard_uid(m.name): team_folder(m.team) for m in inventory.models})
    return result


def folders(inventory: Inventory) -> list[Folder]:
    """The folders that receive a dashboard, by uid."""
    unique = {f.uid: f for f in dashboard_folders(inventory).values()}
    return [unique[uid] for uid in sorted(unique)]
