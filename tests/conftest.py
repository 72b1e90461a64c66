from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from generator import inventory

ROOT = Path(__file__).resolve().parent.parent

HEADER = """\
version: 1
grafana_url: https://grafana.test
runbook_base_url: https://runbooks.test/llm
defaults:
  labels: {cluster: test}
  slo:
    ttft: {threshold_seconds: 1.0, objective: 0.95}
    itl: {threshold_seconds: 0.1, objective: 0.95}
    e2e: {threshold_seconds: 30, objective: 0.95}
    availability: {objective: 0.995}
  thresholds: {kv_cache_usage: 0.9, queue_depth: 50, gpu_utilization: 0.95, gpu_memory_usage: 0.95, cold_start_seconds: 600}
teams:
  infra: {folder: Infra, labels: {team: infra}}
"""


def model_yaml(name: str, *, served_name: str | None = None, engine: str = "vllm", engine_version: str = "0.11.2",
               team: str = "infra", namespace: str = "llm", gpu: str = "L4", per_replica: int = 1,
               replicas: tuple[int, int] = (1, 2), extra: str = "") -> str:
    """One entry of an inventory's `models:` list; `extra` adds keys (indented lines ending in a newline)."""
    return (f"  - name: {name}\n    served_name: {served_name or 'org/' + name}\n    engine: {engine}\n"
            f'    engine_version: "{engine_version}"\n    team: {team}\n    namespace: {namespace}\n'
            f"    gpu: {{type: {gpu}, per_replica: {per_replica}}}\n"
            f"    replicas: {{min: {replicas[0]}, max: {replicas[1]}}}\n{extra}")


def header_for(engine: str, version: str) -> str:
    """HEADER with each latency SLO threshold moved to the nearest bound (the lower on a tie) of the engine
    version's default buckets, where it is not one already: SLOs are read at a bucket bound."""
    from decimal import Decimal

    from generator.catalog import ENGINES
    from generator.catalog.base import Histogram
    from generator.versions import Version

    header, engine_, at = HEADER, ENGINES[engine], Version.parse(version)
    for signal, threshold in (("ttft", "1.0"), ("itl", "0.1"), ("e2e", "30")):
        spec = engine_.signals.get(signal)
        exposed = [m for m in spec.candidates if engine_.metric(m).exposed_in(at)] if isinstance(spec, Histogram) \
            else []
        if not exposed:
            continue
        bounds = [b * spec.scale for b in engine_.metric(exposed[0]).buckets_in(at) if b > 0]
        if not bounds or Decimal(threshold) in bounds:
            continue
        nearest = min(bounds, key=lambda b: (abs(b - Decimal(threshold)), b))
        header = header.replace(f"{signal}: {{threshold_seconds: {threshold},",
                                f"{signal}: {{threshold_seconds: {nearest.normalize():f},")
    return header


# A served name with every character that needs escaping somewhere:
# PromQL string escapes (" and \\), regex metacharacters, and a Go template action.
WEIRD = 'we"ird\\{{ .x }}/v1.0-a$b*c+(d)|[e]^'
WEIRD_YAML = "'we\"ird\\{{ .x }}/v1.0-a$b*c+(d)|[e]^'"  # single-quoted YAML: backslash is literal

# One small vLLM model; tests edit this text to make the inventories they need.
MINIMAL = HEADER + "models:\n" + model_yaml("small", served_name="org/small-1.0")


def generate_into(root: Path, text: str) -> inventory.Inventory:
    """The inventory text as root/inventory.yaml, and what `generate` writes from it beside it."""
    from generator.build import OUTPUT_DIRS, build
    from generator.output import write

    (root / "inventory.yaml").write_text(text)
    parsed = inventory.parse(text, "inventory.yaml")
    write(build(parsed), root, OUTPUT_DIRS)
    return parsed


def validation_errors(inventory_file: Path, output: Path) -> list[str]:
    """What `validate` reports as errors (file and message), for an assertion to show."""
    from generator.validate import ERROR, validate

    return [f"{f.location.file} {f.message}" for f in validate(inventory_file, output) if f.severity >= ERROR]


def served_metrics(parsed: inventory.Inventory, model: str, seconds: float) -> str:
    """The simulated /metrics of the model's first replica, `seconds` after the simulation started."""
    from generator.simulate.renderers import RENDERERS
    from generator.simulate.simulation import Simulation

    simulation = Simulation(parsed)
    replica = simulation.fleet.replicas[model][0]
    return RENDERERS[replica.model.engine](replica, simulation.snapshot()[model], simulation.start + seconds)


@pytest.fixture(scope="session")
def example():
    return inventory.load(ROOT / "inventory.yaml")


@functools.cache
def _built(path: Path) -> dict[str, str]:
    from generator.build import build

    return build(inventory.load(path))


def built(path: Path) -> dict[str, str]:
    """What `build` makes of the inventory file at path (a copy the caller may change): built once per test
    process, as build() is pure and several test modules check the example's and the golden inventory's output."""
    return dict(_built(path))


def load_yaml(text: str):
    """yaml.safe_load with libyaml's parser where it is installed (CSafeLoader: the same safe constructor and
    resolver, only the parser in C), about 7x faster on the large generated files."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_yaml_all(text: str) -> list:
    import yaml

    return list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


@pytest.fixture
def minimal():
    return MINIMAL


def _required(binary: str, package: str) -> str:
    path = shutil.which(binary)
    if path is None:
        pytest.fail(f"{binary} is required: apt-get install {package}")
    return path


@pytest.fixture(scope="session")
def promtool():
    return _required("promtool", "prometheus")


@pytest.fixture(scope="session")
def amtool():
    return _required("amtool", "prometheus-alertmanager")


# Only a guard against a hung promtool, not a speed limit (speed belongs in benchmarks/): a model's
# generated cases take about a minute of CPU, several on a shared, loaded machine.
PROMTOOL_TIMEOUT = 900


def run_promtool(promtool: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """promtool with Go's garbage collector at GOGC=1000, as `make test` runs it (see the Makefile)."""
    return subprocess.run([promtool, *args], capture_output=True, text=True, cwd=cwd, timeout=PROMTOOL_TIMEOUT,
                          env={**os.environ, "GOGC": "1000"})


# -- promtool on part of a generated test file ----------------------------------------------------------------
# A generated test file runs every rule of its rule files at each evaluation step of each test group, about a
# minute of CPU per model. A test whose claim is about one kind of case (one naming, one collector setting) runs
# promtool on a copy holding just the groups that can show it, with the file's own rule_files,
# evaluation_interval and group_eval_order, and says in its docstring why those groups suffice.

def case_steps(group: dict) -> int:
    """Seconds of evaluation a test group costs promtool: its latest eval_time."""
    from generator.prometheus_syntax import duration_seconds

    return max(duration_seconds(t["eval_time"]) for key in ("alert_rule_test", "promql_expr_test")
               for t in group.get(key, []))


def reads(expr: str, name: str) -> bool:
    """Whether the PromQL `expr` names the series `name` (not as part of a longer name)."""
    import re

    return re.search(r"(?<![\w:.])" + re.escape(name) + r"(?![\w:.])", expr) is not None


def fired_in(group: dict) -> set[tuple[str, str]]:
    """(alertname, labels) of each alert the group expects to fire, from alert_rule_test or an ALERTS query."""
    import re

    fired = {(t["alertname"], repr(sorted(a.get("exp_labels", {}).items())))
             for t in group.get("alert_rule_test", []) for a in t["exp_alerts"]}
    for t in group.get("promql_expr_test", []):
        if t["expr"].startswith("ALERTS"):
            for sample in t.get("exp_samples") or []:
                labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', sample["labels"]))
                alert = labels.pop("alertname")
                labels.pop("alertstate", None)
                fired.add((alert, repr(sorted(labels.items()))))
    return fired


def fired_alerts(groups: list[dict]) -> set[str]:
    """The names of the alerts some of the groups expect to fire."""
    return {alert for group in groups for alert, _ in fired_in(group)}


def expects_recorded_values(group: dict) -> bool:
    """Whether the group checks recorded values (samples of a query other than ALERTS), not only silence."""
    return any(t.get("exp_samples") and not t["expr"].startswith("ALERTS") for t in group.get("promql_expr_test", []))


def cheapest_firing_cases(groups: list[dict], *, per_labels: bool) -> list[dict]:
    """Every group that checks recorded values, and for each alert that some group expects to fire (each label set
    of it, with per_labels: each SLO window pair apart) the group that shows it in the fewest evaluation steps;
    in the groups' order. Silent cases are left out: they are the ones a selector matching nothing also passes."""
    best: dict = {}
    for group in groups:
        for alert, labels in fired_in(group):
            key = (alert, labels) if per_labels else alert
            if key not in best or case_steps(group) < case_steps(best[key]):
                best[key] = group
    chosen = {id(g) for g in best.values()}
    return [g for g in groups if id(g) in chosen or expects_recorded_values(g)]


def firing_and_quiet_cases(groups: list[dict]) -> list[dict]:
    """`cheapest_firing_cases` (one per alert), and each group that checks every alert the file checks and expects
    none to fire (healthy, busy, idle, a collector gone): the silent cases a rule firing where it must not fails."""
    every = {t["alertname"] for g in groups for t in g.get("alert_rule_test", [])}
    quiet = {id(g) for g in groups if {t["alertname"] for t in g.get("alert_rule_test", [])} == every
             and not fired_in(g)}
    assert quiet, "no case checks that nothing fires"
    chosen = {id(g) for g in cheapest_firing_cases(groups, per_labels=False)} | quiet
    return [g for g in groups if id(g) in chosen]


def promtool_subset_failures(promtool: str, root: Path, model: str, keep) -> tuple[str, list[dict], list[dict]]:
    """promtool on a copy of the model's generated test file under root holding the groups `keep(groups)` returns
    (written beside it, so its rule_files resolve): what promtool says ("" when they pass), the kept groups and all."""
    import yaml

    from generator import conventions as c

    path = root / c.rules_test_file(model)
    doc = load_yaml(path.read_text())
    kept = keep(doc["tests"])
    subset = path.with_name(path.name.replace(".test.yaml", ".subset.test.yaml"))
    subset.write_text(yaml.safe_dump({**doc, "tests": kept}, sort_keys=False, width=10_000))
    result = run_promtool(promtool, "test", "rules", subset.name, cwd=subset.parent)
    return ("" if result.returncode == 0 else result.stdout[-3000:] + result.stderr), kept, doc["tests"]
