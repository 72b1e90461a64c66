"""What the checks read: the inventory and the files under the output folder, as shipped.

Everything is read from disk, never regenerated, and garbage never raises:
problems met while reading (invalid YAML or JSON, wrong shapes) become
findings of the `yaml/parse`, `dashboard/schema` and `inventory/schema` checks.
Rule files and per-model dashboards are mapped to their inventory model, so
catalog checks know the engine and version behind each query.
"""
from __future__ import annotations

from collections.abc import KeysView
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
    # rules file -> (its text, what located_yaml read from it), for a text without characters PyYAML refuses:
    # where located_yaml read it, its data is what yaml.load gives (kubernetes/manifests compares it).
    rule_documents: dict[str, tuple[str, object]] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)  # found while reading
    _recorded: dict = field(default_factory=dict)
    _recorded_cache: dict = field(default_factory=dict)
    _by_model: dict = field(default_factory=dict)  # name -> model label value (None: none) -> rules
    # Answers that depend only on what was read, asked once per query: remembered, so that a fleet's
    # queries do not each scan every model's rules (that grew with models x models).
    _definitions: dict = field(default_factory=dict)  # (name, matchers) -> rules
    _labels: dict = field(default_factory=dict)  # (name, matchers) -> labels of the recorded series
    _cycles: int = 0  # times a rule's labels were asked for while being worked out
    _models: dict | None = None  # name -> model (the first of that name)
    _by_rule_file: dict | None = None  # rules file -> the first model it is named after
    _by_dashboard_uid: dict | None = None  # model dashboard uid -> the first model it is named after
    _parsed: dict = field(default_factory=dict)  # query text -> x.Parsed

    def problem(self, check: str, severity: Severity, location: Location, message: str):
        self.problems.append(Finding(check, severity, location, message))

    def parse(self, text) -> x.Parsed:
        """`x.parse(text)`, once per text: a recording rule's expression is parsed as a query and again for the
        labels of its series, and dashboards repeat queries."""
        if not isinstance(text, str):
            return x.parse(text)
        parsed = self._parsed.get(text)
        if parsed is None:
            parsed = self._parsed[text] = x.parse(text)
        return parsed

    # -- recorded series ----------------------------------------------------

    def recorded_names(self) -> KeysView[str]:
        return self._recorded.keys()  # a set-like view: no copy per query

    def definitions(self, name: str, matchers: dict[str, str]) -> list[Rule]:
        """Recording rules defining `name` whose static labels agree with the `=` matchers, in no set order."""
        key = (name, tuple(sorted(matchers.items())))
        found = self._definitions.get(key)
        if found is None:
            found = self._definitions[key] = self._find_definitions(name, matchers)
        return found

    def _find_definitions(self, name: str, matchers: dict[str, str]) -> list[Rule]:
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
        key = (name, tuple(sorted(matchers.items())))
        known = self._labels.get(key)
        if known is not None:
            return known
        cycles = self._cycles
        rules = self.definitions(name, matchers) or self._recorded[name]
        outputs = [self._rule_output(rule) for rule in rules]
        result = x.Labels(frozenset().union(*(o.names for o in outputs)), all(o.closed for o in outputs), False,
                          frozenset.intersection(*(o.dropped for o in outputs)))
        if cycles == self._cycles:  # met no rule still being worked out: asking again gives the same answer
            self._labels[key] = result
        return result

    def _rule_output(self, rule: Rule) -> x.Labels:
        key = id(rule)
        if key in self._recorded_cache:
            if self._recorded_cache[key] is None:
                self._cycles += 1
            return self._recorded_cache[key] or x.OPEN  # None while computing: a cycle
        self._recorded_cache[key] = None
        parsed = self.parse(rule.data.get("expr"))
        inner = x.output_labels(parsed.ast, self.recorded_labels) if parsed.ast is not None else x.OPEN
        result = x.Labels(inner.names | frozenset(rule.labels), inner.closed, False, inner.dropped - set(rule.labels))
        self._recorded_cache[key] = result
        return result

    def output_labels(self, node) -> x.Labels:
        return x.output_labels(node, self.recorded_labels)

    def model_named(self, name) -> Model | None:
        if self.inventory is None or not isinstance(name, str):
            return None
        if self._models is None:
            self._models = _first_by(self.inventory, lambda model_name: model_name)
        return self._models.get(name)

    def model_of_rule_file(self, rel: str) -> Model | None:
        """The model a rule file is named after (`c.rules_file`), or None."""
        if self._by_rule_file is None:
            self._by_rule_file = _first_by(self.inventory, c.rules_file)
        return self._by_rule_file.get(rel)

    def model_of_dashboard(self, uid: str | None, stem: str) -> Model | None:
        """The model whose dashboard has this uid, else the one whose dashboard uid is the file's stem, or None."""
        if self._by_dashboard_uid is None:
            self._by_dashboard_uid = _first_by(self.inventory, c.model_dashboard_uid)
        return self._by_dashboard_uid.get(uid) or self._by_dashboard_uid.get(stem)

    def dashboard_uids(self) -> set[str]:
        return {d.uid for d in self.dashboards if d.uid}


def _first_by(inventory: Inventory | None, name_of) -> dict:
    """name_of(model name) -> the first model giving it, over the inventory's models in order."""
    index: dict = {}
    for model in inventory.models if inventory is not None else ():
        index.setdefault(name_of(model.name), model)
    return index


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
