"""A Grafana test double: a real threaded HTTP server on 127.0.0.1 that follows Grafana's HTTP API contract.

Grafana cannot be installed on the machines this project is built on, so the publish
tests run against this server instead. It reproduces the contract written down in
`../shared/reference/grafana-api.md` (section numbers below refer to it); when the
contract and this file disagree, the contract wins and this file is the bug.

What it serves:
- `POST /api/dashboards/db` with Grafana's validation order, version semantics
  (create -> 1, update -> stored + 1, stale version -> 412 unless `overwrite`) and
  its 400/403/404/412 bodies (§1.2);
- `GET` and `DELETE /api/dashboards/uid/<uid>` (§1.3, §1.4);
- `GET /api/search` with `query`, `tag` (all must match), `type`, `dashboardUIDs`,
  `dashboardIds`, `folderUIDs`, `starred`, `limit`/`page` (§1.5);
- `GET`/`POST /api/folders`, `GET`/`PUT /api/folders/<uid>` (§1.6);
- `GET /api/health` without credentials and `GET /api/frontend/settings` with
  `buildInfo.version` (§1.7);
- service-account bearer tokens and basic auth (also `api_key:<token>`), with the
  401 bodies and the RBAC 403 bodies (§1.8); roles are sets of RBAC actions;
- provisioned dashboards that refuse API writes and deletes (§1.9).

For tests: an in-memory store, a request log (`requests`, `writes()`), and
switchable faults (`fail()`): an HTTP 5xx, 429 with `Retry-After`, a slow response
(processed after the delay, like a server that keeps working after the client gave
up), and a dropped connection (before or after the request took effect).
"""
from __future__ import annotations

import base64
import copy
import itertools
import json
import random
import re
import socket
import ssl
import string
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

VIEWER = frozenset({"dashboards:read", "folders:read"})
EDITOR = VIEWER | {"dashboards:create", "dashboards:write", "dashboards:delete",
                   "folders:create", "folders:write", "folders:delete"}
ADMIN = EDITOR
UID_PATTERN = re.compile(r"^[a-zA-Z0-9\-_]*$")
UID_MAX = 40
SEARCH_LIMIT_MAX = 5000
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _Reply(Exception):
    """Raised inside a handler to answer with `status` and a JSON `body`."""

    def __init__(self, status: int, body, headers: dict | None = None):
        self.status, self.body, self.headers = status, body, headers or {}


def _traced(body: dict) -> dict:
    """Errors built with `response.Error(status, msg, err)` and err != nil carry a traceID (§1.1)."""
    return {**body, "traceID": ""}


def _rbac_denied(permission: str) -> _Reply:
    """The RBAC route guard's 403 (§1.8)."""
    return _Reply(403, {"title": "Access denied",
                        "message": "You'll need additional permissions to perform this action. "
                                   f"Permissions needed: {permission}",
                        "accessErrorId": "ACE" + "".join(random.choices(string.digits, k=10))})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


@dataclass
class Dashboard:
    id: int
    uid: str
    title: str
    data: dict
    version: int
    folder_uid: str = ""
    provisioned: bool = False  # from file provisioning
    allow_ui_updates: bool = False
    external_id: str = ""
    plugin_id: str = ""
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)
    created_by: str = "admin"
    updated_by: str = "admin"
    message: str = ""  # the version-history message of the last save


@dataclass
class Folder:
    id: int
    uid: str
    title: str
    version: int = 1
    parent_uid: str = ""
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)


@dataclass
class Fault:
    kind: str  # "status" | "rate_limit" | "slow" | "drop"
    method: str | None
    path: re.Pattern | None
    times: int
    status: int = 500
    retry_after: str | None = None
    delay: float = 0.0
    after: bool = False  # drop: after the request took effect
    skip: int = 0  # matching requests to let through first

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or bool(self.path.search(path)))


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict
    status: int | None  # None: the connection was dropped without an answer
    fault: str | None
    auth: str  # "bearer", "basic" or "none" (never the credential itself)
    at: float  # time.monotonic() when the request arrived

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS


@dataclass(frozen=True)
class Principal:
    login: str
    permissions: frozenset


class GrafanaDouble:
    """Start with `with GrafanaDouble() as grafana:`; `grafana.url` is its base URL."""

    def __init__(self, version: str = "11.5.0", *, tokens: dict[str, frozenset] | None = None,
                 users: dict[tuple[str, str], frozenset] | None = None, dashboard_quota: int | None = None,
                 ssl_context: ssl.SSLContext | None = None):
        self.version = version
        # Grafana before 11.3 requires unique dashboard titles per folder and unique folder names (§1.2, §1.6).
        self.unique_names = _version_tuple(version) < (11, 3)
        self.tokens = dict(tokens or {})
        self.users = dict(users or {})
        self.dashboard_quota = dashboard_quota
        self.ssl_context = ssl_context
        self.database_ok = True
        self.requests: list[Request] = []
        self.dashboards: dict[str, Dashboard] = {}
        self.folders: dict[str, Folder] = {}
        self._ids = itertools.count(1)
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._in_flight = 0
        self._idle = threading.Condition(self._lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> GrafanaDouble:
        double = self

        class Handler(_Handler):
            grafana = double

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        if self.ssl_context is not None:
            self._server.socket = self.ssl_context.wrap_socket(self._server.socket, server_side=True,
                                                               do_handshake_on_connect=False)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> GrafanaDouble:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    # -- test controls -----------------------------------------------------

    def fail(self, kind: str, *, method: str | None = None, path: str | None = None, times: int = 1,
             status: int = 500, retry_after: str | None = None, delay: float = 0.0, after: bool = False,
             skip: int = 0) -> None:
        """Make `times` matching requests fail, after letting `skip` through. `path` is a regex searched in the
        request path.

        kind: "status" answers `status` (5xx); "rate_limit" answers 429 with `Retry-After: retry_after`;
        "slow" waits `delay` seconds, then handles the request normally (it takes effect even if the client
        gave up); "drop" closes the connection without an answer, before the request takes effect or, with
        `after=True`, after it did.
        """
        if kind not in ("status", "rate_limit", "slow", "drop"):
            raise ValueError(f"unknown fault {kind!r}")
        with self._lock:
            self._faults.append(Fault(kind, method, re.compile(path) if path else None, times, status,
                                      retry_after, delay, after, skip))

    def pending_faults(self) -> int:
        """How many faulty answers are still to come (0: every fault switched on has fired)."""
        with self._lock:
            return sum(f.times for f in self._faults)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no request is being handled (a slow fault may still be sleeping)."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._in_flight == 0, timeout):
                raise TimeoutError("the Grafana double is still handling a request")

    def _enter(self) -> None:
        with self._idle:
            self._in_flight += 1

    def _leave(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.is_write]

    def provision(self, dashboard: dict, folder_uid: str = "", external_id: str = "provisioned.json",
                  allow_ui_updates: bool = False) -> Dashboard:
        """Store a dashboard the way file provisioning does (not through the API)."""
        with self._lock:
            row = Dashboard(next(self._ids), dashboard["uid"], dashboard["title"], {}, 1, folder_uid,
                            provisioned=True, allow_ui_updates=allow_ui_updates, external_id=external_id)
            row.data = {**copy.deepcopy(dashboard), "id": row.id, "uid": row.uid, "version": 1}
            self.dashboards[row.uid] = row
            return row

    def stored(self, uid: str) -> dict | None:
        """The stored JSON of a dashboard, as GET /api/dashboards/uid/<uid> returns it."""
        with self._lock:
            row = self.dashboards.get(uid)
            return None if row is None else {**copy.deepcopy(row.data), "version": row.version}

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.matches(method, path):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _log(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    # -- authentication (§1.8) ---------------------------------------------

    def authenticate(self, header: str | None) -> Principal:
        if not header:
            raise _Reply(401, _traced({"message": "Unauthorized", "messageId": "auth.unauthorized",
                                       "statusCode": 401}))
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return self._token(value.strip())
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value.strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise _Reply(401, _traced({"message": "Unauthorized", "messageId": "auth.unauthorized",
                                           "statusCode": 401})) from None
            if user == "api_key":
                return self._token(password)
            permissions = self.users.get((user, password))
            if permissions is None:
                raise _Reply(401, _traced({"message": "Invalid username or password",
                                           "messageId": "password-auth.failed", "statusCode": 401}))
            return Principal(user, frozenset(permissions))
        raise _Reply(401, _traced({"message": "Unauthorized", "messageId": "auth.unauthorized", "statusCode": 401}))

    def _token(self, token: str) -> Principal:
        permissions = self.tokens.get(token)
        if permissions is None:
            raise _Reply(401, _traced({"message": "Invalid API key", "messageId": "api-key.invalid",
                                       "statusCode": 401}))
        return Principal(f"sa-{list(self.tokens).index(token) + 1}", frozenset(permissions))

    # -- routing -----------------------------------------------------------

    def route(self, method: str, path: str, query: dict, body, auth_header: str | None):
        """Answer one request: returns (status, body, extra headers); raises _Reply for errors."""
        if path == "/api/health" and method in ("GET", "HEAD"):
            return self._health()
        principal = self.authenticate(auth_header)
        with self._lock:
            if path == "/api/frontend/settings" and method == "GET":
                return 200, self._frontend_settings(), {}
            if path == "/api/dashboards/db" and method == "POST":
                return 200, self._save_dashboard(principal, body), {}
            match = re.fullmatch(r"/api/dashboards/uid/([^/]+)", path)
            if match and method == "GET":
                return 200, self._get_dashboard(principal, match.group(1)), {}
            if match and method == "DELETE":
                return 200, self._delete_dashboard(principal, match.group(1)), {}
            if path == "/api/search" and method == "GET":
                return 200, self._search(principal, query), {}
            if path == "/api/folders" and method == "GET":
                return 200, self._list_folders(principal, query), {}
            if path == "/api/folders" and method == "POST":
                return 200, self._create_folder(principal, body), {}
            match = re.fullmatch(r"/api/folders/([^/]+)", path)
            if match and method == "GET":
                return 200, self._get_folder(principal, match.group(1)), {}
            if match and method == "PUT":
                return 200, self._update_folder(principal, match.group(1), body), {}
        raise _Reply(404, {"message": "Not found"})

    # -- health and settings (§1.7) ----------------------------------------

    def _health(self):
        body = {"database": "ok" if self.database_ok else "failing", "version": self.version,
                "commit": "0123456789"}
        return (200 if self.database_ok else 503), body, {"_pretty": True}

    def _frontend_settings(self) -> dict:
        return {"appSubUrl": "", "appUrl": self.url + "/", "defaultDatasource": "", "datasources": {},
                "featureToggles": {"nestedFolders": True}, "minRefreshInterval": "5s",
                "buildInfo": {"buildstamp": 1767225600, "commit": "0123456789", "edition": "Open Source",
                              "env": "production", "hasUpdate": False, "hideVersion": False,
                              "latestVersion": self.version, "version": self.version,
                              "versionString": f"Grafana v{self.version} (0123456789)"}}

    # -- dashboards (§1.2 - §1.4) ------------------------------------------

    def _save_dashboard(self, who: Principal, body) -> dict:
        if not who.permissions & {"dashboards:create", "dashboards:write"}:
            raise _rbac_denied("any of dashboards:create, dashboards:write")
        if not isinstance(body, dict) or not isinstance(body.get("dashboard"), dict):
            raise _Reply(400, _traced({"message": "bad request data"}))
        if body.get("isFolder") is True:
            raise _Reply(400, {"message": "Use folders endpoint for saving folders."})
        dash = body["dashboard"]
        title = dash.get("title") if isinstance(dash.get("title"), str) else ""
        if not title.strip():
            raise _Reply(400, {"status": "empty-name", "message": "Dashboard title cannot be empty"})
        if len(title) > 5000:
            raise _Reply(400, {"status": "title-too-long",
                               "message": "Dashboard title cannot contain more than 5 000 characters"})
        message = body.get("message") if isinstance(body.get("message"), str) else ""
        if len(message) > 500:
            raise _Reply(400, {"message": "message too long, max 500 characters"})
        has_uid = isinstance(dash.get("uid"), str)
        uid = dash["uid"] if has_uid else ""
        if not UID_PATTERN.match(uid):
            raise _Reply(400, {"message": "uid contains illegal characters"})
        if len(uid) > UID_MAX:
            raise _Reply(400, {"message": "uid too long, max 40 characters"})
        folder_uid = self._save_target_folder(body)
        raw_id = dash.get("id")
        has_id = isinstance(raw_id, (int, float)) and not isinstance(raw_id, bool)
        dash_id = int(raw_id) if has_id else 0
        raw_version = dash.get("version")
        version = int(raw_version) if (has_id or has_uid) and isinstance(raw_version, (int, float)) \
            and not isinstance(raw_version, bool) else 0
        overwrite = body.get("overwrite") is True

        by_id = None
        if dash_id > 0:
            by_id = next((d for d in self.dashboards.values() if d.id == dash_id), None)
            by_id = by_id or next((f for f in self.folders.values() if f.id == dash_id), None)
            if by_id is None:
                raise _Reply(404, {"status": "not-found", "message": "Dashboard not found"})
            uid = uid or by_id.uid
        by_uid = (self.dashboards.get(uid) or self.folders.get(uid)) if uid else None
        if by_id is not None and by_uid is not None and by_id is not by_uid:
            raise _Reply(400, {"message": "A dashboard with the same uid already exists"})
        existing = by_id or by_uid
        if isinstance(existing, Folder):
            raise _Reply(400, {"message": "Dashboard cannot be changed to a folder"})
        if existing is not None:
            if version != existing.version:
                if not overwrite:
                    raise _Reply(412, {"status": "version-mismatch",
                                       "message": "The dashboard has been changed by someone else"})
                version = existing.version
            if existing.plugin_id and not overwrite:
                raise _Reply(412, {"status": "plugin-dashboard",
                                   "message": f"The dashboard belongs to plugin {existing.plugin_id}."})
        if self.unique_names and not overwrite:
            clash = next((d for d in self.dashboards.values() if d.folder_uid == folder_uid
                          and d.title.lower() == title.strip().lower() and d is not existing), None)
            if clash is not None:
                raise _Reply(412, {"status": "name-exists",
                                   "message": "A dashboard with the same name in the folder already exists"})
        needed = "dashboards:write" if existing is not None else "dashboards:create"
        if needed not in who.permissions:
            raise _Reply(403, _traced({"message": "Access denied to save dashboard"}))
        if existing is not None and existing.provisioned and not existing.allow_ui_updates:
            raise _Reply(400, {"message": "Cannot save provisioned dashboard"})
        if existing is None and self.dashboard_quota is not None and len(self.dashboards) >= self.dashboard_quota:
            raise _Reply(403, {"message": "Quota reached"})

        if existing is None:
            row = Dashboard(next(self._ids), uid or _short_uid(), title.strip(), {}, 1, folder_uid,
                            created_by=who.login, updated_by=who.login)
        else:
            row = existing
            row.version = version + 1
            row.title, row.folder_uid, row.updated, row.updated_by = title.strip(), folder_uid, _now(), who.login
        row.data = {**copy.deepcopy(dash), "id": row.id, "uid": row.uid, "version": row.version}
        row.message = message
        self.dashboards[row.uid] = row
        slug = slugify(row.title)
        return {"id": row.id, "slug": slug, "status": "success", "uid": row.uid,
                "url": f"/d/{row.uid}/{slug}", "version": row.version, "folderUid": row.folder_uid}

    def _save_target_folder(self, body: dict) -> str:
        """The folder a save goes to; missing or 0/"" means the root (the docs: an update moves it there)."""
        folder_uid = body.get("folderUid")
        if isinstance(folder_uid, str) and folder_uid:
            if folder_uid not in self.folders:
                raise _Reply(400, {"message": "folder not found"})
            return folder_uid
        folder_id = body.get("folderId")
        if isinstance(folder_id, int) and not isinstance(folder_id, bool) and folder_id > 0:
            folder = next((f for f in self.folders.values() if f.id == folder_id), None)
            if folder is None:
                raise _Reply(400, {"message": "folder not found"})
            return folder.uid
        return ""

    def _get_dashboard(self, who: Principal, uid: str) -> dict:
        row = self.dashboards.get(uid)
        if row is None:
            raise _Reply(404, _traced({"message": "Dashboard not found"}))
        if "dashboards:read" not in who.permissions:
            raise _Reply(403, {"message": "Access denied to this dashboard"})
        folder = self.folders.get(row.folder_uid)
        slug = slugify(row.title)
        can_save = "dashboards:write" in who.permissions
        meta = {
            "type": "db", "canSave": can_save, "canEdit": can_save, "canAdmin": False, "canStar": True,
            "canDelete": "dashboards:delete" in who.permissions, "slug": slug, "url": f"/d/{uid}/{slug}",
            "expires": "0001-01-01T00:00:00Z", "created": row.created, "updated": row.updated,
            "updatedBy": row.updated_by, "createdBy": row.created_by, "version": row.version,
            "hasAcl": False, "isFolder": False, "folderId": folder.id if folder else 0,
            "folderUid": row.folder_uid, "folderTitle": folder.title if folder else "General",
            "folderUrl": f"/dashboards/f/{folder.uid}/{slugify(folder.title)}" if folder else "",
            "provisioned": row.provisioned and not row.allow_ui_updates,
            "provisionedExternalId": row.external_id if row.provisioned else "",
            "annotationsPermissions": {"dashboard": {"canAdd": True, "canEdit": True, "canDelete": True},
                                       "organization": {"canAdd": False, "canEdit": False, "canDelete": False}},
        }
        # The handler forces the JSON's version to the stored one (§1.3).
        return {"dashboard": {**copy.deepcopy(row.data), "version": row.version}, "meta": meta}

    def _delete_dashboard(self, who: Principal, uid: str) -> dict:
        if uid in self.folders:
            raise _Reply(400, {"message": "Use folders endpoint for deleting folders."})
        row = self.dashboards.get(uid)
        if row is None:
            raise _Reply(404, _traced({"message": "Dashboard not found"}))
        if "dashboards:delete" not in who.permissions:
            raise _Reply(403, {"message": "Access denied to this dashboard"})
        if row.provisioned and not row.allow_ui_updates:
            raise _Reply(400, _traced({"message": "provisioned dashboard cannot be deleted"}))
        del self.dashboards[uid]
        return {"title": row.title, "message": f"Dashboard {row.title} deleted", "uid": uid}

    # -- search (§1.5) -----------------------------------------------------

    def _search(self, who: Principal, query: dict) -> list[dict]:
        def ints(name):
            return [int(v) for v in query.get(name, []) if v.lstrip("-").isdigit()]

        uids = query.get("dashboardUIDs", []) + query.get("dashboardUID", [])
        ids = ints("dashboardIds")
        if uids and ids:
            raise _Reply(400, {"message": "search supports UIDs or IDs, not both"})
        try:
            limit = int(query.get("limit", ["1000"])[0])
            page = max(int(query.get("page", ["1"])[0]), 1)
        except ValueError:
            raise _Reply(400, _traced({"message": "bad request data"})) from None
        if limit > SEARCH_LIMIT_MAX:
            raise _Reply(422, {"message": "Limit is above maximum allowed (5000), use page parameter to "
                                          "access hits beyond limit"})
        if limit <= 0:
            limit = 1000
        if query.get("starred", [""])[0] == "true":
            return []  # nobody starred anything here
        kind = query.get("type", [""])[0]
        text = query.get("query", [""])[0].lower()
        tags = query.get("tag", [])
        folder_uids = ["" if f == "general" else f for f in query.get("folderUIDs", [])]
        folder_ids = ints("folderIds")
        hits = []
        if kind in ("", "dash-folder") and not tags and "folders:read" in who.permissions:
            for f in self.folders.values():
                if (not uids or f.uid in uids) and (not ids or f.id in ids) and text in f.title.lower() \
                        and (not folder_uids or f.parent_uid in folder_uids) and not folder_ids:
                    hits.append(self._folder_hit(f))
        if kind in ("", "dash-db") and "dashboards:read" in who.permissions:
            for d in self.dashboards.values():
                folder = self.folders.get(d.folder_uid)
                dash_tags = d.data.get("tags") if isinstance(d.data.get("tags"), list) else []
                if (not uids or d.uid in uids) and (not ids or d.id in ids) and text in d.title.lower() \
                        and all(t in dash_tags for t in tags) \
                        and (not folder_uids or d.folder_uid in folder_uids) \
                        and (not folder_ids or (folder.id if folder else 0) in folder_ids):
                    hits.append(self._dashboard_hit(d, folder, dash_tags))
        hits.sort(key=lambda h: (h["type"] != "dash-folder", h["title"].lower()))
        return hits[(page - 1) * limit: page * limit]

    @staticmethod
    def _dashboard_hit(d: Dashboard, folder: Folder | None, tags: list) -> dict:
        slug = slugify(d.title)
        hit = {"id": d.id, "uid": d.uid, "orgId": 1, "title": d.title, "uri": f"db/{slug}",
               "url": f"/d/{d.uid}/{slug}", "slug": slug, "type": "dash-db",
               "tags": sorted(str(t) for t in tags), "isStarred": False, "sortMeta": 0, "isDeleted": False}
        if folder is not None:
            hit.update(folderId=folder.id, folderUid=folder.uid, folderTitle=folder.title,
                       folderUrl=f"/dashboards/f/{folder.uid}/{slugify(folder.title)}")
        return hit

    @staticmethod
    def _folder_hit(f: Folder) -> dict:
        slug = slugify(f.title)
        return {"id": f.id, "uid": f.uid, "orgId": 1, "title": f.title, "uri": f"db/{slug}",
                "url": f"/dashboards/f/{f.uid}/{slug}", "slug": slug, "type": "dash-folder", "tags": [],
                "isStarred": False, "sortMeta": 0, "isDeleted": False}

    # -- folders (§1.6) ----------------------------------------------------

    def _folder_dto(self, f: Folder, who: Principal) -> dict:
        can_write = "folders:write" in who.permissions
        parents = []
        parent = self.folders.get(f.parent_uid)
        while parent is not None:
            parents.insert(0, {"uid": parent.uid, "title": parent.title})
            parent = self.folders.get(parent.parent_uid)
        dto = {"id": f.id, "uid": f.uid, "orgId": 1, "title": f.title,
               "url": f"/dashboards/f/{f.uid}/{slugify(f.title)}", "hasAcl": False, "canSave": can_write,
               "canEdit": can_write, "canAdmin": False, "canDelete": "folders:delete" in who.permissions,
               "createdBy": "admin", "created": f.created, "updatedBy": "admin", "updated": f.updated,
               "version": f.version}
        if f.parent_uid:
            dto.update(parentUid=f.parent_uid, parents=parents)
        return dto

    def _list_folders(self, who: Principal, query: dict) -> list[dict]:
        if "folders:read" not in who.permissions:
            raise _rbac_denied("folders:read")
        try:
            limit = int(query.get("limit", ["1000"])[0]) or 1000
            page = max(int(query.get("page", ["1"])[0]), 1)
        except ValueError:
            raise _Reply(400, _traced({"message": "bad request data"})) from None
        parent = query.get("parentUid", [""])[0]
        found = sorted((f for f in self.folders.values() if f.parent_uid == parent), key=lambda f: f.title.lower())
        out = []
        for f in found[(page - 1) * limit: page * limit]:
            hit = {"id": f.id, "uid": f.uid, "title": f.title}
            if f.parent_uid:
                hit["parentUid"] = f.parent_uid
            out.append(hit)
        return out

    def _create_folder(self, who: Principal, body) -> dict:
        if "folders:create" not in who.permissions:
            raise _rbac_denied("folders:create")
        if not isinstance(body, dict):
            raise _Reply(400, _traced({"message": "bad request data"}))
        title = body.get("title") if isinstance(body.get("title"), str) else ""
        uid = body.get("uid") if isinstance(body.get("uid"), str) else ""
        parent = body.get("parentUid") if isinstance(body.get("parentUid"), str) else ""
        if not title.strip():
            raise _Reply(400, {"message": "folder title cannot be empty"})
        if not UID_PATTERN.match(uid):
            raise _Reply(400, {"message": "uid contains illegal characters"})
        if len(uid) > UID_MAX:
            raise _Reply(400, {"message": "uid too long, max 40 characters"})
        if parent and parent not in self.folders:
            raise _Reply(404, {"status": "not-found", "message": "folder not found"})  # exact code UNCONFIRMED
        if uid and (uid in self.folders or uid in self.dashboards):
            raise _Reply(409, {"message": "a folder/dashboard with the same uid already exists"})
        if self.unique_names and any(f.parent_uid == parent and f.title.lower() == title.strip().lower()
                                     for f in self.folders.values()):
            raise _Reply(409, {"message": "a folder or dashboard in the general folder with the same name "
                                          "already exists"})
        folder = Folder(next(self._ids), uid or _short_uid(), title.strip(), parent_uid=parent)
        self.folders[folder.uid] = folder
        return self._folder_dto(folder, who)

    def _get_folder(self, who: Principal, uid: str) -> dict:
        if "folders:read" not in who.permissions:
            raise _rbac_denied("folders:read")
        folder = self.folders.get(uid)
        if folder is None:
            raise _Reply(404, {"status": "not-found", "message": "folder not found"})
        return self._folder_dto(folder, who)

    def _update_folder(self, who: Principal, uid: str, body) -> dict:
        if "folders:write" not in who.permissions:
            raise _rbac_denied("folders:write")
        if not isinstance(body, dict):
            raise _Reply(400, _traced({"message": "bad request data"}))
        folder = self.folders.get(uid)
        if folder is None:
            raise _Reply(404, {"status": "not-found", "message": "folder not found"})
        if body.get("overwrite") is not True and body.get("version") != folder.version:
            raise _Reply(412, {"status": "version-mismatch", "message": "the folder has been changed by someone else"})
        title = body.get("title") if isinstance(body.get("title"), str) else folder.title
        if not title.strip():
            raise _Reply(400, {"message": "folder title cannot be empty"})
        folder.title, folder.version, folder.updated = title.strip(), folder.version + 1, _now()
        return self._folder_dto(folder, who)


def _short_uid() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=14))


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that hung up or refused our certificate: nothing to report


class _Handler(BaseHTTPRequestHandler):
    grafana: GrafanaDouble
    protocol_version = "HTTP/1.1"  # keep-alive, like Grafana

    def setup(self):
        super().setup()
        # Answer in one segment: without this, Nagle's algorithm and delayed ACKs add 40 ms per request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def _handle(self):
        self.grafana._enter()
        try:
            self._handle_one()
        finally:
            self.grafana._leave()

    def _handle_one(self):
        arrived = time.monotonic()
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query, keep_blank_values=True)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        header = self.headers.get("Authorization")
        auth = "none" if not header else header.split(" ", 1)[0].lower()
        grafana = self.grafana
        fault = grafana._take_fault(self.command, path)

        def log(status):
            grafana._log(Request(self.command, path, query, status, fault.kind if fault else None, auth, arrived))

        if fault is not None and fault.kind == "status":
            body = {"message": "Internal Server Error"} if fault.status == 500 else {"message": "Service unavailable"}
            log(fault.status)
            return self._send(fault.status, body)
        if fault is not None and fault.kind == "rate_limit":
            log(429)
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return self._send(429, {"message": "Too Many Requests"}, headers)
        if fault is not None and fault.kind == "drop" and not fault.after:
            log(None)
            return self._drop()
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        status, body, headers = self._answer(path, query, raw, header)
        if fault is not None and fault.kind == "drop":
            log(None)
            return self._drop()
        log(status)
        self._send(status, body, headers)

    def _answer(self, path, query, raw, header):
        try:
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = _Unparsable()
            return self.grafana.route(self.command, path, query, body, header)
        except _Reply as reply:
            return reply.status, reply.body, reply.headers

    def _send(self, status: int, body, headers: dict | None = None):
        headers = dict(headers or {})
        pretty = headers.pop("_pretty", False)
        data = (json.dumps(body, indent=2) if pretty else json.dumps(body)).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json" + ("; charset=UTF-8" if pretty else ""))
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True  # the client gave up (timeout) before the answer

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _Unparsable:
    """A request body that is not JSON: every handler answers 400 bad request data."""
