"""Each engine's /metrics in the simulator, found by engine name.

Every `*_metrics` module of this package that defines `ENGINE` (the catalog's `Engine`) and
`render(replica, timeline, t) -> str` is the renderer of that engine: a new engine's simulator is
one module here, with no edit anywhere else. `tests/test_engines.py` checks that every
engine of the catalog has one.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from generator.catalog.base import Engine

PACKAGE = __name__.rsplit(".", 1)[0]


def discover() -> dict[str, Callable]:
    found: dict[str, Callable] = {}
    package = importlib.import_module(PACKAGE)
    for info in pkgutil.iter_modules(package.__path__, f"{PACKAGE}."):
        if not info.name.endswith("_metrics"):
            continue
        module = importlib.import_module(info.name)
        engine = getattr(module, "ENGINE", None)
        if isinstance(engine, Engine):
            if engine.name in found:
                raise ValueError(f"two simulator modules render the engine {engine.name!r}")
            found[engine.name] = module.render
    return dict(sorted(found.items()))


RENDERERS = discover()
