"""`python -m generator publish` against the Grafana test double (tests/grafana_double.py).

Grafana cannot be installed here, so every test talks real HTTP to the double on
127.0.0.1; the double's request log is how "writes nothing" and "constant number of
requests" are proved.
"""
from __future__ import annotations

import json
import logging
import random
import shutil
import socket
import ssl
import subprocess
import sys
from dataclasses import dataclass

import niquests
import pytest

from generator import conventions as c
from generator import grafana_facts, output
from generator import inventory as inventory_mod
from generator.build import OUTPUT_DIRS
from generator.cli import main
from generator.dashboards import build_dashboards
from generator.publish import compat, config, desired, marking
from generator.publish.apply import apply
from generator.publish.errors import ConfigError
from generator.publish.grafana import Grafana
from generator.publish.plan import make_plan
from generator.publish.retry import RetryPolicy, parse_retry_after

from conftest import HEADER as BASE_HEADER
from conftest import ROOT, model_yaml
from grafana_double import EDITOR, VIEWER, GrafanaDouble

TOKEN = "glsa_publisherSECRET0123456789_abcdef01"  # the service-account token under test
HUMAN = "glsa_humanEditorToken_77"  # someone editing dashboards in Grafana
VIEWER_TOKEN = "glsa_viewerOnly_42"
NO_DASHBOARD_WRITE = "glsa_foldersOnly_43"

HEADER = BASE_HEADER + "  search: {folder: Search, labels: {team: search}}\n"
INVENTORY = HEADER + "models:\n" + model_yaml("small", served_name="org/small-1.0") + model_yaml("medium") + \
    model_yaml("big", team="search", gpu="H100-80GB", per_replica=4)
MEDIUM = c.model_dashboard_uid("medium")
GENERATED_UIDS = sorted([c.FLEET_UID, c.GPU_UID, c.model_dashboard_uid("small"), MEDIUM, c.model_dashboard_uid("big")])


def with_models(count: int) -> str:
    """An inventory with `count` models, for request counts that must not depend on it."""
    return HEADER + "models:\n" + "".join(model_yaml(f"m{i}") for i in range(count))


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def grafana():
    tokens = {TOKEN: EDITOR, HUMAN: EDITOR, VIEWER_TOKEN: VIEWER,
              NO_DASHBOARD_WRITE: VIEWER | {"folders:create", "folders:write"}}
    with GrafanaDouble(tokens=tokens) as double:
        yield double


def grafana_environment(monkeypatch, url: str, **settings: str) -> None:
    """GRAFANA_URL, the test token, a 2 s timeout and the given GRAFANA_* settings; none from the developer's
    environment."""
    for name in config.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    for name, value in {"URL": url, "TOKEN": TOKEN, "TIMEOUT": "2", **settings}.items():
        monkeypatch.setenv(f"GRAFANA_{name}", value)


@pytest.fixture
def env(monkeypatch, grafana):
    grafana_environment(monkeypatch, grafana.url, RETRY_BACKOFF="0.01")
    return monkeypatch


@pytest.fixture
def inventory(tmp_path):
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY)
    return path


def write_dashboards(inventory_file, out) -> None:
    """What `generate` writes that publish reads: dashboards/ and the manifest naming the inventory.

    The rules, tests and runbooks generate writes beside them are left out: publish never reads them, and
    building them would make each publish here cost seconds (`test_make_publish_...` runs the real pair).
    """
    inventory = inventory_mod.load(inventory_file)
    files = {path: grafana_facts.dashboard_json(board) for path, board in build_dashboards(inventory).items()}
    output.write(files, out, OUTPUT_DIRS, inventory=inventory.digest())


@pytest.fixture
def publish(capsys, inventory, tmp_path):
    """Generate the dashboards of the inventory as it is now, then publish them: `make publish`."""
    def run(*args: str, inventory_file=None) -> Run:
        out = tmp_path / "out"
        write_dashboards(inventory_file or inventory, out)
        code = main(["publish", "--inventory", str(inventory_file or inventory), "--output", str(out), *args])
        out_text, err = capsys.readouterr()
        return Run(code, out_text, err)
    return run


def generated(text: str = INVENTORY) -> dict[str, dict]:
    return {b["uid"]: b for b in build_dashboards(inventory_mod.parse(text, "inventory.yaml")).values()}


def edit_in_grafana(grafana: GrafanaDouble, uid: str, **changes) -> None:
    """What a person does in Grafana's UI: load the dashboard, change it, save it (through the API)."""
    headers = {"Authorization": f"Bearer {HUMAN}"}
    found = niquests.get(f"{grafana.url}/api/dashboards/uid/{uid}", headers=headers).json()
    body = {"dashboard": {**found["dashboard"], **changes}, "folderUid": found["meta"]["folderUid"]}
    assert niquests.post(f"{grafana.url}/api/dashboards/db", json=body, headers=headers).status_code == 200


def assert_converged(grafana: GrafanaDouble, text: str = INVENTORY) -> None:
    """Grafana holds exactly what the inventory generates, each dashboard marked and in its folder."""
    bundle = desired.from_inventory(inventory_mod.parse(text, "inventory.yaml"))
    managed = {uid for uid, row in grafana.dashboards.items()
               if marking.published_here(uid, row.data.get("tags"), bundle.owner)}
    assert managed == {d.uid for d in bundle.dashboards}
    for d in bundle.dashboards:
        row = grafana.dashboards[d.uid]
        assert row.folder_uid == d.folder.uid
        assert marking.fingerprint(row.data, row.folder_uid) == d.fingerprint
        assert marking.recorded(row.data["tags"]) == d.fingerprint


# -- the happy path ---------------------------------------------------------------------------

def test_the_first_publish_creates_one_folder_per_team_and_every_generated_dashboard(env, grafana, publish):
    result = publish()
    assert result.code == 0, result.err
    assert {uid: f.title for uid, f in grafana.folders.items()} == {
        c.folder_uid("infra"): "Infra", c.folder_uid("search"): "Search", desired.SHARED_FOLDER.uid: "LLM fleet"}
    assert sorted(grafana.dashboards) == GENERATED_UIDS
    assert grafana.dashboards[MEDIUM].folder_uid == c.folder_uid("infra")
    assert grafana.dashboards[c.model_dashboard_uid("big")].folder_uid == c.folder_uid("search")
    assert grafana.dashboards[c.FLEET_UID].folder_uid == desired.SHARED_FOLDER.uid
    for uid, board in generated().items():
        stored = grafana.stored(uid)
        assert {k: v for k, v in stored.items() if k not in ("id", "version", "tags")} == \
            {k: v for k, v in board.items() if k not in ("id", "version", "tags")}
        assert stored["tags"][:len(board["tags"])] == board["tags"] and marking.MANAGED_TAG in stored["tags"]
    assert "5 created" in result.out
    assert_converged(grafana)


def test_the_first_publish_makes_one_write_per_folder_and_per_dashboard(env, grafana, publish):
    publish()
    writes = [(r.method, r.path) for r in grafana.writes()]
    assert writes == [("POST", "/api/folders")] * 3 + [("POST", "/api/dashboards/db")] * 5


def test_a_second_publish_writes_nothing_in_three_requests(env, grafana, publish):
    publish()
    grafana.clear_log()
    result = publish()
    assert result.code == 0 and "Nothing was written" in result.out
    assert grafana.writes() == []
    assert [(r.method, r.path) for r in grafana.requests] == [
        ("GET", "/api/frontend/settings"), ("GET", "/api/folders"), ("GET", "/api/search")]


def test_a_no_op_publish_costs_the_same_requests_for_1_and_for_25_models(env, grafana, publish, tmp_path):
    counts = []
    for n in (1, 25):
        path = tmp_path / f"inventory-{n}.yaml"
        path.write_text(with_models(n))
        assert publish(inventory_file=path).code == 0
        grafana.clear_log()
        assert publish(inventory_file=path).code == 0
        counts.append((len(grafana.requests), len(grafana.writes())))
    assert counts == [(3, 0), (3, 0)]


def test_one_changed_model_updates_exactly_its_dashboard_in_two_requests(env, grafana, publish, inventory):
    publish()
    before = grafana.dashboards[MEDIUM].version
    changed = INVENTORY.replace(model_yaml("medium"), model_yaml("medium", replicas=(1, 6)))
    assert changed != INVENTORY and [u for u in generated() if generated()[u] != generated(changed)[u]] == [MEDIUM]
    inventory.write_text(changed)
    grafana.clear_log()
    result = publish()
    assert result.code == 0 and "1 updated" in result.out and "4 unchanged" in result.out
    assert [(r.method, r.path) for r in grafana.writes()] == [("POST", "/api/dashboards/db")]
    assert len(grafana.requests) == 3 + 2  # connect, folders, search; then GET + POST for the one that changed
    assert grafana.dashboards[MEDIUM].version == before + 1
    assert_converged(grafana, changed)


def test_each_save_carries_a_version_message_naming_the_git_commit(env, grafana, publish):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    publish(inventory_file=ROOT / "inventory.yaml")
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    message = grafana.dashboards[c.FLEET_UID].message
    assert message.startswith(desired.MESSAGE_PREFIX + " from commit ") and len(head.strip()) >= 7


def test_publish_takes_the_committed_dashboards_and_their_fingerprints_from_the_files_bytes(example):
    committed = {json.loads(p.read_text())["uid"]: json.loads(p.read_text())
                 for p in (ROOT / "dashboards").rglob("*.json")}
    bundle = desired.from_output(example, ROOT)
    assert sorted(committed) == [d.uid for d in bundle.dashboards]
    for d in bundle.dashboards:
        assert d.title == committed[d.uid]["title"]
        assert {**d.body, "tags": committed[d.uid]["tags"]} == {**committed[d.uid], "id": None}
        # What the file's SHA-256 gives is what hashing the dashboard read back from Grafana gives.
        assert marking.fingerprint(d.body, d.folder.uid) == d.fingerprint == marking.recorded(d.body["tags"])


def test_the_real_generate_then_publish_pair_converges(env, grafana, inventory, tmp_path, capsys):
    out = tmp_path / "generated"
    assert main(["generate", "--inventory", str(inventory), "--output", str(out)]) == 0
    assert main(["publish", "--inventory", str(inventory), "--output", str(out)]) == 0
    assert_converged(grafana)
    capsys.readouterr()


def test_publish_refuses_output_generated_from_another_version_of_the_inventory(env, grafana, inventory, tmp_path,
                                                                                 capsys):
    out = tmp_path / "generated"
    write_dashboards(inventory, out)
    inventory.write_text(INVENTORY.replace("kv_cache_usage: 0.9", "kv_cache_usage: 0.8"))
    assert main(["publish", "--inventory", str(inventory), "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert "not generated from" in err and "generate --inventory" in err and "Traceback" not in err
    assert grafana.writes() == []


def test_publish_refuses_a_dashboard_file_edited_after_generate(env, grafana, inventory, tmp_path, capsys):
    out = tmp_path / "generated"
    write_dashboards(inventory, out)
    edited = next((out / "dashboards").rglob("*.json"))
    edited.write_text(edited.read_text().replace('"editable": false', '"editable": true'))
    assert main(["publish", "--inventory", str(inventory), "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert str(edited) in err and "changed since `generate` wrote it" in err
    assert grafana.writes() == []


def test_publish_without_generated_output_says_to_generate_first(env, grafana, inventory, tmp_path, capsys):
    assert main(["publish", "--inventory", str(inventory), "--output", str(tmp_path / "nothing")]) == 1
    assert "run `generate` first" in capsys.readouterr().err


def test_a_dashboard_published_with_the_fingerprint_of_earlier_releases_is_updated_not_a_conflict(
        env, grafana, publish):
    assert publish().code == 0
    stored = grafana.dashboards[MEDIUM].data
    legacy = marking._fingerprint_before_seal(stored, grafana.dashboards[MEDIUM].folder_uid)
    tags = [t for t in stored["tags"] if not t.startswith(marking.FINGERPRINT_PREFIX)]
    edit_in_grafana(grafana, MEDIUM, tags=[*tags, marking.FINGERPRINT_PREFIX + legacy])
    grafana.clear_log()
    result = publish()
    assert result.code == 0, result.err + result.out
    assert grafana.writes() and "conflict" not in result.out.lower()
    assert_converged(grafana)


def test_without_git_the_version_message_names_no_commit(tmp_path):
    assert desired.version_message(tmp_path) == desired.MESSAGE_PREFIX


def test_a_team_folder_renamed_in_the_inventory_is_renamed_in_grafana_without_rewriting_dashboards(
        env, grafana, publish, inventory):
    publish()
    inventory.write_text(INVENTORY.replace("{folder: Infra,", "{folder: Infrastructure,"))
    grafana.clear_log()
    result = publish()
    assert result.code == 0 and "renamed" in result.out
    assert grafana.folders[c.folder_uid("infra")].title == "Infrastructure"
    assert [(r.method, r.path) for r in grafana.writes()] == [("PUT", f"/api/folders/{c.folder_uid('infra')}")]


def test_a_model_moved_to_another_team_moves_its_dashboard_to_that_folder(env, grafana, publish, inventory):
    publish()
    moved = INVENTORY.replace(model_yaml("medium"), model_yaml("medium", team="search"))
    inventory.write_text(moved)
    assert publish().code == 0
    assert grafana.dashboards[MEDIUM].folder_uid == c.folder_uid("search")
    assert_converged(grafana, moved)


# -- no silent clobbering -----------------------------------------------------------------------

def test_an_edit_made_in_grafana_is_refused_named_and_diffed_and_force_overwrites_it(env, grafana, publish, inventory):
    publish()
    edit_in_grafana(grafana, MEDIUM, title="Medium (tuned by hand)")
    inventory.write_text(INVENTORY.replace("served_name: org/medium", "served_name: org/medium-v2"))
    grafana.clear_log()

    refused = publish()
    assert refused.code == 1
    assert f"conflict  refused     {MEDIUM}" in refused.out and "--force" in refused.out
    assert "changed in Grafana since it was last published (version 2, by sa-2 at " in refused.out
    assert grafana.dashboards[MEDIUM].title == "Medium (tuned by hand)" and grafana.writes() == []

    preview = publish("--dry-run")
    assert preview.code == 1 and grafana.writes() == []
    assert f"--- grafana/{MEDIUM}\n+++ generated/{MEDIUM}\n" in preview.out
    assert '-  "title": "Medium (tuned by hand)",\n+  "title": "LLM model / medium",' in preview.out

    forced = publish("--force")
    assert forced.code == 0 and f"conflict  overwritten {MEDIUM}" in forced.out
    assert [(r.method, r.path) for r in grafana.writes()] == [("POST", "/api/dashboards/db")]
    changed = INVENTORY.replace("served_name: org/medium", "served_name: org/medium-v2")
    assert_converged(grafana, changed)
    grafana.clear_log()
    assert publish().code == 0 and grafana.writes() == []


def test_an_edit_landing_between_planning_and_writing_gets_grafanas_412_and_is_not_clobbered(env, grafana, publish):
    publish()
    changed = INVENTORY.replace("served_name: org/medium", "served_name: org/medium-v2")
    client = Grafana(config.from_env())
    plan = make_plan(client, desired.from_inventory(inventory_mod.parse(changed, "i")), prune=False, diffs=False)
    assert [s.action for s in plan.steps if s.uid == MEDIUM] == ["update"]
    edit_in_grafana(grafana, MEDIUM, title="Edited meanwhile")
    assert apply(client, plan, force=False, message="m") is None
    step = next(s for s in plan.steps if s.uid == MEDIUM)
    assert (step.action, step.result) == ("conflict", "refused")
    assert grafana.dashboards[MEDIUM].title == "Edited meanwhile"


def test_a_concurrent_publish_landing_between_planning_and_writing_is_updated_not_taken_for_an_edit(
        env, grafana, publish, inventory):
    publish()
    ours = INVENTORY.replace("served_name: org/medium", "served_name: org/medium-ours")
    client = Grafana(config.from_env())
    plan = make_plan(client, desired.from_inventory(inventory_mod.parse(ours, "i")), prune=False, diffs=False)
    inventory.write_text(INVENTORY.replace("served_name: org/medium", "served_name: org/medium-theirs"))
    assert publish().code == 0  # another CI run publishes in between
    assert apply(client, plan, force=False, message="m") is None
    assert [s.result for s in plan.steps if s.uid == MEDIUM] == ["updated"]
    assert_converged(grafana, ours)


def test_an_edit_made_in_grafana_is_left_alone_while_the_generated_dashboard_is_unchanged(env, grafana, publish):
    publish()
    edit_in_grafana(grafana, MEDIUM, title="Medium (tuned by hand)")
    grafana.clear_log()
    assert publish().code == 0 and grafana.writes() == []
    assert grafana.dashboards[MEDIUM].title == "Medium (tuned by hand)"


def test_verify_reads_every_managed_dashboard_back_and_finds_an_edit_made_in_grafana(env, grafana, publish):
    publish()
    edit_in_grafana(grafana, MEDIUM, refresh="5s")
    grafana.clear_log()
    result = publish("--verify")
    assert result.code == 1 and MEDIUM in result.out and "changed in Grafana" in result.out
    assert grafana.writes() == [] and len(grafana.requests) == 3 + len(GENERATED_UIDS)


def test_a_dashboard_moved_to_another_folder_in_grafana_is_a_conflict(env, grafana, publish, inventory):
    publish()
    headers = {"Authorization": f"Bearer {HUMAN}"}
    niquests.post(f"{grafana.url}/api/folders", json={"uid": "elsewhere", "title": "Elsewhere"}, headers=headers)
    found = niquests.get(f"{grafana.url}/api/dashboards/uid/{MEDIUM}", headers=headers).json()
    niquests.post(f"{grafana.url}/api/dashboards/db", json={"dashboard": found["dashboard"], "folderUid": "elsewhere"},
                  headers=headers)
    result = publish()
    assert result.code == 1 and "moves from folder 'Elsewhere' to 'Infra'" in result.out
    assert grafana.dashboards[MEDIUM].folder_uid == "elsewhere"


def test_a_dashboard_with_a_generated_uid_that_this_tool_does_not_manage_is_never_overwritten(env, grafana, publish):
    headers = {"Authorization": f"Bearer {HUMAN}"}
    niquests.post(f"{grafana.url}/api/dashboards/db", json={"dashboard": {"uid": MEDIUM, "title": "Mine"}},
                  headers=headers)
    for args in ((), ("--force",)):
        result = publish(*args)
        assert result.code == 1 and "is not managed by this tool" in result.out
        assert grafana.dashboards[MEDIUM].title == "Mine" and grafana.dashboards[MEDIUM].version == 1
    assert len(grafana.dashboards) == len(GENERATED_UIDS)


def test_a_provisioned_dashboard_gets_a_clear_error_and_the_others_are_published(env, grafana, publish):
    grafana.provision({"uid": MEDIUM, "title": "Medium"}, external_id="llm/medium.json")
    result = publish()
    assert result.code == 1
    assert "provisioned from llm/medium.json: Grafana refuses API writes to it" in result.out
    assert grafana.dashboards[MEDIUM].version == 1 and grafana.dashboards[MEDIUM].title == "Medium"
    assert all(marking.is_managed(grafana.dashboards[u].data["tags"]) for u in GENERATED_UIDS if u != MEDIUM)


# -- prune ----------------------------------------------------------------------------------------

def test_prune_deletes_only_managed_dashboards_that_are_no_longer_generated(env, grafana, publish, inventory):
    publish()
    headers = {"Authorization": f"Bearer {HUMAN}"}
    for uid, folder, tags in (("hand-made", c.folder_uid("infra"), ["llm"]), ("at-root", "", [])):
        niquests.post(f"{grafana.url}/api/dashboards/db", headers=headers,
                      json={"dashboard": {"uid": uid, "title": uid, "tags": tags}, "folderUid": folder})
    without_medium = INVENTORY.replace(model_yaml("medium"), "")
    inventory.write_text(without_medium)

    kept = publish()
    assert kept.code == 0 and MEDIUM in grafana.dashboards and "--prune deletes it" in kept.out

    grafana.clear_log()
    pruned = publish("--prune")
    assert pruned.code == 0 and "1 deleted" in pruned.out
    assert [(r.method, r.path) for r in grafana.writes()] == [("DELETE", f"/api/dashboards/uid/{MEDIUM}")]
    assert {"hand-made", "at-root"} <= set(grafana.dashboards) and MEDIUM not in grafana.dashboards
    assert_converged(grafana, without_medium)


def test_prune_and_force_never_delete_a_save_as_copy_the_tool_did_not_publish(env, grafana, publish):
    """Grafana's "Save as" keeps the tags (managed, owner, fingerprint): the uid mark tells the copy apart."""
    publish()
    headers = {"Authorization": f"Bearer {HUMAN}"}
    copy = {**grafana.stored(MEDIUM), "uid": "my-copy", "id": None, "title": "My copy", "version": 0}
    niquests.post(f"{grafana.url}/api/dashboards/db", json={"dashboard": copy}, headers=headers)
    edit_in_grafana(grafana, "my-copy", title="My copy, edited")
    for args in (("--prune",), ("--prune", "--force")):
        grafana.clear_log()
        result = publish(*args)
        assert result.code == 0 and "my-copy" not in result.out, result.out
        assert grafana.writes() == []
        assert grafana.dashboards["my-copy"].title == "My copy, edited"


OTHER_TEAM = BASE_HEADER.replace("https://runbooks.test/llm", "https://git.test/other-team/runbooks") + "models:\n" + \
    model_yaml("alpha", served_name="org/alpha", namespace="other")


@pytest.mark.parametrize("named", [False, True], ids=["owners derived from the runbook URL", "owners named"])
def test_two_inventories_pruning_in_turn_keep_each_others_dashboards(env, grafana, publish, tmp_path, named):
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text(INVENTORY.replace("version: 1\n", "version: 1\nowner: search-team\n") if named else INVENTORY)
    second.write_text(OTHER_TEAM.replace("version: 1\n", "version: 1\nowner: chat-team\n") if named else OTHER_TEAM)
    ours = {c.model_dashboard_uid(m) for m in ("small", "medium", "big")}
    theirs = {c.model_dashboard_uid("alpha")}
    for run in range(10):
        grafana.clear_log()
        result = publish("--prune", inventory_file=first if run % 2 == 0 else second)
        assert result.code == 0, result.out
        assert ours | theirs <= set(grafana.dashboards) if run else ours <= set(grafana.dashboards)
        if run >= 2:
            assert grafana.writes() == [], f"run {run} rewrote something: {grafana.writes()}"
    owners = {uid: marking.owner_of(grafana.dashboards[uid].data["tags"]) for uid in ours | theirs}
    assert len({owners[uid] for uid in ours}) == 1 and len(set(owners.values())) == 2
    # The fleet-wide dashboards stay as the first inventory published them; the second leaves them alone.
    shared = publish("--prune", "--force", inventory_file=second)
    assert shared.code == 0 and "published by inventory" in shared.out
    assert marking.owner_of(grafana.dashboards[c.FLEET_UID].data["tags"]) == owners[c.model_dashboard_uid("small")]
    assert ours | theirs <= set(grafana.dashboards)


def test_a_model_dashboard_another_inventory_published_is_never_overwritten(env, grafana, publish, tmp_path):
    publish()
    before = grafana.stored(MEDIUM)
    other = tmp_path / "other.yaml"
    other.write_text(OTHER_TEAM.replace("name: alpha", "name: medium"))
    for args in ((), ("--force",), ("--prune", "--force")):
        result = publish(*args, inventory_file=other)
        assert result.code == 1 and "published by another inventory" in result.out, result.out
        assert grafana.stored(MEDIUM) == before
    assert set(GENERATED_UIDS) <= set(grafana.dashboards)


def test_a_dashboard_published_before_owners_were_recorded_is_adopted_but_never_pruned(env, grafana, publish):
    headers = {"Authorization": f"Bearer {HUMAN}"}
    legacy = [marking.MANAGED_TAG, marking.FINGERPRINT_PREFIX + "0123456789abcdef"]
    for uid in (MEDIUM, "llm-model-retired"):
        niquests.post(f"{grafana.url}/api/dashboards/db", headers=headers,
                      json={"dashboard": {"uid": uid, "title": uid, "tags": legacy}})
    # The old marks cannot prove who published them: a generated uid is updated (a conflict, as any edit),
    # a stale one is left alone.
    assert publish("--prune", "--force").code == 0
    assert marking.published_here(MEDIUM, grafana.dashboards[MEDIUM].data["tags"], owner())
    assert "llm-model-retired" in grafana.dashboards


def owner(text: str = INVENTORY) -> str:
    return inventory_mod.parse(text, "inventory.yaml").owner


# -- faults: retried within the run, and reruns converge ---------------------------------------------

FAULTS = [
    pytest.param(dict(kind="status", status=500, method="POST", path="/api/dashboards/db", times=2),
                 id="a 500 on saving a dashboard is retried"),
    pytest.param(dict(kind="status", status=503, path="/api/search"), id="a 503 on the search is retried"),
    pytest.param(dict(kind="rate_limit", retry_after="0", method="POST", path="/api/folders", times=2),
                 id="a 429 on creating a folder is retried"),
    pytest.param(dict(kind="slow", delay=0.8, method="POST", path="/api/dashboards/db", skip=1),
                 id="a save answered after the timeout still converges"),
    pytest.param(dict(kind="drop", method="POST", path="/api/dashboards/db", skip=2),
                 id="a connection dropped before a save took effect is retried"),
    pytest.param(dict(kind="drop", method="POST", path="/api/dashboards/db", skip=2, after=True),
                 id="a connection dropped after a save took effect is not taken for a conflict"),
    pytest.param(dict(kind="drop", method="POST", path="/api/folders", after=True),
                 id="a connection dropped after a folder was created is not taken for a failure"),
    pytest.param(dict(kind="drop", method="GET", path="/api/frontend/settings"),
                 id="a connection dropped while connecting is retried"),
]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_transient_fault_is_retried_and_nothing_is_lost(env, grafana, publish, fault):
    env.setenv("GRAFANA_TIMEOUT", "0.3")
    grafana.fail(fault.pop("kind"), **fault)
    result = publish()
    grafana.wait_idle()
    assert grafana.pending_faults() == 0, "the fault never fired"
    assert result.code == 0, result.out + result.err
    assert "refused" not in result.out and "failed" not in result.out
    assert_converged(grafana)
    grafana.clear_faults()
    grafana.clear_log()
    assert publish().code == 0 and grafana.writes() == []


def test_an_outage_mid_run_stops_with_a_summary_and_the_rerun_converges(env, grafana, publish):
    env.setenv("GRAFANA_RETRIES", "3")
    grafana.fail("status", status=502, method="POST", path="/api/dashboards/db", skip=2, times=1000)
    failed = publish()
    assert failed.code == 1
    assert "Stopped early:" in failed.out and "HTTP 502" in failed.out and "gave up after 3 tries" in failed.out
    assert "2 created" in failed.out and "1 failed" in failed.out and "2 skipped" in failed.out
    assert "2 written, 3 not written" in failed.out and "Run publish again" in failed.out
    assert len(grafana.dashboards) == 2
    grafana.clear_faults()
    rerun = publish()
    assert rerun.code == 0 and "3 created" in rerun.out and "2 unchanged" in rerun.out
    assert_converged(grafana)


def test_a_429_retry_after_is_honoured(env, grafana, publish):
    grafana.fail("rate_limit", retry_after="1", method="POST", path="/api/dashboards/db")
    assert publish().code == 0
    saves = [r for r in grafana.requests if r.path == "/api/dashboards/db"]
    assert saves[0].status == 429 and saves[1].at - saves[0].at >= 1.0


def test_a_retry_after_longer_than_the_maximum_delay_stops_instead_of_waiting(env, grafana, publish):
    env.setenv("GRAFANA_RETRY_MAX_DELAY", "2")
    grafana.fail("rate_limit", retry_after="3600", path="/api/search", times=5)
    result = publish()
    assert result.code == 1 and "asked to wait 3600 s, more than GRAFANA_RETRY_MAX_DELAY" in result.err
    assert len([r for r in grafana.requests if r.path == "/api/search"]) == 1


# -- connecting: configuration, credentials, permissions, version ---------------------------------

def test_missing_configuration_is_reported_all_at_once_without_a_traceback(env, publish):
    env.delenv("GRAFANA_URL")
    env.delenv("GRAFANA_TOKEN")
    result = publish()
    assert result.code == 1 and "GRAFANA_URL is not set" in result.err and "no credentials" in result.err
    assert "Traceback" not in result.err


def test_a_wrong_token_gets_the_401_message(env, grafana, publish):
    env.setenv("GRAFANA_TOKEN", "glsa_notTheRightOne_99")
    result = publish()
    assert result.code == 1 and "refused the credentials (401 Invalid API key [api-key.invalid])" in result.err
    assert "GRAFANA_TOKEN" in result.err and "Nothing was written" in result.err
    assert "glsa_notTheRightOne_99" not in result.out + result.err


@pytest.mark.parametrize("token, permission", [(VIEWER_TOKEN, "folders:create"),
                                                (NO_DASHBOARD_WRITE, "any of dashboards:create, dashboards:write")],
                         ids=["a viewer token is told it needs folders:create",
                              "a token without dashboard rights is told it needs dashboards:create"])
def test_a_403_names_the_missing_permission(env, grafana, publish, token, permission):
    env.setenv("GRAFANA_TOKEN", token)
    result = publish()
    assert result.code == 1 and "403" in result.out and f"Permissions needed: {permission}" in result.out
    assert "Editor role" in result.out and "Stopped early" in result.out


def test_an_unsupported_grafana_version_is_refused_with_the_reason(env, publish):
    with GrafanaDouble("10.3.3", tokens={TOKEN: EDITOR}) as old:
        env.setenv("GRAFANA_URL", old.url)
        result = publish()
    assert result.code == 1 and "Grafana 10.3.3 is not supported" in result.err and "10.4 or later" in result.err
    assert "schemaVersion 39" in result.err and old.writes() == []


def test_an_unreachable_grafana_fails_fast_and_clearly(env, publish):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env.setenv("GRAFANA_URL", f"http://127.0.0.1:{port}")
    env.setenv("GRAFANA_RETRIES", "2")
    result = publish()
    assert result.code == 1 and "cannot reach Grafana at http://127.0.0.1:" in result.err
    assert "gave up after 2 tries" in result.err and "Traceback" not in result.err


@pytest.mark.parametrize("version, supported", [("10.4.0", True), ("10.3.9", False), ("9.5.21", False),
                                                ("11.0.0-pre", True), ("12.1.0+security-01", True),
                                                ("13.0.1", True)])
def test_the_minimum_grafana_version_is_10_4(version, supported):
    if supported:
        assert compat.check({"version": version}) == version
    else:
        with pytest.raises(Exception, match="not supported"):
            compat.check({"version": version})


def test_the_generated_dashboards_use_no_schema_newer_than_the_minimum_grafana_knows(example):
    assert {b["schemaVersion"] for b in build_dashboards(example).values()} <= set(range(grafana_facts.SCHEMA_VERSION + 1))


# -- security ------------------------------------------------------------------------------------

def test_the_token_appears_in_no_output_log_error_or_repr(env, grafana, publish, inventory, caplog):
    caplog.set_level(logging.DEBUG)
    seen = []
    seen.append(publish())
    grafana.fail("status", status=503, path="/api/search")
    edit_in_grafana(grafana, MEDIUM, title="Edited")
    inventory.write_text(INVENTORY.replace("served_name: org/medium", "served_name: org/medium-v2"))
    seen += [publish("--dry-run"), publish("--format", "json"), publish("--dry-run", "--format", "json", "--verify")]
    settings = config.from_env()
    env.setenv("GRAFANA_URL", "http://grafana.example.com")
    seen.append(publish())
    env.setenv("GRAFANA_URL", grafana.url)
    env.setenv("GRAFANA_TOKEN", "glsa_wrong_" + TOKEN)
    seen.append(publish())
    text = "".join(r.out + r.err for r in seen) + caplog.text + repr(settings) + str(settings.token)
    text += repr(Grafana(settings)) + repr(settings.token)
    assert TOKEN not in text and "conflict" in text and "401" in text
    assert caplog.records, "the logging above must have been captured for this test to mean anything"


def test_credentials_in_the_url_are_refused_without_echoing_them(env, publish):
    env.delenv("GRAFANA_TOKEN")
    env.setenv("GRAFANA_URL", "https://admin:hunter2@grafana.example.com")
    result = publish()
    assert result.code == 1 and "must not carry credentials" in result.err and "hunter2" not in result.err


def test_a_token_is_not_sent_over_plain_http_to_another_host(env, publish):
    env.setenv("GRAFANA_URL", "http://grafana.example.com")
    result = publish()
    assert result.code == 1 and "plain http://" in result.err and "GRAFANA_ALLOW_HTTP=true" in result.err


def test_plain_http_to_another_host_needs_an_explicit_opt_in_that_warns(caplog):
    env = {"GRAFANA_URL": "http://grafana.internal:3000", "GRAFANA_TOKEN": "t"}
    with pytest.raises(ConfigError):
        config.from_env(env)
    assert config.from_env({**env, "GRAFANA_ALLOW_HTTP": "true"}).url == "http://grafana.internal:3000/"
    assert "unencrypted" in caplog.text


@pytest.mark.parametrize("url", ["http://127.0.0.1:3000", "http://localhost:3000", "http://[::1]:3000"])
def test_plain_http_to_loopback_is_allowed(url):
    assert config.from_env({"GRAFANA_URL": url, "GRAFANA_TOKEN": "t"}).scheme == "http"


def test_tls_verification_is_on_by_default_and_the_opt_out_warns(caplog, tmp_path):
    base = {"GRAFANA_URL": "https://grafana.example.com/grafana", "GRAFANA_TOKEN": "t"}
    settings = config.from_env(base)
    assert settings.verify is True and settings.path_prefix == "grafana/" and not caplog.text
    assert config.from_env({**base, "GRAFANA_INSECURE_SKIP_VERIFY": "true"}).verify is False
    assert "NOT verified" in caplog.text
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    assert config.from_env({**base, "GRAFANA_CA_BUNDLE": str(bundle)}).verify == str(bundle)


def test_a_token_file_is_read_and_its_content_never_shown(tmp_path):
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    settings = config.from_env({"GRAFANA_URL": "https://g.example.com", "GRAFANA_TOKEN_FILE": str(path)})
    assert settings.credential == TOKEN and TOKEN not in repr(settings)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(folder / "key.pem"),
                    "-out", str(folder / "cert.pem")], check=True, capture_output=True)
    return folder / "cert.pem", folder / "key.pem"


def test_an_unverifiable_certificate_is_refused_and_a_ca_bundle_or_the_opt_out_gets_through(env, publish, certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    with GrafanaDouble(tokens={TOKEN: EDITOR}, ssl_context=context) as tls:
        env.setenv("GRAFANA_URL", tls.url)
        refused = publish()
        assert refused.code == 1 and "TLS verification of Grafana" in refused.err
        assert "GRAFANA_CA_BUNDLE" in refused.err and tls.requests == []
        env.setenv("GRAFANA_CA_BUNDLE", str(certificate[0]))
        assert publish().code == 0 and len(tls.dashboards) == len(GENERATED_UIDS)
        env.delenv("GRAFANA_CA_BUNDLE")
        env.setenv("GRAFANA_INSECURE_SKIP_VERIFY", "true")
        assert publish().code == 0


# -- output ---------------------------------------------------------------------------------------

def test_a_dry_run_prints_the_plan_and_writes_nothing(env, grafana, publish):
    result = publish("--dry-run")
    assert result.code == 0 and grafana.writes() == []
    assert "dry run: nothing is written" in result.out and "5 dashboards would be: 5 create." in result.out
    assert "folder create    Infra" in result.out


def test_json_output_is_one_document_a_machine_can_read(env, grafana, publish):
    publish()
    grafana.dashboards.pop(MEDIUM)
    doc = json.loads(publish("--format", "json").out)
    assert doc["ok"] is True and doc["counts"] == {"created": 1, "unchanged": 4}
    assert doc["grafana"]["version"] == "11.5.0" and TOKEN not in json.dumps(doc)
    assert {d["uid"]: d["result"] for d in doc["dashboards"]}[MEDIUM] == "created"


def test_json_output_reports_an_error_as_json_too(env, publish):
    env.delenv("GRAFANA_URL")
    doc = json.loads(publish("--format", "json").out)
    [error] = doc["errors"]  # the shape every command's --format json uses for an error
    assert doc["ok"] is False and "GRAFANA_URL is not set" in error["message"]


def test_a_progress_line_is_drawn_only_on_a_terminal(env, grafana, publish, monkeypatch):
    assert "\r" not in publish().out
    grafana.dashboards.clear()
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert "\r\033[Kwriting 5/5" in publish().out


# -- the pieces -----------------------------------------------------------------------------------

def test_backoff_grows_exponentially_with_jitter_and_is_bounded():
    policy = RetryPolicy(attempts=6, backoff=1.0, max_delay=5.0, rng=random.Random(7))
    delays = [policy.delay(n) for n in range(1, 7)]
    assert delays[-1] is None
    for n, delay in enumerate(delays[:-1], 1):
        step = min(2 ** (n - 1), 5.0)
        assert step / 2 <= delay <= step


def test_a_retry_after_is_a_floor_and_one_beyond_the_maximum_ends_the_retries():
    policy = RetryPolicy(attempts=5, backoff=0.01, max_delay=10.0)
    assert policy.delay(1, retry_after=3.0) == 3.0 and policy.delay(1, retry_after=11.0) is None
    assert parse_retry_after("2") == 2.0 and parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None


def test_the_fingerprint_ignores_id_version_tag_order_and_integral_floats_but_not_content():
    board = {"uid": "u", "title": "T", "id": None, "version": 0, "tags": ["b", "a"], "x": 1.0}
    same = {"uid": "u", "title": "T", "id": 12, "version": 7, "tags": ["a", "b"], "x": 1}
    assert marking.fingerprint(board, "f") == marking.fingerprint(same, "f")
    assert marking.fingerprint(board, "f") != marking.fingerprint({**board, "x": 1.5}, "f")
    assert marking.fingerprint(board, "f") != marking.fingerprint(board, "other-folder")


def test_a_published_dashboard_records_the_fingerprint_of_itself():
    owner = "o" * 32  # the longest owner id the inventory accepts
    body, digest = marking.publishable({"uid": "u", "title": "T", "tags": ["llm"], "version": 0}, "f", owner)
    assert body["tags"] == ["llm", marking.MANAGED_TAG, marking.OWNER_PREFIX + owner,
                            marking.UID_MARK_PREFIX + marking.uid_mark(owner, "u"), marking.FINGERPRINT_PREFIX + digest]
    assert marking.published_here("u", body["tags"], owner)
    assert not marking.published_here("a-save-as-copy", body["tags"], owner)
    assert not marking.published_here("u", body["tags"], "another-owner")
    assert marking.recorded(body["tags"]) == digest == marking.fingerprint(body, "f")
    assert all(len(t) <= 50 for t in body["tags"])  # short tags: readable in the UI, safe for any tag column
