"""Read one Prometheus rule file into `Rule`s and `Query`s, reporting what Prometheus would refuse (`yaml/parse`)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from generator import conventions as c
from generator import located_yaml
from generator.errors import InventoryError
from generator.validate.findings import ERROR, WARNING, Location
from generator.validate.shipped import Query, Rule, type_of

if TYPE_CHECKING:
    from generator.validate.context import Context

RULE_KEYS = {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
GROUP_KEYS = {"name", "interval", "limit", "rules"}
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def load_rule_file(ctx: Context, path: Path, rel: str):
    ctx.rule_files.append(rel)
    where = Location(rel)
    try:
        text = located_yaml.read(path, "rule file")
        data = located_yaml.load(text, rel)
    except InventoryError as exc:
        ctx.problem("yaml/parse", ERROR, Location(rel, exc.line), exc.message)
        return
    except (OSError, UnicodeDecodeError, RecursionError, yaml.YAMLError) as exc:
        ctx.problem("yaml/parse", ERROR, where, f"cannot read the file: {exc}")
        return
    if not yaml.reader.Reader.NON_PRINTABLE.search(text):  # read by libyaml, as yaml.load reads it
        ctx.rule_documents[rel] = (text, data)
    if data is None:
        ctx.problem("yaml/parse", WARNING, where, "empty rule file: no groups, no rules")
        return
    if isinstance(data, located_yaml.LocatedMap) and "groups" not in data and ("tests" in data or "rule_files" in data):
        ctx.rule_files.remove(rel)  # a promtool test file, not rules
        return
    if not isinstance(data, located_yaml.LocatedMap) or not isinstance(data.get("groups"), located_yaml.LocatedList):
        ctx.problem("yaml/parse", ERROR, Location(rel, getattr(data, "line", None)),
                    f"a rule file is a mapping with a `groups` list, got {type_of(data)}")
        return
    for key in data:
        if key != "groups":
            ctx.problem("yaml/parse", ERROR, Location(rel, data.key_lines.get(key)),
                        f"unknown top-level key {key!r} (Prometheus rejects it)")
    model = ctx.model_of_rule_file(rel)
    seen_groups: dict[str, int] = {}
    rules_in_file: list[Rule] = []
    for gi, group in enumerate(data["groups"]):
        gline = data["groups"].item_lines[gi]
        if not isinstance(group, located_yaml.LocatedMap):
            ctx.problem("yaml/parse", ERROR, Location(rel, gline, key=f"groups[{gi}]"),
                        f"a rule group is a mapping with `name` and `rules`, got {type_of(group)}")
            continue
        name = group.get("name")
        gname = name if isinstance(name, str) and name else f"groups[{gi}]"
        for key in group:
            if key not in GROUP_KEYS:
                ctx.problem("yaml/parse", ERROR, Location(rel, group.key_lines.get(key), group=gname),
                            f"unknown group key {key!r} (Prometheus 2.42 rejects it)")
        if not isinstance(name, str) or not name:
            ctx.problem("yaml/parse", ERROR, Location(rel, gline, group=gname), "a rule group needs a non-empty `name`")
        elif name in seen_groups:
            ctx.problem("yaml/parse", ERROR, Location(rel, gline, group=gname),
                        f"group name {name!r} is used twice in this file (first at line {seen_groups[name]})")
        else:
            seen_groups[name] = gline
        rules = group.get("rules")
        if not isinstance(rules, located_yaml.LocatedList):
            ctx.problem("yaml/parse", ERROR, Location(rel, gline, group=gname),
                        f"`rules` must be a list of rules, got {type_of(rules)}")
            continue
        for ri, data_rule in enumerate(rules):
            line = rules.item_lines[ri]
            if not isinstance(data_rule, dict):
                ctx.problem("yaml/parse", ERROR, Location(rel, line, group=gname, rule_index=ri + 1),
                            f"a rule is a mapping, got {type_of(data_rule)}")
                continue
            rule = Rule(rel, gname, ri + 1, data_rule, line, model)
            if _rule_shape(ctx, rule):
                rules_in_file.append(rule)
    if model is None and ctx.inventory is not None:
        # Not named after a model: trust the `model` label its rules carry, when they agree.
        names = {r.labels.get(c.MODEL_LABEL) for r in rules_in_file} - {None}
        if len(names) == 1:
            model = ctx.model_named(names.pop())
            for rule in rules_in_file:
                rule.model = model
    ctx.rules += rules_in_file
    for rule in rules_in_file:
        expr = rule.data.get("expr")
        if isinstance(expr, str) and rule.kind:
            ctx.queries.append(Query(expr, ctx.parse(expr), rule.location, model, rule.kind, rule=rule))


def _rule_shape(ctx: Context, rule: Rule) -> bool:
    """Report what Prometheus would refuse to load; False when the rule is unusable."""
    data, loc = rule.data, rule.location
    lines = getattr(data, "key_lines", {})

    def bad(message: str, key: str | None = None):
        at = Location(loc.file, lines.get(key, loc.line) if key else loc.line, group=loc.group, rule=loc.rule,
                      rule_index=loc.rule_index)
        ctx.problem("yaml/parse", ERROR, at, message)

    usable = True
    for key in data:
        if key not in RULE_KEYS:
            bad(f"unknown rule key {key!r} (Prometheus rejects it)", key)
    has_alert, has_record = "alert" in data, "record" in data
    if has_alert == has_record:
        bad("a rule has exactly one of `alert` and `record`")
        usable = False
    for key in ("alert", "record"):
        if key in data and (not isinstance(data[key], str) or not data[key]):
            bad(f"`{key}` must be a non-empty string, got {type_of(data[key])}", key)
            usable = False
    if has_record and isinstance(data.get("record"), str) and data["record"] and not METRIC_NAME.match(data["record"]):
        bad(f"recording rule name {data['record']!r} is not a valid metric name", "record")
    if "expr" not in data:
        bad("missing `expr`")
    elif not isinstance(data["expr"], str) or not data["expr"].strip():
        bad(f"`expr` must be a PromQL string, got {type_of(data['expr'])}", "expr")
    if has_record and not has_alert:
        for key in ("for", "keep_firing_for", "annotations"):
            if key in data:
                bad(f"a recording rule cannot have `{key}`", key)
    for key in ("labels", "annotations"):
        if key not in data:
            continue
        value = data[key]
        if not isinstance(value, dict):
            bad(f"`{key}` must be a mapping of names to strings, got {type_of(value)}", key)
            continue
        for name, item in value.items():
            if not isinstance(name, str) or not LABEL_NAME.match(name):
                bad(f"{key[:-1]} name {name!r} is not valid ([a-zA-Z_][a-zA-Z0-9_]*)", key)
            elif key == "labels" and name == "__name__":
                bad("label name '__name__' is reserved: Prometheus refuses it in a rule's labels", key)
            if isinstance(item, (dict, list)) or item is None:
                bad(f"{key[:-1]} {name!r} must be a string, got {type_of(item)}", key)
    return usable
