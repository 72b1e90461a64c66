from __future__ import annotations

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
    return subprocess.run([promtool, *args], capture_output=True, text=True, cwd=cwd, timeout=PROMTOOL_TIMEOUT)


def promtool_test_failures(promtool: str, root: Path, model: str) -> str:
    """What `promtool test rules` says against the model's generated tests under root; "" when they pass."""
    result = run_promtool(promtool, "test", "rules", f"alerts/tests/{model}.test.yaml", cwd=root)
    return "" if result.returncode == 0 else result.stdout[-3000:] + result.stderr
