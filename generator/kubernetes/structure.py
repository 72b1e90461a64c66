"""What the API server and the CRDs require of the objects we generate, checked offline.

Covers the fields and types of `ConfigMap` (v1), prometheus-operator's
`PrometheusRule` (monitoring.coreos.com/v1: groups with a name, rules with one
of record/alert and an expr) and grafana-operator's `GrafanaFolder` and
`GrafanaDashboard` (grafana.integreatly.org/v1beta1: a required
`instanceSelector`, one content source, at most one folder reference), DNS-1123
names, label syntax, and the 256 KiB client-side apply can annotate. Never
raises on garbage: every problem is a (key path, message) pair.
"""
from __future__ import annotations

import json

from generator import grafana_facts, prometheus_syntax
from generator.kubernetes import names

KINDS = {
    "ConfigMap": "v1",
    "PrometheusRule": "monitoring.coreos.com/v1",
    "GrafanaFolder": "grafana.integreatly.org/v1beta1",
    "GrafanaDashboard": "grafana.integreatly.org/v1beta1",
}
GROUP_KEYS = {"name", "interval", "rules", "partial_response_strategy", "limit", "query_offset", "labels"}
RULE_KEYS = {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
DASHBOARD_SOURCES = ("json", "gzipJson", "url", "jsonnet", "jsonnetLib", "configMapRef", "grafanaCom")

Problem = tuple[str, str]  # key path, message


def problems(obj) -> list[Problem]:
    if not isinstance(obj, dict):
        return [("", "a manifest holds one Kubernetes object (a mapping)")]
    found: list[Problem] = []
    kind = obj.get("kind")
    if kind not in KINDS:
        return [("kind", f"expected one of {', '.join(KINDS)}, got {kind!r}")]
    if obj.get("apiVersion") != KINDS[kind]:
        found.append(("apiVersion", f"{kind} is {KINDS[kind]}, got {obj.get('apiVersion')!r}"))
    found += _metadata(obj.get("metadata"))
    found += {"ConfigMap": _configmap, "PrometheusRule": _prometheus_rule, "GrafanaFolder": _grafana_folder,
              "GrafanaDashboard": _grafana_dashboard}[kind](obj)
    size = len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8"))
    if size > names.ANNOTATION_LIMIT:
        found.append(("", f"{size:,} bytes: over the {names.ANNOTATION_LIMIT:,} bytes of annotations kubectl's "
                          f"client-side apply writes (last-applied-configuration)"))
    return found


def _metadata(meta) -> list[Problem]:
    if not isinstance(meta, dict):
        return [("metadata", "missing `metadata` (a mapping with name and namespace)")]
    found = []
    name = meta.get("name")
    if not isinstance(name, str) or not names.DNS_SUBDOMAIN.match(name):
        found.append(("metadata.name", f"{name!r} is not a DNS-1123 subdomain (lower-case letters, digits, '-' "
                                       f"and '.', at most 253)"))
    namespace = meta.get("namespace")
    if namespace is not None and (not isinstance(namespace, str) or not names.DNS_LABEL.match(namespace)):
        found.append(("metadata.namespace", f"{namespace!r} is not a DNS-1123 label"))
    for section in ("labels", "annotations"):
        values = meta.get(section)
        if values is None:
            continue
        if not isinstance(values, dict):
            found.append((f"metadata.{section}", "expected a mapping of strings"))
            continue
        for key, value in values.items():
            problem = names.qualified_name_problem(key)
            if problem is None and section == "labels":
                problem = names.label_value_problem(value)
            elif problem is None and not isinstance(value, str):
                problem = "annotation values are strings"
            if problem:
                found.append((f"metadata.{section}.{key}", problem))
    return found


def _configmap(obj: dict) -> list[Problem]:
    data = obj.get("data")
    if not isinstance(data, dict) or not data:
        return [("data", "missing `data` (a mapping of keys to strings)")]
    found = []
    for key, value in data.items():
        if not isinstance(key, str) or not names.CONFIGMAP_KEY.match(key):
            found.append((f"data.{key}", "keys are 1-253 letters, digits, '-', '_' or '.'"))
        if not isinstance(value, str):
            found.append((f"data.{key}", "values are strings"))
    size = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in data.items())
    if size > names.CONFIGMAP_LIMIT:
        found.append(("data", f"{size:,} bytes: a ConfigMap holds at most {names.CONFIGMAP_LIMIT:,}"))
    return found


def _prometheus_rule(obj: dict) -> list[Problem]:
    spec = obj.get("spec")
    groups = spec.get("groups") if isinstance(spec, dict) else None
    if not isinstance(groups, list) or not groups:
        return [("spec.groups", "missing `spec.groups` (a list of rule groups)")]
    found, seen = [], set()
    for i, group in enumerate(groups):
        where = f"spec.groups[{i}]"
        if not isinstance(group, dict):
            found.append((where, "a group is a mapping"))
            continue
        found += [(f"{where}.{k}", f"unknown group field {k!r}") for k in group if k not in GROUP_KEYS]
        name = group.get("name")
        if not isinstance(name, str) or not name:
            found.append((f"{where}.name", "a group needs a name (a non-empty string)"))
        elif name in seen:
            found.append((f"{where}.name", f"group name {name!r} repeated: names are unique per object"))
        seen.add(name)
        rules = group.get("rules")
        if not isinstance(rules, list):
            found.append((f"{where}.rules", "`rules` is a list"))
            continue
        for j, rule in enumerate(rules):
            found += _rule(rule, f"{where}.rules[{j}]")
    return found


def _rule(rule, where: str) -> list[Problem]:
    if not isinstance(rule, dict):
        return [(where, "a rule is a mapping")]
    found = [(f"{where}.{k}", f"unknown rule field {k!r}") for k in rule if k not in RULE_KEYS]
    kinds = [k for k in ("record", "alert") if isinstance(rule.get(k), str) and rule[k]]
    if len(kinds) != 1:
        found.append((where, "a rule has exactly one of `record` and `alert` (a non-empty string)"))
    expr = rule.get("expr")
    if isinstance(expr, bool) or not isinstance(expr, (str, int)) or expr == "":
        found.append((f"{where}.expr", "`expr` is required: a PromQL string"))
    for key in ("for", "keep_firing_for"):
        if key in rule and not (prometheus_syntax.duration_ms(rule[key]) is not None):
            found.append((f"{where}.{key}", f"`{key}` is a duration such as 5m"))
    if "annotations" in rule and kinds == ["record"]:
        found.append((f"{where}.annotations", "recording rules have no annotations"))
    for key in ("labels", "annotations"):
        if key in rule and not (isinstance(rule[key], dict)
                                and all(isinstance(k, str) and isinstance(v, str) for k, v in rule[key].items())):
            found.append((f"{where}.{key}", f"`{key}` maps names to strings"))
    return found


def _grafana_common(spec) -> list[Problem]:
    if not isinstance(spec, dict):
        return [("spec", "missing `spec`")]
    selector = spec.get("instanceSelector")
    if not isinstance(selector, dict) or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return [("spec.instanceSelector", "grafana-operator requires `instanceSelector` (matchLabels or "
                                          "matchExpressions) to pick the Grafana instances")]
    labels = selector.get("matchLabels") or {}
    if not isinstance(labels, dict):
        return [("spec.instanceSelector.matchLabels", "a mapping of label keys to values")]
    return [(f"spec.instanceSelector.matchLabels.{k}", p) for k, v in labels.items()
            if (p := names.qualified_name_problem(k) or names.label_value_problem(v))]


def _grafana_uid(spec: dict) -> list[Problem]:
    uid = spec.get("uid")
    if uid is not None and not (isinstance(uid, str) and grafana_facts.UID.match(uid)):
        return [("spec.uid", f"{uid!r} is not 1-40 characters of [a-zA-Z0-9_-]")]
    return []


def _grafana_folder(obj: dict) -> list[Problem]:
    spec = obj.get("spec")
    found = _grafana_common(spec)
    if not isinstance(spec, dict):
        return found
    if not isinstance(spec.get("title"), str) or not spec["title"]:
        found.append(("spec.title", "a folder needs a title"))
    if "parentFolderRef" in spec and "parentFolderUID" in spec:
        found.append(("spec", "only one of parentFolderUID and parentFolderRef"))
    return found + _grafana_uid(spec)


def _grafana_dashboard(obj: dict) -> list[Problem]:
    spec = obj.get("spec")
    found = _grafana_common(spec)
    if not isinstance(spec, dict):
        return found
    sources = [k for k in DASHBOARD_SOURCES if k in spec]
    if len(sources) != 1:
        found.append(("spec", f"exactly one dashboard source ({', '.join(DASHBOARD_SOURCES)}), got "
                              f"{', '.join(sources) or 'none'}"))
    if "json" in spec:
        try:
            json.loads(spec["json"])
        except (TypeError, ValueError) as exc:
            found.append(("spec.json", f"not JSON: {exc}"))
    if "configMapRef" in spec:
        ref = spec["configMapRef"]
        if not (isinstance(ref, dict) and isinstance(ref.get("name"), str) and names.DNS_SUBDOMAIN.match(ref["name"])
                and isinstance(ref.get("key"), str) and names.CONFIGMAP_KEY.match(ref["key"])):
            found.append(("spec.configMapRef", "needs `name` (a ConfigMap name) and `key` (its data key)"))
    if "folderRef" in spec and "folderUID" in spec:
        found.append(("spec", "only one of folderUID and folderRef"))
    if "folder" in spec and ("folderRef" in spec or "folderUID" in spec):
        found.append(("spec.folder", "`folder` cannot be combined with folderUID or folderRef"))
    for key in ("folderRef", "folderUID", "folder"):
        if key in spec and not (isinstance(spec[key], str) and spec[key]):
            found.append((f"spec.{key}", "a non-empty string"))
    return found + _grafana_uid(spec)
