"""One site's kube-state-metrics /metrics: the pod and container series, for every pod, models' and others'.

Labels `namespace`, `pod`, `uid` (+ `condition`; `container` and the container's own labels on container
series). `kube_pod_status_ready_time` is the last transition to Ready and exists only while the pod is
Ready. Container series (v2, as kube-state-metrics writes them): `kube_pod_container_info` with the
`image` the container runs; `kube_pod_container_status_waiting_reason` only while the container waits,
with the reason it waits for; `kube_pod_container_status_last_terminated_reason` only once the
container has terminated, with that reason; `kube_pod_container_status_restarts_total` always. Values
as client_golang writes them (`1.7e+09`).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

from generator.catalog import EXPORTERS
from generator.catalog.base import COUNTER, GAUGE
from generator.simulate.exposition import GO, Exposition
from generator.simulate.fleet import Fleet, container_image, stable_uuid
from generator.simulate.roles import exporter_roles, kind
from generator.simulate.timeline import ContainerState, ModelTimeline

EXPORTER = EXPORTERS["kube_state_metrics"]
BYSTANDER_AGE = 40 * 86400
# Containers of the pods that are no model's, with their images.
BYSTANDER_CONTAINERS = {"coredns": ("coredns", "registry.k8s.io/coredns/coredns:v1.11.3"),
                        "llm-gateway": ("envoy", "envoyproxy/envoy:v1.31.2")}


@dataclass(frozen=True)
class PodRow:
    namespace: str
    pod: str
    uid: str
    created: float
    ready_time: float | None
    container: str
    image: str
    status: ContainerState


@cache
def roles() -> dict[str, str]:
    """Catalog metric -> what it carries, by type, unit and help text (resolved on first use)."""
    return exporter_roles(EXPORTER, [
        ("created", kind(GAUGE, "timestamp", "creation")),
        ("ready_time", kind(GAUGE, "timestamp", "ready")),
        ("container_info", kind(GAUGE, "info", "container", "image")),
        ("owner", kind(GAUGE, "info", "owner")),
        ("waiting_reason", kind(GAUGE, "bool", "waits", "reason")),
        ("last_terminated_reason", kind(GAUGE, "bool", "last termination", "reason")),
        ("ready", kind(GAUGE, "bool", "ready")),
        ("restarts", kind(COUNTER, "restarts")),
    ])


def rows(fleet: Fleet, site: str, timelines: dict[str, ModelTimeline], t: float, start: float) -> list[PodRow]:
    """Every pod of the site at t: the models' replicas (none while scaled to zero), a rollout's surge
    pod, and pods that are no model's."""
    result = []
    for model in fleet.inventory.models:
        if fleet.site_of[model.name] != site:
            continue
        timeline = timelines[model.name]
        image = container_image(model, timeline.version(t))
        for replica in fleet.replicas[model.name]:
            state = timeline.pod(replica.index, t)
            if state is not None:
                result.append(PodRow(replica.namespace, replica.pod, state.uid, state.created, state.ready_time,
                                     replica.container, image, timeline.container(replica.index, t)))
        surge = timeline.surge(t)
        if surge is not None:
            result.append(PodRow(model.namespace, fleet.surge_pods[model.name], surge.uid, surge.created, None,
                                 model.container, image, ContainerState(0, None, None)))
    for bystander in fleet.bystanders:
        if bystander.site == site:
            created = start - BYSTANDER_AGE
            container, image = next(c for prefix, c in BYSTANDER_CONTAINERS.items()
                                    if bystander.pod.startswith(prefix))
            result.append(PodRow(bystander.namespace, bystander.pod, stable_uuid(bystander.pod), created,
                                 created + 20, container, image, ContainerState(0, None, None)))
    return result


def owner(pod: str) -> list[tuple[str, str]]:
    """A Deployment's pod belongs to its ReplicaSet: the pod name without its last `-<suffix>`."""
    return [("owner_is_controller", "true"), ("owner_kind", "ReplicaSet"), ("owner_name", pod.rsplit("-", 1)[0])]


def render(fleet: Fleet, site: str, timelines: dict[str, ModelTimeline], t: float, start: float) -> str:
    version = fleet.inventory.exporters[EXPORTER.name]
    pods = rows(fleet, site, timelines, t, start)
    out = Exposition(GO)
    for metric in EXPORTER.metrics:
        if not metric.exposed_in(version):
            continue
        role = roles()[metric.name]
        out.family(metric.name, "counter" if metric.type == COUNTER else "gauge", metric.help)
        for row in pods:
            labels = [("namespace", row.namespace), ("pod", row.pod), ("uid", row.uid)]
            container = labels + [("container", row.container)]
            if role == "created":
                out.sample(metric.name, labels, float(int(row.created)))
            elif role == "ready_time" and row.ready_time is not None:
                out.sample(metric.name, labels, float(int(row.ready_time)))
            elif role == "ready":
                ready = row.ready_time is not None
                for condition, value in (("true", ready), ("false", not ready), ("unknown", False)):
                    out.sample(metric.name, labels + [("condition", condition)], int(value))
            elif role == "container_info":
                digest = hashlib.sha256(row.image.encode()).hexdigest()
                cid = hashlib.sha256(f"{row.uid}/{row.container}/{row.status.restarts}".encode()).hexdigest()
                out.sample(metric.name, container + [
                    ("image", row.image), ("image_id", f"{row.image.rsplit(':', 1)[0]}@sha256:{digest}"),
                    ("container_id", f"containerd://{cid}")], 1)
            elif role == "owner":
                out.sample(metric.name, labels + owner(row.pod), 1)
            elif role == "waiting_reason" and row.status.waiting:
                out.sample(metric.name, container + [("reason", row.status.waiting)], 1)
            elif role == "last_terminated_reason" and row.status.last_terminated:
                out.sample(metric.name, container + [("reason", row.status.last_terminated)], 1)
            elif role == "restarts":
                out.sample(metric.name, container, float(row.status.restarts))
    return out.text()
