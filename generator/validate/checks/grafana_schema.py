"""Dashboards conform to Grafana's dashboard schema: none of grafanalib's legacy keys or stray nulls."""
from __future__ import annotations

from generator.dashboards.clean import violations
from generator.validate.checks.base import Check
from generator.validate.context import Context
from generator.validate.findings import Finding


class GrafanaSchema(Check):
    """Dashboards carry no legacy keys or nulls outside Grafana's schema (hideControls, gnetId: null, style, ...)."""

    id = "dashboard/grafana-schema"

    def check(self, ctx: Context) -> list[Finding]:
        return [self.finding(board.location(key=v.where), v.message)
                for board in ctx.dashboards for v in violations(board.data)]


CHECKS = (GrafanaSchema(),)
