"""`python -m generator validate`: run every check on the shipped output; exit 1 on any error.

The CLI registers it with `validate_command.register(sub)`.
"""
from __future__ import annotations

import argparse
import sys
import time

from generator.command_line import EXIT_OK, EXIT_USER, add_common_arguments
from generator.validate import report, validate
from generator.validate.findings import ERROR


def register(subparsers) -> argparse.ArgumentParser:
    text = "check dashboards and rules against the inventory and the metric catalog, offline"
    cmd = subparsers.add_parser("validate", help=text, description=text)
    add_common_arguments(cmd)
    cmd.add_argument("--format", choices=("text", "json"), default="text",
                     help="text for people (default), json for CI")
    cmd.set_defaults(func=run)
    return cmd


def run(args) -> int:
    started = time.perf_counter()
    findings = validate(args.inventory, args.output)
    elapsed = time.perf_counter() - started
    render = report.as_json if args.format == "json" else report.text
    sys.stdout.write(render(findings, elapsed))
    return EXIT_USER if any(f.severity >= ERROR for f in findings) else EXIT_OK
