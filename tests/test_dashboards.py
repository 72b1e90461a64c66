"""Grafana dashboards built from the inventory: house rules every generated dashboard keeps."""
from __future__ import annotations

import json
import re

import promql_parser
import pytest
from grafanalib._gen import DashboardEncoder
from grafanalib.core import Dashboard, GridPos, RowPanel, Stat, Target, Template, Templating

from generator import conventions as c
from generator.catalog import EXPORTERS
from generator.dashboards import build_dashboards
from generator.dashboards.clean import clean, violations
from generator.dashboards.folders import dashboard_folders
from generator.inventory import load, parse
from generator.publish import desired
from generator.rules.recording import recording_rules

from conftest import ROOT, model_yaml

SMALL = """
version: 1
grafana_url: https://grafana.test
runbook_base_url: https://runbooks.test
defaults:
  labels: {cluster: test}
  slo:
    ttft: {threshold_seconds: 0.5, objective: 0.9}
    itl: {threshold_seconds: 0.1, objective: 0.95}
    e2e: {threshold_seconds: 30, objective: 0.95}
    availability: {objective: 0.99}
  thresholds:
    {kv_cache_usage: 0.9, queue_depth: 20, gpu_utilization: 0.95, gpu_memory_usage: 0.95, cold_start_seconds: 300}
teams:
  core: {folder: Core}
models:
""" + model_yaml("small-vllm", served_name="org/small", engine_version="0.11.0", team="core", namespace="ns",
                 replicas=(1, 3)) + model_yaml(
    "a-model-name-long-enough-to-need-a-hashed-uid", served_name="ensemble", engine="triton-trtllm",
    engine_version="25.01", team="core", namespace="ns", gpu="H100", per_replica=2)

EXTRA_MODEL = "\n" + model_yaml("added-later", served_name="org/added", engine_version="0.13.0", team="core",
                                namespace="ns", replicas=(1, 1))

RATE_MARK = "4321s"  # stands in for $__rate_interval, so a parsed window shows where it came from
RATE_FUNCTIONS = {"rate", "irate", "increase"}


@pytest.fixture(scope="module")
def example():
    return build_dashboards(load(ROOT / "inventory.yaml"))


@pytest.fixture(scope="module")
def small_inventory():
    return parse(SMALL, "test.yaml")


@pytest.fixture(scope="module")
def small(small_inventory):
    return build_dashboards(small_inventory)


@pytest.fixture(scope="module", params=["example", "small"], ids=["example inventory", "small inventory"])
def boards(request):
    return request.getfixturevalue(request.param)


def every_panel(board):
    """Top-level panels, then those inside collapsed rows (where Grafana keeps them until the row opens)."""
    return board["panels"] + [inner for p in board["panels"] for inner in p.get("panels", [])]


def rows(board) -> dict[str, list]:
    """Row title -> its panels: the panels that follow an open row, or those a collapsed row holds."""
    result, current = {}, None
    for panel in board["panels"]:
        if panel["type"] == "row":
            current = result.setdefault(panel["title"], list(panel.get("panels", [])))
        elif current is not None:
            current.append(panel)
    return result


def data_panels(board):
    return [p for p in every_panel(board) if p["type"] not in ("row", "text")]


def queries(board):
    """(where, expr) for every target and annotation query."""
    found = [(f"panel {p['title']!r}", t["expr"]) for p in every_panel(board) for t in p.get("targets", [])]
    found += [(f"annotation {a['name']!r}", a["expr"]) for a in board["annotations"]["list"]]
    return found


def parsed(expr: str):
    text = (expr.replace("$__rate_interval", RATE_MARK).replace("$__range", "6h")
            .replace("$model", ".+").replace("$team", ".+"))
    return promql_parser.parse(text)


def nodes(expr):
    found = []
    promql_parser.walk(expr, pre_visit=lambda node: found.append(node))
    return found


def metric_names(expr: str) -> set[str]:
    names = set()
    for node in nodes(parsed(expr)):
        if isinstance(node, promql_parser.MatrixSelector):
            node = node.vector_selector
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)
    return names


def at(boards, uid):
    """The dashboard with this uid, wherever its folder put it."""
    return next(board for board in boards.values() if board["uid"] == uid)


def by_title(board, title):
    matches = [p for p in every_panel(board) if p["title"] == title]
    assert len(matches) == 1, f"{len(matches)} panels titled {title!r}"
    return matches[0]


# -- what is built -------------------------------------------------------


def test_one_dashboard_per_model_plus_fleet_and_gpu_each_under_its_folder(small):
    expected = {c.dashboard_file(c.FLEET_UID, "LLM fleet"), c.dashboard_file(c.GPU_UID, "LLM fleet")}
    expected |= {c.dashboard_file(c.model_dashboard_uid(m), "Core")
                 for m in ("small-vllm", "a-model-name-long-enough-to-need-a-hashed-uid")}
    assert set(small) == expected
    assert all(path.endswith(f"/{board['uid']}.json") for path, board in small.items())


def test_dashboards_are_grouped_by_team_folder_on_disk(example):
    assert sorted(example) == [
        "dashboards/llm-fleet/llm-fleet-overview.json", "dashboards/llm-fleet/llm-gpu-fleet.json",
        "dashboards/llm-platform/llm-model-deepseek-r1-distill-7b.json",
        "dashboards/llm-platform/llm-model-gemma-2-9b-tgi.json",
        "dashboards/llm-platform/llm-model-llama-3-1-8b.json",
        "dashboards/llm-platform/llm-model-mistral-7b-legacy.json",
        "dashboards/llm-platform/llm-model-qwen3-32b-dynamo.json",
        "dashboards/llm-platform/llm-model-qwen3-32b-sglang.json",
        "dashboards/llm-platform/llm-model-support-assistant-otel.json",
        "dashboards/search/llm-model-llama-3-1-70b-trt-eval.json",
        "dashboards/search/llm-model-llama-3-1-70b-trt.json", "dashboards/search/llm-model-llama-3-1-8b-fp8-trtllm.json",
        "dashboards/search/llm-model-qwen2-5-72b.json"]


def test_publish_puts_every_dashboard_in_the_folder_its_directory_stands_for(example):
    inventory = load(ROOT / "inventory.yaml")
    published = {d.uid: (d.folder.uid, d.folder.title) for d in desired.from_inventory(inventory).dashboards}
    on_disk = {board["uid"]: path for path, board in example.items()}
    expected = {uid: (f.uid, f.title) for uid, f in dashboard_folders(inventory).items()}
    assert published == expected
    assert all(on_disk[uid] == c.dashboard_file(uid, title) for uid, (_, title) in published.items())


@pytest.mark.parametrize("title, directory", [("LLM Platform", "llm-platform"), ("Search", "search"),
                                              ("Ops / GPU (EU)", "ops-gpu-eu"), ("Équipe Données", "equipe-donnees")])
def test_a_folder_directory_is_the_title_as_a_slug(title, directory):
    assert c.folder_directory(title) == directory


def test_a_title_without_any_slug_character_still_gets_a_stable_directory():
    # Known values: the same on every run and machine (a digest of the title, not Python's seeded hash()).
    assert (c.folder_directory("日本語"), c.folder_directory("中文")) == ("folder-77710aed", "folder-72726d88")


def test_building_twice_gives_identical_output():
    inventory = load(ROOT / "inventory.yaml")
    first = json.dumps(build_dashboards(inventory), sort_keys=True)
    assert first == json.dumps(build_dashboards(inventory), sort_keys=True)


def test_output_is_strict_json_holding_only_plain_json_types(boards):
    # allow_nan=False: json.dumps would write NaN and Infinity, which are not JSON and which Grafana refuses.
    text = json.dumps(boards, allow_nan=False)
    assert json.loads(text) == boards  # a tuple, a non-string key or a NaN would come back different


@pytest.mark.parametrize("check", [
    ("schemaVersion", lambda b: b["schemaVersion"] == 39),
    ("not editable", lambda b: b["editable"] is False),
    ("no id or version: Grafana sets them on save", lambda b: "id" not in b and "version" not in b),
    ("tags llm and generated", lambda b: {"llm", "generated"} <= set(b["tags"])),
    ("generated header in the description", lambda b: c.GENERATED_HEADER in b["description"]),
    ("last 6 hours by default", lambda b: b["time"] == {"from": "now-6h", "to": "now"}),
    ("refresh every minute", lambda b: b["refresh"] == "1m"),
    ("UTC", lambda b: b["timezone"] == "utc"),
], ids=lambda check: check[0])
def test_every_dashboard_has_the_house_settings(boards, check):
    name, holds = check
    assert [path for path, board in boards.items() if not holds(board)] == []


def test_cleaning_removes_grafanalibs_legacy_output_and_what_grafana_sets_and_keeps_the_nulls_grafana_writes():
    raw = json.loads(json.dumps(Dashboard(
        title="t", uid="u", id=None, schemaVersion=39,
        panels=[RowPanel(title="r", gridPos=GridPos(h=1, w=24, x=0, y=0)),
                Stat(title="s", targets=[Target(expr="up", refId="A")], gridPos=GridPos(h=4, w=6, x=0, y=1),
                     thresholdType="absolute")],
        templating=Templating(list=[Template(name="v", query="label_values(up, job)")]),
    ).to_json_data(), cls=DashboardEncoder))
    raw["panels"][1]["fieldConfig"]["defaults"]["thresholds"]["steps"] = [{"color": "red", "value": None}]
    found = {v.where for v in violations(raw)}
    assert {"hideControls", "sharedCrosshair", "style", "gnetId", "rows", "timepicker.time_options",
            "panels[0].targets", "panels[0].editable", "panels[1].editable", "panels[1].error",
            "templating.list[0].useTags", "templating.list[0].tagsQuery", "templating.list[0].regex", "id",
            "version"} <= found
    raw["panels"][1]["fieldConfig"]["defaults"]["max"] = 1.0
    cleaned = clean(raw)
    assert violations(cleaned) == []
    assert "id" not in cleaned and "version" not in cleaned
    assert cleaned["panels"][1]["fieldConfig"]["defaults"]["max"] == 1 and \
        isinstance(cleaned["panels"][1]["fieldConfig"]["defaults"]["max"], int)  # as Grafana returns it
    assert cleaned["panels"][1]["fieldConfig"]["defaults"]["thresholds"]["steps"] == [{"color": "red", "value": None}]
    assert set(cleaned["panels"][0]) <= {"type", "id", "title", "collapsed", "gridPos", "panels", "repeat",
                                         "datasource"}
    assert cleaned["panels"][1]["targets"] == [{k: v for k, v in raw["panels"][1]["targets"][0].items()
                                               if k not in ("query", "target", "metric", "step") and v is not None}]


# -- data source ---------------------------------------------------------


def test_every_dashboard_has_one_datasource_variable_labelled_data_source(boards):
    for board in boards.values():
        variables = [v for v in board["templating"]["list"] if v["type"] == "datasource"]
        assert [(v["name"], v["label"], v["query"]) for v in variables] == [("datasource", "Data source", "prometheus")]


# -- panels --------------------------------------------------------------


def test_only_current_panel_types_are_used(boards):
    types = {p["type"] for board in boards.values() for p in every_panel(board)}
    assert types <= {"row", "timeseries", "stat", "table", "text"}


def test_panel_ids_do_not_change_when_another_model_is_added(small):
    bigger = build_dashboards(parse(SMALL + EXTRA_MODEL, "test.yaml"))
    for path, board in small.items():
        before = [(p["title"], p["id"]) for p in every_panel(board)]
        assert [(p["title"], p["id"]) for p in every_panel(bigger[path])] == before, path


def test_panels_of_a_collapsed_row_sit_below_it_without_overlapping_each_other(boards):
    """Placed as when the row opens (validate's dashboard/grid checks the open page and every panel's width)."""
    collapsed = [(path, row) for path, board in boards.items() for row in board["panels"] if row.get("collapsed")]
    assert collapsed
    for path, row in collapsed:
        inner: set[tuple[int, int]] = set()
        for panel in row["panels"]:
            g = panel["gridPos"]
            assert g["y"] > row["gridPos"]["y"], (path, panel["title"], g)
            mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
            assert not inner & mine, (path, panel["title"], "overlaps another panel of its row")
            inner |= mine


# -- queries -------------------------------------------------------------


def test_fleet_and_gpu_dashboards_read_no_engine_metric(boards):
    """The fleet page reads the llm: recording rules and Prometheus's ALERTS; the GPU page adds every GPU
    from dcgm-exporter's default counters (the ones no model holds included), never an engine's metric."""
    dcgm = {m.name for m in EXPORTERS["dcgm"].metrics if not m.requires}
    for uid, allowed in ((c.FLEET_UID, {"ALERTS"}), (c.GPU_UID, dcgm)):
        board = at(boards, uid)
        names = {name for _, expr in queries(board) for name in metric_names(expr)}
        assert names and all(name.startswith("llm:") or name in allowed for name in names), names
    gpu = {name for _, expr in queries(at(boards, c.GPU_UID)) for name in metric_names(expr)}
    assert {"DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL"} <= gpu


def test_model_slo_stats_read_the_llm_recording_rules(example):
    board = at(example, c.model_dashboard_uid("llama-3-1-8b"))
    stats = [p for p in rows(board)["SLOs"] if p["type"] == "stat"]
    assert len(stats) == 10  # share within each of five SLOs (TTFT, ITL, TPOT, E2E, availability), budget of each
    for panel in stats:
        assert all(name.startswith("llm:") for t in panel["targets"] for name in metric_names(t["expr"]))
    titles = {p["title"]: p for p in stats}
    assert {"TPOT within SLO", "Error budget left: TPOT", "ITL within SLO (token gaps)"} <= set(titles)
    assert 'slo="tpot"' in titles["TPOT within SLO"]["targets"][0]["expr"]
    assert "gaps between streamed tokens (not of requests)" in titles["ITL within SLO (token gaps)"]["description"]


def test_a_model_whose_version_lacks_per_request_tpot_says_why_instead_of_a_tpot_stat(example):
    board = at(example, c.model_dashboard_uid("deepseek-r1-distill-7b"))  # vLLM 0.10.2
    panels = {p["title"]: p for p in board["panels"]}
    assert panels["TPOT within SLO"]["type"] == "text"
    assert "from 0.11.0" in panels["TPOT within SLO"]["options"]["content"]
    assert "Error budget left: TPOT" not in panels


def test_model_charts_use_the_metric_names_of_the_engine_version(example):
    legacy = at(example, c.model_dashboard_uid("mistral-7b-legacy"))
    names = {n for _, expr in queries(legacy) for n in metric_names(expr)}
    assert "vllm:gpu_cache_usage_perc" in names and "vllm:kv_cache_usage_perc" not in names


# -- thresholds and engine gaps ------------------------------------------


def test_model_dashboard_opens_on_the_status_strip_then_the_golden_signals_with_the_rest_collapsed(example):
    board = at(example, c.model_dashboard_uid("llama-3-1-8b"))
    titles = list(rows(board))
    assert titles[:4] == ["Status: is it up, is it failing", "Traffic and errors", "Latency",
                          "Saturation: batch, queue and KV cache"]
    status = rows(board)[titles[0]]
    assert [p["title"] for p in status] == ["Ready replicas", "Engine targets up", "Alerts firing", "Error budget left"]
    assert all(p["gridPos"]["y"] == 1 for p in status)  # one line at the top of the page
    exprs = [p["targets"][0]["expr"] for p in status]
    assert exprs[0].startswith(f'{c.REPLICAS_READY}{{model="llama-3-1-8b"')
    assert 'ALERTS{alertstate="firing", model="llama-3-1-8b", cluster="prod-eu"}' in exprs[2]
    assert exprs[3].startswith(f"min({c.BUDGET_REMAINING}{{model=\"llama-3-1-8b\"")
    ready = status[0]["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert ready == [{"color": "red", "value": None}, {"color": "green", "value": 2.0}]  # replicas.min 2
    collapsed = [p for p in board["panels"] if p["type"] == "row" and p.get("collapsed")]
    assert {p["title"] for p in collapsed} >= {"GPUs", "Cold start and replicas"}
    assert all(p["panels"] for p in collapsed)  # a collapsed row carries its panels
    open_rows = [p for p in board["panels"] if p["type"] == "row" and not p.get("collapsed")]
    assert max(p["gridPos"]["y"] for p in open_rows) < min(p["gridPos"]["y"] for p in collapsed)


def test_model_dashboard_drills_down_by_pod_with_a_pod_variable_every_per_pod_query_honours(example):
    board = at(example, c.model_dashboard_uid("llama-3-1-8b"))
    pod = next(v for v in board["templating"]["list"] if v["name"] == "pod")
    assert (pod["type"], pod["multi"], pod["includeAll"], pod["allValue"]) == ("query", True, True, ".+")
    assert pod["current"]["value"] == "$__all" or pod["current"] == {"selected": True, "text": "All",
                                                                       "value": "$__all"}
    assert pod["query"] == ('label_values(kube_pod_status_ready{namespace="llm-prod", pod=~"llama-3-1-8b-.*", '
                            'cluster="prod-eu", condition="true"}, pod)')
    replicas = rows(board)["Replicas: which one"]
    table = replicas[0]
    assert table["title"] == "Replicas" and table["type"] == "table"
    names = next(t for t in table["transformations"] if t["id"] == "organize")["options"]["renameByName"]
    assert list(names.values()) == ["Ready", "Age", "Restarts", "Running", "Waiting", "KV cache", "TTFT p95",
                                    "Error ratio", "GPU utilisation", "GPU memory", "Last XID"]
    for panel in replicas:
        for target in panel["targets"]:
            assert 'pod=~"$pod"' in target["expr"] and "by (pod" in target["expr"], (panel["title"], target["expr"])
    link = next(o for o in table["fieldConfig"]["overrides"] if o["matcher"]["options"] == "pod")
    assert "var-pod=${__value.raw}" in link["properties"][0]["value"][0]["url"]


def test_per_pod_gpu_queries_read_the_dcgm_pod_label_the_inventory_names(small_inventory):
    from generator.queries import ModelQueries, PodQueries
    model = small_inventory.models[0]
    pods = PodQueries(ModelQueries(small_inventory, model))
    assert 'pod=~"$pod"' in pods.gpu_utilization() and "avg by (pod)" in pods.gpu_utilization()


def test_triton_replica_table_leaves_out_what_its_engine_cannot_break_down_by_pod(example):
    board = at(example, c.model_dashboard_uid("llama-3-1-70b-trt"))
    table = rows(board)["Replicas: which one"][0]
    names = next(t for t in table["transformations"] if t["id"] == "organize")["options"]["renameByName"]
    assert "KV cache" not in names.values() and "Waiting" not in names.values()
    assert {"Ready", "TTFT p95", "Error ratio", "GPU utilisation"} <= set(names.values())


def test_why_rows_chart_what_each_engine_version_exposes_and_say_what_it_cannot(example):
    vllm = rows(at(example, c.model_dashboard_uid("llama-3-1-8b")))
    phases = vllm["Why: where a request's time goes"][0]
    assert [t["legendFormat"] for t in phases["targets"]] == ["queue", "prefill", "decode"]
    assert "vllm:request_prefill_time_seconds_sum" in phases["targets"][1]["expr"]
    workload = {p["title"]: p for p in vllm["Why: what clients ask for"]}
    assert {p["type"] for p in workload.values()} == {"timeseries"}
    assert "sum by (finished_reason)" in workload["Finished requests by reason"]["targets"][0]["expr"]
    assert "vllm:prefix_cache_hits_total" in workload["Prefix cache hit rate"]["targets"][0]["expr"]
    legacy = rows(at(example, c.model_dashboard_uid("mistral-7b-legacy")))["Why: what clients ask for"]
    cache = next(p for p in legacy if p["title"] == "Prefix cache hit rate")
    assert cache["type"] == "text" and "from 0.9.2" in cache["options"]["content"]  # vLLM 0.8.5
    triton = rows(at(example, c.model_dashboard_uid("llama-3-1-70b-trt")))
    phases = triton["Why: where a request's time goes"][0]
    assert [t["legendFormat"] for t in phases["targets"]] == ["queue", "compute"]
    assert "nv_inference_compute_infer_duration_us" in phases["targets"][1]["expr"]
    assert {p["type"] for p in triton["Why: what clients ask for"]} == {"text"}
    for board in (vllm, triton):
        assert all(p["gridPos"]["y"] > 1 for p in board["Why: what clients ask for"])


def test_efficiency_and_cost_read_the_recorded_series_and_say_when_a_price_is_missing(example, small):
    priced = rows(at(example, c.model_dashboard_uid("llama-3-1-8b")))["Efficiency and cost"]
    assert [p["title"] for p in priced] == ["Generated tokens per GPU", "Energy per generated token",
                                            "GPU cost per hour", "Cost per million generated tokens"]
    assert priced[3]["targets"][0]["expr"].startswith(f"{c.COST_PER_MILLION_TOKENS}{{model=")
    unpriced = rows(at(small, c.model_dashboard_uid("a-model-name-long-enough-to-need-a-hashed-uid")))
    texts = [p for p in unpriced["Efficiency and cost"] if p["type"] == "text"]
    assert any("No price for H100" in p["options"]["content"] for p in texts)
    fleet = rows(at(example, c.FLEET_UID))["Efficiency and cost"]
    total = next(p for p in fleet if p["title"] == "Fleet cost per million generated tokens")
    assert "and on (model)" in total["targets"][0]["expr"]  # tokens of priced models only
    without_prices = rows(at(small, c.FLEET_UID))["Efficiency and cost"]
    assert not any("cost" in p["title"].lower() for p in without_prices)


def test_slo_stat_turns_green_at_the_models_objective(example):
    board = at(example, c.model_dashboard_uid("qwen2-5-72b"))
    steps = by_title(board, "Availability")["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps == [{"color": "red", "value": None}, {"color": "green", "value": 0.999}]


def test_latency_chart_draws_the_models_slo_threshold_as_a_dashed_line(example):
    board = at(example, c.model_dashboard_uid("llama-3-1-8b"))
    defaults = by_title(board, "Time to first token")["fieldConfig"]["defaults"]
    assert defaults["custom"]["thresholdsStyle"]["mode"] == "dashed"
    assert [s["value"] for s in defaults["thresholds"]["steps"]] == [None, 0.5]


def test_triton_dashboard_says_it_has_no_inter_token_latency(example):
    board = at(example, c.model_dashboard_uid("llama-3-1-70b-trt"))
    texts = [p["options"]["content"] for p in every_panel(board) if p["type"] == "text"]
    assert any("no inter-token latency" in text for text in texts), texts
    assert not any(t["expr"].count("inter_token") for p in every_panel(board) for t in p.get("targets", []))


def test_vllm_dashboard_charts_every_latency_signal(example):
    board = at(example, c.model_dashboard_uid("llama-3-1-8b"))
    for title in ("Time to first token", "Inter-token latency", "End-to-end latency"):
        assert by_title(board, title)["type"] == "timeseries"


def test_model_dashboard_marks_new_pods_with_an_annotation(example):
    board = at(example, c.model_dashboard_uid("llama-3-1-8b"))
    [annotation] = board["annotations"]["list"]
    assert annotation["name"] == "New pods (deploy, restart or scale-up)"
    assert "kube_pod_created" in annotation["expr"]
    assert "group_left (owner_kind, owner_name) kube_pod_owner{" in annotation["expr"]
    assert "{{owner_name}}" in annotation["textFormat"] and "{{image}}" in annotation["textFormat"]
    [fleet] = at(example, c.FLEET_UID)["annotations"]["list"]
    assert fleet["expr"] == f'{c.NEW_PODS}{{model=~"$model"}}' and "{{model}}" in fleet["titleFormat"]


# -- links ---------------------------------------------------------------


def test_fleet_and_gpu_link_to_each_other_and_models_link_to_both(boards):
    def targets(board):
        return {link["url"] for link in board["links"] if link["type"] == "link"}

    fleet, gpu = at(boards, c.FLEET_UID), at(boards, c.GPU_UID)
    assert f"/d/{c.GPU_UID}" in targets(fleet) and f"/d/{c.FLEET_UID}" in targets(gpu)
    for board in boards.values():
        if "llm-model" in board["tags"]:
            name = board["title"].removeprefix("LLM model / ")
            # The GPU fleet narrowed to the model: its per-model panels and table.
            fleet_link, gpu_link = sorted(targets(board))
            assert fleet_link == f"/d/{c.FLEET_UID}"
            assert re.fullmatch(rf"/d/{c.GPU_UID}\?var-model={re.escape(name)}&var-namespace=[a-z0-9-]+", gpu_link)


def test_fleet_table_links_each_model_to_its_dashboard_even_when_the_uid_is_shortened(small, small_inventory):
    from generator.rules.recording import recording_rules

    table = by_title(at(small, c.FLEET_UID), "Models")
    assert "dashboard_uid" in table["targets"][0]["expr"]
    long_name = "a-model-name-long-enough-to-need-a-hashed-uid"
    model = next(m for m in small_inventory.models if m.name == long_name)
    info = next(r for r in recording_rules(small_inventory, model) if r["record"] == c.MODEL_INFO)
    assert info["labels"]["dashboard_uid"] == c.model_dashboard_uid(long_name) != f"llm-model-{long_name}"
    assert c.dashboard_file(c.model_dashboard_uid(long_name), "Core") in small
    link_overrides = [p for o in table["fieldConfig"]["overrides"] for p in o["properties"] if p["id"] == "links"]
    assert link_overrides[0]["value"][0]["url"].startswith("/d/${__data.fields.dashboard_uid}")


def test_fleet_table_joins_its_queries_by_model_and_names_every_value_column(example):
    table = by_title(at(example, c.FLEET_UID), "Models")
    assert [t["id"] for t in table["transformations"]] == ["merge", "organize"]
    renamed = table["transformations"][1]["options"]["renameByName"]
    value_refs = {f"Value #{t['refId']}" for t in table["targets"][1:]}
    assert set(renamed) == value_refs | {"engine_version", "running_version", "replicas_min"}
    assert (renamed["engine_version"], renamed["running_version"]) == ("Inventory version", "Observed version")
    assert all(t["instant"] and t["format"] == "table" for t in table["targets"])
    assert all(re.match(r"^(min|max|sum|count) by \(model(, [a-z_]+)*\)", t["expr"]) for t in table["targets"])


def test_fleet_series_are_one_line_per_model(example):
    board = at(example, c.FLEET_UID)
    charts = [p for p in every_panel(board) if p["type"] == "timeseries"]
    assert charts and all(t["legendFormat"] == "{{model}}" for p in charts for t in p["targets"])



def test_fleet_and_gpu_dashboards_narrow_models_by_team_and_namespace(example):
    for uid in (c.FLEET_UID, c.GPU_UID):
        variables = {v["name"]: v for v in at(example, uid)["templating"]["list"]}
        assert list(variables)[:4] == ["datasource", "team", "namespace", "model"]
        assert variables["namespace"]["query"] == f'label_values({c.MODEL_INFO}{{team=~"$team"}}, namespace)'
        assert variables["model"]["query"] == \
            f'label_values({c.MODEL_INFO}{{team=~"$team", namespace=~"$namespace"}}, model)'
        assert all(variables[n]["multi"] and variables[n]["includeAll"] for n in ("team", "namespace", "model"))


def test_gpu_fleet_reads_every_gpu_in_the_labels_the_inventory_names():
    text = SMALL.replace("teams:", "collectors: {dcgm: {namespace_label: exported_namespace, pod_label: exported_pod, "
                                   "node_label: kubernetes_node}}\nteams:", 1)
    inv = parse(text, "test.yaml")
    board = at(build_dashboards(inv), c.GPU_UID)
    panels = {p["title"]: p for p in every_panel(board)}
    held = panels["Held by inventory models"]["targets"][0]["expr"]
    assert held == f'count({c.GPU_HELD}{{node=~"$node"}}) or vector(0)'  # one selector, however many models
    # Each model's rules record the GPUs its pods hold, read in the labels the inventory names.
    record = next(r for r in recording_rules(inv, inv.models[0]) if r["record"] == c.GPU_HELD)
    assert 'exported_namespace="ns"' in record["expr"] and 'exported_pod=~"' in record["expr"]
    assert '"node", "$1", "kubernetes_node"' in record["expr"] and "count by (node, gpu)" in record["expr"]
    assert record["labels"]["dashboard_uid"] == c.model_dashboard_uid("small-vllm")
    nodes = {t["refId"]: t["expr"] for t in panels["Nodes"]["targets"]}
    assert 'exported_pod=""' in nodes["D"] and "count by (node)" in nodes["D"]  # idle: no pod holds them
    unallocated = panels["Not held by inventory models"]["targets"][0]["expr"]
    assert unallocated.startswith("count(") and "unless on (node, gpu)" in unallocated
    node = next(v for v in board["templating"]["list"] if v["name"] == "node")
    assert node["query"] == "label_values(DCGM_FI_DEV_GPU_UTIL, kubernetes_node)" and node["multi"]
    # Fields outside the default counters are named, with how to enable them, instead of charted.
    ecc, clocks = panels["ECC errors"], panels["Clock events (throttling)"]
    assert ecc["type"] == clocks["type"] == "text"
    ecc, clocks = ecc["options"]["content"], clocks["options"]["content"]
    assert "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL" in ecc and "`-f`" in ecc and "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL" in ecc
    assert "DCGM_FI_DEV_POWER_VIOLATION" in clocks and "DCGM_FI_DEV_THERMAL_VIOLATION" in clocks


def test_gpu_table_links_each_gpu_to_the_model_holding_it_and_replicas_to_their_node(example):
    gpu = {p["title"]: p for p in every_panel(at(example, c.GPU_UID))}["GPUs"]
    links = [prop["value"][0]["url"] for o in gpu["fieldConfig"]["overrides"] for prop in o["properties"]
             if prop["id"] == "links"]
    assert links == ["/d/${__data.fields.dashboard_uid}?var-pod=${__data.fields.pod}&var-datasource=${datasource}"
                     "&${__url_time_range}"]
    table = rows(at(example, c.model_dashboard_uid("llama-3-1-8b")))["Replicas: which one"][0]
    node = next(o for o in table["fieldConfig"]["overrides"] if o["matcher"]["options"] == "node")
    assert node["properties"][0]["value"][0]["url"].startswith(f"/d/{c.GPU_UID}?var-node=${{__value.raw}}")


def test_fleet_pages_keep_clusters_apart_and_name_them_in_multi_cluster_mode():
    text = "multi_cluster: {label: region, where: series}\n" + SMALL.replace("  labels: {cluster: test}\n", "", 1)
    boards = build_dashboards(parse(text, "test.yaml"))
    fleet, gpu = at(boards, c.FLEET_UID), at(boards, c.GPU_UID)
    charts = [p for p in every_panel(fleet) if p["type"] == "timeseries"]
    assert charts and all(t["legendFormat"] == "{{model}} ({{region}})" and "by (model, region)" in t["expr"]
                          for p in charts for t in p["targets"])
    table = by_title(fleet, "Models")
    assert all(re.match(r"^(min|max|sum|count) by \(model, region", t["expr"]) for t in table["targets"])
    per_gpu = [p for p in every_panel(gpu) if p["title"].endswith("per GPU")]
    assert per_gpu and all(t["legendFormat"].startswith("{{region}} / {{node}}") for p in per_gpu for t in p["targets"])


def test_why_rows_show_the_request_parameters_and_waiting_reasons_where_the_version_exposes_them(example):
    vllm = rows(at(example, c.model_dashboard_uid("llama-3-1-8b")))  # vLLM 0.11.2
    asked = {p["title"]: p for p in vllm["Why: what clients ask for"]}
    max_tokens = asked["Requested max_tokens"]["targets"]
    assert [t["legendFormat"] for t in max_tokens] == ["max_tokens p50", "max_tokens p95", "generated p95"]
    assert "vllm:request_params_max_tokens_bucket" in max_tokens[0]["expr"] and "sum by (le)" in max_tokens[0]["expr"]
    assert "vllm:request_params_n_sum" in asked["Completions per request (n)"]["targets"][0]["expr"]
    waiting = next(p for p in vllm["Why: where a request's time goes"] if p["title"] == "Waiting requests by reason")
    assert waiting["type"] == "text" and "from 0.33.0" in waiting["options"]["content"]
    triton = {p["title"]: p for p in rows(at(example, c.model_dashboard_uid("llama-3-1-70b-trt")))[
        "Why: what clients ask for"]}
    assert triton["Requested max_tokens"]["type"] == "text"


def test_waiting_by_reason_reads_the_reason_label_from_vllm_0_33():
    from generator.queries import ModelQueries
    inventory = parse(SMALL.replace('engine_version: "0.11.0"', 'engine_version: "0.33.0"', 1), "test.yaml")
    model = next(m for m in inventory.models if m.engine == "vllm")
    assert str(model.engine_version) == "0.33.0"
    expr = ModelQueries(inventory, model).gauge_by("waiting_by_reason", "reason")
    assert expr.startswith("sum by (reason) (vllm:num_requests_waiting_by_reason{")


def test_speculative_decoding_and_lora_panels_say_when_the_feature_is_off(example):
    vllm = {p["title"]: p for p in rows(at(example, c.model_dashboard_uid("llama-3-1-8b")))[
        "Why: speculative decoding and LoRA adapters"]}
    spec = vllm["Speculative decoding acceptance"]
    expr = spec["targets"][0]["expr"]
    assert "vllm:spec_decode_num_accepted_tokens_total" in expr.split(" / ")[0]
    assert "vllm:spec_decode_num_draft_tokens_total" in expr.split(" / ")[1]
    assert spec["fieldConfig"]["defaults"]["noValue"] == "No speculative decoding"
    assert "--speculative-config" in spec["description"]
    lora = vllm["LoRA adapters"]
    assert lora["type"] == "table" and lora["fieldConfig"]["defaults"]["noValue"] == "No LoRA adapters"
    lora_expr = lora["targets"][0]["expr"]
    # No model label on it: the model's pods select it; the newest label set per pod wins.
    assert "topk by (pod) (1, vllm:lora_requests_info{namespace=" in lora_expr and 'pod=~"$pod"' in lora_expr
    assert "model_name" not in lora_expr
    triton = {p["title"]: p for p in rows(at(example, c.model_dashboard_uid("llama-3-1-70b-trt")))[
        "Why: speculative decoding and LoRA adapters"]}
    assert {p["type"] for p in triton.values()} == {"text"}
