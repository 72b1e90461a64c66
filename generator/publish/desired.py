"""What a publish should leave in Grafana: folders and marked dashboards, built in memory from the inventory."""
from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from generator import conventions as c
from generator.build import dashboard_json
from generator.dashboards import build_dashboards
from generator.inventory import Inventory
from generator.publish import marking

log = logging.getLogger(__name__)

MESSAGE_PREFIX = "Published by llm-observability (python -m generator publish)"


@dataclass(frozen=True)
class Folder:
    uid: str
    title: str


# Dashboards that span teams (fleet overview, GPU fleet) go to one shared folder.
SHARED_FOLDER = Folder(c.SHARED_FOLDER_UID, c.SHARED_FOLDER_TITLE)


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    folder: Folder
    body: dict  # as published: marked, "id": null
    fingerprint: str
    owner: str  # the inventory that publishes it (marking.OWNER_PREFIX)

    @property
    def shared(self) -> bool:
        """Fleet-wide (fleet overview, GPU fleet): it reads every model, whichever inventory publishes it."""
        return self.folder == SHARED_FOLDER


@dataclass(frozen=True)
class Bundle:
    folders: tuple[Folder, ...]
    dashboards: tuple[Dashboard, ...]
    owner: str


def bundle(dashboards: Iterable[tuple[dict, Folder]], owner: str) -> Bundle:
    """Mark each generated dashboard for its folder and owner; the folders are those that receive a dashboard."""
    marked = []
    for generated, folder in dashboards:
        body, digest = marking.publishable(generated, folder.uid, owner)
        marked.append(Dashboard(body["uid"], body["title"], folder, body, digest, owner))
    marked.sort(key=lambda d: d.uid)
    folders = {d.folder.uid: d.folder for d in marked}
    return Bundle(tuple(folders[uid] for uid in sorted(folders)), tuple(marked), owner)


def from_inventory(inventory: Inventory) -> Bundle:
    """The dashboards exactly as `build()` writes them to dashboards/, each in its team's folder.

    Only the dashboard stage of `build()` runs (rules and runbooks are not needed), and each
    dashboard goes through the same `dashboard_json` serialisation as the committed files.
    """
    team_of = {c.model_dashboard_uid(m.name): m.team for m in inventory.models}
    pairs = []
    for board in build_dashboards(inventory).values():
        board = json.loads(dashboard_json(board))
        team = team_of.get(board["uid"])
        pairs.append((board, Folder(c.folder_uid(team.name), team.folder) if team else SHARED_FOLDER))
    return bundle(pairs, inventory.owner)


def version_message(repository: Path) -> str:
    """The version-history message: names the Git commit of the inventory's repository when there is one."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repository, capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        log.info("no Git commit for the version message: %s", exc)
        return MESSAGE_PREFIX
    commit = done.stdout.strip()
    if done.returncode != 0 or not commit:
        log.info("no Git commit for the version message: %s", done.stderr.strip())
        return MESSAGE_PREFIX
    return f"{MESSAGE_PREFIX} from commit {commit}"
