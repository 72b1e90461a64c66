"""Read YAML keeping the line of every key and item, refusing duplicate keys, within stated limits.

PyYAML's safe loader forgets positions and silently keeps the last of two
equal keys; the inventory needs both to report errors by line. Whatever the
input, the answer is data or an `InventoryError` naming the file, the line and
the limit: files are UTF-8 (other encodings are named), at most `MAX_BYTES`,
nested at most `MAX_DEPTH` deep, and expand (aliases included) to at most
`MAX_VALUES` values, so a small file cannot exhaust memory or the stack.
"""
from __future__ import annotations

import codecs
from pathlib import Path

import yaml

from generator.errors import InventoryError

MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64
MAX_VALUES = 500_000
_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"), (codecs.BOM_UTF16_LE, "UTF-16"),
         (codecs.BOM_UTF16_BE, "UTF-16"))


_STR = "tag:yaml.org,2002:str"


class LocatedMap(dict):
    """A mapping that remembers its own line and the line of each key."""

    line: int
    key_lines: dict


class LocatedList(list):
    line: int
    item_lines: list


def read(path: str | Path, what: str = "file") -> str:
    """The text of a UTF-8 file; any other encoding, a size over the limit or an unreadable file is an error."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InventoryError(str(path), None, "", f"cannot read the {what}: {exc.strerror or exc}") from None
    return decode(raw, str(path))


def decode(raw: bytes, file: str) -> str:
    if len(raw) > MAX_BYTES:
        raise InventoryError(file, None, "", f"the file is larger than the limit of {MAX_BYTES // (1024 * 1024)} MiB")
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raise InventoryError(file, 1, "", f"the file is {name}: save it as UTF-8")
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InventoryError(file, line, "", f"byte 0x{raw[exc.start]:02x} at column {column} is not UTF-8: save "
                                             "the file as UTF-8 (it looks like Latin-1 or another legacy "
                                             "encoding)") from None


def load(text: str, file: str, duplicates: list[InventoryError] | None = None):
    """The document, or None when empty. Duplicate keys raise, or are appended to `duplicates` when given
    (the first value is kept), so a caller can report them beside every other problem."""
    if len(text) > MAX_BYTES:
        raise InventoryError(file, None, "", f"the file is larger than the limit of {MAX_BYTES // (1024 * 1024)} MiB")
    node = _compose_fast(text)
    if node is _NOT_FAST:
        node = _compose(text, file)
    if node is None:
        return None
    builder = _Builder(file, duplicates)
    try:
        return builder.build(node, 0)
    finally:
        builder.constructor.dispose()  # its parser state points back at it: freed now, not by the collector


_NOT_FAST = object()


def _compose_fast(text: str):
    """The node tree from libyaml, when present, the text is valid and nested at most MAX_DEPTH deep; else _NOT_FAST.

    libyaml composes in C (several times faster), recursing without a limit of ours, so the depth is
    measured on its event stream first. Any error goes to the Python composer, whose messages are the
    ones users see.
    """
    if not hasattr(yaml, "CSafeLoader") or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return _NOT_FAST  # characters PyYAML refuses and libyaml may not: PyYAML's answer stands
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return _NOT_FAST
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        return yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return _NOT_FAST


def _compose(text: str, file: str):
    loader = None
    try:
        loader = _Loader(text, file)
        return loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else _reader_line(exc, text)
        problem = getattr(exc, "problem", None) or _reader_problem(exc)
        context = getattr(exc, "context", None)
        context_mark = getattr(exc, "context_mark", None)
        if context and context_mark is not None and context_mark.line + 1 != line:
            problem += f" ({context} started at line {context_mark.line + 1})"
        raise InventoryError(file, line, "", f"invalid YAML: {problem}") from None
    finally:
        if loader is not None:
            loader.dispose()


class _Loader(yaml.SafeLoader):
    """Refuses nesting deeper than MAX_DEPTH while composing (PyYAML's composer recurses)."""

    def __init__(self, text: str, file: str):
        self._depth = 0
        self._file = file
        super().__init__(text)

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise InventoryError(self._file, mark.line + 1, "",
                                     f"nested more than {MAX_DEPTH} levels deep (the limit)")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Builder:
    def __init__(self, file: str, duplicates: list[InventoryError] | None):
        self.file = file
        self.duplicates = duplicates
        self.values = 0
        self.constructor = yaml.SafeLoader("")

    def build(self, node, depth: int):
        self.values += 1
        if self.values > MAX_VALUES:
            raise InventoryError(self.file, node.start_mark.line + 1, "",
                                 f"the document expands to more than {MAX_VALUES:,} values (the limit; "
                                 "aliases to large anchors multiply)")
        if depth > MAX_DEPTH:  # aliases can nest deeper than the text does
            raise InventoryError(self.file, node.start_mark.line + 1, "",
                                 f"nested more than {MAX_DEPTH} levels deep (the limit)")
        if isinstance(node, yaml.MappingNode):
            result = LocatedMap()
            result.line = node.start_mark.line + 1
            result.key_lines = {}
            for key_node, value_node in node.value:
                key = self.build(key_node, depth + 1)
                line = key_node.start_mark.line + 1
                if not isinstance(key, str):
                    raise InventoryError(self.file, line, "", f"keys must be strings, got {key!r}")
                if key in result:
                    error = InventoryError(self.file, line, "",
                                           f"duplicate key {key!r} (first at line {result.key_lines[key]})")
                    if self.duplicates is None:
                        raise error
                    self.duplicates.append(error)
                    continue
                result[key] = self.build(value_node, depth + 1)
                result.key_lines[key] = line
            return result
        if isinstance(node, yaml.SequenceNode):
            items = LocatedList(self.build(item, depth + 1) for item in node.value)
            items.line = node.start_mark.line + 1
            items.item_lines = [item.start_mark.line + 1 for item in node.value]
            return items
        if type(node) is yaml.ScalarNode and node.tag == _STR:
            return node.value  # what the constructor gives a string, without remembering the node
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            raise InventoryError(self.file, node.start_mark.line + 1, "", f"invalid value: {exc}") from None


def _reader_line(exc, text: str) -> int | None:
    position = getattr(exc, "position", None)
    if isinstance(position, int):
        return text.count("\n", 0, position) + 1
    return None


def _reader_problem(exc) -> str:
    character = getattr(exc, "character", None)
    if isinstance(character, str) and character:
        character = ord(character)
    if isinstance(character, int):
        return f"character U+{character:04X} is not allowed in YAML (control characters and lone surrogates)"
    return str(exc)
