"""Checks on alerting rules: labels, annotations, `for`, templates, links and duplicates."""
from __future__ import annotations

import re

from generator import prometheus_syntax as prom
from generator.validate import gotemplate
from generator.validate.checks.base import Check
from generator.validate.context import Context, Rule
from generator.validate.findings import WARNING, Finding

SEVERITIES = ("critical", "warning", "info")
REQUIRED_ANNOTATIONS = ("summary", "description", "runbook_url", "dashboard_url")
_DASHBOARD_PATH = re.compile(r"/d/([^/?#]+)")


def alerts(ctx: Context) -> list[Rule]:
    return [r for r in ctx.rules if r.kind == "alert"]


class Labels(Check):
    """Every alert has a `severity` label of critical, warning or info."""

    id = "alerts/labels"

    def check(self, ctx: Context) -> list[Finding]:
        found = []
        for rule in alerts(ctx):
            severity = rule.labels.get("severity")
            if severity is None:
                found.append(self.finding(rule.location, "no `severity` label: Alertmanager cannot route it "
                                                         f"(one of {', '.join(SEVERITIES)})"))
            elif severity not in SEVERITIES:
                found.append(self.finding(rule.location,
                                          f"severity {severity!r} is not one of {', '.join(SEVERITIES)}"))
        return found


class Annotations(Check):
    """Every alert has non-empty summary, description, runbook_url and dashboard_url annotations."""

    id = "alerts/annotations"

    def check(self, ctx: Context) -> list[Finding]:
        found = []
        for rule in alerts(ctx):
            annotations = rule.annotations
            for key in REQUIRED_ANNOTATIONS:
                if not annotations.get(key, "").strip():
                    state = "empty" if key in annotations else "missing"
                    found.append(self.finding(rule.location, f"annotation `{key}` is {state}"))
            for key in ("runbook_url", "dashboard_url"):
                value = annotations.get(key, "")
                if value.strip() and not re.match(r"^https?://\S+$", value):
                    found.append(self.finding(rule.location, f"annotation `{key}` is not an http(s) URL: {value!r}"))
        return found


class For(Check):
    """Every alert waits a valid, non-zero `for` before firing."""

    id = "alerts/for"

    def check(self, ctx: Context) -> list[Finding]:
        found = []
        for rule in alerts(ctx):
            value = rule.data.get("for")
            if value is None:
                found.append(self.finding(rule.location, "no `for`: the alert fires on the first evaluation, "
                                                         "so one bad scrape pages someone"))
            else:
                problem = prom.duration_problem(value, positive=True)
                if problem:
                    found.append(self.finding(rule.location, f"`for`: {problem}"))
            keep = rule.data.get("keep_firing_for")
            problem = prom.duration_problem(keep) if keep is not None else None
            if problem:
                found.append(self.finding(rule.location, f"`keep_firing_for`: {problem}"))
        return found


class Template(Check):
    """Go templates in alert labels and annotations parse, and read only labels the alert expression keeps."""

    id = "alerts/template"

    def check(self, ctx: Context) -> list[Finding]:
        found = []
        queries = {id(q.rule): q for q in ctx.queries if q.rule is not None}
        for rule in alerts(ctx):
            kept = None
            query = queries.get(id(rule))
            if query is not None and query.parsed.ast is not None:
                kept = ctx.output_labels(query.parsed.ast)
            for section in ("labels", "annotations"):
                for key, text in getattr(rule, section).items():
                    found += self._one(rule, section, key, text, kept)
        return found

    def _one(self, rule: Rule, section: str, key: str, text: str, kept) -> list[Finding]:
        where = f"{section[:-1]} `{key}`"
        try:
            result = gotemplate.parse(text)
        except gotemplate.TemplateError as exc:
            return [self.finding(rule.location, f"{where}: template does not parse: {exc}")]
        found = []
        if section == "labels" and result.uses_value:
            found.append(self.finding(rule.location, f"{where} uses $value: every new value is a new alert "
                                                     f"(identity churn); put it in an annotation", WARNING))
        if kept is None:
            return found
        for label in dict.fromkeys(result.labels):
            if not kept.may_have(label):
                keeps = ", ".join(sorted(kept.names)) or "no labels"
                found.append(self.finding(rule.location, f"{where} reads $labels.{label}, but the expression does "
                                                         f"not keep `{label}` (it keeps {keeps}): it renders empty"))
        return found


class Duplicate(Check):
    """No two alerts in one file share a name and identical labels (tiers differ by severity or window labels)."""

    id = "alerts/duplicate"

    def check(self, ctx: Context) -> list[Finding]:
        found: list[Finding] = []
        seen: dict = {}
        for rule in alerts(ctx):
            key = (rule.file, rule.name, tuple(sorted(rule.labels.items())))
            if key in seen:
                first = seen[key]
                found.append(self.finding(rule.location, f"alert {rule.name} with the same labels as rule "
                                                         f"#{first.index} of group {first.group}: one of them never "
                                                         f"shows up on its own; give them different labels"))
            else:
                seen[key] = rule
        return found


class RecordingDuplicate(Check):
    """No two recording rules record the same name with the same labels (Prometheus would see duplicate series)."""

    id = "rules/duplicate"

    def check(self, ctx: Context) -> list[Finding]:
        found: list[Finding] = []
        seen: dict = {}
        for rule in ctx.rules:
            if rule.kind != "record":
                continue
            key = (rule.name, tuple(sorted(rule.labels.items())))
            if key in seen:
                first = seen[key]
                found.append(self.finding(rule.location, f"{rule.name} is already recorded with the same labels by "
                                                         f"{first.file} group {first.group} rule #{first.index}"))
            else:
                seen[key] = rule
        return found


class Link(Check):
    """Each alert's runbook_url names a runbook under alerts/runbooks/ and its dashboard_url a dashboard in the set."""

    id = "alerts/link"

    def check(self, ctx: Context) -> list[Finding]:
        found = []
        uids = ctx.dashboard_uids()
        inventory = ctx.inventory
        for rule in alerts(ctx):
            annotations = rule.annotations
            dashboard = annotations.get("dashboard_url", "")
            match = _DASHBOARD_PATH.search(dashboard)
            if dashboard and "{{" not in dashboard:
                if match is None:
                    found.append(self.finding(rule.location, f"dashboard_url {dashboard!r} is not a /d/<uid> link"))
                elif match.group(1) not in uids:
                    found.append(self.finding(rule.location, f"dashboard_url points at uid {match.group(1)!r}, which "
                                                             f"no dashboard in dashboards/ has"))
                elif inventory is not None and not dashboard.startswith(inventory.grafana_url + "/"):
                    found.append(self.finding(rule.location, f"dashboard_url {dashboard!r} is not under the "
                                                             f"inventory's grafana_url {inventory.grafana_url}",
                                              WARNING))
            runbook = annotations.get("runbook_url", "")
            if inventory is None or not runbook or "{{" in runbook:
                continue
            base = inventory.runbook_base_url + "/"
            if not runbook.startswith(base):
                found.append(self.finding(rule.location, f"runbook_url {runbook!r} is not under the inventory's "
                                                         f"runbook_base_url {inventory.runbook_base_url}", WARNING))
            elif runbook[len(base):] not in ctx.runbooks:
                found.append(self.finding(rule.location, f"runbook_url names {runbook[len(base):]}, which is not in "
                                                         f"alerts/runbooks/"))
        return found


CHECKS = (Labels(), Annotations(), For(), Template(), Duplicate(), RecordingDuplicate(), Link())
