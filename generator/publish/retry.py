"""Bounded retries with exponential backoff and jitter, honouring a server's Retry-After."""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # tries per request, the first included
    backoff: float = 0.5  # seconds before the second try; doubles each time
    max_delay: float = 30.0  # no single wait is longer; a longer Retry-After ends the retries
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait after failed try number `attempt` (1-based), or None to stop retrying.

        Equal jitter: half the exponential step plus a random share of the other half, so
        clients that failed together do not come back together. A Retry-After is a floor.
        """
        if attempt >= self.attempts:
            return None
        step = min(self.backoff * 2 ** (attempt - 1), self.max_delay)
        wait = step / 2 + self.rng.uniform(0, step / 2)
        if retry_after is not None:
            if retry_after > self.max_delay:
                return None
            wait = max(wait, retry_after)
        return wait


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; the HTTP-date form is read as "unknown" (the backoff applies)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(seconds, 0.0)
