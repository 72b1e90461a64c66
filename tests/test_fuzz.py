"""Property-based fuzzing (hypothesis) of everything a user hands the tool, within a fixed budget.

- Inventories: a valid one with values replaced, keys dropped or added, or its text damaged. `generate` exits
  0 with output promtool accepts and validate finds no error in, or exits 1 with a located message and writes
  nothing; never a traceback.
- Rule files and dashboards: the generated ones with values replaced or text damaged. `validate` exits 0 or 1
  and never crashes.

Derandomized, so CI runs the same examples every time; `FUZZ_SCALE=20` runs twenty times as many, at random.
"""
from __future__ import annotations

import copy
import json
import os
import shutil

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from generator.cli import main
from generator.validate import ERROR, validate

from conftest import ROOT, built, run_promtool

GOLDEN = ROOT / "tests" / "golden"
BASE = yaml.safe_load((GOLDEN / "inventory.yaml").read_text())
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))  # e.g. FUZZ_SCALE=20 for a longer hunt


def budget(examples: int):
    """About 15 s per test at the default scale (each example runs generate or validate, and promtool)."""
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None, derandomize=SCALE == 1,
                    database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

TRICKY_TEXT = ["", " ", "{{ $value }}", "}}", "{{", "`", "```", "a\"b", "a\\b", "\\", "${x}", "$labels", "5s5m", "0s",
               "1h", "99999999999999y", "__name__", "le", "model", "namespace", "ensemble", "org/m.v2", "[x](y)",
               "# h", "<b>", "\u00e9", "\u4e2d", "\U0001F600", "\ud800", "\x00", "\x1b[31m", "a\nb", "\u202e", "x" * 2000,
               "https://x.test/{{ $labels.a }}", "http://a b", ".*", "(", "0.1", "1e309", "true", "null"]
NUMBERS = [0, -1, 1, 2, 0.5, 0.95, 0.999999, 1.0000001, 1e-300, 1e300, float("nan"), float("inf"), -float("inf"),
           10 ** 30, 1000, 1001, 600, 50, 0.1, 0.25, 30]
VALUES = st.one_of(
    st.sampled_from(TRICKY_TEXT), st.sampled_from(NUMBERS), st.text(max_size=12), st.integers(-5, 2000),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(),
    st.lists(st.sampled_from(NUMBERS), max_size=4), st.dictionaries(st.sampled_from(TRICKY_TEXT), st.sampled_from(
        TRICKY_TEXT + ["5m"]), max_size=2),
)


def paths(node, prefix=()):
    """Every key path into a document, containers included."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths(value, (*prefix, i))


def mutate(doc, data) -> object:
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        path = data.draw(st.sampled_from([p for p in paths(doc) if p]), label="path")
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["replace", "replace", "replace", "drop", "add"]), label="action")
        if action == "drop":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(st.sampled_from(TRICKY_TEXT + ["alerts", "owner", "labels", "buckets"]))] = \
                data.draw(VALUES)
        else:
            parent[path[-1]] = data.draw(VALUES, label="value")
        if not doc:
            break
    return doc


READABLE = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30)
# Leaves where a user writes free text or numbers: changes here are mostly accepted, so promtool and validate
# see the output.
PLAUSIBLE = {
    ("models", 0, "served_name"): st.one_of(READABLE, st.sampled_from(TRICKY_TEXT)),
    ("models", 1, "served_name"): READABLE,
    ("models", 0, "namespace"): READABLE,
    ("models", 0, "gpu", "type"): READABLE,
    ("models", 1, "pod_regex"): st.sampled_from([".*", "trt-[0-9]+", "a(?=b)", "x{2,}", "(?P<n>x)", "\\d+", "a|b",
                                                  "(a)\\1", "[[:alpha:]]+", "\\Qa.b\\E", "(?i)trt"]),
    ("teams", "infra", "folder"): READABLE,
    ("teams", "infra", "labels", "team"): READABLE,
    ("multi_cluster", "label"): st.one_of(READABLE, st.sampled_from(["region", "k8s_cluster", "namespace"])),
    ("multi_cluster", "where"): st.sampled_from(["series", "external", "both"]),
    ("defaults", "thresholds", "queue_depth"): st.floats(0.001, 1e9),
    ("defaults", "thresholds", "kv_cache_usage"): st.floats(0.001, 1),
    ("defaults", "thresholds", "cold_start_seconds"): st.one_of(st.integers(1, 10 ** 9), st.floats(1, 1e6)),
    ("models", 0, "replicas", "min"): st.integers(0, 4),
    ("grafana_url",): st.sampled_from(["https://g.test/a b", "https://g.test/(x)", "https://g.test/\u00e9",
                                       "https://g.test/%7B%7B", "http://[::1]:3000/g"]),
}


def plausible(doc, data) -> object:
    doc = copy.deepcopy(doc)
    for path in data.draw(st.lists(st.sampled_from(sorted(PLAUSIBLE, key=str)), min_size=1, max_size=4,
                                   unique=True), label="leaves"):
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = data.draw(PLAUSIBLE[path], label=str(path))
    return doc


def damage(text: str, data) -> str:
    """Text-level damage: a slice removed, repeated, or replaced by characters YAML readers choke on."""
    i = data.draw(st.integers(0, len(text)), label="at")
    j = data.draw(st.integers(i, min(len(text), i + 40)), label="to")
    insert = data.draw(st.sampled_from(["", "\t", "[", "{", ":", "&a ", "*a", "!!python/object:os.system ", "\x00",
                                        "\ufeff", "- ", "\n  ", text[i:j] * 3, "'", "\"", "%YAML 1.1\n", "<<: *a\n"]))
    return text[:i] + insert + text[j:]


def dumped(doc) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1 << 16)


@budget(25)
@given(data=st.data())
def test_generate_exits_0_with_valid_output_or_1_with_a_located_error(tmp_path_factory, capsys, promtool, data):
    work = tmp_path_factory.mktemp("fuzz")
    how = data.draw(st.sampled_from(["plausible", "plausible", "mutate", "damage"]), label="how")
    if how == "damage":
        text = damage(dumped(BASE), data)
    else:
        text = dumped((plausible if how == "plausible" else mutate)(BASE, data))
    source = work / "inventory.yaml"
    source.write_bytes(text.encode("utf-8", "surrogatepass"))
    out = work / "out"
    capsys.readouterr()
    code = main(["generate", "--inventory", str(source), "--output", str(out)])
    err = capsys.readouterr().err
    assert code in (0, 1), err
    assert "Traceback" not in err
    event(f"generate exit {code}")
    if code == 1:
        assert str(source) in err, err  # located: the file, then line and key where there is one
        assert not out.exists(), "nothing is written on exit 1"
        return
    rules = sorted(str(p) for p in (out / "alerts").glob("*.rules.yaml"))
    checked = run_promtool(promtool, "check", "rules", *rules)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    findings = [f for f in validate(source, out) if f.severity >= ERROR]
    assert not findings, "\n".join(str(f) for f in findings)
    shutil.rmtree(work)


SHIPPED = built(GOLDEN / "inventory.yaml")
RULES = "alerts/chat.rules.yaml"
BOARD = next(rel for rel in SHIPPED if rel.endswith("/llm-model-chat.json"))  # dashboards/<folder>/


@budget(20)
@given(data=st.data())
def test_validate_never_crashes_on_damaged_rule_files_and_dashboards(tmp_path_factory, capsys, data):
    work = tmp_path_factory.mktemp("fuzz")
    for rel, content in SHIPPED.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(content)
    shutil.copy(GOLDEN / "inventory.yaml", work / "inventory.yaml")
    rel = data.draw(st.sampled_from([RULES, BOARD]), label="file")
    if data.draw(st.booleans(), label="damage the text"):
        text = damage(SHIPPED[rel], data)
    elif rel == RULES:
        text = dumped(mutate(yaml.safe_load(SHIPPED[rel]), data))
    else:
        text = json.dumps(mutate(json.loads(SHIPPED[rel]), data), ensure_ascii=False)
    (work / rel).write_bytes(text.encode("utf-8", "surrogatepass"))
    capsys.readouterr()
    code = main(["validate", "--inventory", str(work / "inventory.yaml"), "--output", str(work)])
    err = capsys.readouterr().err
    assert code in (0, 1) and "Traceback" not in err, err
    shutil.rmtree(work)
