"""What every command shares: exit codes, the --inventory/--output arguments and one way to end.

Exit codes: 0 success; 1 a user error (bad inventory, stale output, validate findings, a failed
publish); 3 a bug, after its traceback; 130 interrupted by Ctrl-C, as a shell reports SIGINT.
`generator.cli`, `python -m generator.simulate` and the publish and validate commands import
this module; it imports none of them.
"""
from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable

from generator.errors import GeneratorError

EXIT_OK, EXIT_USER, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 3, 130


def add_common_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--inventory", default="inventory.yaml", help="model inventory (default: %(default)s)")
    cmd.add_argument("--output", default=".", help="folder holding dashboards/ and alerts/ (default: %(default)s)")


def run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace,
        on_user_error: Callable[[GeneratorError], None] | None = None) -> int:
    """`func(args)`'s exit code; a user error, Ctrl-C or a bug become a message and their exit code.

    `on_user_error` writes the error where a machine reads it too (JSON on stdout) before the
    message for people goes to stderr.
    """
    try:
        return func(args)
    except GeneratorError as exc:
        if on_user_error:
            on_user_error(exc)
        print(f"error: {exc}" if "\n" not in str(exc) else f"error:\n{exc}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:
        traceback.print_exc()
        print("This is a bug in the generator; please report it with the traceback above.", file=sys.stderr)
        return EXIT_BUG
