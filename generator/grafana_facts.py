"""What Grafana accepts and writes, stated once for the builder, `validate`, `publish` and the manifests.

Sources: Grafana's dashboard model (`uid` up to 40 characters of [a-zA-Z0-9_-]; the
24-column grid) and the dashboard schema Grafana 10.4, the oldest release this tool
supports, writes: schemaVersion 39 (grafana/grafonnet #196).
"""
from __future__ import annotations

import json
import re

from generator import json_out

SCHEMA_VERSION = 39  # what the generated dashboards declare and the least `validate` accepts
MINIMUM_GRAFANA = (10, 4)  # the oldest Grafana that writes SCHEMA_VERSION
GRID_COLUMNS = 24
UID_MAX = 40
UID = re.compile(rf"^[a-zA-Z0-9_-]{{1,{UID_MAX}}}$")
# Set by Grafana on every save (the database id, the version counter): not part of a dashboard's content.
SAVED_KEYS = ("id", "version")


def canonical(value):
    """A deep copy of JSON-like data with integral floats as ints, as Grafana returns them.

    Grafana stores dashboard JSON through Go's float64, so a `1.0` written comes back as `1`.
    """
    return parsed(json.dumps(value))


def parsed(text: str):
    """JSON text parsed as `canonical` leaves it: integral floats as ints."""
    return json.loads(text, parse_float=_number)


def dashboard_json(dashboard: dict) -> str:
    """The one text form of a dashboard: its generated file, and what `publish` fingerprints."""
    return json_out.indented(dashboard) + "\n"  # json.dumps(indent=2, sort_keys=True, ensure_ascii=False)


def _number(text: str) -> float | int:
    number = float(text)
    return int(number) if number.is_integer() else number
