"""pre-commit itself runs this repository's hooks on a fresh repository holding the example inventory.

The hook repository is this working tree (committed files plus uncommitted changes) as a Git repository
of its own; pre-commit installs it into a virtualenv from PyPI as it would for a user (about a minute).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ("llm-observability-check", "llm-observability-validate")
GIT_ENV = {"GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.com", "GIT_COMMITTER_NAME": "test",
           "GIT_COMMITTER_EMAIL": "test@example.com"}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **GIT_ENV})
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> tuple[Path, str]:
    """This working tree as a Git repository of its own, and its commit."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for rel in git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0"):
        source = ROOT / rel
        if rel and source.is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / rel)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "snapshot")
    return repo, git(repo, "rev-parse", "HEAD").strip()


def try_repo(hook_repo: tuple[Path, str], consumer: Path, home: Path) -> subprocess.CompletedProcess:
    repo, ref = hook_repo
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(repo), "--ref", ref, "--all-files"],
                          cwd=consumer, capture_output=True, text=True, timeout=900,
                          env={**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home)})


def test_the_hooks_offered_are_the_drift_check_and_validate():
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == set(HOOKS)
    assert hooks["llm-observability-check"]["entry"] == "llm-observability check"
    assert hooks["llm-observability-validate"]["entry"] == "llm-observability validate"
    assert all(h["language"] == "python" and h["pass_filenames"] is False for h in hooks.values())


def test_the_hooks_pass_on_current_output_and_the_drift_check_fails_once_the_inventory_changes(
        hook_repo, tmp_path):
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    shutil.copy(ROOT / "inventory.yaml", consumer / "inventory.yaml")
    generated = subprocess.run([sys.executable, "-m", "generator", "generate"], cwd=consumer, capture_output=True,
                               text=True, timeout=120)
    assert generated.returncode == 0, generated.stderr
    git(consumer, "init", "-q")
    git(consumer, "add", "-A")
    git(consumer, "commit", "-q", "-m", "inventory and its output")

    green = try_repo(hook_repo, consumer, tmp_path / "pre-commit-home")
    assert green.returncode == 0, green.stdout[-4000:] + green.stderr[-2000:]
    assert green.stdout.count("Passed") == 2

    inventory = consumer / "inventory.yaml"
    inventory.write_text(inventory.read_text().replace("queue_depth: 100", "queue_depth: 120"))
    git(consumer, "add", "inventory.yaml")  # pre-commit stashes unstaged changes
    red = try_repo(hook_repo, consumer, tmp_path / "pre-commit-home")
    assert red.returncode == 1, red.stdout[-4000:]
    assert "generated dashboards, rules and manifests are current" in red.stdout
    assert "Failed" in red.stdout and "are stale" in red.stdout
    assert "> 120" in red.stdout  # the diff shows the queue alert the new threshold changes
    assert "validate dashboards, rules and manifests" in red.stdout
