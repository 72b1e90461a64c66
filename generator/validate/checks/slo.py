"""Latency SLOs are read from one histogram bucket: thresholds and `le` matchers must be bucket bounds."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import promql_parser as pp

from generator.catalog import ENGINES, engine_for
from generator.catalog.base import HISTOGRAM, Histogram
from generator.inventory import Model
from generator.promql import number
from generator.slo_buckets import nearest, off_bucket_thresholds
from generator.validate import expr as x
from generator.validate.checks.base import Check
from generator.validate.checks.promql import parsed
from generator.validate.context import Context
from generator.validate.findings import WARNING, Finding, Location

_NUMBER = r"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_BOUND_REGEX = re.compile(rf"^({_NUMBER})(?:\(\\\.0\)\?)?$")  # 1(\.0)?  or  0.5


def histogram_bounds(model: Model, metric_name: str):
    """(bounds in the metric's unit, where they come from) for one of the model's histograms, or None."""
    if model.engine not in ENGINES:
        return None
    engine = engine_for(model)
    metric = next((m for m in engine.metrics if m.name == metric_name and m.type == HISTOGRAM), None)
    if metric is None:
        return None
    for signal, spec in engine.signals.items():
        if isinstance(spec, Histogram) and metric_name in spec.candidates and signal in model.buckets:
            bounds = tuple(b / spec.scale for b in model.buckets[signal])
            return bounds, f"declared in {model.path}.buckets.{signal}, {metric.unit}"
    bounds = metric.buckets_in(model.engine_version)
    if not bounds:
        return None
    return bounds, f"the {engine.title} {model.engine_version} default, {metric.unit}"


def le_value(matcher) -> Decimal | None | str:
    """The bound a matcher selects: a number, "+Inf", or None when it is not one bound."""
    text = matcher.value
    if matcher.op == pp.MatchOp.Equal:
        candidates = [text]
    elif matcher.op == pp.MatchOp.Re:
        candidates = []
        for alternative in text.split("|"):
            match = _BOUND_REGEX.match(alternative.replace("\\.", ".", 1) if "(" not in alternative else alternative)
            if not match:
                return None
            candidates.append(match.group(1))
    else:
        return None
    if all(c in ("+Inf", "Inf") for c in candidates):
        return "+Inf"
    try:
        values = {Decimal(c) for c in candidates}
    except InvalidOperation:
        return None
    return values.pop() if len(values) == 1 else None


class BucketBoundary(Check):
    """SLO thresholds and `le` matchers are bucket bounds of that model's histogram (default or declared)."""

    id = "slo/bucket-boundary"

    def check(self, ctx: Context) -> list[Finding]:
        return self._inventory(ctx) + self._matchers(ctx)

    def _inventory(self, ctx: Context) -> list[Finding]:
        if ctx.inventory is None:
            return []
        return [self.finding(Location(ctx.inventory_file, ctx.inventory_lines.get(off.origin), key=off.origin),
                             off.message)
                for model in ctx.inventory.models for off in off_bucket_thresholds(model)]

    def _matchers(self, ctx: Context) -> list[Finding]:
        found = []
        for q in parsed(ctx):
            if q.model is None:
                continue
            for vs, _ in q.parsed.selectors:
                name = x.metric_name(vs)
                if not name or not name.endswith("_bucket"):
                    continue
                known = histogram_bounds(q.model, name[:-len("_bucket")])
                if known is None:
                    continue
                bounds, source = known
                for matcher in vs.matchers.matchers:
                    if matcher.name != "le" or matcher.op not in (pp.MatchOp.Equal, pp.MatchOp.Re):
                        continue
                    if x.PLACEHOLDER in matcher.value:
                        continue
                    found += self._matcher(q.location, name, matcher, bounds, source)
        return found

    def _matcher(self, location, name, matcher, bounds, source) -> list[Finding]:
        op = "=" if matcher.op == pp.MatchOp.Equal else "=~"
        shown = f'le{op}"{matcher.value}"'
        value = le_value(matcher)
        if value is None:
            return [self.finding(location, f"{name}{{{shown}}} does not select one bucket bound; the share under "
                                           f"a threshold needs exactly one", WARNING)]
        if not isinstance(value, Decimal):  # +Inf
            return []
        if value not in bounds:
            return [self.finding(location, f"{name}{{{shown}}}: {number(value)} is not a bucket bound ({source}); no "
                                           f"series matches and the SLO ratio is empty; the nearest bounds are "
                                           f"{nearest(value, bounds)}")]
        if matcher.op == pp.MatchOp.Equal and value == value.to_integral_value():
            return [self.finding(location, f'{name}{{{shown}}} matches one spelling of an integral bound; '
                                           f'Prometheus 3 writes it as "{number(value)}.0" and Python clients always '
                                           f'do: use le=~"{number(value)}(\\\\.0)?"', WARNING)]
        return []


CHECKS = (BucketBoundary(),)
