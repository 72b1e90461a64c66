"""Alerts on the collectors every model's alerts rely on: kube-state-metrics and dcgm-exporter, per site.

A site is one set of selector labels (`cluster: prod-eu`), as the models use
them. While a collector is down, the model alerts that read it stay silent (its
series are empty, never 0), so its outage raises one `LLMCollectorDown` per
site and collector instead of a false page per model.
"""
from __future__ import annotations

from dataclasses import dataclass

from generator import conventions as c
from generator.inventory import Inventory, Model
from generator.promql import selector
from generator.rules.alert_table import DEFINITIONS, cluster_text
from generator.rules.telemetry import DCGM, KSM

ALERT = "LLMCollectorDown"
DEFINITION = DEFINITIONS[ALERT]


@dataclass(frozen=True)
class Site:
    labels: tuple[tuple[str, str], ...]  # the selector labels its series carry
    models: tuple[Model, ...]


def sites(inventory: Inventory) -> list[Site]:
    by_labels: dict[tuple[tuple[str, str], ...], list[Model]] = {}
    for model in inventory.models:
        by_labels.setdefault(model.selector, []).append(model)
    return [Site(labels, tuple(models)) for labels, models in by_labels.items()]


def collector_jobs(inventory: Inventory) -> dict[str, str]:
    """collector label value -> its scrape job."""
    return {KSM: inventory.collectors.kube_state_metrics_job, DCGM: inventory.collectors.dcgm_job}


def collector_rules(inventory: Inventory) -> list[dict]:
    rules = []
    cluster = [inventory.multi_cluster.label] if inventory.multi_cluster else []
    for site in sites(inventory):
        where = ", ".join(f"{k}={v}" for k, v in site.labels) or "every site"
        keys = [k for k, _ in site.labels]
        for collector, job in collector_jobs(inventory).items():
            up = selector("up", [("job", "=", job), *((k, "=", v) for k, v in site.labels)])
            missing = f"absent({up})"
            if cluster:
                # absent() would see only whether any cluster scrapes it: instead each cluster that scrapes
                # something at this site but not this collector (without the label: the one Prometheus).
                anything = selector("up", [(k, "=", v) for k, v in site.labels]) if site.labels else "up"
                missing = f"(group by ({cluster[0]}) ({anything}) unless on ({cluster[0]}) {up})"
            expr = f"count by ({', '.join(['job', *keys, *cluster])}) ({up} == 0)\nor\n{missing}\n"
            rules.append({
                "alert": ALERT,
                "expr": expr,
                "for": site.models[0].alert_for.get(ALERT, DEFINITION.for_),
                # `job` as absent() would give it, on the per-cluster branch too.
                "labels": {"severity": DEFINITION.severity, "collector": collector, **({"job": job} if cluster else {}),
                           **dict(site.labels)},
                "annotations": {
                    "summary": DEFINITION.doc.summary,
                    "description": f"{{{{ $value }}}} {collector} targets (job {job}) down or none scraped ({where}"
                                   f"{cluster_text(inventory)}): "
                                   f"the model alerts that read it are blind until it is back.",
                    "runbook_url": f"{inventory.runbook_base_url}/{ALERT}.md",
                    "dashboard_url": f"{inventory.grafana_url}/d/{c.FLEET_UID}",
                },
            })
    return rules
