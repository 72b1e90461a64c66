"""Checks on dashboards: datasource, units, descriptions, rate windows, ids, grid, uids and links."""
from __future__ import annotations

import re

import promql_parser as pp

from generator import grafana_facts
from generator.validate import expr as x
from generator.validate.checks.base import Check
from generator.validate.checks.promql import parsed
from generator.validate.context import Context, Dashboard, Panel, listed
from generator.validate.findings import WARNING, Finding

_VARIABLE = re.compile(r"^\$(\{datasource\}|datasource)$")
_DASHBOARD_PATH = re.compile(r"^(?:https?://[^/]+)?(?:/[^/]*)*?/d/([^/?#]+)")


def uses_variable(datasource) -> bool:
    if isinstance(datasource, str):
        return bool(_VARIABLE.match(datasource))
    if isinstance(datasource, dict):
        uid = datasource.get("uid")
        return isinstance(uid, str) and bool(_VARIABLE.match(uid))
    return False


class Datasource(Check):
    """Every panel, target, annotation and query variable reads the `datasource` variable."""

    id = "dashboard/datasource"

    def check(self, ctx: Context) -> list[Finding]:
        found = []
        for board in ctx.dashboards:
            variables = [v for v in listed(board.data.get("templating")) if isinstance(v, dict)]
            if not any(v.get("name") == "datasource" and v.get("type") == "datasource" for v in variables):
                found.append(self.finding(board.location(key="templating"),
                                          "no `datasource` variable of type datasource: the dashboard is tied to "
                                          "one data source"))
            for v in variables:
                if v.get("type") == "query" and not uses_variable(v.get("datasource")):
                    found.append(self.finding(board.location(key=f"variable {v.get('name')!r}"),
                                              _wrong("query variable", v.get("datasource"))))
            for panel in board.panels:
                if panel.queries_data and not uses_variable(panel.data.get("datasource")):
                    found.append(self.finding(board.location(panel), _wrong("panel", panel.data.get("datasource"))))
                for i, target in enumerate(panel.targets):
                    if "datasource" in target and not uses_variable(target["datasource"]):
                        found.append(self.finding(board.location(panel, _ref(target, i)),
                                                  _wrong("target", target["datasource"])))
            for a in listed(board.data.get("annotations")):
                if isinstance(a, dict) and "expr" in a and not uses_variable(a.get("datasource")):
                    found.append(self.finding(board.location(key=f"annotation {a.get('name')!r}"),
                                              _wrong("annotation", a.get("datasource"))))
        return found


def _wrong(what: str, datasource) -> str:
    if datasource is None:
        return f"{what} has no datasource: it reads Grafana's default one; use ${{datasource}}"
    return f"{what} reads datasource {datasource!r}, not the ${{datasource}} variable"


def _ref(target: dict, i: int) -> str:
    ref = target.get("refId")
    return ref if isinstance(ref, str) else f"targets[{i}]"


def _unit(panel: Panel) -> str | None:
    config = panel.data.get("fieldConfig")
    defaults = config.get("defaults") if isinstance(config, dict) else None
    unit = defaults.get("unit") if isinstance(defaults, dict) else None
    if isinstance(unit, str) and unit.strip():
        return unit
    if isinstance(panel.data.get("format"), str) and panel.data["format"].strip():  # legacy singlestat
        return panel.data["format"]
    return None


class Unit(Check):
    """Every data panel (all but rows and text) has a unit."""

    id = "dashboard/unit"

    def check(self, ctx: Context) -> list[Finding]:
        return [self.finding(board.location(panel), "panel has no unit (fieldConfig.defaults.unit): numbers show "
                                                    "without seconds, percent or requests/s")
                for board in ctx.dashboards for panel in board.panels if panel.queries_data and not _unit(panel)]


class Description(Check):
    """Every data panel (all but rows and text) has a description saying what it shows."""

    id = "dashboard/description"

    def check(self, ctx: Context) -> list[Finding]:
        return [self.finding(board.location(panel), "panel has no description")
                for board in ctx.dashboards for panel in board.panels
                if panel.queries_data and not (isinstance(panel.data.get("description"), str)
                                               and panel.data["description"].strip())]


class RateInterval(Check):
    """rate/irate/increase in dashboard queries use `$__rate_interval` as their window."""

    id = "dashboard/rate-interval"

    def check(self, ctx: Context) -> list[Finding]:
        found = []
        for q in parsed(ctx, ("target", "annotation")):
            for node in q.parsed.calls:
                if x.call_name(node) not in x.RATE_FUNCTIONS or not node.args:
                    continue
                arg = node.args[0]
                window = arg.range if isinstance(arg, (pp.MatrixSelector, pp.SubqueryExpr)) else None
                if window is not None and window != x.RATE_INTERVAL:
                    shown = "$__interval" if window == x.INTERVAL else "$__range" if window == x.RANGE else \
                        pp.display_duration(window)
                    found.append(self.finding(q.location, f"{x.call_name(node)}() over [{shown}]: use "
                                                          f"[$__rate_interval], which follows the zoom and is "
                                                          f"never shorter than four scrape intervals"))
        return found


class PanelId(Check):
    """Every panel has an integer id, unique in its dashboard."""

    id = "dashboard/panel-id"

    def check(self, ctx: Context) -> list[Finding]:
        found = []
        for board in ctx.dashboards:
            seen: dict[int, Panel] = {}
            for panel in board.panels:
                pid = panel.id
                if not isinstance(pid, int) or isinstance(pid, bool) or pid < 1:
                    found.append(self.finding(board.location(panel), f"panel id {pid!r} is not a positive integer"))
                elif pid in seen:
                    found.append(self.finding(board.location(panel), f"panel id {pid} is also the id of "
                                                                     f"{seen[pid].title!r}: links and alerts to one "
                                                                     f"of them open the other"))
                else:
                    seen[pid] = panel
        return found


def _grid(panel: Panel):
    pos = panel.data.get("gridPos")
    if not isinstance(pos, dict):
        return None
    values = [pos.get(k) for k in ("x", "y", "w", "h")]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return None
    return tuple(values)


class Grid(Check):
    """Panels sit inside Grafana's 24 columns, at least 1 wide and tall, and do not overlap."""

    id = "dashboard/grid"

    def check(self, ctx: Context) -> list[Finding]:
        found = []
        for board in ctx.dashboards:
            placed: list = []
            for panel in board.panels:
                pos = _grid(panel)
                if pos is None:
                    found.append(self.finding(board.location(panel), f"gridPos {panel.data.get('gridPos')!r} is not "
                                                                     f"{{x, y, w, h}} integers"))
                    continue
                gx, gy, w, h = pos
                if w < 1 or h < 1 or gx < 0 or gy < 0 or gx + w > grafana_facts.GRID_COLUMNS:
                    columns = grafana_facts.GRID_COLUMNS
                    found.append(self.finding(board.location(panel),
                                              f"gridPos x={gx} y={gy} w={w} h={h} is outside the {columns}-column "
                                              f"grid (x >= 0, w >= 1, h >= 1, x + w <= {columns})"))
                    continue
                if panel.row is not None:
                    continue  # inside a collapsed row: placed when it opens
                for other, (ox, oy, ow, oh) in placed:
                    if gx < ox + ow and ox < gx + w and gy < oy + oh and oy < gy + h:
                        found.append(self.finding(board.location(panel), f"overlaps panel {other.id} "
                                                                         f"{other.title!r}"))
                        break
                placed.append((panel, pos))
        return found


class Uid(Check):
    """Dashboard uids are 1-40 characters of [a-zA-Z0-9_-] and unique across the dashboards."""

    id = "dashboard/uid"

    def check(self, ctx: Context) -> list[Finding]:
        found: list[Finding] = []
        seen: dict = {}
        for board in ctx.dashboards:
            uid = board.uid
            if uid is None:
                continue  # dashboard/schema reports it
            if not grafana_facts.UID.match(uid):
                found.append(self.finding(board.location(), f"uid {uid!r} ({len(uid)} characters) is not "
                                                            f"1-{grafana_facts.UID_MAX} characters of [a-zA-Z0-9_-]: "
                                                            f"Grafana refuses it"))
            if uid in seen:
                found.append(self.finding(board.location(), f"uid {uid!r} is also the uid of {seen[uid]}: one "
                                                            f"dashboard overwrites the other"))
            else:
                seen[uid] = board.file
        return found


def _urls(node, path: str = ""):
    """Every (path, url) under a JSON value, from `url`/`uri` keys."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "panels":
                continue  # a row's panels are checked on their own
            if key in ("url", "uri") and isinstance(value, str):
                yield f"{path}.{key}".lstrip("."), value
            else:
                yield from _urls(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _urls(value, f"{path}[{i}]")


class Link(Check):
    """Dashboard links and /d/<uid> urls point at dashboards in the set; tag links match a dashboard."""

    id = "dashboard/link"

    def check(self, ctx: Context) -> list[Finding]:
        uids = ctx.dashboard_uids()
        found = []
        for board in ctx.dashboards:
            found += self._links(ctx, board, uids)
            for panel in board.panels:
                for path, url in _urls(panel.data):
                    found += self._url(board, url, uids, board.location(panel, key=path))
        # The fleet table links each model to `/d/${dashboard_uid}` from llm:model:info.
        for rule in ctx.rules:
            uid = rule.labels.get("dashboard_uid")
            if rule.kind == "record" and uid is not None and uid not in uids:
                found.append(self.finding(rule.location, f"label dashboard_uid={uid!r}: no dashboard has this uid, so "
                                                         f"the fleet table links to a missing page"))
        return found

    def _links(self, ctx: Context, board: Dashboard, uids) -> list[Finding]:
        found = []
        links = board.data.get("links")
        for i, link in enumerate(links if isinstance(links, list) else []):
            if not isinstance(link, dict):
                continue
            where = board.location(key=f"links[{i}] {link.get('title')!r}")
            if link.get("type") == "dashboards":
                tags = set(link.get("tags") or []) if isinstance(link.get("tags"), list) else set()
                if tags and not any(tags <= set(d.data.get("tags") or []) for d in ctx.dashboards
                                    if isinstance(d.data.get("tags"), list)):
                    found.append(self.finding(where, f"no dashboard in the set has the tags {sorted(tags)}: the "
                                                     f"link lists nothing", WARNING))
            elif isinstance(link.get("url"), str):
                found += self._url(board, link["url"], uids, where)
        return found

    def _url(self, board: Dashboard, url: str, uids, where) -> list[Finding]:
        match = _DASHBOARD_PATH.match(url)
        if match is None or "$" in match.group(1):
            return []  # not a dashboard link, or filled in from data
        if match.group(1) not in uids:
            return [self.finding(where, f"link {url!r} points at uid {match.group(1)!r}, which no dashboard in the "
                                        f"set has")]
        return []


CHECKS = (Datasource(), Unit(), Description(), RateInterval(), PanelId(), Grid(), Uid(), Link())
