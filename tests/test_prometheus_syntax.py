"""One duration grammar for the inventory, the rules, the manifests and the tests: Prometheus' own."""
from __future__ import annotations

import math
from decimal import Decimal

import pytest

from generator.prometheus_syntax import duration_ms, duration_seconds, duration_text


@pytest.mark.parametrize("text, ms", [("0", 0), ("90s", 90_000), ("1h30m", 5_400_000), ("1d", 86_400_000),
                                      ("250ms", 250), ("1w", 604_800_000)])
def test_durations_parse_as_prometheus_parses_them(text, ms):
    assert duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "5", "1m1h", "1h1h", "-1m", "1.5h", "5M", None, 300])
def test_what_prometheus_refuses_is_not_a_duration(text):
    assert duration_ms(text) is None


def test_whole_seconds_round_down_and_a_non_duration_is_zero():
    assert duration_seconds("1500ms") == 1 and duration_seconds("3d") == 259_200 and duration_seconds("soon") == 0


@pytest.mark.parametrize("seconds, text", [(600, "10m"), (7200, "2h"), (86_400, "1d"), (90, "90s"),
                                           (Decimal("599.2"), "10m"), (Decimal("89.5"), "90s"), (Decimal("3599.5"), "1h")])
def test_seconds_are_written_in_the_largest_exact_unit_rounded_up(seconds, text):
    assert duration_text(seconds) == text
    assert duration_seconds(text) == math.ceil(seconds)
