"""The Grafana test double follows Grafana's HTTP API contract (../shared/reference/grafana-api.md).

The publish tests are only as good as the double, so each rule of the contract the
publisher relies on, and the checklist of §7, is pinned here against real HTTP.
"""
from __future__ import annotations

import re
import time

import niquests
import pytest
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaBadInputError, GrafanaClientError, GrafanaServerError, GrafanaUnauthorizedError

from grafana_double import EDITOR, VIEWER, GrafanaDouble

TOKEN = "glsa_double_test_token_0123456789"
VIEWER_TOKEN = "glsa_viewer_token"
WRITE_ONLY_TOKEN = "glsa_write_only"  # can update existing dashboards but not create new ones


@pytest.fixture
def grafana():
    tokens = {TOKEN: EDITOR, VIEWER_TOKEN: VIEWER,
              WRITE_ONLY_TOKEN: VIEWER | {"dashboards:write"}}
    with GrafanaDouble(tokens=tokens, users={("admin", "s3cret"): EDITOR}) as double:
        yield double


@pytest.fixture
def http(grafana):
    session = niquests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"

    def call(method, path, token=TOKEN, **kwargs):
        headers = kwargs.pop("headers", {})
        if token is None:
            headers["Authorization"] = ""
        elif token != TOKEN:
            headers["Authorization"] = f"Bearer {token}"
        return session.request(method, grafana.url + path, headers=headers, timeout=5, **kwargs)

    yield call
    session.close()


def save(http, dashboard, **extra):
    return http("POST", "/api/dashboards/db", json={"dashboard": dashboard, **extra})


def board(uid="d1", title="Board", **fields):
    return {"uid": uid, "title": title, "id": None, "version": 0, **fields}


# -- POST /api/dashboards/db (§1.2, §7.1) -----------------------------------------------------

def test_creating_a_dashboard_returns_grafanas_success_body_with_version_1(http, grafana):
    http("POST", "/api/folders", json={"uid": "f1", "title": "Team"})
    r = save(http, board(title="My Board"), folderUid="f1")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"id", "uid", "url", "status", "version", "slug", "folderUid"}
    assert body["status"] == "success" and body["version"] == 1 and body["uid"] == "d1"
    assert body["url"] == "/d/d1/my-board" and body["slug"] == "my-board" and body["folderUid"] == "f1"


def test_updating_with_the_stored_version_increments_it_and_keeps_the_id(http):
    first = save(http, board()).json()
    second = save(http, board(version=1, title="Renamed")).json()
    assert second["version"] == 2 and second["id"] == first["id"]


def test_a_null_id_with_an_existing_uid_updates_in_place_and_returns_the_existing_id(http, grafana):
    first = save(http, board()).json()
    again = save(http, {**board(version=1), "id": None}).json()
    assert again["id"] == first["id"] and len(grafana.dashboards) == 1


def test_a_stale_version_gets_412_version_mismatch_and_overwrite_wins(http):
    save(http, board())
    save(http, board(version=1))
    stale = save(http, board(version=1))
    assert stale.status_code == 412
    assert stale.json() == {"status": "version-mismatch", "message": "The dashboard has been changed by someone else"}
    forced = save(http, board(version=1), overwrite=True)
    assert forced.status_code == 200 and forced.json()["version"] == 3


def test_saving_without_a_folder_moves_the_dashboard_to_the_root(http, grafana):
    http("POST", "/api/folders", json={"uid": "f1", "title": "Team"})
    save(http, board(), folderUid="f1")
    save(http, board(version=1))
    assert grafana.dashboards["d1"].folder_uid == ""


BAD_SAVES = [
    pytest.param(lambda http: http("POST", "/api/dashboards/db", data=b"{not json",
                                   headers={"Content-Type": "application/json"}),
                 400, {"message": "bad request data", "traceID": ""}, id="a body that is not JSON is bad request data"),
    pytest.param(lambda http: http("POST", "/api/dashboards/db", json={"folderUid": ""}),
                 400, {"message": "bad request data", "traceID": ""}, id="a missing dashboard is bad request data"),
    pytest.param(lambda http: save(http, board(), isFolder=True),
                 400, {"message": "Use folders endpoint for saving folders."}, id="isFolder is refused"),
    pytest.param(lambda http: save(http, board(title="   ")),
                 400, {"status": "empty-name", "message": "Dashboard title cannot be empty"},
                 id="a blank title is empty-name"),
    pytest.param(lambda http: save(http, board(title="x" * 5001)),
                 400, {"status": "title-too-long",
                       "message": "Dashboard title cannot contain more than 5 000 characters"},
                 id="a title over 5000 characters is title-too-long"),
    pytest.param(lambda http: save(http, board(), message="m" * 501),
                 400, {"message": "message too long, max 500 characters"}, id="a message over 500 characters"),
    pytest.param(lambda http: save(http, board(uid="bad uid!")),
                 400, {"message": "uid contains illegal characters"}, id="a uid with illegal characters"),
    pytest.param(lambda http: save(http, board(uid="u" * 41)),
                 400, {"message": "uid too long, max 40 characters"}, id="a uid over 40 characters"),
    pytest.param(lambda http: save(http, board(), folderUid="nope"),
                 400, {"message": "folder not found"}, id="an unknown folderUid is folder not found"),
    pytest.param(lambda http: save(http, board(id=999)),
                 404, {"status": "not-found", "message": "Dashboard not found"}, id="an unknown id is not-found"),
]


@pytest.mark.parametrize("request_, status, body", BAD_SAVES)
def test_invalid_saves_get_grafanas_exact_status_and_body(http, request_, status, body):
    r = request_(http)
    assert (r.status_code, r.json()) == (status, body)


def test_an_id_and_a_uid_naming_different_dashboards_is_a_400_without_status(http):
    one = save(http, board(uid="one")).json()
    save(http, board(uid="two", title="Two"))
    r = save(http, {**board(uid="two", title="Two", version=1), "id": one["id"]})
    assert (r.status_code, r.json()) == (400, {"message": "A dashboard with the same uid already exists"})


def test_saving_a_dashboard_over_a_folder_uid_is_refused(http):
    http("POST", "/api/folders", json={"uid": "f1", "title": "Team"})
    r = save(http, board(uid="f1"))
    assert (r.status_code, r.json()) == (400, {"message": "Dashboard cannot be changed to a folder"})


def test_a_plugin_dashboard_needs_overwrite(http, grafana):
    save(http, board())
    grafana.dashboards["d1"].plugin_id = "my-plugin"
    r = save(http, board(version=1))
    assert (r.status_code, r.json()) == (412, {"status": "plugin-dashboard",
                                               "message": "The dashboard belongs to plugin my-plugin."})


def test_duplicate_titles_in_a_folder_are_refused_only_before_grafana_11_3():
    for version, expected in (("11.2.0", 412), ("11.3.0", 200)):
        with GrafanaDouble(version, tokens={TOKEN: EDITOR}) as double:
            api = {"Authorization": f"Bearer {TOKEN}"}
            niquests.post(double.url + "/api/dashboards/db", json={"dashboard": board(uid="a")}, headers=api)
            r = niquests.post(double.url + "/api/dashboards/db", json={"dashboard": board(uid="b")}, headers=api)
            assert r.status_code == expected
            if expected == 412:
                assert r.json() == {"status": "name-exists",
                                    "message": "A dashboard with the same name in the folder already exists"}


def test_the_dashboard_quota_refuses_new_dashboards_only():
    with GrafanaDouble(tokens={TOKEN: EDITOR}, dashboard_quota=1) as double:
        api = {"Authorization": f"Bearer {TOKEN}"}
        assert niquests.post(double.url + "/api/dashboards/db", json={"dashboard": board()}, headers=api).ok
        update = niquests.post(double.url + "/api/dashboards/db", json={"dashboard": board(version=1)}, headers=api)
        new = niquests.post(double.url + "/api/dashboards/db", json={"dashboard": board(uid="d2")}, headers=api)
        assert update.ok and (new.status_code, new.json()) == (403, {"message": "Quota reached"})


# -- GET and DELETE /api/dashboards/uid (§1.3, §1.4, §7.4) ------------------------------------

def test_getting_a_dashboard_returns_it_with_the_stored_version_and_grafanas_meta(http):
    save(http, board(version=0))
    r = http("GET", "/api/dashboards/uid/d1").json()
    assert r["dashboard"]["version"] == 1 and r["dashboard"]["uid"] == "d1" and isinstance(r["dashboard"]["id"], int)
    meta = r["meta"]
    for key in ("type", "canSave", "canEdit", "canAdmin", "canStar", "canDelete", "slug", "url", "expires", "created",
                "updated", "updatedBy", "createdBy", "version", "hasAcl", "isFolder", "folderId", "folderUid",
                "folderTitle", "folderUrl", "provisioned", "provisionedExternalId", "annotationsPermissions"):
        assert key in meta
    assert meta["folderTitle"] == "General" and meta["folderUid"] == "" and meta["provisioned"] is False


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_an_unknown_dashboard_is_404_dashboard_not_found(http, method):
    r = http(method, "/api/dashboards/uid/missing")
    assert (r.status_code, r.json()) == (404, {"message": "Dashboard not found", "traceID": ""})


def test_deleting_a_dashboard_returns_its_title_and_removes_it(http, grafana):
    save(http, board(title="Old"))
    r = http("DELETE", "/api/dashboards/uid/d1")
    assert r.json() == {"title": "Old", "message": "Dashboard Old deleted", "uid": "d1"} and not grafana.dashboards


def test_deleting_a_folder_through_the_dashboards_endpoint_is_refused(http):
    http("POST", "/api/folders", json={"uid": "f1", "title": "Team"})
    r = http("DELETE", "/api/dashboards/uid/f1")
    assert (r.status_code, r.json()) == (400, {"message": "Use folders endpoint for deleting folders."})


# -- provisioned dashboards (§1.9) -------------------------------------------------------------

def test_a_provisioned_dashboard_refuses_api_saves_and_deletes(http, grafana):
    grafana.provision(board(uid="prov", title="Provisioned"), external_id="team/prov.json")
    assert http("GET", "/api/dashboards/uid/prov").json()["meta"]["provisioned"] is True
    r = save(http, board(uid="prov", title="Provisioned", version=1))
    assert (r.status_code, r.json()) == (400, {"message": "Cannot save provisioned dashboard"})
    r = http("DELETE", "/api/dashboards/uid/prov")
    assert (r.status_code, r.json()) == (400, {"message": "provisioned dashboard cannot be deleted", "traceID": ""})


def test_a_stale_save_to_a_provisioned_dashboard_gets_412_before_the_provisioned_check(http, grafana):
    grafana.provision(board(uid="prov", title="Provisioned"))
    assert save(http, board(uid="prov", title="Provisioned", version=0)).status_code == 412


def test_a_provisioned_dashboard_that_allows_ui_updates_can_be_saved(http, grafana):
    grafana.provision(board(uid="prov", title="Provisioned"), allow_ui_updates=True)
    assert save(http, board(uid="prov", title="Provisioned", version=1)).status_code == 200


# -- search (§1.5) -------------------------------------------------------------------------------

def test_search_filters_by_every_tag_and_by_type(http):
    http("POST", "/api/folders", json={"uid": "f1", "title": "Team"})
    save(http, board(uid="a", title="A", tags=["x", "y"]), folderUid="f1")
    save(http, board(uid="b", title="B", tags=["x"]))
    assert [h["uid"] for h in http("GET", "/api/search", params={"tag": ["x", "y"]}).json()] == ["a"]
    assert [h["uid"] for h in http("GET", "/api/search", params={"tag": "x"}).json()] == ["a", "b"]
    assert [h["uid"] for h in http("GET", "/api/search", params={"type": "dash-folder"}).json()] == ["f1"]
    assert [h["uid"] for h in http("GET", "/api/search", params={"type": "dash-db"}).json()] == ["a", "b"]


def test_search_hits_carry_tags_sorted_and_folder_fields_only_inside_a_folder(http):
    http("POST", "/api/folders", json={"uid": "f1", "title": "Team"})
    save(http, board(uid="a", title="A", tags=["z", "a"]), folderUid="f1")
    save(http, board(uid="b", title="B"))
    a, b = http("GET", "/api/search", params={"type": "dash-db"}).json()
    assert a["tags"] == ["a", "z"] and a["folderUid"] == "f1" and a["folderTitle"] == "Team"
    assert a["url"] == "/d/a/a" and a["uri"] == "db/a" and a["type"] == "dash-db"
    assert "folderUid" not in b and "folderTitle" not in b


def test_search_lists_folders_first_then_titles_case_insensitively(http):
    save(http, board(uid="b", title="beta"))
    save(http, board(uid="a", title="Alpha"))
    http("POST", "/api/folders", json={"uid": "f", "title": "Zeta"})
    assert [h["title"] for h in http("GET", "/api/search").json()] == ["Zeta", "Alpha", "beta"]


def test_search_filters_by_folder_uids_with_general_meaning_the_root(http):
    http("POST", "/api/folders", json={"uid": "f1", "title": "Team"})
    save(http, board(uid="a", title="A"), folderUid="f1")
    save(http, board(uid="b", title="B"))
    def uids(folder):
        return [h["uid"] for h in http("GET", "/api/search", params={"folderUIDs": folder, "type": "dash-db"}).json()]
    assert uids("f1") == ["a"] and uids("general") == ["b"]


def test_search_pages_with_limit_and_a_one_based_page(http):
    for i in range(5):
        save(http, board(uid=f"d{i}", title=f"D{i}"))
    pages = [[h["uid"] for h in http("GET", "/api/search", params={"limit": 2, "page": p}).json()] for p in (1, 2, 3)]
    assert pages == [["d0", "d1"], ["d2", "d3"], ["d4"]]


def test_search_refuses_a_limit_above_5000_and_ids_with_uids(http):
    r = http("GET", "/api/search", params={"limit": 5001})
    assert r.status_code == 422 and r.json()["message"].startswith("Limit is above maximum allowed (5000)")
    r = http("GET", "/api/search", params={"dashboardUIDs": "a", "dashboardIds": 1})
    assert (r.status_code, r.json()) == (400, {"message": "search supports UIDs or IDs, not both"})


def test_search_shows_a_viewer_only_what_it_may_read(http, grafana):
    save(http, board())
    grafana.tokens["glsa_nothing"] = frozenset()
    assert http("GET", "/api/search", token="glsa_nothing").json() == []
    assert len(http("GET", "/api/search", token=VIEWER_TOKEN).json()) == 1


# -- folders (§1.6, §7.6) ------------------------------------------------------------------------

def test_creating_a_folder_returns_the_folder_dto(http):
    r = http("POST", "/api/folders", json={"uid": "f1", "title": "Team"})
    dto = r.json()
    assert r.status_code == 200 and dto["uid"] == "f1" and dto["title"] == "Team" and dto["version"] == 1
    assert dto["url"] == "/dashboards/f/f1/team" and isinstance(dto["id"], int)
    assert http("GET", "/api/folders/f1").json()["title"] == "Team"


def test_a_duplicate_folder_uid_is_409(http):
    http("POST", "/api/folders", json={"uid": "f1", "title": "Team"})
    r = http("POST", "/api/folders", json={"uid": "f1", "title": "Other"})
    assert (r.status_code, r.json()) == (409, {"message": "a folder/dashboard with the same uid already exists"})


def test_a_duplicate_folder_title_is_409_only_before_grafana_11_3():
    for version, expected in (("10.4.3", 409), ("11.5.0", 200)):
        with GrafanaDouble(version, tokens={TOKEN: EDITOR}) as double:
            api = {"Authorization": f"Bearer {TOKEN}"}
            niquests.post(double.url + "/api/folders", json={"uid": "a", "title": "Team"}, headers=api)
            r = niquests.post(double.url + "/api/folders", json={"uid": "b", "title": "Team"}, headers=api)
            assert r.status_code == expected


def test_an_unknown_folder_is_404_not_found(http):
    r = http("GET", "/api/folders/missing")
    assert (r.status_code, r.json()) == (404, {"status": "not-found", "message": "folder not found"})


@pytest.mark.parametrize("body, message", [({"uid": "f", "title": " "}, "folder title cannot be empty"),
                                           ({"uid": "f f", "title": "T"}, "uid contains illegal characters"),
                                           ({"uid": "f" * 41, "title": "T"}, "uid too long, max 40 characters")],
                         ids=["a blank title", "an illegal uid", "a uid over 40 characters"])
def test_invalid_folders_are_400(http, body, message):
    r = http("POST", "/api/folders", json=body)
    assert (r.status_code, r.json()) == (400, {"message": message})


def test_updating_a_folder_needs_its_current_version(http):
    http("POST", "/api/folders", json={"uid": "f1", "title": "Team"})
    stale = http("PUT", "/api/folders/f1", json={"title": "New", "version": 7})
    assert (stale.status_code, stale.json()) == (412, {"status": "version-mismatch",
                                                       "message": "the folder has been changed by someone else"})
    ok = http("PUT", "/api/folders/f1", json={"title": "New", "version": 1})
    assert ok.json()["title"] == "New" and ok.json()["version"] == 2


def test_listing_folders_pages_and_returns_id_uid_title(http):
    for i in range(3):
        http("POST", "/api/folders", json={"uid": f"f{i}", "title": f"F{i}"})
    assert http("GET", "/api/folders", params={"limit": 2, "page": 2}).json() == [{"id": 3, "uid": "f2", "title": "F2"}]


# -- health, settings, auth (§1.7, §1.8, §7.5, §7.7) -------------------------------------------

def test_health_answers_without_credentials_pretty_printed(http):
    r = http("GET", "/api/health", token=None)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert r.json() == {"database": "ok", "version": "11.5.0", "commit": "0123456789"} and '\n  "database"' in r.text


def test_frontend_settings_need_credentials_and_carry_the_build_version(http):
    assert http("GET", "/api/frontend/settings", token=None).status_code == 401
    assert http("GET", "/api/frontend/settings").json()["buildInfo"]["version"] == "11.5.0"


@pytest.mark.parametrize("authorization, body", [
    (None, {"message": "Unauthorized", "messageId": "auth.unauthorized", "statusCode": 401, "traceID": ""}),
    ("Bearer glsa_wrong", {"message": "Invalid API key", "messageId": "api-key.invalid", "statusCode": 401,
                           "traceID": ""}),
    ("Basic YWRtaW46d3Jvbmc=", {"message": "Invalid username or password", "messageId": "password-auth.failed",
                                "statusCode": 401, "traceID": ""}),
], ids=["no credentials", "a wrong token", "a wrong password"])
def test_bad_credentials_get_grafanas_401_bodies(grafana, authorization, body):
    headers = {"Authorization": authorization} if authorization else {}
    r = niquests.get(grafana.url + "/api/search", headers=headers)
    assert (r.status_code, r.json()) == (401, body)


def test_basic_auth_works_for_users_and_for_a_token_sent_as_api_key(grafana):
    assert niquests.get(grafana.url + "/api/search", auth=("admin", "s3cret")).status_code == 200
    assert niquests.get(grafana.url + "/api/search", auth=("api_key", TOKEN)).status_code == 200


def test_the_rbac_guard_names_the_missing_permission(http):
    r = http("POST", "/api/dashboards/db", token=VIEWER_TOKEN, json={"dashboard": board()})
    body = r.json()
    assert r.status_code == 403 and body["title"] == "Access denied"
    assert re.fullmatch(r"ACE\d{10}", body["accessErrorId"])
    assert body["message"] == ("You'll need additional permissions to perform this action. "
                               "Permissions needed: any of dashboards:create, dashboards:write")
    r = http("POST", "/api/folders", token=VIEWER_TOKEN, json={"uid": "f", "title": "F"})
    assert r.status_code == 403 and r.json()["message"].endswith("Permissions needed: folders:create")


def test_writing_without_create_permission_cannot_create_a_dashboard(http):
    r = http("POST", "/api/dashboards/db", token=WRITE_ONLY_TOKEN, json={"dashboard": board()})
    assert (r.status_code, r.json()) == (403, {"message": "Access denied to save dashboard", "traceID": ""})


def test_grafana_client_maps_the_doubles_errors_to_its_exception_classes(grafana):
    api = GrafanaApi(auth=TOKEN, host="127.0.0.1", port=grafana.port)
    with pytest.raises(GrafanaBadInputError):
        api.dashboard.update_dashboard({"dashboard": board(title="")})
    api.dashboard.update_dashboard({"dashboard": board()})
    with pytest.raises(GrafanaClientError) as stale:
        api.dashboard.update_dashboard({"dashboard": board()})
    assert stale.value.status_code == 412 and stale.value.response["status"] == "version-mismatch"
    with pytest.raises(GrafanaUnauthorizedError):
        GrafanaApi(auth="glsa_wrong", host="127.0.0.1", port=grafana.port).search.search_dashboards()
    grafana.fail("status", status=500)
    with pytest.raises(GrafanaServerError):
        api.search.search_dashboards()
    assert api.version == "11.5.0"


# -- faults and the request log ------------------------------------------------------------------

def test_a_status_fault_answers_5xx_then_the_next_request_succeeds(http, grafana):
    grafana.fail("status", status=503, path="/api/search")
    assert http("GET", "/api/search").status_code == 503
    assert http("GET", "/api/search").status_code == 200


def test_a_rate_limit_fault_answers_429_with_retry_after(http, grafana):
    grafana.fail("rate_limit", retry_after="3")
    r = http("GET", "/api/search")
    assert r.status_code == 429 and r.headers["Retry-After"] == "3"


def test_a_slow_fault_delays_the_answer_and_still_takes_effect(http, grafana):
    grafana.fail("slow", delay=0.3, method="POST")
    started = time.monotonic()
    assert save(http, board()).status_code == 200
    assert time.monotonic() - started >= 0.3 and "d1" in grafana.dashboards


@pytest.mark.parametrize("after, stored", [(False, False), (True, True)],
                         ids=["a drop before the save loses it", "a drop after the save keeps it"])
def test_a_dropped_connection_gets_no_answer(http, grafana, after, stored):
    grafana.fail("drop", method="POST", after=after)
    with pytest.raises(niquests.exceptions.ConnectionError):
        save(http, board())
    assert ("d1" in grafana.dashboards) is stored
    assert grafana.requests[-1].status is None and grafana.requests[-1].fault == "drop"


def test_the_request_log_records_method_path_status_and_the_auth_scheme_but_never_the_credential(http, grafana):
    save(http, board())
    http("GET", "/api/search", params={"tag": "x"})
    assert [(r.method, r.path, r.status, r.auth) for r in grafana.requests] == [
        ("POST", "/api/dashboards/db", 200, "bearer"), ("GET", "/api/search", 200, "bearer")]
    assert grafana.requests[1].query == {"tag": ["x"]} and len(grafana.writes()) == 1
    assert TOKEN not in repr(grafana.requests)


def test_every_answer_is_json_even_unknown_routes(http):
    r = http("GET", "/api/nothing-here")
    assert r.status_code == 404 and r.headers["Content-Type"] == "application/json"
    assert r.json() == {"message": "Not found"}
