"""PromQL for the GPU fleet dashboard: every GPU dcgm-exporter reports, per node and per GPU.

Unlike `ModelQueries`, these read every GPU, the ones no inventory model holds
included: those are the cost lever. Series keep the labels dcgm-exporter gives
them (`gpu`, `modelName`), with the node, namespace and pod labels the
inventory's `collectors.dcgm` names renamed to `node`, `namespace` and `pod`,
and narrowed to the nodes the `$node` variable selects. A field the exporter
version does not expose by default is refused (`CatalogError`), as
`ModelQueries.selector` refuses it.
"""
from __future__ import annotations

from generator import conventions as c
from generator.catalog import EXPORTERS
from generator.catalog.base import Metric
from generator.catalog.dcgm import UTIL  # the series that lists every GPU, as the `gpus` signal counts it
from generator.errors import CatalogError
from generator.inventory import Inventory
from generator.promql import selector
from generator.queries import rename_labels

NODE_VARIABLE = "$node"


class GpuQueries:
    def __init__(self, inventory: Inventory):
        self.inventory = inventory
        self.exporter = EXPORTERS["dcgm"]
        self.version = inventory.exporters[self.exporter.name]
        self.collectors = inventory.collectors
        self.cluster = inventory.multi_cluster.label if inventory.multi_cluster is not None else None

    # -- what the exporter shows ---------------------------------------------

    def metric(self, name: str) -> Metric:
        return self.exporter.metric(name)

    def exposes(self, name: str) -> bool:
        """In the exporter version's default counters: the dashboard may chart it."""
        metric = self.metric(name)
        return metric.exposed_in(self.version) and not metric.requires

    def why_not(self, name: str) -> str:
        metric = self.metric(name)
        if not metric.exposed_in(self.version):
            return f"{self.exporter.title} {self.version} does not expose `{name}`."
        return metric.requires

    # -- selectors -----------------------------------------------------------

    def node_label(self) -> str:
        return self.collectors.dcgm_node_label

    def series(self, name: str, *matchers: tuple[str, str, str]) -> str:
        """Per GPU of the selected nodes, with canonical `node`, `namespace` and `pod` labels."""
        return self._canonical(self._selector(name, matchers))

    def increase(self, name: str, window: str) -> str:
        """A counter's increase over `window` per GPU of the selected nodes, with canonical labels."""
        return self._canonical(f"increase({self._selector(name, ())}[{window}])")

    def rate(self, name: str, window: str) -> str:
        """A counter's per-second rate per GPU of the selected nodes, with canonical labels."""
        return self._canonical(f"rate({self._selector(name, ())}[{window}])")

    def _selector(self, name: str, matchers) -> str:
        if not self.exposes(name):
            raise CatalogError(f"{self.exporter.title} {self.version} does not expose {name} by default: "
                               f"{self.why_not(name)}")
        return selector(name, [(self.node_label(), "=~", NODE_VARIABLE), *matchers])

    def _canonical(self, expr: str) -> str:
        c = self.collectors
        return rename_labels(expr, (("node", c.dcgm_node_label), ("namespace", c.dcgm_namespace_label),
                                    ("pod", c.dcgm_pod_label)))

    def keys(self, *labels: str) -> str:
        """Grouping labels, with the cluster label first in multi-cluster mode (node names repeat across
        clusters)."""
        return ", ".join([*filter(None, [self.cluster]), *labels])

    def by(self, aggregation: str, expr: str, *labels: str) -> str:
        keys = self.keys(*labels)
        return f"{aggregation} by ({keys}) ({expr})" if keys else f"{aggregation}({expr})"

    def legend(self, *labels: str) -> str:
        """A legend naming the series' labels, the cluster first in multi-cluster mode."""
        return " / ".join("{{" + label + "}}" for label in [*filter(None, [self.cluster]), *labels])

    # -- allocation ------------------------------------------------------------

    def gpus(self) -> str:
        """Every GPU of the selected nodes, once (its utilisation series)."""
        return self.series(UTIL)

    def idle(self) -> str:
        """GPUs no pod holds: dcgm-exporter gives them no pod label."""
        return self.series(UTIL, (self.collectors.dcgm_pod_label, "=", ""))

    def allocated(self) -> str:
        """The GPUs inventory models' pods hold on the selected nodes, labelled with the `model` and its
        dashboard's uid: each model's rules record them (`llm:gpu_held:info`, matched by namespace and pod name as
        `ModelQueries` matches the model's GPUs), so the query stays one selector however many models there are."""
        return selector(c.GPU_HELD, [("node", "=~", NODE_VARIABLE)])

    def count_by_node(self, expr: str) -> str:
        """GPUs per node among `expr`, 0 on a selected node with none (so every node has a value)."""
        every = self.by("count", self.gpus(), "node")
        return f"{self.by('count', expr, 'node')} or 0 * {every}"
