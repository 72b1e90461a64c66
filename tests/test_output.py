"""Generated output: golden, deterministic, written atomically, stale files removed, `check` catches drift."""
from pathlib import Path

import pytest

from conftest import ROOT
from generator import inventory
from generator.build import OUTPUT_DIRS, build
from generator.cli import main

GOLDEN = ROOT / "tests" / "golden"


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for d in OUTPUT_DIRS if (root / d).is_dir() for p in sorted((root / d).rglob("*")) if p.is_file()}


def test_the_golden_tree_is_what_the_small_inventory_generates():
    files = build(inventory.load(GOLDEN / "inventory.yaml"))
    golden = tree(GOLDEN)
    assert sorted(golden) == sorted(files), "run `make golden` and review the diff"
    for rel, content in files.items():
        assert golden[rel] == content.encode(), f"{rel} differs: run `make golden` and review the diff"


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


def test_stale_generated_files_are_removed_and_foreign_files_kept(tmp_path):
    args = ["generate", "--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(tmp_path)]
    main(args)
    stale = tmp_path / "alerts" / "removed-model.rules.yaml"
    stale.write_text((tmp_path / "alerts" / "chat.rules.yaml").read_text())
    foreign = tmp_path / "dashboards" / "hand-made.json"
    foreign.write_text("{}")
    main(args)
    assert not stale.exists()
    assert foreign.exists()


def test_no_temporary_files_are_left_behind(tmp_path):
    main(["generate", "--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(tmp_path)])
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]


@pytest.mark.parametrize("edit", ["change", "delete", "add"])
def test_check_fails_with_a_diff_when_the_output_is_stale(tmp_path, capsys, edit):
    args = ["--inventory", str(GOLDEN / "inventory.yaml"), "--output", str(tmp_path)]
    main(["generate", *args])
    rules = tmp_path / "alerts" / "chat.rules.yaml"
    if edit == "change":
        rules.write_text(rules.read_text().replace("> 0.9", "> 0.8"))
    elif edit == "delete":
        rules.unlink()
    else:
        (tmp_path / "alerts" / "old.rules.yaml").write_text(rules.read_text())
    capsys.readouterr()
    assert main(["check", *args]) == 1
    out = capsys.readouterr()
    assert "stale" in out.err
    assert "--- " in out.out and "+++ " in out.out


def test_every_generated_file_is_marked_as_generated():
    for rel, content in build(inventory.load(GOLDEN / "inventory.yaml")).items():
        assert "Do not edit" in content[:2000], rel
