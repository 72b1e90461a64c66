"""Efficiency and cost rows: generated tokens per GPU, energy per token, and what the GPUs cost.

Everything reads the `llm:` recording rules (`rules/recording.py`), so the
fleet overview stays cheap. Cost needs a price per GPU-hour for the model's
GPU type in the inventory (`cost.gpu_hour`); without one the model dashboard
says so in a text panel, and the fleet overview leaves the cost panels out.
"""
from __future__ import annotations

from generator import conventions as c
from generator.capabilities import Capabilities
from generator.dashboards import panels as p
from generator.dashboards.common import any_model_shows, by_model, fleet_series, join_keys, lines_by_model
from generator.dashboards.layout import Section, spread
from generator.inventory import Inventory
from generator.promql import number
from generator.queries import ModelQueries

JOULE, PER_HOUR, PER_MILLION = "joule", "suffix: /h", "suffix: /M tok"


def model_section(q: ModelQueries, llm) -> Section:
    """`llm(model, name)` selects a recorded series of the model."""
    model, inventory = q.model, q.inventory
    price = inventory.gpu_hour_price(model.gpu_type) if inventory is not None else None
    panels = []
    if q.has("generation_tokens"):
        panels += [
            p.timeseries("cost.tokens_per_gpu", "Generated tokens per GPU",
                         "Tokens generated per second for each GPU DCGM sees in the model's pods (5-minute rate): "
                         "the throughput a GPU-hour buys.", p.TOKENS_PER_SECOND,
                         [p.target(llm(model, c.TOKENS_PER_GPU), "per GPU")], minimum=0),
            p.timeseries("cost.energy_per_token", "Energy per generated token",
                         "Joules the model's GPUs draw per generated token: DCGM's energy counter over the "
                         "generation rate (5-minute rates). Idle GPUs make it climb.", JOULE,
                         [p.target(llm(model, c.ENERGY_PER_TOKEN), "J/token")], minimum=0),
        ]
    else:
        panels.append(p.text("cost.tokens_per_gpu", "Generated tokens per GPU",
                             f"**Not available for {q.engine.title} {model.engine_version}.** "
                             f"{q.why_not('generation_tokens')}"))
    if price is None:
        panels.append(p.text("cost.per_hour", "Cost",
                             f"**No price for {model.gpu_type}.** Add "
                             f"`cost: {{gpu_hour: {{{model.gpu_type}: <price>}}}}` "
                             f"to the inventory for cost per hour and per million generated tokens."))
    else:
        panels.append(p.timeseries(
            "cost.per_hour", "GPU cost per hour",
            f"The model's GPUs (as DCGM sees them in its pods) times {number(price)} per {model.gpu_type} GPU-hour, "
            f"the inventory's price.", PER_HOUR, [p.target(llm(model, c.COST_PER_HOUR), "per hour")], minimum=0))
        if q.has("generation_tokens"):
            panels.append(p.timeseries(
                "cost.per_million_tokens", "Cost per million generated tokens",
                "GPU cost per second over generated tokens per second, times a million (5-minute rates): what a "
                "million output tokens cost at the current load.", PER_MILLION,
                [p.target(llm(model, c.COST_PER_MILLION_TOKENS), "per million tokens")], minimum=0))
    return Section("cost", "Efficiency and cost", spread(panels), collapsed=True)


def fleet_section(inventory: Inventory) -> Section | None:
    """Per model: tokens per GPU and energy per token where some engine version counts tokens; GPU cost
    where the inventory prices a GPU type, and cost per million tokens where a priced model counts them.
    None when there is nothing to show."""
    tokens_counted = any_model_shows(inventory, "generation_tokens")
    priced = [m for m in inventory.models if inventory.gpu_hour_price(m.gpu_type) is not None]
    priced_tokens = any(Capabilities(m).has("generation_tokens") for m in priced)
    panels = []
    if tokens_counted:
        panels += [
            lines_by_model("fleet.tokens_per_gpu", "Generated tokens per GPU by model",
                           "Tokens generated per second for each of the model's GPUs.", p.TOKENS_PER_SECOND,
                           by_model("max", fleet_series(c.TOKENS_PER_GPU), inventory), inventory),
            lines_by_model("fleet.energy_per_token", "Energy per generated token by model",
                           "Joules the model's GPUs draw per generated token.", JOULE,
                           by_model("max", fleet_series(c.ENERGY_PER_TOKEN), inventory), inventory),
        ]
    cost = fleet_series(c.COST_PER_HOUR)
    tokens = f"{fleet_series(c.GENERATION_TOKENS)} and on ({join_keys(inventory)}) {cost}"
    by_model_cost = [
        lines_by_model("fleet.cost_per_hour", "GPU cost per hour by model",
                       "Each model's GPUs times the inventory's price per GPU-hour of their type.", PER_HOUR,
                       by_model("sum", cost, inventory), inventory) if priced else None,
        lines_by_model("fleet.cost_per_million_tokens", "Cost per million generated tokens by model",
                       "GPU cost over generated tokens, per million tokens, at each model's current load.",
                       PER_MILLION, by_model("max", fleet_series(c.COST_PER_MILLION_TOKENS), inventory),
                       inventory)
        if priced_tokens else None,
        p.stat("fleet.cost_total", "Fleet GPU cost per hour",
               "The selected models' GPUs times their price per GPU-hour (models without a price are left "
               "out).", PER_HOUR, [p.target(f"sum({cost})", instant=True)], thresholds=p.steps(p.GOOD),
               width=12) if priced else None,
        p.stat("fleet.cost_per_million_total", "Fleet cost per million generated tokens",
               "Total GPU cost per second over the tokens the priced models generate per second, times a "
               "million: the fleet's price of a million output tokens.", PER_MILLION,
               [p.target(f"sum({cost}) / 3600 / (sum({tokens}) > 0) * 1000000", instant=True)],
               thresholds=p.steps(p.GOOD), decimals=2, width=12) if priced_tokens else None,
    ]
    panels += [panel for panel in by_model_cost if panel is not None]
    return Section("cost", "Efficiency and cost", panels, collapsed=True) if panels else None
