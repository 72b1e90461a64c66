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
# One small vLLM model; tests edit this text to make the inventories they need.
MINIMAL = HEADER + """\
models:
  - name: small
    served_name: org/small-1.0
    engine: vllm
    engine_version: "0.11.2"
    team: infra
    namespace: llm
    gpu: {type: L4, per_replica: 1}
    replicas: {min: 1, max: 2}
"""


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
