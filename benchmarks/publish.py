"""Print the requests and wall time of publishing 10, 100 and 1,000 dashboards to the Grafana test double.

For each size: a first publish (everything created), a no-op publish (nothing changed)
and a one-change publish (one dashboard regenerated differently). The dashboards are
copies of a real generated model dashboard (about 40 kB of JSON each) spread over five
team folders. Requests are counted by the double, so retries would show.

Run on demand: `.venv/bin/python benchmarks/publish.py`. Not a test: it asserts nothing.
Grafana cannot be installed here; against a real Grafana each request costs more.
"""
from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from generator import inventory  # noqa: E402
from generator.dashboards import build_dashboards  # noqa: E402
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


def main() -> None:
    print(f"{'dashboards':>10}  {'publish':<11}{'requests':>9}{'writes':>8}{'wall':>10}  result")
    for count in (10, 100, 1000):
        with GrafanaDouble(tokens={TOKEN: EDITOR}) as double:
            runs = (("first", synthetic(count)), ("no-op", synthetic(count)),
                    ("one change", synthetic(count, changed=count // 2)))
            for label, bundle in runs:
                requests, writes, elapsed, summary = measure(double, bundle)
                print(f"{count:>10}  {label:<11}{requests:>9}{writes:>8}{elapsed:>9.2f}s  {summary}")


if __name__ == "__main__":
    main()
