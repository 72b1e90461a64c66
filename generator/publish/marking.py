"""How a published dashboard is marked: a management tag, and a tag holding its content fingerprint.

The fingerprint is a short hash of the canonical JSON of what was published (the
dashboard without `id`, `version` and the fingerprint tag itself, plus its folder
uid). Search results carry tags, so one search tells, for every managed dashboard,
what was last published: a no-op publish needs no per-dashboard request. Reading a
dashboard back and hashing it the same way tells whether it changed in Grafana
since: its hash no longer matches the one recorded in its tag.
"""
from __future__ import annotations

import copy
import hashlib
import json

MANAGED_TAG = "managed-by:llm-observability"
FINGERPRINT_PREFIX = "llm-obs-fp:"
FINGERPRINT_LENGTH = 16  # hex digits: 64 bits, ample for telling versions of one dashboard apart
VOLATILE = ("id", "version")  # set by Grafana on every save


def fingerprint(dashboard: dict, folder_uid: str) -> str:
    content = {k: v for k, v in dashboard.items() if k not in VOLATILE}
    content["tags"] = sorted({str(t) for t in _tags(dashboard) if not str(t).startswith(FINGERPRINT_PREFIX)})
    canonical = json.dumps({"dashboard": _canonical(content), "folderUid": folder_uid or ""},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def publishable(generated: dict, folder_uid: str) -> tuple[dict, str]:
    """The dashboard as published (marked, no id) and its fingerprint."""
    body = copy.deepcopy(generated)
    body["id"] = None
    tags = [t for t in _tags(body) if t != MANAGED_TAG and not str(t).startswith(FINGERPRINT_PREFIX)]
    body["tags"] = [*tags, MANAGED_TAG]
    digest = fingerprint(body, folder_uid)
    body["tags"].append(FINGERPRINT_PREFIX + digest)
    return body, digest


def recorded(tags) -> str | None:
    """The fingerprint recorded in a dashboard's tags when it was published, if any."""
    found = [str(t)[len(FINGERPRINT_PREFIX):] for t in tags or () if str(t).startswith(FINGERPRINT_PREFIX)]
    return found[0] if len(found) == 1 else None


def is_managed(tags) -> bool:
    return MANAGED_TAG in (tags or ())


def comparable(dashboard: dict) -> str:
    """Pretty JSON for a diff: the volatile keys dropped, keys sorted."""
    content = {k: v for k, v in dashboard.items() if k not in VOLATILE}
    return json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _tags(dashboard: dict) -> list:
    tags = dashboard.get("tags")
    return list(tags) if isinstance(tags, list) else []


def _canonical(value):
    """Integral floats as ints: JSON that went through Go's float64 comes back as 1, not 1.0."""
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
