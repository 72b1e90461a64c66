"""PromQL as the checks see it: Grafana variables substituted, parsed once, walked.

Grafana replaces variables before a query reaches Prometheus, so a target such
as `rate(x[$__rate_interval])` only parses once they are substituted. Range
variables become sentinel durations nobody writes by hand, so a check can still
tell `$__rate_interval` from a literal `[5m]`. Variables inside quoted strings
(`model=~"$model"`) become placeholders (`__var_model__`) that matcher checks skip.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import timedelta

import promql_parser as pp

RATE_INTERVAL = timedelta(days=1, hours=1, minutes=1, seconds=1, milliseconds=1)
INTERVAL = timedelta(days=1, hours=1, minutes=1, seconds=2, milliseconds=1)
RANGE = timedelta(days=1, hours=1, minutes=1, seconds=3, milliseconds=1)
_DURATION_VARS = {"__rate_interval": "1d1h1m1s1ms", "__interval": "1d1h1m2s1ms", "__range": "1d1h1m3s1ms",
                  "__auto": "1d1h1m2s1ms"}
_NUMBER_VARS = {"__range_s", "__range_ms", "__interval_ms", "__rate_interval_ms"}
_VARIABLE = re.compile(r"\$\{([\w.]+)(?::[^}]*)?\}|\$([A-Za-z_]\w*)|\[\[([\w.]+)(?::[^\]]*)?\]\]")
PLACEHOLDER = "__var_"
RATE_FUNCTIONS = frozenset({"rate", "irate", "increase"})


@dataclass(frozen=True)
class Parsed:
    ast: object | None
    error: str | None
    text: str  # after substitution

    @property
    def calls(self) -> list:
        """The function calls in the tree, in `walk` order: several checks look at each, walked once."""
        return self._found[0]

    @property
    def selectors(self) -> list:
        """(vector selector, its ancestors, outermost first) in `walk` order."""
        return self._found[1]

    @functools.cached_property
    def _found(self) -> tuple[list, list]:
        calls: list = []
        selectors: list = []
        for node, parents in walk(self.ast) if self.ast is not None else ():
            kind = type(node)
            if kind is pp.Call:
                calls.append(node)
            elif kind is pp.VectorSelector:
                selectors.append((node, parents))
        return calls, selectors


def substitute(text: str) -> str:
    """Replace Grafana variables: durations and numbers outside strings, placeholders inside."""
    if "$" not in text and "[[" not in text:
        return text  # no variable can match: the text comes back as it is (rule expressions)
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'`":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" and c != "`" else 1
            out.append(_VARIABLE.sub(lambda m: f"{PLACEHOLDER}{_name(m)}__", text[i:j + 1]))
            i = j + 1
            continue
        j = i
        while j < n and text[j] not in "\"'`":
            j += 1
        out.append(_VARIABLE.sub(_outside, text[i:j]))
        i = j
    return "".join(out)


def _name(match: re.Match) -> str:
    return next(g for g in match.groups() if g).replace(".", "_")


def _outside(match: re.Match) -> str:
    name = next(g for g in match.groups() if g)
    if name in _DURATION_VARS:
        return _DURATION_VARS[name]
    if name in _NUMBER_VARS:
        return "1"
    return match.group(0)  # unknown here: left for the parser to report


# The native parser recurses without a bound and crashes the process (SIGSEGV) somewhere between 3,000
# and 10,000 levels; what the generator writes stays under 10 levels and 20 operators. Checked before parsing.
MAX_NESTING = 64
MAX_OPERATORS = 200
MAX_LENGTH = 20_000
_OPERATOR_CHARACTERS = "+-*/%^<>=!"


def too_complex(text: str) -> str | None:
    """Why the query is refused before it reaches the parser, or None."""
    if len(text) > MAX_LENGTH:
        return f"the query is longer than the limit of {MAX_LENGTH:,} characters"
    if sum(map(text.count, "([{")) <= MAX_NESTING and sum(map(text.count, _OPERATOR_CHARACTERS)) <= MAX_OPERATORS:
        return None  # counted outside strings, neither can be more than in the whole text: walk only when it may be
    depth = deepest = operators = 0
    quote = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote != "`":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
        elif ch in _OPERATOR_CHARACTERS:
            operators += 1
        i += 1
    if deepest > MAX_NESTING:
        return f"brackets nest {deepest} deep, over the limit of {MAX_NESTING}"
    if operators > MAX_OPERATORS:
        return f"{operators} operator characters, over the limit of {MAX_OPERATORS}"
    return None


def parse(text) -> Parsed:
    if not isinstance(text, str):
        return Parsed(None, f"expected a PromQL string, got {type(text).__name__}", "")
    substituted = substitute(text)
    refused = too_complex(substituted)
    if refused:
        return Parsed(None, f"not parsed: {refused}", substituted)
    try:
        return Parsed(pp.parse(substituted), None, substituted)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # pyo3 panics derive from BaseException
        message = str(exc) or type(exc).__name__
        if "$" in substituted and "$" not in message:
            message += " (a Grafana variable this check does not know is left in the query)"
        return Parsed(None, message, substituted)


# -- walking ------------------------------------------------------------------


def children(node) -> list:
    of = _CHILDREN.get(type(node))
    return of(node) if of is not None else _children(node)


def _children(node) -> list:
    if isinstance(node, (pp.AggregateExpr,)):
        kids = [node.expr]
        if isinstance(node.param, pp.Expr):
            kids.insert(0, node.param)
        return kids
    if isinstance(node, pp.BinaryExpr):
        return [node.lhs, node.rhs]
    if isinstance(node, (pp.ParenExpr, pp.UnaryExpr, pp.SubqueryExpr)):
        return [node.expr]
    if isinstance(node, pp.Call):
        return [a for a in node.args if isinstance(a, pp.Expr)]
    if isinstance(node, pp.MatrixSelector):
        return [node.vector_selector]
    return []


def _no_children(node) -> list:
    return []


# The parser's node classes, exactly (checked in this order by `_children` for anything else): every check
# walks every query, so the common case is one dictionary lookup.
_CHILDREN = {
    pp.AggregateExpr: _children, pp.BinaryExpr: lambda node: [node.lhs, node.rhs],
    pp.ParenExpr: lambda node: [node.expr], pp.UnaryExpr: lambda node: [node.expr],
    pp.SubqueryExpr: lambda node: [node.expr], pp.Call: _children,
    pp.MatrixSelector: lambda node: [node.vector_selector],
    pp.VectorSelector: _no_children, pp.NumberLiteral: _no_children, pp.StringLiteral: _no_children,
}


def walk(node, parents: tuple = ()):
    """Every node with its ancestors, outermost first (depth first, children in order)."""
    stack = [(node, parents)]
    while stack:
        node, parents = stack.pop()
        yield node, parents
        kids = children(node)
        if kids:
            inner = parents + (node,)
            stack.extend((kid, inner) for kid in reversed(kids))


def selectors(node) -> list:
    return [n for n, _ in walk(node) if isinstance(n, pp.VectorSelector)]


def metric_name(vs) -> str | None:
    if vs.name:
        return vs.name
    for m in vs.matchers.matchers:
        if m.name == "__name__" and m.op == pp.MatchOp.Equal:
            return m.value
    return None


def equality_matchers(vs) -> dict[str, str]:
    """label -> value of `=` matchers, without placeholders for Grafana variables."""
    return {m.name: m.value for m in vs.matchers.matchers
            if m.op == pp.MatchOp.Equal and m.name != "__name__" and PLACEHOLDER not in m.value}


def call_name(node) -> str | None:
    return node.func.name if isinstance(node, pp.Call) else None


def agg_op(node) -> str:
    return str(node.op).lower()


def bin_op(node) -> str:
    return str(node.op).lower()


# -- output labels ------------------------------------------------------------


@dataclass(frozen=True)
class Labels:
    """The labels an expression's result may carry; `closed` when no others can appear."""

    names: frozenset
    closed: bool
    scalar: bool = False
    dropped: frozenset = frozenset()  # labels an open set is known not to carry

    def may_have(self, label: str) -> bool:
        return label in self.names or (not self.closed and label not in self.dropped)

    def without(self, labels) -> Labels:
        labels = frozenset(labels)
        return Labels(self.names - labels, self.closed, False, self.dropped | labels)


OPEN = Labels(frozenset(), False)
SCALAR = Labels(frozenset(), True, scalar=True)
_KEEP_LABELS = frozenset({
    "rate", "irate", "increase", "delta", "idelta", "deriv", "predict_linear", "holt_winters",
    "double_exponential_smoothing", "resets", "changes", "abs", "ceil", "floor", "round", "clamp", "clamp_min",
    "clamp_max", "exp", "ln", "log2", "log10", "sqrt", "sgn", "sort", "sort_desc", "sort_by_label",
    "sort_by_label_desc", "timestamp", "avg_over_time", "min_over_time", "max_over_time", "sum_over_time",
    "count_over_time", "quantile_over_time", "stddev_over_time", "stdvar_over_time", "last_over_time",
    "present_over_time", "mad_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh",
    "sin", "sinh", "tan", "tanh", "deg", "rad", "day_of_month", "day_of_week", "day_of_year", "days_in_month",
    "hour", "minute", "month", "year",
})
_SCALAR_FUNCTIONS = frozenset({"time", "scalar", "pi"})
_SELECTION_AGGREGATIONS = frozenset({"topk", "bottomk", "limitk", "limit_ratio"})


def output_labels(node, recorded) -> Labels:
    """The labels `node`'s result may carry.

    `recorded(name, matchers) -> Labels | None` gives the labels of a recorded
    series (from its recording rules); None means unknown. Raw selectors are
    open: the exporter may add any label.
    """
    if isinstance(node, (pp.NumberLiteral,)):
        return SCALAR
    if isinstance(node, pp.StringLiteral):
        return SCALAR
    if isinstance(node, (pp.ParenExpr, pp.SubqueryExpr)):
        return output_labels(node.expr, recorded)
    if isinstance(node, pp.UnaryExpr):
        return output_labels(node.expr, recorded)
    if isinstance(node, pp.MatrixSelector):
        return output_labels(node.vector_selector, recorded)
    if isinstance(node, pp.VectorSelector):
        matched = frozenset(equality_matchers(node))
        name = metric_name(node)
        known = recorded(name, equality_matchers(node)) if name else None
        if known is None:
            return Labels(matched, False)
        return Labels(known.names | matched, known.closed, False, known.dropped - matched)
    if isinstance(node, pp.AggregateExpr):
        return _aggregate(node, recorded)
    if isinstance(node, pp.Call):
        return _call(node, recorded)
    if isinstance(node, pp.BinaryExpr):
        return _binary(node, recorded)
    return OPEN


def _aggregate(node, recorded) -> Labels:
    inner = output_labels(node.expr, recorded)
    op = agg_op(node)
    if op in _SELECTION_AGGREGATIONS:
        return inner
    extra: frozenset[str] = frozenset()
    if op == "count_values" and isinstance(node.param, pp.StringLiteral):
        extra = frozenset({node.param.val})
    modifier = node.modifier
    if modifier is None:
        return Labels(extra, True)
    labels = frozenset(modifier.labels)
    if modifier.type == pp.AggModifierType.By:
        kept = labels if not inner.closed else labels & inner.names
        return Labels(kept | extra, True)
    removed = inner.without(labels)
    return Labels(removed.names | extra, removed.closed, False, removed.dropped - extra)


def _call(node, recorded) -> Labels:
    name = call_name(node)
    args = node.args
    if name in _SCALAR_FUNCTIONS:
        return SCALAR
    if name == "vector":
        return Labels(frozenset(), True)
    if name in ("absent", "absent_over_time"):
        target = args[0].vector_selector if isinstance(args[0], pp.MatrixSelector) else args[0]
        if isinstance(target, pp.VectorSelector):
            return Labels(frozenset(equality_matchers(target)), True)
        return Labels(frozenset(), True)
    if name == "histogram_quantile" and len(args) == 2:
        return output_labels(args[1], recorded).without({"le"})
    if name in ("label_replace", "label_join") and len(args) >= 2:
        inner = output_labels(args[0], recorded)
        dst = args[1].val if isinstance(args[1], pp.StringLiteral) else None
        if dst is None:
            return Labels(inner.names, False)
        return Labels(inner.names | {dst}, inner.closed, False, inner.dropped - {dst})
    if name in _KEEP_LABELS:
        vectors = [a for a in args if isinstance(a, (pp.Expr,)) and not isinstance(a, (pp.NumberLiteral,
                                                                                       pp.StringLiteral))]
        if vectors:
            # quantile_over_time(q, v): the vector is the last argument
            return output_labels(vectors[-1] if name == "quantile_over_time" else vectors[0], recorded)
    return OPEN


def _binary(node, recorded) -> Labels:
    lhs, rhs = output_labels(node.lhs, recorded), output_labels(node.rhs, recorded)
    op = bin_op(node)
    if lhs.scalar and rhs.scalar:
        return SCALAR
    if lhs.scalar:
        return rhs
    if rhs.scalar:
        return lhs
    modifier = node.modifier
    matching = modifier.matching if modifier is not None else None
    if op in ("and", "unless"):
        return lhs
    if op == "or":
        return Labels(lhs.names | rhs.names, lhs.closed and rhs.closed, False, lhs.dropped & rhs.dropped)
    card = modifier.card if modifier is not None else None
    include = frozenset(modifier.group_labels or ()) if modifier is not None else frozenset()
    if card == pp.VectorMatchCardinality.ManyToOne:
        return Labels(lhs.names | include, lhs.closed, False, lhs.dropped - include)
    if card == pp.VectorMatchCardinality.OneToMany:
        return Labels(rhs.names | include, rhs.closed, False, rhs.dropped - include)
    if matching is None:
        return lhs
    labels = frozenset(matching.labels)
    if matching.type == pp.LabelModifierType.Include:  # on (...)
        return Labels(labels & lhs.names if lhs.closed else labels, True)
    return lhs.without(labels)
