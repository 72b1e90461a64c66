"""Build PromQL text safely: every label value goes through here.

Model names contain `/`, `.` and `-`; some contain quotes or regex
metacharacters. Values are quoted as PromQL string literals, and values used in
regex matchers are escaped for RE2 first, so a matcher matches exactly the
value it was given.
"""
from __future__ import annotations

import functools
import json
from decimal import Decimal

# RE2 treats these as syntax; a backslash before punctuation makes it literal.
_RE2_META = set("\\.+*?()|[]{}^$")


@functools.lru_cache(maxsize=1 << 16)  # the same few label values are quoted hundreds of thousands of times
def quote(value: str) -> str:
    """A PromQL double-quoted string literal (Go escaping: \\, \", \\n, \\uXXXX)."""
    return json.dumps(value, ensure_ascii=False)


def regex_escape(value: str) -> str:
    """Escape RE2 metacharacters so the regex matches `value` literally."""
    return "".join("\\" + c if c in _RE2_META else c for c in value)


def matcher(label: str, op: str, value: str) -> str:
    return f"{label}{op}{quote(value)}"


def selector(metric: str, matchers: list[tuple[str, str, str]]) -> str:
    """`metric{l1="v1",l2=~"v2"}`; matchers are (label, op, value), op in = != =~ !~."""
    inner = ", ".join(matcher(label, op, value) for label, op, value in matchers)
    return f"{metric}{{{inner}}}"


@functools.lru_cache(maxsize=1 << 16, typed=True)
def number(value: Decimal | int | float) -> str:
    """Exact decimal text for a threshold: 0.72, not 0.7200000000000001."""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    text = format(d.normalize(), "f")
    return text


def le_matcher(bound: Decimal) -> tuple[str, str, str]:
    """Match a histogram bucket bound under Prometheus 2 and 3.

    Exporters write `le="1"` (Go, C++) or `le="1.0"` (Python); Prometheus 3
    normalises integral bounds to `1.0`. Integral bounds therefore match both
    spellings; other bounds have one spelling everywhere.
    """
    text = number(bound)
    if "." in text:
        return ("le", "=", text)
    return ("le", "=~", f"{text}(\\.0)?")


def go_template_literal(text: str) -> str:
    """Text placed in an alert annotation, which Prometheus renders as a Go template.

    Only `{{` starts an action in Go templates; emit it through a string
    constant so a model name like `a{{b}}` renders as itself.
    """
    return text.replace("{{", '{{ "{{" }}')
