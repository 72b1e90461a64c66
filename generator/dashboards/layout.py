"""Automatic grid layout: sections become row panels, their panels packed left to right.

Grafana's grid is 24 columns wide; a panel that does not fit on the current
line starts the next one, below the tallest panel of the line. Nothing
overlaps, and the y coordinates only grow. A collapsed section's panels live
inside its row (Grafana's format): placed as if the row were open, they take
no room on the page until it is, and Grafana runs their queries only then.
"""
from __future__ import annotations

from dataclasses import dataclass

import attr
from grafanalib.core import GridPos, Panel, RowPanel

from generator import grafana_facts
from generator.dashboards.panels import DATASOURCE, panel_id


@dataclass(frozen=True)
class Section:
    key: str  # stable: the row's id derives from it
    title: str
    panels: list[Panel]
    collapsed: bool = False  # below the fold: queried only when opened


def layout(sections: list[Section]) -> list[Panel]:
    placed: list[Panel] = []
    y = 0
    for section in sections:
        row = RowPanel(id=panel_id(f"row.{section.key}"), title=section.title, dataSource=DATASOURCE,
                       gridPos=GridPos(h=1, w=grafana_facts.GRID_COLUMNS, x=0, y=y))
        inner, bottom = _pack(section.panels, y + 1)
        if section.collapsed:
            placed.append(attr.evolve(row, collapsed=True, panels=inner))
            y += 1
        else:
            placed += [row, *inner]
            y = bottom
    return placed


def _pack(panels: list[Panel], y: int) -> tuple[list[Panel], int]:
    """The panels placed from line `y` down, and the first free line below them."""
    placed = []
    x, line_height = 0, 0
    for panel in panels:
        width, height = panel.gridPos.w, panel.gridPos.h
        if not 1 <= width <= grafana_facts.GRID_COLUMNS:
            raise ValueError(f"panel {panel.title!r} is {width} columns wide; "
                             f"the grid has {grafana_facts.GRID_COLUMNS}")
        if x + width > grafana_facts.GRID_COLUMNS:
            y, x, line_height = y + line_height, 0, 0
        placed.append(attr.evolve(panel, gridPos=GridPos(h=height, w=width, x=x, y=y)))
        x += width
        line_height = max(line_height, height)
    return placed, y + line_height


def spread(panels: list[Panel]) -> list[Panel]:
    """The panels side by side on one line, sharing its width equally (at most 24 panels)."""
    width = grafana_facts.GRID_COLUMNS // len(panels)
    return [attr.evolve(p, gridPos=GridPos(h=p.gridPos.h, w=width, x=0, y=0)) for p in panels]
