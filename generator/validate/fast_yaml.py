"""`yaml.load` and `yaml.load_all` with libyaml's safe loader, the same data at a fraction of the time.

PyYAML's constructor turns libyaml's node tree into Python values in Python, node by node, through generators
and checks that plain strings, lists and string-keyed mappings never need: on a fleet's manifests it was most of
what `validate` spent. `load` composes with libyaml as `yaml.load` does and builds those three shapes directly;
any other scalar goes through the loader's own constructor. Whatever this builder does not handle exactly as
PyYAML does (another collection tag, a non-string key, a merge key, a recursive alias, any error) makes it give
the answer of the call it replaces, made again from the text: the same value or the same exception.
"""
from __future__ import annotations

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

_LOADER = getattr(yaml, "CSafeLoader", None)
_STR, _SEQ, _MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"


class _Unhandled(Exception):
    """A node this builder leaves to PyYAML."""


def load(text: str):
    """`yaml.load(text, Loader=yaml.CSafeLoader)` (SafeLoader without libyaml)."""
    if _LOADER is None:
        return yaml.load(text, Loader=yaml.SafeLoader)
    try:
        loader = _LOADER(text)
        try:
            node = loader.get_single_node()
            return None if node is None else _build(loader, node)
        finally:
            loader.dispose()
    except Exception:  # noqa: BLE001 - whatever it was, PyYAML's own answer (value or exception) stands
        return yaml.load(text, Loader=_LOADER)


def load_all(text: str) -> list:
    """`list(yaml.load_all(text, Loader=yaml.CSafeLoader))` (SafeLoader without libyaml)."""
    if _LOADER is None:
        return list(yaml.load_all(text, Loader=yaml.SafeLoader))
    try:
        loader = _LOADER(text)
        try:
            documents = []
            while loader.check_node():
                documents.append(_build(loader, loader.get_node()))
            return documents
        finally:
            loader.dispose()
    except Exception:  # noqa: BLE001 - as in `load`
        return list(yaml.load_all(text, Loader=_LOADER))


def _build(loader, root):
    return _Builder(loader).build(root)


class _Builder:
    """Not a closure: a function that calls itself through a closure cell is a reference cycle, and the values
    it built would wait for the garbage collector to be freed."""

    def __init__(self, loader):
        self.loader = loader
        self.done: dict[int, object] = {}  # id(node) -> value: an alias is the same object, as PyYAML makes it
        self.active: set[int] = set()

    def build(self, node):
        kind = type(node)
        if kind is ScalarNode:
            return node.value if node.tag == _STR else self.loader.construct_object(node, deep=True)
        key = id(node)
        if key in self.done:
            return self.done[key]
        if key in self.active:
            raise _Unhandled("a recursive alias")
        self.active.add(key)
        if kind is SequenceNode and node.tag == _SEQ:
            value: object = [self.build(item) for item in node.value]
        elif kind is MappingNode and node.tag == _MAP:
            mapping = {}
            for key_node, value_node in node.value:
                if type(key_node) is not ScalarNode or key_node.tag != _STR:
                    raise _Unhandled("a key that is not a plain string (merge keys among them)")
                mapping[key_node.value] = self.build(value_node)
            value = mapping
        else:
            raise _Unhandled(node.tag)
        self.active.discard(key)
        self.done[key] = value
        return value
