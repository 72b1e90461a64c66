"""One replica's OpenTelemetry GenAI metrics, as Prometheus stores them under the model's naming.

Rendered as classic Prometheus text, as the OpenTelemetry Collector's `prometheus` exporter (or an SDK's
Prometheus exporter) serves them: the names and labels the translation strategy derives, histograms with
the advised buckets (Go-style `le`), `gen_ai.operation.name="chat"`, `gen_ai.provider.name`, the model in
`gen_ai.request.model`, and `error.type` on failed requests only. With `kubernetes_labels:
resource_attributes` the series carry `k8s.namespace.name` and `k8s.pod.name` (translated), as
`resource_to_telemetry_conversion` or `promote_resource_attributes` leave them. Names with dots (the UTF-8
strategies) cannot be written in the classic text format Prometheus 2 scrapes: those namings are proven by
unit tests of their derivation, not served.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial

from generator.catalog import ENGINES, engine_for
from generator.errors import GeneratorError
from generator.simulate.exposition import GO, Exposition
from generator.simulate.fleet import Replica
from generator.simulate.histograms import LATENCIES, counter, histogram, lognormal
from generator.simulate.roles import engine_roles
from generator.simulate.timeline import ModelTimeline
from generator.simulate.workload import Latency

ENGINE = ENGINES["otel-genai"]
ERROR_TYPE = "timeout"


@cache
def roles(naming: str | None = None) -> dict[str, str]:
    """Stored metric name -> what it carries, under one naming (None: the semantic conventions' own names)."""
    return engine_roles(ENGINE if naming is None else ENGINE.named(naming), ("ttft", "tpot", "e2e", "prompt_tokens"))


def _token_lengths(size: Callable[..., float], load) -> Latency:
    return lognormal(size(load), 0.6)


def render(replica: Replica, timeline: ModelTimeline, t: float) -> str:
    model = replica.model
    engine = engine_for(model)
    if any(not _scrapable(m.name) for m in engine.metrics):
        raise GeneratorError(f"{model.name}: metric_naming {model.metric_naming} keeps dots in names, which "
                             f"Prometheus' classic text format cannot carry; the simulator serves only the "
                             f"underscore strategies")
    served = timeline.served(replica.index, t)
    label = engine.model_label
    assert label is not None  # the request's model attribute, under the deployment's naming
    base = [(label, model.served_name), (_label(model, "gen_ai.operation.name"), "chat"),
            (_label(model, "gen_ai.provider.name"), "openai")]
    if model.pushed:
        namespace, pod = engine.workload_attributes
        base += [(namespace, replica.namespace), (pod, replica.pod)]
    out = Exposition(GO)
    for metric in engine.metrics:
        role = roles(model.metric_naming)[metric.name]
        out.family(metric.name, "histogram", metric.help)
        if role == "prompt_tokens":  # client token usage, by gen_ai.token.type
            for kind, size in (("input", lambda load: load.prompt_tokens), ("output", lambda load: load.output_tokens)):
                labels = base + [(_label(model, "gen_ai.token.type"), kind)]
                value = histogram(served, metric.buckets, 1.0, partial(_token_lengths, size))
                out.histogram(metric.name, labels, value)
            continue
        if role == "e2e":  # failed requests carry error.type
            ok = histogram(served, metric.buckets, 1.0, LATENCIES[role], lambda load: 1 - load.error_ratio)
            out.histogram(metric.name, base, ok)
            if counter(served, lambda load: load.error_ratio):
                failed = histogram(served, metric.buckets, 1.0, LATENCIES[role], lambda load: load.error_ratio)
                out.histogram(metric.name, base + [(_label(model, "error.type"), ERROR_TYPE)], failed)
            continue
        # Successful responses only.
        value = histogram(served, metric.buckets, 1.0, LATENCIES[role], lambda load: 1 - load.error_ratio)
        out.histogram(metric.name, base, value)
    return out.text()


def _label(model, attribute: str) -> str:
    return ENGINE.namings[model.metric_naming or ENGINE.default_naming].label(attribute)


def _scrapable(name: str) -> bool:
    return all(c.isalnum() or c in "_:" for c in name)
