"""The inventory: what it accepts, how it merges, and what it says about bad input."""
from decimal import Decimal

import pytest

from generator import inventory, located_yaml
from generator.capabilities import Capabilities
from generator.cli import main
from generator.errors import InventoryError, InventoryErrors

from conftest import MINIMAL, model_yaml


def edit(old: str, new: str) -> str:
    assert old in MINIMAL, old
    return MINIMAL.replace(old, new, 1)


def errors_of(text: str) -> list[InventoryError]:
    with pytest.raises((InventoryErrors, InventoryError)) as caught:
        inventory.parse(text, "inv.yaml")
    exc = caught.value
    return exc.errors if isinstance(exc, InventoryErrors) else [exc]


# (sentence, inventory text, key path, line, words the message must contain)
BAD = [
    ("a wrong version is refused",
     edit("version: 1", "version: 2"), "version", 1, ["unsupported inventory version 2"]),
    ("an unknown top-level key names the nearest valid one",
     edit("teams:", "temas: {}\nteams:"), "temas", 12, ["unknown key 'temas'", "did you mean 'teams'"]),
    ("an unknown engine names the nearest valid one",
     edit("engine: vllm", "engine: vlm"), "models[0].engine", 17, ["unknown engine 'vlm'", "did you mean 'vllm'"]),
    ("an unknown team is refused with the valid ones",
     edit("team: infra\n", "team: infar\n"), "models[0].team", 19, ["unknown team 'infar'", "did you mean 'infra'"]),
    ("an unknown key in a model names the nearest valid one",
     edit("    namespace: llm", "    namespace: llm\n    replica: 3"), "models[0].replica", 21,
     ["unknown key 'replica'", "did you mean 'replicas'"]),
    ("an objective of 1 is outside (0, 1)",
     edit("ttft: {threshold_seconds: 1.0, objective: 0.95}", "ttft: {threshold_seconds: 1.0, objective: 1}"),
     "defaults.slo.ttft.objective", 7, ["strictly between 0 and 1", "got 1"]),
    ("an objective written as a percentage is outside (0, 1)",
     edit("availability: {objective: 0.995}", "availability: {objective: 99.5}"),
     "defaults.slo.availability.objective", 10, ["strictly between 0 and 1"]),
    ("a zero latency threshold is not positive",
     edit("itl: {threshold_seconds: 0.1,", "itl: {threshold_seconds: 0,"),
     "defaults.slo.itl.threshold_seconds", 8, ["greater than 0"]),
    ("a negative queue threshold is not positive",
     edit("queue_depth: 50", "queue_depth: -5"), "defaults.thresholds.queue_depth", 11, ["greater than 0"]),
    ("a KV-cache threshold above 1 is not a fraction",
     edit("kv_cache_usage: 0.9", "kv_cache_usage: 90"), "defaults.thresholds.kv_cache_usage", 11,
     ["fraction between 0 and 1"]),
    ("an unparseable engine version is refused",
     edit('engine_version: "0.11.2"', 'engine_version: "latest"'), "models[0].engine_version", 18,
     ["unparseable version", "'latest'"]),
    ("an engine version written as a number asks for quotes",
     edit('engine_version: "0.11.2"', "engine_version: 0.10"), "models[0].engine_version", 18,
     ["quoted string", "0.10 becomes 0.1"]),
    ("an engine version older than the catalog is refused",
     edit('engine_version: "0.11.2"', 'engine_version: "0.5.0"'), "models[0].engine_version", 18,
     ["older than the oldest version", "0.8.0"]),
    ("a TPOT SLO on a model whose vLLM version has no per-request TPOT histogram is refused",
     edit('engine_version: "0.11.2"', 'engine_version: "0.10.2"').replace(
         "    namespace: llm", "    namespace: llm\n    slo: {tpot: {threshold_seconds: 0.1, objective: 0.9}}"),
     "models[0].slo.tpot", 21, ["vLLM 0.10.2 cannot measure a tpot SLO", "from 0.11.0", "raise engine_version"]),
    ("a TPOT SLO on Triton is refused",
     edit("engine: vllm", "engine: triton-trtllm").replace('"0.11.2"', '"25.01"').replace(
         "    namespace: llm", "    namespace: llm\n    slo: {tpot: {threshold_seconds: 0.1, objective: 0.9}}"),
     "models[0].slo.tpot", 21, ["cannot measure a tpot SLO", "no per-request time per output token"]),
    ("a TPOT SLO without an objective names the missing key where the threshold is",
     edit("    availability:", "    tpot: {threshold_seconds: 0.1}\n    availability:"),
     "defaults.slo.tpot.objective", 10, ["needs both threshold_seconds and objective"]),
    ("a TPOT threshold between bucket bounds is refused like the other latency SLOs",
     edit("    availability:", "    tpot: {threshold_seconds: 0.11, objective: 0.9}\n    availability:"),
     "defaults.slo.tpot.threshold_seconds", 10, ["not a bucket bound", "the nearest bounds are 0.1 s below and 0.15 s above"]),
    ("a model name that is not a slug is refused",
     edit("name: small", "name: Small_Model"), "models[0].name", 15, ["is not a slug"]),
    ("a duplicate model name is refused",
     MINIMAL + model_yaml("small"), "models[1].name", 23, ["duplicate model name 'small'"]),
    ("a duplicate key is refused with both lines",
     edit("    namespace: llm", "    namespace: llm\n    namespace: other"), "", 21,
     ["duplicate key 'namespace'", "first at line 20"]),
    ("replicas max below min is refused",
     edit("replicas: {min: 1, max: 2}", "replicas: {min: 3, max: 2}"), "models[0].replicas.max", 22,
     ["max (2) is below min (3)"]),
    ("a missing required model key is named",
     edit("    namespace: llm\n", ""), "models[0]", 15, ["missing required key 'namespace'"]),
    ("a reserved label cannot be a selector label",
     edit("labels: {cluster: test}", "labels: {model: x}"), "defaults.labels.model", 5, ["set by the generator"]),
    ("an invalid label name is refused",
     edit("labels: {cluster: test}", "labels: {cluster-name: test}"), "defaults.labels.cluster-name", 5,
     ["not a Prometheus label name"]),
    ("a pod regex that does not compile is refused",
     edit("    namespace: llm", "    namespace: llm\n    pod_regex: 'small-(['"), "models[0].pod_regex", 21,
     ["not a valid regular expression"]),
    ("backend_model is refused for vLLM",
     edit("    namespace: llm", "    namespace: llm\n    backend_model: x"), "models[0].backend_model", 21,
     ["only for engine triton-trtllm"]),
    ("an SLO threshold between buckets names the nearest bounds",
     edit("ttft: {threshold_seconds: 1.0,", "ttft: {threshold_seconds: 0.3,"),
     "defaults.slo.ttft.threshold_seconds", 7, ["not a bucket bound", "the nearest bounds are 0.25 s below and 0.5 s above",
                                                "inherited from defaults"]),
    ("an unknown alert name in an override names the nearest valid one",
     edit("    namespace: llm", "    namespace: llm\n    alerts: {LLMKVCacheFull: {for: 5m}}"),
     "models[0].alerts.LLMKVCacheFull", 21, ["unknown alert 'LLMKVCacheFull'", "did you mean 'LLMKVCacheNearFull'"]),
    ("an alert override's for must be a Prometheus duration",
     edit("    namespace: llm", "    namespace: llm\n    alerts: {LLMKVCacheNearFull: {for: 5 minutes}}"),
     "models[0].alerts.LLMKVCacheNearFull.for", 21, ["Prometheus duration"]),
    ("an unknown collector is refused with the known ones",
     edit("teams:\n", "collectors: {dcgm_exporter: {job: dcgm}}\nteams:\n"), "collectors.dcgm_exporter", 12,
     ["unknown key 'dcgm_exporter'", "expected one of: kube_state_metrics, dcgm"]),
    ("a DCGM workload label must be a label name",
     edit("teams:\n", "collectors: {dcgm: {pod_label: exported-pod}}\nteams:\n"), "collectors.dcgm.pod_label", 12,
     ["not a Prometheus label name"]),
    ("an image pattern needs {version} once",
     edit("    namespace: llm", "    namespace: llm\n    container: {image_pattern: 'vllm:latest'}"),
     "models[0].container.image_pattern", 21, ["`{version}` once"]),
    ("an image pattern may not capture groups of its own",
     edit("    namespace: llm", "    namespace: llm\n    container: {image_pattern: '(.+):v{version}'}"),
     "models[0].container.image_pattern", 21, ["non-capturing groups"]),
    ("an unknown key in an alert override names the valid ones",
     edit("    namespace: llm", "    namespace: llm\n    alerts: {LLMModelDown: {disabled: true}}"),
     "models[0].alerts.LLMModelDown.disabled", 21, ["unknown key 'disabled'", "enabled"]),
    ("an alert override's severity must be known",
     edit("    namespace: llm", "    namespace: llm\n    alerts: {LLMModelDown: {severity: page}}"),
     "models[0].alerts.LLMModelDown.severity", 21, ["expected one of critical, warning, info"]),
    ("a burn tier's short window must be shorter than its long one",
     edit("teams:\n", "slo_policy:\n  tiers:\n    - {severity: critical, long: 5m, short: 1h, factor: 14.4, "
                       "for: 2m}\nteams:\n"), "slo_policy.tiers[0].short", 14, ["shorter than the long one"]),
    ("broken YAML is reported with its line",
     edit("teams:\n", "teams: [\n"), "", 14, ["invalid YAML", "flow sequence started at line 12"]),
    ("an empty file is refused",
     "", "", None, ["expected a mapping"]),
]


# What Prometheus would refuse, or could never fire on, is refused at load (generator/prometheus_syntax.py).
BAD += [
    ("a duration with units out of order is refused",
     edit("defaults:\n", "defaults:\n  alerts: {LLMKVCacheNearFull: {for: 5s5m}}\n"),
     "defaults.alerts.LLMKVCacheNearFull.for", 5, ["not a Prometheus duration", "largest first"]),
    ("a duration longer than Prometheus can hold is refused",
     edit("defaults:\n", "defaults:\n  alerts: {LLMKVCacheNearFull: {for: 99999999999999y}}\n"),
     "defaults.alerts.LLMKVCacheNearFull.for", 5, ["longer than Prometheus can hold"]),
    ("a zero `for` is refused as validate refuses it",
     edit("defaults:\n", "defaults:\n  alerts: {LLMKVCacheNearFull: {for: 0s}}\n"),
     "defaults.alerts.LLMKVCacheNearFull.for", 5, ["is zero"]),
    ("a reserved __ label name is refused",
     edit("labels: {team: infra}", "labels: {__name__: infra}"), "teams.infra.labels.__name__", 13,
     ["reserved"]),
    ("a Go template in a team label is refused: Prometheus renders alert labels",
     edit("labels: {team: infra}", 'labels: {team: "{{ $value }}"}'), "teams.infra.labels.team", 13,
     ["Go-template delimiters", "renders alert labels"]),
    ("a Go template in the runbook URL is refused",
     edit("https://runbooks.test/llm", "https://runbooks.test/{{$labels.x}}"), "runbook_base_url", 3,
     ["Go-template delimiters"]),
    ("an infinite threshold is refused",
     edit("queue_depth: 50", "queue_depth: .inf"), "defaults.thresholds.queue_depth", 11,
     ["finite number", "metric name"]),
    ("NaN is refused wherever a number goes",
     edit("objective: 0.995", "objective: .nan"), "defaults.slo.availability.objective", 10, ["finite number"]),
    ("a selector label the generator matches itself is refused",
     edit("labels: {cluster: test}", "labels: {cluster: test, namespace: other}"), "defaults.labels.namespace", 5,
     ["set by the generator", "`namespace` key"]),
    ("an empty label value is refused",
     edit("labels: {cluster: test}", 'labels: {cluster: ""}'), "defaults.labels.cluster", 5, ["empty label value"]),
    ("a sub-second cold-start budget is refused",
     edit("cold_start_seconds: 600", "cold_start_seconds: 0.1"), "defaults.thresholds.cold_start_seconds", 11,
     ["at least 1"]),
    ("a replica count over the limit is refused with the limit",
     edit("replicas: {min: 1, max: 2}", "replicas: {min: 1000000, max: 1000000}"), "models[0].replicas.min", 22,
     ["at most 1000 (the limit)"]),
    ("a lone surrogate is refused",
     edit("served_name: org/small-1.0", 'served_name: "org/\\uD800"'), "models[0].served_name", 16,
     ["lone surrogate"]),
    ("a NUL character is refused",
     edit("served_name: org/small-1.0", 'served_name: "org/\\0small"'), "models[0].served_name", 16,
     ["control character U+0000"]),
    ("a new line in a served name is refused",
     edit("served_name: org/small-1.0", 'served_name: "a`b\\n\\n# Heading"'), "models[0].served_name", 16,
     ["control character U+000A"]),
    ("a pod regex Prometheus' RE2 cannot read is refused",
     edit("    namespace: llm", '    namespace: llm\n    pod_regex: "small-(?=x)"'), "models[0].pod_regex", 21,
     ["lookaround", "RE2"]),
    ("an owner that is not a short slug is refused",
     edit("version: 1\n", "version: 1\nowner: Team A\n"), "owner", 2, ["an owner id"]),
]


@pytest.mark.parametrize("text,path,line,words", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_inventory_is_reported_by_file_line_and_key(text, path, line, words):
    errors = errors_of(text)
    matching = [e for e in errors if e.path == path]
    assert matching, f"no error at {path!r}: {[str(e) for e in errors]}"
    error = matching[0]
    assert error.file == "inv.yaml"
    assert error.line == line
    for word in words:
        assert word in error.message


def test_every_error_in_one_file_is_reported_at_once():
    text = edit("queue_depth: 50", "queue_depth: -5").replace("engine: vllm", "engine: vlm")
    paths = {e.path for e in errors_of(text)}
    assert {"defaults.thresholds.queue_depth", "models[0].engine"} <= paths


def test_a_default_tpot_slo_applies_only_where_the_engine_version_measures_it():
    text = edit("    availability:", "    tpot: {threshold_seconds: 0.075, objective: 0.9}\n    availability:")
    text += model_yaml("old", engine_version="0.10.2")
    new, old = inventory.parse(text, "inv.yaml").models
    assert new.slo.tpot.threshold_seconds == Decimal("0.075") and new.slo.tpot.objective == Decimal("0.9")
    assert Capabilities(new).slo("tpot") == new.slo.tpot
    assert Capabilities(old).slo("tpot") is None  # vLLM 0.10.2: inherited, not applied, no error


def test_without_tpot_anywhere_a_model_has_no_tpot_slo():
    model = inventory.parse(MINIMAL, "inv.yaml").models[0]
    assert model.slo.tpot is None


def test_a_model_override_changes_only_the_key_it_sets():
    model = inventory.parse(edit("    namespace: llm", "    namespace: llm\n    slo: {ttft: {threshold_seconds: 0.5}}"),
                            "inv.yaml").models[0]
    assert model.slo.ttft.threshold_seconds == Decimal("0.5")
    assert model.slo.ttft.objective == Decimal("0.95")


def test_team_thresholds_override_defaults_and_models_override_teams():
    text = edit("infra: {folder: Infra, labels: {team: infra}}",
                "infra: {folder: Infra, labels: {team: infra}, thresholds: {queue_depth: 80, kv_cache_usage: 0.8}}")
    text = text.replace("    namespace: llm", "    namespace: llm\n    thresholds: {queue_depth: 20}")
    model = inventory.parse(text, "inv.yaml").models[0]
    assert model.thresholds["queue_depth"] == Decimal(20)
    assert model.thresholds["kv_cache_usage"] == Decimal("0.8")
    assert model.thresholds["gpu_utilization"] == Decimal("0.95")


def test_model_labels_extend_and_override_the_default_selector():
    text = edit("    namespace: llm", "    namespace: llm\n    labels: {cluster: other, region: eu}")
    assert inventory.parse(text, "inv.yaml").models[0].selector == (("cluster", "other"), ("region", "eu"))


def test_the_example_inventory_has_what_the_readme_promises(example):
    engines = {(m.engine, str(m.engine_version)) for m in example.models}
    assert len(example.models) >= 5
    assert ("vllm", "0.8.5") in engines  # before the renames
    assert any(e == "triton-trtllm" for e, _ in engines)
    assert any(e == "dynamo" for e, _ in engines)
    assert len(example.teams) >= 2
    assert any("/" in m.served_name and "." in m.served_name for m in example.models)


def test_cli_reports_bad_input_without_a_traceback_and_writes_nothing(tmp_path, capsys):
    from generator.cli import main

    bad = tmp_path / "inventory.yaml"
    bad.write_text(edit("engine: vllm", "engine: vlm"))
    code = main(["generate", "--inventory", str(bad), "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    assert f"{bad}:17: models[0].engine: unknown engine 'vlm'" in err
    assert not (tmp_path / "out").exists()


def test_cli_reports_a_missing_inventory_file(tmp_path, capsys):
    from generator.cli import main

    code = main(["generate", "--inventory", str(tmp_path / "nope.yaml"), "--output", str(tmp_path)])
    assert code == 1
    assert "cannot read the inventory" in capsys.readouterr().err


def test_alert_for_overrides_apply_per_alert_and_the_model_wins():
    text = edit("  thresholds: {", "  alerts: {LLMModelDown: {for: 1m}, LLMKVCacheNearFull: {for: 2m}}\n  thresholds: {")
    text = text.replace("    namespace: llm", "    namespace: llm\n    alerts: {LLMKVCacheNearFull: {for: 30s}}")
    model = inventory.parse(text, "inv.yaml").models[0]
    assert model.alert_for == {"LLMModelDown": "1m", "LLMKVCacheNearFull": "30s"}


def test_collectors_and_container_default_to_the_common_deployment_and_can_be_set():
    default = inventory.parse(MINIMAL, "inv.yaml")
    assert default.collectors.kube_state_metrics_job == "kube-state-metrics"
    assert (default.collectors.dcgm_pod_label, default.collectors.dcgm_node_label) == ("pod", "Hostname")
    assert (default.models[0].container, default.models[0].image_pattern) == ("vllm", ".+:v?{version}(?:[-@+].*)?")
    text = edit("teams:\n", "collectors:\n  dcgm: {namespace_label: exported_namespace, pod_label: exported_pod}\n"
                              "  kube_state_metrics: {job: ksm}\nteams:\n")
    text = text.replace("    namespace: llm", "    namespace: llm\n    container: {name: server, "
                                               "image_pattern: 'registry/llm:{version}-prod'}")
    custom = inventory.parse(text, "inv.yaml")
    assert (custom.collectors.dcgm_namespace_label, custom.collectors.dcgm_pod_label) == \
        ("exported_namespace", "exported_pod")
    assert custom.collectors.kube_state_metrics_job == "ksm"
    assert (custom.models[0].container, custom.models[0].image_pattern) == ("server", "registry/llm:{version}-prod")


def test_the_dcgm_node_label_follows_the_exporter_version():
    newer = inventory.parse(edit("teams:\n", 'exporters: {dcgm: "4.5.3-4.9.0"}\nteams:\n'), "inv.yaml")
    assert newer.collectors.dcgm_node_label == "hostname"


def test_alert_overrides_merge_key_by_key_from_defaults_team_and_model():
    text = edit("  thresholds: {", "  alerts: {LLMKVCacheNearFull: {severity: info, labels: {a: '1'}}}\n"
                                   "  severity_labels: {critical: {pager: oncall}}\n  thresholds: {")
    text = text.replace("    namespace: llm", "    namespace: llm\n    alerts: {LLMKVCacheNearFull: "
                                               "{keep_firing_for: 10m, labels: {b: '2'}}, LLMModelDown: {enabled: false}}")
    model = inventory.parse(text, "inv.yaml").models[0]
    kv = model.alerts["LLMKVCacheNearFull"]
    assert (kv.severity, kv.keep_firing_for, dict(kv.labels)) == ("info", "10m", {"a": "1", "b": "2"})
    assert not model.alert_enabled("LLMModelDown") and model.alert_enabled("LLMKVCacheNearFull")
    assert model.severity_labels == {"critical": (("pager", "oncall"),)}


def test_the_slo_policy_defaults_to_the_four_workbook_tiers_and_can_be_replaced():
    default = inventory.parse(MINIMAL, "inv.yaml").slo_policy
    assert default.period == "30d"
    assert [(t.severity, t.long, t.short, str(t.factor)) for t in default.tiers] == [
        ("critical", "1h", "5m", "14.4"), ("critical", "6h", "30m", "6"), ("warning", "1d", "2h", "3"),
        ("warning", "3d", "6h", "1")]
    text = edit("teams:\n", "slo_policy:\n  period: 28d\n  tiers:\n    - {severity: critical, long: 1h, short: 5m, "
                              "factor: 13.4, for: 2m}\nteams:\n")
    custom = inventory.parse(text, "inv.yaml").slo_policy
    assert custom.period == "28d" and [t.long for t in custom.tiers] == ["1h"]


def write(tmp_path, data: bytes):
    path = tmp_path / "inventory.yaml"
    path.write_bytes(data)
    return path


ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdef", "bcdefg", strict=True))
FILES = [
    pytest.param(MINIMAL.replace("org/small", "caf\xe9").encode("latin-1"), 16, "not UTF-8", id="Latin-1"),
    pytest.param(MINIMAL.encode("utf-16"), 1, "the file is UTF-16", id="UTF-16"),
    pytest.param(MINIMAL.replace("org/small", "org\x01small").encode(), 16, "U+0001 is not allowed",
                 id="a raw control character"),
    pytest.param((MINIMAL + "x: " + "[" * 20000 + "]" * 20000 + "\n").encode(), 23,
                 f"nested more than {located_yaml.MAX_DEPTH} levels deep (the limit)", id="20,000 nested brackets"),
    pytest.param(ALIAS_BOMB.encode(), 1, f"more than {located_yaml.MAX_VALUES:,} values (the limit",
                 id="an alias bomb"),
    pytest.param(b"#" * (located_yaml.MAX_BYTES + 1), None, "larger than the limit of 8 MiB", id="a huge file"),
]


@pytest.mark.parametrize("data,line,words", FILES)
def test_a_file_no_yaml_reader_should_take_is_a_located_error(tmp_path, data, line, words):
    with pytest.raises(InventoryError) as caught:
        inventory.load(write(tmp_path, data))
    assert caught.value.line == line and words in caught.value.message, str(caught.value)


def test_a_duplicate_key_is_reported_beside_every_other_error():
    text = edit("version: 1", "version: 1\nversion: 1").replace("engine: vllm", "engine: vlm")
    messages = [str(e) for e in errors_of(text)]
    assert any("duplicate key 'version'" in m for m in messages) and any("unknown engine" in m for m in messages)


@pytest.mark.parametrize("data", [b[1] for b in BAD[-17:]] + [p.values[0] for p in FILES[:5]])
def test_cli_gives_exit_1_and_writes_nothing_for_every_bad_input(tmp_path, capsys, data):
    path = write(tmp_path, data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    assert main(["generate", "--inventory", str(path), "--output", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and str(path) in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("block,path,words", [
    ("cost: {gpu_hour: {L4: -2}}", "cost.gpu_hour.L4", ["greater than 0", "-2"]),
    ("cost: {gpu_hour: {L4: cheap}}", "cost.gpu_hour.L4", ["expected a number"]),
    ("cost: {gpu_hour: {T4: 0.5}}", "cost.gpu_hour.T4", ["no model runs GPU type 'T4'", "L4"]),
    ("cost: {gpu_hour: 3}", "cost.gpu_hour", ["expected a mapping"]),
    ("cost: {per_gpu: {L4: 1}}", "cost.per_gpu", ["unknown key 'per_gpu'"]),
], ids=["negative", "not a number", "unknown GPU type", "not a mapping", "unknown key"])
def test_a_bad_gpu_hour_price_is_a_located_error(block, path, words):
    text = MINIMAL.rstrip("\n") + "\n" + block + "\n"
    errors = [e for e in errors_of(text) if e.path == path]
    assert errors, [str(e) for e in errors_of(text)]
    assert errors[0].line == text.count("\n") and all(w in errors[0].message for w in words), str(errors[0])


def test_gpu_hour_prices_are_read_per_gpu_type():
    parsed = inventory.parse(MINIMAL.rstrip("\n") + "\ncost:\n  gpu_hour: {L4: 0.7}\n", "inv.yaml")
    assert parsed.gpu_hour_price("L4") == Decimal("0.7") and parsed.gpu_hour_price("H100") is None
    assert inventory.parse(MINIMAL, "inv.yaml").gpu_hour_prices == ()


@pytest.mark.parametrize("value, expected", [
    ("0.5", "0.47 s below and 1 s above"), ("0.0001", "none below and 0.0022 s above"),
    ("600", "480 s below and none above (it is past the highest bound)")])
def test_an_off_bucket_threshold_names_the_bound_on_each_side(value, expected):
    from generator.catalog.dynamo import TTFT_LOG
    from generator.slo_buckets import nearest
    assert nearest(Decimal(value), [b for b in TTFT_LOG if b > 0], "s") == expected
