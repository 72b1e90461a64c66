"""One publish: connect, check the version, plan, and (unless a dry run) apply."""
from __future__ import annotations

from dataclasses import dataclass

from generator.publish import compat
from generator.publish.apply import FAILED, REFUSED, SKIPPED, apply
from generator.publish.desired import Bundle
from generator.publish.errors import GrafanaError, PublishError
from generator.publish.grafana import Grafana
from generator.publish.plan import Plan, Progress, make_plan


@dataclass
class Outcome:
    url: str
    version: str
    message: str
    dry_run: bool
    force: bool
    plan: Plan
    stopped: str | None = None  # why the run stopped before attempting every write
    requests: int = 0  # HTTP requests sent, retries included

    @property
    def ok(self) -> bool:
        """Everything generated is in Grafana as generated (or, in a dry run, would be)."""
        if self.stopped:
            return False
        if self.dry_run:
            return not any(s.action in ("conflict", "blocked") and not (self.force and s.action == "conflict")
                           for s in self.plan.steps)
        return not any(s.result in (FAILED, REFUSED, SKIPPED) for s in self.plan.steps)


def publish(grafana: Grafana, bundle: Bundle, *, message: str, dry_run: bool = False, prune: bool = False,
            force: bool = False, verify: bool = False, progress: Progress | None = None) -> Outcome:
    try:
        version = compat.check(grafana.build_info())
        plan = make_plan(grafana, bundle, prune=prune, diffs=dry_run, verify=verify,
                         progress=progress)
    except GrafanaError as exc:
        raise PublishError(f"{exc}\nNothing was written to Grafana.") from None
    outcome = Outcome(grafana.settings.url, version, message, dry_run, force, plan)
    if not dry_run:
        outcome.stopped = apply(grafana, plan, force=force, message=message, progress=progress)
    outcome.requests = grafana.sent
    return outcome
