"""The one metric catalog: engines and exporters behind one registry each.

Every module of this package that defines `ENGINE` (an `Engine`) or `EXPORTER` (an `Exporter`)
is registered, by its name: a new engine is one module here, with no edit anywhere else.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil

from generator.catalog.base import Engine, Exporter

# Every normalised signal an engine may map; anything else in an engine's map is a typo.
SIGNALS = (
    "ttft", "itl", "tpot", "e2e", "e2e_mean", "queue_time", "requests", "errors", "error_base",
    "prompt_tokens", "generation_tokens", "preemptions", "running", "waiting", "kv_cache", "model_load",
    "batch_occupancy",
    # The "why" signals: request phases, length distributions, finish reasons, prefix cache.
    "prefill_time", "decode_time", "queue_time_mean", "compute_time_mean", "prompt_length", "generation_length",
    "finish_reasons", "prefix_cache_queries", "prefix_cache_hits",
    # More "why" signals: request parameters, waiting by reason, speculative decoding, LoRA adapters.
    "max_tokens_requested", "n_requested", "waiting_by_reason", "spec_decode_draft_tokens",
    "spec_decode_accepted_tokens", "lora_adapters",
)


def discover(attribute: str, kind: type[Engine] | type[Exporter]) -> dict:
    """`attribute` of every module of this package that defines one of type `kind`, by its `name`, sorted."""
    found: dict[str, Engine | Exporter] = {}
    for info in pkgutil.iter_modules(__path__, f"{__name__}."):
        value = getattr(importlib.import_module(info.name), attribute, None)
        if isinstance(value, kind):
            if value.name in found:
                raise ValueError(f"two catalog modules define the {kind.__name__.lower()} {value.name!r}")
            found[value.name] = value
    return dict(sorted(found.items()))


ENGINES: dict[str, Engine] = discover("ENGINE", Engine)
EXPORTERS: dict[str, Exporter] = discover("EXPORTER", Exporter)


@functools.cache
def _named(engine: str, naming: str) -> Engine:
    return ENGINES[engine].named(naming)


def engine_for(model) -> Engine:
    """A model's engine under the metric naming its deployment exposes (the inventory's `metric_naming`)."""
    if ENGINES[model.engine].namings:
        return _named(model.engine, getattr(model, "metric_naming", ""))
    return ENGINES[model.engine]


def every_named_engine() -> list[Engine]:
    """Each engine under each of its namings: every name a deployment may expose."""
    return [_named(e, n) if n else ENGINES[e] for e in ENGINES for n in (ENGINES[e].namings or [""])]
