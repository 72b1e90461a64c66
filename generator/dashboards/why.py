"""The model dashboard's "why" rows: where a request's time goes and what clients ask for.

Per engine and version from the catalog: vLLM's request phases (queue, prefill,
decode), waiting requests by reason, prompt and generation lengths, the max_tokens
and n clients ask for, finish reasons and prefix-cache hits, speculative-decoding
acceptance and LoRA adapters (which vLLM exports only with those features on: the
panel then says so); Triton's queue and compute time from its cumulative duration
counters. What an
engine version cannot show gets a text panel saying why, never an empty chart.
"""
from __future__ import annotations

from generator.dashboards import panels as p
from generator.dashboards.layout import Section, spread
from generator.queries import ModelQueries, PodQueries

LIVE = "$__rate_interval"
# Request phases, in the order a request passes them; each engine exposes some of them.
PHASES = {"queue_time": "queue", "prefill_time": "prefill", "decode_time": "decode", "compute_time": "compute"}
LENGTH_QUANTILES = ("0.5", "0.95")


def why_sections(q: ModelQueries, why_not) -> list[Section]:
    """Collapsed rows, below the fold: opened when the golden signals say something is wrong."""
    return [
        Section("why.time", "Why: where a request's time goes", spread([_phases(q, why_not), _waiting(q, why_not)]),
                collapsed=True),
        Section("why.workload", "Why: what clients ask for", spread(_workload(q, why_not)), collapsed=True),
        Section("why.features", "Why: speculative decoding and LoRA adapters",
                spread([_speculative(q, why_not), _lora(q, why_not)]), collapsed=True),
    ]


def _needs(q: ModelQueries, signal: str) -> str:
    """What the engine must have switched on for the signal's metrics to appear ("" when nothing)."""
    return " ".join(dict.fromkeys(q.engine.metric(name).requires for name in q.signal(signal).metric_names()
                                  if q.engine.metric(name).requires))


def _speculative(q: ModelQueries, why_not):
    if not (q.has("spec_decode_accepted_tokens") and q.has("spec_decode_draft_tokens")):
        return why_not(q, "why.spec_decode", "Speculative decoding acceptance", "spec_decode_accepted_tokens")
    needs = _needs(q, "spec_decode_accepted_tokens")
    return p.timeseries(
        "why.spec_decode", "Speculative decoding acceptance",
        f"Share of draft tokens the target model accepted (accepted over proposed draft tokens). A falling share "
        f"means the draft model guesses worse for the current traffic, so each step yields fewer tokens and "
        f"inter-token latency grows. {needs}",
        p.RATIO, [p.target(q.ratio("spec_decode_accepted_tokens", "spec_decode_draft_tokens", LIVE),
                           "acceptance")], minimum=0, maximum=1,
        no_value="No speculative decoding" if needs else None)


def _lora(q: ModelQueries, why_not):
    if not q.has("lora_adapters"):
        return why_not(q, "why.lora", "LoRA adapters", "lora_adapters")
    labels = ("running_lora_adapters", "waiting_lora_adapters", "max_lora")
    names = {"running_lora_adapters": "Running adapters", "waiting_lora_adapters": "Waiting adapters",
             "max_lora": "Max adapters per batch"}
    needs = _needs(q, "lora_adapters")
    return p.table(
        "why.lora", "LoRA adapters",
        f"Per pod the Pod variable selects, the LoRA adapters its running requests use, those waiting requests "
        f"need, and how many adapters one batch may hold (max_lora). Requests waiting on adapters that do not "
        f"fit the batch wait for a slot even with capacity free. {needs}",
        [p.target(PodQueries(q).latest_labels("lora_adapters", *labels), instant=True, table=True)],
        transformations=[{"id": "organize", "options": {
            "excludeByName": {"Time": True, "Value": True}, "renameByName": names,
            "indexByName": {name: i for i, name in enumerate(("pod", *labels))}}}],
        overrides=[], height=p.HEIGHT, width=8, no_value="No LoRA adapters" if needs else None)


def _phases(q: ModelQueries, why_not):
    targets = [p.target(q.mean(signal, LIVE), name) for signal, name in PHASES.items() if q.has_mean(signal)]
    if not targets:
        return why_not(q, "why.phases", "Time per request phase", "queue_time")
    return p.timeseries(
        "why.phases", "Time per request phase",
        "Mean seconds a request spends in each phase the engine measures (vLLM: waiting in the scheduler queue, "
        "prefill, decode; Triton: queued, computing). A growing queue says capacity; a growing prefill says "
        "longer prompts or a cold prefix cache; a growing decode says longer outputs or bigger batches.",
        p.SECONDS, targets)


def _waiting(q: ModelQueries, why_not):
    if not q.has("waiting_by_reason"):
        return why_not(q, "why.waiting_by_reason", "Waiting requests by reason", "waiting_by_reason")
    return p.timeseries(
        "why.waiting_by_reason", "Waiting requests by reason",
        "Requests waiting to be scheduled, by why: capacity (no room in the batch or the KV cache: add replicas "
        "or shorten requests) or deferred (held back by the scheduler on purpose, for example waiting for a "
        "remote KV transfer). The reasons sum to the waiting requests.",
        p.SHORT, [p.target(q.gauge_by("waiting_by_reason", "reason"), "{{reason}}")], minimum=0)


def _requested(q: ModelQueries, why_not) -> list:
    """What clients ask for besides the prompt: the max_tokens and n request parameters."""
    result = []
    if q.has("max_tokens_requested"):
        targets = [p.target(q.quantile("max_tokens_requested", quantile, LIVE),
                            f"max_tokens p{int(float(quantile) * 100)}") for quantile in LENGTH_QUANTILES]
        if q.has("generation_length"):
            targets.append(p.target(q.quantile("generation_length", "0.95", LIVE), "generated p95"))
        result.append(p.timeseries(
            "why.max_tokens", "Requested max_tokens",
            "Median and 95th percentile of the max_tokens clients set, per finished request, next to the tokens "
            "generated. Generation reaching max_tokens means answers are cut short (finish reason length); "
            "max_tokens far above it reserves KV cache the requests never use.", "suffix: tok", targets))
    else:
        result.append(why_not(q, "why.max_tokens", "Requested max_tokens", "max_tokens_requested"))
    if q.has("n_requested"):
        result.append(p.timeseries(
            "why.n", "Completions per request (n)",
            "Mean of the n request parameter: completions generated per request. Above 1, each request costs "
            "that many generations.", p.SHORT, [p.target(q.mean("n_requested", LIVE), "mean n")], minimum=0))
    else:
        result.append(why_not(q, "why.n", "Completions per request (n)", "n_requested"))
    return result


def _workload(q: ModelQueries, why_not) -> list:
    result = []
    if q.has("prompt_length") and q.has("generation_length"):
        targets = [p.target(q.quantile(signal, quantile, LIVE), f"{what} p{int(float(quantile) * 100)}")
                   for signal, what in (("prompt_length", "prompt"), ("generation_length", "generation"))
                   for quantile in LENGTH_QUANTILES]
        result.append(p.timeseries(
            "why.lengths", "Prompt and generation length",
            "Median and 95th percentile of prompt and generated tokens per finished request, from the engine's "
            "histograms (1-2-5 buckets, so percentiles are interpolated within a bucket).", "suffix: tok", targets))
    else:
        result.append(why_not(q, "why.lengths", "Prompt and generation length", "prompt_length"))
    if q.has("finish_reasons"):
        result.append(p.timeseries(
            "why.finish_reasons", "Finished requests by reason",
            "Finished requests per second by why they ended: stop (end of sequence or stop string), length (hit "
            "max_tokens), abort (client went away), error (from vLLM 0.13). A rise in length means clients ask for "
            "more than they get; in abort, that they give up waiting.",
            p.REQPS, [p.target(q.rate_by("finish_reasons", "finished_reason", LIVE), "{{finished_reason}}")]))
    else:
        result.append(why_not(q, "why.finish_reasons", "Finished requests by reason", "finish_reasons"))
    if q.has("prefix_cache_hits") and q.has("prefix_cache_queries"):
        result.append(p.timeseries(
            "why.prefix_cache", "Prefix cache hit rate",
            "Share of queried prompt tokens found in the prefix cache (token-weighted: hits over queries). A drop "
            "means more prefill work per request, so later first tokens.",
            p.RATIO, [p.target(q.ratio("prefix_cache_hits", "prefix_cache_queries", LIVE), "hit rate")],
            minimum=0, maximum=1))
    else:
        result.append(why_not(q, "why.prefix_cache", "Prefix cache hit rate", "prefix_cache_hits"))
    return result + _requested(q, why_not)
