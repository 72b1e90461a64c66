"""What Grafana accepts and writes, stated once for the builder, `validate`, `publish` and the manifests.

Sources: Grafana's dashboard model (`uid` up to 40 characters of [a-zA-Z0-9_-]; the
24-column grid) and the dashboard schema Grafana 10.4, the oldest release this tool
supports, writes: schemaVersion 39 (grafana/grafonnet #196).
"""
from __future__ import annotations

import re

SCHEMA_VERSION = 39  # what the generated dashboards declare and the least `validate` accepts
MINIMUM_GRAFANA = (10, 4)  # the oldest Grafana that writes SCHEMA_VERSION
GRID_COLUMNS = 24
UID_MAX = 40
UID = re.compile(rf"^[a-zA-Z0-9_-]{{1,{UID_MAX}}}$")
