"""Cumulative histogram and counter values from a replica's served requests."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from generator.catalog.base import Engine, Histogram, Metric
from generator.simulate.fleet import Replica
from generator.simulate.workload import Latency, Load
from generator.versions import Version


@dataclass(frozen=True)
class HistogramValue:
    buckets: list[tuple[Decimal, int]]  # (bound in the metric's unit, cumulative count), +Inf excluded
    count: int
    total: float  # _sum, in the metric's unit


# What each histogram role observes per request, in seconds or tokens; an engine adds the roles only it has.
LATENCIES: dict[str, Callable[[Load], Latency]] = {
    "ttft": lambda load: load.ttft,
    "itl": lambda load: load.itl,
    "tpot": lambda load: load.tpot,  # one observation per request (outputs here are longer than one token)
    "e2e": lambda load: load.e2e,
    "queue_time": lambda load: load.queue,
    # Prefill is first token minus queueing; decode is every later token.
    "prefill_time": lambda load: Latency(max(0.0, load.ttft.floor - load.queue.mean()), load.ttft.median,
                                         load.ttft.sigma),
    "decode_time": lambda load: Latency(load.itl.floor * max(load.output_tokens - 1, 1),
                                        load.itl.median * max(load.output_tokens - 1, 1), 0.35),
    "prompt_length": lambda load: lognormal(load.prompt_tokens, 0.6),
    "generation_length": lambda load: lognormal(load.output_tokens, 0.6),
}
# Observations per request where not one: inter-token latency is observed once per streamed token after the first.
OBSERVATIONS: dict[str, Callable[[Load], float]] = {"itl": lambda load: max(load.output_tokens - 1, 0)}


def histogram(served: list[tuple[Load, float]], bounds: tuple[Decimal, ...], scale: float,
              distribution: Callable[[Load], Latency], per_request: Callable[[Load], float] = lambda load: 1.0,
              ) -> HistogramValue:
    """Observations of `distribution` (seconds); bounds and _sum in the metric's unit (seconds * 1/scale).

    Each segment contributes a whole number of observations and, per bucket, the whole number of
    them at or under the bound: so buckets are cumulative, never decrease, and never grow faster
    than the count, as with real observations.
    """
    buckets = [0] * len(bounds)
    count, total = 0, 0.0
    for load, requests in served:
        observations = math.floor(requests * per_request(load))
        latency = distribution(load)
        for i, bound in enumerate(bounds):
            buckets[i] += math.floor(observations * latency.cdf(float(bound) * scale))
        count += observations
        total += observations * latency.mean() / scale
    return HistogramValue(list(zip(bounds, buckets, strict=True)), count, total)


def lognormal(median: float, sigma: float) -> Latency:
    """A size distribution (tokens) reusing the latency shape, without a floor."""
    return Latency(0.0, median, sigma)


def portion(weight: float, part: Callable[[Load], float], load: Load) -> float:
    """`weight` of what `part` gives per request (with functools.partial: a per-request share of a counter)."""
    return weight * part(load)


def counter(served: list[tuple[Load, float]], per_request: Callable[[Load], float]) -> int:
    """Whole events: each segment's share floored, so a counter only ever grows by whole events."""
    return sum(math.floor(requests * per_request(load)) for load, requests in served)


def bucket_bounds(replica: Replica, engine: Engine, signal: str, metric: Metric,
                  version: Version) -> tuple[Decimal, ...]:
    """A histogram's bounds in its metric's unit: the model's declared buckets (`models[].buckets`, seconds),
    else the engine version's defaults."""
    declared = replica.model.buckets.get(signal)
    if declared:
        scale = histogram_scale(engine, signal)
        return tuple(b / scale for b in declared)
    return metric.buckets_in(version)


def histogram_scale(engine: Engine, signal: str) -> Decimal:
    """Seconds per unit of the engine's histogram for `signal` (1 where the signal is not a histogram)."""
    spec = engine.signals.get(signal)
    return spec.scale if isinstance(spec, Histogram) else Decimal(1)
