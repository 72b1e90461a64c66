"""The Kubernetes manifests of the generated output, one object per file under kubernetes/, and a kustomization.

- a `PrometheusRule` per model's rule file and one for the shared SLO windows, its `spec.groups` the file's
  groups, labelled for the Prometheus `ruleSelector` (`kubernetes.rule_labels`);
- a `ConfigMap` per dashboard holding the dashboard file byte for byte; with the sidecar it carries the
  sidecar's label and its folder annotation (the Grafana folder);
- with grafana-operator, a `GrafanaFolder` per folder and a `GrafanaDashboard` per dashboard, reading the
  JSON from that ConfigMap (`configMapRef`), in its folder (`folderRef`), for the Grafana instances the
  `instanceSelector` matches;
- the Alertmanager routes and inhibitions of alerts/alertmanager.yaml as an `AlertmanagerConfig`
  (monitoring.coreos.com/v1alpha1): prometheus-operator adds a `namespace` matcher to its routes and inhibit
  rules unless the Alertmanager CR says otherwise (README: "Alertmanager through prometheus-operator");
- `kustomization.yaml` listing every object.

Built from the generated files themselves, so a manifest never differs from the file it wraps.
"""
from __future__ import annotations

import json
from collections.abc import Callable

import yaml

from generator import conventions as c
from generator.dashboards.folders import Folder, dashboard_folders, folders
from generator.errors import GeneratorError
from generator.inventory import Inventory
from generator.kubernetes import names
from generator.kubernetes.config import Kubernetes
from generator.rules.alertmanager import operator_spec
from generator.yaml_out import comment, dump

MANAGED_BY = {"app.kubernetes.io/managed-by": "llm-observability"}
OPERATOR_API = "grafana.integreatly.org/v1beta1"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def manifests(inventory: Inventory, files: dict[str, str]) -> dict[str, str]:
    """Relative path -> manifest file, from the generated rule files and dashboards; empty without `kubernetes:`."""
    k8s = inventory.kubernetes
    if k8s is None:
        return {}
    objects: list[dict] = []
    for produce in PRODUCERS:
        objects += produce(inventory, k8s, files)
    result = {}
    for obj in objects:
        path = c.manifest_file(obj["kind"], obj["metadata"]["name"])
        if path in result:
            raise GeneratorError(f"two {obj['kind']} objects would be named {obj['metadata']['name']!r}")
        _check_size(obj)
        result[path] = comment(c.GENERATED_HEADER) + dump(obj)
    result[c.KUSTOMIZATION_FILE] = comment(c.GENERATED_HEADER) + dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(path.removeprefix(f"{c.MANIFESTS_DIR}/") for path in result),
    })
    return dict(sorted(result.items()))


def prometheus_rules(inventory: Inventory, k8s: Kubernetes, files: dict[str, str]) -> list[dict]:
    objects = []
    for model in inventory.models:
        groups = yaml.load(files[c.rules_file(model.name)], Loader=_LOADER)["groups"]
        objects.append(_object("monitoring.coreos.com/v1", "PrometheusRule", c.rule_object_name(model.name), k8s,
                               {**dict(k8s.rule_labels), **MANAGED_BY}, spec={"groups": groups}))
    for path, name in c.SHARED_RULE_OBJECTS.items():  # the collector alerts, the SLO windows every model reads
        groups = yaml.load(files[path], Loader=_LOADER)["groups"]
        objects.append(_object("monitoring.coreos.com/v1", "PrometheusRule", name, k8s,
                               {**dict(k8s.rule_labels), **MANAGED_BY}, spec={"groups": groups}))
    return objects


def dashboard_configmaps(inventory: Inventory, k8s: Kubernetes, files: dict[str, str]) -> list[dict]:
    objects = []
    folder_of = dashboard_folders(inventory)
    for path, uid in _dashboard_files(files):
        labels, annotations = dict(MANAGED_BY), {}
        if k8s.sidecar_enabled:
            labels[k8s.sidecar.label] = k8s.sidecar.label_value
            annotations[k8s.sidecar.folder_annotation] = sidecar_directory(folder_of[uid])
        objects.append(_object("v1", "ConfigMap", names.object_name(uid), k8s, labels, annotations,
                               data={f"{uid}.json": files[path]}))
    return objects


def grafana_folders(inventory: Inventory, k8s: Kubernetes, files: dict[str, str]) -> list[dict]:
    if not k8s.operator_enabled:
        return []
    return [_object(OPERATOR_API, "GrafanaFolder", names.object_name(folder.uid), k8s, dict(MANAGED_BY),
                    spec={"instanceSelector": {"matchLabels": dict(k8s.instance_selector)}, "uid": folder.uid,
                          "title": folder.title})
            for folder in folders(inventory)]


def grafana_dashboards(inventory: Inventory, k8s: Kubernetes, files: dict[str, str]) -> list[dict]:
    if not k8s.operator_enabled:
        return []
    folder_of = dashboard_folders(inventory)
    return [_object(OPERATOR_API, "GrafanaDashboard", names.object_name(uid), k8s, dict(MANAGED_BY),
                    spec={"instanceSelector": {"matchLabels": dict(k8s.instance_selector)},
                          "folderRef": names.object_name(folder_of[uid].uid),
                          "configMapRef": {"name": names.object_name(uid), "key": f"{uid}.json"}})
            for _, uid in _dashboard_files(files)]


def alertmanager_config(inventory: Inventory, k8s: Kubernetes, files: dict[str, str]) -> list[dict]:
    """The routes of alerts/alertmanager.yaml, where that file is generated, for prometheus-operator."""
    if c.ALERTMANAGER_FILE not in files:
        return []
    return [_object("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig", c.ALERTMANAGER_CONFIG_NAME, k8s,
                    dict(MANAGED_BY), spec=operator_spec(inventory))]


# One producer per kind of object, in file order.
PRODUCERS: tuple[Callable[[Inventory, Kubernetes, dict[str, str]], list[dict]], ...] = (
    prometheus_rules, dashboard_configmaps, grafana_folders, grafana_dashboards, alertmanager_config,
)


def sidecar_directory(folder: Folder) -> str:
    """The folder annotation's value: the sidecar's subdirectory, which Grafana shows as the folder's title."""
    text = folder.title.replace("/", "-").replace("\\", "-").strip().lstrip(".")
    return text or folder.directory


def _dashboard_files(files: dict[str, str]) -> list[tuple[str, str]]:
    """(path, uid) of every generated dashboard."""
    return sorted((path, path.rsplit("/", 1)[1][:-len(".json")]) for path in files
                  if path.startswith("dashboards/") and path.endswith(".json"))


def _object(api: str, kind: str, name: str, k8s: Kubernetes, labels: dict, annotations: dict | None = None,
            **body) -> dict:
    metadata = {"name": name, "namespace": k8s.namespace, "labels": labels}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": api, "kind": kind, "metadata": metadata, **body}


def _check_size(obj: dict) -> None:
    size = len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > names.ANNOTATION_LIMIT:
        raise GeneratorError(f"{obj['kind']} {obj['metadata']['name']} would be {size:,} bytes, over the "
                             f"{names.ANNOTATION_LIMIT:,} bytes kubectl's client-side apply can annotate; split the "
                             f"dashboard or apply with --server-side")
