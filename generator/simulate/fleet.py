"""The simulated fleet laid out from the inventory: sites, GPU nodes, and each model's replicas.

A *site* is one set of selector labels (`cluster: prod-eu`): it has its own
kube-state-metrics and one dcgm-exporter per GPU node, as a Kubernetes cluster
does. Replicas are packed onto 8-GPU nodes; GPUs no pod uses are idle and carry
no pod labels, as dcgm-exporter reports them.
"""
from __future__ import annotations

import hashlib
import re
import uuid as uuid_mod
from dataclasses import dataclass

from generator.catalog import ENGINES
from generator.errors import GeneratorError
from generator.inventory import Inventory, Model
from generator.podnames import deployment_suffix, pod_name
from generator.promql import regex_escape
from generator.simulate.workload import replicas

GPUS_PER_NODE = 8

# GPU model names as DCGM reports them (`modelName`), and framebuffer sizes in MiB.
_GPU_MODELS = {
    "H100": ("NVIDIA H100 80GB HBM3", 81559, 700),
    "H200": ("NVIDIA H200", 143771, 700),
    "A100-40": ("NVIDIA A100-SXM4-40GB", 40960, 400),
    "A100": ("NVIDIA A100-SXM4-80GB", 81920, 400),
    "L40S": ("NVIDIA L40S", 46068, 350),
    "L4": ("NVIDIA L4", 23034, 72),
    "A10": ("NVIDIA A10G", 23028, 300),
}


def gpu_model(gpu_type: str) -> tuple[str, int, int]:
    """(DCGM modelName, framebuffer MiB, power limit W) for an inventory `gpu.type`."""
    key = gpu_type.upper().replace(" ", "-")
    for prefix in sorted(_GPU_MODELS, key=len, reverse=True):
        if key.startswith(prefix):
            return _GPU_MODELS[prefix]
    return (f"NVIDIA {gpu_type}", 81920, 500)


def container_image(model: Model, version: object) -> str:
    """The engine container's image reference for a version: the official image where it fits the model's
    image_pattern, else one built from the pattern (a custom registry or tag scheme)."""
    pattern = model.image_pattern.format(version=regex_escape(str(version)))
    official = ENGINES[model.engine].official_image.format(version=version)
    if official and re.fullmatch(pattern, official):
        return official
    return pod_name(pattern, f"{model.name}/image")


def stable_uuid(*parts: object) -> str:
    return str(uuid_mod.UUID(hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:32]))


@dataclass(frozen=True)
class Gpu:
    node: str
    index: int
    uuid: str
    pci_bus_id: str
    model_name: str
    memory_mib: int
    power_limit: int


@dataclass(frozen=True)
class Replica:
    model: Model
    index: int
    pod: str  # stable name: a replaced pod keeps it (StatefulSet-like), so scrape targets stay put
    gpus: tuple[Gpu, ...]
    container: str

    @property
    def namespace(self) -> str:
        return self.model.namespace


@dataclass(frozen=True)
class Node:
    name: str
    site: str
    gpus: tuple[Gpu, ...]


@dataclass(frozen=True)
class Site:
    name: str  # slug used in URLs
    labels: tuple[tuple[str, str], ...]  # the selector labels its targets carry


@dataclass(frozen=True)
class BystanderPod:
    """A pod that is no model's: kube-state-metrics lists every pod, queries must not match these."""

    namespace: str
    pod: str
    site: str


class Fleet:
    def __init__(self, inventory: Inventory):
        self.inventory = inventory
        self.models: dict[str, Model] = {m.name: m for m in inventory.models}
        self.sites: dict[str, Site] = {}
        self.site_of: dict[str, str] = {}
        for model in inventory.models:
            labels = model.selector
            name = "-".join(v for _, v in labels) or "default"
            name = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name)
            existing = self.sites.get(name)
            if existing is not None and existing.labels != labels:
                name = f"{name}-{hashlib.sha256(repr(labels).encode()).hexdigest()[:6]}"
            self.sites.setdefault(name, Site(name, labels))
            self.site_of[model.name] = name
        self.replicas: dict[str, tuple[Replica, ...]] = {}
        # A rollout's surge pod (scenario stuck-rollout): a new ReplicaSet's pod, so a new template hash.
        self.surge_pods: dict[str, str] = {m.name: pod_name(m.pod_regex, f"{m.name}-surge/{replicas(m)}")
                                           for m in inventory.models}
        self.nodes: dict[str, Node] = {}
        self._layout()
        self.bystanders = self._bystanders()

    def _layout(self) -> None:
        free: dict[str, list[Gpu]] = {}  # site -> GPUs not yet given to a pod
        counters: dict[str, int] = {}
        seen: dict[tuple[str, str], str] = {}
        for model in self.inventory.models:
            site = self.site_of[model.name]
            model_name, memory, power = gpu_model(model.gpu_type)
            result = []
            for index in range(replicas(model)):
                pod = pod_name(model.pod_regex, f"{model.name}/{index}")
                key = (model.namespace, pod)
                if key in seen:
                    raise GeneratorError(f"pod_regex {model.pod_regex!r} of {model.name} gives the pod name "
                                         f"{pod!r} twice (also {seen[key]}); make it accept a generated suffix")
                seen[key] = model.name
                # A replica's GPUs sit on one node: take a fresh node when the current one is too full.
                pool = [g for g in free.get(site, []) if g.model_name == model_name]
                if len(pool) < model.gpus_per_replica or model.gpus_per_replica > GPUS_PER_NODE:
                    counters[site] = counters.get(site, 0) + 1
                    node = f"gpu-node-{site}-{counters[site]}"
                    gpus = tuple(
                        Gpu(node, i, "GPU-" + stable_uuid(node, i), f"00000000:{0x18 + 0x10 * i:02X}:00.0",
                            model_name, memory, power)
                        for i in range(max(GPUS_PER_NODE, model.gpus_per_replica)))
                    self.nodes[node] = Node(node, site, gpus)
                    free[site] = [g for g in free.get(site, []) if g.model_name != model_name] + list(gpus)
                    pool = [g for g in free[site] if g.model_name == model_name]
                taken = tuple(pool[:model.gpus_per_replica])
                free[site] = [g for g in free[site] if g not in taken]
                result.append(Replica(model, index, pod, taken, model.container))
            self.replicas[model.name] = tuple(result)

    def _bystanders(self) -> list[BystanderPod]:
        pods = []
        for site in self.sites:
            pods.append(BystanderPod("kube-system", f"coredns-{deployment_suffix(site + '/coredns')}", site))
            namespaces = sorted({m.namespace for m in self.inventory.models if self.site_of[m.name] == site})
            for ns in namespaces:
                pods.append(BystanderPod(ns, f"llm-gateway-{deployment_suffix(ns + '/gateway')}", site))
        return pods

    def owner(self, gpu: Gpu) -> Replica | None:
        for replicas_ in self.replicas.values():
            for replica in replicas_:
                if gpu in replica.gpus:
                    return replica
        return None

    def replica(self, namespace: str, pod: str) -> Replica | None:
        for replicas_ in self.replicas.values():
            for replica in replicas_:
                if replica.namespace == namespace and replica.pod == pod:
                    return replica
        return None
