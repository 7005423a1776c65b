"""The ``wccgen`` command line."""
import sys
def main(argv=None):
    return 0
