"""Print whether one rule over many models costs a real Prometheus less than one rule per model.

Run on demand: `.venv/bin/python benchmarks/shared_rules.py --models 50 --minutes 8`. Not a test: it
asserts nothing. It generates the example inventory repeated to `--models` models, starts the fleet
simulator and one Prometheus scraping it (Debian's `prometheus`), with rule groups of pairs only:

- per model: the expression the generator writes for each vLLM model (its TTFT requests and good
  requests per second, a TTFT quantile), one rule per model, all in one group;
- shared: the same computation once for every vLLM model, selecting by metric name (and the inventory's
  selector labels) and keeping the labels that tell models apart (`sum by (model_name, namespace, ...)`);
- and two floors: a rule per model reading nothing (`vector(1)`) and one reading one recorded series.

After five minutes of data (a 5-minute rate is full) it samples each group's evaluation time from
/api/v1/rules every interval until `--minutes`, and prints the medians: per rule, per group, and each
per-model group over its shared counterpart. A rule's cost is a fixed part (what `vector(1)` costs) plus
a part that grows with the series it reads; sharing saves only the fixed part of every model but one.
The metric names come from the catalog (`ModelQueries`), as the generated rules take them.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import fleet  # noqa: E402
from rules import start_prometheus  # noqa: E402

from generator import inventory  # noqa: E402
from generator.promql import le_matcher, selector  # noqa: E402
from generator.queries import ModelQueries  # noqa: E402
from generator.simulate.stack import HOST, Processes, http  # noqa: E402

WARM_UP = 330  # seconds: a 5-minute rate reads a full window


def pairs(models: list[ModelQueries]) -> list[dict]:
    """Rule groups: each computation per model and shared, and the two floors."""
    first = models[0]
    ttft, scale = first.can.histogram("ttft")
    threshold = first.slo("ttft").threshold_seconds
    identity = sorted({label for q in models for label, _, _ in q.model_matchers()}
                      | {label for q in models for label, _ in q.model.selector})
    common = [(label, "=", value) for label, value in first.model.selector]
    by = ", ".join(identity)

    def per_model(name: str, build) -> dict:
        return {"name": f"per-model-{name}",
                "rules": [{"record": f"bench:{name}", "expr": build(q), "labels": {"model": q.model.name}}
                          for q in models]}

    def shared(name: str, expr: str) -> dict:
        return {"name": f"shared-{name}", "rules": [{"record": f"bench:{name}_shared", "expr": expr}]}

    bucket = [le_matcher(threshold / scale)]
    return [
        per_model("requests", lambda q: q.slo_requests("ttft", "5m")),
        shared("requests", f"sum by ({by}) (rate({selector(ttft + '_count', common)}[5m]))"),
        per_model("good", lambda q: q.slo_good("ttft", threshold, "5m")),
        shared("good", f"sum by ({by}) (rate({selector(ttft + '_bucket', common + bucket)}[5m]))"),
        per_model("quantile", lambda q: q.quantile("ttft", "0.9", "5m")),
        shared("quantile", f"histogram_quantile(0.9, sum by (le, {by}) "
                           f"(rate({selector(ttft + '_bucket', common)}[5m])))"),
        per_model("nothing", lambda q: "vector(1)"),
        per_model("recorded", lambda q: f"bench:requests{{model=\"{q.model.name}\"}} > 1000"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=8)
    args = parser.parse_args()
    binary = shutil.which("prometheus")
    if binary is None:
        sys.exit("prometheus not found: apt-get install prometheus")
    if args.minutes * 60 < WARM_UP + 60:
        sys.exit(f"--minutes must leave a minute after the {WARM_UP} s warm-up")
    with tempfile.TemporaryDirectory() as folder, Processes(Path(folder)) as processes:
        work = Path(folder)
        source = work / "inventory.yaml"
        source.write_text(fleet(args.models))
        inv = inventory.load(source)
        models = [ModelQueries(inv, m) for m in inv.models if m.engine == "vllm"]
        models = [q for q in models if q.slo("ttft") is not None and q.has("ttft")]
        groups = pairs(models)
        rules = work / "bench.rules.yaml"
        rules.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
        _, config_path = processes.simulator(source, str(rules), f"{HOST}:9", "15s")
        config = yaml.safe_load(config_path.read_text())
        config.pop("alerting", None)
        url, _ = start_prometheus(processes, "prometheus", binary, config)
        started = time.monotonic()
        samples: dict[str, list[float]] = {g["name"]: [] for g in groups}
        while time.monotonic() - started < args.minutes * 60:
            time.sleep(15)
            if time.monotonic() - started < WARM_UP:
                continue
            status, body = http("GET", f"{url}/api/v1/rules", timeout=120)
            for group in json.loads(body)["data"]["groups"] if status == 200 else []:
                samples[group["name"]].append(group["evaluationTime"])
        median = {name: statistics.median(values) for name, values in samples.items() if values}
        count = len(models)
        print(f"{count} vLLM models of {args.models}, medians of {min(map(len, samples.values()))} evaluations "
              f"after {WARM_UP} s:")
        for group in groups:
            name = group["name"]
            per_rule = median[name] / len(group["rules"])
            print(f"  {name:20} {median[name] * 1e6:9.0f} us per group, {per_rule * 1e6:7.0f} us per rule "
                  f"({len(group['rules'])} rules)")
        for name in ("requests", "good", "quantile"):
            print(f"  {name}: one rule per model costs {median['per-model-' + name] / median['shared-' + name]:.1f}x "
                  f"one shared rule")


if __name__ == "__main__":
    main()
