"""Read YAML keeping the line of every key and item, and refusing duplicate keys.

PyYAML's safe loader forgets positions and silently keeps the last of two
equal keys; the inventory needs both to report errors by line.
"""
from __future__ import annotations

import yaml

from generator.errors import InventoryError


class LocatedMap(dict):
    """A mapping that remembers its own line and the line of each key."""

    line: int
    key_lines: dict


class LocatedList(list):
    line: int
    item_lines: list


def load(text: str, file: str):
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        context_mark = getattr(exc, "context_mark", None)
        if context and context_mark is not None and context_mark.line + 1 != line:
            problem += f" ({context} started at line {context_mark.line + 1})"
        raise InventoryError(file, line, "", f"invalid YAML: {problem}") from None
    finally:
        loader.dispose()
    if node is None:
        return None
    return _build(node, file, yaml.SafeLoader(""))


def _build(node, file: str, constructor):
    if isinstance(node, yaml.MappingNode):
        result = LocatedMap()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = _build(key_node, file, constructor)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise InventoryError(file, line, "", f"keys must be strings, got {key!r}")
            if key in result:
                raise InventoryError(file, line, "", f"duplicate key {key!r} (first at line {result.key_lines[key]})")
            result[key] = _build(value_node, file, constructor)
            result.key_lines[key] = line
        return result
    if isinstance(node, yaml.SequenceNode):
        result = LocatedList(_build(item, file, constructor) for item in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [item.start_mark.line + 1 for item in node.value]
        return result
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise InventoryError(file, node.start_mark.line + 1, "", f"invalid value: {exc}") from None
