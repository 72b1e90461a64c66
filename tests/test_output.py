"""Generated output: golden, deterministic, written atomically, stale files removed, `check` catches drift."""
import errno
import fcntl
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from generator import inventory, json_out, output, yaml_out
from generator.build import OUTPUT_DIRS, build
from generator.cli import main
from generator.conventions import GENERATED_HEADER
from generator.dashboards import build_dashboards

from conftest import ROOT, built, load_yaml_all

GOLDEN = ROOT / "tests" / "golden"


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for d in OUTPUT_DIRS if (root / d).is_dir() for p in sorted((root / d).rglob("*")) if p.is_file()}


def test_the_golden_tree_is_what_the_small_inventory_generates():
    small = inventory.load(GOLDEN / "inventory.yaml")
    files = build(small)
    golden = tree(GOLDEN)
    assert sorted(golden) == sorted(files), "run `make golden` and review the diff"
    for rel, content in files.items():
        assert golden[rel] == content.encode(), f"{rel} differs: run `make golden` and review the diff"
    assert (GOLDEN / output.MANIFEST).read_bytes() == output.manifest_bytes(output.encode(files), small.digest())


def test_the_inventory_digest_ignores_comments_layout_and_path_but_not_a_value():
    text = (GOLDEN / "inventory.yaml").read_text()
    digest = inventory.parse(text, "a.yaml").digest()
    assert inventory.parse("# a comment\n" + text.replace(": ", ":   "), "elsewhere/b.yaml").digest() == digest
    assert inventory.parse(text.replace("objective: 0.95", "objective: 0.96", 1), "a.yaml").digest() != digest


def test_the_committed_output_is_what_the_example_inventory_generates():
    assert main(["check", "--inventory", str(ROOT / "inventory.yaml"), "--output", str(ROOT)]) == 0


def test_generating_twice_gives_byte_identical_trees(tmp_path):
    for out in ("a", "b"):
        assert main(["generate", "--inventory", str(ROOT / "inventory.yaml"), "--output", str(tmp_path / out)]) == 0
    first, second = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert first and first == second


def test_a_second_generate_rewrites_nothing(tmp_path, capsys):
    args = ["generate", "--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(tmp_path)]
    main(args)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(args) == 0
    assert "0 written" in capsys.readouterr().out
    assert before == {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}


def one_model_inventory(tmp_path: Path) -> Path:
    """The golden inventory without its second model (`trt`)."""
    text = (GOLDEN / "inventory.yaml").read_text()
    path = tmp_path / "one.yaml"
    path.write_text(text[:text.index("  - name: trt")])
    return path


def test_files_of_a_removed_model_are_removed_and_foreign_files_kept(tmp_path):
    out = tmp_path / "out"
    main(["generate", "--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(out)])
    foreign = out / "dashboards" / "hand-made.json"
    foreign.write_text("{}")
    assert main(["generate", "--inventory", str(one_model_inventory(tmp_path)), "--output", str(out)]) == 0
    assert not (out / "alerts" / "trt.rules.yaml").exists()
    assert not (out / "alerts" / "tests" / "trt.test.yaml").exists()
    assert foreign.read_text() == "{}"
    assert tree(out) == {**{k: v.encode() for k, v in build(inventory.load(one_model_inventory(tmp_path))).items()},
                         "dashboards/hand-made.json": b"{}"}


def test_files_generate_did_not_write_survive_even_when_they_quote_the_header(tmp_path):
    """A README quoting the header, a tweaked copy in a subfolder, a copy of a rule file: not ours, kept."""
    out = tmp_path / "out"
    args = ["generate", "--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(out)]
    assert main(args) == 0
    readme = out / "alerts" / "README.md"
    readme.write_text(f"<!-- {GENERATED_HEADER} -->\nThe header above is what generated files start with.\n")
    copy = out / "dashboards" / "mine" / "llm-model-chat.json"
    copy.parent.mkdir()
    copy.write_text(next((out / "dashboards").rglob("llm-model-chat.json")).read_text().replace("LLM model", "My model"))
    old_copy = out / "alerts" / "old.rules.yaml"
    old_copy.write_bytes((out / "alerts" / "chat.rules.yaml").read_bytes())
    before = {p: p.read_bytes() for p in (readme, copy, old_copy)}
    assert main(args) == 0
    assert main(["generate", "--inventory", str(one_model_inventory(tmp_path)), "--output", str(out)]) == 0
    assert {p: p.read_bytes() for p in (readme, copy, old_copy)} == before


def test_an_edited_file_no_longer_generated_is_kept(tmp_path, capsys):
    out = tmp_path / "out"
    main(["generate", "--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(out)])
    edited = out / "alerts" / "trt.rules.yaml"
    edited.write_text(edited.read_text() + "# my note\n")
    capsys.readouterr()
    assert main(["generate", "--inventory", str(one_model_inventory(tmp_path)), "--output", str(out)]) == 0
    assert edited.read_text().endswith("# my note\n")
    assert "alerts/trt.rules.yaml is no longer generated but was edited" in capsys.readouterr().err


def test_a_symlink_out_of_the_output_folder_is_refused_and_nothing_outside_touched(tmp_path, capsys):
    shared = tmp_path / "provisioning"
    shared.mkdir()
    theirs = shared / "someone-elses.json"
    theirs.write_text(f'{{"description": "{GENERATED_HEADER}"}}')
    out = tmp_path / "out"
    out.mkdir()
    (out / "dashboards").symlink_to(shared)
    capsys.readouterr()
    assert main(["generate", "--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert "outside the output folder" in err and "Traceback" not in err
    assert sorted(p.name for p in shared.iterdir()) == ["someone-elses.json"]
    assert not (out / "alerts").exists() and not (out / output.MANIFEST).exists()
    assert main(["check", "--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(out)]) == 1


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file and folder under root (temporary files and the journal included)."""
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("phase,fail_at", [("stage", 1), ("stage", 7), ("swap", 1), ("swap", 4), ("swap", 9),
                                           ("remove", 1)])
def test_a_failure_at_any_point_of_writing_leaves_the_previous_tree_byte_identical(tmp_path, monkeypatch,
                                                                                 phase, fail_at):
    """Generate the two-model tree, then a changed one-model tree with a fault injected into one system call."""
    out = tmp_path / "out"
    main(["generate", "--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(out)])
    smaller = one_model_inventory(tmp_path)
    smaller.write_text(smaller.read_text().replace("kv_cache_usage: 0.9", "kv_cache_usage: 0.8"))
    before = snapshot(out)
    real = {"stage": tempfile.mkstemp, "swap": os.replace, "remove": os.unlink}[phase]
    calls = []

    def faulty(*args, **kwargs):
        calls.append(args)
        if len(calls) == fail_at:
            raise OSError(errno.EIO, "injected I/O error", str(args[0] if args else kwargs.get("dir")))
        return real(*args, **kwargs)

    target = {"stage": (output.tempfile, "mkstemp"), "swap": (output.os, "replace"),
              "remove": (output.os, "unlink")}[phase]
    monkeypatch.setattr(*target, faulty)
    assert main(["generate", "--inventory", str(smaller), "--output", str(out)]) == 1
    monkeypatch.undo()
    assert len(calls) >= fail_at, "the fault was never reached"
    assert snapshot(out) == before
    assert main(["check", "--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(out)]) == 0


def test_a_run_killed_half_way_is_refused_by_check_and_completed_by_generate(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["--inventory", str(one_model_inventory(tmp_path)), "--output", str(out)]
    main(["generate", *args])
    # As a run of the two-model inventory leaves it when killed after writing one file: that file and its journal.
    files = built(GOLDEN / "inventory.yaml")
    written = out / "alerts" / "trt.rules.yaml"
    written.write_text(files["alerts/trt.rules.yaml"])
    digest = hashlib.sha256(written.read_bytes()).hexdigest()
    (out / output.JOURNAL).write_text(json.dumps({"files": {"alerts/trt.rules.yaml": digest}}))
    capsys.readouterr()
    assert main(["check", *args]) == 1
    assert "interrupted" in capsys.readouterr().err
    assert main(["generate", *args]) == 0
    assert not written.exists() and not (out / output.JOURNAL).exists()
    assert main(["check", *args]) == 0


def test_a_run_into_a_folder_another_run_is_writing_fails_clearly(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        capsys.readouterr()
        assert main(["generate", "--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(out)]) == 1
        assert "another `generate` is writing" in capsys.readouterr().err
    finally:
        os.close(fd)
    assert list(out.iterdir()) == []


def test_concurrent_runs_of_two_inventories_never_leave_a_mixed_tree(tmp_path):
    one = one_model_inventory(tmp_path)
    expected = [{k: v.encode() for k, v in build(inventory.load(path)).items()}
                for path in (GOLDEN / "inventory.yaml", one)]
    for attempt in range(3):
        out = tmp_path / f"out{attempt}"
        runs = [subprocess.Popen([sys.executable, "-m", "generator", "generate", "--inventory", str(path),
                                  "--output", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for path in (GOLDEN / "inventory.yaml", one)]
        codes = [run.wait(timeout=120) for run in runs]
        assert set(codes) <= {0, 1} and 0 in codes
        assert tree(out) in expected, "the tree matches neither inventory"
        assert not (out / output.JOURNAL).exists()


def test_a_lone_surrogate_is_an_error_before_anything_is_written(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(output.OutputError, match=r"alerts/b.rules.yaml:2: .*not valid Unicode"):
        output.write({"alerts/a.rules.yaml": "fine\n", "alerts/b.rules.yaml": "x\ny\ud800\n"}, out, OUTPUT_DIRS)
    assert not (out / "alerts").exists()


def test_no_temporary_files_are_left_behind(tmp_path):
    main(["generate", "--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(tmp_path)])
    assert [p.name for p in tmp_path.rglob(".*") if p.is_file()] == [output.MANIFEST]


@pytest.mark.parametrize("edit", ["change", "delete", "model-removed"])
def test_check_fails_with_a_diff_when_the_output_is_stale(tmp_path, capsys, edit):
    args = ["--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(tmp_path)]
    main(["generate", *args])
    rules = tmp_path / "alerts" / "chat.rules.yaml"
    if edit == "change":
        rules.write_text(rules.read_text().replace("> 0.9", "> 0.8"))
    elif edit == "delete":
        rules.unlink()
    else:
        args = ["--inventory", str(one_model_inventory(tmp_path)), "--output", str(tmp_path)]  # trt is stale
    capsys.readouterr()
    assert main(["check", *args]) == 1
    out = capsys.readouterr()
    assert "stale" in out.err
    assert "--- " in out.out and "+++ " in out.out


def test_every_generated_file_is_marked_as_generated():
    for rel, content in built(GOLDEN / "inventory.yaml").items():
        assert "Do not edit" in content[:2000], rel


KILLED_MID_SWAP = """
import os, signal, sys
from generator import output
from generator.cli import main
real, calls = os.replace, []
def replace(*args):
    calls.append(args)
    if len(calls) == int(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9 between two renames
    return real(*args)
output.os.replace = replace
main(["generate", "--inventory", sys.argv[2], "--output", sys.argv[3]])
"""


@pytest.mark.parametrize("killed_at", [1, 5])
def test_a_real_kill_9_mid_write_is_caught_by_check_and_a_rerun_converges(tmp_path, capsys, killed_at):
    out = tmp_path / "out"
    assert main(["generate", "--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(out)]) == 0
    smaller = one_model_inventory(tmp_path)
    smaller.write_text(smaller.read_text().replace("kv_cache_usage: 0.9", "kv_cache_usage: 0.8"))
    killed = subprocess.run([sys.executable, "-c", KILLED_MID_SWAP, str(killed_at), str(smaller), str(out)],
                            cwd=ROOT, capture_output=True, timeout=120)
    assert killed.returncode == -9
    assert (out / output.JOURNAL).exists()
    capsys.readouterr()
    for path in (GOLDEN / "inventory.yaml", smaller):
        assert main(["check", "--inventory", str(path), "--output", str(out)]) == 1
        assert "interrupted" in capsys.readouterr().err
    # A rerun of either inventory converges; here the other one, so the killed run's new files must go too.
    assert main(["generate", "--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(out)]) == 0
    assert tree(out) == {k: v.encode() for k, v in built(GOLDEN / "inventory.yaml").items()}
    assert not (out / output.JOURNAL).exists()
    assert main(["check", "--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(out)]) == 0


@pytest.mark.parametrize("manifest", ["{", "[]", '{"files": {"../../etc/passwd": "' + "0" * 64 + '"}}',
                                      '{"files": {"alerts/a.yaml": 5}}'])
def test_a_damaged_manifest_is_a_clear_error_and_nothing_is_touched(tmp_path, capsys, manifest):
    out = tmp_path / "out"
    args = ["--inventory", str(one_model_inventory(tmp_path)), "--output", str(out)]
    main(["generate", "--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(out)])
    (out / output.MANIFEST).write_text(manifest)
    before = snapshot(out)
    capsys.readouterr()
    assert main(["generate", *args]) == 1
    err = capsys.readouterr().err
    assert output.MANIFEST in err and "Traceback" not in err
    assert snapshot(out) == before


def test_dump_writes_pyyamls_own_bytes_for_every_generated_yaml_file():
    """`yaml_out.dump` lays out the blocks itself: the bytes are those of PyYAML's own (pure-Python) emitter,
    whether or not libyaml is installed."""
    files = built(ROOT / "inventory.yaml")
    files.update(built(GOLDEN / "inventory.yaml"))
    compared = 0
    for rel, text in sorted(files.items()):
        if rel.endswith((".yaml", ".yml")):
            for document in load_yaml_all(text):
                assert yaml_out.dump(document) == yaml_out.dump(document, yaml_out.PURE_PYTHON), rel
                compared += 1
    assert compared > 50 and yaml_out.dump({"a": "x\ny"}) == yaml_out.dump({"a": "x\ny"}, yaml_out.PURE_PYTHON)


def _unusual(rng: random.Random, depth: int = 0):
    """A value with the strings PyYAML quotes, escapes or writes as blocks, and nesting of every kind."""
    pieces = [*"ab :#-'\"\\?{}[]*&!|>%@`,01.e+~=_()/\n\t", "null", "true", "No", "0x1f", "1e3", "---", "...",
              "2024-01-01", "<<", "é", "\x85", "\u2028", "\ufeff", "\x00", "😀", "  ", "\n\n"]

    def text():
        return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))

    roll = rng.random()
    if depth < 3 and roll < 0.2:
        return {text(): _unusual(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    if depth < 3 and roll < 0.35:
        return [_unusual(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if roll < 0.42:
        return rng.choice([None, True, False, 0, -1, 10 ** 20, 1.5, 1e20, -0.0, float("inf"), float("nan")])
    return text() * rng.choice([1, 1, 1, 60])


def test_dump_writes_pyyamls_own_bytes_for_unusual_documents():
    rng = random.Random(13)
    compared = 0
    for _ in range(5000):
        document = ({_unusual(rng, 3): _unusual(rng) for _ in range(rng.randint(1, 4))} if rng.random() < 0.8
                    else [_unusual(rng) for _ in range(rng.randint(1, 3))])
        try:
            expected = yaml_out.dump(document, yaml_out.PURE_PYTHON)
        except yaml.YAMLError:  # a key PyYAML cannot write (a float nan, say): dump raises the same
            with pytest.raises(yaml.YAMLError):
                yaml_out.dump(document)
            continue
        assert yaml_out.dump(document) == expected, repr(document)
        compared += 1
    assert compared > 4000


def test_dashboard_files_are_json_dumps_byte_for_byte():
    dashboards = [*build_dashboards(inventory.load(ROOT / "inventory.yaml")).values(),
                  *build_dashboards(inventory.load(GOLDEN / "inventory.yaml")).values()]
    rng = random.Random(13)
    values = [*dashboards, *(_unusual(rng) for _ in range(3000)), {"k": (1, 2.5)}, {"a": {1, 2}}, {1: "x", "b": 2},
              {True: None}, {"\ud800": float("-inf")}]
    for value in values:
        try:
            expected = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
        except TypeError:
            with pytest.raises(TypeError):
                json_out.indented(value)
            continue
        assert json_out.indented(value) == expected, repr(value)
