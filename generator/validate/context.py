"""What the checks read: the inventory and the files under the output folder, as shipped.

Everything is read from disk, never regenerated, and garbage never raises:
problems met while reading (invalid YAML or JSON, wrong shapes) become
findings of the `yaml/parse`, `dashboard/schema` and `inventory/schema` checks.
Rule files and per-model dashboards are mapped to their inventory model, so
catalog checks know the engine and version behind each query.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from generator import conventions as c
from generator import inventory as inventory_mod
from generator import located_yaml
from generator.errors import InventoryError, InventoryErrors
from generator.inventory import Inventory, Model
from generator.validate import expr as x
from generator.validate import read_dashboards, read_rules
from generator.validate.findings import Finding, Location, Severity
from generator.validate.shipped import Dashboard, Panel, Query, Rule, listed

__all__ = ["Context", "Dashboard", "Panel", "Query", "Rule", "listed", "load"]


@dataclass
class Context:
    root: Path
    inventory_file: str
    inventory: Inventory | None = None
    inventory_problems: list[InventoryError] = field(default_factory=list)
    inventory_lines: dict[str, int | None] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    rule_files: list[str] = field(default_factory=list)
    dashboards: list[Dashboard] = field(default_factory=list)
    runbooks: set[str] = field(default_factory=set)  # file names under alerts/runbooks/
    queries: list[Query] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)  # found while reading
    _recorded: dict = field(default_factory=dict)
    _recorded_cache: dict = field(default_factory=dict)
    _by_model: dict = field(default_factory=dict)  # name -> model label value (None: none) -> rules

    def problem(self, check: str, severity: Severity, location: Location, message: str):
        self.problems.append(Finding(check, severity, location, message))

    # -- recorded series ----------------------------------------------------

    def recorded_names(self) -> set[str]:
        return set(self._recorded)

    def definitions(self, name: str, matchers: dict[str, str]) -> list[Rule]:
        """Recording rules defining `name` whose static labels agree with the `=` matchers, in no set order."""
        rules = self._recorded.get(name, [])
        if c.MODEL_LABEL in matchers:  # one model's rules among every model's: look them up, not through
            by_model = self._by_model.get(name)
            if by_model is None:
                by_model = self._by_model[name] = {}
                for rule in rules:
                    by_model.setdefault(rule.labels.get(c.MODEL_LABEL), []).append(rule)
            rules = by_model.get(matchers[c.MODEL_LABEL], []) + by_model.get(None, [])
        return [r for r in rules if all(r.labels.get(k, v) == v for k, v in matchers.items())]

    def recorded_labels(self, name: str, matchers: dict[str, str]) -> x.Labels | None:
        if name not in self._recorded:
            return None
        rules = self.definitions(name, matchers) or self._recorded[name]
        outputs = [self._rule_output(rule) for rule in rules]
        return x.Labels(frozenset().union(*(o.names for o in outputs)), all(o.closed for o in outputs), False,
                        frozenset.intersection(*(o.dropped for o in outputs)))

    def _rule_output(self, rule: Rule) -> x.Labels:
        key = id(rule)
        if key in self._recorded_cache:
            return self._recorded_cache[key] or x.OPEN  # None while computing: a cycle
        self._recorded_cache[key] = None
        parsed = x.parse(rule.data.get("expr"))
        inner = x.output_labels(parsed.ast, self.recorded_labels) if parsed.ast is not None else x.OPEN
        result = x.Labels(inner.names | frozenset(rule.labels), inner.closed, False, inner.dropped - set(rule.labels))
        self._recorded_cache[key] = result
        return result

    def output_labels(self, node) -> x.Labels:
        return x.output_labels(node, self.recorded_labels)

    def model_named(self, name) -> Model | None:
        if self.inventory is None or not isinstance(name, str):
            return None
        return next((m for m in self.inventory.models if m.name == name), None)

    def dashboard_uids(self) -> set[str]:
        return {d.uid for d in self.dashboards if d.uid}


def load(inventory_path: str | Path, output: str | Path) -> Context:
    root = Path(output)
    ctx = Context(root=root, inventory_file=str(inventory_path))
    _load_inventory(ctx, Path(inventory_path))
    for path in _files(root / "alerts", ("*.yaml", "*.yml")):
        if _rel(ctx, path) != c.ALERTMANAGER_FILE:  # Alertmanager's configuration, not rules
            read_rules.load_rule_file(ctx, path, _rel(ctx, path))
    for path in _files(root / "dashboards", ("*.json", "*/*.json")):  # dashboards/<folder>/<uid>.json
        read_dashboards.load_dashboard(ctx, path, _rel(ctx, path))
    runbooks = root / "alerts" / "runbooks"
    if runbooks.is_dir():
        ctx.runbooks = {p.name for p in runbooks.iterdir() if p.is_file()}
    for rule in ctx.rules:
        if rule.kind == "record":
            ctx._recorded.setdefault(rule.name, []).append(rule)
    return ctx


def _files(folder: Path, patterns) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted({p for pattern in patterns for p in folder.glob(pattern) if p.is_file()})


def _rel(ctx: Context, path: Path) -> str:
    try:
        return path.relative_to(ctx.root).as_posix()
    except ValueError:
        return str(path)


# -- inventory ----------------------------------------------------------------


def _load_inventory(ctx: Context, path: Path):
    try:
        text = located_yaml.read(path, "inventory")
        inventory, lines = inventory_mod.parse_with_lines(text, str(path), check_buckets=False)
    except InventoryError as exc:
        ctx.inventory_problems.append(exc)
        return
    except InventoryErrors as exc:
        ctx.inventory_problems.extend(exc.errors)
        return
    except (yaml.YAMLError, RecursionError) as exc:
        ctx.inventory_problems.append(InventoryError(str(path), None, "", f"invalid YAML: {exc}"))
        return
    ctx.inventory = inventory
    ctx.inventory_lines = lines
