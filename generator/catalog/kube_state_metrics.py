"""kube-state-metrics pod series, for replicas and cold start.

Scrape it with `honorLabels: true` (as kube-prometheus-stack does) so the
series keep the pod's own `namespace` and `pod` labels.
"""
from decimal import Decimal

from generator.catalog.base import (
    COUNTER,
    ENGINE_CONTAINER,
    GAUGE,
    IMAGE_VERSION,
    WORKLOAD,
    Custom,
    Exporter,
    Metric,
    PodSignal,
)
from generator.prometheus_syntax import duration_seconds
from generator.promql import quote
from generator.versions import v

POD = "kubernetes/kube-state-metrics docs/metrics/workload/pod-metrics.md, internal/store/pod.go"

CREATED, READY_TIME, INFO = "kube_pod_created", "kube_pod_status_ready_time", "kube_pod_container_info"
RESTARTS = "kube_pod_container_status_restarts_total"
LAST_TERMINATED = "kube_pod_container_status_last_terminated_reason"
READY = PodSignal("kube_pod_status_ready", "max", (("condition", "=", "true"),), per=("namespace", "pod"))
# The engine container's waiting reasons that mean it cannot start.
CANNOT_START = ("CrashLoopBackOff|ImagePullBackOff|ErrImagePull|CreateContainerConfigError|CreateContainerError|"
                "InvalidImageName")
TEST_UID = "00000000-0000-0000-0000-000000000000"  # the pod uid a generated test's series carry


def _cold_start(ctx, lookback: str) -> str:
    """Longest start-up among pods created within `lookback`: to their first Ready, or so far.

    The first Ready transition counts (`min_over_time`), so a pod that later
    crashes and recovers keeps its true start-up time; a pod that was never
    Ready within the lookback is still starting. Older pods are left to the
    replica alerts.
    """
    created = ctx.selector(CREATED, scope=WORKLOAD)
    ready_time = ctx.selector(READY_TIME, scope=WORKLOAD)
    young = f"({created} > time() - {duration_seconds(lookback)})"
    started = f"(min_over_time({ready_time}[{lookback}]) - {ctx.on('namespace', 'pod', 'uid')} {young})"
    starting = (f"((time() - {young}) unless {ctx.on('namespace', 'pod', 'uid')} "
                f"max_over_time({ready_time}[{lookback}]))")
    return ctx.agg("max", f"{started} or {starting}")


def _cold_start_inputs(seconds: Decimal) -> list:
    """One pod, created a minute before the test, ready `seconds` after its creation."""
    created = Decimal(-60)
    uid = ("uid", "=", TEST_UID)
    return [(CREATED, WORKLOAD, (uid,), created), (READY_TIME, WORKLOAD, (uid,), created + seconds),
            (READY.metric, WORKLOAD, (*READY.matchers, uid), Decimal(1))]


def _oom_kills(ctx, window: str) -> str:
    """Per pod, engine container restarts within `window` whose last termination was an OOM kill."""
    container = ("container", "=", ctx.model.container)
    restarts = ctx.selector(RESTARTS, (container,), scope=WORKLOAD)
    reason = ctx.selector(LAST_TERMINATED, (container, ("reason", "=", "OOMKilled")), scope=WORKLOAD)
    return (f"{ctx.agg('sum', f'increase({restarts}[{window}])', 'namespace', 'pod')} > 0 "
            f"and {ctx.on('namespace', 'pod')} {ctx.agg('max', f'{reason} == 1', 'namespace', 'pod')}")


def _running_versions(ctx, window: str) -> str:
    """Per pod, the engine version its container image says (`running_version`), where the image
    follows the model's image pattern; images that do not are left out."""
    pattern = ctx.model.image_pattern
    info = ctx.selector(INFO, (("container", "=", ctx.model.container),
                               ("image", "=~", pattern.format(version=IMAGE_VERSION))), scope=WORKLOAD)
    extract = pattern.format(version=f"({IMAGE_VERSION})")
    return ctx.agg("max", f'label_replace({info}, "running_version", "$1", "image", {quote(extract)})',
                   "namespace", "pod", "running_version")


def _new_pods(ctx, seconds: str) -> str:
    """Per pod created within the last `seconds`, its creation time, labelled with its owner (the
    ReplicaSet for a Deployment) and the engine container's image: what a deploy changed."""
    created = ctx.selector(CREATED, scope=WORKLOAD)
    owner = ctx.selector("kube_pod_owner", (("owner_is_controller", "=", "true"),), scope=WORKLOAD)
    info = ctx.selector(INFO, (("container", "=", ctx.model.container),), scope=WORKLOAD)
    joined = (f"({created} > time() - {seconds}) "
              f"* {ctx.on('namespace', 'pod', 'uid')} group_left (owner_kind, owner_name) {owner} "
              f"* {ctx.on('namespace', 'pod', 'uid')} group_left (image) {info}")
    return ctx.agg("max", joined, "namespace", "pod", "owner_kind", "owner_name", "image")


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
    # Read on the model's pods, by their own `namespace` and `pod` labels.
    signals={
        "replicas_ready": PodSignal(READY.metric, "sum", READY.matchers, zero_while_scraped=True),
        "pod_ready": READY,  # per pod: 1 Ready, 0 not
        "container_waiting": PodSignal("kube_pod_container_status_waiting_reason", "max",
                                       (("container", "=", ENGINE_CONTAINER), ("reason", "=~", CANNOT_START)),
                                       per=("namespace", "pod", "reason"), value_filter="== 1",
                                       labels=(("reason", "CrashLoopBackOff"),)),
        # Per pod, 1 per image of its engine container (the spec's reference: its tag says the version).
        "engine_image": PodSignal(INFO, "max", (("container", "=", ENGINE_CONTAINER),),
                                  per=("namespace", "pod", "image"), labels=(("image", "registry.test/engine:1.0"),)),
        "oom_kills": Custom((RESTARTS, LAST_TERMINATED), _oom_kills),
        "engine_version": Custom((INFO,), _running_versions),
        "cold_start": Custom((CREATED, READY_TIME, READY.metric), _cold_start, _cold_start_inputs),
        "new_pods": Custom((CREATED, "kube_pod_owner", INFO), _new_pods),
    },
)
