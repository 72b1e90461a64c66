"""How a published dashboard is marked: a management tag, its owner, and a tag holding its content fingerprint.

Ownership: `llm-obs-owner:<owner>` names the inventory that published it, and `llm-obs-uid:<hash>` binds
that owner to the dashboard's uid. "Save as" in Grafana copies the tags but gives the copy a new uid, so
the copy's uid mark no longer matches: `published_here` tells a dashboard this inventory published from a
copy of one, or from another inventory's.

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
OWNER_PREFIX = "llm-obs-owner:"
UID_MARK_PREFIX = "llm-obs-uid:"
FINGERPRINT_PREFIX = "llm-obs-fp:"
MARK_PREFIXES = (OWNER_PREFIX, UID_MARK_PREFIX, FINGERPRINT_PREFIX)
FINGERPRINT_LENGTH = 16  # hex digits: 64 bits, ample for telling versions of one dashboard apart
VOLATILE = ("id", "version")  # set by Grafana on every save


def fingerprint(dashboard: dict, folder_uid: str) -> str:
    content = {k: v for k, v in dashboard.items() if k not in VOLATILE}
    content["tags"] = sorted({str(t) for t in _tags(dashboard) if not str(t).startswith(FINGERPRINT_PREFIX)})
    canonical = json.dumps({"dashboard": _canonical(content), "folderUid": folder_uid or ""},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def publishable(generated: dict, folder_uid: str, owner: str) -> tuple[dict, str]:
    """The dashboard as published (marked with its owner, no id) and its fingerprint."""
    body = copy.deepcopy(generated)
    body["id"] = None
    tags = [t for t in _tags(body) if t != MANAGED_TAG and not str(t).startswith(MARK_PREFIXES)]
    body["tags"] = [*tags, MANAGED_TAG, OWNER_PREFIX + owner, UID_MARK_PREFIX + uid_mark(owner, body.get("uid"))]
    digest = fingerprint(body, folder_uid)
    body["tags"].append(FINGERPRINT_PREFIX + digest)
    return body, digest


def recorded(tags) -> str | None:
    """The fingerprint recorded in a dashboard's tags when it was published, if any."""
    found = [t[len(FINGERPRINT_PREFIX):] for t in _tag_list(tags) if t.startswith(FINGERPRINT_PREFIX)]
    return found[0] if len(found) == 1 else None


def is_managed(tags) -> bool:
    return MANAGED_TAG in _tag_list(tags)


def uid_mark(owner: str, uid) -> str:
    return hashlib.sha256(f"{owner}/{uid}".encode()).hexdigest()[:12]


def owner_of(tags) -> str | None:
    """The owner recorded in the tags; None for a dashboard published before owners were recorded."""
    found = [t[len(OWNER_PREFIX):] for t in _tag_list(tags) if t.startswith(OWNER_PREFIX)]
    return found[0] if len(found) == 1 else None


def published_here(uid, tags, owner: str) -> bool:
    """This inventory published the dashboard at `uid` (not a copy of it, not another inventory's)."""
    tags = _tag_list(tags)
    return (is_managed(tags) and owner_of(tags) == owner
            and UID_MARK_PREFIX + uid_mark(owner, uid) in tags)


def _tag_list(tags) -> list[str]:
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


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
