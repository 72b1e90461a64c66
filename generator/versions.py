"""Engine and exporter versions: dotted numbers compared component by component.

vLLM uses 0.11.2, Triton containers 24.12, dcgm-exporter 3.3.5-3.4.0 (DCGM and
exporter versions joined by a dash; both grow together, so comparing all parts
in order is correct).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

_VERSION = re.compile(r"^v?(\d+(?:[.-]\d+)*)$")


@total_ordering
@dataclass(frozen=True)
class Version:
    parts: tuple[int, ...]
    text: str

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _VERSION.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a version like 0.11.2, 24.12 or 3.3.5-3.4.0")
        return cls(tuple(int(p) for p in re.split(r"[.-]", match.group(1))), text.strip())

    def _key(self) -> tuple[int, ...]:
        # 0.11 == 0.11.0: pad so trailing zeros do not matter.
        return self.parts + (0,) * (8 - len(self.parts))

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return self.text


def v(text: str) -> Version:
    return Version.parse(text)
