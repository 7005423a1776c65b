"""Lint of generated Verilog with Verilator."""

import shutil
import subprocess

__all__ = ["STYLE_WARNINGS", "LintError", "lint_verilog"]

#: Warning classes every Amaranth design shows (implicit width extension, case
#: statements over array indices that are not a power of two); all others fail.
STYLE_WARNINGS = ("WIDTH", "CASEINCOMPLETE")


class LintError(RuntimeError):
    """Verilator found a problem in generated Verilog."""


def lint_verilog(path, top=None, models=()):
    """Run ``verilator --lint-only`` on ``path`` (with primitive ``models``); raise :class:`LintError` on failure."""
    if shutil.which("verilator") is None:
        raise LintError("verilator: not found; install it (apt-get install verilator)")
    command = ["verilator", "--lint-only", *(f"-Wno-{w}" for w in STYLE_WARNINGS), str(path), *map(str, models)]
    if top:
        command += ["--top-module", top]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise LintError(f"verilator --lint-only {path}:\n{done.stderr.strip()}")
    return done.stderr
