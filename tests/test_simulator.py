"""The fleet simulator on its own (fast, no processes): it serves what each engine version really exposes."""
from __future__ import annotations

import argparse
import re
import sys

import pytest

from generator import conventions as c
from generator import inventory as inventory_mod
from generator.catalog import ENGINES, EXPORTERS, engine_for
from generator.catalog.base import HISTOGRAM
from generator.errors import GeneratorError
from generator.podnames import pod_name
from generator.rules.alert_table import NAMES as ALERT_NAMES
from generator.simulate import dcgm_metrics, pod_metrics, register, vllm_metrics
from generator.simulate.exposition import CPP, GO, PYTHON, number
from generator.simulate.renderers import RENDERERS
from generator.simulate.scenarios import SCENARIOS, ScenarioError, assignments, drift_version
from generator.simulate.simulation import Simulation
from generator.simulate.targets import scrape_configs
from generator.versions import v

from conftest import ROOT, built

EXAMPLE = inventory_mod.load(ROOT / "inventory.yaml")
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> dict[str, list[tuple[dict, float]]]:
    """Text format -> series name -> [(labels, value)]; fails on any line a scraper would reject."""
    series: dict[str, list] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            assert re.match(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* ", line) or not line, line
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        labels = dict(LABEL.findall(match.group(3) or ""))
        series.setdefault(match.group(1), []).append((labels, float(match.group(4))))
    return series


def render(sim: Simulation, model: str, replica: int = 0, t: float | None = None) -> str:
    target = sim.fleet.replicas[model][replica]
    return RENDERERS[target.model.engine](target, sim.snapshot()[model], sim.start + 60 if t is None else t)


@pytest.fixture
def sim():
    clock = [1_800_000_000.0]
    simulation = Simulation(EXAMPLE, clock=lambda: clock[0])
    simulation.tick = lambda seconds: clock.__setitem__(0, clock[0] + seconds)
    return simulation


def expected_series(engine, version) -> set[str]:
    names = set()
    for metric in engine.metrics:
        if metric.exposed_in(version):
            names.update(metric.series())
    return names


@pytest.mark.parametrize("model", [m.name for m in EXAMPLE.models])
def test_an_engine_serves_exactly_the_catalog_metrics_its_version_exposes(sim, model):
    m = next(x for x in EXAMPLE.models if x.name == model)
    engine = engine_for(m)
    served = {name for name in parse(render(sim, model)) if not name.endswith("_created")}
    expected = expected_series(engine, m.engine_version)
    # Labelled counters have no series before their first event (the catalog marks them optional).
    optional = {p.metric for spec in engine.signals.values() for p in getattr(spec, "parts", ()) if p.optional}
    assert expected - optional <= served <= expected, f"missing {expected - optional - served}, extra {served - expected}"


def test_vllm_before_the_renames_serves_only_the_old_names(sim):
    served = parse(render(sim, "mistral-7b-legacy"))  # vLLM 0.8.5
    assert "vllm:gpu_cache_usage_perc" in served and "vllm:kv_cache_usage_perc" not in served
    assert "vllm:time_per_output_token_seconds_bucket" in served
    assert "vllm:inter_token_latency_seconds_bucket" not in served


def test_vllm_serves_the_per_request_tpot_histogram_from_0_11_only(sim):
    old = parse(render(sim, "deepseek-r1-distill-7b"))  # vLLM 0.10.2
    assert "vllm:request_time_per_output_token_seconds_bucket" not in old
    assert "vllm:request_time_per_output_token_seconds_bucket" in parse(render(sim, "llama-3-1-8b"))  # 0.11.2


def _tpot_share_within(text: str, threshold: str) -> float:
    """Share of requests whose mean time per output token is at or under `threshold`, between two scrapes."""
    series = parse(text)["vllm:request_time_per_output_token_seconds_bucket"]
    within = sum(value for labels, value in series if labels["le"] == threshold)
    return within / sum(value for labels, value in series if labels["le"] == "+Inf")


def test_slow_decode_moves_each_requests_tpot_over_its_slo_and_healthy_keeps_it_under(sim):
    sim.tick(60)
    healthy = render(sim, "llama-3-1-8b", t=sim.now())
    sim.apply(["slow-decode:llama-3-1-8b"])
    sim.tick(60)
    slow = render(sim, "llama-3-1-8b", t=sim.now())

    def counts(text):
        series = parse(text)["vllm:request_time_per_output_token_seconds_bucket"]
        return {labels["le"]: value for labels, value in series}

    before, after = counts(healthy), counts(slow)
    assert _tpot_share_within(healthy, "0.1") > 0.99  # the example's tpot threshold is 0.1 s
    assert after["+Inf"] > before["+Inf"] and after["0.1"] == before["0.1"]  # every new request misses


def test_vllm_labels_counters_and_bounds_are_written_as_prometheus_client_does(sim):
    text = render(sim, "llama-3-1-8b")
    series = parse(text)
    labels, _ = series["vllm:num_requests_running"][0]
    assert labels == {"model_name": "meta-llama/Llama-3.1-8B-Instruct", "engine": "0"}
    assert "# TYPE vllm:prompt_tokens_total counter" in text and "vllm:prompt_tokens_created" in series
    assert {lbl["le"] for lbl, _ in series["vllm:time_to_first_token_seconds_bucket"]} >= {"0.5", "1.0", "+Inf"}
    statuses = {lbl["status"] for lbl, _ in series["http_requests_total"]}
    assert statuses <= {"2xx", "4xx", "5xx"} and "2xx" in statuses
    assert all("model_name" not in lbl for lbl, _ in series["http_requests_total"])
    reasons = {lbl["finished_reason"] for lbl, _ in series["vllm:request_success_total"]}
    assert reasons == {"stop", "length", "abort"}  # "error" only from 0.13
    assert "error" in {lbl["finished_reason"] for lbl, _ in parse(render(sim, "qwen2-5-72b"))["vllm:request_success_total"]}


def test_triton_writes_microsecond_counters_and_millisecond_buckets_without_total(sim):
    series = parse(render(sim, "llama-3-1-70b-trt"))
    assert not [name for name in series if name.endswith("_total")]
    models = {lbl["model"] for lbl, _ in series["nv_inference_request_success"]}
    assert models == {"ensemble", "preprocessing", "tensorrt_llm", "postprocessing"}
    bounds = {lbl["le"] for lbl, _ in series["nv_inference_first_response_histogram_ms_bucket"]}
    assert bounds == {"100", "500", "2000", "5000", "+Inf"}
    first = {lbl["model"] for lbl, _ in series["nv_inference_first_response_histogram_ms_bucket"]}
    assert first == {"ensemble", "tensorrt_llm"}  # decoupled models only
    duration = dict((lbl["model"], value) for lbl, value in series["nv_inference_request_duration_us"])
    success = dict((lbl["model"], value) for lbl, value in series["nv_inference_request_success"])
    assert 1 < duration["ensemble"] / success["ensemble"] / 1e6 < 30  # seconds per request, from microseconds
    assert {lbl["model"] for lbl, _ in series["nv_trt_llm_kv_cache_block_metrics"]} == {"tensorrt_llm"}


def test_dcgm_and_kube_state_metrics_use_their_units_and_labels(sim):
    timelines = sim.snapshot()
    node = next(iter(sim.fleet.nodes.values()))
    series = parse(dcgm_metrics.render(sim.fleet, node, timelines, sim.start + 60, sim.start))
    for labels, value in series["DCGM_FI_DEV_GPU_UTIL"]:
        assert 0 <= value <= 100 and {"gpu", "UUID", "modelName", "Hostname"} <= set(labels)
    owned = [lbl for lbl, _ in series["DCGM_FI_DEV_FB_USED"] if "pod" in lbl]
    assert owned and all({"namespace", "container"} <= set(lbl) for lbl in owned)
    used = [value for _, value in series["DCGM_FI_DEV_FB_USED"]]
    assert max(used) > 10_000  # MiB, not bytes or a fraction
    ksm = parse(pod_metrics.render(sim.fleet, "prod-eu", timelines, sim.start + 60, sim.start))
    assert {tuple(sorted(lbl)) for lbl, _ in ksm["kube_pod_created"]} == {("namespace", "pod", "uid")}
    assert {lbl["condition"] for lbl, _ in ksm["kube_pod_status_ready"]} == {"true", "false", "unknown"}


def test_every_catalog_metric_has_a_simulator_role():
    roles = {**dcgm_metrics.roles(), **pod_metrics.roles()}
    for render_ in RENDERERS.values():  # every engine's simulator module places its catalog's metrics
        roles.update(sys.modules[render_.__module__].roles())
    for source in [*ENGINES.values(), EXPORTERS["dcgm"], EXPORTERS["kube_state_metrics"]]:
        assert {m.name for m in source.metrics} <= set(roles), source.name


def test_counters_and_buckets_never_decrease_across_scenario_switches(sim):
    def values(text):
        return {(name, tuple(sorted(lbl.items()))): value for name, rows in parse(text).items()
                for lbl, value in rows if name.endswith(("_total", "_bucket", "_count", "_sum"))
                or name in ("nv_inference_request_success", "nv_inference_request_duration_us")}

    previous = values(render(sim, "llama-3-1-70b-trt", t=sim.now()))
    for spec in ("ttft-spike:llama-3-1-70b-trt", "error-burst:llama-3-1-70b-trt", "healthy"):
        sim.tick(30)
        sim.apply([spec])
        sim.tick(30)
        current = values(render(sim, "llama-3-1-70b-trt", t=sim.now()))
        assert all(current.get(k, 0) >= v for k, v in previous.items()), spec
        previous = current


def test_histogram_buckets_are_cumulative_and_bounded_by_the_count(sim):
    series = parse(render(sim, "qwen2-5-72b"))
    for metric in ENGINES["vllm"].metrics:
        if metric.type != HISTOGRAM or f"{metric.name}_bucket" not in series:
            continue
        counts = [value for _, value in series[f"{metric.name}_bucket"]]
        assert counts == sorted(counts) and counts[-1] == series[f"{metric.name}_count"][0][1]


def test_the_same_history_gives_the_same_exposition(sim):
    first = render(sim, "llama-3-1-8b", t=sim.start + 123.4)
    again = Simulation(EXAMPLE, clock=lambda: sim.start)
    assert render(again, "llama-3-1-8b", t=sim.start + 123.4) == first


def test_a_crashed_replica_is_not_ready_and_restarts_its_counters(sim):
    sim.tick(60)
    sim.apply(["replica-down:llama-3-1-8b"])
    sim.tick(30)
    timeline = sim.snapshot()["llama-3-1-8b"]
    assert 1 not in timeline.at(sim.now()).serving and timeline.pod(1, sim.now()).ready_time is None
    before = parse(render(sim, "llama-3-1-8b", 0, t=sim.now()))["vllm:prompt_tokens_total"][0][1]
    sim.apply(["healthy:llama-3-1-8b"])
    sim.tick(5)
    after = parse(render(sim, "llama-3-1-8b", 1, t=sim.now()))["vllm:prompt_tokens_total"][0][1]
    assert after < before  # the restarted engine counts from zero
    assert timeline.pod(1, sim.now()).uid == sim.snapshot()["llama-3-1-8b"].pod(1, sim.now()).uid


def test_every_alert_has_a_scenario_that_exists_to_fire_it():
    assert set(ALERT_NAMES) <= {s.alert for s in SCENARIOS.values()}


def test_scenarios_refuse_models_they_cannot_apply_to():
    models = {m.name: m for m in EXAMPLE.models}
    with pytest.raises(ScenarioError, match="preemption"):
        assignments(["preemption-storm:llama-3-1-70b-trt"], models)
    with pytest.raises(ScenarioError, match="replicas.min"):
        assignments(["replica-down:mistral-7b-legacy"], models)
    with pytest.raises(ScenarioError, match="time per output token"):
        assignments(["slow-decode:deepseek-r1-distill-7b"], models)  # vLLM 0.10.2
    with pytest.raises(ScenarioError, match="unknown scenario"):
        assignments(["ttft-spiek"], models)
    with pytest.raises(ScenarioError, match="unknown model"):
        assignments(["ttft-spike:nope"], models)
    everywhere = assignments(["preemption-storm"], models)
    assert not everywhere["llama-3-1-70b-trt"] and everywhere["llama-3-1-8b"] == {"preemption-storm"}


@pytest.mark.parametrize("regex", ["llama-3-1-8b-.*", "qwen-72b-(blue|green)-.*", r"a\.b-[a-z0-9]+-.+"])
def test_pod_names_match_the_pod_regex(regex):
    assert re.fullmatch(regex, pod_name(regex, "m/0")) and pod_name(regex, "m/0") != pod_name(regex, "m/1")


def test_a_pod_regex_that_admits_one_name_is_refused():
    text = (ROOT / "inventory.yaml").read_text().replace('pod_regex: "qwen-72b-(blue|green)-.*"',
                                                         'pod_regex: "qwen-72b"')
    with pytest.raises(GeneratorError, match="twice"):
        Simulation(inventory_mod.parse(text, "inventory.yaml"))


def test_every_replica_is_a_target_with_its_namespace_pod_and_selector_labels(sim):
    jobs = {job["job_name"]: job for job in scrape_configs(sim.fleet, "127.0.0.1:1")}
    engines = [t for name in ENGINES for t in jobs.get(name, {"static_configs": []})["static_configs"]]
    assert len(engines) == sum(max(1, m.replicas_min) for m in EXAMPLE.models)
    for target in engines:
        assert {"namespace", "pod", "cluster", "__metrics_path__"} <= set(target["labels"])
    # Each engine's own path: trtllm-serve's Prometheus text is on /prometheus/metrics.
    assert {t["labels"]["__metrics_path__"].split("/", 4)[4] for t in jobs["trtllm-serve"]["static_configs"]} \
        == {"prometheus/metrics"}
    assert jobs["kube-state-metrics"]["honor_labels"] and jobs["dcgm-exporter"]["honor_labels"]


def test_numbers_are_written_in_each_client_style():
    assert number(1.0, PYTHON) == "1.0" and number(1.0, CPP) == "1" and number(1.7e9, GO) == "1.7e+09"
    assert number(2560.0, PYTHON) == "2560.0" and number(0.5, CPP) == "0.5"


def test_the_simulate_command_registers_on_the_cli_parser():
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["simulate", "--port", "0", "--scenario", "ttft-spike:llama-3-1-8b"])
    assert args.func.__name__ == "run" and args.scenario == ["ttft-spike:llama-3-1-8b"] and args.port == 0
    assert v("0.13.0") == vllm_metrics.ERROR_REASON_SINCE


def _ksm(sim, site="prod-eu"):
    return parse(pod_metrics.render(sim.fleet, site, sim.snapshot(), sim.now(), sim.start))


def _pod_rows(series, name, pod):
    return [(lbl, value) for lbl, value in series.get(name, []) if lbl["pod"] == pod]


def test_engine_targets_carry_the_engine_container_and_images_match_the_image_pattern(sim):
    jobs = {job["job_name"]: job for job in scrape_configs(sim.fleet, "127.0.0.1:1")}
    containers = {t["labels"]["pod"]: t["labels"]["container"] for name in ENGINES
                  for t in jobs.get(name, {"static_configs": []})["static_configs"]}
    for model in EXAMPLE.models:
        for replica in sim.fleet.replicas[model.name]:
            assert containers[replica.pod] == model.container
    info = _ksm(sim)["kube_pod_container_info"]
    for model in EXAMPLE.models:
        if sim.fleet.site_of[model.name] != "prod-eu":
            continue
        for replica in sim.fleet.replicas[model.name]:
            (labels, value), = [(lbl, v) for lbl, v in info if lbl["pod"] == replica.pod]
            pattern = model.image_pattern.format(version=f"({re.escape(str(model.engine_version))})")
            assert labels["container"] == model.container and value == 1
            assert re.fullmatch(pattern, labels["image"]), labels["image"]


def test_version_drift_changes_the_image_and_the_metric_names_served(sim):
    sim.tick(10)
    sim.apply(["version-drift:mistral-7b-legacy"])
    sim.tick(10)
    pod = sim.fleet.replicas["mistral-7b-legacy"][0].pod
    (labels, _), = _pod_rows(_ksm(sim), "kube_pod_container_info", pod)
    assert labels["image"] == f"vllm/vllm-openai:v{drift_version(sim.fleet.models['mistral-7b-legacy'])}"
    served = parse(render(sim, "mistral-7b-legacy", t=sim.now()))
    assert "vllm:kv_cache_usage_perc" in served and "vllm:gpu_cache_usage_perc" not in served


def test_a_hung_engine_stops_its_counters_but_keeps_work_in_flight(sim):
    sim.tick(60)
    sim.apply(["hung-engine:llama-3-1-8b", "hung-engine:llama-3-1-70b-trt"])
    sim.tick(1)
    before = {m: parse(render(sim, m, t=sim.now())) for m in ("llama-3-1-8b", "llama-3-1-70b-trt")}
    sim.tick(300)
    after = {m: parse(render(sim, m, t=sim.now())) for m in ("llama-3-1-8b", "llama-3-1-70b-trt")}
    for model, counter in (("llama-3-1-8b", "vllm:request_success_total"),
                           ("llama-3-1-8b", "vllm:generation_tokens_total"),
                           ("llama-3-1-70b-trt", "nv_inference_request_success")):
        assert after[model][counter] == before[model][counter], counter
    vllm = after["llama-3-1-8b"]
    assert vllm["vllm:num_requests_running"][0][1] > 0 and vllm["vllm:num_requests_waiting"][0][1] > 0
    active = [v for lbl, v in after["llama-3-1-70b-trt"]["nv_trt_llm_request_metrics"]
              if lbl["request_type"] == "active"]
    assert active[0] > 0


def test_crash_loops_and_oom_kills_show_in_the_container_status(sim):
    sim.tick(60)
    sim.apply(["replica-down:qwen2-5-72b", "oom-killed:llama-3-1-8b"])
    sim.tick(95)
    ksm = _ksm(sim)
    crashed = sim.fleet.replicas["qwen2-5-72b"][-1].pod
    assert [lbl["reason"] for lbl, _ in _pod_rows(ksm, "kube_pod_container_status_waiting_reason", crashed)] \
        == ["CrashLoopBackOff"]
    assert _pod_rows(ksm, "kube_pod_container_status_restarts_total", crashed)[0][1] == 4  # at 0, 30, 60 and 90 s
    killed = sim.fleet.replicas["llama-3-1-8b"][0].pod
    assert [lbl["reason"] for lbl, _ in _pod_rows(ksm, "kube_pod_container_status_last_terminated_reason", killed)] \
        == ["OOMKilled"]
    assert _pod_rows(ksm, "kube_pod_container_status_restarts_total", killed)[0][1] == 1
    assert not _pod_rows(ksm, "kube_pod_container_status_waiting_reason", killed)
    healthy = sim.fleet.replicas["llama-3-1-8b"][1].pod
    assert not _pod_rows(ksm, "kube_pod_container_status_last_terminated_reason", healthy)
    sim.apply(["healthy:qwen2-5-72b"])
    sim.tick(5)
    ksm = _ksm(sim)
    assert not _pod_rows(ksm, "kube_pod_container_status_waiting_reason", crashed)
    assert [lbl["reason"] for lbl, _ in _pod_rows(ksm, "kube_pod_container_status_last_terminated_reason", crashed)] \
        == ["Error"]


def test_a_stuck_rollout_adds_a_pod_that_is_never_ready(sim):
    sim.apply(["stuck-rollout:llama-3-1-70b-trt"])
    sim.tick(3600)
    surge = sim.fleet.surge_pods["llama-3-1-70b-trt"]
    assert re.fullmatch(EXAMPLE.models[3].pod_regex, surge)
    ready = {lbl["condition"]: v for lbl, v in _pod_rows(_ksm(sim), "kube_pod_status_ready", surge)}
    assert ready == {"true": 0, "false": 1, "unknown": 0}
    assert not _pod_rows(_ksm(sim), "kube_pod_status_ready_time", surge)


def test_scale_to_zero_leaves_no_pod_and_idle_gpus(sim):
    sim.apply(["scale-to-zero:deepseek-r1-distill-7b"])
    sim.tick(30)
    ksm = _ksm(sim, "staging-eu")
    assert not [lbl for lbl, _ in ksm["kube_pod_created"] if lbl["namespace"] == "llm-staging"
                and lbl["pod"].startswith("deepseek")]
    node = sim.fleet.replicas["deepseek-r1-distill-7b"][0].gpus[0].node
    gpus = parse(dcgm_metrics.render(sim.fleet, sim.fleet.nodes[node], sim.snapshot(), sim.now(), sim.start))
    assert all("pod" not in lbl for lbl, _ in gpus["DCGM_FI_DEV_GPU_UTIL"])
    with pytest.raises(ScenarioError, match="replicas.min 0"):
        assignments(["scale-to-zero:llama-3-1-8b"], {m.name: m for m in EXAMPLE.models})


def test_an_xid_is_held_until_the_exporter_restarts(sim):
    sim.apply(["gpu-xid:llama-3-1-8b"])
    sim.tick(30)
    sim.apply(["healthy:llama-3-1-8b"])
    sim.tick(30)
    gpu = sim.fleet.replicas["llama-3-1-8b"][0].gpus[0]
    series = parse(dcgm_metrics.render(sim.fleet, sim.fleet.nodes[gpu.node], sim.snapshot(), sim.now(), sim.start))
    assert [v for lbl, v in series["DCGM_FI_DEV_XID_ERRORS"] if lbl["gpu"] == str(gpu.index)] == [48]


def test_dcgm_is_scraped_without_honor_labels_when_the_inventory_says_exported_pod():
    text = (ROOT / "inventory.yaml").read_text() + \
        "collectors: {dcgm: {namespace_label: exported_namespace, pod_label: exported_pod}}\n"
    fleet = Simulation(inventory_mod.parse(text, "inventory.yaml")).fleet
    jobs = {job["job_name"]: job for job in scrape_configs(fleet, "127.0.0.1:1")}
    assert "honor_labels" not in jobs["dcgm-exporter"] and jobs["kube-state-metrics"]["honor_labels"]
    for target in jobs["dcgm-exporter"]["static_configs"]:
        assert target["labels"]["namespace"] == "gpu-operator"
        assert target["labels"]["pod"].startswith("nvidia-dcgm-exporter-")


def test_collectors_down_answer_503_and_the_rest_keeps_serving():
    import urllib.error
    import urllib.request

    from generator.simulate.server import SimulatorServer

    simulation = Simulation(EXAMPLE)
    server = SimulatorServer(simulation, "127.0.0.1", 0)
    server.start()
    try:
        simulation.apply(["kube-state-metrics-down:llama-3-1-8b", "dcgm-down:llama-3-1-8b",
                          "scrape-failing:qwen2-5-72b", "scale-to-zero:deepseek-r1-distill-7b"])

        def status(path):
            try:
                with urllib.request.urlopen(f"http://{server.address}{path}", timeout=5) as response:
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code

        prod_node = simulation.fleet.replicas["llama-3-1-8b"][0].gpus[0].node
        sim_node = simulation.fleet.replicas["deepseek-r1-distill-7b"][0].gpus[0].node
        qwen = simulation.fleet.replicas["qwen2-5-72b"]
        sim_replica = simulation.fleet.replicas["deepseek-r1-distill-7b"][0]
        assert status("/kube-state-metrics/prod-eu/metrics") == 503 and status(f"/dcgm/{prod_node}/metrics") == 503
        assert status("/kube-state-metrics/staging-eu/metrics") == 200 and status(f"/dcgm/{sim_node}/metrics") == 200
        assert status(f"/pods/search-llm/{qwen[0].pod}/metrics") == 503
        assert status(f"/pods/search-llm/{qwen[1].pod}/metrics") == 200
        assert status(f"/pods/llm-staging/{sim_replica.pod}/metrics") == 404
    finally:
        server.shutdown()
        server.server_close()


def test_the_webhook_is_added_to_every_generated_receiver_and_the_timings_shortened():
    import yaml

    from generator.simulate.stack import with_webhook

    generated = yaml.safe_load(built(ROOT / "inventory.yaml")[c.ALERTMANAGER_FILE])
    config = with_webhook(generated, "http://127.0.0.1:1/alerts", "1s", "2s")
    assert [r["name"] for r in config["receivers"]] == [r["name"] for r in generated["receivers"]]
    for receiver in config["receivers"]:
        assert receiver["webhook_configs"] == [{"url": "http://127.0.0.1:1/alerts", "send_resolved": True}]
    assert (config["route"]["group_wait"], config["route"]["group_interval"]) == ("1s", "2s")
    assert all("group_wait" not in r and "group_interval" not in r for r in config["route"]["routes"])
    assert config["inhibit_rules"] == generated["inhibit_rules"] and "webhook_configs" not in generated["receivers"][0]


def test_a_bad_replica_alone_is_slow_failing_and_full(sim):
    sim.tick(60)
    sim.apply(["bad-replica:llama-3-1-8b"])
    sim.tick(60)

    def observed(replica: int) -> tuple[float, float, float]:
        series = parse(render(sim, "llama-3-1-8b", replica, t=sim.now()))
        kv = series["vllm:kv_cache_usage_perc"][0][1]
        fast = sum(v for labels, v in series["vllm:time_to_first_token_seconds_bucket"] if labels["le"] == "0.5")
        count = series["vllm:time_to_first_token_seconds_count"][0][1]
        errors = sum(v for labels, v in series["http_requests_total"] if labels["status"] == "5xx")
        return kv, fast / count, errors

    good, bad = observed(0), observed(1)  # llama-3-1-8b runs two replicas: the last one goes bad
    assert bad[0] > 0.9 > good[0]  # KV cache above the model's threshold on the bad replica only
    assert bad[1] < good[1]  # fewer first tokens within 0.5 s
    assert bad[2] > 10 * good[2]
    with pytest.raises(ScenarioError, match="replicas.min"):
        assignments(["bad-replica:mistral-7b-legacy"], {m.name: m for m in EXAMPLE.models})


def test_vllm_renders_speculative_decoding_lora_and_request_parameters(sim):
    model = next(m.name for m in EXAMPLE.models if m.engine == "vllm")
    series = parse(render(sim, model, 0, sim.start + 600))
    draft = sum(v for _, v in series["vllm:spec_decode_num_draft_tokens_total"])
    accepted = sum(v for _, v in series["vllm:spec_decode_num_accepted_tokens_total"])
    assert 0 < accepted < draft
    (labels, value), = series["vllm:lora_requests_info"]
    assert "model_name" not in labels and labels["running_lora_adapters"] == "support-tone,sql"
    assert value == sim.start + 600  # a timestamp, as vLLM sets it
    assert sum(v for lbl, v in series["vllm:request_params_n_count"]) > 0
