"""Build PromQL text safely: every label value goes through here.

Model names contain `/`, `.` and `-`; some contain quotes or regex
metacharacters. Values are quoted as PromQL string literals, and values used in
regex matchers are escaped for RE2 first, so a matcher matches exactly the
value it was given.
"""
from __future__ import annotations

import functools
import json
import re
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


_LEGACY_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LEGACY_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def matcher(label: str, op: str, value: str) -> str:
    """`label op "value"`; a UTF-8 label name (Prometheus 3: `gen_ai.request.model`) quoted too."""
    name = label if _LEGACY_LABEL.fullmatch(label) else quote(label)
    return f"{name}{op}{quote(value)}"


def selector(metric: str, matchers: list[tuple[str, str, str]]) -> str:
    """`metric{l1="v1",l2=~"v2"}`; matchers are (label, op, value), op in = != =~ !~.

    A UTF-8 metric name (Prometheus 3, `gen_ai.server.request.duration_seconds_count`) goes inside the
    braces as a quoted string, as Prometheus 3 requires: `{"name", l1="v1"}`.
    """
    inner = ", ".join(matcher(label, op, value) for label, op, value in matchers)
    if _LEGACY_METRIC.fullmatch(metric):
        return f"{metric}{{{inner}}}"
    return f"{{{quote(metric)}{', ' + inner if inner else ''}}}"


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


def with_matcher(expr: str, label: str, op: str, value: str) -> str:
    """`expr` with `label op value` added to every selector's braces (`metric{...}`), string literals left alone.

    For the generated queries, which always write a selector as `metric{...}`; used to scope a dashboard's
    queries to a template variable (`cluster=~"$cluster"`).
    """
    added = matcher(label, op, value)
    out: list[str] = []
    i, quote_char = 0, ""
    while i < len(expr):
        ch = expr[i]
        out.append(ch)
        if quote_char:
            if ch == "\\" and quote_char != "`" and i + 1 < len(expr):
                out.append(expr[i + 1])
                i += 1
            elif ch == quote_char:
                quote_char = ""
        elif ch in "\"'`":
            quote_char = ch
        elif ch == "{" and i > 0 and (expr[i - 1].isalnum() or expr[i - 1] in "_:"):
            rest = expr[i + 1:].lstrip()
            out.append(added if rest.startswith("}") else added + ", ")
        i += 1
    return "".join(out)
