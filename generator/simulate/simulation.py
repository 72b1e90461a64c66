"""The running simulation: the fleet, each model's timeline, and scenario switching."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from generator.inventory import Inventory
from generator.simulate.fleet import Fleet
from generator.simulate.scenarios import SCENARIOS, assignments
from generator.simulate.timeline import ModelTimeline


class Simulation:
    def __init__(self, inventory: Inventory, scenarios: Sequence[str] = (), clock: Callable[[], float] = time.time):
        self.inventory = inventory
        self.fleet = Fleet(inventory)
        self.clock = clock
        self.start = clock()
        self._lock = threading.Lock()
        self.timelines = {m.name: ModelTimeline(m, self.start) for m in inventory.models}
        if scenarios:
            self.apply(list(scenarios), at=self.start)

    def now(self) -> float:
        return self.clock()

    def apply(self, specs: list[str], at: float | None = None) -> dict[str, list[str]]:
        """Set the scenarios of the models the specs name (all models for a spec without `:MODEL`).

        Models no spec names keep theirs; `healthy[:MODEL]` clears.
        """
        chosen = assignments(specs, self.fleet.models)
        named = {spec.strip().partition(":")[2] for spec in specs}
        touched = set(self.fleet.models) if "" in named else named
        when = self.now() if at is None else at
        with self._lock:
            for model, scenarios in chosen.items():
                if model in touched:
                    self.timelines[model].set(when, scenarios)
        return self.state()

    def state(self) -> dict[str, list[str]]:
        with self._lock:
            return {name: sorted(t.scenarios, key=list(SCENARIOS).index) for name, t in self.timelines.items()}

    def snapshot(self):
        """A consistent view for one scrape: the lock is held only to copy the segment lists."""
        with self._lock:
            return {name: t.copy() for name, t in self.timelines.items()}
