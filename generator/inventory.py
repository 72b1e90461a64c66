"""The model inventory: the YAML users write, checked and resolved into `Inventory`.

Defaults apply to every model; a team's `slo` and `thresholds` override them and
a model's override both, key by key. Every problem is reported with the file,
the line and the key path (`models[3].slo.ttft.objective`), all at once.
"""
from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import NoReturn

from generator import located_yaml
from generator import prometheus_syntax as prom
from generator.capabilities import Capabilities
from generator.catalog import ENGINES, EXPORTERS, every_named_engine
from generator.catalog.dcgm import node_label as dcgm_node_label
from generator.errors import InventoryError, InventoryErrors
from generator.kubernetes import config as kubernetes_config
from generator.promql import regex_escape
from generator.rules.alert_table import NAMES as ALERT_NAMES
from generator.slo_buckets import LATENCY_SLOS, OPTIONAL_SLOS, off_bucket_thresholds
from generator.versions import Version

WINDOW = re.compile(r"^[1-9][0-9]*[mhd]$")  # one unit: it names recorded series (ratio_rate1d)
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$")
OWNER = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
MAX_REPLICAS = 1000  # per model; each replica is a pod in the generated tests and the simulator
MAX_GPUS_PER_REPLICA = 64
MAX_TEXT = 1000  # characters in any string value
MINIMUM_THRESHOLDS = {"cold_start_seconds": Decimal(1)}  # kube-state-metrics times pod start in whole seconds
# Labels the generator writes itself: on alerts, on recorded series, or as its own matchers.
ALERT_LABELS = ("model", "alertname", "severity", "long", "short", "slo", "quantile", "le")
THRESHOLDS = {
    "kv_cache_usage": "fraction of the KV cache in use (0-1)",
    "queue_depth": "requests waiting",
    "gpu_utilization": "GPU utilisation (0-1)",
    "gpu_memory_usage": "fraction of GPU memory used (0-1)",
    "cold_start_seconds": "seconds from pod creation to ready",
    "min_request_rate": "requests per second below which latency and error alerts stay silent",
    "preemptions_per_second": "scheduler preemptions per second",
}
FRACTION_THRESHOLDS = ("kv_cache_usage", "gpu_utilization", "gpu_memory_usage")
BUILTIN_THRESHOLDS = {"min_request_rate": Decimal("0.1"), "preemptions_per_second": Decimal("0.5")}
MAX_RULES_PER_GROUP = 20  # Mimir's and Cortex's ruler default (ruler.max-rules-per-rule-group)


@dataclass(frozen=True)
class LatencySlo:
    threshold_seconds: Decimal
    objective: Decimal
    # Key path the threshold came from, for error messages: where a value was said, not part of it (models
    # alike in their SLOs compare equal, and share a promtool test file, whichever layer each inherits from).
    origin: str = field(compare=False, repr=False)


@dataclass(frozen=True)
class Slos:
    ttft: LatencySlo
    itl: LatencySlo
    e2e: LatencySlo
    availability: Decimal
    tpot: LatencySlo | None = None  # optional: applies only where the engine version exposes per-request TPOT

    def latency(self, name: str) -> LatencySlo | None:
        return getattr(self, name)


@dataclass(frozen=True)
class Team:
    name: str
    folder: str
    labels: tuple[tuple[str, str], ...]  # routing labels added to this team's alerts


SEVERITIES = ("critical", "warning", "info")
ALERT_KEYS = {"enabled": "true or false", "severity": "critical, warning or info",
              "for": "a Prometheus duration", "keep_firing_for": "a Prometheus duration",
              "labels": "a mapping of label names to values"}


@dataclass(frozen=True)
class AlertOptions:
    """An alert's settings for one model, merged key by key from defaults, team and model."""

    enabled: bool = True
    severity: str | None = None  # replaces the generated severity (every tier of a burn alert)
    for_: str | None = None
    keep_firing_for: str | None = None
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class BurnTier:
    """One burn-rate tier: both windows must burn faster than `factor` times the error budget."""

    severity: str
    long: str
    short: str
    factor: Decimal
    for_: str


# The Google SRE workbook's table for a 30-day SLO (as sloth's google-30d windows encode it):
# page on 2% of the budget in 1h and 5% in 6h, ticket on 10% in 1 day and 10% in 3 days.
DEFAULT_TIERS = (
    BurnTier("critical", "1h", "5m", Decimal("14.4"), "2m"),
    BurnTier("critical", "6h", "30m", Decimal("6"), "15m"),
    BurnTier("warning", "1d", "2h", Decimal("3"), "30m"),
    BurnTier("warning", "3d", "6h", Decimal("1"), "1h"),
)


@dataclass(frozen=True)
class SloPolicy:
    period: str = "30d"
    tiers: tuple[BurnTier, ...] = DEFAULT_TIERS
    budget_interval: str = "5m"  # how often the error budget over the period is recorded
    window_interval: str = "1m"  # how often the derived SLO windows from conventions.SLOW_WINDOW up are recorded


@dataclass(frozen=True)
class Collectors:
    """How the shared exporters are scraped: their job names, and which labels carry the workload on DCGM series."""

    kube_state_metrics_job: str = "kube-state-metrics"
    dcgm_job: str = "dcgm-exporter"
    dcgm_namespace_label: str = "namespace"  # `exported_namespace` when scraped with honorLabels: false
    dcgm_pod_label: str = "pod"  # `exported_pod` likewise
    dcgm_node_label: str = ""  # empty: the dcgm-exporter version's own (`Hostname`, later `hostname`)


COLLECTOR_KEYS = {
    "kube_state_metrics": {"job": "kube_state_metrics_job"},
    "dcgm": {"job": "dcgm_job", "namespace_label": "dcgm_namespace_label", "pod_label": "dcgm_pod_label",
             "node_label": "dcgm_node_label"},
}


@dataclass(frozen=True)
class Model:
    name: str
    served_name: str
    engine: str
    engine_version: Version
    team: Team
    namespace: str
    pod_regex: str
    backend_model: str | None
    gpu_type: str
    gpus_per_replica: int
    replicas_min: int
    replicas_max: int
    selector: tuple[tuple[str, str], ...]  # labels every query matches
    slo: Slos
    thresholds: dict[str, Decimal]
    alerts: dict[str, AlertOptions]  # alert name -> its overrides
    buckets: dict[str, tuple[Decimal, ...]]  # declared histogram bounds, seconds
    path: str  # models[i]
    container: str = ""  # the engine container's name in the model's pods
    image_pattern: str = ""  # its image reference, `{version}` where the version stands
    severity_labels: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)  # severity -> labels
    metric_naming: str = ""  # which of the engine's namings its deployment exposes ("" where it has none)
    # Where engine series carry the pod: `target` (a per-pod scrape target's namespace and pod) or
    # `resource_attributes` (pushed telemetry, its Kubernetes resource attributes promoted to labels).
    kubernetes_labels: str = "target"

    @property
    def pushed(self) -> bool:
        """Its engine series are pushed (OTLP): no per-pod scrape target, no `up` to read."""
        return self.kubernetes_labels == "resource_attributes"

    @property
    def alert_for(self) -> dict[str, str]:
        return {name: o.for_ for name, o in self.alerts.items() if o.for_}

    def alert_enabled(self, name: str) -> bool:
        return self.alerts.get(name, AlertOptions()).enabled


CLUSTER_LABEL_PLACES = ("series", "external")


@dataclass(frozen=True)
class MultiCluster:
    """One model entry serves the model in every cluster: the rules keep `label` apart instead of pinning a value.

    `where` says where the label is: `series` (scraped series carry it; rules evaluated centrally) or
    `external` (only a Prometheus external label: rules evaluated in each cluster's Prometheus, where local
    series lack it, or centrally after remote write, where the series carry it). The rules are the same
    for both and correct either way; `where` decides whether the generated tests' input series carry it and
    how alert descriptions read the cluster.
    """

    label: str = "cluster"
    where: str = "series"


@dataclass(frozen=True)
class Inventory:
    file: str
    grafana_url: str
    runbook_base_url: str
    exporters: dict[str, Version]
    teams: tuple[Team, ...]
    models: tuple[Model, ...]
    collectors: Collectors = Collectors()
    slo_policy: SloPolicy = SloPolicy()
    kubernetes: kubernetes_config.Kubernetes | None = None  # manifests are generated only with this block
    max_rules_per_group: int = MAX_RULES_PER_GROUP
    owner: str = ""  # who publishes: `owner` from the inventory, or derived from runbook_base_url
    multi_cluster: MultiCluster | None = None  # one entry per model across clusters, kept apart by a label
    gpu_hour_prices: tuple[tuple[str, Decimal], ...] = ()  # `cost.gpu_hour`: GPU type -> price of one GPU-hour

    def gpu_hour_price(self, gpu_type: str) -> Decimal | None:
        return dict(self.gpu_hour_prices).get(gpu_type)

    def digest(self) -> str:
        """SHA-256 of everything the inventory says, resolved; not its comments, layout or file name.

        `generate` records it in the output manifest, so `publish` can tell output generated from this
        inventory from output of an earlier version of it.
        """
        return hashlib.sha256(repr(replace(self, file="")).encode()).hexdigest()


def load(path: str | Path) -> Inventory:
    return parse(located_yaml.read(path, "inventory"), str(path))


def parse(text: str, file: str) -> Inventory:
    return parse_with_lines(text, file)[0]


def parse_with_lines(text: str, file: str, *, check_buckets: bool = True) -> tuple[Inventory, dict[str, int | None]]:
    """The inventory and the line of each merged value's key path.

    `check_buckets=False` leaves SLO thresholds between bucket bounds to the
    caller (`validate` reports them as findings of its own check).
    """
    duplicates: list[InventoryError] = []
    data = located_yaml.load(text, file, duplicates)
    checker = _Checker(file, check_buckets)
    inventory = checker.inventory(data)
    if duplicates or checker.errors:
        raise InventoryErrors(duplicates + checker.errors)
    assert inventory is not None  # the checker gives none only after recording why
    return inventory, checker.lines


class _Invalid(Exception):
    """Raised inside the checker once an error is recorded for a value that cannot be used."""


class _Checker:
    def __init__(self, file: str, check_buckets: bool = True):
        self.file = file
        self.check_buckets = check_buckets
        self.errors: list[InventoryError] = []
        self.lines: dict[str, int | None] = {}  # key path -> line, for values checked after merging
        self.multi_cluster: MultiCluster | None = None

    # -- reporting -------------------------------------------------------

    def fail(self, parent, key, path: str, message: str) -> NoReturn:
        line = None
        if isinstance(parent, dict):
            line = getattr(parent, "key_lines", {}).get(key) or getattr(parent, "line", None)
        elif isinstance(parent, list):
            lines = getattr(parent, "item_lines", [])
            line = lines[key] if isinstance(key, int) and key < len(lines) else getattr(parent, "line", None)
        self.errors.append(InventoryError(self.file, line, path, message))
        raise _Invalid()

    def attempt(self, fn, *args, default=None):
        try:
            return fn(*args)
        except _Invalid:
            return default

    # -- shapes ----------------------------------------------------------

    def mapping(self, parent, key, path, allowed: dict[str, bool]):
        """A mapping with known keys; allowed maps key -> required."""
        value = parent[key] if parent is not None else None
        if not isinstance(value, dict):
            self.fail(parent, key, path, f"expected a mapping, got {_kind(value)}")
        for k in value:
            if k not in allowed:
                self.attempt(self.fail, value, k, _join(path, k), _unknown(k, allowed))
        missing = [k for k, required in allowed.items() if required and k not in value]
        for k in missing:
            self.attempt(self.fail, parent, key, path, f"missing required key {k!r}")
        if missing:
            raise _Invalid()
        return value

    def string(self, parent, key, path, pattern: re.Pattern | None = None, what: str = "") -> str:
        value = parent[key]
        if not isinstance(value, str) or not value:
            self.fail(parent, key, path, f"expected a non-empty string, got {_kind(value)}")
        problem = prom.text_problem(value)
        if problem:
            self.fail(parent, key, path, problem)
        if len(value) > MAX_TEXT:
            self.fail(parent, key, path, f"longer than the limit of {MAX_TEXT} characters")
        if pattern is not None and not pattern.match(value):
            self.fail(parent, key, path, f"{value!r} is not {what}")
        return value

    def number(self, parent, key, path) -> Decimal:
        value = parent[key]
        problem = prom.number_problem(value)
        if problem:
            self.fail(parent, key, path, problem)
        return Decimal(str(value))

    def positive(self, parent, key, path) -> Decimal:
        value = self.number(parent, key, path)
        if value <= 0:
            self.fail(parent, key, path, f"must be greater than 0, got {value}")
        return value

    def fraction(self, parent, key, path) -> Decimal:
        value = self.positive(parent, key, path)
        if value > 1:
            self.fail(parent, key, path, f"a fraction between 0 and 1 (0.9 = 90%), got {value}")
        return value

    def objective(self, parent, key, path) -> Decimal:
        value = self.number(parent, key, path)
        if not 0 < value < 1:
            self.fail(parent, key, path, f"an objective is a fraction strictly between 0 and 1 (0.995 = 99.5%), "
                                         f"got {value}")
        return value

    def integer(self, parent, key, path, minimum: int, maximum: int) -> int:
        value = parent[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(parent, key, path, f"expected a whole number, got {_kind(value)}")
        if value < minimum:
            self.fail(parent, key, path, f"must be at least {minimum}, got {value}")
        if value > maximum:
            self.fail(parent, key, path, f"must be at most {maximum} (the limit), got {value}")
        return value

    def version(self, parent, key, path) -> Version:
        value = parent[key]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.fail(parent, key, path, "write the version as a quoted string: YAML reads an unquoted "
                                         f"version as the number {value} (0.10 becomes 0.1)")
        if not isinstance(value, str):
            self.fail(parent, key, path, f"expected a version string, got {_kind(value)}")
        try:
            return Version.parse(value)
        except ValueError as exc:
            self.fail(parent, key, path, f"unparseable version: {exc}")

    def routing_labels(self, parent, key, path) -> dict[str, str]:
        return self.labels(parent, key, path, alert=True)

    def labels(self, parent, key, path, *, alert: bool) -> dict[str, str]:
        """Selector labels (`alert=False`: matched by every query) or a team's routing labels (added to alerts)."""
        value = parent[key]
        if not isinstance(value, dict):
            self.fail(parent, key, path, f"expected a mapping of label names to values, got {_kind(value)}")
        reserved = ALERT_LABELS if alert else (*ALERT_LABELS, *_matcher_labels())
        result = {}
        for name, label_value in value.items():
            problem = prom.label_name_problem(name)
            if problem is None and name in reserved:
                problem = f"label {name!r} is set by the generator and cannot be configured"
                if name == "namespace":
                    problem += " (the model's `namespace` key sets it)"
            if problem is None:
                problem = prom.label_value_problem(label_value, alert_label=alert)
            if problem:
                self.attempt(self.fail, value, name, _join(path, name), problem)
                continue
            result[name] = label_value
        return result

    # -- sections --------------------------------------------------------

    def inventory(self, data) -> Inventory | None:
        root = {"<root>": data}
        doc = self.attempt(self.mapping, root, "<root>", "", {
            "version": True, "grafana_url": True, "runbook_base_url": True, "owner": False, "exporters": False,
            "collectors": False, "slo_policy": False, "defaults": True, "teams": True, "models": True,
            "kubernetes": False, "ruler": False, "multi_cluster": False, "cost": False})
        if doc is None:
            return None
        if "version" in doc and doc["version"] != 1:
            self.attempt(self.fail, doc, "version", "version",
                         f"unsupported inventory version {doc['version']!r}; this generator reads version: 1")
            return None
        grafana_url = self.attempt(self._url, doc, "grafana_url")
        runbook_base_url = self.attempt(self._url, doc, "runbook_base_url")
        owner = (self.attempt(self.string, doc, "owner", "owner", OWNER, "an owner id: lower-case letters, digits "
                                                                     "and '-', at most 32 characters")
                 if "owner" in doc else None)
        exporters = self.attempt(self._exporters, doc) or {}
        self.multi_cluster = self.attempt(self._multi_cluster, doc)
        collectors = self.attempt(self._collectors, doc) or Collectors()
        policy = self.attempt(self._slo_policy, doc) or SloPolicy()
        defaults = self.attempt(self.mapping, doc, "defaults", "defaults",
                                {"labels": False, "slo": True, "thresholds": True, "alerts": False,
                                 "severity_labels": False}) or {}
        if defaults:
            self._refuse_static_cluster(defaults, "labels", "defaults.labels")
            self.attempt(self._slos, [(defaults, "defaults")])
            self.attempt(self._thresholds, [(defaults, "defaults")])
        teams = self.attempt(self._teams, doc) or {}
        models = self.attempt(self._models, doc, defaults, teams) or []
        kubernetes = self.attempt(kubernetes_config.read, self, doc)
        max_rules = self.attempt(self._max_rules_per_group, doc) or MAX_RULES_PER_GROUP
        prices = self.attempt(self._cost, doc, models) or ()
        if self.errors:
            unique = {str(e): e for e in self.errors}  # defaults are checked once alone, then per model
            self.errors = list(unique.values())
            return None
        if not collectors.dcgm_node_label:
            collectors = replace(collectors, dcgm_node_label=dcgm_node_label(exporters["dcgm"]))
        return Inventory(self.file, grafana_url.rstrip("/"), runbook_base_url.rstrip("/"), exporters,
                         tuple(team for team, _ in teams.values()), tuple(models), collectors, policy,
                         kubernetes, max_rules, owner or derived_owner(runbook_base_url), self.multi_cluster,
                         prices)

    def _multi_cluster(self, doc) -> MultiCluster | None:
        """`multi_cluster: {label: cluster, where: series | external}`."""
        if "multi_cluster" not in doc:
            return None
        section = self.mapping(doc, "multi_cluster", "multi_cluster", {"label": False, "where": False})
        result = MultiCluster()
        if "label" in section:
            label = self.string(section, "label", "multi_cluster.label")
            problem = prom.label_name_problem(label)
            if problem is None and label in (*ALERT_LABELS, *_matcher_labels(), "namespace", "pod", "team"):
                problem = f"label {label!r} is set by the generator or the engines; name the label your clusters use"
            if problem:
                self.fail(section, "label", "multi_cluster.label", problem)
            result = replace(result, label=label)
        if "where" in section:
            where = self.string(section, "where", "multi_cluster.where")
            if where not in CLUSTER_LABEL_PLACES:
                self.fail(section, "where", "multi_cluster.where",
                          f"expected one of {', '.join(CLUSTER_LABEL_PLACES)} (on the scraped series, or only a "
                          f"Prometheus external label), got {where!r}")
            result = replace(result, where=where)
        return result

    def _refuse_static_cluster(self, parent, key, path):
        """In multi-cluster mode the cluster label is never pinned: one entry serves every cluster."""
        mc = self.multi_cluster
        labels = parent.get(key) if isinstance(parent, dict) else None
        if mc is None or not isinstance(labels, dict) or mc.label not in labels:
            return
        self.attempt(self.fail, labels, mc.label, _join(path, mc.label),
                     f"multi_cluster is on: the rules keep every {mc.label!r} apart (by ({mc.label})), so a static "
                     f"{mc.label}: {labels[mc.label]!r} here would pin one cluster; remove it (or drop multi_cluster)")

    def _cost(self, doc, models) -> tuple[tuple[str, Decimal], ...]:
        """`cost: {gpu_hour: {<gpu.type>: <price>}}`: what one GPU-hour of each type costs (any currency)."""
        if "cost" not in doc:
            return ()
        # A model with errors is left out of `models`: its GPU type is then unknown here, not unused.
        every_model_read = not self.errors
        cost = self.mapping(doc, "cost", "cost", {"gpu_hour": True})
        given = cost["gpu_hour"] if isinstance(cost["gpu_hour"], dict) else {}
        prices = self.mapping(cost, "gpu_hour", "cost.gpu_hour", dict.fromkeys(given, False))
        used = sorted({m.gpu_type for m in models})
        result = []
        for gpu_type in prices:
            where = f"cost.gpu_hour.{gpu_type}"
            if gpu_type not in used and every_model_read:
                self.attempt(self.fail, prices, gpu_type, where,
                             f"no model runs GPU type {gpu_type!r} (gpu.type of the models: {', '.join(used)})")
                continue
            price = self.attempt(self.positive, prices, gpu_type, where)
            if price is not None:
                result.append((gpu_type, price))
        return tuple(sorted(result))

    def _max_rules_per_group(self, doc) -> int | None:
        """`ruler: {max_rules_per_group: 20}`: rule groups are split to stay within the ruler's limit."""
        if "ruler" not in doc:
            return None
        ruler = self.mapping(doc, "ruler", "ruler", {"max_rules_per_group": False})
        if "max_rules_per_group" not in ruler:
            return None
        return self.integer(ruler, "max_rules_per_group", "ruler.max_rules_per_group", 1, 10_000)

    def _url(self, doc, key) -> str:
        if key not in doc:
            raise _Invalid()
        value = self.string(doc, key, key)
        problem = prom.url_problem(value)
        if problem:
            self.fail(doc, key, key, problem)
        return value

    def _exporters(self, doc) -> dict[str, Version]:
        result = {name: e.default_version for name, e in EXPORTERS.items()}
        if "exporters" not in doc:
            return result
        section = self.mapping(doc, "exporters", "exporters", {n: False for n in EXPORTERS})
        for name in section:
            if name not in EXPORTERS:
                continue
            version = self.attempt(self.version, section, name, f"exporters.{name}")
            if version is None:
                continue
            if version < EXPORTERS[name].oldest:
                self.attempt(self.fail, section, name, f"exporters.{name}",
                             f"{EXPORTERS[name].title} {version} is older than the oldest supported, "
                             f"{EXPORTERS[name].oldest}")
                continue
            result[name] = version
        return result

    def _collectors(self, doc) -> Collectors:
        if "collectors" not in doc:
            return Collectors()
        section = self.mapping(doc, "collectors", "collectors", {n: False for n in COLLECTOR_KEYS})
        fields = {}
        for name, keys in COLLECTOR_KEYS.items():
            if name not in section:
                continue
            node = self.attempt(self.mapping, section, name, f"collectors.{name}", {k: False for k in keys})
            for key, attribute in keys.items():
                if node is None or key not in node:
                    continue
                where = f"collectors.{name}.{key}"
                if key == "job":
                    value = self.attempt(self.string, node, key, where)
                else:
                    value = self.attempt(self.string, node, key, where, prom.LABEL_NAME,
                                         "a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)")
                if value is not None:
                    fields[attribute] = value
        return Collectors(**fields)

    def _container(self, m, path, engine) -> tuple[str, str]:
        """The engine container's name and image pattern: the model's `container:`, else the engine's defaults."""
        if "container" not in m:
            return engine.container, engine.image_pattern
        node = self.mapping(m, "container", path, {"name": False, "image_pattern": False})
        name = self.string(node, "name", f"{path}.name") if "name" in node else engine.container
        pattern = engine.image_pattern
        if "image_pattern" in node:
            pattern = self.string(node, "image_pattern", f"{path}.image_pattern")
            if pattern.count("{version}") != 1 or "{" in pattern.replace("{version}", ""):
                self.fail(node, "image_pattern", f"{path}.image_pattern",
                          "expected a regular expression with `{version}` once where the version stands, "
                          f"e.g. {engine.image_pattern!r}")
            try:
                re.compile(pattern.replace("{version}", "0.1"))
            except re.error as exc:
                self.fail(node, "image_pattern", f"{path}.image_pattern", f"not a valid regular expression: {exc}")
            if "(" in pattern.replace("(?:", ""):
                self.fail(node, "image_pattern", f"{path}.image_pattern",
                          "use non-capturing groups (?:...) only: the version is the one captured group")
        return name, pattern

    def _teams(self, doc) -> dict[str, tuple[Team, dict]]:
        section = doc.get("teams")
        if not isinstance(section, dict) or not section:
            self.fail(doc, "teams", "teams", "expected a mapping with at least one team")
        teams = {}
        for name in section:
            path = f"teams.{name}"
            if not SLUG.match(str(name)):
                self.attempt(self.fail, section, name, path,
                             "team names are lower-case letters, digits and '-' (at most 48)")
                continue
            team = self.attempt(self.mapping, section, name, path,
                                {"folder": True, "labels": False, "slo": False, "thresholds": False,
                                 "alerts": False, "severity_labels": False})
            if team is None:
                continue
            folder = self.attempt(self.string, team, "folder", f"{path}.folder") if "folder" in team else None
            labels = (self.attempt(self.routing_labels, team, "labels", f"{path}.labels")
                      if "labels" in team else {})
            self._refuse_static_cluster(team, "labels", f"{path}.labels")
            teams[name] = (Team(name, folder or name, tuple(sorted((labels or {}).items()))), team)
        return teams

    def _metric_naming(self, m, path, engine) -> str:
        """Which of the engine's metric namings the model's deployment exposes: its `metric_naming`, else the
        engine's default; "" for an engine whose names do not vary."""
        if "metric_naming" not in m:
            return engine.default_naming
        value = self.string(m, "metric_naming", path)
        if not engine.namings:
            varied = [e.name for e in ENGINES.values() if e.namings]
            self.fail(m, "metric_naming", path, f"{engine.title} exposes one naming; metric_naming is only for "
                                                f"engine {' or '.join(varied)}")
        if value not in engine.namings:
            self.fail(m, "metric_naming", path, f"{value!r} is not a {engine.title} naming; expected one of "
                                                f"{', '.join(repr(n) for n in engine.namings)}")
        return value

    def _kubernetes_labels(self, m, path, engine) -> str:
        """`target` (default) or, for a source whose series may carry Kubernetes resource attributes instead,
        `resource_attributes`."""
        if "kubernetes_labels" not in m:
            return "target"
        value = self.string(m, "kubernetes_labels", path)
        allowed = ("target", "resource_attributes") if engine.workload_attributes else ("target",)
        if value not in allowed:
            with_attributes = [e.name for e in ENGINES.values() if e.workload_attributes]
            why = "" if engine.workload_attributes else (f" ({engine.title} is scraped per pod; resource_attributes "
                                                         f"is only for {' or '.join(with_attributes)})")
            self.fail(m, "kubernetes_labels", path, f"{value!r} is not allowed; expected one of "
                                                    f"{', '.join(repr(a) for a in allowed)}{why}")
        return value

    def _models(self, doc, defaults, teams) -> list[Model]:
        section = doc.get("models")
        if not isinstance(section, list) or not section:
            self.fail(doc, "models", "models", "expected a list with at least one model")
        models: list[Model] = []
        seen: dict[str, str] = {}  # model name -> the path that first named it
        for i in range(len(section)):
            path = f"models[{i}]"
            model = self.attempt(self._model, section, i, path, defaults, teams)
            if model is None:
                continue
            if model.name in seen:
                self.attempt(self.fail, section, i, f"{path}.name",
                             f"duplicate model name {model.name!r} (also {seen[model.name]})")
                continue
            seen[model.name] = path
            models.append(model)
        return models

    def _model(self, section, i, path, defaults, teams) -> Model:
        m = self.mapping(section, i, path, {
            "name": True, "served_name": True, "engine": True, "engine_version": True, "team": True,
            "namespace": True, "pod_regex": False, "backend_model": False, "gpu": True, "replicas": True,
            "labels": False, "slo": False, "thresholds": False, "buckets": False, "alerts": False,
            "container": False, "severity_labels": False, "metric_naming": False,
            "kubernetes_labels": False})
        name = self.string(m, "name", f"{path}.name", SLUG,
                           "a slug: lower-case letters, digits and '-', at most 48 characters")
        served_name = self.string(m, "served_name", f"{path}.served_name")
        engine_name = self.string(m, "engine", f"{path}.engine")
        if engine_name not in ENGINES:
            self.fail(m, "engine", f"{path}.engine", _unknown(engine_name, ENGINES, "engine"))
        engine = ENGINES[engine_name]
        version = self.version(m, "engine_version", f"{path}.engine_version")
        if version < engine.oldest:
            self.fail(m, "engine_version", f"{path}.engine_version",
                      f"{engine.title} {version} is older than the oldest version the catalog covers, {engine.oldest}")
        if engine.lowercases_model and served_name != served_name.lower():
            self.attempt(self.fail, m, "served_name", f"{path}.served_name",
                         f"{engine.title} lower-cases the {engine.model_label} label before it exports a metric, "
                         f"so {served_name!r} appears as {served_name.lower()!r}: write served_name as "
                         f"{served_name.lower()!r}")
        team_name = self.string(m, "team", f"{path}.team")
        if team_name not in teams:
            self.fail(m, "team", f"{path}.team", _unknown(team_name, teams, "team"))
        team, team_doc = teams[team_name]
        namespace = self.string(m, "namespace", f"{path}.namespace")
        pod_regex = (self.string(m, "pod_regex", f"{path}.pod_regex") if "pod_regex" in m
                     else f"{regex_escape(name)}-.*")
        if "pod_regex" in m:
            self._check_regex(m, "pod_regex", f"{path}.pod_regex")
        backend_model = None
        if engine.backend_model is not None:
            backend_model = (self.string(m, "backend_model", f"{path}.backend_model")
                             if "backend_model" in m else engine.backend_model)
        elif "backend_model" in m:
            with_backend = [e.name for e in ENGINES.values() if e.backend_model is not None]
            self.fail(m, "backend_model", f"{path}.backend_model",
                      f"{engine.title} serves no backend model behind the served one; backend_model is only for "
                      f"engine {' or '.join(with_backend)}")
        gpu = self.mapping(m, "gpu", f"{path}.gpu", {"type": True, "per_replica": True})
        gpu_type = self.string(gpu, "type", f"{path}.gpu.type")
        per_replica = self.integer(gpu, "per_replica", f"{path}.gpu.per_replica", 1, MAX_GPUS_PER_REPLICA)
        replicas = self.mapping(m, "replicas", f"{path}.replicas", {"min": True, "max": True})
        rmin = self.integer(replicas, "min", f"{path}.replicas.min", 0, MAX_REPLICAS)
        rmax = self.integer(replicas, "max", f"{path}.replicas.max", 1, MAX_REPLICAS)
        if rmax < rmin:
            self.fail(replicas, "max", f"{path}.replicas.max", f"max ({rmax}) is below min ({rmin})")
        selector = {}
        if "labels" in defaults:
            selector.update(self.labels(defaults, "labels", "defaults.labels", alert=False))
        if "labels" in m:
            self._refuse_static_cluster(m, "labels", f"{path}.labels")
            selector.update(self.labels(m, "labels", f"{path}.labels", alert=False))
        layers = [(defaults, "defaults"), (team_doc, f"teams.{team_name}"), (m, path)]
        slo = self._slos(layers)
        thresholds = self._thresholds(layers)
        alert_options = self._alert_options(layers)
        severity_labels = self._severity_labels(layers)
        buckets = self._buckets(m, f"{path}.buckets") if "buckets" in m else {}
        container, image_pattern = self._container(m, f"{path}.container", engine)
        naming = self._metric_naming(m, f"{path}.metric_naming", engine)
        kubernetes_labels = self._kubernetes_labels(m, f"{path}.kubernetes_labels", engine)
        model = Model(name, served_name, engine_name, version, team, namespace, pod_regex, backend_model,
                      gpu_type, per_replica, rmin, rmax, tuple(sorted(selector.items())), slo, thresholds,
                      alert_options, buckets, path, container, image_pattern, severity_labels, naming,
                      kubernetes_labels)
        self._check_slo_signals(model, m, path)
        if self.check_buckets:
            self._check_slo_buckets(model)
        return model

    def _check_slo_signals(self, model: Model, m, path: str):
        """A model that sets a latency SLO itself must run an engine version that measures it (TPOT on vLLM
        before 0.11, TTFT on TGI); one inherited from defaults or its team applies only where the version
        does."""
        queries = Capabilities(model)
        slo = m.get("slo")
        for name in LATENCY_SLOS:
            if not isinstance(slo, dict) or name not in slo or queries.has(name):
                continue
            self.attempt(self.fail, slo, name, f"{path}.slo.{name}",
                         f"{queries.engine.title} {model.engine_version} cannot measure a {name} SLO: "
                         f"{queries.why_not(name)} Remove {path}.slo.{name} or raise engine_version")

    def _check_slo_buckets(self, model: Model):
        for off in off_bucket_thresholds(model):
            self.attempt(self._fail_at, off.origin, off.message)

    def _fail_at(self, path: str, message: str):
        self.errors.append(InventoryError(self.file, self.lines.get(path), path, message))
        raise _Invalid()

    def _check_regex(self, parent, key, path):
        problem = prom.regex_problem(parent[key])
        if problem:
            self.fail(parent, key, path, problem)

    def _layered(self, layers, section: str, key: str, field: str | None, read):
        """The value of section.key.field from the most specific layer that sets it."""
        found = None
        for doc, path in layers:
            node = doc.get(section)
            if node is None:
                continue
            if not isinstance(node, dict):
                self.fail(doc, section, f"{path}.{section}", f"expected a mapping, got {_kind(node)}")
            if key not in node:
                continue
            item = node[key]
            item_path = f"{path}.{section}.{key}"
            if field is None:
                found = (read(node, key, item_path), item_path)
                continue
            if not isinstance(item, dict):
                self.fail(node, key, item_path, f"expected a mapping, got {_kind(item)}")
            if field in item:
                found = (read(item, field, f"{item_path}.{field}"), f"{item_path}.{field}")
                self.lines[f"{item_path}.{field}"] = item.key_lines.get(field) if hasattr(item, "key_lines") else None
        return found

    def _slos(self, layers) -> Slos:
        for doc, path in layers:
            slo = doc.get("slo")
            if isinstance(slo, dict):
                for name in slo:
                    if name not in (*LATENCY_SLOS, "availability"):
                        self.attempt(self.fail, slo, name, f"{path}.slo.{name}",
                                     _unknown(name, (*LATENCY_SLOS, "availability"), "SLO"))
                    elif isinstance(slo[name], dict):
                        allowed = ("objective",) if name == "availability" else ("threshold_seconds", "objective")
                        for k in slo[name]:
                            if k not in allowed:
                                self.attempt(self.fail, slo[name], k, f"{path}.slo.{name}.{k}", _unknown(k, allowed))
        latency: dict[str, LatencySlo] = {}  # an optional SLO no layer sets is left out: Slos has it None
        for name in LATENCY_SLOS:
            threshold = self._layered(layers, "slo", name, "threshold_seconds", self.positive)
            objective = self._layered(layers, "slo", name, "objective", self.objective)
            if name in OPTIONAL_SLOS and threshold is None and objective is None:
                continue
            if name in OPTIONAL_SLOS and (threshold is None or objective is None):
                found, missing = (objective, "threshold_seconds") if threshold is None else (threshold, "objective")
                self.errors.append(InventoryError(
                    self.file, self.lines.get(found[1]), found[1].rsplit(".", 1)[0] + f".{missing}",
                    f"missing: the {name} SLO needs both threshold_seconds and objective ({found[1]} is set, "
                    f"but no layer sets {missing})"))
                raise _Invalid()
            if threshold is None or objective is None:
                missing = "threshold_seconds" if threshold is None else "objective"
                self.fail(layers[0][0], "slo", f"defaults.slo.{name}.{missing}", "missing: every model needs it")
            latency[name] = LatencySlo(threshold[0], objective[0], threshold[1])
        availability = self._layered(layers, "slo", "availability", "objective", self.objective)
        if availability is None:
            self.fail(layers[0][0], "slo", "defaults.slo.availability.objective", "missing: every model needs it")
        return Slos(availability=availability[0], **latency)

    def _alert_options(self, layers) -> dict[str, AlertOptions]:
        """`alerts: {LLMKVCacheNearFull: {for: 5m, severity: info, labels: {...}}}`, merged key by key."""
        merged: dict[str, dict] = {}
        for doc, path in layers:
            node = doc.get("alerts")
            if node is None:
                continue
            if not isinstance(node, dict):
                self.fail(doc, "alerts", f"{path}.alerts", f"expected a mapping of alert names, got {_kind(node)}")
            for name, options in node.items():
                where = f"{path}.alerts.{name}"
                if name not in ALERT_NAMES:
                    self.attempt(self.fail, node, name, where, _unknown(name, ALERT_NAMES, "alert"))
                    continue
                if not isinstance(options, dict) or not options:
                    self.attempt(self.fail, node, name, where,
                                 f"expected a mapping of {', '.join(ALERT_KEYS)}, e.g. {{for: 5m}}")
                    continue
                into = merged.setdefault(name, {})
                for key, value in options.items():
                    self.attempt(self._alert_option, options, key, f"{where}.{key}", value, into)
        return {name: AlertOptions(**{("for_" if k == "for" else k): v for k, v in o.items()})
                for name, o in merged.items()}

    def _alert_option(self, options, key, where, value, into: dict):
        if key not in ALERT_KEYS:
            self.fail(options, key, where, _unknown(key, ALERT_KEYS))
        if key == "enabled" and not isinstance(value, bool):
            self.fail(options, key, where, f"expected true or false, got {_kind(value)}")
        if key == "severity" and value not in SEVERITIES:
            self.fail(options, key, where, f"expected one of {', '.join(SEVERITIES)}, got {_kind(value)}")
        if key in ("for", "keep_firing_for"):
            problem = prom.duration_problem(value, positive=key == "for")
            if problem:
                self.fail(options, key, where, problem)
        if key == "labels":
            labels = dict(into.get("labels", ()))
            labels.update(self.routing_labels(options, key, where))
            value = tuple(sorted(labels.items()))
        into[key] = value

    def _severity_labels(self, layers) -> dict[str, tuple[tuple[str, str], ...]]:
        """`severity_labels: {critical: {pager: oncall}}`: routing labels added to alerts of that severity."""
        merged: dict[str, dict[str, str]] = {}
        for doc, path in layers:
            node = doc.get("severity_labels")
            if node is None:
                continue
            if not isinstance(node, dict):
                self.fail(doc, "severity_labels", f"{path}.severity_labels",
                          f"expected a mapping of severities to labels, got {_kind(node)}")
            for severity in node:
                where = f"{path}.severity_labels.{severity}"
                if severity not in SEVERITIES:
                    self.attempt(self.fail, node, severity, where, _unknown(severity, SEVERITIES, "severity"))
                    continue
                labels = self.attempt(self.routing_labels, node, severity, where)
                if labels is not None:
                    merged.setdefault(severity, {}).update(labels)
        return {k: tuple(sorted(v.items())) for k, v in merged.items()}

    def _slo_policy(self, doc) -> SloPolicy:
        if "slo_policy" not in doc:
            return SloPolicy()
        node = self.mapping(doc, "slo_policy", "slo_policy", {"period": False, "tiers": False,
                                                              "budget_interval": False, "window_interval": False})
        period, interval, windows = SloPolicy.period, SloPolicy.budget_interval, SloPolicy.window_interval
        if "period" in node:
            period = self._duration(node, "period", "slo_policy.period")
        if "budget_interval" in node:
            interval = self._duration(node, "budget_interval", "slo_policy.budget_interval")
        if "window_interval" in node:
            windows = self._duration(node, "window_interval", "slo_policy.window_interval")
        tiers = DEFAULT_TIERS
        if "tiers" in node:
            items = node["tiers"]
            if not isinstance(items, list) or not items:
                self.fail(node, "tiers", "slo_policy.tiers", "expected a list of tiers")
            tiers = tuple(t for t in (self.attempt(self._tier, items, i) for i in range(len(items))) if t)
            seen = set()
            for i, tier in enumerate(tiers):
                if (tier.long, tier.short) in seen:
                    self.attempt(self.fail, items, i, f"slo_policy.tiers[{i}]",
                                 f"two tiers with the windows {tier.long}/{tier.short}")
                seen.add((tier.long, tier.short))
        return SloPolicy(period, tiers, interval, windows)

    def _tier(self, items, i) -> BurnTier:
        path = f"slo_policy.tiers[{i}]"
        t = self.mapping(items, i, path, {"severity": True, "long": True, "short": True, "factor": True,
                                          "for": True})
        severity = t["severity"]
        if severity not in SEVERITIES:
            self.fail(t, "severity", f"{path}.severity",
                      f"expected one of {', '.join(SEVERITIES)}, got {_kind(severity)}")
        windows = [self.string(t, k, f"{path}.{k}", WINDOW, "a window such as 5m, 1h or 3d") for k in ("long", "short")]
        if prom.duration_seconds(windows[1]) >= prom.duration_seconds(windows[0]):
            self.fail(t, "short", f"{path}.short", f"the short window must be shorter than the long one ({windows[0]})")
        factor = self.positive(t, "factor", f"{path}.factor")
        for_ = self._duration(t, "for", f"{path}.for")
        return BurnTier(severity, windows[0], windows[1], factor, for_)

    def _duration(self, parent, key, path) -> str:
        problem = prom.duration_problem(parent[key], positive=True)
        if problem:
            self.fail(parent, key, path, problem)
        return parent[key]

    def _thresholds(self, layers) -> dict[str, Decimal]:
        for doc, path in layers:
            node = doc.get("thresholds")
            if isinstance(node, dict):
                for k in node:
                    if k not in THRESHOLDS:
                        self.attempt(self.fail, node, k, f"{path}.thresholds.{k}", _unknown(k, THRESHOLDS, "threshold"))
        result = {}
        for name in THRESHOLDS:
            read = self.fraction if name in FRACTION_THRESHOLDS else self.positive
            if name in MINIMUM_THRESHOLDS:
                read = self._at_least(MINIMUM_THRESHOLDS[name], name)
            found = self._layered(layers, "thresholds", name, None, read)
            if found is None:
                if name in BUILTIN_THRESHOLDS:
                    result[name] = BUILTIN_THRESHOLDS[name]
                    continue
                self.fail(layers[0][0], "thresholds", f"defaults.thresholds.{name}",
                          f"missing: {THRESHOLDS[name]}")
            result[name] = found[0]
        return result

    def _at_least(self, minimum: Decimal, name: str):
        def read(parent, key, path) -> Decimal:
            value = self.number(parent, key, path)
            if value < minimum:
                self.fail(parent, key, path, f"{THRESHOLDS[name]}: must be at least {minimum}, got {value}")
            return value
        return read

    def _buckets(self, m, path) -> dict[str, tuple[Decimal, ...]]:
        node = self.mapping(m, "buckets", path, {k: False for k in LATENCY_SLOS})
        result = {}
        for name, bounds in node.items():
            if name not in LATENCY_SLOS:
                continue
            if not isinstance(bounds, list) or not bounds:
                self.attempt(self.fail, node, name, f"{path}.{name}", "expected a list of bucket bounds in seconds")
                continue
            values = [self.attempt(self.positive, bounds, j, f"{path}.{name}[{j}]") for j in range(len(bounds))]
            if None in values:
                continue
            if values != sorted(set(values)):
                self.attempt(self.fail, node, name, f"{path}.{name}", "bucket bounds must be increasing")
                continue
            result[name] = tuple(values)
        return result


def _matcher_labels() -> tuple[str, ...]:
    """Labels the generated queries match on themselves: the engines' model label, the workload's pods."""
    named = every_named_engine()  # under every naming: gen_ai_request_model, k8s_pod_name, ...
    return tuple(sorted({e.model_label for e in named if e.model_label}
                        | {a for e in named for a in e.workload_attributes} | {"namespace", "pod", "condition"}))


def derived_owner(runbook_base_url: str) -> str:
    """The owner of an inventory that names none: its repository, as runbook_base_url points into it."""
    return "repo-" + hashlib.sha256(runbook_base_url.rstrip("/").encode()).hexdigest()[:12]


def _join(path: str, key) -> str:
    return f"{path}.{key}" if path else str(key)


def _kind(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return type(value).__name__


def _unknown(name, valid, what: str = "key") -> str:
    valid = list(valid)
    close = difflib.get_close_matches(str(name), valid, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {what} {name!r}{hint} (expected one of: {', '.join(valid)})"
