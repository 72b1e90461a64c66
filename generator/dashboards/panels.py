"""House style over grafanalib: the only panel kinds we use, with our defaults.

Every panel and every target reads the `datasource` variable; every data panel
has a unit and a description; thresholds are proper step lists (grafanalib's
own `Threshold` writes the base step as the string "null"). A panel's id comes
from a stable key, never from its position, so links to panels survive
regeneration. Panels carry their size; `layout` places them.
"""
from __future__ import annotations

import zlib
from decimal import Decimal
from string import ascii_uppercase

import attr
from grafanalib.core import GridPos, Stat, Table, Target, Text, TimeSeries

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
HEIGHT = 8

# Units (Grafana unit ids).
SECONDS, RATIO, REQPS, SHORT, WATT, NONE = "s", "percentunit", "reqps", "short", "watt", "none"
TOKENS_PER_SECOND = "suffix: tok/s"
PER_SECOND = "suffix: /s"

GOOD, BAD, WARN = "green", "red", "orange"


def _common(key: str, title: str, description: str, width: int, height: int) -> dict:
    """Arguments every panel gets; grafanalib's maxDataPoints default (100) would coarsen every chart."""
    return dict(id=panel_id(key), title=title, description=description, dataSource=DATASOURCE,
                maxDataPoints=None, gridPos=GridPos(h=height, w=width, x=0, y=0))


def panel_id(key: str) -> int:
    """A stable id from the panel's key: the same key always gives the same id."""
    return zlib.crc32(key.encode()) % 1_000_000 + 1


def target(expr: str, legend: str = "", instant: bool = False, table: bool = False) -> Target:
    return Target(expr=expr, legendFormat=legend, instant=instant, datasource=DATASOURCE,
                  format="table" if table else "time_series", intervalFactor=1)


def steps(base: str, *levels: tuple[Decimal | float | int, str]) -> list[dict]:
    """Threshold steps: `base` colour below the first level, then each (value, colour)."""
    return [{"color": base, "value": None}] + [{"color": c, "value": float(v)} for v, c in levels]


def above(limit, colour: str = BAD) -> list[dict]:
    """Fine below `limit`, `colour` at and above it."""
    return steps(GOOD, (limit, colour))


def at_least(objective) -> list[dict]:
    """Bad below `objective`, fine at and above it."""
    return steps(BAD, (objective, GOOD))


def _with_ref_ids(targets: list[Target]) -> list[Target]:
    return [t if t.refId else attr.evolve(t, refId=ascii_uppercase[i]) for i, t in enumerate(targets)]


def _field_defaults(unit: str, thresholds: list[dict] | None, minimum, maximum, decimals) -> dict:
    defaults: dict = {"unit": unit}
    if thresholds is not None:
        defaults["thresholds"] = {"mode": "absolute", "steps": thresholds}
    if minimum is not None:
        defaults["min"] = minimum
    if maximum is not None:
        defaults["max"] = maximum
    if decimals is not None:
        defaults["decimals"] = decimals
    return defaults


def timeseries(key: str, title: str, description: str, unit: str, targets: list[Target], *,
               thresholds: list[dict] | None = None, minimum=None, maximum=None,
               width: int = 8, height: int = HEIGHT, no_value: str | None = None) -> TimeSeries:
    """A time series; thresholds, when given, are drawn as dashed lines. `no_value`: what the panel says
    when the query finds nothing (a metric the engine exports only when a feature is on)."""
    defaults = _field_defaults(unit, thresholds or steps(GOOD), minimum, maximum, None)
    if no_value is not None:
        defaults["noValue"] = no_value
    return TimeSeries(
        **_common(key, title, description, width, height), targets=_with_ref_ids(targets), unit=unit,
        thresholdsStyleMode="dashed" if thresholds else "off",
        legendDisplayMode="table" if len(targets) > 1 else "list", legendCalcs=["mean", "max"],
        tooltipMode="multi", tooltipSort="desc",
        extraJson={"fieldConfig": {"defaults": defaults}},
    )


def stat(key: str, title: str, description: str, unit: str, targets: list[Target], *,
         thresholds: list[dict], minimum=None, maximum=None, decimals: int | None = None,
         width: int = 6, height: int = 4) -> Stat:
    """A single number, coloured by its thresholds; `lastNotNull` of an instant query."""
    return Stat(
        **_common(key, title, description, width, height), targets=_with_ref_ids(targets), format=unit,
        color={"mode": "thresholds"},
        reduceCalc="lastNotNull", graphMode="none", colorMode="background", noValue="no data",
        thresholds=thresholds,
        extraJson={"fieldConfig": {"defaults": _field_defaults(unit, thresholds, minimum, maximum, decimals)}},
    )


def table(key: str, title: str, description: str, targets: list[Target], *, transformations: list[dict],
          overrides: list[dict], width: int = 24, height: int = 10, no_value: str | None = None) -> Table:
    """A table of instant queries joined by transformations; columns get units via `overrides`."""
    defaults: dict = {"thresholds": {"mode": "absolute", "steps": steps(GOOD)}}
    if no_value is not None:
        defaults["noValue"] = no_value
    return Table(
        **_common(key, title, description, width, height), targets=_with_ref_ids(targets), unit=NONE,
        transformations=transformations, overrides=overrides, filterable=True,
        extraJson={"fieldConfig": {"defaults": defaults}},
    )


def text(key: str, title: str, content: str, *, width: int = 8, height: int = HEIGHT) -> Text:
    """Markdown in place of a chart the engine cannot feed."""
    return Text(**_common(key, title, content, width, height), content=content)
