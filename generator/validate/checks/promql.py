"""Checks on every PromQL expression, in rules and dashboards: syntax and metric types."""
from __future__ import annotations

import promql_parser as pp

from generator.validate import catalog
from generator.validate import expr as x
from generator.validate.checks.base import Check
from generator.validate.context import Context, Query
from generator.validate.findings import Finding

# Functions a raw counter may be passed to: they read its increase, or only whether it exists.
COUNTER_SAFE_FUNCTIONS = x.RATE_FUNCTIONS | {"resets", "absent", "absent_over_time", "present_over_time",
                                             "count_over_time", "timestamp"}
COUNTER_SAFE_AGGREGATIONS = {"count", "group"}
_TRANSPARENT = (pp.MatrixSelector, pp.ParenExpr, pp.SubqueryExpr)


def short(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def parsed(ctx: Context, kinds=None):
    """Queries that parsed, optionally only of some kinds."""
    return [q for q in ctx.queries if q.parsed.ast is not None and (kinds is None or q.kind in kinds)]


class Syntax(Check):
    """Every rule expr and dashboard query parses as PromQL (Grafana variables substituted first)."""

    id = "promql/syntax"

    def check(self, ctx: Context) -> list[Finding]:
        return [self.finding(q.location, f"{q.parsed.error}: {short(q.text) or '(empty)'}")
                for q in ctx.queries if q.parsed.error is not None]


class RateOnGauge(Check):
    """rate/irate/increase only on counters and histogram _bucket/_sum/_count series, never on gauges."""

    id = "promql/rate-on-gauge"

    def check(self, ctx: Context) -> list[Finding]:
        found = []
        for q in parsed(ctx, ("record", "alert", "target", "annotation")):
            for node in q.parsed.calls:
                if x.call_name(node) not in x.RATE_FUNCTIONS or not node.args:
                    continue
                arg = node.args[0]
                if not isinstance(arg, pp.MatrixSelector):
                    continue
                name = x.metric_name(arg.vector_selector)
                kind = catalog.series_kind(name, q.model, ctx.inventory)
                if kind == catalog.GAUGE:
                    what = "a recorded series (a gauge)" if (name or "").startswith(catalog.LLM_PREFIX) \
                        else "a gauge"
                    found.append(self.finding(
                        q.location, f"{x.call_name(node)}() over {name}, which is {what}: the result is meaningless; "
                                    f"use it directly, or deriv()/delta() for its change"))
        return found


class RawCounter(Check):
    """No counter (or histogram series) is used without rate/irate/increase around it."""

    id = "promql/raw-counter"

    def check(self, ctx: Context) -> list[Finding]:
        found = []
        for q in parsed(ctx, ("record", "alert", "target", "annotation")):
            for node, parents in q.parsed.selectors:
                name = x.metric_name(node)
                kind = catalog.series_kind(name, q.model, ctx.inventory)
                if kind not in (catalog.COUNTER, "histogram-series") or _counter_safe(parents):
                    continue
                what = "a counter" if kind == catalog.COUNTER else "a histogram series (a counter)"
                found.append(self.finding(
                    q.location, f"{name} is {what} used without rate()/increase(): its value only grows since the "
                                f"process started; wrap it in rate({name}[...])"))
        return found


def _counter_safe(parents: tuple) -> bool:
    for parent in reversed(parents):
        if isinstance(parent, _TRANSPARENT):
            continue
        if isinstance(parent, pp.Call):
            return x.call_name(parent) in COUNTER_SAFE_FUNCTIONS
        if isinstance(parent, pp.AggregateExpr):
            return x.agg_op(parent) in COUNTER_SAFE_AGGREGATIONS
        return False
    return False


class HistogramQuantile(Check):
    """histogram_quantile over _bucket series keeps `le`: aggregate `by (le, …)`, never `le` away."""

    id = "promql/histogram-quantile"

    def check(self, ctx: Context) -> list[Finding]:
        found = []
        for q in parsed(ctx):
            for node in q.parsed.calls:
                if x.call_name(node) != "histogram_quantile" or len(node.args) != 2:
                    continue
                inner = node.args[1]
                buckets = [n for n in (x.metric_name(s) for s in x.selectors(inner)) if n and n.endswith("_bucket")]
                if not buckets:
                    continue
                if not ctx.output_labels(inner).may_have("le"):
                    found.append(self.finding(
                        q.location, f"histogram_quantile over {buckets[0]} after an aggregation that drops `le`: "
                                    f"every bucket is summed into one and the quantile is NaN; "
                                    f"aggregate with `sum by (le, …)`"))
        return found


CHECKS = (Syntax(), RateOnGauge(), RawCounter(), HistogramQuantile())
__all__ = ["CHECKS", "Query"]
