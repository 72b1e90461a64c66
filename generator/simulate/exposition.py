"""The Prometheus text format (0.0.4), written the way each exporter's client library writes it.

Parsers accept any float spelling, but the bytes differ between clients and
some of them matter: a histogram bound is a label value, so Python's
prometheus_client writes `le="1.0"` where Go and C++ write `le="1"`. Each
exporter gets its own number style:

- `PYTHON` (vLLM, prometheus_client): `repr()` of a float, `12.0`, `0.5`, `+Inf`.
- `GO` (kube-state-metrics, client_golang): `strconv.FormatFloat(v, 'g', -1, 64)`, `1.7e+09`.
- `CPP` (Triton, prometheus-cpp): the shortest round-trip form, integers without a point.
- `DCGM` (dcgm-exporter's template): integer fields as integers, float fields as `%f`.
- `RUST` (TGI's metrics-exporter-prometheus, NVIDIA Dynamo's `prometheus` crate): Rust's `Display` for
  f64, the shortest round-trip digits, never an exponent, integers without a point: `1`, `0.0022`, `130000`.
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.simulate.histograms import HistogramValue

PYTHON, GO, CPP, DCGM, RUST = "python", "go", "cpp", "dcgm", "rust"
COUNT_FIRST = (PYTHON, CPP)  # prometheus_client and prometheus-cpp write `_count` before `_sum`; Go and Rust after


def _special(value: float) -> str | None:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return None


def _python(value: float) -> str:
    """prometheus_client's floatToGoString: repr(), with Go's exponent from 1e+06 on."""
    value = float(value)
    text = repr(value)
    dot = text.find(".")
    if value > 0 and dot > 6:
        mantissa = f"{text[0]}.{text[1:dot]}{text[dot + 1:]}".rstrip("0.")
        return f"{mantissa}e+0{dot - 1}"
    return text


def _go(value: float) -> str:
    """Go's FormatFloat(v, 'g', -1, 64): shortest digits, %e when the exponent is < -4 or >= 6."""
    if value == 0:
        return "0"
    digits, exponent = _shortest(value)
    sign = "-" if value < 0 else ""
    leading = len(digits) + exponent - 1  # decimal exponent of the leading digit
    if leading < -4 or leading >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'+' if leading >= 0 else '-'}{abs(leading):02d}"
    return sign + _fixed(digits, exponent)


def _cpp(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    digits, exponent = _shortest(value)
    return ("-" if value < 0 else "") + _fixed(digits, exponent)


def _shortest(value: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of |value| and the exponent of the last digit."""
    sign, digits, exponent = Decimal(repr(abs(float(value)))).normalize().as_tuple()
    return "".join(str(d) for d in digits), int(exponent)


def _fixed(digits: str, exponent: int) -> str:
    if exponent >= 0:
        return digits + "0" * exponent
    point = len(digits) + exponent
    if point > 0:
        return f"{digits[:point]}.{digits[point:]}"
    return "0." + "0" * (-point) + digits


def number(value: float | int, style: str, integer: bool = False) -> str:
    special = _special(float(value))
    if special:
        return special
    if style == PYTHON:
        return _python(value)
    if style == GO:
        return _go(float(value))
    if style == CPP:
        return _cpp(float(value))
    if style == RUST:
        digits, exponent = _shortest(value)
        return ("-" if value < 0 else "") + _fixed(digits, exponent) if value else "0"
    if style == DCGM:
        return str(int(round(value))) if integer else f"{float(value):f}"
    raise ValueError(f"unknown number style {style!r}")


def bound(value: Decimal | float, style: str) -> str:
    """A histogram bucket bound as the `le` label value."""
    return number(float(value), style)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Exposition:
    """One /metrics page: families in the order they are added, each with HELP and TYPE."""

    def __init__(self, style: str):
        self.style = style
        self._lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str | None) -> None:
        """HELP (unless None: an exporter that writes none for undescribed metrics) and TYPE."""
        if help_text is not None:
            escaped = help_text.replace("\\", "\\\\").replace("\n", "\\n")
            self._lines.append(f"# HELP {name} {escaped}")
        self._lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, labels: list[tuple[str, str]], value: float | int, integer: bool = False) -> None:
        inner = ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels)
        text = number(value, self.style, integer)
        self._lines.append(f"{name}{{{inner}}} {text}" if labels else f"{name} {text}")

    def histogram(self, name: str, labels: list[tuple[str, str]], value: HistogramValue) -> None:
        """A histogram's series: `_bucket`, `+Inf` last, bounds in this exporter's number style; then `_sum` and
        `_count` in the order the exporter's client library writes them."""
        for le, count in value.buckets:
            self.sample(f"{name}_bucket", labels + [("le", bound(le, self.style))], count)
        self.sample(f"{name}_bucket", labels + [("le", "+Inf")], value.count)
        totals = [(f"{name}_count", value.count), (f"{name}_sum", value.total)]
        for series, number in totals if self.style in COUNT_FIRST else reversed(totals):
            self.sample(series, labels, number)

    def created(self, families: list[tuple[str, str, list[list[tuple[str, str]]]]], started: float) -> None:
        """prometheus_client's `<family>_created` gauges (outside multiprocess mode), after all other families:
        for each (family, help, label sets) of a counter or histogram, each series' process start time."""
        for family, help_text, label_sets in families:
            self.family(f"{family}_created", "gauge", help_text)
            for labels in label_sets:
                self.sample(f"{family}_created", labels, started)

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"
