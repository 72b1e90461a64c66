"""What every simulated engine's gauges read on one replica: requests running and waiting, KV-cache use.

Each carries a small wave of its own per model and replica, so replicas differ as real ones do.
Engines whose gauges mean something else (the Dynamo frontend's) compute their own.
"""
from __future__ import annotations

from generator.simulate.timeline import Scrape, wave
from generator.simulate.workload import Load


def running(load: Load, serving: int, model: str, r: int, t: float) -> float:
    return float(round(load.running(serving) * (1 + 0.05 * wave(t, 37, model, r, "running"))))


def waiting(load: Load, serving: int, model: str, r: int, t: float) -> float:
    return float(round(load.waiting / serving * (1 + 0.1 * wave(t, 23, model, r, "waiting"))))


def kv_cache(load: Load, model: str, r: int, t: float) -> float:
    return min(1.0, max(0.0, load.kv_cache - 0.02 * r + 0.004 * wave(t, 41, model, r, "kv")))


def replica_gauge(role: str, now: Scrape, model: str) -> float:
    """The gauge of `role` (running, waiting or kv_cache) on the scraped replica of `model`."""
    if role == "running":
        return running(now.load, now.serving, model, now.replica, now.t)
    if role == "waiting":
        return waiting(now.load, now.serving, model, now.replica, now.t)
    if role == "kv_cache":
        return kv_cache(now.load, model, now.replica, now.t)
    raise AssertionError(f"no gauge behaviour for role {role}")
