"""The inventory's optional `kubernetes:` block: where the manifests go and how Grafana takes dashboards.

```yaml
kubernetes:
  namespace: monitoring                            # of every generated object
  rule_labels: {release: kube-prometheus-stack}    # on PrometheusRules: what the Prometheus ruleSelector matches
  dashboards: both                                 # sidecar | operator | both
  sidecar: {label: grafana_dashboard, label_value: "1", folder_annotation: k8s-sidecar-target-directory}
  operator: {instance_selector: {dashboards: grafana}}    # matchLabels of the Grafana CRs; required for operator
```

`read()` runs inside the inventory checker (passed in), so problems are reported
like every other inventory error: file, line, key path, all at once.
"""
from __future__ import annotations

from dataclasses import dataclass

from generator.kubernetes import names

SIDECAR, OPERATOR = "sidecar", "operator"
DELIVERIES = {SIDECAR: (SIDECAR,), OPERATOR: (OPERATOR,), "both": (SIDECAR, OPERATOR)}
# kiwigrid k8s-sidecar's default when the Grafana chart leaves sidecar.dashboards.folderAnnotation unset
DEFAULT_FOLDER_ANNOTATION = "k8s-sidecar-target-directory"


@dataclass(frozen=True)
class Sidecar:
    label: str = "grafana_dashboard"  # the Grafana chart's sidecar.dashboards.label
    label_value: str = "1"  # its labelValue
    folder_annotation: str = DEFAULT_FOLDER_ANNOTATION


@dataclass(frozen=True)
class Kubernetes:
    namespace: str
    rule_labels: tuple[tuple[str, str], ...]
    deliveries: tuple[str, ...]  # sidecar and/or operator
    sidecar: Sidecar
    instance_selector: tuple[tuple[str, str], ...]  # grafana-operator spec.instanceSelector.matchLabels

    @property
    def sidecar_enabled(self) -> bool:
        return SIDECAR in self.deliveries

    @property
    def operator_enabled(self) -> bool:
        return OPERATOR in self.deliveries


def read(checker, doc) -> Kubernetes | None:
    """The block, checked with the inventory checker's helpers; None when absent."""
    if "kubernetes" not in doc:
        return None
    path = "kubernetes"
    block = checker.mapping(doc, "kubernetes", path, {"namespace": True, "rule_labels": False, "dashboards": False,
                                                      "sidecar": False, "operator": False})
    namespace = checker.attempt(checker.string, block, "namespace", f"{path}.namespace", names.DNS_LABEL,
                                "a Kubernetes namespace (RFC 1123 label: lower-case letters, digits and '-', "
                                "at most 63)")
    rule_labels: dict[str, str] = {}
    if "rule_labels" in block:
        rule_labels = checker.attempt(_labels, checker, block, "rule_labels", f"{path}.rule_labels") or {}
    delivery = "sidecar"
    if "dashboards" in block:
        delivery = checker.attempt(_choice, checker, block, "dashboards", f"{path}.dashboards") or delivery
    sidecar = Sidecar()
    if "sidecar" in block:
        sidecar = checker.attempt(_sidecar, checker, block, f"{path}.sidecar") or sidecar
    selector: dict[str, str] = {}
    if "operator" in block:
        operator = checker.attempt(checker.mapping, block, "operator", f"{path}.operator",
                                   {"instance_selector": True})
        if operator:
            selector = checker.attempt(_labels, checker, operator, "instance_selector",
                                       f"{path}.operator.instance_selector") or {}
    if OPERATOR in DELIVERIES[delivery] and not selector:
        checker.attempt(checker.fail, block, "dashboards" if "dashboards" in block else "namespace",
                        f"{path}.operator.instance_selector",
                        f"dashboards: {delivery} needs operator.instance_selector: the labels of the Grafana "
                        f"resources that take the dashboards (grafana-operator requires spec.instanceSelector)")
    if namespace is None:
        return None
    return Kubernetes(namespace, tuple(sorted(rule_labels.items())), DELIVERIES[delivery], sidecar,
                      tuple(sorted(selector.items())))


def _choice(checker, block, key, path) -> str:
    value = block[key]
    if value not in DELIVERIES:
        checker.fail(block, key, path, f"expected one of: {', '.join(DELIVERIES)}; got {value!r}")
    return value


def _sidecar(checker, block, path) -> Sidecar:
    node = checker.mapping(block, "sidecar", path, {"label": False, "label_value": False, "folder_annotation": False})
    values = {}
    for key in ("label", "folder_annotation"):
        if key in node:
            value = checker.string(node, key, f"{path}.{key}")
            problem = names.qualified_name_problem(value)
            if problem:
                checker.fail(node, key, f"{path}.{key}", problem)
            values[key] = value
    if "label_value" in node:
        problem = names.label_value_problem(node["label_value"])
        if problem:
            checker.fail(node, "label_value", f"{path}.label_value", problem)
        values["label_value"] = node["label_value"]
    return Sidecar(**values)


def _labels(checker, parent, key, path) -> dict[str, str]:
    value = parent[key]
    if not isinstance(value, dict) or not value:
        checker.fail(parent, key, path, "expected a mapping of Kubernetes label keys to values, e.g. "
                                        "{release: kube-prometheus-stack}")
    result = {}
    for name, label_value in value.items():
        problem = names.qualified_name_problem(name) or names.label_value_problem(label_value)
        if problem:
            checker.attempt(checker.fail, value, name, f"{path}.{name}", problem)
            continue
        result[name] = label_value
    return result
