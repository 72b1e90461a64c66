"""The series each model's dashboards and alerts rely on, to notice when one goes missing.

A recording rule counts the series of each (`llm:telemetry_series:count{signal}`);
`LLMTelemetryMissing` fires when a count is 0 while the model's engine targets
are up. Engine series count 0 when absent; exporter series (DCGM, kube-state-
metrics) are empty instead while their collector is down, so a collector outage
raises `LLMCollectorDown` once rather than a missing-series alert per model.
"""
from __future__ import annotations

from dataclasses import dataclass

from generator.catalog.base import WORKLOAD, Custom, Gauge, Histogram
from generator.queries import ModelQueries

ENGINE, DCGM, KSM = "engine", "dcgm-exporter", "kube-state-metrics"


@dataclass(frozen=True)
class Telemetry:
    signal: str  # value of the `signal` label
    metric: str  # the series counted, as exposed
    expr: str  # PromQL counting them
    collector: str  # who exports it: engine, dcgm-exporter, kube-state-metrics
    cause: str  # what to check, for the alert's description


def telemetry(q: ModelQueries) -> list[Telemetry]:
    model, engine = q.model, q.engine
    drift = (f"the pods may run another {engine.title} version than the inventory's {model.engine_version} "
             f"(metric names change between versions: see LLMEngineVersionDrift), or the engine does not export it")
    result = []

    def engine_signal(signal: str, metric: str, suffix: str = "", matchers=(), scope: str = "model", cause=""):
        result.append(Telemetry(signal, metric + suffix, q.series_count(metric, matchers, scope, suffix), ENGINE,
                                cause or drift))

    requests = q.signal("requests")
    if engine.model_label:
        scoped = (f"the engine's model label {engine.model_label} may not equal served_name {model.served_name!r} "
                  f"or its series may lack namespace={model.namespace!r}")
    elif engine.model_label is None:
        scoped = (f"{engine.title} has no model label: its series may lack namespace={model.namespace!r} or a pod "
                  f"matching {model.pod_regex!r} (keep the namespace and pod target labels)")
    else:  # the deployment's naming leaves the model label without the served name
        scoped = (f"the deployment may expose another metric naming than the inventory's {model.metric_naming!r}, "
                  f"or its pods may not match namespace={model.namespace!r} and pod_regex")
    engine_signal("requests", requests.parts[0].metric, requests.parts[0].suffix, requests.parts[0].matchers,
                  requests.parts[0].scope, f"{scoped}; or {drift}")
    if q.has("ttft"):
        spec = q.signal("ttft")
        assert isinstance(spec, Histogram)
        requires = engine.metric(spec.candidates[0]).requires
        engine_signal("ttft", spec.candidates[0], "_count",
                      cause=f"{requires} Otherwise {drift}." if requires else drift)
    kv = q.signal("kv_cache")
    if isinstance(kv, Gauge):
        engine_signal("kv_cache", kv.candidates[0].metric, matchers=kv.candidates[0].matchers,
                      scope=kv.candidates[0].scope)
    elif isinstance(kv, Custom):
        engine_signal("kv_cache", kv.metrics[0], scope="backend",
                      cause=f"the backend model {model.backend_model!r} may be named otherwise "
                            f"(models[].backend_model), "
                            f"or {drift}")
    c = q.collectors
    result.append(Telemetry(
        "gpus", "DCGM_FI_DEV_GPU_UTIL", q.series_count("DCGM_FI_DEV_GPU_UTIL", scope=WORKLOAD), DCGM,
        f"no GPU series carries {c.dcgm_namespace_label}={model.namespace!r} and a {c.dcgm_pod_label} matching "
        f"{model.pod_regex!r}. If dcgm-exporter is scraped with honorLabels: false (its Helm chart's default), the "
        f"workload labels arrive as exported_namespace and exported_pod: set collectors.dcgm.namespace_label and "
        f"pod_label in the inventory, or honorLabels: true. dcgm-exporter also needs Kubernetes mode (-k)."))
    result.append(Telemetry(
        "pods", "kube_pod_status_ready",
        q.series_count("kube_pod_status_ready", (("condition", "=", "true"),), scope=WORKLOAD), KSM,
        f"kube-state-metrics lists no pod in namespace {model.namespace!r} matching {model.pod_regex!r} while "
        f"engine targets of those pods are up: scrape kube-state-metrics with honorLabels: true so its series keep "
        f"the pod's own namespace and pod labels."))
    return result
