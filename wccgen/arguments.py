"""What the command line's options accept, and how it says they are wrong."""

import argparse

from .gen.options import parse_at_least, parse_rates, parse_size

__all__ = ["NON_NEGATIVE", "POSITIVE", "Parser", "RATES", "SIZE"]


class Parser(argparse.ArgumentParser):
    """Option errors as one line, as every other error (argparse would print the whole usage first)."""

    def error(self, message):
        self.exit(2, f"wccgen: error: {message} (`{self.prog} --help` lists the options)\n")


def argument_type(parse):
    """An argparse type from a parser that raises ``ValueError`` with a message."""
    def convert(text):
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    return convert


SIZE, RATES = argument_type(parse_size), argument_type(parse_rates)
POSITIVE = argument_type(parse_at_least(1, "positive"))
NON_NEGATIVE = argument_type(parse_at_least(0, "non-negative"))
