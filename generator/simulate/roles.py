"""Which catalog metric plays which part, found without spelling a metric name.

The catalog is the one place metric names live. An engine's metrics are found
through its signal map (`ttft` -> the histogram its version exposes, `errors`
-> the failure counter, ...). Metrics no signal uses, and the exporters' metrics,
are recognised by type, unit and help text. A metric the simulator cannot place
is an error, so a catalog addition cannot silently go missing from /metrics.
"""
from __future__ import annotations

from generator.catalog.base import Counters, Custom, Engine, Exporter, Gauge, Histogram, Metric
from generator.errors import GeneratorError


class RoleError(GeneratorError):
    """A catalog metric the simulator does not know how to produce."""


def _signal_metrics(spec) -> tuple[str, ...]:
    if isinstance(spec, Histogram):
        return spec.candidates
    if isinstance(spec, Gauge):
        return tuple(p.metric for p in spec.candidates)
    if isinstance(spec, Counters):
        return tuple(p.metric for p in spec.parts)
    if isinstance(spec, Custom):
        return spec.metrics
    raise TypeError(spec)


def engine_roles(engine: Engine, order: tuple[str, ...], extra=()) -> dict[str, str]:
    """metric name -> role: the first signal in `order` that uses it, else the first matching `extra` rule.

    `extra` is a sequence of (role, predicate(Metric)) for metrics no signal uses.
    """
    roles: dict[str, str] = {}
    for signal in order:
        spec = engine.signals.get(signal)
        if spec is None:
            continue
        for name in _signal_metrics(spec):
            roles.setdefault(name, signal)
    for metric in engine.metrics:
        if metric.name in roles:
            continue
        for role, matches in extra:
            if matches(metric):
                roles[metric.name] = role
                break
        else:
            raise RoleError(f"the simulator does not know how to produce {engine.title} metric {metric.name} "
                            f"({metric.type}, {metric.unit}): add it to generator/simulate")
    return roles


def exporter_roles(exporter: Exporter, rules) -> dict[str, str]:
    """metric name -> role for an exporter, from (role, predicate(Metric)) rules."""
    roles = {}
    for metric in exporter.metrics:
        for role, matches in rules:
            if matches(metric):
                roles[metric.name] = role
                break
        else:
            raise RoleError(f"the simulator does not know how to produce {exporter.title} metric {metric.name} "
                            f"({metric.type}, {metric.unit}): add it to generator/simulate")
    return roles


def kind(type_: str, unit: str, *words: str):
    """A predicate: this metric type and unit, and every word in its help text."""
    def matches(metric: Metric) -> bool:
        text = metric.help.lower()
        return metric.type == type_ and metric.unit == unit and all(w in text for w in words)
    return matches

