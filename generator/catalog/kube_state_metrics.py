"""kube-state-metrics pod series, for replicas and cold start.

Scrape it with `honorLabels: true` (as kube-prometheus-stack does) so the
series keep the pod's own `namespace` and `pod` labels.
"""
from generator.catalog.base import COUNTER, GAUGE, Exporter, Metric
from generator.versions import v

POD = "kubernetes/kube-state-metrics docs/metrics/workload/pod-metrics.md, internal/store/pod.go"

EXPORTER = Exporter(
    name="kube_state_metrics",
    title="kube-state-metrics",
    default_version=v("2.13.0"),
    oldest=v("2.8.0"),
    metrics=(
        Metric("kube_pod_created", GAUGE, "timestamp", "Pod creation time, Unix seconds.", POD, since=v("1.1.0")),
        Metric("kube_pod_status_ready_time", GAUGE, "timestamp",
               "Time the pod last became Ready; only present while Ready.", POD, since=v("2.8.0")),
        Metric("kube_pod_status_ready", GAUGE, "bool", "Pod Ready condition, by `condition`.", POD,
               since=v("1.0.0")),
        Metric("kube_pod_container_info", GAUGE, "info",
               "Container of a pod: labels `container`, `image` (the spec's image reference), `image_id`, "
               "`container_id`; value 1.", POD, since=v("1.0.0")),
        Metric("kube_pod_container_status_waiting_reason", GAUGE, "bool",
               "1 while the container waits, by `container` and `reason` (CrashLoopBackOff, ImagePullBackOff, ...).",
               POD, since=v("1.0.0")),
        Metric("kube_pod_container_status_last_terminated_reason", GAUGE, "bool",
               "1 for the reason of the container's last termination, by `container` and `reason` (OOMKilled, "
               "Error, ...); no series before the first termination.", POD, since=v("1.0.0")),
        Metric("kube_pod_owner", GAUGE, "info",
               "Owner of a pod: labels `owner_kind` (ReplicaSet, StatefulSet, ...), `owner_name`, "
               "`owner_is_controller`; value 1.", f"{POD} (STABLE)", since=v("1.0.0")),
        Metric("kube_pod_container_status_restarts_total", COUNTER, "restarts",
               "Container restarts, by `container`.", POD, since=v("1.0.0")),
    ),
    requirements=("Scrape kube-state-metrics with honorLabels: true.",),
)
