"""OpenTelemetry GenAI semantic-convention metrics, as Prometheus stores them: a telemetry source.

No engine checked (vLLM, SGLang, TGI, TensorRT-LLM, Dynamo, llama.cpp) emits `gen_ai.*` metrics; they come
from instrumentation libraries, proxies and gateways (engines.md 6.1). The "version" of this source is the
version of the semantic conventions the instrumentation follows: `docs/gen-ai/gen-ai-metrics.md` first
appears in v1.27.0, and the metrics, units and advised buckets used here are identical from v1.27.0 to
v1.41.0 (v1.42.0 moved the GenAI conventions to open-telemetry/semantic-conventions-genai, still
`development`). From v1.37.0 the provider attribute is `gen_ai.provider.name` (`gen_ai.system` before); no
query here reads it.

The catalog keeps the convention's names and UCUM units. What Prometheus stores depends on how the
metrics get there, which the inventory says (`metric_naming`): the translation strategy of Prometheus 3's
OTLP receiver (`otlp.translation_strategy`) or of the OpenTelemetry Collector's `prometheus` /
`prometheusremotewrite` exporter (`translation_strategy`, or the deprecated `add_metric_suffixes`:
true = UnderscoreEscapingWithSuffixes, false = UnderscoreEscapingWithoutSuffixes). The derivation follows
prometheus/otlptranslator (`metric_namer.go`, `unit_namer.go`, `normalize_label.go`; engines.md 6.2).
Histogram series always get `_bucket`, `_sum` and `_count`, whatever the strategy.
"""
from __future__ import annotations

import re

from generator.catalog.base import (
    COUNTER,
    GAUGE,
    HISTOGRAM,
    Counters,
    Engine,
    Histogram,
    Metric,
    Naming,
    Part,
    seconds,
)
from generator.versions import v

SEMCONV = ("open-telemetry/semantic-conventions model/gen-ai/metrics.yaml and docs/gen-ai/gen-ai-metrics.md, "
           "v1.27.0 to v1.41.0 (engines.md 6.1)")

# Advised ExplicitBucketBoundaries, identical v1.27.0 -> v1.41.0. They apply only where the instrumentation
# passes them as advice; otherwise the SDK's default buckets apply (UNCONFIRMED which, engines.md 6.1): check
# the stored `le` values before setting an SLO threshold.
TTFT_BUCKETS = seconds("0.001", "0.005", "0.01", "0.02", "0.04", "0.06", "0.08", "0.1", "0.25", "0.5", "0.75",
                       "1.0", "2.5", "5.0", "7.5", "10.0")
TPOT_BUCKETS = seconds("0.01", "0.025", "0.05", "0.075", "0.1", "0.15", "0.2", "0.3", "0.4", "0.5", "0.75",
                       "1.0", "2.5")
DURATION_BUCKETS = seconds("0.01", "0.02", "0.04", "0.08", "0.16", "0.32", "0.64", "1.28", "2.56", "5.12",
                           "10.24", "20.48", "40.96", "81.92")
TOKEN_BUCKETS = seconds("1", "4", "16", "64", "256", "1024", "4096", "16384", "65536", "262144", "1048576",
                        "4194304", "16777216", "67108864")

METRICS = (
    Metric("gen_ai.server.time_to_first_token", HISTOGRAM, "s",
           "Time to generate the first token, successful responses only.", SEMCONV, since=v("1.27.0"),
           buckets=TTFT_BUCKETS),
    Metric("gen_ai.server.time_per_output_token", HISTOGRAM, "s",
           "Time per output token after the first, per successful response.", SEMCONV, since=v("1.27.0"),
           buckets=TPOT_BUCKETS),
    Metric("gen_ai.server.request.duration", HISTOGRAM, "s",
           "Server request duration; failed requests carry error.type.", SEMCONV, since=v("1.27.0"),
           buckets=DURATION_BUCKETS),
    Metric("gen_ai.client.token.usage", HISTOGRAM, "{token}",
           "Tokens per operation by gen_ai.token.type (input, output), measured by the client.", SEMCONV,
           since=v("1.27.0"), buckets=TOKEN_BUCKETS),
)

# -- otlptranslator's naming rules -------------------------------------------------------------------

UNITS = {"d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds", "us": "microseconds",
         "ns": "nanoseconds", "By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes",
         "KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes", "m": "meters", "V": "volts", "A": "amperes",
         "J": "joules", "W": "watts", "g": "grams", "Cel": "celsius", "Hz": "hertz", "1": "", "%": "percent"}
PER_UNITS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year"}


def unit_suffixes(unit: str) -> tuple[str, str]:
    """(main, per) suffixes of a UCUM unit; a unit part in braces (`{token}`) gives none."""
    main, _, per = unit.partition("/")
    main, per = main.strip(), per.strip()
    main_suffix = UNITS.get(main, main) if main and not set(main) & set("{}") else ""
    per_suffix = "per_" + PER_UNITS.get(per, per) if per and not set(per) & set("{}") else ""
    return main_suffix, per_suffix


def _clean_unit(unit: str) -> str:
    return re.sub("__+", "_", re.sub(r"[^a-zA-Z0-9:_]", "_", unit)).removeprefix("_")


def escaped_with_suffixes(metric: Metric) -> str:
    """UnderscoreEscapingWithSuffixes: tokens of [a-zA-Z0-9:] joined by `_`, then unit, `_total`, `_ratio`."""
    tokens = [t for t in re.split(r"[^a-zA-Z0-9:]", metric.name) if t]
    main, per = (_clean_unit(s) for s in unit_suffixes(metric.unit))
    per = "" if per == "per_" else per.removesuffix("_")
    per = "" if per in tokens else per
    main = "" if main in tokens else main
    tokens += [s for s in (main.removesuffix("_") if per else main, per) if s]
    if metric.type == COUNTER:
        tokens = [t for t in tokens if t != "total"] + ["total"]
    if metric.unit == "1" and metric.type == GAUGE:
        tokens = [t for t in tokens if t != "ratio"] + ["ratio"]
    name = "_".join(tokens)
    return "_" + name if name[:1].isdigit() else name


def escaped_without_suffixes(metric: Metric) -> str:
    """UnderscoreEscapingWithoutSuffixes: runs of characters outside [a-zA-Z0-9:_] become one `_`."""
    name = "_".join(t for t in re.split(r"[^a-zA-Z0-9:_]", metric.name) if t)
    return "_" + name if name[:1].isdigit() else name


def utf8_with_suffixes(metric: Metric) -> str:
    """NoUTF8EscapingWithSuffixes: the name kept, the unit, `_total` and `_ratio` suffixes added."""
    name, after = metric.name, ""
    if metric.unit == "1" and metric.type == GAUGE:
        name, after = _trim(name, "ratio"), "_ratio"
    if metric.type == COUNTER:
        name, after = _trim(name, "total"), "_total" + after
    main, per = unit_suffixes(metric.unit)
    if per:
        name, after = _trim(name, per), f"_{per}" + after
    if main and not name.endswith(main):
        name += "_" + main
    return name + after


def _trim(name: str, suffix: str) -> str:
    return name[:-(len(suffix) + 1)] if name.endswith(suffix) and len(name) > len(suffix) + 1 else name


def escaped_label(name: str) -> str:
    """An attribute key as a label under the escaping strategies (normalize_label.go)."""
    label = re.sub(r"[^a-zA-Z0-9_]", "_", name)
    if label[:1].isdigit():
        return "key_" + label
    return "key" + label if label.startswith("_") and not label.startswith("__") else label


def _own(metric: Metric) -> str:
    return metric.name


_PROMETHEUS = "Prometheus 3's OTLP receiver (`otlp.translation_strategy`) or the Collector's exporters " \
              "(`translation_strategy`)"

NAMINGS = {
    "UnderscoreEscapingWithSuffixes": Naming(
        f"Dots become underscores, unit and `_total` suffixes added (`gen_ai_server_time_to_first_token_seconds`): "
        f"the default of {_PROMETHEUS}, and `add_metric_suffixes: true`.",
        metric=escaped_with_suffixes, label=escaped_label),
    "UnderscoreEscapingWithoutSuffixes": Naming(
        f"Dots become underscores, no suffixes (`gen_ai_server_time_to_first_token`): {_PROMETHEUS} from "
        f"Prometheus 3.6.0, and `add_metric_suffixes: false`.", metric=escaped_without_suffixes, label=escaped_label),
    "NoUTF8EscapingWithSuffixes": Naming(
        f"UTF-8 names kept, suffixes added (`gen_ai.server.time_to_first_token_seconds`): {_PROMETHEUS}; needs "
        f"Prometheus 3 with UTF-8 names.", metric=utf8_with_suffixes),
    "NoTranslation": Naming(
        f"Names kept as the convention writes them (`gen_ai.server.time_to_first_token`): {_PROMETHEUS} from "
        f"Prometheus 3.4.0 (experimental); needs UTF-8 names.", metric=_own),
}

_REQUESTS = "gen_ai.server.request.duration"
_FAILED = ("error.type", "=~", ".+")  # error.type is set on failed requests only

ENGINE = Engine(
    name="otel-genai",
    title="OpenTelemetry GenAI",
    model_label="gen_ai.request.model",  # the model the client asked for (gen_ai.response.model: what answered)
    oldest=v("1.27.0"),
    metrics=METRICS,
    signals={
        "ttft": Histogram(("gen_ai.server.time_to_first_token",)),
        "tpot": Histogram(("gen_ai.server.time_per_output_token",)),
        "e2e": Histogram((_REQUESTS,)),
        "requests": Counters((Part(_REQUESTS, suffix="_count"),)),
        "errors": Counters((Part(_REQUESTS, (_FAILED,), suffix="_count", optional=True),)),
        "prompt_tokens": Counters((Part("gen_ai.client.token.usage", (("gen_ai.token.type", "=", "input"),),
                                        suffix="_sum"),)),
        "generation_tokens": Counters((Part("gen_ai.client.token.usage", (("gen_ai.token.type", "=", "output"),),
                                            suffix="_sum"),)),
    },
    cannot_show={
        "itl": "The GenAI conventions define no server inter-token latency; gen_ai.server.time_per_output_token "
               "is per response (TPOT).",
        "queue_time": "The GenAI conventions define no queue metric.",
        "running": "The GenAI conventions define no gauge of running requests: the engine's own metrics show it.",
        "waiting": "The GenAI conventions define no gauge of waiting requests: the engine's own metrics show it.",
        "kv_cache": "The GenAI conventions define no KV-cache metric: the engine's own metrics show it.",
        "preemptions": "The GenAI conventions define no preemption metric.",
        "model_load": "The GenAI conventions define no model-load metric; cold start comes from kube-state-metrics.",
        "batch_occupancy": "The GenAI conventions define no batch metric.",
        "prefill_time": "The GenAI conventions define no prefill or decode phase metric.",
        "decode_time": "The GenAI conventions define no prefill or decode phase metric.",
        "prompt_length": "Token counts are gen_ai.client.token.usage, measured by clients; its distribution is not "
                         "charted.",
        "finish_reasons": "The GenAI conventions count no finish reasons in metrics.",
        "prefix_cache_hits": "The GenAI conventions define no prefix-cache metric.",
    },
    container="app",  # the instrumented process; an OTLP push has no scrape target to count
    image_pattern=".+:v?{version}(?:[-@+].*)?",
    official_image="example.org/instrumented-llm-server:{version}",
    metrics_port=9464,  # the OpenTelemetry SDK's Prometheus exporter
    matcher_examples={".+": "timeout"},
    workload_attributes=("k8s.namespace.name", "k8s.pod.name"),
    namings=NAMINGS,
    runbook_notes={
        "LLMModelDown": "Pushed OpenTelemetry metrics have no per-pod scrape target: for a model with "
                        "kubernetes_labels: resource_attributes, the ready pods stand in for engine targets, so "
                        "this alert means no pod is Ready.",
        "LLMErrorBudgetBurn": "Failed requests are gen_ai.server.request.duration observations carrying error.type; "
                              "group the request-duration _count by error_type to see which errors.",
        "LLMTelemetryMissing": "Check the translation strategy (models[].metric_naming) against the stored names "
                               "(`_seconds` suffix or not, dots or underscores), that gen_ai.request.model is set, "
                               "and, for pushed metrics, that k8s.namespace.name and k8s.pod.name are promoted to "
                               "labels (otlp.promote_resource_attributes or resource_to_telemetry_conversion).",
    },
    requirements=(
        "Send the metrics to Prometheus 3's OTLP receiver (--web.enable-otlp-receiver) or through an OpenTelemetry "
        "Collector, and set the model's metric_naming to the translation strategy in use.",
        "The instrumentation must pass the advised bucket boundaries; the SDK's default buckets differ, and SLO "
        "thresholds must be bucket bounds.",
        "gen_ai.request.model must be set (conditionally required since v1.41.0).",
    ),
)
