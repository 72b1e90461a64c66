"""Each model's history: which scenarios ran when, and what that did to its replicas and pods.

Everything is a function of wall-clock time since the simulator started and of
that history, never of chance: a counter is the integral of its rate over the
segments since its process last started, so it grows smoothly, survives a
scenario switch without jumping, and resets when a replica restarts, as a real
one does. The same history always gives the same numbers.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from generator.inventory import Model
from generator.simulate.fleet import stable_uuid
from generator.simulate.scenarios import load_for
from generator.simulate.workload import Load, healthy, replicas, threshold

TRAFFIC_SWING = 0.1  # traffic rises and falls by 10% ...
TRAFFIC_PERIOD = 600.0  # ... over ten minutes
FIRST_POD_AGE = 20 * 60  # the first replica was rolled out 20 minutes before the simulator started
OLD_POD_AGE = 2 * 86400  # the others run for days


def phase(*parts: object) -> float:
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return digest[0] / 255 * 2 * math.pi


def wave(t: float, period: float, *seed: object) -> float:
    """A deterministic swing in [-1, 1]."""
    return math.sin(2 * math.pi * t / period + phase(*seed))


def traffic(a: float, b: float, shift: float) -> float:
    """Integral of (1 + swing * sin(wt + shift)) from a to b: requests per unit of mean rate."""
    if b <= a:
        return 0.0
    w = 2 * math.pi / TRAFFIC_PERIOD
    return (b - a) - TRAFFIC_SWING / w * (math.cos(w * b + shift) - math.cos(w * a + shift))


@dataclass(frozen=True)
class Segment:
    start: float
    scenarios: frozenset[str]
    load: Load
    serving: frozenset[int]  # replicas whose engine runs


@dataclass(frozen=True)
class PodState:
    uid: str
    created: float
    ready_time: float | None  # last transition to Ready; None while not ready
    serving: bool


class ModelTimeline:
    def __init__(self, model: Model, start: float):
        self.model = model
        self.start = start
        self.count = replicas(model)
        self.base = healthy(model)
        self.shift = phase(model.name, "traffic")
        self.segments: list[Segment] = [self._segment(start, frozenset())]

    def copy(self) -> "ModelTimeline":
        """The same history, unaffected by later switches (segments are immutable; the list is copied)."""
        clone = object.__new__(ModelTimeline)
        clone.__dict__.update(self.__dict__)
        clone.segments = list(self.segments)
        return clone

    def _segment(self, at: float, scenarios: frozenset[str]) -> Segment:
        load = load_for(self.model, scenarios, self.base)
        return Segment(at, scenarios, load, frozenset(range(self.count)) - load.crashed)

    def set(self, at: float, scenarios: frozenset[str]) -> None:
        if scenarios == self.segments[-1].scenarios:
            return
        before = self.segments[-1]
        segment = self._segment(max(at, before.start), scenarios)
        loading = segment.load.recreated - before.load.recreated
        if loading and segment.load.loading > 0:
            # The replacement pods are not ready (and their engines not serving) while they load.
            self.segments.append(Segment(segment.start, scenarios, segment.load, segment.serving - loading))
            segment = Segment(segment.start + segment.load.loading, scenarios, segment.load, segment.serving)
        self.segments.append(segment)

    @property
    def scenarios(self) -> frozenset[str]:
        return self.segments[-1].scenarios

    def at(self, t: float) -> Segment:
        current = self.segments[0]
        for segment in self.segments:
            if segment.start > t:
                break
            current = segment
        return current

    def _events(self, replica: int, t: float):
        """(time, kind) of restarts up to t: 'recovered' after a crash, 'replaced' by a new pod."""
        for before, segment in zip(self.segments, self.segments[1:]):
            if segment.start > t:
                break
            if replica in segment.serving and replica not in before.serving:
                yield segment.start, "recovered"
            if replica in segment.load.recreated and replica not in before.load.recreated:
                yield segment.start, "replaced"

    def process_start(self, replica: int, t: float) -> float:
        """When the replica's engine process last started: its counters count from here."""
        return max([self.start, *(when for when, _ in self._events(replica, t))])

    def pod(self, replica: int, t: float) -> PodState:
        generation, created, ready_time = 0, None, None
        age = FIRST_POD_AGE if replica == 0 else OLD_POD_AGE + 3600 * replica
        created = self.start - age
        ready_time = created + 0.45 * threshold(self.model, "cold_start_seconds")
        for when, kind in self._events(replica, t):
            if kind == "replaced":
                generation += 1
                load = self.at(when).load
                created = when + load.loading - load.cold_start
            ready_time = when  # Ready's last transition
        serving = replica in self.at(t).serving
        uid = stable_uuid(self.model.name, replica, generation)
        return PodState(uid, created, ready_time if serving else None, serving)

    def served(self, replica: int, t: float) -> list[tuple[Load, float]]:
        """(load, requests this replica served under it) per segment since its process started."""
        begin = self.process_start(replica, t)
        result = []
        for i, segment in enumerate(self.segments):
            end = self.segments[i + 1].start if i + 1 < len(self.segments) else t
            a, b = max(segment.start, begin), min(end, t)
            if b <= a or replica not in segment.serving:
                continue
            share = segment.load.request_rate / len(segment.serving)
            result.append((segment.load, share * traffic(a, b, self.shift)))
        return result

    def elapsed(self, replica: int, t: float) -> list[tuple[Load, float, int]]:
        """(load, seconds, replicas serving) per segment since the replica's process started."""
        begin = self.process_start(replica, t)
        result = []
        for i, segment in enumerate(self.segments):
            end = self.segments[i + 1].start if i + 1 < len(self.segments) else t
            a, b = max(segment.start, begin), min(end, t)
            if b > a and replica in segment.serving:
                result.append((segment.load, b - a, len(segment.serving)))
        return result
