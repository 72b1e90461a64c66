"""The generated dashboards' text form at native speed: `json.dumps(value, indent=2, sort_keys=True,
ensure_ascii=False)` byte for byte (tests/test_output.py compares them).

With `indent`, the standard library encodes in Python, one generator per nested value; this writes the same
layout from one recursive function, each string through the library's C string encoder. Anything but
JSON's own types (str, int, float, bool, None, list, tuple, dict with str keys) goes to `json.dumps`, which
writes it or raises as it always did.
"""
from __future__ import annotations

import json
from json.encoder import encode_basestring  # the C encoder where the interpreter has it

_INFINITY = float("inf")


class _Outside(Exception):
    """A value `indented` does not write: `json.dumps` writes it (or raises) instead."""


def indented(value) -> str:
    """`json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)`."""
    out: list[str] = []
    try:
        _write(value, out, "\n")
    except (_Outside, TypeError):
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return "".join(out)


def _write(value, out: list[str], newline: str) -> None:
    """`newline`: a line break and the indent of the line `value` starts on."""
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        separator = "," + inner
        out.append("[" + inner)
        for i, item in enumerate(value):
            if i:
                out.append(separator)
            _write(item, out, inner)
        out.append(newline + "]")
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        separator = "," + inner
        out.append("{" + inner)
        for i, key in enumerate(sorted(value)):
            if type(key) is not str:
                raise _Outside  # json.dumps converts numbers and booleans, or raises
            if i:
                out.append(separator)
            out.append(encode_basestring(key))
            out.append(": ")
            _write(value[key], out, inner)
        out.append(newline + "}")
    else:
        raise _Outside


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)
