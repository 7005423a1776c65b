"""The exit status of ``wccgen``: what went wrong, told apart for scripts."""

__all__ = ["EXIT_STATUS", "exit_status"]

#: What each exit status of ``wccgen`` means.
EXIT_STATUS = {0: "success", 1: "the hardware differs from the integer model", 2: "bad input",
               3: "a tool failed (simulator, Yosys, nextpnr): see its log"}


def exit_status(error):
    """The exit status of a command that ended with ``error`` (2 or 3), or ``None`` for a bug (a traceback)."""
    from .gen.synth import DoesNotFit, SynthesisError
    from .sim.harness import SimulationError, SimulatorMissing

    if isinstance(error, DoesNotFit):  # the design asked for is too large: the input, not the tool
        return 2
    if isinstance(error, (SynthesisError, SimulationError, SimulatorMissing)):
        return 3
    if isinstance(error, (ValueError, TypeError, OSError)):
        return 2
    return None
