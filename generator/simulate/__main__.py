"""`python -m generator.simulate`: the simulate command on its own (same as `python -m generator simulate`)."""
import argparse
import logging
import sys
import traceback

from generator.cli import EXIT_BUG, EXIT_USER
from generator.errors import GeneratorError
from generator.simulate import HELP, add_arguments, run


def main(argv=None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m generator.simulate", description=HELP)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except GeneratorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER
    except Exception:
        traceback.print_exc()
        print("This is a bug in the generator; please report it with the traceback above.", file=sys.stderr)
        return EXIT_BUG


sys.exit(main())
