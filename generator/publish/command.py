"""`python -m generator publish`: push the generated dashboards to Grafana. The only module here that prints."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from generator import inventory as inventory_mod
from generator.command_line import EXIT_OK, EXIT_USER, add_common_arguments
from generator.publish import config, desired, report
from generator.publish.grafana import Grafana
from generator.publish.publisher import publish

HELP = "publish the generated dashboards to Grafana (only what changed; never overwrites edits made in Grafana)"
EPILOG = "Configuration comes from the environment:\n" + "\n".join(
    f"  {name:<29} {text}" for name, text in config.ENVIRONMENT.items())


def register(subparsers) -> None:
    cmd = subparsers.add_parser("publish", help=HELP, description=HELP, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(cmd)
    cmd.add_argument("--dry-run", action="store_true",
                     help="print the plan (create/update/unchanged/conflict/delete) and unified diffs; write nothing")
    cmd.add_argument("--prune", action="store_true",
                     help="delete dashboards this tool published that are no longer generated (only those)")
    cmd.add_argument("--force", action="store_true",
                     help="overwrite (or, with --prune, delete) managed dashboards changed in Grafana since the "
                          "last publish")
    cmd.add_argument("--verify", action="store_true",
                     help="also read back every managed dashboard to find edits made in Grafana to dashboards "
                          "whose generated content did not change (one extra request per dashboard)")
    cmd.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    cmd.set_defaults(func=run)


def run(args) -> int:
    """Errors end in `command_line.run`, which prints them (as JSON too with --format json)."""
    progress = _ProgressLine() if args.format == "text" and sys.stdout.isatty() else None
    try:
        settings = config.from_env()
        inventory = inventory_mod.load(args.inventory)
        bundle = desired.from_output(inventory, Path(args.output))
        message = desired.version_message(Path(args.inventory).resolve().parent)
        outcome = publish(Grafana(settings), bundle, message=message, dry_run=args.dry_run, prune=args.prune,
                          force=args.force, verify=args.verify, progress=progress)
    finally:
        if progress:
            progress.clear()
    print(report.as_json(outcome) if args.format == "json" else report.as_text(outcome), end="" if
          args.format == "text" else "\n")
    return EXIT_OK if outcome.ok else EXIT_USER


class _ProgressLine:
    """One self-rewriting line on a terminal, at most ten updates a second."""

    def __init__(self):
        self.shown = 0.0
        self.active = False

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.shown < 0.1:
            return
        self.shown, self.active = now, True
        sys.stdout.write(f"\r\033[K{phase} {done}/{total}")
        sys.stdout.flush()

    def clear(self) -> None:
        if self.active:
            sys.stdout.write("\r\033[K")
            sys.stdout.flush()
            self.active = False
