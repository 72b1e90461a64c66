"""What a publish should leave in Grafana: folders and marked dashboards.

`publish` sends the dashboards `generate` wrote (`from_output`), as GitOps delivers them from
the committed files: what Grafana shows is what is in Git. It reads each file's bytes and
hashes them, and parses a dashboard only when it must be written or compared; the uid and
title come from the file's top-level lines.
"""
from __future__ import annotations

import hashlib
import json
import logging
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path

from generator import conventions as c
from generator import output
from generator.inventory import Inventory
from generator.publish import marking
from generator.publish.errors import PublishError

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
    owner: str  # the inventory that publishes it (marking.OWNER_PREFIX)
    digest: str  # SHA-256 of its content as generated (of its file)
    generated: Callable[[], dict] = field(repr=False, compare=False)  # the generated dashboard, read on demand

    @property
    def fingerprint(self) -> str:
        return marking.seal(self.digest, self.folder.uid, self.owner)

    @cached_property
    def body(self) -> dict:
        """As published: marked, "id": null."""
        return marking.publishable(self.generated(), self.folder.uid, self.owner, self.digest)[0]

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
    """Dashboards given as dicts, for their folders and owner (a test's or a benchmark's)."""
    return _bundle([Dashboard(board["uid"], board["title"], folder, owner, marking.content_digest(board),
                              partial(dict, board)) for board, folder in dashboards], owner)


def from_output(inventory: Inventory, root: Path) -> Bundle:
    """The dashboards `generate` wrote under `root` from this inventory, each in its team's folder.

    Refused when the output was generated from another version of the inventory, or a dashboard
    file changed since `generate` wrote it: publish sends exactly what `generate` wrote from it.
    """
    manifest = output.read_manifest(root)
    where = root / output.MANIFEST
    if manifest.get("inventory") != inventory.digest():
        raise PublishError(f"{where}: the files under {root} were not generated from {inventory.file} as it is "
                           f"now: run `python -m generator generate --inventory {inventory.file}` first (`make "
                           "publish` does), then publish")
    folder_of = _folders(inventory)
    dashboards = []
    for rel, recorded in sorted(manifest["files"].items()):
        if not (rel.startswith("dashboards/") and rel.endswith(".json")):
            continue
        path = root / rel
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PublishError(f"{path}: cannot read a dashboard generate wrote ({exc.strerror}): run `generate` "
                               "again") from None
        digest = hashlib.sha256(data).hexdigest()
        if digest != recorded:
            raise PublishError(f"{path}: changed since `generate` wrote it; publish sends only generated "
                               "dashboards: change the inventory or the generator, and run `generate` again")
        uid, title = _top_level(data, "uid", path), _top_level(data, "title", path)
        dashboards.append(Dashboard(uid, title, folder_of.get(uid, SHARED_FOLDER), inventory.owner, digest,
                                    partial(json.loads, data)))
    return _bundle(dashboards, inventory.owner)


def from_inventory(inventory: Inventory) -> Bundle:
    """The dashboards as `generate` would write them from this inventory, built in memory (for tests)."""
    from generator.dashboards import build_dashboards  # grafanalib: only when dashboards are built here

    folder_of = _folders(inventory)
    return bundle(((board, folder_of.get(board["uid"], SHARED_FOLDER))
                   for board in build_dashboards(inventory).values()), inventory.owner)


def _folders(inventory: Inventory) -> dict[str, Folder]:
    """Each model dashboard's team folder, by uid; the fleet-wide ones go to `SHARED_FOLDER`."""
    return {c.model_dashboard_uid(m.name): Folder(c.folder_uid(m.team.name), m.team.folder)
            for m in inventory.models}


def _bundle(dashboards: list[Dashboard], owner: str) -> Bundle:
    dashboards.sort(key=lambda d: d.uid)
    folders = {d.folder.uid: d.folder for d in dashboards}
    return Bundle(tuple(folders[uid] for uid in sorted(folders)), tuple(dashboards), owner)


def _top_level(data: bytes, key: str, path: Path) -> str:
    """A top-level string of a dashboard file, found without parsing the file.

    `dashboard_json` indents top-level keys, and only those, by two spaces, sorted: `title` and `uid`
    come last, after the panels, so they are searched from the end.
    """
    marker = f'\n  "{key}": '.encode()
    start = data.rfind(marker)
    try:
        value, _ = json.JSONDecoder().raw_decode(data[start + len(marker):start + 4096].decode("utf-8", "replace"))
    except ValueError:
        value = None
    if start < 0 or not isinstance(value, str):
        raise PublishError(f"{path}: no top-level {key!r}: not a dashboard generate wrote; run `generate` again")
    return value


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
