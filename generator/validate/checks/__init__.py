"""Every check, in report order: reading, PromQL, catalog, SLO buckets, ruler limits, alerts, dashboards, manifests."""
from generator.validate.checks import (
    alerts,
    catalog,
    dashboards,
    grafana_schema,
    kubernetes,
    loading,
    promql,
    ruler,
    slo,
)
from generator.validate.checks.base import Check

CHECKS: tuple[Check, ...] = (
    *loading.CHECKS, *promql.CHECKS, *catalog.CHECKS, *slo.CHECKS, *ruler.CHECKS, *alerts.CHECKS,
    *dashboards.CHECKS, *grafana_schema.CHECKS, *kubernetes.CHECKS,
)
assert len({c.id for c in CHECKS}) == len(CHECKS), "check ids must be unique"
