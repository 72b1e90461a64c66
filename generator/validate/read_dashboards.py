"""Read one Grafana dashboard into a `Dashboard` and the `Query`s of its targets, annotations and variables."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from generator.validate.findings import ERROR, Location
from generator.validate.shipped import Dashboard, Query, listed, type_of

if TYPE_CHECKING:
    from generator.validate.context import Context


def load_dashboard(ctx: Context, path: Path, rel: str):
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        ctx.problem("dashboard/schema", ERROR, Location(rel, exc.lineno), f"invalid JSON: {exc.msg}")
        return
    except (OSError, UnicodeDecodeError, RecursionError) as exc:
        ctx.problem("dashboard/schema", ERROR, Location(rel), f"cannot read the dashboard: {exc}")
        return
    if not isinstance(data, dict):
        ctx.problem("dashboard/schema", ERROR, Location(rel), f"a dashboard is a JSON object, got {type_of(data)}")
        return
    board = Dashboard(rel, data, None)
    board.model = ctx.model_of_dashboard(board.uid, Path(rel).stem)
    ctx.dashboards.append(board)
    for panel in board.panels:
        for i, target in enumerate(panel.targets):
            text = target.get("expr")
            if text is None:
                continue
            ref = target.get("refId") if isinstance(target.get("refId"), str) else f"targets[{i}]"
            ctx.queries.append(Query(text if isinstance(text, str) else "", ctx.parse(text), board.location(panel, ref),
                                     board.model, "target", dashboard=board, panel=panel))
    for i, annotation in enumerate(listed(data.get("annotations"))):
        if isinstance(annotation, dict) and "expr" in annotation:
            text = annotation["expr"]
            name = annotation.get("name") if isinstance(annotation.get("name"), str) else str(i)
            ctx.queries.append(Query(text if isinstance(text, str) else "", ctx.parse(text),
                                     board.location(key=f"annotation {name!r}"), board.model, "annotation",
                                     dashboard=board))
    for variable in listed(data.get("templating")):
        if not isinstance(variable, dict) or variable.get("type") != "query":
            continue
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        inner = _variable_expr(query) if isinstance(query, str) else None
        if inner is not None:
            ctx.queries.append(Query(inner, ctx.parse(inner),
                                     board.location(key=f"variable {variable.get('name')!r}"), board.model,
                                     "variable", dashboard=board))


_LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$", re.S)
_QUERY_RESULT = re.compile(r"^\s*query_result\((.*)\)\s*$", re.S)


def _variable_expr(query: str) -> str | None:
    """The PromQL inside a Prometheus variable query (`label_values(expr, label)`, `query_result(expr)`)."""
    for pattern in (_LABEL_VALUES, _QUERY_RESULT):
        match = pattern.match(query)
        if match:
            return match.group(1)
    return None
