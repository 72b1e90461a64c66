"""What the API server and the CRDs require of the objects we generate, checked offline.

Covers the fields and types of `ConfigMap` (v1), prometheus-operator's
`PrometheusRule` (monitoring.coreos.com/v1: groups with a name, rules with one
of record/alert and an expr) and grafana-operator's `GrafanaFolder` and
`GrafanaDashboard` (grafana.integreatly.org/v1beta1: a required
`instanceSelector`, one content source, at most one folder reference),
prometheus-operator's `AlertmanagerConfig` (monitoring.coreos.com/v1alpha1:
camelCase route fields, matchers as {name, value, matchType}, receivers with
unique names that every route names, inhibit rules with sourceMatch/targetMatch;
an unknown key, such as a snake_case one, would be pruned silently), DNS-1123
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
    "AlertmanagerConfig": "monitoring.coreos.com/v1alpha1",
}
GROUP_KEYS = {"name", "interval", "rules", "partial_response_strategy", "limit", "query_offset", "labels"}
RULE_KEYS = {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
AM_SPEC_KEYS = {"route", "receivers", "inhibitRules", "muteTimeIntervals"}
AM_ROUTE_KEYS = {"receiver", "groupBy", "groupWait", "groupInterval", "repeatInterval", "matchers", "continue",
                 "routes", "muteTimeIntervals", "activeTimeIntervals"}
AM_MATCH_TYPES = ("=", "!=", "=~", "!~")
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
              "GrafanaDashboard": _grafana_dashboard, "AlertmanagerConfig": _alertmanager_config}[kind](obj)
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


def _alertmanager_config(obj: dict) -> list[Problem]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [("spec", "an AlertmanagerConfig requires `spec`")]
    found = [(f"spec.{k}", f"unknown field {k!r} (the CRD's fields are camelCase)") for k in spec
             if k not in AM_SPEC_KEYS]
    names_seen: list[str] = []
    receivers = spec.get("receivers", [])
    if not isinstance(receivers, list):
        found.append(("spec.receivers", "a list of receivers"))
        receivers = []
    for i, receiver in enumerate(receivers):
        name = receiver.get("name") if isinstance(receiver, dict) else None
        if not isinstance(name, str) or not name:
            found.append((f"spec.receivers[{i}].name", "a receiver needs a name (a non-empty string)"))
        elif name in names_seen:
            found.append((f"spec.receivers[{i}].name", f"receiver {name!r} repeated: names are unique"))
        else:
            names_seen.append(name)
    if "route" in spec:
        found += _am_route(spec["route"], "spec.route", set(names_seen))
    rules = spec.get("inhibitRules", [])
    if not isinstance(rules, list):
        return found + [("spec.inhibitRules", "a list of inhibit rules")]
    for i, rule in enumerate(rules):
        where = f"spec.inhibitRules[{i}]"
        if not isinstance(rule, dict):
            found.append((where, "an inhibit rule is a mapping"))
            continue
        found += [(f"{where}.{k}", f"unknown field {k!r}: sourceMatch, targetMatch, equal") for k in rule
                  if k not in ("sourceMatch", "targetMatch", "equal")]
        for key in ("sourceMatch", "targetMatch"):
            found += _am_matchers(rule.get(key, []), f"{where}.{key}")
        if not _strings(rule.get("equal", [])):
            found.append((f"{where}.equal", "a list of label names"))
    return found


def _am_route(route, where: str, receivers: set[str]) -> list[Problem]:
    if not isinstance(route, dict):
        return [(where, "a route is a mapping")]
    found = [(f"{where}.{k}", f"unknown field {k!r} (the CRD's fields are camelCase)") for k in route
             if k not in AM_ROUTE_KEYS]
    receiver = route.get("receiver")
    if receiver is not None and (not isinstance(receiver, str) or (receiver and receiver not in receivers)):
        found.append((f"{where}.receiver", f"{receiver!r} is not among spec.receivers"))
    group_by = route.get("groupBy", [])
    if not _strings(group_by) or len(set(group_by)) != len(group_by) or ("..." in group_by and len(group_by) > 1):
        found.append((f"{where}.groupBy", "unique label names ('...' only alone)"))
    for key in ("groupWait", "groupInterval", "repeatInterval"):
        if key in route and not (route[key] != "0" and prometheus_syntax.duration_ms(route[key]) is not None):
            found.append((f"{where}.{key}", f"`{key}` is a duration such as 5m"))
    if "continue" in route and not isinstance(route["continue"], bool):
        found.append((f"{where}.continue", "true or false"))
    found += _am_matchers(route.get("matchers", []), f"{where}.matchers")
    children = route.get("routes", [])
    if not isinstance(children, list):
        return found + [(f"{where}.routes", "a list of routes")]
    for i, child in enumerate(children):
        found += _am_route(child, f"{where}.routes[{i}]", receivers)
    return found


def _am_matchers(matchers, where: str) -> list[Problem]:
    if not isinstance(matchers, list):
        return [(where, "a list of matchers ({name, value, matchType})")]
    found = []
    for i, m in enumerate(matchers):
        at = f"{where}[{i}]"
        if not isinstance(m, dict):
            found.append((at, "a matcher is a mapping {name, value, matchType}, not a string"))
            continue
        found += [(f"{at}.{k}", f"unknown field {k!r}: name, value, matchType") for k in m
                  if k not in ("name", "value", "matchType", "regex")]
        if not isinstance(m.get("name"), str) or not m["name"]:
            found.append((f"{at}.name", "the label name (a non-empty string)"))
        if not isinstance(m.get("value", ""), str):
            found.append((f"{at}.value", "the value is a string"))
        if "matchType" in m and m["matchType"] not in AM_MATCH_TYPES:
            found.append((f"{at}.matchType", f"one of {' '.join(AM_MATCH_TYPES)}, got {m['matchType']!r}"))
    return found


def _strings(values) -> bool:
    return isinstance(values, list) and all(isinstance(v, str) and v for v in values)
