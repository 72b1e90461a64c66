"""Print the requests and wall time of publishing 10, 100 and 1,000 dashboards to the Grafana test double.

For each size: a first publish (everything created), a no-op publish (nothing changed)
and a one-change publish (one dashboard regenerated differently). The dashboards are
copies of a real generated model dashboard spread over five team folders. Requests are
counted by the double, so retries would show.

Then the command as CI runs it after `generate`: `python -m generator publish` in a fresh
process, for an inventory of 1,000 models whose dashboards were written as generate writes
them (copies of the example's model dashboard under each model's uid, with the manifest),
first publish and no-op, wall time including the interpreter's start.

Then the no-op's parts: starting Python with the imports `publish` needs, reading the inventory, reading and
hashing the dashboard files, and the requests with the plan.

Run on demand: `.venv/bin/python benchmarks/publish.py` (`--command`: only the 1,000-model command).
Not a test: it asserts nothing.
Grafana cannot be installed here; against a real Grafana each request costs more.
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from generator import conventions as c  # noqa: E402
from generator import inventory, output  # noqa: E402
from generator.build import OUTPUT_DIRS  # noqa: E402
from generator.dashboards import build_dashboards  # noqa: E402
from generator.grafana_facts import dashboard_json  # noqa: E402
from generator.publish import config, desired  # noqa: E402
from generator.publish.grafana import Grafana  # noqa: E402
from generator.publish.publisher import publish  # noqa: E402

from grafana_double import EDITOR, GrafanaDouble  # noqa: E402

TOKEN = "glsa_benchmark_token"
TEAMS = 5


def synthetic(count: int, changed: int | None = None) -> desired.Bundle:
    """`count` copies of a model dashboard; `changed` is the index of one whose content differs."""
    template = next(b for b in build_dashboards(inventory.load(ROOT / "inventory.yaml")).values()
                    if b["uid"].startswith("llm-model-"))
    pairs = []
    for i in range(count):
        board = copy.deepcopy(template)
        board.update(uid=f"bench-{i:04d}", title=f"Benchmark model {i:04d}")
        if i == changed:
            board["description"] += " Changed."
        pairs.append((board, desired.Folder(f"bench-team-{i % TEAMS}", f"Team {i % TEAMS}")))
    return desired.bundle(pairs, "benchmark")


def measure(double: GrafanaDouble, bundle: desired.Bundle) -> tuple[int, int, float, str]:
    settings = config.from_env({"GRAFANA_URL": double.url, "GRAFANA_TOKEN": TOKEN})
    double.clear_log()
    started = time.perf_counter()
    outcome = publish(Grafana(settings), bundle, message="benchmark")
    elapsed = time.perf_counter() - started
    results = {}
    for step in outcome.plan.steps:
        results[step.result] = results.get(step.result, 0) + 1
    summary = ", ".join(f"{n} {r}" for r, n in sorted(results.items()))
    return len(double.requests), len(double.writes()), elapsed, summary


def generated_output(models: int, folder: Path) -> Path:
    """An inventory of `models` models and its dashboards as generate writes them; returns the inventory."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import fleet

    path = folder / "inventory.yaml"
    path.write_text(fleet(models))
    fleet_inventory = inventory.load(path)
    example = build_dashboards(inventory.load(ROOT / "inventory.yaml"))
    template = next(b for b in example.values() if b["uid"].startswith("llm-model-"))
    shared = {p: b for p, b in example.items() if not b["uid"].startswith("llm-model-")}
    files = {p: dashboard_json(b) for p, b in shared.items()}
    for model in fleet_inventory.models:
        uid = c.model_dashboard_uid(model.name)
        files[c.dashboard_file(uid, model.team.folder)] = dashboard_json({**template, "uid": uid,
                                                                           "title": f"LLM model {model.name}"})
    output.write(files, folder, OUTPUT_DIRS, inventory=fleet_inventory.digest())
    return path


def command(double: GrafanaDouble, inventory_path: Path) -> tuple[float, dict]:
    env = {**os.environ, "GRAFANA_URL": double.url, "GRAFANA_TOKEN": TOKEN}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "generator", "publish", "--format", "json", "--inventory",
                           str(inventory_path), "--output", str(inventory_path.parent)],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"publish failed: {done.stderr}")
    return elapsed, json.loads(done.stdout)


def main() -> None:
    if "--command" not in sys.argv:
        in_process()
    command_at_scale()


def in_process() -> None:
    print(f"{'dashboards':>10}  {'publish':<11}{'requests':>9}{'writes':>8}{'wall':>10}  result")
    for count in (10, 100, 1000):
        with GrafanaDouble(tokens={TOKEN: EDITOR}) as double:
            runs = (("first", synthetic(count)), ("no-op", synthetic(count)),
                    ("one change", synthetic(count, changed=count // 2)))
            for label, bundle in runs:
                requests, writes, elapsed, summary = measure(double, bundle)
                print(f"{count:>10}  {label:<11}{requests:>9}{writes:>8}{elapsed:>9.2f}s  {summary}")


def command_at_scale() -> None:
    models = 1000
    with tempfile.TemporaryDirectory() as folder, GrafanaDouble(tokens={TOKEN: EDITOR}) as double:
        inventory_path = generated_output(models, Path(folder))
        size = sum(p.stat().st_size for p in Path(folder, "dashboards").rglob("*.json"))
        print(f"\n`python -m generator publish`, {models} models ({size / 1e6:.0f} MB of dashboard JSON), "
              "wall time of the process:")
        elapsed = 0.0
        for label in ("first", "no-op"):
            double.clear_log()
            elapsed, report = command(double, inventory_path)
            print(f"{label:>12}: {elapsed:6.2f}s, {len(double.requests)} requests, {len(double.writes())} writes")
        no_op = elapsed
        parts = _parts(double, inventory_path)
        print(f"{'its parts':>12}: " + ", ".join(f"{label} {seconds:.2f}s ({seconds / no_op:.0%})"
                                                  for label, seconds in parts.items())
              + f"; load average {os.getloadavg()[0]:.1f}")


def _parts(double: GrafanaDouble, inventory_path: Path) -> dict[str, float]:
    """Where a no-op publish's wall time goes: starting Python and importing what `publish` imports (a fresh
    process), reading the inventory, reading and hashing the generated dashboards, the requests and plan."""
    parts = {}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; sys.argv[1:] = ['publish']; from generator import cli; "
                    "cli._parser(); import generator.publish.command"], cwd=ROOT, check=True)
    parts["start and imports"] = time.perf_counter() - started
    started = time.perf_counter()
    loaded = inventory.load(inventory_path)
    parts["inventory"] = time.perf_counter() - started
    started = time.perf_counter()
    bundle = desired.from_output(loaded, inventory_path.parent)
    parts["read and hash dashboards"] = time.perf_counter() - started
    settings = config.from_env({"GRAFANA_URL": double.url, "GRAFANA_TOKEN": TOKEN})
    started = time.perf_counter()
    publish(Grafana(settings), bundle, message="benchmark")
    parts["publish (requests, plan)"] = time.perf_counter() - started
    return parts


if __name__ == "__main__":
    main()
