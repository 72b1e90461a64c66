"""What one engine version can show: which signals it exposes, in which metric, with which buckets.

The catalog says what each engine exports and since when; this resolves it for one
model's engine and version, without PromQL. `ModelQueries` builds queries on it; the
inventory's bucket check, the simulator's scenario fitness and the dashboards' "cannot
show" notes read it directly.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from generator.catalog import engine_for
from generator.catalog.base import Counters, Gauge, Histogram
from generator.errors import CatalogError

if TYPE_CHECKING:
    from generator.inventory import Model


class Capabilities:
    def __init__(self, model: Model):
        self.model = model
        self.engine = engine_for(model)

    def signal(self, name: str):
        """The signal with its metric resolved for this version, or None."""
        spec = self.engine.signals.get(name)
        if spec is None:
            return None
        version = self.model.engine_version
        if isinstance(spec, Histogram):
            for candidate in spec.candidates:
                if self.engine.metric(candidate).exposed_in(version):
                    return Histogram((candidate,), spec.scale)
            return None
        if isinstance(spec, Gauge):
            for part in spec.candidates:
                if self.engine.metric(part.metric).exposed_in(version):
                    return Gauge((part,), spec.aggregation, spec.scale)
            return None
        if isinstance(spec, Counters):
            spec = Counters(tuple(p for p in spec.parts if p.applies_to(version)))
            if not spec.parts:
                return None
        if all(self.engine.metric(m).exposed_in(version) for m in spec.metric_names()):
            return spec
        return None

    def has(self, name: str) -> bool:
        return self.signal(name) is not None

    def slo(self, name: str):
        """The model's latency SLO on this signal, or None: the engine version lacks the histogram, or
        no inventory layer sets the SLO (TPOT is optional)."""
        return self.model.slo.latency(name) if self.has(name) else None

    def why_not(self, name: str) -> str:
        if name in self.engine.cannot_show:
            return self.engine.cannot_show[name]
        spec = self.engine.signals.get(name)
        if spec is None:
            return f"{self.engine.title} exports no metric for this."
        since = ", ".join(f"{n} from {self.engine.metric(n).since}" for n in spec.metric_names())
        return f"{self.engine.title} {self.model.engine_version} does not expose it yet ({since})."

    def need(self, name: str, kind):
        """The signal as `kind` (Histogram, Counters, ...); a CatalogError when this version has none."""
        spec = self.signal(name)
        if not isinstance(spec, kind):
            raise CatalogError(f"{self.model.path}: {self.engine.title} {self.model.engine_version} "
                               f"has no {kind.__name__.lower()} for {name!r}")
        return spec

    def histogram(self, name: str) -> tuple[str, Decimal]:
        """The histogram's metric name in this version and the factor that turns its unit into seconds."""
        spec = self.need(name, Histogram)
        return spec.candidates[0], spec.scale

    def bucket_bounds(self, name: str) -> tuple[Decimal, ...]:
        """Bucket bounds in seconds: declared in the inventory, else the engine default."""
        if name in self.model.buckets:
            return self.model.buckets[name]
        metric, scale = self.histogram(name)
        return tuple(b * scale for b in self.engine.metric(metric).buckets_in(self.model.engine_version))
