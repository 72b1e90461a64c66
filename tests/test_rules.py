"""Recording rules and alerts: valid for promtool, in real metric names, escaped, and computing the right values."""
import textwrap

import promql_parser
import pytest
import yaml

from generator import conventions as c
from generator import inventory
from generator.build import build
from generator.catalog import ENGINES, EXPORTERS, SIGNALS
from generator.catalog.base import Counters, Custom, Gauge, Histogram
from generator.errors import InventoryErrors
from generator.prometheus_syntax import duration_seconds
from generator.queries import ModelQueries
from generator.rules.alert_table import NAMES as ALERT_NAMES
from generator.rules.alerts import alert_rules
from generator.rules.files import rule_file, rule_files, shared_windows, split_blocks, split_group
from generator.rules.recording import budget_rules, recording_rules, window_rules

from conftest import (
    MINIMAL,
    ROOT,
    WEIRD,
    WEIRD_YAML,
    built,
    cheapest_firing_cases,
    expects_recorded_values,
    fired_in,
    header_for,
    load_yaml,
    model_yaml,
    promtool_subset_failures,
    run_promtool,
)


def model_text(engine: str, version: str, served_name: str = "org/small-1.0", extra: str = "") -> str:
    header = header_for(engine, version)  # e.g. TTFT 0.5 s on Triton, whose buckets have no 1.0
    return header + "models:\n" + model_yaml("small", served_name=served_name, engine=engine, engine_version=version,
                                             extra=extra)


def load(engine: str, version: str, **kw):
    inv = inventory.parse(model_text(engine, version, **kw), "test.yaml")
    return inv, inv.models[0]


def selectors(expr: str) -> list:
    found = []

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)
        for attr in ("expr", "lhs", "rhs", "param", "vector_selector"):
            child = getattr(node, attr, None)
            if child is not None and not isinstance(child, (str, int, float)):
                visit(child)
        for arg in getattr(node, "args", None) or []:
            visit(arg)

    visit(promql_parser.parse(expr))
    return found


# Every version at which an engine's catalog changes: between two of them the catalog reads the same.
ENGINE_VERSIONS = [(name, str(b)) for name, e in ENGINES.items() for b in e.boundaries()]


@pytest.mark.parametrize("engine,version", ENGINE_VERSIONS, ids=[f"{e} {v}" for e, v in ENGINE_VERSIONS])
def test_every_signal_an_engine_claims_maps_to_promql_that_parses(engine, version):
    inv, model = load(engine, version)
    q = ModelQueries(inv, model)
    claimed = [s for s in ENGINES[engine].signals if q.has(s)]
    assert claimed, "an engine version with no signal at all"
    for signal in claimed:
        spec = q.signal(signal)
        if isinstance(spec, Histogram):
            exprs = [q.quantile(signal, "0.95", "5m"), q.mean(signal, "5m")]
        elif isinstance(spec, Counters):
            exprs = [q.rate(signal, "5m")]
        elif isinstance(spec, Gauge):
            exprs = [q.gauge(signal)]
        else:
            exprs = [q.rate(signal, "5m") if signal != "kv_cache" and signal != "model_load" else q.gauge(signal)]
        for expr in exprs:
            promql_parser.parse(expr)


@pytest.mark.parametrize("name", list(ENGINES))
def test_engine_signal_maps_name_only_known_signals_and_catalog_metrics(name):
    engine = ENGINES[name]
    known = {m.name for m in engine.metrics}
    assert set(engine.signals) <= set(SIGNALS)
    assert set(engine.cannot_show) <= set(SIGNALS)
    for spec in engine.signals.values():
        assert isinstance(spec, (Histogram, Gauge, Counters, Custom))
        assert set(spec.metric_names()) <= known


def test_every_catalog_entry_names_its_source_and_a_valid_version_range():
    for source in [*ENGINES.values(), *EXPORTERS.values()]:
        for metric in source.metrics:
            assert metric.source, metric.name
            assert metric.type in ("counter", "gauge", "histogram")
            if metric.since and metric.until:
                assert metric.since < metric.until, metric.name
            if metric.type == "counter" and source.name == "vllm":
                assert metric.name.endswith("_total"), "prometheus_client exposes vLLM counters with _total"


RENAMES = [
    ("0.8.5", "vllm:gpu_cache_usage_perc", "vllm:time_per_output_token_seconds_bucket"),
    ("0.9.2", "vllm:kv_cache_usage_perc", "vllm:time_per_output_token_seconds_bucket"),
    ("0.10.2", "vllm:kv_cache_usage_perc", "vllm:inter_token_latency_seconds_bucket"),
    ("0.11.2", "vllm:kv_cache_usage_perc", "vllm:inter_token_latency_seconds_bucket"),
]


@pytest.mark.parametrize("version,kv,itl", RENAMES, ids=[f"vLLM {r[0]} reads {r[1]} and {r[2]}" for r in RENAMES])
def test_vllm_version_picks_the_names_it_exposes(version, kv, itl):
    inv, model = load("vllm", version)
    names = {s.name for r in recording_rules(inv, model) for s in selectors(r["expr"])}
    assert kv in names and itl in names
    gone = {"vllm:gpu_cache_usage_perc", "vllm:kv_cache_usage_perc", "vllm:time_per_output_token_seconds_bucket",
            "vllm:inter_token_latency_seconds_bucket"} - {kv, itl}
    assert not names & gone


def test_triton_rules_say_what_the_engine_cannot_show(example):
    model = next(m for m in example.models if m.engine == "triton-trtllm")
    text = rule_file(example, model)
    assert "# No itl: Triton and the TensorRT-LLM backend export no inter-token latency metric." in text
    assert "llm:itl_" not in text
    assert "LLMInterTokenLatencySLOBurn" not in text


def test_every_alert_has_severity_team_annotations_and_for(example):
    for model in example.models:
        for rule in alert_rules(example, model):
            assert rule["labels"]["severity"] in ("critical", "warning")
            assert dict(model.team.labels).items() <= rule["labels"].items()
            assert rule["for"]
            for key in ("summary", "description", "runbook_url", "dashboard_url"):
                assert rule["annotations"][key]
            assert rule["annotations"]["summary"].endswith(".")
            assert "{{" not in rule["annotations"]["summary"]


def test_latency_and_error_alerts_are_guarded_by_their_own_slis_traffic(example):
    slos = {"LLMTimeToFirstTokenSLOBurn": "ttft", "LLMInterTokenLatencySLOBurn": "itl",
            "LLMTimePerOutputTokenSLOBurn": "tpot", "LLMEndToEndLatencySLOBurn": "e2e",
            "LLMErrorBudgetBurn": "availability"}
    for model in example.models:
        for rule in alert_rules(example, model):
            if rule["alert"] in slos:
                guard = f"llm:slo_requests:rate{rule['labels']['long']}"
                assert guard in rule["expr"] and f'slo="{slos[rule["alert"]]}"' in rule["expr"]
                assert ">= 0.1" in rule["expr"]


TPOT = "    tpot: {threshold_seconds: 0.075, objective: 0.99}\n    availability:"


@pytest.mark.parametrize("engine,version,measured", [("vllm", "0.10.2", False), ("vllm", "0.11.0", True),
                                                     ("vllm", "0.13.0", True), ("triton-trtllm", "25.01", False)])
def test_a_default_tpot_slo_gets_rules_and_four_tiers_only_where_the_version_measures_it(engine, version, measured):
    inv = inventory.parse(model_text(engine, version).replace("    availability:", TPOT), "test.yaml")
    model = inv.models[0]
    recorded = recording_rules(inv, model) + window_rules(inv) + budget_rules(inv, model)
    names = {sel.name for r in recorded for sel in selectors(r["expr"])}
    tiers = [r for r in alert_rules(inv, model) if r["alert"] == "LLMTimePerOutputTokenSLOBurn"]
    tpot_series = [r for r in recorded if r.get("labels", {}).get("slo") == "tpot" or "tpot" in r["record"]
                   or 'slo="tpot"' in r["expr"]]
    if not measured:
        assert not tiers and not tpot_series and "vllm:request_time_per_output_token_seconds_bucket" not in names
        return
    assert "vllm:request_time_per_output_token_seconds_bucket" in names
    assert [(r["labels"]["long"], r["labels"]["short"], r["labels"]["severity"]) for r in tiers] == [
        ("1h", "5m", "critical"), ("6h", "30m", "critical"), ("1d", "2h", "warning"), ("3d", "6h", "warning")]
    fast = tiers[0]["expr"]  # the same shape as every latency SLO: 14.4 x (1 - 0.99) of requests over 0.075 s
    assert "(1 - llm:tpot_within_slo:ratio_rate1h{" in fast and ") > 0.144" in fast
    assert "_bucket" not in fast  # alerts read the recorded ratio, never raw buckets
    good = next(r for r in recorded if r["record"] == "llm:slo_good_requests:rate5m" and r["labels"]["slo"] == "tpot")
    assert 'vllm:request_time_per_output_token_seconds_bucket{' in good["expr"] and 'le="0.075"' in good["expr"]
    within = next(r for r in recorded if r["record"] == "llm:tpot_within_slo:ratio_rate5m")
    assert {sel.name for sel in selectors(within["expr"])} == {"llm:slo_good_requests:rate5m",
                                                                "llm:slo_requests:rate5m"}
    description = tiers[0]["annotations"]["description"]
    assert "of the requests of" in description and "time per output token above 0.075 s" in description


def test_itl_alerts_say_they_count_token_gaps_not_requests(example):
    for model in example.models:
        for rule in alert_rules(example, model):
            if rule["alert"] == "LLMInterTokenLatencySLOBurn":
                assert "of the gaps between streamed tokens of" in rule["annotations"]["description"]
                assert "requests" not in rule["annotations"]["description"].split(" had ")[0]


def test_burn_rates_are_recorded_per_slo_and_tier_window_from_the_recorded_ratios(example):
    model = next(m for m in example.models if m.name == "llama-3-1-8b")
    burns = [r for r in budget_rules(example, model) if r["record"].startswith("llm:slo_burn_rate:")]
    windows = {"5m", "30m", "1h", "2h", "6h", "1d", "3d"}
    assert {(r["labels"]["slo"], r["record"].rsplit("ratio_rate", 1)[1]) for r in burns} == {
        (slo, w) for slo in ("ttft", "itl", "tpot", "e2e", "availability") for w in windows}
    for rule in burns:
        read = {sel.name for sel in selectors(rule["expr"])}
        assert read and all(name.startswith("llm:") for name in read), rule  # no raw buckets re-read
    ttft = next(r for r in burns if r["labels"]["slo"] == "ttft" and r["record"].endswith("rate1h"))
    assert ttft["expr"] == ('(1 - llm:ttft_within_slo:ratio_rate1h{model="llama-3-1-8b", cluster="prod-eu"}) '
                            '/ 0.05')


def test_scale_to_zero_models_get_no_model_down_alert(example):
    model = next(m for m in example.models if m.replicas_min == 0)
    assert "LLMModelDown" not in {r["alert"] for r in alert_rules(example, model)}


def test_a_loose_objective_caps_the_burn_threshold_at_every_request(tmp_path):
    text = model_text("vllm", "0.11.2").replace("e2e: {threshold_seconds: 30, objective: 0.95}",
                                                 "e2e: {threshold_seconds: 30, objective: 0.9}")
    inv = inventory.parse(text, "t.yaml")
    fast = next(r for r in alert_rules(inv, inv.models[0])
                if r["alert"] == "LLMEndToEndLatencySLOBurn" and r["labels"]["long"] == "1h")
    assert ">= 1)" in fast["expr"]  # 14.4 x 10% > 100%


def test_every_generated_rule_file_passes_promtool_check(example, promtool, tmp_path):
    paths = []
    for rel, text in rule_files(example).items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(str(path))
    result = run_promtool(promtool, "check", "rules", *paths)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(example.models) + 2  # and the collector alerts, the SLO windows


# Hand-written PromQL spellings, independent of generator.promql.
WEIRD_PROMQL = 'we\\"ird\\\\{{ .x }}/v1.0-a$b*c+(d)|[e]^'
DECOY_PROMQL = 'we\\"ird\\\\{{ .x }}/v1X0-a$b*c+(d)|[e]^'


def promtool_test(promtool, tmp_path, rules_text: str, tests: str):
    (tmp_path / "rules.yaml").write_text(rules_text)
    (tmp_path / "test.yaml").write_text(textwrap.dedent(tests))
    return run_promtool(promtool, "test", "rules", "test.yaml", cwd=tmp_path)


def test_odd_served_names_match_exactly_their_series_and_render_in_annotations(promtool, tmp_path):
    inv = inventory.parse(model_text("vllm", "0.11.2", served_name=WEIRD_YAML), "t.yaml")
    model = inv.models[0]
    assert model.served_name == WEIRD
    rules_text = rule_file(inv, model)
    kv_alert = next(r for r in alert_rules(inv, model) if r["alert"] == "LLMKVCacheNearFull")
    annotations = dict(kv_alert["annotations"])
    annotations["description"] = (f"The KV cache of small ({WEIRD}) is 95% full (threshold 90%) and requests "
                                  f"wait for capacity or get preempted.")
    expected = yaml.safe_dump([{"exp_labels": {**kv_alert["labels"], "model": "small", "cluster": "test"},
                                "exp_annotations": annotations}], default_flow_style=False)
    tests = f"""\
        rule_files: [rules.yaml]
        evaluation_interval: 1m
        tests:
          - interval: 1m
            input_series:
              - series: 'vllm:request_success_total{{model_name="{WEIRD_PROMQL}", namespace="llm", cluster="test", finished_reason="stop"}}'
                values: '0+60x30'
              - series: 'vllm:request_success_total{{model_name="{DECOY_PROMQL}", namespace="llm", cluster="test", finished_reason="stop"}}'
                values: '0+6000x30'
              - series: 'vllm:kv_cache_usage_perc{{model_name="{WEIRD_PROMQL}", namespace="llm", cluster="test", engine="0"}}'
                values: '0.95x30'
              - series: 'vllm:kv_cache_usage_perc{{model_name="{DECOY_PROMQL}", namespace="llm", cluster="test", engine="0"}}'
                values: '0.99x30'
              - series: 'vllm:num_preemptions_total{{model_name="{WEIRD_PROMQL}", namespace="llm", cluster="test", engine="0"}}'
                values: '0+60x30'
            promql_expr_test:
              - expr: llm:requests:rate5m
                eval_time: 20m
                exp_samples:
                  - labels: 'llm:requests:rate5m{{model="small", cluster="test"}}'
                    value: 1
              - expr: llm:kv_cache_usage:max
                eval_time: 20m
                exp_samples:
                  - labels: 'llm:kv_cache_usage:max{{model="small", cluster="test"}}'
                    value: 0.95
            alert_rule_test:
              - eval_time: 20m
                alertname: LLMKVCacheNearFull
                exp_alerts:
{textwrap.indent(expected, " " * 18)}
    """
    result = promtool_test(promtool, tmp_path, rules_text, tests)
    assert result.returncode == 0, result.stdout + result.stderr


def test_slo_share_matches_bucket_bounds_written_by_prometheus_2_and_3(promtool, tmp_path):
    inv = inventory.parse(model_text("triton-trtllm", "25.01"), "t.yaml")
    rules_text = rule_file(inv, inv.models[0])
    # Triton writes le="500"; Prometheus 3 stores it as le="500.0". 3 of 4 requests are within 0.5 s.
    for spelling in ("500", "500.0"):
        labels = 'model="org/small-1.0", namespace="llm", cluster="test"'
        series = [(f'nv_inference_first_response_histogram_ms_bucket{{{labels}, le="{le}"}}', rate)
                  for le, rate in (("100", 1), (spelling, 3), ("2000", 4), ("5000", 4), ("+Inf", 4))]
        series.append((f'nv_inference_first_response_histogram_ms_count{{{labels}}}', 4))
        lines = "\n".join(f"      - series: '{name}'\n        values: '0+{rate * 60}x30'" for name, rate in series)
        tests = f"""\
rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
{lines}
    promql_expr_test:
      - expr: llm:ttft_within_slo:ratio_rate5m
        eval_time: 20m
        exp_samples:
          - labels: 'llm:ttft_within_slo:ratio_rate5m{{model="small", cluster="test"}}'
            value: 0.75
      - expr: llm:ttft_seconds:quantile_rate5m{{quantile="0.5"}}
        eval_time: 20m
        exp_samples:
          - labels: 'llm:ttft_seconds:quantile_rate5m{{model="small", cluster="test", quantile="0.5"}}'
            value: 0.3
"""
        result = promtool_test(promtool, tmp_path, rules_text, tests)
        assert result.returncode == 0, f"le={spelling}: " + result.stdout + result.stderr


def test_a_regex_matcher_built_from_an_escaped_value_matches_exactly_that_value(promtool, tmp_path):
    from generator.promql import regex_escape, selector

    expr = f"count({selector('up', [('job', '=~', regex_escape(WEIRD))])})"
    tests = f"""\
        rule_files: [rules.yaml]
        tests:
          - interval: 1m
            input_series:
              - series: 'up{{job="{WEIRD_PROMQL}"}}'
                values: '1x5'
              - series: 'up{{job="{DECOY_PROMQL}"}}'
                values: '1x5'
            promql_expr_test:
              - expr: {yaml.safe_dump(expr, default_style="'").strip()}
                eval_time: 2m
                exp_samples:
                  - labels: '{{}}'
                    value: 1
    """
    result = promtool_test(promtool, tmp_path, "groups: []\n", tests)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_generates_every_alert_of_the_table_each_with_its_runbook():
    files = built(ROOT / "inventory.yaml")
    generated = {r["alert"] for rel, text in files.items() if rel.endswith(".rules.yaml")
                 for g in load_yaml(text)["groups"] for r in g["rules"] if "alert" in r}
    assert generated == set(ALERT_NAMES)
    assert {rel for rel in files if rel.startswith("alerts/runbooks/")} == {c.runbook_file(n) for n in ALERT_NAMES}


def test_an_inventory_for_override_reaches_the_rule():
    text = model_text("vllm", "0.11.2", extra="    alerts: {LLMKVCacheNearFull: {for: 30s}}\n")
    inv = inventory.parse(text, "t.yaml")
    rules = {r["alert"]: r["for"] for r in alert_rules(inv, inv.models[0])}
    assert rules["LLMKVCacheNearFull"] == "30s"
    assert rules["LLMQueueBackingUp"] == "10m"


# -- rule groups every ruler accepts ---------------------------------------------------------------------------

def test_the_split_into_ruler_sized_groups_keeps_every_rule_under_unique_names(example):
    # validate's rules/group-size checks that no group holds more than the ruler's limit.
    for model in example.models:
        groups = load_yaml(rule_file(example, model))["groups"]
        assert len(groups) > 1, model.name
        names = [g["name"] for g in groups]
        assert len(names) == len(set(names)), model.name
        written = [r for g in groups for r in g["rules"]]
        expected = recording_rules(example, model) + budget_rules(example, model) + alert_rules(example, model)
        assert sorted(map(repr, written)) == sorted(map(repr, expected)), model.name


@pytest.mark.parametrize("count, limit, sizes, names", [
    (20, 20, [20], ["g"]),
    (21, 20, [11, 10], ["g-1", "g-2"]),
    (54, 20, [18, 18, 18], ["g-1", "g-2", "g-3"]),
    (0, 20, [0], ["g"]),
    (7, 3, [3, 2, 2], ["g-1", "g-2", "g-3"]),
])
def test_a_group_is_split_into_even_parts_and_keeps_its_name_when_it_fits(count, limit, sizes, names):
    groups = split_group("g", [{"record": f"r{i}"} for i in range(count)], limit)
    assert [len(g["rules"]) for g in groups] == sizes and [g["name"] for g in groups] == names
    assert [r["record"] for g in groups for r in g["rules"]] == [f"r{i}" for i in range(count)]


@pytest.mark.parametrize("blocks, limit, sizes", [
    ([1, 3, 3, 3], 5, [4, 3, 3]),  # the even split [4, 3, 3] of 10 rules would cut no block
    ([3, 3, 3, 3], 5, [3, 3, 3, 3]),  # [3, 3] needs no cut, 6 > 5: one block per part
    ([2, 1, 3, 1], 4, [3, 4]),
    ([3, 3], 2, [2, 1, 2, 1]),  # a block larger than the limit is cut
])
def test_a_split_keeps_each_block_of_rules_in_one_part(blocks, limit, sizes):
    rules = [[{"record": f"b{b}r{i}"} for i in range(n)] for b, n in enumerate(blocks)]
    groups = split_blocks("g", rules, limit)
    assert [len(g["rules"]) for g in groups] == sizes
    assert [r for g in groups for r in g["rules"]] == [r for block in rules for r in block]
    for block in rules:
        if len(block) <= limit:
            assert any(all(r in g["rules"] for r in block) for g in groups), block


def test_a_recording_rule_reads_only_what_its_own_group_recorded_before_it(example):
    # Groups evaluate independently; a rule reading a series recorded in another group would lag one interval.
    for model in example.models:
        groups = load_yaml(rule_file(example, model))["groups"]
        recorded = {r["record"] for r in recording_rules(example, model)}
        for group in groups:
            if not group["name"].rstrip("-0123456789").endswith("recording"):
                continue
            before: set[str] = set()
            for rule in group["rules"]:
                read = {s.name for s in selectors(rule["expr"]) if s.name} & recorded
                assert read <= before, (group["name"], rule["record"], read - before)
                before.add(rule["record"])


def test_the_5m_slo_ratios_read_the_recorded_total_rates(example):
    for model in example.models:
        for rule in recording_rules(example, model):
            read = {s.name for s in selectors(rule["expr"])}
            if rule["record"].endswith("within_slo:ratio_rate5m"):
                assert read == {"llm:slo_good_requests:rate5m", "llm:slo_requests:rate5m"}, rule
            if rule["record"] in ("llm:request_errors:ratio_rate5m", "llm:slo_good_requests:rate5m") and \
                    rule["labels"].get("slo", "availability") == "availability":
                assert "llm:slo_requests:rate5m" in read, rule  # the total once, raw; the failed rate raw


def test_long_slo_windows_are_derived_from_the_recorded_5m_rates_never_from_raw_buckets(example):
    raw = {r["record"] for model in example.models for r in recording_rules(example, model)}
    assert not {r for r in raw if r.endswith(("rate30m", "rate1h", "rate2h", "rate6h", "rate1d", "rate3d"))}
    for rule in window_rules(example):
        read = {s.name.split("_sampled")[0] for s in selectors(rule["expr"])}  # the series or its copy
        assert read and read <= {"llm:slo_good_requests:rate5m", "llm:slo_requests:rate5m",
                                 "llm:requests:rate5m"}, rule
        assert read <= raw  # recorded by the raw group, so no chain of derived series
    ttft = next(r for r in window_rules(example, {"llm:ttft_within_slo:ratio_rate1h"})
                if r["record"] == "llm:ttft_within_slo:ratio_rate1h")
    assert ttft["expr"] == ('sum without (slo) (sum_over_time(llm:slo_good_requests:rate5m{slo="ttft"}[1h])) / '
                            '(sum without (slo) (sum_over_time(llm:slo_requests:rate5m{slo="ttft"}[1h])) > 0)')
    assert "labels" not in ttft  # each model's result keeps its inputs' labels but `slo`, like the 5m ratio


def test_the_windows_are_shared_one_rule_per_series_window_and_slo_selecting_no_model(example):
    rules = window_rules(example)
    keys = [(r["record"], r.get("labels", {}).get("slo")) for r in rules]
    assert len(keys) == len(set(keys))
    # 6 windows x (the request rate + availability and 4 latency SLOs x (ratio + traffic guard))
    assert len(rules) == 6 * (1 + 5 * 2)
    for rule in rules:
        for sel in selectors(rule["expr"]):
            assert {m.name for m in sel.matchers.matchers if m.name != "__name__"} <= {"slo"}, rule
        # a rule adds no label its inputs lack: `slo` only where the expression keeps it, set to what it selects
        if "labels" in rule:
            assert rule["labels"] == {"slo": rule["expr"].split('slo="')[1].split('"')[0]}
            assert rule["expr"].startswith("avg_over_time(")
    # no model's rule file records a window any more; the shared file records each once
    for model in example.models:
        assert not {r.get("record") for g in load_yaml(rule_file(example, model))["groups"] for r in g["rules"]} \
            & {r["record"] for r in rules}, model.name
    files = rule_files(example)
    shared = [r for g in load_yaml(files[c.SLO_WINDOWS_FILE])["groups"] for r in g["rules"]
              if "_sampled" not in r["record"]]  # but the copies the slow windows and the budget read
    windows = shared_windows(example)
    assert sorted(map(repr, shared)) == sorted(map(repr, windows.fast + windows.slow))
    assert sorted(r["record"] for r in windows.fast + windows.slow) == sorted(r["record"] for r in rules)


def test_a_latency_slo_no_model_has_gets_no_shared_window(tmp_path):
    inv = inventory.parse(MINIMAL, "test.yaml")
    slos = {r["expr"].split('slo="')[1].split('"')[0] for r in window_rules(inv) if 'slo="' in r["expr"]}
    model_slos = {"availability", *(s for s in c.LATENCY_SIGNALS
                                    if any(r.get("labels", {}).get("slo") == s
                                           for r in recording_rules(inv, inv.models[0])))}
    assert slos == model_slos


def test_groups_only_slow_alerts_and_dashboards_read_are_evaluated_every_window_interval(tmp_path):
    inv = inventory.parse(MINIMAL + "slo_policy: {window_interval: 2m, budget_interval: 10m}\n", "test.yaml")
    files = rule_files(inv)
    groups = [g for rel in (c.rules_file("small"), c.SLO_WINDOWS_FILE) for g in load_yaml(files[rel])["groups"]]

    def kind(name: str) -> str:
        return name.rstrip("-0123456789").removeprefix("llm-small-").removeprefix("llm-slo-")

    intervals = {kind(g["name"]): g.get("interval") for g in groups}
    assert intervals == {"recording": None, "slow-recording": "2m", "windows": None, "slow-windows": "2m",
                         "budget-samples": "10m", "budget": "10m", "alerts": None, "slow-alerts": "2m"}
    rules = {k: [r for g in groups if kind(g["name"]) == k for r in g["rules"]] for k in intervals}
    # the critical tiers (`for` 2m and 15m, under 10 x 2m) read 1h/5m and 6h/30m every evaluation interval
    def windows(kind: str) -> set[str]:
        return {r["record"].rsplit("rate", 1)[1] for r in rules[kind] if "ratio" in r["record"]}

    assert windows("windows") == {"30m", "1h", "6h"} and windows("slow-windows") == {"2h", "1d", "3d"}
    assert "llm:requests:rate1h" in {r["record"] for r in rules["slow-windows"]}  # dashboards only
    # an alert is slow when its `for` is at least 10 slow intervals (20m): evaluating every 2m delays it <= 10%
    assert all(duration_seconds(r["for"]) < 1200 for r in rules["alerts"])
    assert all(duration_seconds(r["for"]) >= 1200 for r in rules["slow-alerts"])
    assert {"LLMModelDown", "LLMEngineStalled", "LLMErrorBudgetBurn"} <= {r["alert"] for r in rules["alerts"]}
    assert "llm:ttft_seconds:quantile_rate5m" in {r["record"] for r in rules["slow-recording"]}
    fast = {r["record"] for k in ("recording", "windows") for r in rules[k]}
    slow = {r["record"] for k in ("slow-recording", "slow-windows") for r in rules[k]}
    for alert in rules["alerts"]:  # a fast alert never waits for a slow group's series
        read = {s.name for s in selectors(alert["expr"]) if s.name}
        assert read and not read & (slow - fast), alert["alert"]
    for window in rules["windows"]:
        assert not {s.name for s in selectors(window["expr"])} & (slow - fast), window["record"]


def _reads(rule: dict) -> set[str]:
    return {sel.name for sel in selectors(rule["expr"]) if sel.name}


@pytest.mark.parametrize("policy, copies", [
    ("{window_interval: 2m, budget_interval: 10m}", {"2m": "slow-windows", "10m": "budget-samples"}),
    ("{window_interval: 5m, budget_interval: 5m}", {"5m": "slow-windows"}),  # one copy serves both
])
def test_slow_windows_and_the_slo_period_read_copies_sampled_as_often_as_they_are_evaluated(policy, copies):
    inv = inventory.parse(MINIMAL + f"slo_policy: {policy}\n", "test.yaml")
    files = rule_files(inv)
    shared = load_yaml(files[c.SLO_WINDOWS_FILE])["groups"]
    window_every, budget_every = inv.slo_policy.window_interval, inv.slo_policy.budget_interval
    base = {"llm:requests:rate5m", "llm:slo_requests:rate5m", "llm:slo_good_requests:rate5m"}
    recorded_in: dict[str, str] = {}
    seen: set[tuple] = set()
    for group in shared:
        kind = group["name"].rstrip("-0123456789").removeprefix("llm-slo-")
        for rule in group["rules"]:
            key = (rule["record"], rule.get("labels", {}).get("slo"))
            assert key not in seen, key  # one rule per series, window and SLO; one copy per series and interval
            seen.add(key)
            recorded_in[rule["record"]] = kind
            if "_sampled" in rule["record"]:  # the plain series, every model and label kept
                assert rule["expr"] in base and rule["record"] == f"{rule['expr']}_sampled{group['interval']}"
                assert "labels" not in rule
            elif kind == "windows":  # a fast window reads what the fast recording group recorded
                assert _reads(rule) <= base, rule
            else:  # a slow window reads the copies its own group sampled before it, as often as it runs
                assert kind == "slow-windows" and _reads(rule) <= {f"{b}_sampled{window_every}" for b in base}, rule
    assert {r: k for r, k in recorded_in.items() if "_sampled" in r} == {
        f"{b}_sampled{every}": kind for every, kind in copies.items() for b in sorted(base)
        if kind == "slow-windows" or b != "llm:requests:rate5m"}
    slow = next(g for g in shared if g["name"].startswith(c.SLOW_WINDOWS_GROUP))["rules"]
    first_window = next(i for i, r in enumerate(slow) if "_sampled" not in r["record"])
    assert all("_sampled" in r["record"] for r in slow[:first_window]) and first_window > 0
    model = load_yaml(files[c.rules_file("small")])["groups"]
    periods = [r for g in model for r in g["rules"] if r.get("record") == c.SLO_GOOD_PERIOD]
    assert periods and all(_reads(r) == {f"llm:slo_good_requests:rate5m_sampled{budget_every}",
                                         f"llm:slo_requests:rate5m_sampled{budget_every}"} for r in periods)


def test_a_window_interval_that_is_no_duration_is_refused_by_key():
    with pytest.raises(InventoryErrors) as caught:
        inventory.parse(MINIMAL + "slo_policy: {window_interval: soon}\n", "test.yaml")
    assert [e.path for e in caught.value.errors] == ["slo_policy.window_interval"]


def test_the_inventory_sets_the_group_limit_and_the_promtool_tests_pass_with_tiny_groups(promtool, tmp_path):
    """Splitting changes only which group a rule is in: the split files hold the same rules in the same order
    (asserted), so thresholds, guards and `for` are as in the default files. What a split can break is the order
    of evaluation across groups (a record read before it is computed, a window before its samples); that shows
    as a recorded value off or an alert firing late or not at all. promtool runs the groups that check recorded
    values and, for each alert and label set (each SLO window pair), the fewest-step case expecting it to fire,
    with its `not before` check; silent cases are left out."""
    inv = inventory.parse(MINIMAL + "ruler: {max_rules_per_group: 4}\n", "test.yaml")
    groups = load_yaml(rule_file(inv, inv.models[0]))["groups"]
    assert len(groups) > 10 and max(len(g["rules"]) for g in groups) <= 4
    files, default = build(inv), build(inventory.parse(MINIMAL, "test.yaml"))
    for rule_path in (c.rules_file("small"), c.SLO_WINDOWS_FILE):
        split, whole = (load_yaml(f[rule_path])["groups"] for f in (files, default))
        assert len(split) > len(whole)
        assert [r for g in split for r in g["rules"]] == [r for g in whole for r in g["rules"]], rule_path
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    failures, kept, cases = promtool_subset_failures(
        promtool, tmp_path, "small", lambda cases: cheapest_firing_cases(cases, per_labels=True))
    assert failures == ""
    assert {k for g in kept for k in fired_in(g)} == {k for g in cases for k in fired_in(g)}
    assert any(expects_recorded_values(g) for g in kept)


def test_a_group_limit_below_1_is_refused_by_key():
    with pytest.raises(InventoryErrors) as caught:
        inventory.parse(MINIMAL + "ruler: {max_rules_per_group: 0}\n", "test.yaml")
    assert [e.path for e in caught.value.errors] == ["ruler.max_rules_per_group"]
