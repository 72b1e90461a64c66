"""The oldest Grafana this tool publishes to, and why.

Grafana 10.4: the generated dashboards declare `schemaVersion` 39, the schema
Grafana 10.4 writes (grafana/grafonnet #196), with data sources referenced by
`{type, uid}` and only current panel types. An older Grafana would be handed a
dashboard schema newer than the one it writes, which it cannot be trusted to
render; release lines before 10.4 are also past Grafana's support window.
"""
from __future__ import annotations

import logging
import re

from generator import grafana_facts
from generator.publish.errors import UnsupportedVersion

log = logging.getLogger(__name__)

MINIMUM = grafana_facts.MINIMUM_GRAFANA
WHY = (f"the generated dashboards declare dashboard schemaVersion {grafana_facts.SCHEMA_VERSION}, the schema Grafana "
       f"{'.'.join(map(str, MINIMUM))} writes; an older Grafana writes an older schema and cannot be trusted to render "
       f"them")


def check(build_info: dict) -> str:
    """The Grafana version string; UnsupportedVersion when it is older than MINIMUM."""
    version = str(build_info.get("version") or "").strip()
    match = re.match(r"v?(\d+)\.(\d+)", version)
    if match is None:
        log.warning("Grafana did not report a readable version (%r); assuming it is at least %d.%d",
                    version, *MINIMUM)
        return version or "unknown"
    if (int(match.group(1)), int(match.group(2))) < MINIMUM:
        raise UnsupportedVersion(f"Grafana {version} is not supported: publishing needs Grafana "
                                 f"{MINIMUM[0]}.{MINIMUM[1]} or later, because {WHY}. Upgrade Grafana, or deliver "
                                 "the dashboards/ files another way.")
    return version
