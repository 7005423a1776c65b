"""Environment variables set for the length of a tool's run, then restored."""

import os
from contextlib import contextmanager

__all__ = ["temporary_environment"]


@contextmanager
def temporary_environment(variables):
    """Set ``variables`` (name to value) in ``os.environ`` inside the block; restore the earlier values after."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
