"""Checks on reading itself: the files parse, have the expected shape, and match the inventory."""
from __future__ import annotations

from generator import conventions as c
from generator import grafana_facts
from generator.dashboards.folders import dashboard_folders
from generator.validate.checks.base import Check
from generator.validate.context import Context
from generator.validate.findings import WARNING, Finding, Location


class YamlParse(Check):
    """Rule files are valid YAML with the shape Prometheus loads (groups, rules, known keys, one of alert/record)."""

    id = "yaml/parse"

    def check(self, ctx: Context) -> list[Finding]:
        return [f for f in ctx.problems if f.check == self.id]


class InventorySchema(Check):
    """The inventory loads: every problem `generate` would refuse, with file, line and key path."""

    id = "inventory/schema"

    def check(self, ctx: Context) -> list[Finding]:
        return [self.finding(Location(e.file, e.line, key=e.path or None), e.message)
                for e in ctx.inventory_problems]


class DashboardSchema(Check):
    """Dashboards are JSON objects with uid, title, a panels list, typed panels and targets, schemaVersion >= 39."""

    id = "dashboard/schema"

    def check(self, ctx: Context) -> list[Finding]:
        found = [f for f in ctx.problems if f.check == self.id]
        for board in ctx.dashboards:
            data = board.data
            for key in ("uid", "title"):
                if not isinstance(data.get(key), str) or not data.get(key):
                    found.append(self.finding(board.location(key=key), f"missing `{key}` (a non-empty string)"))
            version, least = data.get("schemaVersion"), grafana_facts.SCHEMA_VERSION
            if not isinstance(version, int) or isinstance(version, bool):
                found.append(self.finding(board.location(key="schemaVersion"),
                                          f"missing `schemaVersion` (an integer, at least {least})"))
            elif version < least:
                found.append(self.finding(board.location(key="schemaVersion"),
                                          f"schemaVersion {version} is below {least}: Grafana migrates "
                                          f"the dashboard on load and the JSON no longer matches what ships"))
            panels = data.get("panels")
            if not isinstance(panels, list):
                found.append(self.finding(board.location(key="panels"), "missing `panels` (a list of panels)"))
                continue
            for i, panel in enumerate(panels):
                if not isinstance(panel, dict):
                    found.append(self.finding(board.location(key=f"panels[{i}]"),
                                              f"a panel is a JSON object, got {type(panel).__name__}"))
            for panel in board.panels:
                if not panel.type:
                    found.append(self.finding(board.location(panel), "panel has no `type`"))
                if not panel.title and panel.type != "row":
                    found.append(self.finding(board.location(panel), "panel has no `title`"))
                targets = panel.data.get("targets")
                if targets is not None and not isinstance(targets, list):
                    found.append(self.finding(board.location(panel), "`targets` must be a list"))
                    continue
                if panel.queries_data and not panel.targets:
                    found.append(self.finding(board.location(panel), "panel has no targets: it shows no data"))
                for i, target in enumerate(targets or []):
                    if not isinstance(target, dict):
                        found.append(self.finding(board.location(panel, f"targets[{i}]"), "a target is a JSON object"))
                    elif not isinstance(target.get("expr"), str) or not target["expr"].strip():
                        ref = target.get("refId") if isinstance(target.get("refId"), str) else f"targets[{i}]"
                        found.append(self.finding(board.location(panel, ref), "target has no `expr` (a PromQL string)"))
            for key in ("templating", "annotations"):
                section = data.get(key)
                if section is not None and not (isinstance(section, dict) and isinstance(section.get("list"), list)):
                    found.append(self.finding(board.location(key=key), f"`{key}` must be an object with a `list`"))
        return found


class OutputCoverage(Check):
    """Every model has its rule file and dashboard, in its team's folder; fleet and GPU dashboards exist; none stray."""

    id = "output/coverage"

    def check(self, ctx: Context) -> list[Finding]:
        if ctx.inventory is None:
            return []
        found = []
        files = set(ctx.rule_files) | {d.file for d in ctx.dashboards}
        uids = ctx.dashboard_uids()
        for model in ctx.inventory.models:
            where = Location(ctx.inventory_file, key=f"{model.path} ({model.name})")
            if c.rules_file(model.name) not in files:
                found.append(self.finding(where, f"no rule file {c.rules_file(model.name)}: run `make generate`"))
            if c.model_dashboard_uid(model.name) not in uids:
                found.append(self.finding(where, f"no dashboard with uid {c.model_dashboard_uid(model.name)}: "
                                                 f"run `make generate`"))
        for uid in (c.FLEET_UID, c.GPU_UID):
            if uid not in uids:
                found.append(self.finding(Location(c.dashboard_file(uid, c.SHARED_FOLDER_TITLE)),
                                          f"no dashboard with uid {uid}"))
        folder_of = dashboard_folders(ctx.inventory)
        for board in ctx.dashboards:
            if board.uid is None:
                continue  # reported by the uid check
            folder = folder_of.get(board.uid)
            if folder is not None and board.file != c.dashboard_file(board.uid, folder.title):
                found.append(self.finding(board.location(),
                                          f"belongs in {c.dashboard_file(board.uid, folder.title)} (Grafana folder "
                                          f"{folder.title!r}): file provisioning and Git Sync take the folder from "
                                          f"the directory; run `make generate`"))
        owned = {c.rules_file(m.name) for m in ctx.inventory.models} | {c.COLLECTORS_FILE, c.SLO_WINDOWS_FILE}
        for rel in ctx.rule_files:
            if rel not in owned and not any(r.file == rel and r.model for r in ctx.rules):
                found.append(self.finding(Location(rel), "no inventory model owns this rule file (stale output?)",
                                          WARNING))
        for board in ctx.dashboards:
            if board.model is None and board.uid not in (c.FLEET_UID, c.GPU_UID):
                found.append(self.finding(board.location(), "no inventory model owns this dashboard (stale output?)",
                                          WARNING))
        return found


CHECKS = (YamlParse(), InventorySchema(), DashboardSchema(), OutputCoverage())
