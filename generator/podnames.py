"""Pod names that match a model's `pod_regex`, the way a Deployment names its pods (simulator and promtool tests).

The default regex is `<model>-.*`; users may write their own (`qwen-72b-(blue|green)-.*`).
A name is built by walking the parsed regex: literals as written, the first
alternative of a group, and a Deployment-style `<hash>-<suffix>` wherever the
regex accepts any text. The result is checked against the regex.
"""
from __future__ import annotations

import hashlib
import re

# The regex parser behind `re` (Python 3.11+, as pyproject.toml requires); typeshed leaves it out.
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser as _p  # type: ignore[attr-defined]

from generator.errors import GeneratorError

_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # what Kubernetes uses for generated names


def _token(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:length])


def deployment_suffix(seed: str) -> str:
    """`<pod-template-hash>-<random>`, e.g. `7d9f5c6b8x-q2k4z`: one hash per model, one suffix per pod.

    `seed` is `<model>/<pod>`; pods of one model share the template hash, as a Deployment's do.
    """
    template = seed.split("/", 1)[0]
    return f"{_token(template + '/rs', 10)}-{_token(seed + '/pod', 5)}"


def pod_name(pod_regex: str, seed: str) -> str:
    try:
        parsed = _p.parse(pod_regex)
    except re.error as exc:
        raise GeneratorError(f"pod_regex {pod_regex!r} is not a regular expression: {exc}") from None
    name = _walk(parsed, seed).strip("-.") or deployment_suffix(seed)
    if not re.fullmatch(pod_regex, name):
        raise GeneratorError(f"cannot make a pod name that matches pod_regex {pod_regex!r} (tried {name!r}); "
                             f"simplify the regex")
    return name


def _walk(items, seed: str) -> str:
    out = []
    for op, arg in items:
        if op is _c.LITERAL:
            out.append(chr(arg))
        elif op is _c.ANY:
            out.append("x")
        elif op is _c.IN:
            out.append(_in(arg))
        elif op is _c.BRANCH:
            out.append(_walk(arg[1][0], seed))
        elif op is _c.SUBPATTERN:
            out.append(_walk(arg[-1], seed))
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            low, high, sub = arg
            if _accepts_any_text(sub) and (high is _c.MAXREPEAT or high >= 16):
                out.append(deployment_suffix(seed))
            else:
                out.append(_walk(sub, seed) * max(low, 1 if low == 0 and high else 0))
        elif op is _c.AT:
            continue
        else:
            out.append("x")
    return "".join(out)


def _accepts_any_text(sub) -> bool:
    items = list(sub)
    if len(items) != 1:
        return False
    op, arg = items[0]
    if op is _c.ANY:
        return True
    if op is _c.IN:
        return any(o is _c.NEGATE for o, _ in arg) or \
            {(o, a) for o, a in arg} >= {(_c.RANGE, (ord("a"), ord("z")))}
    return False


def _in(items) -> str:
    if any(op is _c.NEGATE for op, _ in items):
        return "x"
    for op, arg in items:
        if op is _c.LITERAL:
            return chr(arg)
        if op is _c.RANGE:
            return chr(arg[0])
        if op is _c.CATEGORY:
            return "0" if arg is _c.CATEGORY_DIGIT else "a"
    return "x"
