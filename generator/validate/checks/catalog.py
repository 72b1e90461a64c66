"""Checks that every series a query reads exists: in the catalog for that model, or as a recording rule."""
from __future__ import annotations

from generator.catalog import EXPORTERS, engine_for
from generator.catalog.base import Exporter
from generator.validate import catalog
from generator.validate import expr as x
from generator.validate.checks.base import Check
from generator.validate.checks.promql import parsed
from generator.validate.context import Context, Query
from generator.validate.findings import Finding

# Series any query may read, model or not: Prometheus' own per-target `up` (collector health).
SHARED = {m.name for m in EXPORTERS["prometheus"].metrics}


class UnknownMetric(Check):
    """Every metric a query reads exists for that model's engine and version (or its exporters) in the catalog."""

    id = "catalog/unknown-metric"

    def check(self, ctx: Context) -> list[Finding]:
        if ctx.inventory is None:
            return []  # without the inventory no file maps to an engine; inventory/schema says why
        found, recorded = [], ctx.recorded_names()
        for q in parsed(ctx):
            seen = set()
            for vs, _ in q.parsed.selectors:
                name = x.metric_name(vs)
                if not name or name in seen or name.startswith(catalog.LLM_PREFIX) or name in recorded:
                    continue
                seen.add(name)
                message = self._problem(ctx, q, name)
                if message:
                    found.append(self.finding(q.location, message))
        return found

    def _problem(self, ctx: Context, q: Query, name: str) -> str | None:
        model = q.model
        if model is None and name in SHARED:
            return None
        if model is None:
            # Exporters (DCGM, kube-state-metrics) read the same for every engine: the GPU dashboard lists
            # every GPU, the ones no model holds included, from them.
            known = catalog.lookup(name, None, ctx.inventory)
            if known is not None and isinstance(known.owner, Exporter):
                return None if known.exposed else (
                    f"{name} is not exposed by {known.owner.title} {known.version}; {known.owner.title} exposes "
                    f"{known.metric.name} {catalog.versions(known.metric)}")
            return (f"{name} is read by a query no inventory model owns (fleet and GPU dashboards, shared rules): "
                    f"those read only the llm: recorded series or exporter metrics, which hide engine differences")
        known = catalog.lookup(name, model, ctx.inventory)
        engine = engine_for(model)
        if known is None:
            other = catalog.elsewhere(name, model)
            if other:
                return other
            return (f"{name} is not in the metric catalog for {engine.title} {model.engine_version} (model "
                    f"{model.name}) or its exporters{catalog.suggestion(name, model)}")
        if known.exposed:
            return None
        return (f"{name} is not exposed by {known.owner.title} {known.version} (model {model.name}); "
                f"{known.owner.title} exposes {known.metric.name} {catalog.versions(known.metric)}")


class UndefinedRecordingRule(Check):
    """Every llm: series a rule or dashboard reads is recorded by a rule, for the model it selects."""

    id = "rules/undefined-recording-rule"

    def check(self, ctx: Context) -> list[Finding]:
        found = []
        for q in parsed(ctx):
            seen = set()
            for vs, _ in q.parsed.selectors:
                name = x.metric_name(vs)
                if not name or not name.startswith(catalog.LLM_PREFIX):
                    continue
                matchers = x.equality_matchers(vs)
                key = (name, tuple(sorted(matchers.items())))
                if key in seen:
                    continue
                seen.add(key)
                if name not in ctx.recorded_names():
                    found.append(self.finding(q.location, f"{name} is not recorded by any rule in the rule files: "
                                                          f"the query returns nothing"))
                elif matchers and not ctx.definitions(name, matchers):
                    wanted = ", ".join(f'{k}="{v}"' for k, v in sorted(matchers.items()))
                    found.append(self.finding(q.location, f"{name} is recorded, but no rule records it with "
                                                          f"{wanted}: the query returns nothing"))
        return found


CHECKS = (UnknownMetric(), UndefinedRecordingRule())
