"""Scrape targets of the simulated fleet, and the Prometheus configuration that scrapes them.

Every replica is its own target (`/pods/<namespace>/<pod>` and its engine's metrics path, `/metrics` or
trtllm-serve's `/prometheus/metrics`) carrying `namespace`, `pod`,
`container` (the engine container) and the model's selector labels as target labels, as a PodMonitor
would add them, so `up{namespace,pod,container}` exists per replica. kube-state-metrics (one per site)
is scraped with `honor_labels: true`, as kube-prometheus-stack does, so its series keep the pod's own
`namespace` and `pod`. dcgm-exporter (one per GPU node) likewise, unless the inventory's
`collectors.dcgm.pod_label` says otherwise: then it is scraped as its Helm chart's ServiceMonitor
does by default (`honorLabels: false`), its targets carry the exporter pod's own `namespace` and
`pod`, and Prometheus stores the workload's as `exported_namespace` and `exported_pod`.

Targets are static: a replica of a model scaled to zero keeps its target, which answers 404 (`up` 0
where a PodMonitor would drop the target and `up` would be absent; the rules treat both alike), and a
rollout's stuck surge pod (Pending, or never passing readiness) has none.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from generator.catalog import ENGINES
from generator.podnames import deployment_suffix
from generator.simulate.fleet import Fleet

DCGM_NAMESPACE = "gpu-operator"  # where the dcgm-exporter DaemonSet runs


@dataclass(frozen=True)
class Target:
    job: str
    path: str
    labels: tuple[tuple[str, str], ...]
    honor_labels: bool = False


def targets(fleet: Fleet) -> list[Target]:
    result = []
    for model in fleet.inventory.models:
        for replica in fleet.replicas[model.name]:
            engine = ENGINES[model.engine]
            labels = (("namespace", replica.namespace), ("pod", replica.pod), ("container", replica.container),
                      ("instance", f"{replica.pod}:{engine.metrics_port}"), *model.selector)
            result.append(Target(model.engine, f"/pods/{replica.namespace}/{replica.pod}{engine.metrics_path}",
                                 labels))
    for site in fleet.sites.values():
        result.append(Target(fleet.inventory.collectors.kube_state_metrics_job,
                             f"/kube-state-metrics/{site.name}/metrics",
                             (("instance", f"kube-state-metrics.{site.name}:8080"), *site.labels), True))
    collectors = fleet.inventory.collectors
    honor = collectors.dcgm_pod_label == "pod"
    for node in fleet.nodes.values():
        site = fleet.sites[node.site]
        own = () if honor else (("namespace", DCGM_NAMESPACE),
                                ("pod", f"nvidia-dcgm-exporter-{deployment_suffix(node.name).split('-')[1]}"))
        result.append(Target(collectors.dcgm_job, f"/dcgm/{node.name}/metrics",
                             (*own, ("instance", f"{node.name}:9400"), *site.labels), honor))
    return result


def scrape_configs(fleet: Fleet, address: str) -> list[dict]:
    """Prometheus `scrape_configs`: one job per engine and exporter, one static target per endpoint."""
    jobs: dict[str, dict] = {}
    for target in targets(fleet):
        job = jobs.setdefault(target.job, {"job_name": target.job, **({"honor_labels": True}
                                                                      if target.honor_labels else {}),
                                           "static_configs": []})
        job["static_configs"].append({"targets": [address],
                                      "labels": {"__metrics_path__": target.path, **dict(target.labels)}})
    return list(jobs.values())


def prometheus_config(fleet: Fleet, address: str, interval: str = "15s", rule_files: Sequence[str] = (),
                      alertmanagers: Sequence[str] = ()) -> dict:
    config: dict = {"global": {"scrape_interval": interval, "evaluation_interval": interval,
                               "scrape_timeout": interval}}
    if rule_files:
        config["rule_files"] = list(rule_files)
    if alertmanagers:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": list(alertmanagers)}]}]}
    config["scrape_configs"] = scrape_configs(fleet, address)
    return config
