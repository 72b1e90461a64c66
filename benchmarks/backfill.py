"""History for the rules benchmark: the recorded series the long windows read, written as TSDB blocks.

`long_reads` finds, in the generated rule files, every range selector of 1h or longer and the recorded
series it selects: the recording rules of that name whose label sets (the rule's labels over the labels its
expression keeps, derived from the expression and, for recorded inputs, recursively from their rules) match
its matchers, each at its group's interval, over the longest window (range plus offset) that reads it.
`backfill` writes those series from `span` before now up to now with a healthy fleet's varying values, as
OpenMetrics, one file per block-aligned slice (promtool parses its input once per block it writes), and
turns each into a block with `promtool tsdb create-blocks-from openmetrics`, two at a time, while the next
slice is written. Selectors of raw (scraped) series are reported, not backfilled.
"""
from __future__ import annotations

import math
import random
import re
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import promql_parser as pp
import yaml

from generator.prometheus_syntax import duration_seconds
from generator.validate.expr import walk

LONG = timedelta(hours=1)
BLOCK = 54 * 3600  # one of TSDB's compaction ranges (2h x 3^3): the server keeps such blocks as they are
SCALAR = "scalar"
PARALLEL = 2  # promtool conversions at a time (it parses one slice on one core)


@dataclass(frozen=True)
class Series:
    name: str
    labels: tuple[tuple[str, str], ...]  # sorted, without __name__
    every: float  # seconds between samples: the interval of the group recording it


@dataclass
class Reads:
    spans: dict[Series, float] = field(default_factory=dict)  # series -> seconds of history the windows read
    raw: set[str] = field(default_factory=set)  # long selectors of scraped series (not backfilled)
    unknown: set[str] = field(default_factory=set)  # recorded names whose label sets depend on scraped data


@dataclass
class _Rule:
    expr: object
    labels: dict[str, str]
    every: float


class _Recorded:
    """Recording rules by name, and the label sets of the series each name gets (None: depends on data)."""

    def __init__(self, rules: dict[str, list[_Rule]]) -> None:
        self.rules = rules
        self.sets: dict[str, list[tuple[dict[str, str] | None, float]]] = {}
        self.index: dict[str, dict[tuple[str, str], set[int]]] = {}

    def of(self, name: str) -> list[tuple[dict[str, str] | None, float]]:
        if name not in self.sets:
            self.sets[name] = []  # a cycle reads nothing
            found = []
            for rule in self.rules[name]:
                sets = label_sets(rule.expr, self)
                if sets is None or sets == SCALAR:
                    found.append((None, rule.every))
                else:
                    found.extend(({**s, **rule.labels}, rule.every) for s in sets)
            self.sets[name] = found
            index: dict[tuple[str, str], set[int]] = defaultdict(set)
            for i, (labels, _) in enumerate(found):
                for pair in (labels or {}).items():
                    index[pair].add(i)
            self.index[name] = index
        return self.sets[name]

    def matching(self, selector) -> list[tuple[dict[str, str] | None, float]]:
        """The recorded series `selector` selects (a None label set: one this benchmark cannot derive)."""
        found = self.of(selector.name)
        matchers = [m for m in selector.matchers.matchers if m.name != "__name__"]
        candidates: set[int] | None = None
        for m in matchers:
            if m.op == pp.MatchOp.Equal and m.value:
                hits = self.index[selector.name].get((m.name, m.value), set())
                candidates = hits if candidates is None else candidates & hits
        chosen = range(len(found)) if candidates is None else sorted(candidates)
        unknown = [found[i] for i in range(len(found)) if found[i][0] is None]
        kept = [found[i] for i in chosen if found[i][0] is not None and all(_matches(m, found[i][0]) for m in matchers)]
        return kept + unknown


def _matches(matcher, labels: dict[str, str]) -> bool:
    value = labels.get(matcher.name, "")
    if matcher.op == pp.MatchOp.Equal:
        return value == matcher.value
    if matcher.op == pp.MatchOp.NotEqual:
        return value != matcher.value
    hit = re.fullmatch(matcher.value, value) is not None
    return hit if matcher.op == pp.MatchOp.Re else not hit


def _unique(sets: list[dict[str, str]]) -> list[dict[str, str]]:
    return [dict(s) for s in dict.fromkeys(tuple(sorted(s.items())) for s in sets)]


def label_sets(node, recorded: _Recorded):
    """The label sets (without __name__) of what `node` returns: a list, SCALAR, or None when they come from
    scraped series."""
    if isinstance(node, (pp.NumberLiteral, pp.StringLiteral)):
        return SCALAR
    if isinstance(node, (pp.ParenExpr, pp.UnaryExpr, pp.SubqueryExpr)):
        return label_sets(node.expr, recorded)
    if isinstance(node, pp.MatrixSelector):
        node = node.vector_selector
    if isinstance(node, pp.VectorSelector):
        if node.name not in recorded.rules:
            return None
        found = recorded.matching(node)
        return None if any(s is None for s, _ in found) else _unique([s for s, _ in found])
    if isinstance(node, pp.Call):
        name = node.func.name
        if name == "vector":
            return [{}]
        if name in ("time", "scalar", "pi"):
            return SCALAR
        if name in ("label_replace", "label_join", "absent", "absent_over_time", "count_values"):
            return None
        args = [label_sets(a, recorded) for a in node.args if isinstance(a, pp.Expr)]
        return next((a for a in args if a != SCALAR), SCALAR)
    if isinstance(node, pp.AggregateExpr):
        inner = label_sets(node.expr, recorded)
        if inner == []:
            return []
        if str(node.op) in ("topk", "bottomk", "count_values"):
            return inner if str(node.op) != "count_values" else None
        if node.modifier is None:
            return [{}]
        if inner is None:
            return None
        keep = set(node.modifier.labels)
        if node.modifier.type == pp.AggModifierType.By:
            return _unique([{k: v for k, v in s.items() if k in keep} for s in inner])
        return _unique([{k: v for k, v in s.items() if k not in keep} for s in inner])
    if isinstance(node, pp.BinaryExpr):
        lhs, rhs = label_sets(node.lhs, recorded), label_sets(node.rhs, recorded)
        if lhs == SCALAR:
            return rhs
        if rhs == SCALAR:
            return lhs
        op = str(node.op)
        if op == "or":
            return None if lhs is None or rhs is None else _unique(lhs + rhs)
        modifier = node.modifier
        if modifier and modifier.card == pp.VectorMatchCardinality.OneToMany:
            return rhs if not modifier.group_labels else None
        if modifier and modifier.card == pp.VectorMatchCardinality.ManyToOne and modifier.group_labels:
            return None
        return lhs
    return None


def long_reads(rule_files: list[str], interval: float) -> Reads:
    """Every recorded series a range selector of 1h or longer reads, with the history it needs."""
    rules: dict[str, list[_Rule]] = defaultdict(list)
    selectors = []
    for path in rule_files:
        for group in yaml.load(Path(path).read_text(), Loader=yaml.CSafeLoader)["groups"]:
            every = duration_seconds(group["interval"]) if "interval" in group else interval
            for rule in group["rules"]:
                expr = pp.parse(rule["expr"])
                if "record" in rule:
                    rules[rule["record"]].append(_Rule(expr, dict(rule.get("labels") or {}), every))
                selectors.extend((n.vector_selector, (n.range + (n.vector_selector.offset or timedelta()))
                                  .total_seconds()) for n, _ in walk(expr)
                                 if isinstance(n, pp.MatrixSelector) and n.range >= LONG)
    recorded = _Recorded(rules)
    reads = Reads()
    for selector, span in selectors:
        if selector.name not in rules:
            reads.raw.add(selector.name)
            continue
        for labels, every in recorded.matching(selector):
            if labels is None:
                reads.unknown.add(selector.name)
                continue
            series = Series(selector.name, tuple(sorted(labels.items())), every)
            reads.spans[series] = max(reads.spans.get(series, 0.0), span)
    return reads


# -- values ---------------------------------------------------------------------------------------------
VARIANTS = 4  # value sequences per kind, series take one by their labels; good and total share it
POOL = 4099  # values per sequence, repeated: a prime, so no two slices start alike


def _kind(name: str) -> str:
    """What a recorded series' value is, by its name: a good-events rate, an error ratio, a within-SLO ratio,
    or a rate."""
    if "good" in name:
        return "good"
    if "ratio" in name:
        return "error_ratio" if "error" in name else "ratio"
    return "rate"


def _values(kind: str, variant: int, every: float) -> list[str]:
    """A healthy model's values, one per `every` seconds: traffic with a daily swing and noise; good events
    0.05 to 0.2 % below it (within every SLO); ratios to match."""
    rng = random.Random(variant)
    out = []
    for i in range(POOL):
        day = math.sin(2 * math.pi * i * every / 86400 + variant)
        traffic = (5 + variant) * (1 + 0.4 * day) * (1 + 0.05 * rng.random())
        error = 0.0005 + 0.0015 * random.Random(variant * POOL + i).random()
        value = {"rate": traffic, "good": traffic * (1 - error), "error_ratio": error, "ratio": 1 - error}[kind]
        out.append(f"{value:.6g}")
    return out


def _variant(series: Series) -> int:
    return sum(map(ord, "".join(v for _, v in series.labels))) % VARIANTS


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _write_slice(path: Path, spans: dict[Series, float], start: int, stop: int, end: int) -> int:
    """OpenMetrics for the samples of [start, stop) of every series (each from `end` minus its span to `end`),
    one series after another, in time order; the samples written. Series of one kind, variant, interval and
    span share their values: their text is one template with each series' name and labels put in."""
    alike: dict[tuple[str, int, float, float], list[Series]] = defaultdict(list)
    for series, span in spans.items():
        alike[(_kind(series.name), _variant(series), series.every, span)].append(series)
    written = 0
    with path.open("w") as out:
        for (kind, variant, every, span), members in alike.items():
            first = end - math.floor(span / every) * every
            k0 = max(0, math.ceil((start - first) / every))
            k1 = min(math.floor((end - first) / every), math.ceil((stop - first) / every) - 1)
            if k1 < k0:
                continue
            pool = _values(kind, variant, every)
            digits = 0 if float(every).is_integer() else 3  # OpenMetrics timestamps are seconds
            template = "".join(f"\0{pool[k % POOL]} {first + k * every:.{digits}f}\n" for k in range(k0, k1 + 1))
            for series in members:
                labels = ",".join(f'{k}="{_escape(v)}"' for k, v in series.labels)
                out.write(template.replace("\0", f"{series.name}{{{labels}}} "))
            written += (k1 - k0 + 1) * len(members)
        out.write("# EOF\n")
    return written


@dataclass
class Backfill:
    blocks: Path
    samples: int
    series: int
    seconds: float
    text_bytes: int
    slices: int


def backfill(reads: Reads, folder: Path, end: int) -> Backfill:
    """Blocks of every series of `reads` in `folder / "blocks"`, up to `end` (Unix seconds)."""
    blocks = folder / "blocks"
    blocks.mkdir(parents=True)
    started = time.monotonic()
    longest = max(reads.spans.values(), default=0.0)
    first = math.floor((end - longest) / BLOCK) * BLOCK
    samples = text = slices = 0
    running: list[tuple[subprocess.Popen, Path]] = []
    for start in range(int(first), end + 1, BLOCK):
        path = folder / f"slice-{start}.om"
        written = _write_slice(path, reads.spans, start, start + BLOCK, end)
        if not written:
            path.unlink()
            continue
        samples += written
        text += path.stat().st_size
        slices += 1
        if len(running) == PARALLEL:
            _finish(*running.pop(0))
        running.append((subprocess.Popen(["promtool", "tsdb", "create-blocks-from", "--quiet",
                                          f"--max-block-duration={BLOCK // 3600}h", "openmetrics", str(path),
                                          str(blocks)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT), path))
    for process, path in running:
        _finish(process, path)
    return Backfill(blocks, samples, len(reads.spans), time.monotonic() - started, text, slices)


def _finish(process: subprocess.Popen, path: Path) -> None:
    out, _ = process.communicate()
    path.unlink()
    if process.returncode:
        raise SystemExit(f"promtool tsdb create-blocks-from openmetrics {path.name} failed: {out.decode()[-2000:]}")
