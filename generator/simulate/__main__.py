"""`python -m generator.simulate`: the simulate command on its own (same as `python -m generator simulate`)."""
import argparse
import logging
import sys

from generator import command_line
from generator.simulate import HELP, add_arguments, run


def main(argv=None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m generator.simulate", description=HELP)
    add_arguments(parser)
    return command_line.run(run, parser.parse_args(argv))


sys.exit(main())
