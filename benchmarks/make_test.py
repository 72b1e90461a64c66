"""Print what `make test` costs as the inventory grows: the steps that read the generated output.

`make test` runs lint, `validate`, `promtool check rules`, `promtool test rules` on the generated
output, then pytest. Lint and pytest test the generator and do not grow with the inventory (pytest
reads the example inventory); the other three read whatever `generate` wrote. For the example
inventory and for fleets of `--models` models (the example's models repeated under new names, as
`benchmarks/generate.py` builds them), this generates into a temporary folder and times each of
those steps as `make test` runs them (a fresh process each), printing wall seconds, CPU seconds (the process
and its children) and how many rule files and promtool test files there are. Promtool test files
are one per kind of model (`promtool_tests.shapes`), so their count and cost follow the kinds, not
the models. Add pytest's time (measured by `make test` itself) to get the whole.

Run on demand: `.venv/bin/python benchmarks/make_test.py --models 200`. Not a test: it asserts
nothing. The machine is shared: compare the figures within one run.
"""
from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import fleet, timed  # noqa: E402

PYTHON = sys.executable


def measure(label: str, text: str) -> float:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "inventory.yaml").write_text(text)
        steps = {"generate": [PYTHON, "-m", "generator", "generate", "--inventory", "inventory.yaml",
                              "--output", "."]}
        figures = {"generate": timed(steps["generate"], folder)}
        rules = sorted(glob.glob(os.path.join(folder, "alerts", "*.rules.yaml")))
        tests = sorted(glob.glob(os.path.join(folder, "alerts", "tests", "*.test.yaml")))
        steps = {
            "validate": [PYTHON, "-m", "generator", "validate", "--inventory", "inventory.yaml", "--output", "."],
            # As `make test` runs them (GOGC=1000, see the Makefile): test files one per core at a time, largest
            # first.
            "promtool check rules": ["env", "GOGC=1000", "promtool", "check", "rules", *rules],
            "promtool test rules": ["sh", "-c", f"ls -S alerts/tests/*.test.yaml | GOGC=1000 xargs -P "
                                                f"{os.cpu_count()} -n 1 promtool test rules"],
        }
        for name, command in steps.items():
            figures[name] = timed(command, folder)
    in_make_test = [v for k, v in figures.items() if k != "generate"]
    wall = sum(w for w, _ in in_make_test)
    print(f"{label}: {len(rules)} rule files, {len(tests)} promtool test files")
    for name, (w, cpu) in figures.items():
        print(f"  {name:22} {w:7.1f} s wall {cpu:7.1f} s CPU")
    print(f"  {'in make test':22} {wall:7.1f} s wall {sum(c for _, c in in_make_test):7.1f} s CPU")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=[200])
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    example = measure("example inventory", (ROOT / "inventory.yaml").read_text())
    for size in args.models:
        wall = measure(f"{size} models", fleet(size))
        print(f"  {size} models / example: {wall / example:.1f}x the wall time of the same steps")


if __name__ == "__main__":
    main()
