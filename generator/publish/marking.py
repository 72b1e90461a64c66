"""How a published dashboard is marked: a management tag, its owner, and a tag holding its content fingerprint.

Ownership: `llm-obs-owner:<owner>` names the inventory that published it, and `llm-obs-uid:<hash>` binds
that owner to the dashboard's uid. "Save as" in Grafana copies the tags but gives the copy a new uid, so
the copy's uid mark no longer matches: `published_here` tells a dashboard this inventory published from a
copy of one, or from another inventory's.

The fingerprint is a short hash of what was published: the dashboard's content (without the
keys Grafana sets on save and without these marks, as `dashboard_json` writes it), its folder
uid and its owner. A generated file is exactly its content (`dashboards/clean.py`), so the
fingerprint of a generated dashboard is computed from the SHA-256 of its file, without parsing
it. Search results carry tags, so one search tells, for every managed dashboard, what was last
published: a no-op publish needs no per-dashboard request and reads no dashboard JSON. Reading a
dashboard back and hashing it the same way tells whether it changed in Grafana since: its hash no
longer matches the one recorded in its tag.
"""
from __future__ import annotations

import copy
import hashlib
import json

from generator.grafana_facts import SAVED_KEYS, canonical, dashboard_json

MANAGED_TAG = "managed-by:llm-observability"
OWNER_PREFIX = "llm-obs-owner:"
UID_MARK_PREFIX = "llm-obs-uid:"
FINGERPRINT_PREFIX = "llm-obs-fp:"
MARK_PREFIXES = (OWNER_PREFIX, UID_MARK_PREFIX, FINGERPRINT_PREFIX)
FINGERPRINT_LENGTH = 16  # hex digits: 64 bits, ample for telling versions of one dashboard apart


def content_digest(dashboard: dict) -> str:
    """SHA-256 of the dashboard's content as `generate` writes it: the SHA-256 of a generated file."""
    content = {k: v for k, v in dashboard.items() if k not in SAVED_KEYS}
    if "tags" in content:
        content["tags"] = sorted({str(t) for t in _tags(dashboard) if not _is_mark(t)})
    return hashlib.sha256(dashboard_json(canonical(content)).encode("utf-8")).hexdigest()


def seal(digest: str, folder_uid: str, owner: str) -> str:
    """The fingerprint of content with `digest`, published in `folder_uid` by `owner`."""
    return hashlib.sha256(f"{digest} {folder_uid or ''} {owner}".encode()).hexdigest()[:FINGERPRINT_LENGTH]


def fingerprint(dashboard: dict, folder_uid: str) -> str:
    """The fingerprint of a dashboard as read back from Grafana (or about to be sent)."""
    return seal(content_digest(dashboard), folder_uid, owner_of(dashboard.get("tags")) or "")


def untouched(stored: dict, folder_uid: str) -> bool:
    """The stored dashboard is as the last publish left it: it still hashes to its recorded fingerprint."""
    recorded_fp = recorded(stored.get("tags"))
    return recorded_fp is not None and recorded_fp in (fingerprint(stored, folder_uid),
                                                       _fingerprint_before_seal(stored, folder_uid))


def publishable(generated: dict, folder_uid: str, owner: str, digest: str | None = None) -> tuple[dict, str]:
    """The dashboard as published (marked with its owner, no id) and its fingerprint.

    `digest` is its content digest when already known (the SHA-256 of its generated file).
    """
    body = copy.deepcopy(generated)
    body["id"] = None
    tags = [t for t in _tags(body) if not _is_mark(t)]
    body["tags"] = [*tags, MANAGED_TAG, OWNER_PREFIX + owner, UID_MARK_PREFIX + uid_mark(owner, body.get("uid"))]
    sealed = seal(digest or content_digest(generated), folder_uid, owner)
    body["tags"].append(FINGERPRINT_PREFIX + sealed)
    return body, sealed


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
    """Pretty JSON for a diff: the keys Grafana sets on save dropped, keys sorted."""
    content = {k: v for k, v in dashboard.items() if k not in SAVED_KEYS}
    return json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _tags(dashboard: dict) -> list:
    tags = dashboard.get("tags")
    return list(tags) if isinstance(tags, list) else []


def _is_mark(tag) -> bool:
    return tag == MANAGED_TAG or str(tag).startswith(MARK_PREFIXES)


def _fingerprint_before_seal(dashboard: dict, folder_uid: str) -> str:
    """The fingerprint releases before the sealed one recorded, so that their dashboards still count as
    untouched: one publish then rewrites each once with the sealed fingerprint."""
    content = {k: v for k, v in dashboard.items() if k not in SAVED_KEYS}
    content["tags"] = sorted({str(t) for t in _tags(dashboard) if not str(t).startswith(FINGERPRINT_PREFIX)})
    text = json.dumps({"dashboard": canonical(content), "folderUid": folder_uid or ""},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]
