"""What the command line's options accept, and how it says they are wrong."""

import argparse

from .gen.options import parse_at_least, parse_rates, parse_size

__all__ = ["NON_NEGATIVE", "POSITIVE", "Parser", "RATES", "SIZE", "add_eval_options", "add_train_options"]


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


def _tiles(text):
    """``--tiles``: comma-separated tile sides, each a multiple of 8 or ``image``."""
    from .golden.evaluation import check_tile

    tiles = [part.strip() for part in text.split(",") if part.strip()]
    if not tiles:
        raise ValueError(f"must list tile sides such as 16,32,image, got {text!r}")
    return tuple(check_tile(tile if tile == "image" else parse_at_least(1, "positive")(tile)) for tile in tiles)


TILES = argument_type(_tiles)


def _methods(text):
    """``--codecs``: comma-separated compression methods."""
    from .golden.training import METHODS

    methods = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [method for method in methods if method not in METHODS]
    if unknown or not methods:
        raise ValueError(f"must name some of {','.join(METHODS)}, got {text!r}")
    return methods


METHODS_OPTION = argument_type(_methods)


def _codecs_option(parser, verb):
    from .golden.training import METHODS

    parser.add_argument("--codecs", type=METHODS_OPTION, default=None,
                        help=f"{verb} the stages of these methods (some of {','.join(METHODS)}) and their parents "
                             "(default: the shipped stages)")


def _jobs_option(parser):
    import os

    parser.add_argument("--jobs", type=POSITIVE, default=os.cpu_count() or 1,
                        help="worker processes, one PyTorch thread each (default: the machine's cores)")


def add_train_options(parser):
    """The options of ``wccgen train``."""
    from .golden.training import REPLICAS, TUNE_STEPS

    parser.add_argument("--out", default="trained", help="directory for the checkpoints (default ./trained)")
    parser.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    parser.add_argument("--float-steps", type=POSITIVE, default=4000, help="steps of the float stage (default 4000)")
    parser.add_argument("--tune-steps", type=POSITIVE, default=TUNE_STEPS,
                        help=f"steps of every fine-tuning stage (default {TUNE_STEPS})")
    parser.add_argument("--replicas", type=POSITIVE, default=REPLICAS,
                        help=f"training runs (seeds) of every compressed stage (default {REPLICAS})")
    parser.add_argument("--threads", type=POSITIVE, default=1,
                        help="PyTorch threads per process (default 1; results depend on it)")
    _jobs_option(parser)
    parser.add_argument("--keep", action="store_true",
                        help="keep the checkpoints in --out this plan has trained already (resume)")
    parser.add_argument("--force", action="store_true",
                        help="replace checkpoints in --out this plan did not train (refused without it)")
    _codecs_option(parser, "train")


def add_eval_options(parser):
    """The options of ``wccgen eval``."""
    from .golden.evaluation import QUICK, TILES as DEFAULT_TILES
    from .golden.photographs import PHOTOGRAPHS
    from .golden.training import HELD_OUT

    parser.add_argument("--checkpoints", default=None, help="directory of checkpoints (default: the shipped ones)")
    parser.add_argument("--photographs", nargs="+", choices=PHOTOGRAPHS, default=None,
                        help=f"photographs to denoise (default: the held-out {' '.join(HELD_OUT)})")
    parser.add_argument("--crop", type=POSITIVE, default=None, help="use the central CROPxCROP pixels only")
    parser.add_argument("--tiles", type=TILES, default=DEFAULT_TILES,
                        help="tile sides of the hardware-as-built columns, multiples of 8 or 'image' (default "
                             f"{','.join(map(str, DEFAULT_TILES))})")
    parser.add_argument("--replicas", type=POSITIVE, default=None,
                        help="evaluate at most this many seeds of each stage (default: all found)")
    parser.add_argument("--quick", action="store_true",
                        help=f"central {QUICK['crop']}x{QUICK['crop']} crops, one seed, tile {QUICK['tiles'][0]} only")
    _jobs_option(parser)
    _codecs_option(parser, "evaluate")
    parser.add_argument("--plot", default=None, help="write the PSNR/SSIM plot to this PNG")
