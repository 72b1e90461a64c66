"""The few Grafana calls publishing needs, through grafana-client, each retried and mapped to one error type.

Transient failures (connection errors, timeouts, 429, 5xx) are retried with backoff
and jitter; a 429's or 503's Retry-After is honoured. Everything else becomes a
`GrafanaError` subclass whose message says what failed and what to do, and never
contains the credentials.
"""
from __future__ import annotations

import logging
import warnings

import niquests.exceptions as nx
from grafana_client import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaServerError,
    GrafanaTimeoutError,
    GrafanaUnauthorizedError,
)

from generator.publish.config import Settings
from generator.publish.errors import Forbidden, GrafanaError, Rejected, TlsFailure, Unauthorized, Unavailable
from generator.publish.retry import parse_retry_after

log = logging.getLogger(__name__)

SEARCH_PAGE = 5000  # Grafana's maximum search limit
FOLDER_PAGE = 1000
EDITOR_HINT = ("Give the service account the Editor role, or these permissions: folders:create, folders:read, "
               "folders:write, dashboards:create, dashboards:read, dashboards:write, dashboards:delete.")


class Grafana:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.policy = settings.retry
        self.sent = 0  # HTTP requests sent, retries included
        self._retry_after: str | None = None
        if settings.verify is False:
            from urllib3.exceptions import InsecureRequestWarning  # urllib3-future, niquests' transport
            warnings.filterwarnings("ignore", category=InsecureRequestWarning)  # warned once in config
        self.api = GrafanaApi(auth=settings.credential, host=settings.host, port=settings.port,
                              url_path_prefix=settings.path_prefix, protocol=settings.scheme,
                              verify=settings.verify, timeout=settings.timeout)
        self.api.client.s.hooks["response"].append(self._remember_retry_after)

    def __repr__(self) -> str:
        return f"Grafana({self.settings.url!r})"

    # -- calls -----------------------------------------------------------------

    def build_info(self) -> dict:
        info = self._call("reading its version (GET /api/frontend/settings)", "", self.api.health.check)
        return self._expect(info, dict, "GET /api/frontend/settings")

    def folders(self) -> list[dict]:
        """Every top-level folder: [{"id", "uid", "title"}], page by page."""
        found = self._pages("listing folders (GET /api/folders)", "folders:read", FOLDER_PAGE,
                            lambda page: self.api.client.GET("/folders", params={"limit": FOLDER_PAGE, "page": page}))
        return [self._item(f, "GET /api/folders", {"uid": str, "title": str}) for f in found]

    def folder(self, uid: str) -> dict | None:
        try:
            found = self._call(f"reading folder {uid}", "folders:read", self.api.folder.get_folder, uid)
        except Rejected as exc:
            if exc.status == 404:
                return None
            raise
        return self._item(found, f"GET /api/folders/{uid}", {"uid": str, "title": str, "version": int})

    def create_folder(self, uid: str, title: str) -> dict:
        return self._item(self._call(f"creating folder {title!r} ({uid})", "folders:create",
                                     self.api.folder.create_folder, title, uid=uid), "POST /api/folders",
                          {"uid": str}, required=("uid",))

    def rename_folder(self, uid: str, title: str, version: int) -> dict:
        return self._item(self._call(f"renaming folder {uid} to {title!r}", "folders:write",
                                     self.api.folder.update_folder, uid, title=title, version=version),
                          f"PUT /api/folders/{uid}", {"uid": str}, required=("uid",))

    def search_tagged(self, tag: str) -> list[dict]:
        """Every dashboard carrying `tag`, from search hits (uid, title, tags, folderUid), page by page."""
        hits = self._pages(f"searching dashboards tagged {tag} (GET /api/search)", "dashboards:read", SEARCH_PAGE,
                           lambda page: self.api.search.search_dashboards(tag=tag, type_="dash-db",
                                                                         limit=SEARCH_PAGE, page=page))
        return [self._item(h, "GET /api/search", {"uid": str, "title": str, "tags": list, "folderUid": str,
                                                  "folderTitle": str}, required=("uid",)) for h in hits]

    def dashboard(self, uid: str) -> dict | None:
        """{"dashboard", "meta"}, or None when there is no such dashboard."""
        try:
            found = self._call(f"reading dashboard {uid}", "dashboards:read", self.api.dashboard.get_dashboard, uid)
        except Rejected as exc:
            if exc.status == 404:
                return None
            raise
        what = f"GET /api/dashboards/uid/{uid}"
        found = self._item(found, what, {"dashboard": dict, "meta": dict}, required=("dashboard",))
        self._item(found["dashboard"], what, {"uid": str, "tags": list, "version": int})
        self._item(found.get("meta", {}), what, {"version": int, "folderUid": str, "provisioned": bool})
        return found

    def save(self, body: dict) -> dict:
        uid = body["dashboard"].get("uid")
        saved = self._call(f"saving dashboard {uid}", "dashboards:create and dashboards:write in the target folder",
                           self.api.dashboard.update_dashboard, body)
        return self._item(saved, "POST /api/dashboards/db", {"uid": str, "version": int}, required=("uid", "version"))

    def delete(self, uid: str) -> bool:
        """True when deleted; False when it was already gone."""
        try:
            done = self._call(f"deleting dashboard {uid}", "dashboards:delete", self.api.dashboard.delete_dashboard,
                              uid)
        except Rejected as exc:
            if exc.status == 404:
                return False
            raise
        self._expect(done, dict, f"DELETE /api/dashboards/uid/{uid}")
        return True

    # -- machinery -------------------------------------------------------------

    def _pages(self, what: str, needs: str, size: int, fetch) -> list[dict]:
        found: list[dict] = []
        page = 1
        while True:
            batch = self._expect(self._call(f"{what}, page {page}", needs, fetch, page), list, what)
            found.extend(batch)
            if len(batch) < size:
                return found
            page += 1

    def _remember_retry_after(self, response, **_):
        self._retry_after = response.headers.get("Retry-After")

    def _call(self, what: str, needs: str, fn, *args, **kwargs):
        attempt = 0
        while True:
            attempt += 1
            self._retry_after = None
            self.sent += 1
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - translated below, unknown ones re-raised
                error, transient = self._translate(exc, what, needs)
                if error is None:
                    raise
            if not transient:
                raise error
            retry_after = parse_retry_after(self._retry_after)
            wait = self.policy.delay(attempt, retry_after)
            if wait is None:
                longer = (f"; it asked to wait {retry_after:g} s, more than GRAFANA_RETRY_MAX_DELAY"
                          if retry_after is not None and retry_after > self.policy.max_delay else "")
                raise Unavailable(f"{error} (gave up after {attempt} tries{longer})", error.status, error.body)
            log.warning("%s; try %d of %d in %.2f s", error, attempt + 1, self.policy.attempts, wait)
            self.policy.sleep(wait)

    def _translate(self, exc: Exception, what: str, needs: str) -> tuple[GrafanaError | None, bool]:
        """(error, transient) for an exception from grafana-client or niquests; (None, _) for a bug."""
        where = f"Grafana at {self.settings.url}"
        if isinstance(exc, GrafanaTimeoutError):
            return Unavailable(f"{where} did not answer within {self.settings.timeout:g} s while {what}"), True
        if isinstance(exc, GrafanaUnauthorizedError):
            which = ("GRAFANA_TOKEN / GRAFANA_TOKEN_FILE: the service-account token is wrong, expired or revoked"
                     if self.settings.token is not None else "GRAFANA_USER / GRAFANA_PASSWORD")
            return Unauthorized(f"{where} refused the credentials (401 {self._reason(exc.response)}) while "
                                f"{what}: check {which}", 401, exc.response), False
        if isinstance(exc, GrafanaServerError):
            return Unavailable(f"{where} failed while {what}: HTTP {exc.status_code} {self._reason(exc.response)}",
                               exc.status_code, exc.response), True
        if isinstance(exc, GrafanaClientError):
            status, body = exc.status_code, exc.response
            if status == 429:
                return Unavailable(f"{where} is rate limiting (429) while {what}", 429, body), True
            if status == 403:
                return Forbidden(f"{where} denied {what} (403 {self._reason(body)}): the service account needs "
                                 f"{needs}. {EDITOR_HINT}", 403, body), False
            return Rejected(f"{where} refused {what}: {status} {self._reason(body)}", status, body), False
        if isinstance(exc, GrafanaException):  # a wrapped niquests.HTTPError: no usable answer
            return Unavailable(f"{where} failed while {what}: {self._scrub(str(exc))}"), True
        if isinstance(exc, nx.SSLError):
            return TlsFailure(f"TLS verification of {where} failed while {what}: {self._scrub(str(exc))}. "
                              "If Grafana's certificate comes from a private CA, set GRAFANA_CA_BUNDLE to the "
                              "CA's PEM file."), False
        if isinstance(exc, (nx.ConnectionError, nx.ChunkedEncodingError, nx.ContentDecodingError)):
            return Unavailable(f"cannot reach {where} while {what}: {self._scrub(str(exc))}"), True
        if isinstance(exc, (ValueError, AttributeError, TypeError, KeyError, IndexError)):
            # a 2xx whose body is not JSON, or JSON grafana-client could not read: a login page, a proxy
            return self._not_api(what), False
        if isinstance(exc, nx.RequestException):  # any other transport failure: no usable answer
            return Unavailable(f"cannot reach {where} while {what}: {self._scrub(str(exc))}"), True
        return None, False

    def _expect(self, value, kind: type, what: str):
        if not isinstance(value, kind):
            raise self._not_api(what)
        return value

    def _item(self, value, what: str, fields: dict[str, type], required: tuple[str, ...] = ()) -> dict:
        """A JSON object whose fields, where present (and `required` always), have the types Grafana gives them."""
        if not isinstance(value, dict):
            raise self._not_api(what)
        for name, kind in fields.items():
            if name not in value or value[name] is None:
                if name in required:
                    raise self._not_api(what, f"no {name!r}")
                continue
            item = value[name]
            if not isinstance(item, kind) or (kind is int and isinstance(item, bool)):
                raise self._not_api(what, f"{name!r} is not a {kind.__name__}")
        return value

    def _not_api(self, what: str, detail: str = "") -> GrafanaError:
        detail = f" ({detail})" if detail else ""
        return GrafanaError(f"Grafana at {self.settings.url} answered {what} with something that is not Grafana's "
                            f"JSON API{detail}: is GRAFANA_URL Grafana's base URL, without a login proxy in front?")

    def _reason(self, body) -> str:
        if isinstance(body, dict):
            text = body.get("message") or body.get("messageId") or ""
            tag = body.get("status") or body.get("messageId")
            text = f"{text} [{tag}]" if tag and tag != text else text
        else:
            text = str(body or "").strip()[:200]
        return self._scrub(text)

    def _scrub(self, text: str) -> str:
        """Defence in depth: no message leaves here holding a credential, whatever a server echoes."""
        for secret in (self.settings.token, self.settings.password):
            if secret is not None and secret.reveal():
                text = text.replace(secret.reveal(), "********")
        return text
