"""Metric lookups for the checks: which catalog entry a series name belongs to, for a model.

The catalog (`generator.catalog`) is the one place metric names live; this
module only answers questions about it: does this series exist for this
engine version, what type is it, which versions have it.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass

from generator.catalog import ENGINES, EXPORTERS, engine_for, every_named_engine
from generator.catalog.base import COUNTER, GAUGE, HISTOGRAM, Engine, Exporter, Metric
from generator.inventory import Inventory, Model

LLM_PREFIX = "llm:"


@dataclass(frozen=True)
class Known:
    metric: Metric
    owner: Engine | Exporter
    exposed: bool  # for the model's engine version or the inventory's exporter version
    version: object | None  # that version

    @property
    def kind(self) -> str:
        """counter | gauge | histogram-series: `_bucket`, `_sum` and `_count` only ever grow."""
        return "histogram-series" if self.metric.type == HISTOGRAM else self.metric.type


def _owners() -> list[Engine | Exporter]:
    return [*every_named_engine(), *EXPORTERS.values()]


def _find(owner, name: str) -> Metric | None:
    key = (id(owner), name)
    found = _FOUND.get(key)
    if found is None or found[0] is not owner:
        found = _FOUND[key] = (owner, next((m for m in owner.metrics if name in m.series()), None))
    return found[1]


# (id(owner), series name) -> (owner, its metric or None): the catalog never changes, and every check asks
# about every series of every query, a fleet's models asking about the same few hundred names.
_FOUND: dict[tuple[int, str], tuple[object, Metric | None]] = {}


def lookup(name: str, model: Model | None, inventory: Inventory | None) -> Known | None:
    """The catalog entry for a series name, seen from a model (engine + exporters), or from anywhere."""
    if model is not None and model.engine in ENGINES:
        engine = engine_for(model)
        metric = _find(engine, name)
        if metric is not None:
            return Known(metric, engine, metric.exposed_in(model.engine_version), model.engine_version)
        return _exporter(name, inventory)
    for owner in _owners():
        metric = _find(owner, name)
        if metric is not None:
            if isinstance(owner, Exporter):
                return _exporter(name, inventory)
            return Known(metric, owner, True, None)
    return None


def _exporter(name: str, inventory: Inventory | None) -> Known | None:
    for exporter in EXPORTERS.values():
        metric = _find(exporter, name)
        if metric is not None:
            version = inventory.exporters.get(exporter.name) if inventory is not None else None
            exposed = version is None or metric.exposed_in(version)
            return Known(metric, exporter, exposed, version)
    return None


def series_kind(name: str | None, model: Model | None, inventory: Inventory | None) -> str | None:
    """counter | gauge | histogram-series for catalog names; recorded `llm:` series are gauges."""
    if not name:
        return None
    if name.startswith(LLM_PREFIX):
        return GAUGE
    known = lookup(name, model, inventory)
    return known.kind if known is not None else None


def versions(metric: Metric) -> str:
    if metric.since and metric.until:
        return f"from {metric.since} until {metric.until} (gone from {metric.until})"
    if metric.since:
        return f"from {metric.since}"
    if metric.until:
        return f"before {metric.until}"
    return "in every version"


def elsewhere(name: str, model: Model) -> str | None:
    """Why a name missing from the model's engine is known: another engine's metric, or a histogram's base."""
    for owner in _owners():
        metric = _find(owner, name)
        if metric is not None and owner.name != model.engine:
            return f"{name} is a {owner.title} metric, and model {model.name} runs {engine_for(model).title}"
        base = next((m for m in owner.metrics if m.name == name and m.type == HISTOGRAM), None)
        if base is not None:
            return (f"{name} is a histogram: its series are {', '.join(base.series())}; the base name has "
                    f"no samples")
    return None


def suggestion(name: str, model: Model | None) -> str:
    owners: list[Engine | Exporter] = _owners()
    if model and model.engine in ENGINES:
        owners = [engine_for(model), *EXPORTERS.values()]
    names = [s for owner in owners for m in owner.metrics for s in m.series()]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.7)
    return f"; did you mean {close[0]}?" if close else ""


__all__ = ["COUNTER", "GAUGE", "Known", "lookup", "series_kind", "versions", "elsewhere", "suggestion"]
