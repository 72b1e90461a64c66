"""The outcome of a publish as text for people (a table of what changed) or JSON for machines."""
from __future__ import annotations

import json
from collections import Counter

from generator.publish.plan import CONFLICT, UNCHANGED, resolution
from generator.publish.publisher import Outcome

ORDER = ("created", "updated", "overwritten", "deleted", "unchanged", "kept", "refused", "failed", "skipped")
PLAN_ORDER = ("create", "update", "conflict", "blocked", "delete", "unchanged", "shared", "orphan")


def as_json(outcome: Outcome) -> str:
    steps = outcome.plan.steps
    doc = {
        "ok": outcome.ok,
        "dry_run": outcome.dry_run,
        "grafana": {"url": outcome.url, "version": outcome.version},
        "message": outcome.message,
        "stopped": outcome.stopped,
        "requests": outcome.requests,
        "counts": dict(Counter(s.action if outcome.dry_run else s.result for s in steps)),
        "folders": [{"uid": f.folder.uid, "title": f.folder.title, "action": f.action,
                     "result": None if outcome.dry_run else (f.result or "unchanged")} for f in outcome.plan.folders],
        "dashboards": [{"uid": s.uid, "title": s.title, "folder": s.folder_title, "action": s.action,
                        "result": None if outcome.dry_run else s.result, "reason": s.reason or None,
                        **({"resolution": resolution(s)} if s.action == CONFLICT else {}),
                        **({"diff": s.diff} if s.diff else {})} for s in steps],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def as_text(outcome: Outcome) -> str:
    steps = outcome.plan.steps
    dry = " (dry run: nothing is written)" if outcome.dry_run else ""
    lines = [f"Grafana {outcome.version} at {outcome.url}{dry}", f"version message: {outcome.message}"]
    folders = [f for f in outcome.plan.folders if f.action != "unchanged" or f.result not in ("", "unchanged")]
    if folders:
        lines.append("")
        for f in folders:
            what = f.action if outcome.dry_run else (f.result or f"not done ({f.action})")
            was = f" (was {f.current_title!r})" if f.action == "rename" else ""
            lines.append(f"  folder {what:<9} {f.folder.title} [{f.folder.uid}]{was}")
    shown = [s for s in steps if s.action != UNCHANGED or s.reason]
    if shown:
        uid_width = max(len("DASHBOARD"), *(len(s.uid) for s in shown))
        folder_width = max(len("FOLDER"), *(len(s.folder_title) for s in shown))
        result_head = "" if outcome.dry_run else f"{'RESULT':<12}"
        lines += ["", f"  {'ACTION':<10}{result_head}{'DASHBOARD':<{uid_width + 2}}{'FOLDER'}"]
        for s in shown:
            result = "" if outcome.dry_run else f"{s.result or '-':<12}"
            lines.append(f"  {s.action:<10}{result}{s.uid:<{uid_width + 2}}{s.folder_title:<{folder_width}}".rstrip())
            refused = s.action == CONFLICT and (s.result == "refused" or outcome.dry_run and not outcome.force)
            reason = f"{s.reason}; {resolution(s)}" if refused else s.reason
            if reason:
                lines.append(f"      {reason}")
    lines += ["", _summary(outcome)]
    if outcome.dry_run:
        diffs = [s.diff for s in steps if s.diff]
        if diffs:
            lines += ["", *[d.rstrip("\n") for d in diffs]]
    return "\n".join(lines) + "\n"


def _summary(outcome: Outcome) -> str:
    steps = outcome.plan.steps
    if outcome.dry_run:
        counts = Counter(s.action for s in steps)
        parts = [f"{counts[a]} {a}" for a in PLAN_ORDER if counts[a]]
        text = f"{len(steps)} dashboards would be: {', '.join(parts) or 'none'}."
    else:
        counts = Counter(s.result for s in steps)
        parts = [f"{counts[r]} {r}" for r in ORDER if counts[r]]
        text = f"{len(steps)} dashboards: {', '.join(parts) or 'none'}."
        if not any(counts[r] for r in ("created", "updated", "overwritten", "deleted")) \
                and not any(f.result in ("created", "renamed") for f in outcome.plan.folders):
            text += " Nothing was written."
    conflicts = [s for s in steps if s.action == CONFLICT and (s.result == "refused" or outcome.dry_run)]
    if conflicts and not (outcome.force and outcome.dry_run):
        text += (f"\n{len(conflicts)} changed in Grafana since the last publish and not overwritten: "
                 "`python -m generator publish --dry-run` shows the differences, `--force` overwrites them.")
    if outcome.stopped:
        written = sum(1 for s in steps if s.result in ("created", "updated", "overwritten", "deleted"))
        missing = sum(1 for s in steps if s.result in ("failed", "skipped"))
        text += (f"\nStopped early: {outcome.stopped}\n{written} written, {missing} not written (failed or "
                 "skipped above). Run publish again to finish: it picks up where this run stopped.")
    return text
