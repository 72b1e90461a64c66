"""What every generated dashboard shares: variables, links, and the shell around the panels.

`dashboard()` is the one place grafanalib's `Dashboard` is built and turned
into plain JSON: schemaVersion set explicitly, not editable (the inventory is
the source of truth), uid and panel ids checked, grafanalib's legacy keys and
nulls removed (`clean.py`).
"""
from __future__ import annotations

import json
from collections.abc import Sequence

from grafanalib._gen import DashboardEncoder
from grafanalib.core import (
    REFRESH_ON_TIME_RANGE_CHANGE,
    Annotations,
    Dashboard,
    DashboardLink,
    Template,
    Templating,
    Time,
)

from generator import conventions as c
from generator import grafana_facts
from generator.capabilities import Capabilities
from generator.dashboards import panels as p
from generator.dashboards.clean import clean_text
from generator.dashboards.layout import Section, layout
from generator.dashboards.panels import DATASOURCE
from generator.inventory import Inventory
from generator.promql import selector, with_matcher

TAGS = ("llm", "generated")
MODEL_TAG = "llm-model"  # on every per-model dashboard: the "Model dashboards" link lists them


def datasource_variable() -> Template:
    return Template(name="datasource", label="Data source", query="prometheus", type="datasource")


def cluster_label(inventory: Inventory) -> str | None:
    """The cluster label in multi-cluster mode: dashboards get a `$cluster` variable every query honours."""
    return inventory.multi_cluster.label if inventory.multi_cluster is not None else None


def any_model_shows(inventory: Inventory, signal: str) -> bool:
    """Some model's engine version exposes `signal`: a fleet panel on it would otherwise query a series no
    rule records (a fleet of Triton releases without token counts, say)."""
    return any(Capabilities(m).has(signal) for m in inventory.models)


def join_keys(inventory: Inventory) -> str:
    """What joins two recorded series of one model: the model, and in multi-cluster mode its cluster."""
    return ", ".join([c.MODEL_LABEL, *filter(None, [cluster_label(inventory)])])


def variable(name: str, label: str, query: str) -> Template:
    """A multi-select variable from a label's values, all selected by default."""
    return Template(name=name, label=label, query=query, dataSource=DATASOURCE, includeAll=True,
                    multi=True, allValue=".+", default="$__all",
                    refresh=REFRESH_ON_TIME_RANGE_CHANGE)


def cluster_variables(inventory: Inventory) -> list[Template]:
    """`cluster` (multi-cluster mode only): the clusters the models run in, all by default."""
    label = cluster_label(inventory)
    return [variable("cluster", "Cluster", f"label_values({c.MODEL_INFO}, {label})")] if label else []


def info_variables(inventory: Inventory) -> list[Template]:
    """`cluster` in multi-cluster mode, `team`, `namespace` narrowed by team, then `model` narrowed by both,
    from the model info series (and in multi-cluster mode each narrowed by `$cluster`)."""
    label = cluster_label(inventory)

    def within(*matchers: str) -> str:
        scoped = [f'{label}=~"$cluster"'] * bool(label) + list(matchers)
        return "{" + ", ".join(scoped) + "}" if scoped else ""

    team, namespace = 'team=~"$team"', 'namespace=~"$namespace"'
    return [
        *cluster_variables(inventory),
        variable("team", "Team", f"label_values({c.MODEL_INFO}{within()}, team)"),
        variable("namespace", "Namespace", f"label_values({c.MODEL_INFO}{within(team)}, namespace)"),
        variable("model", "Model", f"label_values({c.MODEL_INFO}{within(team, namespace)}, {c.MODEL_LABEL})"),
    ]


def fleet_series(metric: str, *matchers: tuple[str, str, str]) -> str:
    """A recorded `llm:` series of the models the `model` variable selects."""
    return selector(metric, [(c.MODEL_LABEL, "=~", "$model"), *matchers])


def by_model(aggregation: str, expr: str, inventory: Inventory) -> str:
    """One series per model, whatever selector labels the models carry; in multi-cluster mode one per model
    and cluster (`join_keys`)."""
    return f"{aggregation} by ({join_keys(inventory)}) ({expr})"


def model_legend(inventory: Inventory) -> str:
    """The model, and in multi-cluster mode its cluster."""
    label = cluster_label(inventory)
    return "{{" + c.MODEL_LABEL + "}}" + (f" ({{{{{label}}}}})" if label else "")


def lines_by_model(key: str, title: str, description: str, unit: str, expr: str,
                   inventory: Inventory) -> p.TimeSeries:
    """A half-width chart of `expr` (from `by_model`) with one line per model, for the fleet pages."""
    per = " and cluster" if cluster_label(inventory) else ""
    return p.timeseries(key, title, f"{description} One line per model{per}.", unit,
                        [p.target(expr, model_legend(inventory))], width=12)


def link(uid: str, title: str) -> DashboardLink:
    return DashboardLink(type="link", title=title, uri=f"/d/{uid}", icon="dashboard", keepTime=True,
                         includeVars=False)


def model_dashboards_link() -> DashboardLink:
    return DashboardLink(type="dashboards", title="Model dashboards", tags=[MODEL_TAG], asDropdown=True,
                         keepTime=True)


def dashboard(uid: str, title: str, description: str, tags: list[str], sections: list[Section],
              links: list[DashboardLink], variables: list[Template], annotations: Sequence[dict] = (),
              cluster: str | None = None) -> dict:
    """The dashboard's JSON; with `cluster` (multi-cluster mode) every query keeps to the `$cluster` selection."""
    if not grafana_facts.UID.match(uid):
        raise ValueError(f"dashboard uid {uid!r} is not 1-{grafana_facts.UID_MAX} characters of [a-zA-Z0-9_-]")
    panels = layout(sections)
    _check_unique_ids(uid, panels)
    board = Dashboard(
        title=title, uid=uid, id=None, description=f"{description} {c.GENERATED_HEADER}",
        tags=[*TAGS, *tags], editable=False, schemaVersion=grafana_facts.SCHEMA_VERSION, graphTooltip=1,
        time=Time("now-6h", "now"), refresh="1m", timezone="utc", panels=panels, links=links,
        templating=Templating(list=[datasource_variable(), *variables]),
        annotations=Annotations(list=list(annotations)),
    )
    result = clean_text(json.dumps(board.to_json_data(), cls=DashboardEncoder))
    return _scoped(result, cluster) if cluster else result


def _scoped(node, label: str):
    """Every query (`expr`) of panels and annotations with `label=~"$cluster"` on each selector."""
    if isinstance(node, dict):
        return {k: with_matcher(v, label, "=~", "$cluster") if k == "expr" and isinstance(v, str)
                else _scoped(v, label) for k, v in node.items()}
    if isinstance(node, list):
        return [_scoped(v, label) for v in node]
    return node


def _check_unique_ids(uid: str, panels) -> None:
    seen: dict[int, str] = {}
    # Collapsed rows hold their panels.
    for panel in [inner for outer in panels for inner in (outer, *getattr(outer, "panels", ()))]:
        if panel.id in seen:
            raise ValueError(f"dashboard {uid}: panels {seen[panel.id]!r} and {panel.title!r} share id {panel.id}; "
                             f"give one of them another key")
        seen[panel.id] = panel.title
