"""Command line: `python -m generator generate|check|validate|publish|simulate`.

Exit codes: 0 success, 1 a user error (bad inventory, stale output), 3 a bug.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
import traceback
from pathlib import Path

from generator import inventory as inventory_mod
from generator import output, simulate
from generator.build import OUTPUT_DIRS, build
from generator.errors import GeneratorError
from generator.publish import command as publish_command
from generator.validate import command as validate_command

EXIT_OK, EXIT_USER, EXIT_BUG = 0, 1, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m generator", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text, func in (("generate", "write dashboards/ and alerts/ from the inventory", generate),
                             ("check", "fail with a diff when the committed output is not what generate writes",
                              check)):
        cmd = sub.add_parser(name, help=text, description=text)
        add_common_arguments(cmd)
        cmd.set_defaults(func=func)
    validate_command.register(sub)
    publish_command.register(sub)
    simulate.register(sub)
    return parser


def add_common_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--inventory", default="inventory.yaml", help="model inventory (default: %(default)s)")
    cmd.add_argument("--output", default=".", help="folder holding dashboards/ and alerts/ (default: %(default)s)")


def generate(args) -> int:
    started = time.perf_counter()
    files = build(inventory_mod.load(args.inventory))
    changes = output.write(files, Path(args.output), OUTPUT_DIRS)
    elapsed = time.perf_counter() - started
    print(f"{len(files)} files: {len(changes.written)} written, {len(changes.unchanged)} unchanged, "
          f"{len(changes.removed)} stale removed ({elapsed:.2f} s)")
    for rel in changes.kept:
        print(f"note: {rel} is no longer generated but was edited since generate wrote it: left in place",
              file=sys.stderr)
    for rel in changes.foreign:
        print(f"note: {rel} was not written by generate and was left in place", file=sys.stderr)
    return EXIT_OK


def check(args) -> int:
    files = build(inventory_mod.load(args.inventory))
    difference = output.diff(files, Path(args.output), OUTPUT_DIRS)
    if difference:
        sys.stdout.write(difference)
        print(f"\nThe generated files under {args.output} are stale: run `make generate` and commit.", file=sys.stderr)
        return EXIT_USER
    print(f"{len(files)} generated files are current.")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a message quoting odd input must not fail to print
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except GeneratorError as exc:
        print(f"error: {exc}" if "\n" not in str(exc) else f"error:\n{exc}", file=sys.stderr)
        return EXIT_USER
    except Exception:
        traceback.print_exc()
        print("This is a bug in the generator; please report it with the traceback above.", file=sys.stderr)
        return EXIT_BUG
