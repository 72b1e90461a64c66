"""What Prometheus accepts in a rule file, one set of rules for the inventory checker and `validate`.

Each function returns None when Prometheus (2.42, as promtool checks it) accepts the
value, else why not, in words a user can act on. The inventory refuses at load what
Prometheus would refuse later, and `validate` holds the committed rule files to the
same rules.
"""
from __future__ import annotations

import math
import re
import warnings
from decimal import Decimal

# Prometheus' model.ParseDuration: each unit at most once, largest first; "0" alone is allowed.
_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_UNIT_MS = (365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1)
MAX_DURATION_MS = (2 ** 63 - 1) // 1_000_000  # a Go time.Duration: about 292 years
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")


def duration_ms(text) -> int | None:
    """Milliseconds, or None when Prometheus would not parse it as a duration."""
    if not isinstance(text, str):
        return None
    if text == "0":
        return 0
    match = _DURATION.match(text)
    if not match or not text:
        return None
    total = sum(int(n) * unit for n, unit in zip(match.groups(), _UNIT_MS, strict=True) if n is not None)
    return total if total <= MAX_DURATION_MS else None


def duration_seconds(text: str) -> int:
    """Whole seconds of a Prometheus duration (`1h30m`); 0 for text that is not one."""
    return (duration_ms(text) or 0) // 1000


def duration_text(seconds) -> str:
    """A Prometheus duration for `seconds` (rounded up to whole seconds), in the largest exact unit."""
    whole = math.ceil(seconds)
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if whole and whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def duration_problem(text, *, positive: bool = False) -> str | None:
    if not isinstance(text, str):
        return f"expected a Prometheus duration such as 30s, 5m or 1h, got {_kind(text)}"
    ms = duration_ms(text)
    if ms is None:
        if _DURATION.match(text) and text:
            return f"{text!r} is longer than Prometheus can hold (about 292 years)"
        return (f"{text!r} is not a Prometheus duration: a number and a unit (ms, s, m, h, d, w, y), units "
                "largest first and each at most once, e.g. 30s, 5m, 1h30m")
    if positive and ms == 0:
        return f"{text!r} is zero: an alert without a wait fires on a single evaluation, so one bad scrape pages"
    return None


def label_name_problem(name) -> str | None:
    if not isinstance(name, str) or not LABEL_NAME.match(name):
        return f"{name!r} is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)"
    if name.startswith("__"):
        return f"{name!r}: label names starting with '__' are reserved for Prometheus' own use"
    return None


def label_value_problem(value, *, alert_label: bool = False) -> str | None:
    """`alert_label`: the value is written into an alert's `labels`, which Prometheus renders as a Go template."""
    if not isinstance(value, str):
        return f"label values must be strings, got {_kind(value)}"
    if value == "":
        return "an empty label value is the same as no label: a matcher on it matches series without it"
    problem = text_problem(value)
    if problem:
        return problem
    if alert_label and ("{{" in value or "}}" in value):
        return (f"{value!r} holds Go-template delimiters: Prometheus renders alert labels as templates, "
                "so it would not stay as written")
    return None


def text_problem(value: str) -> str | None:
    """Text Prometheus, YAML and Grafana all keep as written: valid Unicode, no control characters."""
    for i, ch in enumerate(value):
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            return f"character {i + 1} is a lone surrogate (U+{code:04X}), not valid Unicode"
        if code < 0x20 or 0x7F <= code < 0xA0:
            return f"character {i + 1} is the control character U+{code:04X}"
    return None


_NOT_RE2 = ((r"\(\?[=!]|\(\?<[=!]", "lookaround"), (r"\\[1-9]|\(\?P=", "a backreference"),
            (r"\(\?>", "an atomic group"), (r"[*+?}]\+", "a possessive quantifier"), (r"\(\?\(", "a conditional"))


def regex_problem(text: str) -> str | None:
    """A regex both Python and Prometheus (Go's RE2) read the same way, or why not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            re.compile(text)
        except re.error as exc:
            return f"not a valid regular expression: {exc}"
        except RecursionError:
            return "not a valid regular expression: nested too deeply"
    for pattern, what in _NOT_RE2:
        if re.search(pattern, text):
            return f"uses {what}, which Prometheus' regular expressions (RE2) do not have"
    return None


def number_problem(value) -> str | None:
    """A finite number PromQL can read as a literal."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return f"expected a number, got {_kind(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"expected a finite number, got {value} (PromQL would read it as a metric name, not a number)"
    if isinstance(value, Decimal) and not value.is_finite():
        return f"expected a finite number, got {value}"
    return None


def url_problem(value) -> str | None:
    """An http(s) URL that reaches an alert's annotations unchanged: no spaces, no template syntax."""
    if not isinstance(value, str) or not URL.match(value):
        return f"{value!r} is not an http(s) URL"
    problem = text_problem(value)
    if problem:
        return problem
    if "{{" in value or "}}" in value:
        return (f"{value!r} holds Go-template delimiters: alert annotations are rendered as templates, so the "
                "link would not stay as written")
    return None


def _kind(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float, Decimal)):
        return f"the number {value}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
