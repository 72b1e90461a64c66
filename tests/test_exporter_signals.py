"""Exporter signals (GPU, pods, cold start) are described once in the catalog: the query and the series a
generated test feeds both derive from that description, so feeding one to the other gives the value back."""
from decimal import Decimal

import pytest
import yaml

from generator import inventory
from generator.catalog import EXPORTERS
from generator.catalog.base import Custom, PodSignal
from generator.queries import ModelQueries
from generator.rules.test_inputs import Inputs

from conftest import ROOT, run_promtool

# A value each signal can take: counts are of series (one pod, one GPU), a `== 1` filter passes 1.
VALUES = {"gpu_utilization": Decimal("0.5"), "gpu_memory": Decimal("0.6"), "gpu_power": Decimal(300),
          "gpu_xid": Decimal(79), "gpus": Decimal(1), "gpu_energy": Decimal("0.3"), "replicas_ready": Decimal(1),
          "pod_ready": Decimal(1), "container_waiting": Decimal(1), "engine_image": Decimal(1),
          "cold_start": Decimal(300)}
WINDOW = {"gpu_energy": "5m", "cold_start": "1h"}

EXPORTED = (ROOT / "inventory.yaml").read_text().replace(
    "defaults:", "collectors:\n  dcgm: {namespace_label: exported_namespace, pod_label: exported_pod}\n\ndefaults:", 1)


def test_exporter_signals_read_their_exporter_s_metrics_and_each_name_is_one_exporter_s():
    seen: set[str] = set()
    for exporter in EXPORTERS.values():
        known = {m.name for m in exporter.metrics}
        for name, spec in exporter.signals.items():
            assert isinstance(spec, (PodSignal, Custom))
            assert set(spec.metric_names()) <= known, name
            assert name not in seen, f"{name}: two exporters carry it"
            seen.add(name)
            if isinstance(spec, PodSignal):
                assert spec.aggregation in ("sum", "max", "avg", "count"), name


def test_every_signal_with_test_inputs_has_a_value_here():
    invertible = {name for e in EXPORTERS.values() for name, spec in e.signals.items()
                  if isinstance(spec, PodSignal) or spec.inputs is not None}
    assert invertible == set(VALUES)


@pytest.mark.parametrize("text", [(ROOT / "inventory.yaml").read_text(), EXPORTED],
                         ids=["example inventory", "DCGM with exported_namespace and exported_pod"])
def test_each_signal_s_query_reads_back_the_value_its_test_inputs_give(promtool, tmp_path, text):
    inv = inventory.parse(text, "inventory.yaml")
    tests = []
    for model in inv.models:
        q, inputs = ModelQueries(inv, model), Inputs(inv, model)
        for name, value in VALUES.items():
            series = inputs.exporter_signal(name, value)
            tests.append({
                "name": f"{model.name}: {name}",
                "interval": "1m",
                "input_series": [{"series": s.text(), "values": s.values(12)} for s in series],
                "promql_expr_test": [{"expr": f"round({q.exporter_signal(name, WINDOW.get(name, ''))}, 0.000001)",
                                      "eval_time": "10m",
                                      "exp_samples": [{"labels": "{" + _kept(name, series) + "}",
                                                       "value": float(value)}]}],
            })
    (tmp_path / "none.rules.yaml").write_text("groups: []\n")
    (tmp_path / "signals.test.yaml").write_text(yaml.safe_dump(
        {"rule_files": ["none.rules.yaml"], "evaluation_interval": "1m", "tests": tests}, sort_keys=False))
    result = run_promtool(promtool, "test", "rules", "signals.test.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr


def _kept(name: str, series) -> str:
    """The labels the signal keeps (`per`), as the first input series carries them."""
    spec = next(e.signals[name] for e in EXPORTERS.values() if name in e.signals)
    labels = dict(series[0].labels)
    per = spec.per if isinstance(spec, PodSignal) else ()
    return ", ".join(f'{label}="{labels[label]}"' for label in per)
