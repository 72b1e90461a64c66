"""Decide, for every folder and dashboard, what a publish does; read only what it must to decide.

One folder listing and one tag search (a page per 5,000 dashboards) classify every
dashboard whose recorded fingerprint and folder already match: `unchanged`, no
further request. Only a dashboard that would be written or deleted is read back
(one GET) to learn its version and whether it was changed in Grafana since the
last publish.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from generator.publish import marking
from generator.publish.desired import Bundle, Dashboard, Folder
from generator.publish.grafana import Grafana

CREATE, UPDATE, UNCHANGED, CONFLICT, BLOCKED, DELETE, ORPHAN, SHARED = (
    "create", "update", "unchanged", "conflict", "blocked", "delete", "orphan", "shared")
Progress = Callable[[str, int, int], None]


@dataclass
class FolderStep:
    folder: Folder
    action: str  # create | rename | unchanged
    current_title: str = ""
    result: str = ""


@dataclass
class Step:
    uid: str
    title: str
    folder_title: str
    action: str
    reason: str = ""
    desired: Dashboard | None = None  # None for delete and orphan
    version: int = 0  # the stored version a save must name (optimistic concurrency)
    diff: str = ""
    result: str = ""  # filled in by apply


@dataclass
class Plan:
    folders: list[FolderStep]
    steps: list[Step]


def make_plan(grafana: Grafana, bundle: Bundle, *, prune: bool, diffs: bool, verify: bool = False,
              progress: Progress | None = None) -> Plan:
    """`verify` reads back every managed dashboard, to find edits made in Grafana to dashboards whose
    generated content did not change (one request per dashboard); without it those edits are left
    alone until the generated dashboard changes, and then refused."""
    current = {f["uid"]: f for f in grafana.folders()}
    folders = [_folder_step(f, current.get(f.uid)) for f in bundle.folders]
    hits = {h["uid"]: h for h in grafana.search_tagged(marking.MANAGED_TAG)}
    steps: list[Step] = []
    owners = {d.uid: marking.owner_of(hits[d.uid].get("tags")) for d in bundle.dashboards if d.uid in hits}
    others = {uid: owner for uid, owner in owners.items() if owner is not None and owner != bundle.owner}
    reads = [d for d in bundle.dashboards if d.uid in hits and d.uid not in others
             and (verify or not _matches(hits[d.uid], d))]
    # Only what this inventory published: not another inventory's, not a "Save as" copy, not a dashboard
    # published before owners were recorded.
    stale = [h for uid, h in sorted(hits.items()) if uid not in {d.uid for d in bundle.dashboards}
             and marking.published_here(uid, h.get("tags"), bundle.owner)]
    total, done = len(reads) + (len(stale) if prune else 0), 0
    for d in bundle.dashboards:
        hit = hits.get(d.uid)
        if hit is None:
            steps.append(Step(d.uid, d.title, d.folder.title, CREATE, desired=d))
        elif d.uid in others:
            steps.append(_someone_elses(d, others[d.uid]))
        elif _matches(hit, d) and not verify:
            steps.append(Step(d.uid, d.title, d.folder.title, UNCHANGED, desired=d))
        else:
            done += 1
            if progress:
                progress("reading", done, total)
            steps.append(classify(d, grafana.dashboard(d.uid), diffs))
    for hit in stale:
        folder_title = hit.get("folderTitle", "General")
        if not prune:
            steps.append(Step(hit["uid"], hit["title"], folder_title, ORPHAN,
                              "managed but no longer generated; --prune deletes it"))
            continue
        done += 1
        if progress:
            progress("reading", done, total)
        steps.append(classify_delete(hit, grafana.dashboard(hit["uid"]), bundle.owner))
    return Plan(folders, steps)


def _someone_elses(d: Dashboard, owner: str) -> Step:
    """A dashboard at one of our uids that another inventory published: never written by this one."""
    if d.shared:
        return Step(d.uid, d.title, d.folder.title, SHARED,
                    f"published by inventory {owner!r}: fleet-wide dashboards read every model's llm: series, "
                    "so it shows this inventory's models too; left as it is", desired=d)
    return Step(d.uid, d.title, d.folder.title, BLOCKED, _other_owner(owner, d.owner), desired=d)


def _other_owner(owner: str, ours: str) -> str:
    return (f"published by another inventory (owner {owner!r}; this one is {ours!r}): both generate this uid. "
            "Rename the model in one of them; or, if that was this inventory before its owner changed, set "
            f"`owner: {owner}` in it")


def classify(d: Dashboard, found: dict | None, diffs: bool) -> Step:
    """Update, conflict or blocked, from the stored dashboard (GET /api/dashboards/uid) and its marks."""
    step = Step(d.uid, d.title, d.folder.title, CREATE, desired=d)
    if found is None:  # deleted since the search
        return step
    stored, meta = found["dashboard"], found.get("meta", {})
    step.version = int(meta.get("version") or stored.get("version") or 0)
    owner = marking.owner_of(stored.get("tags"))
    if owner is not None and owner != d.owner:
        other = _someone_elses(d, owner)
        step.action, step.reason = other.action, other.reason
        return step
    blocked = blocked_reason(found)
    if blocked:
        step.action, step.reason = BLOCKED, blocked
        return step
    now = marking.fingerprint(stored, meta.get("folderUid", ""))
    if now == d.fingerprint and marking.recorded(stored.get("tags")) == d.fingerprint:
        step.action = UNCHANGED
        return step
    if now == d.fingerprint or marking.untouched(stored, meta.get("folderUid", "")):
        step.action = UPDATE  # untouched since the last publish (or already equal to what we would write)
    else:
        step.action, step.reason = CONFLICT, changed_reason(meta)
    moved = meta.get("folderUid", "") != d.folder.uid
    if moved:
        move = f"moves from folder {meta.get('folderTitle') or 'General'!r} to {d.folder.title!r}"
        step.reason = f"{step.reason}; {move}" if step.reason else move
    if diffs:
        step.diff = diff(d.uid, stored, d.body)
    return step


def classify_delete(hit: dict, found: dict | None, owner: str) -> Step:
    step = Step(hit["uid"], hit["title"], hit.get("folderTitle", "General"), DELETE, "no longer generated")
    if found is None:
        step.action, step.reason = UNCHANGED, "already deleted"
        return step
    stored, meta = found["dashboard"], found.get("meta", {})
    blocked = blocked_reason(found)
    if not marking.published_here(hit["uid"], stored.get("tags"), owner):
        step.action, step.reason = ORPHAN, "not published by this inventory (its marks changed since the search)"
    elif blocked:
        step.action, step.reason = BLOCKED, blocked
    elif not marking.untouched(stored, meta.get("folderUid", "")):
        step.action = CONFLICT
        step.reason = f"no longer generated, but {changed_reason(meta)}"
    return step


def blocked_reason(found: dict) -> str:
    """Why this dashboard can never be written by publish, or "" when it can."""
    stored, meta = found["dashboard"], found.get("meta", {})
    if meta.get("provisioned"):
        source = meta.get("provisionedExternalId") or "a file"
        return (f"provisioned from {source}: Grafana refuses API writes to it; deliver each dashboard either by "
                "file provisioning or by publish, not both")
    if not marking.is_managed(stored.get("tags")):
        return (f"a dashboard with this uid exists in Grafana but is not managed by this tool (no "
                f"{marking.MANAGED_TAG} tag): delete or re-uid it in Grafana, then publish again")
    return ""


def changed_reason(meta: dict) -> str:
    who = meta.get("updatedBy") or "someone"
    return (f"changed in Grafana since it was last published (version {meta.get('version', '?')}, by {who} at "
            f"{meta.get('updated', '?')})")


def resolution(step: Step) -> str:
    """How to get past a conflict this run refused."""
    if step.desired is None:
        return "not deleted: remove that tag in Grafana to keep it, or rerun with --force to delete it"
    return "not overwritten: `publish --dry-run` shows the difference, `publish --force` overwrites it"


def diff(uid: str, stored: dict, new: dict) -> str:
    lines = difflib.unified_diff(marking.comparable(stored).splitlines(keepends=True),
                                 marking.comparable(new).splitlines(keepends=True),
                                 f"grafana/{uid}", f"generated/{uid}")
    return "".join(lines)


def _folder_step(folder: Folder, current: dict | None) -> FolderStep:
    if current is None:
        return FolderStep(folder, "create")
    if current.get("title") != folder.title:
        return FolderStep(folder, "rename", current_title=current.get("title", ""))
    return FolderStep(folder, "unchanged", current_title=folder.title)


def _matches(hit: dict, d: Dashboard) -> bool:
    """Search alone proves it unchanged: the recorded fingerprint and the folder are what we would publish."""
    return marking.recorded(hit.get("tags")) == d.fingerprint and hit.get("folderUid", "") == d.folder.uid
