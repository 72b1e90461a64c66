"""Command line: `python -m generator generate|check|validate|publish|simulate`.

Exit codes (generator.command_line): 0 success, 1 a user error (bad inventory, stale output),
3 a bug, 130 interrupted.
"""
from __future__ import annotations

import argparse
import importlib
import itertools
import json
import logging
import sys
import time
from importlib import metadata
from pathlib import Path

from generator import inventory as inventory_mod
from generator import output
from generator.command_line import EXIT_OK, EXIT_USER, add_common_arguments, run
from generator.errors import GeneratorError, InventoryError, InventoryErrors

DISTRIBUTION = "llm-observability-generator"
# The subcommands with a module of their own (its `register`), imported only when they run or the command
# line names none of the commands: publish then does not load grafanalib, nor generate the HTTP client.
OWN_MODULES = {"validate": "generator.validate.command", "publish": "generator.publish.command",
               "simulate": "generator.simulate"}
COMMANDS = ("generate", "check", *OWN_MODULES)


def version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """`argv` (default: the process's arguments) picks the subcommand modules to import."""
    parser = argparse.ArgumentParser(prog="python -m generator", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"llm-observability {version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text, func in (("generate", "write dashboards/ and alerts/ from the inventory", generate),
                             ("check", "fail with a diff when the committed output is not what generate writes",
                              check)):
        cmd = sub.add_parser(name, help=text, description=text)
        add_common_arguments(cmd)
        cmd.add_argument("--format", choices=("text", "json"), default="text",
                         help="text for people (default), json for CI")
        cmd.set_defaults(func=func)
    words = [arg for arg in (sys.argv[1:] if argv is None else argv) if not arg.startswith("-")]
    chosen = words[0] if words and words[0] in COMMANDS else None
    for name, module in OWN_MODULES.items():
        if chosen in (name, None):
            importlib.import_module(module).register(sub)
    return parser


def generate(args) -> int:
    from generator.build import OUTPUT_DIRS, build  # grafanalib and the rule builders: only to build

    started = time.perf_counter()
    inventory = inventory_mod.load(args.inventory)
    files = build(inventory)
    changes = output.write(files, Path(args.output), OUTPUT_DIRS, inventory=inventory.digest())
    elapsed = time.perf_counter() - started
    if args.format == "json":
        _print_json({"ok": True, "files": len(files), "written": changes.written, "unchanged": len(changes.unchanged),
                     "removed": changes.removed, "foreign": changes.foreign, "seconds": round(elapsed, 3)})
        return EXIT_OK
    print(f"{len(files)} files: {len(changes.written)} written, {len(changes.unchanged)} unchanged, "
          f"{len(changes.removed)} stale removed ({elapsed:.2f} s)")
    for rel in changes.kept:
        print(f"note: {rel} is no longer generated but was edited since generate wrote it: left in place",
              file=sys.stderr)
    for rel in changes.foreign:
        print(f"note: {rel} was not written by generate and was left in place", file=sys.stderr)
    return EXIT_OK


def check(args) -> int:
    from generator.build import OUTPUT_DIRS, build

    inventory = inventory_mod.load(args.inventory)
    files = build(inventory)
    difference = output.diff(files, Path(args.output), OUTPUT_DIRS, inventory=inventory.digest())
    if args.format == "json":
        _print_json({"ok": not difference, "files": len(files), "stale": _stale_paths(difference),
                     "diff": difference})
        return EXIT_USER if difference else EXIT_OK
    if difference:
        sys.stdout.write(difference)
        print(f"\nThe generated files under {args.output} are stale: run `make generate` and commit.", file=sys.stderr)
        return EXIT_USER
    print(f"{len(files)} generated files are current.")
    return EXIT_OK


def _stale_paths(difference: str) -> list[str]:
    """The files a unified diff from `output.diff` touches: changed, missing or no longer generated."""
    lines = difference.splitlines()
    paths = set()
    for old, new in itertools.pairwise(lines):
        if old.startswith(("--- a/", "--- /dev/null")) and new.startswith(("+++ b/", "+++ /dev/null")):
            paths.add(new[6:] if new.startswith("+++ b/") else old[6:])
    return sorted(paths)


def _errors(exc: GeneratorError) -> list[dict]:
    """Each problem on its own, located where the inventory's errors are."""
    found = exc.errors if isinstance(exc, InventoryErrors) else [exc]
    return [{"file": e.file, "line": e.line, "path": e.path, "message": e.message} if isinstance(e, InventoryError)
            else {"message": str(e)} for e in found]


def _print_json(document: dict) -> None:
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a message quoting odd input must not fail to print
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    args = _parser(argv).parse_args(argv)

    def as_json(exc: GeneratorError) -> None:
        if getattr(args, "format", None) == "json":
            _print_json({"ok": False, "errors": _errors(exc)})

    return run(args.func, args, as_json)
