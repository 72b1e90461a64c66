"""Prometheus' rendering of the Go templates in the generated annotations, for expected alerts in tests.

Only the subset the generator writes: `$value` with `humanize`, `humanizePercentage`,
`humanizeDuration` or `printf "%.Nf"`, `$labels.<name>`, `or $labels.<name> $externalLabels.<name>`
(the tests' Prometheus has no external labels), and the literal `{{ "{{" }}`.
"""
from __future__ import annotations

import math
import re

_ACTION = re.compile(r"{{\s*(.*?)\s*}}")


def render(template: str, value: float, labels: dict[str, str] | None = None) -> str:
    """Render the subset of Prometheus templating the generated descriptions use."""
    def action(match: re.Match) -> str:
        body = match.group(1)
        if body == '"{{"':
            return "{{"
        label = re.fullmatch(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)", body)
        if label:
            return (labels or {}).get(label.group(1), "")
        either = re.fullmatch(r"or \$labels\.([a-zA-Z_][a-zA-Z0-9_]*) \$externalLabels\.\1", body)
        if either:
            return (labels or {}).get(either.group(1), "")
        printf = re.fullmatch(r'printf "(%\.\d+f)" \$value', body)
        if printf:
            return printf.group(1) % value
        parts = [p.strip() for p in body.split("|")]
        if parts[0] != "$value" or len(parts) > 2:
            raise ValueError(f"unsupported template action {{{{ {body} }}}}")
        if len(parts) == 1:
            return _go_float(value)
        return {"humanize": humanize, "humanizePercentage": humanize_percentage,
                "humanizeDuration": humanize_duration}[parts[1]](value)

    return _ACTION.sub(action, template)


def _go_float(v: float) -> str:
    """Go's %v of a float64 (strconv 'g', shortest)."""
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    text = repr(v)
    return text


def _g4(v: float) -> str:
    text = f"{v:.4g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        text = f"{mantissa}e{exp[0]}{int(exp[1:]):02d}"
    return text


def humanize(v: float) -> str:
    if v == 0 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    prefix = ""
    if abs(v) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix, v = p, v / 1000
        return _g4(v) + prefix
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return _g4(v) + prefix


def humanize_percentage(v: float) -> str:
    return _g4(v * 100) + "%"


def humanize_duration(v: float) -> str:
    if math.isnan(v) or math.isinf(v) or v == 0:
        return _g4(v) + ("s" if v == 0 else "")
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        whole = int(abs(v))
        seconds, minutes, hours, days = whole % 60, whole // 60 % 60, whole // 3600 % 24, whole // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(abs(v))}s"
    raise ValueError("sub-second durations are not used by the generated alerts")
