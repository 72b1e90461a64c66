"""Print how long generation takes and how much it writes, for the example inventory and larger fleets.

Run on demand: `.venv/bin/python benchmarks/generate.py`. Not a test: it asserts nothing.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import inventory, output  # noqa: E402
from generator.build import OUTPUT_DIRS, build  # noqa: E402
from generator.kubernetes.names import ANNOTATION_LIMIT  # noqa: E402


def fleet(size: int) -> str:
    """The example inventory with its models repeated under new names until there are `size`."""
    doc = yaml.safe_load((ROOT / "inventory.yaml").read_text())
    base = doc["models"]
    doc["models"] = [{**base[i % len(base)], "name": f"{base[i % len(base)]['name'][:36]}-{i}"} for i in range(size)]
    return yaml.safe_dump(doc, sort_keys=False)


def measure(label: str, text: str, repeat: int) -> None:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        files = build(inventory.parse(text, label))
        timings.append(time.perf_counter() - started)
    size = sum(len(c.encode()) for c in files.values())
    rules = sum(c.count("- record:") + c.count("- alert:") for p, c in files.items() if p.endswith(".rules.yaml"))
    groups = sum(c.count("\n- name: ") for p, c in files.items() if p.endswith(".rules.yaml"))
    manifest = max((len(c.encode()) for p, c in files.items() if p.startswith("kubernetes/")), default=0)
    print(f"{label:>22}: {statistics.median(timings) * 1000:8.1f} ms median of {repeat}, {len(files):5d} files, "
          f"{size / 1e6:6.2f} MB, {rules:6d} rules in {groups:5d} groups, largest manifest {manifest / 1e3:5.1f} KB "
          f"(limit {ANNOTATION_LIMIT / 1e3:.0f} KB)")


def measure_write(label: str, text: str) -> None:
    """Writing to disk (staged, swapped, manifest): a first write, a no-op rewrite, a rewrite of every file."""
    files = build(inventory.parse(text, label))
    changed = {rel: content + "\n" for rel, content in files.items()}
    timings = []
    with tempfile.TemporaryDirectory() as folder:
        for bundle in (files, files, changed):
            started = time.perf_counter()
            output.write(bundle, Path(folder), OUTPUT_DIRS)
            timings.append(time.perf_counter() - started)
    print(f"{label:>22}: write {timings[0] * 1000:8.1f} ms first, {timings[1] * 1000:8.1f} ms no-op, "
          f"{timings[2] * 1000:8.1f} ms all changed ({len(files)} files)")


def main() -> None:
    measure("example inventory", (ROOT / "inventory.yaml").read_text(), repeat=5)
    for size in (50, 200, 1000):
        measure(f"{size} models", fleet(size), repeat=3 if size < 1000 else 1)
    measure_write("example inventory", (ROOT / "inventory.yaml").read_text())
    for size in (200, 1000):
        measure_write(f"{size} models", fleet(size))


if __name__ == "__main__":
    main()
