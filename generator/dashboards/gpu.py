"""The GPU fleet: what every model's GPUs are doing, from the `llm:gpu_*` recording rules."""
from __future__ import annotations

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
)
from generator.dashboards.layout import Section
from generator.inventory import Inventory


def gpu_dashboard(inventory: Inventory) -> dict:
    count = fleet_series(c.GPU_COUNT)
    totals = [
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
    per_model = [
        _by_model("gpu.utilization", "GPU utilisation", "Mean utilisation of each model's GPUs, 0-1.", p.RATIO,
                  c.GPU_UTILIZATION),
        _by_model("gpu.memory", "GPU memory used", "Each model's fullest GPU framebuffer, 0-1.", p.RATIO,
                  c.GPU_MEMORY),
        _by_model("gpu.power", "GPU power", "Power drawn by each model's GPUs.", p.WATT, c.GPU_POWER),
        _by_model("gpu.xid", "XID errors", "Last XID error code of each model's GPUs; 0 = none.", p.NONE,
                  c.GPU_XID),
        _by_model("gpu.count", "GPUs", "GPUs reporting to DCGM for each model.", p.SHORT, c.GPU_COUNT),
    ]
    return dashboard(
        c.GPU_UID, "LLM GPU fleet", "GPU utilisation, memory, power and errors per model, from DCGM via the "
        "llm: recording rules.", ["llm-gpu"],
        [Section("totals", "Selected models", totals), Section("models", "By model", per_model)],
        [link(c.FLEET_UID, "Fleet overview"), model_dashboards_link()], info_variables(inventory),
        cluster=cluster_label(inventory))


def _by_model(key: str, title: str, description: str, unit: str, metric: str) -> p.TimeSeries:
    return p.timeseries(key, title, f"{description} One line per model.", unit,
                        [p.target(by_model("max", fleet_series(metric)), "{{model}}")], width=12,
                        minimum=0, maximum=1 if unit == p.RATIO else None)
