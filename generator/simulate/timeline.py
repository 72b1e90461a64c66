"""Each model's history: which scenarios ran when, and what that did to its replicas and pods.

Everything is a function of wall-clock time since the simulator started and of
that history, never of chance: a counter is the integral of its rate over the
segments since its process last started, so it grows smoothly, survives a
scenario switch without jumping, and resets when a replica restarts, as a real
one does. The same history always gives the same numbers.
"""
from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass

from generator.inventory import Model
from generator.simulate.fleet import stable_uuid
from generator.simulate.scenarios import load_for
from generator.simulate.workload import Load, for_replica, healthy, replicas, threshold
from generator.versions import Version, v

TRAFFIC_SWING = 0.1  # traffic rises and falls by 10% ...
TRAFFIC_PERIOD = 600.0  # ... over ten minutes
FIRST_POD_AGE = 20 * 60  # the first replica was rolled out 20 minutes before the simulator started
OLD_POD_AGE = 2 * 86400  # the others run for days
CRASH_RESTART_SECONDS = 30.0  # a crash-looping container restarts about this often (back-off included)


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


@dataclass(frozen=True)
class ContainerState:
    """The engine container's status, as kube-state-metrics reports it."""

    restarts: int
    last_terminated: str | None  # reason of the last termination (OOMKilled, Error), None before the first
    waiting: str | None  # CrashLoopBackOff while the container crash-loops


@dataclass(frozen=True)
class Scrape:
    """What one replica's /metrics is written from at `t`: every engine's renderer starts here."""

    replica: int
    t: float
    version: Version  # the engine version the pods run: the inventory's, unless they drifted
    served: list[tuple[Load, float]]  # (load, requests served under it) per segment since the process started
    load: Load  # what the replica sees now
    serving: int  # replicas whose engine runs now, at least 1: they share the model's load
    started: float  # when the engine process last started: its counters count from here


def _new_pod(replica: int, before: Segment, segment: Segment) -> bool:
    """Whether the replica gets a new pod when `segment` follows `before`: replaced, or scaled up from zero."""
    return (replica in segment.load.recreated and replica not in before.load.recreated
            or before.load.scaled_to_zero and not segment.load.scaled_to_zero)


class ModelTimeline:
    def __init__(self, model: Model, start: float):
        self.model = model
        self.start = start
        self.count = replicas(model)
        self.base = healthy(model)
        self.shift = phase(model.name, "traffic")
        self.segments: list[Segment] = [self._segment(start, frozenset())]

    def copy(self) -> ModelTimeline:
        """The same history, unaffected by later switches (segments are immutable; the list is copied)."""
        clone = object.__new__(ModelTimeline)
        clone.__dict__.update(self.__dict__)
        clone.segments = list(self.segments)
        return clone

    def _segment(self, at: float, scenarios: frozenset[str]) -> Segment:
        load = load_for(self.model, scenarios, self.base)
        serving = frozenset() if load.scaled_to_zero else frozenset(range(self.count)) - load.crashed
        return Segment(at, scenarios, load, serving)

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
        """(time, kind) of restarts up to t: 'recovered' after a crash, 'replaced' by a new pod (also when
        scaling up from zero), 'oom' when the engine container was OOM-killed and restarted."""
        for before, segment in itertools.pairwise(self.segments):
            if segment.start > t:
                break
            if replica in segment.serving and replica not in before.serving:
                yield segment.start, "recovered"
            if _new_pod(replica, before, segment):
                yield segment.start, "replaced"
            if replica in segment.load.oom_killed and replica not in before.load.oom_killed:
                yield segment.start, "oom"

    def scrape(self, replica: int, t: float) -> Scrape:
        return Scrape(replica, t, self.version(t), self.served(replica, t), self.load(replica, t),
                      max(len(self.at(t).serving), 1), self.process_start(replica, t))

    def process_start(self, replica: int, t: float) -> float:
        """When the replica's engine process last started: its counters count from here."""
        return max([self.start, *(when for when, _ in self._events(replica, t))])

    def pod(self, replica: int, t: float) -> PodState | None:
        """The replica's pod at t; None while the model is scaled to zero."""
        if self.at(t).load.scaled_to_zero:
            return None
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

    def startup(self, replica: int, t: float) -> float:
        """The replica's pod's time to Ready (or so far, while it is not Ready); 0 while scaled to zero."""
        pod = self.pod(replica, t)
        return (pod.ready_time or t) - pod.created if pod else 0.0

    def container(self, replica: int, t: float) -> ContainerState:
        """The engine container of the replica's pod at t: restarts since the pod was created, the reason of
        the last termination, and whether it waits in CrashLoopBackOff."""
        restarts, last, crash_since = 0, None, None

        def crash_restarts(until: float) -> int:
            assert crash_since is not None  # called only once a crash loop started
            return 1 + int((until - crash_since) // CRASH_RESTART_SECONDS)

        for i, segment in enumerate(self.segments):
            if segment.start > t:
                break
            if i:
                before = self.segments[i - 1]
                if _new_pod(replica, before, segment):
                    restarts, last, crash_since = 0, None, None
                if replica in segment.load.oom_killed and replica not in before.load.oom_killed:
                    restarts, last = restarts + 1, "OOMKilled"
            crashed = replica in segment.load.crashed and not segment.load.scaled_to_zero
            if crashed and crash_since is None:
                crash_since = segment.start
            elif not crashed and crash_since is not None:
                restarts, last, crash_since = restarts + crash_restarts(segment.start), "Error", None
        if crash_since is not None:
            return ContainerState(restarts + crash_restarts(t), "Error", "CrashLoopBackOff")
        return ContainerState(restarts, last, None)

    def version(self, t: float) -> Version:
        """The engine version the pods run at t."""
        drift = self.at(t).load.engine_version
        return v(drift) if drift else self.model.engine_version

    def xid(self, t: float) -> int:
        """The last XID code reported up to t: DCGM holds it until the exporter restarts."""
        code = 0
        for segment in self.segments:
            if segment.start > t:
                break
            code = segment.load.xid or code
        return code

    def surge(self, t: float) -> PodState | None:
        """A rollout's extra pod, created when the surge began and never Ready; None without one."""
        since = None
        for segment in self.segments:
            if segment.start > t:
                break
            since = (since or segment.start) if segment.load.surge else None
        if since is None:
            return None
        return PodState(stable_uuid(self.model.name, "surge", since), since, None, False)

    def load(self, replica: int, t: float) -> Load:
        """What the replica sees at t: the model's load, unless it is the bad replica."""
        return for_replica(self.at(t).load, replica, self.model)

    def served(self, replica: int, t: float) -> list[tuple[Load, float]]:
        """(load, requests this replica served under it) per segment since its process started."""
        begin = self.process_start(replica, t)
        result = []
        for i, segment in enumerate(self.segments):
            end = self.segments[i + 1].start if i + 1 < len(self.segments) else t
            a, b = max(segment.start, begin), min(end, t)
            if b <= a or replica not in segment.serving or segment.load.stalled:
                continue  # a stalled engine completes nothing: its counters stand still
            share = segment.load.request_rate / len(segment.serving)
            result.append((for_replica(segment.load, replica, self.model), share * traffic(a, b, self.shift)))
        return result

    def elapsed(self, replica: int, t: float) -> list[tuple[Load, float, int]]:
        """(load, seconds, replicas serving) per segment since the replica's process started."""
        begin = self.process_start(replica, t)
        result = []
        for i, segment in enumerate(self.segments):
            end = self.segments[i + 1].start if i + 1 < len(self.segments) else t
            a, b = max(segment.start, begin), min(end, t)
            if b > a and replica in segment.serving:
                result.append((for_replica(segment.load, replica, self.model), b - a, len(segment.serving)))
        return result
