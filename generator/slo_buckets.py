"""A latency SLO is measured at a histogram bucket bound: find thresholds that are not one.

The share of requests within a threshold is read from the bucket at that
bound; between two bounds it cannot be measured exactly. Used by the inventory
(generation refuses) and by `validate` (reports the same words).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from generator.capabilities import Capabilities
from generator.promql import number

LATENCY_SLOS = ("ttft", "itl", "tpot", "e2e")
OPTIONAL_SLOS = ("tpot",)  # only where the engine version exposes the histogram, and only where set


@dataclass(frozen=True)
class OffBucket:
    signal: str
    origin: str  # inventory key path the threshold came from
    message: str


def nearest(value: Decimal, bounds, unit: str = "") -> str:
    """The bounds either side of `value`: "0.47 s below and 1 s above", or which side has none."""
    suffix = f" {unit}" if unit else ""
    below = [b for b in bounds if b < value][-1:]
    above = [b for b in bounds if b > value][:1]
    lower = f"{number(below[0])}{suffix} below" if below else "none below"
    upper = f"{number(above[0])}{suffix} above" if above else "none above (it is past the highest bound)"
    return f"{lower} and {upper}"


def off_bucket_thresholds(model) -> list[OffBucket]:
    queries = Capabilities(model)
    found = []
    for name in LATENCY_SLOS:
        slo = queries.slo(name)
        if slo is None:
            continue
        bounds = queries.bucket_bounds(name)
        if slo.threshold_seconds in bounds:
            continue
        source = (f"declared in {model.path}.buckets.{name}" if name in model.buckets
                  else f"the {queries.engine.title} {model.engine_version} default")
        inherited = "" if slo.origin.startswith(model.path) else f" (inherited from {slo.origin})"
        found.append(OffBucket(name, slo.origin, (
            f"{model.path} ({model.name}): the {name} SLO threshold {number(slo.threshold_seconds)} s{inherited} "
            f"is not a bucket bound of the histogram ({source}), so the share of requests under it cannot be "
            f"measured; the nearest bounds are {nearest(slo.threshold_seconds, bounds, 's')}. Set "
            f"{model.path}.slo.{name}.threshold_seconds to a bound, or declare the engine's buckets in "
            f"{model.path}.buckets.{name}")))
    return found
