"""Which catalog metric plays which part, found without spelling a metric name.

The catalog is the one place metric names live. An engine's metrics are found
through its signal map (`ttft` -> the histogram its version exposes, `errors`
-> the failure counter, ...). Metrics no signal uses, and the exporters' metrics,
are recognised by type, unit and help text. A metric the simulator cannot place
is an error, so a catalog addition cannot silently go missing from /metrics.
"""
from __future__ import annotations

from generator.catalog.base import Engine, Exporter, Metric
from generator.errors import GeneratorError


class RoleError(GeneratorError):
    """A catalog metric the simulator does not know how to produce."""


def engine_roles(engine: Engine, order: tuple[str, ...], extra=()) -> dict[str, str]:
    """metric name -> role: the first signal in `order` that uses it, else the first matching `extra` rule.

    `extra` is a sequence of (role, predicate(Metric)) for metrics no signal uses.
    """
    roles: dict[str, str] = {}
    for signal in order:
        spec = engine.signals.get(signal)
        if spec is not None:
            for name in spec.metric_names():
                roles.setdefault(name, signal)
    unplaced = tuple(m for m in engine.metrics if m.name not in roles)
    return {**roles, **_by_rules(engine.title, unplaced, extra)}


def exporter_roles(exporter: Exporter, rules) -> dict[str, str]:
    """metric name -> role for an exporter, from (role, predicate(Metric)) rules."""
    return _by_rules(exporter.title, exporter.metrics, rules)


def _by_rules(title: str, metrics, rules) -> dict[str, str]:
    roles = {}
    for metric in metrics:
        role = next((role for role, matches in rules if matches(metric)), None)
        if role is None:
            raise RoleError(f"the simulator does not know how to produce {title} metric {metric.name} "
                            f"({metric.type}, {metric.unit}): add it to generator/simulate")
        roles[metric.name] = role
    return roles


def kind(type_: str, unit: str, *words: str):
    """A predicate: this metric type and unit, and every word in its help text."""
    def matches(metric: Metric) -> bool:
        text = metric.help.lower()
        return metric.type == type_ and metric.unit == unit and all(w in text for w in words)
    return matches

