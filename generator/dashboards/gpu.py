"""The GPU fleet: where the GPUs go, what each model's GPUs do, and every GPU per node.

Top to bottom: the selected models' GPUs (from the `llm:gpu_*` recording rules),
then every GPU dcgm-exporter reports (`GpuQueries`, the `$node` variable):
how many no inventory model holds per node (the cost lever), one row per GPU
with the model that holds it (a link to that model's dashboard, narrowed to the
pod), one line per GPU for utilisation, memory, power, temperature and SM clock,
then memory health (row remapping) and NVLink. Fields not in the exporter
version's default counters get a text panel naming the field to enable.
"""
from __future__ import annotations

from grafanalib.core import Template

from generator import conventions as c
from generator.dashboards import panels as p
from generator.dashboards.common import (
    by_model,
    cluster_label,
    dashboard,
    fleet_series,
    info_variables,
    join_keys,
    link,
    model_dashboards_link,
    model_legend,
    variable,
)
from generator.dashboards.layout import Section, spread
from generator.gpu_queries import UTIL, GpuQueries
from generator.inventory import Inventory

LIVE = "$__rate_interval"
CELSIUS, HERTZ = "celsius", "hertz"
# Fields this dashboard reads beyond the utilisation that lists the GPUs.
MEMORY = ("DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE")
POWER, TEMPERATURE, SM_CLOCK = "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_SM_CLOCK"
XID, NVLINK = "DCGM_FI_DEV_XID_ERRORS", "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL"
REMAPPED = ("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS")
REMAP_FAILURE = "DCGM_FI_DEV_ROW_REMAP_FAILURE"
ECC = ("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL")
VIOLATIONS = ("DCGM_FI_DEV_POWER_VIOLATION", "DCGM_FI_DEV_THERMAL_VIOLATION")


def gpu_dashboard(inventory: Inventory) -> dict:
    g = GpuQueries(inventory)
    sections = [
        Section("totals", "Selected models", _totals(inventory)),
        Section("models", "By model", [_models_table(inventory), *_per_model(inventory)]),
        Section("allocation", "Allocation: GPUs no inventory model holds, per node", _allocation(g)),
        Section("per_gpu", "Per GPU", _per_gpu(g)),
        Section("health", "Memory health, NVLink and clock events", spread(_health(g)), collapsed=True),
    ]
    return dashboard(
        c.GPU_UID, "LLM GPU fleet", "Where the GPUs go (allocated to inventory models or not, per node), what "
        "each model's GPUs do (llm: recording rules), and every GPU dcgm-exporter reports.", ["llm-gpu"],
        sections, [link(c.FLEET_UID, "Fleet overview"), model_dashboards_link()],
        [*info_variables(inventory), _node_variable(g)], cluster=cluster_label(inventory))


def _node_variable(g: GpuQueries) -> Template:
    """`$node`: every node dcgm-exporter reports GPUs on, held or idle, all by default."""
    scope = f'{{{g.cluster}=~"$cluster"}}' if g.cluster else ""
    return variable("node", "Node", f"label_values({UTIL}{scope}, {g.node_label()})")


# -- the selected models (recorded) ------------------------------------------------


def _totals(inventory: Inventory) -> list:
    count = fleet_series(c.GPU_COUNT)
    return [
        p.stat("gpu.total.count", "GPUs", "GPUs reporting to DCGM across the selected models.", p.SHORT,
               [p.target(f"sum({count})", instant=True)], thresholds=p.steps(p.GOOD)),
        p.stat("gpu.total.utilization", "Utilisation", "Mean utilisation across the selected models' GPUs, "
               "weighted by each model's GPU count.", p.RATIO,
               [p.target(f"sum({fleet_series(c.GPU_UTILIZATION)} * on ({join_keys(inventory)}) {count}) / sum({count})",
                         instant=True)], thresholds=p.steps(p.GOOD), minimum=0, maximum=1, decimals=1),
        p.stat("gpu.total.power", "Power", "Power drawn by the selected models' GPUs.", p.WATT,
               [p.target(f"sum({fleet_series(c.GPU_POWER)})", instant=True)], thresholds=p.steps(p.GOOD)),
        p.stat("gpu.total.xid", "Models with XID errors", "Models whose GPUs reported an XID error (red: any).",
               p.SHORT, [p.target(f"count({fleet_series(c.GPU_XID)} > 0) or vector(0)", instant=True)],
               thresholds=p.above(1)),
    ]


def _models_table(inventory: Inventory) -> p.Table:
    """One row per selected model: its GPUs and what they do; the model links to its dashboard."""
    info = f"max by ({join_keys(inventory)}, gpu_type, dashboard_uid) ({fleet_series(c.MODEL_INFO)})"
    columns = [
        ("GPUs", p.SHORT, c.GPU_COUNT, "sum"),
        ("Utilisation", p.RATIO, c.GPU_UTILIZATION, "max"),
        ("Memory (fullest)", p.RATIO, c.GPU_MEMORY, "max"),
        ("Power", p.WATT, c.GPU_POWER, "sum"),
        ("Last XID", p.NONE, c.GPU_XID, "max"),
    ]
    keys = join_keys(inventory)
    targets = [p.target(info, instant=True, table=True)]
    targets += [p.target(f"{op} by ({keys}) ({fleet_series(metric)})", instant=True, table=True)
                for _, _, metric, op in columns]
    values = {f"Value #{chr(ord('B') + i)}": name for i, (name, _, _, _) in enumerate(columns)}
    order = [*keys.split(", "), "gpu_type", *values.values(), "dashboard_uid"]
    overrides = [_column(name, [{"id": "unit", "value": unit}]) for name, unit, _, _ in columns]
    overrides[-1]["properties"] += _colour(p.above(1))
    overrides += [
        _column(c.MODEL_LABEL, [{"id": "links", "value": [{
            "title": "Open the model's dashboard",
            "url": "/d/${__data.fields.dashboard_uid}?var-datasource=${datasource}&${__url_time_range}"}]}]),
        _column("dashboard_uid", [{"id": "custom.hidden", "value": True}]),
    ]
    return p.table(
        "gpu.models.table", "Models' GPUs",
        "One row per selected model: the GPU type the inventory names, the GPUs DCGM sees in its pods, their "
        "mean utilisation, fullest framebuffer, total power and the last XID error code (0 = none). Click a "
        "model to open its dashboard.", targets, transformations=[
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {"excludeByName": {"Time": True, "Value #A": True},
                                           "renameByName": {"gpu_type": "GPU type", **values},
                                           "indexByName": {name: i for i, name in enumerate(order)}}},
        ], overrides=overrides, height=min(24, 5 + len(inventory.models)))


def _per_model(inventory: Inventory) -> list:
    charts = [
        ("gpu.utilization", "GPU utilisation", "Mean utilisation of each model's GPUs, 0-1.", p.RATIO,
         c.GPU_UTILIZATION),
        ("gpu.memory", "GPU memory used", "Each model's fullest GPU framebuffer, 0-1.", p.RATIO, c.GPU_MEMORY),
        ("gpu.power", "GPU power", "Power drawn by each model's GPUs.", p.WATT, c.GPU_POWER),
        ("gpu.xid", "XID errors", "Last XID error code of each model's GPUs; 0 = none.", p.NONE, c.GPU_XID),
        ("gpu.count", "GPUs", "GPUs reporting to DCGM for each model.", p.SHORT, c.GPU_COUNT),
    ]
    return [_by_model(inventory, *chart) for chart in charts]


def _by_model(inventory: Inventory, key: str, title: str, description: str, unit: str,
              metric: str) -> p.TimeSeries:
    return p.timeseries(key, title, f"{description} One line per model.", unit,
                        [p.target(by_model("max", fleet_series(metric), inventory), model_legend(inventory))],
                        width=12, minimum=0, maximum=1 if unit == p.RATIO else None)


# -- every GPU (DCGM) ------------------------------------------------------------------


def _allocation(g: GpuQueries) -> list:
    """GPUs seen, held by inventory models, and the rest, for the selected nodes; then per node."""
    seen, held = f"count({g.gpus()})", f"count({g.allocated()})"
    unallocated = f"{g.gpus()} unless on ({g.keys('node', 'gpu')}) ({g.allocated()})"
    stats = [
        p.stat("gpu.fleet.seen", "GPUs seen", "Every GPU dcgm-exporter reports on the selected nodes, held by a "
               "pod or idle.", p.SHORT, [p.target(seen, instant=True)], thresholds=p.steps(p.GOOD)),
        p.stat("gpu.fleet.allocated", "Held by inventory models", "GPUs the pods of inventory models hold "
               "(matched by namespace and pod name, as the model dashboards match them).", p.SHORT,
               [p.target(f"{held} or vector(0)", instant=True)], thresholds=p.steps(p.GOOD)),
        p.stat("gpu.fleet.unallocated", "Not held by inventory models", "GPUs on the selected nodes no "
               "inventory model's pod holds: idle, or held by pods outside the inventory. Each is paid for; "
               "orange from one.", p.SHORT, [p.target(f"count({unallocated}) or vector(0)", instant=True)],
               thresholds=p.above(1, p.WARN)),
        p.stat("gpu.fleet.unallocated_power", "Their power", "Power the GPUs no inventory model holds draw now.",
               p.WATT, [p.target(f"sum({g.series(POWER)} unless on ({g.keys('node', 'gpu')}) ({g.allocated()})) "
                                 f"or vector(0)", instant=True)], thresholds=p.steps(p.GOOD)),
    ]
    return [*stats, _nodes_table(g), p.timeseries(
        "gpu.fleet.unallocated_by_node", "GPUs not held by inventory models, by node",
        "Per node, GPUs no inventory model's pod holds (idle or held by other pods). One line per node.",
        p.SHORT, [p.target(g.count_by_node(unallocated), g.legend("node"))], minimum=0, width=24)]


def _nodes_table(g: GpuQueries) -> p.Table:
    held_by_others = g.series(UTIL, (g.collectors.dcgm_pod_label, "!=", ""))
    others = f"{held_by_others} unless on ({g.keys('node', 'gpu')}) ({g.allocated()})"
    columns = [
        ("GPUs", p.SHORT, g.by("count", g.gpus(), "node", "modelName"), None),
        ("Inventory models", p.SHORT, g.count_by_node(g.allocated()), None),
        ("Other pods", p.SHORT, g.count_by_node(others), p.above(1, p.WARN)),
        ("Idle", p.SHORT, g.count_by_node(g.idle()), p.above(1, p.WARN)),
        ("Utilisation", p.RATIO, f"{g.by('avg', g.gpus(), 'node')} / 100", None),
        ("Power", p.WATT, g.by("sum", g.series(POWER), "node"), None),
    ]
    targets = [p.target(expr, instant=True, table=True) for _, _, expr, _ in columns]
    values = {f"Value #{chr(ord('A') + i)}": name for i, (name, _, _, _) in enumerate(columns)}
    order = [*g.keys("node").split(", "), "modelName", *values.values()]
    overrides = [_column(name, [{"id": "unit", "value": unit}, *(_colour(steps) if steps else [])])
                 for name, unit, _, steps in columns]
    return p.table(
        "gpu.fleet.nodes", "Nodes",
        "One row per node: its GPUs (and their model), how many inventory models' pods hold, how many other "
        "pods hold, how many no pod holds (idle), their mean utilisation and total power. Other pods and idle "
        "GPUs are orange from one: GPUs paid for that serve no inventory model.", targets, transformations=[
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {"excludeByName": {"Time": True},
                                           "renameByName": {"modelName": "GPU model", **values},
                                           "indexByName": {name: i for i, name in enumerate(order)}}},
        ], overrides=overrides, height=10)


def _per_gpu(g: GpuQueries) -> list:
    gpu = ("node", "gpu")
    used, free = (g.series(name) for name in MEMORY)
    charts = [
        ("gpu.node.utilization", "Utilisation", "Each GPU's utilisation, 0-1 (DCGM reports 0-100).", p.RATIO,
         f"{g.by('max', g.gpus(), *gpu)} / 100", (0, 1)),
        ("gpu.node.memory", "Framebuffer used", "Each GPU's framebuffer in use, 0-1: used over used plus free.",
         p.RATIO, g.by("max", f"{used} / ({used} + {free})", *gpu), (0, 1)),
        ("gpu.node.power", "Power", "Each GPU's power draw.", p.WATT, g.by("max", g.series(POWER), *gpu), (0, None)),
        ("gpu.node.temperature", "Temperature", "Each GPU's temperature.", CELSIUS,
         g.by("max", g.series(TEMPERATURE), *gpu), (None, None)),
        ("gpu.node.sm_clock", "SM clock", "Each GPU's SM clock. A clock well below its peers' under the same "
         "load says power or thermal limits hold it down (the clock-event counters in the row below say which).",
         HERTZ, f"{g.by('max', g.series(SM_CLOCK), *gpu)} * 1000000", (0, None)),
    ]
    panels = [_gpu_table(g)]
    for key, title, description, unit, expr, (low, high) in charts:
        panels.append(p.timeseries(key, f"{title} per GPU", f"{description} One line per GPU of the selected "
                                   f"nodes.", unit, [p.target(expr, g.legend(*gpu))], minimum=low, maximum=high))
    return panels


def _gpu_table(g: GpuQueries) -> p.Table:
    """One row per GPU: where it is, what holds it (the model links to its dashboard, narrowed to the pod)."""
    gpu = ("node", "gpu")
    used, free = (g.series(name) for name in MEMORY)
    columns = [
        (None, g.by("max", g.gpus(), *gpu, "modelName", "namespace", "pod"), None),
        (None, g.by("max", g.allocated(), *gpu, c.MODEL_LABEL, "dashboard_uid"), None),
        ("Utilisation", f"{g.by('max', g.gpus(), *gpu)} / 100", p.RATIO),
        ("Memory", g.by("max", f"{used} / ({used} + {free})", *gpu), p.RATIO),
        ("Power", g.by("max", g.series(POWER), *gpu), p.WATT),
        ("Temperature", g.by("max", g.series(TEMPERATURE), *gpu), CELSIUS),
        ("SM clock", f"{g.by('max', g.series(SM_CLOCK), *gpu)} * 1000000", HERTZ),
        ("Last XID", g.by("max", g.series(XID), *gpu), p.NONE),
    ]
    targets = [p.target(expr, instant=True, table=True) for _, expr, _ in columns]
    values = {f"Value #{chr(ord('A') + i)}": name for i, (name, _, _) in enumerate(columns) if name}
    hidden = {f"Value #{chr(ord('A') + i)}": True for i, (name, _, _) in enumerate(columns) if not name}
    order = [*g.keys(*gpu).split(", "), "modelName", c.MODEL_LABEL, "namespace", "pod", *values.values(),
             "dashboard_uid"]
    overrides = [_column(name, [{"id": "unit", "value": unit}]) for name, _, unit in columns if name]
    overrides[-1]["properties"] += _colour(p.above(1))
    overrides += [
        _column(c.MODEL_LABEL, [{"id": "links", "value": [{
            "title": "Open the model's dashboard, showing this pod",
            "url": "/d/${__data.fields.dashboard_uid}?var-pod=${__data.fields.pod}&var-datasource=${datasource}"
                   "&${__url_time_range}"}]}]),
        _column("dashboard_uid", [{"id": "custom.hidden", "value": True}]),
    ]
    return p.table(
        "gpu.node.table", "GPUs",
        "One row per GPU of the selected nodes: its node, index and model, the inventory model whose pod holds "
        "it (empty: none), the namespace and pod that hold it (empty: idle), utilisation, framebuffer in use, "
        "power, temperature, SM clock and the last XID error code (0 = none; DCGM keeps it until the exporter "
        "restarts). Click a model to open its dashboard showing that pod.", targets, transformations=[
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {"excludeByName": {"Time": True, **hidden},
                                           "renameByName": {"modelName": "GPU model", **values},
                                           "indexByName": {name: i for i, name in enumerate(order)}}},
        ], overrides=overrides, height=12)


def _health(g: GpuQueries) -> list:
    gpu = ("node", "gpu")
    panels = []
    if all(g.exposes(name) for name in REMAPPED):
        uncorrectable, correctable = (g.increase(name, LIVE) for name in REMAPPED)
        panels.append(p.timeseries(
            "gpu.node.remapped_rows", "Memory row remaps by node",
            "Memory rows the GPUs of each node remapped, per rate interval (so any point above 0 is a remap), for "
            "uncorrectable and for correctable errors. Uncorrectable remaps mean data was lost: the GPU needs a "
            "reset to apply the remap, and service when they keep coming.", p.SHORT,
            [p.target(g.by("sum", uncorrectable, "node"), g.legend("node") + " uncorrectable"),
             p.target(g.by("sum", correctable, "node"), g.legend("node") + " correctable")],
            thresholds=p.above(1), minimum=0))
    else:
        panels.append(_not_shown(g, "gpu.node.remapped_rows", "Remapped memory rows", REMAPPED))
    if g.exposes(REMAP_FAILURE):
        panels.append(p.stat(
            "gpu.node.remap_failure", "GPUs whose row remapping failed",
            "GPUs of the selected nodes that could not remap a failing memory row: replace or service them. "
            "Red from one.", p.SHORT, [p.target(f"count({g.series(REMAP_FAILURE)} > 0) or vector(0)", instant=True)],
            thresholds=p.above(1), height=p.HEIGHT))
    if g.exposes(NVLINK):
        panels.append(p.timeseries(
            "gpu.node.nvlink", "NVLink traffic per GPU",
            "Per-second rate of each GPU's NVLink bandwidth counter, summed over its lanes (dcgm-exporter's "
            "default CSV states no unit: compare GPUs and over time rather than read it as bytes). Tensor-parallel "
            "replicas talk over NVLink; a GPU quiet while its peers are busy is out of step. One line per GPU.",
            p.PER_SECOND, [p.target(g.by("sum", g.rate(NVLINK, LIVE), *gpu), g.legend(*gpu))],
            minimum=0))
    else:
        panels.append(_not_shown(g, "gpu.node.nvlink", "NVLink traffic", (NVLINK,)))
    panels.append(_not_shown(g, "gpu.node.ecc", "ECC errors", ECC))
    panels.append(_not_shown(g, "gpu.node.clock_events", "Clock events (throttling)", VIOLATIONS))
    return panels


def _not_shown(g: GpuQueries, key: str, title: str, fields: tuple[str, ...]) -> p.Text:
    """A text panel naming the fields the exporter must report for this chart, and how to turn them on."""
    missing = [name for name in fields if not g.exposes(name)]
    listed = ", ".join(f"`{name}` ({g.metric(name).help[0].lower()}{g.metric(name).help[1:].rstrip('.')})"
                       for name in missing)
    enable = " ".join(dict.fromkeys(g.why_not(name) for name in missing))
    return p.text(key, title, f"**Not in {g.exporter.title} {g.version}'s default counters:** {listed}. "
                              f"{enable} This dashboard charts only the default counters, so it never shows an "
                              f"empty chart; the fields are in the metric catalog (generator/catalog/dcgm.py).")


def _colour(steps: list[dict]) -> list[dict]:
    return [{"id": "thresholds", "value": {"mode": "absolute", "steps": steps}},
            {"id": "custom.cellOptions", "value": {"type": "color-background"}}]


def _column(name: str, properties: list[dict]) -> dict:
    return {"matcher": {"id": "byName", "options": name}, "properties": properties}

