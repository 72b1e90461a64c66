"""One site's kube-state-metrics /metrics: the pod series, for every pod, models' and others'.

Labels `namespace`, `pod`, `uid` (+ `condition`). `kube_pod_status_ready_time` is the last transition
to Ready and exists only while the pod is Ready. Values as client_golang writes them (`1.7e+09`).
"""
from __future__ import annotations

from functools import cache

from generator.catalog import EXPORTERS
from generator.catalog.base import GAUGE
from generator.simulate.exposition import GO, Exposition
from generator.simulate.fleet import Fleet, stable_uuid
from generator.simulate.roles import exporter_roles, kind
from generator.simulate.timeline import ModelTimeline

EXPORTER = EXPORTERS["kube_state_metrics"]
BYSTANDER_AGE = 40 * 86400


@cache
def roles() -> dict[str, str]:
    """Catalog metric -> what it carries, by unit and help text (resolved on first use)."""
    return exporter_roles(EXPORTER, [
        ("created", kind(GAUGE, "timestamp", "creation")),
        ("ready_time", kind(GAUGE, "timestamp", "ready")),
        ("ready", kind(GAUGE, "bool", "ready")),
    ])


def render(fleet: Fleet, site: str, timelines: dict[str, ModelTimeline], t: float, start: float) -> str:
    version = fleet.inventory.exporters[EXPORTER.name]
    pods = []  # (namespace, pod, uid, created, ready_time or None)
    for model in fleet.inventory.models:
        if fleet.site_of[model.name] != site:
            continue
        for replica in fleet.replicas[model.name]:
            state = timelines[model.name].pod(replica.index, t)
            pods.append((replica.namespace, replica.pod, state.uid, state.created, state.ready_time))
    for bystander in fleet.bystanders:
        if bystander.site == site:
            created = start - BYSTANDER_AGE
            pods.append((bystander.namespace, bystander.pod, stable_uuid(bystander.pod), created, created + 20))
    out = Exposition(GO)
    for metric in EXPORTER.metrics:
        if not metric.exposed_in(version):
            continue
        role = roles()[metric.name]
        out.family(metric.name, "gauge", metric.help)
        for namespace, pod, uid, created, ready_time in pods:
            labels = [("namespace", namespace), ("pod", pod), ("uid", uid)]
            if role == "created":
                out.sample(metric.name, labels, float(int(created)))
            elif role == "ready_time" and ready_time is not None:
                out.sample(metric.name, labels, float(int(ready_time)))
            elif role == "ready":
                ready = ready_time is not None
                for condition, value in (("true", ready), ("false", not ready), ("unknown", False)):
                    out.sample(metric.name, labels + [("condition", condition)], int(value))
    return out.text()
