"""One GPU node's dcgm-exporter /metrics (port 9400), in Kubernetes mode (`-k`, as the Helm chart runs it).

Per GPU: `gpu`, `UUID`, `pci_bus_id`, `device`, `modelName`, the host label (`Hostname` up to
4.5.3-4.8.2, `hostname` after), then `container`, `namespace` and `pod` of the pod that holds the GPU;
idle GPUs have no pod labels. Utilisation is 0-100, framebuffer in MiB, power in W, energy in mJ;
integer fields print as integers, float fields with `%f`. Only the default counters CSV's fields are
rendered (catalog entries without `requires`), as the Helm chart runs it.
"""
from __future__ import annotations

from functools import cache

from generator.catalog import EXPORTERS
from generator.catalog.base import COUNTER, GAUGE
from generator.catalog.dcgm import node_label
from generator.simulate.exposition import DCGM, Exposition
from generator.simulate.fleet import Fleet, Gpu, Node
from generator.simulate.roles import exporter_roles, kind
from generator.simulate.timeline import ModelTimeline, wave

EXPORTER = EXPORTERS["dcgm"]
INTEGER_ROLES = ("utilization", "memory_used", "memory_free", "temperature", "xid", "energy", "sm_clock",
                 "memory_clock", "nvlink", "rows", "remap_failure", "ecc", "violation")
RESERVED_MIB = 512  # framebuffer the driver reserves: neither used nor free
BOOT_AGE = 30 * 86400  # the nodes booted a month before the simulator started
IDLE_WATTS = 0.1  # share of the power limit an idle GPU draws


@cache
def roles() -> dict[str, str]:
    """Catalog metric -> what it carries, by unit (resolved on first use)."""
    return exporter_roles(EXPORTER, [
        ("utilization", kind(GAUGE, "percent")),
        ("memory_used", kind(GAUGE, "mebibytes", "used")),
        ("memory_free", kind(GAUGE, "mebibytes", "free")),
        ("power", kind(GAUGE, "watts")),
        ("temperature", kind(GAUGE, "celsius")),
        ("xid", kind(GAUGE, "xid")),
        ("tensor_active", kind(GAUGE, "ratio", "tensor")),
        ("energy", kind(COUNTER, "millijoules")),
        ("sm_clock", kind(GAUGE, "megahertz", "sm clock")),
        ("memory_clock", kind(GAUGE, "megahertz", "memory clock")),
        ("nvlink", kind(COUNTER, "nvlink_counter")),
        ("rows", kind(COUNTER, "rows")),
        ("remap_failure", kind(GAUGE, "boolean", "remapping")),
        ("ecc", kind(COUNTER, "errors", "ecc")),
        ("violation", kind(COUNTER, "microseconds", "clocks were held down")),
    ])


def render(fleet: Fleet, node: Node, timelines: dict[str, ModelTimeline], t: float, start: float) -> str:
    version = fleet.inventory.exporters[EXPORTER.name]
    host = node_label(version)
    out = Exposition(DCGM)
    gpus = [(gpu, _state(fleet, gpu, timelines, t)) for gpu in node.gpus]
    for metric in EXPORTER.metrics:
        if not metric.exposed_in(version) or metric.requires:  # not in the default CSV
            continue
        role = roles()[metric.name]
        out.family(metric.name, "counter" if metric.type == COUNTER else "gauge", metric.help)
        for gpu, state in gpus:
            labels = [("gpu", str(gpu.index)), ("UUID", gpu.uuid), ("pci_bus_id", gpu.pci_bus_id),
                      ("device", f"nvidia{gpu.index}"), ("modelName", gpu.model_name), (host, gpu.node)]
            if state["pod"]:
                labels += [("container", state["container"]), ("namespace", state["namespace"]),
                           ("pod", state["pod"])]
            value = _value(role, gpu, state, t, start)
            out.sample(metric.name, labels, value, integer=role in INTEGER_ROLES)
    return out.text()


def _state(fleet: Fleet, gpu: Gpu, timelines: dict[str, ModelTimeline], t: float) -> dict:
    replica = fleet.owner(gpu)
    idle = {"pod": None, "busy": False, "utilization": 0.0, "memory": 0.003, "power": IDLE_WATTS, "xid": 0}
    if replica is None:
        return idle
    timeline = timelines[replica.model.name]
    load = timeline.load(replica.index, t)
    first = replica.index == 0 and gpu == replica.gpus[0]
    if load.scaled_to_zero:  # no pod holds the GPU; it keeps its last XID
        return {**idle, "xid": timeline.xid(t) if first else 0}
    serving = replica.index in timeline.at(t).serving
    memory = load.gpu_memory if serving else 0.01  # a crashed engine frees its memory
    if first and load.hot_gpu_memory is not None:
        memory = load.hot_gpu_memory
    return {
        # Without Kubernetes mode (-k) dcgm-exporter knows no pods: the GPU series carry no pod labels.
        "pod": replica.pod if load.gpu_pod_labels else None, "namespace": replica.namespace,
        "container": replica.container, "busy": serving,
        "utilization": load.gpu_utilization if serving else 0.0, "memory": memory,
        "power": load.gpu_power if serving else IDLE_WATTS, "xid": timeline.xid(t) if first else 0,
        "seed": (replica.model.name, replica.index, gpu.index),
    }


def _value(role: str, gpu: Gpu, state: dict, t: float, start: float) -> float:
    seed = state.get("seed", (gpu.node, gpu.index))
    if role == "utilization":
        level = state["utilization"]
        if state["busy"] and level < 99:
            level += 4 * wave(t, 29, *seed, "util")
        return max(0.0, min(100.0, level))
    if role in ("memory_used", "memory_free"):
        usable = gpu.memory_mib - RESERVED_MIB
        used = round(min(1.0, state["memory"]) * usable)
        return used if role == "memory_used" else usable - used
    if role == "power":
        return round(state["power"] * gpu.power_limit * (1 + 0.02 * wave(t, 17, *seed, "power")), 3)
    if role == "temperature":
        return 34 + 0.4 * state["utilization"]
    if role == "xid":
        return state["xid"]
    if role == "tensor_active":
        return round(0.55 * state["utilization"] / 100, 6)
    if role == "energy":
        return round(0.5 * gpu.power_limit * (t - start + BOOT_AGE) * 1000)
    if role == "sm_clock":  # boost clock under load, base clock idle
        return 1980 if state["busy"] else 345
    if role == "memory_clock":
        return 2619
    if role == "nvlink":  # grows with utilisation: tensor-parallel replicas talk over NVLink
        return round((0.05 + state["utilization"] / 100) * 2e6 * (t - start + BOOT_AGE))
    if role == "rows":  # a month-old fleet: no remapped rows
        return 0
    if role in ("remap_failure", "ecc", "violation"):
        return 0
    raise AssertionError(f"no behaviour for DCGM role {role}")
