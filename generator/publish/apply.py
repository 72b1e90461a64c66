"""Carry out a plan: folders first, then each dashboard write, then deletions.

Every save names the version it was planned against and never sets `overwrite`
(except a conflict under --force), so a dashboard changed in Grafana between
planning and writing gets Grafana's 412 instead of being clobbered. A 412 is
resolved by reading the dashboard back: if it already holds what we meant to
write, an earlier try that lost its answer (dropped connection, timeout) did the
work. That is what makes a rerun after any failure converge.

Per-dashboard refusals are recorded and the run goes on; a failure that would
hit every later request too (unreachable after retries, 401, 403) stops the run,
and the steps not reached are marked `skipped`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from generator.publish import marking
from generator.publish.errors import (
    Forbidden,
    GrafanaError,
    PublishError,
    Rejected,
    TlsFailure,
    Unauthorized,
    Unavailable,
)
from generator.publish.grafana import Grafana
from generator.publish.plan import (
    BLOCKED,
    CONFLICT,
    CREATE,
    DELETE,
    ORPHAN,
    SHARED,
    UNCHANGED,
    UPDATE,
    Plan,
    Step,
    blocked_reason,
    changed_reason,
    classify,
)

log = logging.getLogger(__name__)

# Results of steps that write nothing; other non-writing steps are refusals.
KEPT = {UNCHANGED: "unchanged", ORPHAN: "kept", SHARED: "kept"}
FATAL = (Unavailable, Unauthorized, Forbidden, TlsFailure)
CREATED, UPDATED, OVERWRITTEN, DELETED, REFUSED, FAILED, SKIPPED = (
    "created", "updated", "overwritten", "deleted", "refused", "failed", "skipped")


def apply(grafana: Grafana, plan: Plan, *, force: bool, message: str,
          progress: Callable[[str, int, int], None] | None = None) -> str | None:
    """Write the plan; returns why the run stopped early, or None when every step was attempted."""
    for step in plan.steps:
        if not _writes(step, force):
            step.result = KEPT.get(step.action, REFUSED)
    try:
        _folders(grafana, plan)
    except PublishError as exc:
        for step in plan.steps:
            if _writes(step, force):
                step.result = SKIPPED
        return str(exc)
    todo = [s for s in plan.steps if _writes(s, force)]
    for done, step in enumerate(todo, 1):
        if progress:
            progress("writing", done, len(todo))
        try:
            if step.action == DELETE or (step.action == CONFLICT and step.desired is None):
                _delete(grafana, step)
            else:
                _save(grafana, step, force=force, message=message)
        except FATAL as exc:
            step.result, step.reason = FAILED, str(exc)
            for later in todo[done:]:
                later.result = SKIPPED
            return str(exc)
        except GrafanaError as exc:
            step.result, step.reason = FAILED, str(exc)
            log.error("%s", exc)
    return None


def _writes(step: Step, force: bool) -> bool:
    return step.action in (CREATE, UPDATE, DELETE) or (step.action == CONFLICT and force)


def _folders(grafana: Grafana, plan: Plan) -> None:
    for fs in plan.folders:
        folder = fs.folder
        if fs.action == "create":
            try:
                grafana.create_folder(folder.uid, folder.title)
                fs.result = CREATED
                continue
            except Rejected as exc:
                if exc.status not in (409, 412):
                    raise PublishError(f"cannot create folder {folder.title!r} ({folder.uid}): {exc}") from None
                found = grafana.folder(folder.uid)  # created by an earlier try, or by someone else: same uid
                if found is None:
                    raise PublishError(f"cannot create folder {folder.title!r} ({folder.uid}): {exc}. Another "
                                       "folder probably has that title (Grafana before 11.3 requires unique "
                                       "folder titles): rename one of them.") from None
                fs.current_title = found.get("title", "")
                if fs.current_title == folder.title:
                    fs.result = "exists"
                    continue
                fs.action = "rename"
        if fs.action == "rename":
            found = grafana.folder(folder.uid)
            if found is None:
                raise PublishError(f"folder {folder.uid} disappeared while publishing; run publish again")
            grafana.rename_folder(folder.uid, folder.title, int(found.get("version", 0)))
            fs.result = "renamed"


def _save(grafana: Grafana, step: Step, *, force: bool, message: str, again: bool = False) -> None:
    d = step.desired
    assert d is not None  # only generated dashboards are saved
    overwrite = step.action == CONFLICT and force
    version = step.version if step.action != CREATE else 0
    body = {"dashboard": {**d.body, "id": None, "version": version}, "folderUid": d.folder.uid,
            "message": message[:500], "overwrite": overwrite}
    try:
        grafana.save(body)
    except Rejected as exc:
        if exc.status == 412 and exc.grafana_status == "version-mismatch":
            return _resolve_mismatch(grafana, step, force=force, message=message, again=again)
        if exc.status == 400 and "provisioned" in str(exc):
            step.action, step.result, step.reason = BLOCKED, REFUSED, str(exc)
            return
        raise
    step.result = OVERWRITTEN if overwrite else (CREATED if step.action == CREATE else UPDATED)


def _resolve_mismatch(grafana: Grafana, step: Step, *, force: bool, message: str, again: bool) -> None:
    """Grafana holds another version than planned: ours from an earlier try, another publish's, or an edit."""
    d = step.desired
    assert d is not None  # only generated dashboards are saved
    found = grafana.dashboard(d.uid)
    if found is None:
        raise GrafanaError(f"dashboard {d.uid} changed and then disappeared while publishing; run publish again")
    stored, meta = found["dashboard"], found.get("meta", {})
    if marking.fingerprint(stored, meta.get("folderUid", "")) == d.fingerprint:
        step.result = CREATED if step.action == CREATE else UPDATED
        log.info("%s already holds what was to be published (an earlier try took effect)", d.uid)
        return
    owner = marking.owner_of(stored.get("tags"))
    if owner is not None and owner != d.owner:  # another inventory published it since the plan was made
        decided = classify(d, found, diffs=False)
        step.action, step.result, step.reason = decided.action, KEPT.get(decided.action, REFUSED), decided.reason
        return
    blocked = blocked_reason(found)
    if blocked:
        step.action, step.result, step.reason = BLOCKED, REFUSED, blocked
        return
    step.version = int(meta.get("version") or 0)
    if not again and marking.untouched(stored, meta.get("folderUid", "")):
        step.action = UPDATE  # as another publish left it (a concurrent run, or a late try): update it once more
        return _save(grafana, step, force=force, message=message, again=True)
    step.action, step.reason = CONFLICT, changed_reason(meta)
    if not force:
        step.result = REFUSED
        return
    _save(grafana, step, force=True, message=message)


def _delete(grafana: Grafana, step: Step) -> None:
    try:
        grafana.delete(step.uid)  # False when already gone: an earlier try took effect
    except Rejected as exc:
        if exc.status == 400 and "provisioned" in str(exc):
            step.action, step.result, step.reason = BLOCKED, REFUSED, str(exc)
            return
        raise
    step.result = DELETED
