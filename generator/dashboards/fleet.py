"""The fleet overview: every model on one page, from the `llm:` recording rules only.

The table joins one instant query per column on the `model` label (Grafana's
"merge" transformation), then names and orders the columns ("organize").
Engine metrics never appear here: a new engine needs no change to this page.
"""
from __future__ import annotations

from generator import conventions as c
from generator.dashboards import efficiency
from generator.dashboards import panels as p
from generator.dashboards.common import (
    any_model_shows,
    by_model,
    cluster_label,
    dashboard,
    fleet_series,
    info_variables,
    lines_by_model,
    link,
    model_dashboards_link,
)
from generator.dashboards.layout import Section
from generator.inventory import Inventory

SLO_WINDOW = "1h"
P95 = ("quantile", "=", "0.95")

# (column, unit, instant query) after the info query, in display order.
COLUMNS = (
    ("Burn rate", "suffix: x", None),  # filled in by _burn_rate()
    ("Requests/s", p.REQPS, by_model("sum", fleet_series(c.REQUESTS.format(window="5m")))),
    ("Generated tok/s", p.TOKENS_PER_SECOND, by_model("sum", fleet_series(c.GENERATION_TOKENS))),
    ("TTFT p95", p.SECONDS, by_model("max", fleet_series(c.LATENCY_QUANTILE.format(signal="ttft"), P95))),
    ("Error ratio", p.RATIO, by_model("max", fleet_series(c.ERROR_RATIO.format(window="5m")))),
    ("KV cache peak", p.RATIO, by_model("max", f"max_over_time({fleet_series(c.KV_CACHE)}[$__range])")),
    ("GPU utilisation", p.RATIO, by_model("max", fleet_series(c.GPU_UTILIZATION))),
    ("Budget left", p.RATIO, by_model("min", fleet_series(c.BUDGET_REMAINING))),
    # Pods per engine version their images name: a model mid-rollout or drifted gets one row per version.
    ("Pods", p.SHORT, f"count by ({c.MODEL_LABEL}, running_version) ({fleet_series(c.ENGINE_VERSION)})"),
)
LABEL_COLUMNS = {"engine_version": "Inventory version", "running_version": "Observed version"}
# Columns and panels (by key) on a signal not every engine version exposes: shown when some model's does.
COLUMN_NEEDS = {"Generated tok/s": "generation_tokens", "TTFT p95": "ttft", "KV cache peak": "kv_cache"}
PANEL_NEEDS = {p.panel_id("fleet.tokens"): "generation_tokens", p.panel_id("fleet.ttft_p95"): "ttft",
               p.panel_id("fleet.kv_cache"): "kv_cache"}


def fleet_dashboard(inventory: Inventory) -> dict:
    sections = [
        Section("models", "Status", [_table(inventory)]),
        Section("traffic", "Traffic and latency", shown(inventory, [
            lines_by_model("fleet.requests", "Requests by model", "Finished requests per second.", p.REQPS,
                           by_model("sum", fleet_series(c.REQUESTS.format(window="5m")))),
            lines_by_model("fleet.tokens", "Generated tokens by model", "Tokens generated per second.",
                           p.TOKENS_PER_SECOND, by_model("sum", fleet_series(c.GENERATION_TOKENS))),
            lines_by_model("fleet.ttft_p95", "TTFT p95 by model", "95th percentile of time to first token.",
                           p.SECONDS, by_model("max", fleet_series(c.LATENCY_QUANTILE.format(signal="ttft"), P95))),
            lines_by_model("fleet.errors", "Error ratio by model", "Share of requests that failed.", p.RATIO,
                           by_model("max", fleet_series(c.ERROR_RATIO.format(window="5m")))),
        ])),
        Section("capacity", "Capacity", shown(inventory, [
            lines_by_model("fleet.kv_cache", "KV-cache usage by model", "Fullest replica's KV cache, 1 = full.",
                           p.RATIO, by_model("max", fleet_series(c.KV_CACHE))),
            lines_by_model("fleet.gpu_utilization", "GPU utilisation by model",
                           "Mean utilisation of each model's GPUs.", p.RATIO,
                           by_model("max", fleet_series(c.GPU_UTILIZATION))),
        ])),
    ]
    sections += filter(None, [efficiency.fleet_section(inventory)])
    return dashboard(
        c.FLEET_UID, "LLM fleet overview",
        "Every model in the inventory, from the llm: recording rules.", ["llm-fleet"], sections,
        [link(c.GPU_UID, "GPU fleet"), model_dashboards_link()], info_variables(inventory), [_deploy_annotation()],
        cluster=cluster_label(inventory))


def _deploy_annotation() -> dict:
    """New pods of the selected models, from the recorded series: model, ReplicaSet and image."""
    return {
        "name": "New pods (deploy, restart or scale-up)",
        "datasource": p.DATASOURCE,
        "enable": True,
        "expr": fleet_series(c.NEW_PODS),
        "iconColor": "blue",
        "step": "1m",
        "titleFormat": "{{model}}: new pod {{pod}}",
        "textFormat": "{{owner_kind}} {{owner_name}}, image {{image}}",
        "tagKeys": "model,owner_name,image",
    }


def shown(inventory: Inventory, panels: list) -> list:
    """The panels whose signal some model's engine version exposes (PANEL_NEEDS)."""
    return [panel for panel in panels if _shows(inventory, PANEL_NEEDS.get(panel.id))]


def _columns(inventory: Inventory) -> list[tuple]:
    return [column for column in COLUMNS if _shows(inventory, COLUMN_NEEDS.get(column[0]))]


def _shows(inventory: Inventory, signal: str | None) -> bool:
    return signal is None or any_model_shows(inventory, signal)


def _info() -> str:
    """Model, team and engine, plus each model's dashboard uid (which may be shortened) for the cell link."""
    return f"max by ({c.MODEL_LABEL}, team, engine, engine_version, dashboard_uid) ({fleet_series(c.MODEL_INFO)})"


def _burn_rate() -> str:
    """The fastest error-budget burn over the last hour among the model's SLOs, as recorded:
    (1 - good share) / (1 - objective). 1 spends the budget exactly over the SLO period."""
    return by_model("max", fleet_series(c.BURN_RATE.format(window=SLO_WINDOW)))


def _table(inventory: Inventory) -> p.Table:
    columns = _columns(inventory)
    targets = [p.target(_info(), instant=True, table=True)]
    targets += [p.target(expr or _burn_rate(), instant=True, table=True) for _, _, expr in columns]
    values = {f"Value #{chr(ord('B') + i)}": name for i, (name, _, _) in enumerate(columns)}
    order = ["model", "team", "engine", *LABEL_COLUMNS.values(), *values.values(), "dashboard_uid"]
    transformations = [
        {"id": "merge", "options": {}},
        {"id": "organize", "options": {
            "excludeByName": {"Time": True, "Value #A": True},
            "renameByName": {**LABEL_COLUMNS, **values},
            "indexByName": {name: i for i, name in enumerate(order)},
        }},
    ]
    overrides = [_column(name, [{"id": "unit", "value": unit}]) for name, unit, _ in columns]
    overrides[0]["properties"] += [
        {"id": "thresholds", "value": {"mode": "absolute", "steps": p.steps(p.GOOD, (1, p.WARN), (6, p.BAD))}},
        {"id": "custom.cellOptions", "value": {"type": "color-background"}},
        {"id": "decimals", "value": 1},
    ]
    overrides += [
        _column("model", [{"id": "links", "value": [{
            "title": "Open the model's dashboard", "url": "/d/${__data.fields.dashboard_uid}?${__url_time_range}"}]}]),
        _column("dashboard_uid", [{"id": "custom.hidden", "value": True}]),
    ]
    return p.table(
        "fleet.table", "Models",
        f"One row per model. Burn rate: how fast the model's fastest-burning SLO (TTFT, ITL, TPOT, E2E, "
        f"availability; ITL's good share is of token gaps, the others' of requests) spends its error budget over "
        f"the last {SLO_WINDOW}, recorded as (1 - good share) / (1 - objective): 1x spends it "
        f"exactly over the SLO period, 6x pages when it lasts. Budget left: the least error "
        f"budget left of the model's SLOs over the SLO period (below 0: spent). Rates are 5-minute; KV cache "
        f"peak is over the dashboard range. Inventory version is the engine version the inventory declares; "
        f"Observed version the one the engine containers' images name, with how many pods run it (one row "
        f"per version while a rollout or drift mixes them). Click a model to open its dashboard.",
        targets, transformations=transformations, overrides=overrides, height=min(24, 5 + len(inventory.models)))


def _column(name: str, properties: list[dict]) -> dict:
    return {"matcher": {"id": "byName", "options": name}, "properties": properties}
