"""The command line for CI: --version, and --format json for generate and check."""
from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

import pytest

from generator.cli import main

from conftest import ROOT

GOLDEN_INVENTORY = str(ROOT / "tests" / "golden" / "inventory.yaml")


def test_version_names_the_installed_distribution(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"llm-observability {metadata.version('llm-observability-generator')}"


def test_the_console_script_answers_version():
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "llm-observability"), "--version"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("llm-observability ")


def test_generate_reports_what_it_wrote_as_json(tmp_path, capsys):
    args = ["generate", "--inventory", GOLDEN_INVENTORY, "--output", str(tmp_path), "--format", "json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["ok"] is True and first["files"] == len(first["written"]) > 0
    assert "kubernetes/kustomization.yaml" in first["written"]
    (tmp_path / "alerts" / "chat.rules.yaml").write_text("stale")
    assert main(args) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["written"] == ["alerts/chat.rules.yaml"] and second["unchanged"] == first["files"] - 1


def test_check_as_json_lists_every_stale_file(tmp_path, capsys):
    args = ["--inventory", GOLDEN_INVENTORY, "--output", str(tmp_path)]
    main(["generate", *args])
    capsys.readouterr()
    assert main(["check", *args, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) | {"files": 0} == {"ok": True, "files": 0, "stale": [], "diff": ""}
    rules = tmp_path / "alerts" / "chat.rules.yaml"
    rules.write_text(rules.read_text().replace("> 0.9", "> 0.8"))
    (tmp_path / "kubernetes" / "configmap" / "llm-model-trt.yaml").unlink()
    (tmp_path / "alerts" / "old.rules.yaml").write_text(rules.read_text())
    assert main(["check", *args, "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    # alerts/old.rules.yaml was not written by generate (not in its manifest): not its to call stale.
    assert report["stale"] == ["alerts/chat.rules.yaml", "kubernetes/configmap/llm-model-trt.yaml"]
    assert "+++ b/alerts/chat.rules.yaml" in report["diff"]


def test_a_bad_inventory_is_a_json_error_too(tmp_path, capsys):
    bad = tmp_path / "inventory.yaml"
    bad.write_text((ROOT / "tests" / "golden" / "inventory.yaml").read_text().replace("engine: vllm", "engine: vlm"))
    assert main(["check", "--inventory", str(bad), "--output", str(tmp_path), "--format", "json"]) == 1
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["ok"] is False
    [error] = report["errors"]
    assert error["file"] == str(bad) and error["path"] == "models[0].engine" and isinstance(error["line"], int)
    assert "unknown engine 'vlm'" in error["message"] and "unknown engine 'vlm'" in out.err


def test_python_dash_m_generator_is_the_same_command():
    done = subprocess.run([sys.executable, "-m", "generator", "check", "--inventory", GOLDEN_INVENTORY,
                           "--output", str(ROOT / "tests" / "golden"), "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True
