"""Checks that the rule files load in every ruler: Prometheus, Thanos, and Mimir's or Cortex's per-group limit."""
from __future__ import annotations

from generator.inventory import MAX_RULES_PER_GROUP
from generator.validate.checks.base import Check
from generator.validate.context import Context
from generator.validate.findings import Finding, Location


class GroupSize(Check):
    """Rule groups hold at most `ruler.max_rules_per_group` rules (default 20, Mimir's and Cortex's ruler limit)."""

    id = "rules/group-size"

    def check(self, ctx: Context) -> list[Finding]:
        limit = ctx.inventory.max_rules_per_group if ctx.inventory is not None else MAX_RULES_PER_GROUP
        sizes: dict[tuple[str, str], int] = {}
        lines: dict[tuple[str, str], int | None] = {}
        for rule in ctx.rules:
            key = (rule.file, rule.group)
            sizes[key] = sizes.get(key, 0) + 1
            lines.setdefault(key, rule.line)
        return [self.finding(Location(file, lines[(file, group)], group=group),
                             f"{size} rules, over the ruler limit of {limit}: Mimir and Cortex answer HTTP 400 to the "
                             f"whole file; `make generate` splits groups (limit: ruler.max_rules_per_group)")
                for (file, group), size in sorted(sizes.items()) if size > limit]


CHECKS = (GroupSize(),)
