"""Deterministic YAML: keys in the order given, multi-line strings as `|` blocks.

`dump` writes PyYAML's bytes (`PURE_PYTHON`, its own emitter; tests/test_output.py compares them) at native
speed. PyYAML spends most of its time building a node per value, in Python, even with libyaml's emitter, and
generated files repeat the same few thousand strings (labels, queries, keys) millions of times. So `dump`
lays out the block structure itself, a rule PyYAML applies the same way to every document
(`key: value`, nested mappings two spaces in, sequences under a key not indented, `- ` items, empty
collections as `{}` and `[]`), and asks PyYAML how to write each distinct scalar once: plain or quoted,
escaped, or a `|` block. A document outside that shape (a value type other than str, int, float, bool and
None, a key that is not a short str, a very long line) goes through PyYAML whole. libyaml plays no part:
the bytes are PyYAML's own emitter's, with or without it.
"""
from __future__ import annotations

import yaml


def _str(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _dumper(base: type) -> type:
    class Dumper(base):
        def ignore_aliases(self, data):
            return True

    Dumper.add_representer(str, _str)
    return Dumper


# PyYAML's own emitter: the reference for the bytes, whether or not libyaml is installed (libyaml's emitter
# writes some unusual strings differently).
PURE_PYTHON = _dumper(yaml.SafeDumper)
_OTHER_BREAKS = ("\r", "\x85", "\u2028", "\u2029")
_SCALARS = (str, int, float, bool, type(None))
_LONGEST = 30_000  # past PyYAML's line width (1 << 16) less the deepest indent a line could start at


def dump(data, dumper: type | None = None) -> str:
    """`data` as YAML; with `dumper`, through PyYAML with that dumper (the reference the tests compare to)."""
    if dumper is None:
        try:
            return _Layout().document(data)
        except _Outside:
            dumper = PURE_PYTHON
    return _through(data, dumper)


def _through(data, dumper: type) -> str:
    return yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=1 << 16)


def comment(text: str) -> str:
    """A `#` comment line; control characters in user text cannot end the comment early."""
    safe = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return f"# {safe}\n"


class _Outside(Exception):
    """The document has a part `_Layout` does not lay out: PyYAML writes it whole."""


def _pyyaml(data) -> str:
    text = _through(data, PURE_PYTHON)
    if any(ch in text for ch in _OTHER_BREAKS):
        raise _Outside  # PyYAML indents after these line breaks too, as deep as the value sits
    return text


_CACHED = 512  # longer strings (a dashboard in a ConfigMap) are seldom repeated: not kept
_KEPT = 100_000  # strings remembered at most: a 1,000-model fleet has millions of distinct ones
_LEADING_INDICATORS = "#,[]{}&*!|>'\"%@`"
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
_SIMPLE_KEY = 100  # PyYAML writes a key of 123 characters or more as a complex key (`? key`)
_STRINGS: dict[str, str] = {}
_VALUES: dict[tuple[type, str], tuple[str, tuple[str, ...]]] = {}
_KEYS: dict[str, str] = {}


def _plain_or_quoted(text: str) -> str | None:
    """How PyYAML writes a one-line printable-ASCII string (its `analyze_scalar` and `choose_scalar_style`,
    for that case): plain where a plain scalar would read back as this string, else single-quoted.
    None for any other string (empty, non-ASCII, control characters, line breaks, long)."""
    if not text or len(text) > _LONGEST or not text.isascii() or not text.isprintable():
        return None
    first, last = text[0], text[-1]
    followed_by_space = len(text) == 1 or text[1] == " "
    plain = not (
        text.startswith(("---", "..."))
        or first in _LEADING_INDICATORS
        or (first in "?:-" and followed_by_space)
        or first == " " or last == " " or last == ":"
        or ": " in text or " #" in text
        or _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) != _STR_TAG)
    return text if plain else "'" + text.replace("'", "''") + "'"


def _literal(text: str) -> tuple[str, tuple[str, ...]] | None:
    """How PyYAML writes a multi-line printable-ASCII string (`write_literal`): a `|` block, its lines two
    spaces in; None for any other string, and for those ending in a blank line (`|+`)."""
    if text.endswith(" ") or " \n" in text or text.endswith("\n\n") or text == "\n" or not text.isascii() \
            or not text.replace("\n", "").isprintable():
        return None
    head = "|" + ("2" if text[0] in " \n" else "") + ("" if text.endswith("\n") else "-")
    body = text[:-1] if text.endswith("\n") else text
    return head, tuple("  " + line if line else "" for line in body.split("\n"))


def _value(value) -> tuple[str, tuple[str, ...]]:
    """How PyYAML writes `value` after `key: `: the rest of that line and, for a `|` block, its lines
    (indented as under a key at column 0; "" for an empty line)."""
    kind = type(value)
    if kind is str:
        known = _STRINGS.get(value)
        if known is not None:
            return known, ()
        if "\n" in value:
            literal = _literal(value)
            if literal is not None:
                return literal
        else:
            quick = _plain_or_quoted(value)
            if quick is not None:
                if len(_STRINGS) >= _KEPT:
                    _STRINGS.clear()
                _STRINGS[value] = quick
                return quick, ()
    elif value is None:
        return "null", ()
    elif kind is bool:
        return ("true" if value else "false"), ()
    elif kind is int:
        return str(value), ()
    cache_key = (kind, value if kind is str else repr(value))
    found = _VALUES.get(cache_key)
    if found is None:
        text = _pyyaml({"k": value})
        if not text.startswith("k: ") or len(text) > _LONGEST and "\n" not in text[:-1]:
            raise _Outside
        head, *block = text[3:-1].split("\n")
        if block and not head.startswith("|") or head.startswith("|") and "+" in head:
            raise _Outside  # a wrapped line, not expected at this width; `|+` ends the document with `...`
        found = (head, tuple(block))
        if len(cache_key[1]) <= _CACHED:
            _VALUES[cache_key] = found
    return found


def _key(key) -> str:
    found = _KEYS.get(key) if type(key) is str else None
    if found is None:
        if type(key) is not str:
            raise _Outside
        if len(key) < _SIMPLE_KEY and (quick := _plain_or_quoted(key)) is not None:
            _KEYS[key] = quick
            return quick
        text = _pyyaml({key: None})
        if text.startswith("?") or not text.endswith(": null\n") or "\n" in text[:-len(": null\n")]:
            raise _Outside  # a complex key (long or multi-line): PyYAML writes it as `? key`
        found = _KEYS[key] = text[:-len(": null\n")]
    return found


class _Layout:
    """PyYAML's block layout (default_flow_style=False, indent 2), written into one list of strings."""

    def __init__(self):
        self.out: list[str] = []

    def document(self, data) -> str:
        if type(data) is dict and data:
            self.mapping(data, 0, first_inline=False)
        elif type(data) is list and data:
            self.sequence(data, 0, first_inline=False)
        else:
            raise _Outside
        return "".join(self.out)

    def mapping(self, data: dict, indent: int, first_inline: bool) -> None:
        """At `indent`; the first key continues the current line (after `- `) when `first_inline`."""
        out = self.out
        pad = " " * indent
        for i, (key, value) in enumerate(data.items()):
            if i or not first_inline:
                out.append(pad)
            out.append(_key(key))
            kind = type(value)
            if kind is dict:
                if value:
                    out.append(":\n")
                    self.mapping(value, indent + 2, first_inline=False)
                else:
                    out.append(": {}\n")
            elif kind is list:
                if value:
                    out.append(":\n")
                    self.sequence(value, indent, first_inline=False)  # under a key: not indented
                else:
                    out.append(": []\n")
            else:
                out.append(": ")
                self.scalar(value, indent)

    def sequence(self, data: list, indent: int, first_inline: bool) -> None:
        out = self.out
        pad = " " * indent
        for i, item in enumerate(data):
            if i or not first_inline:
                out.append(pad)
            kind = type(item)
            if kind is dict:
                if item:
                    out.append("- ")
                    self.mapping(item, indent + 2, first_inline=True)
                else:
                    out.append("- {}\n")
            elif kind is list:
                if item:
                    out.append("- ")
                    self.sequence(item, indent + 2, first_inline=True)
                else:
                    out.append("- []\n")
            else:
                out.append("- ")
                self.scalar(item, indent)

    def scalar(self, value, indent: int) -> None:
        if type(value) not in _SCALARS:
            raise _Outside
        head, block = _value(value)
        out = self.out
        out.append(head)
        out.append("\n")
        if block:
            if indent + len(head) > _LONGEST:
                raise _Outside
            pad = " " * indent
            for line in block:
                if line:
                    out.append(pad)
                    out.append(line)
                out.append("\n")
        elif indent + len(head) > _LONGEST:
            raise _Outside
