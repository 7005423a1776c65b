"""RadixHistogram in Amaranth's simulator against a counting loop: the k-th largest digit and how many of its bin
remain, round after round (each scan leaves the histogram empty)."""

import numpy as np
import pytest

from wccgen.hw.radix_histogram import RadixHistogram, RadixHistogramSpec

from helpers import simulate


def kth_largest_digit(digits, need):
    """The digit where the ``need``-th largest of ``digits`` lies, and how many of that digit are among the
    ``need`` largest: a plain loop over the digit values, from the top."""
    above = 0
    for digit in sorted(set(digits), reverse=True):
        here = sum(1 for d in digits if d == digit)
        if above + here >= need:
            return digit, need - above
        above += here
    raise ValueError("need exceeds the count")


def run_rounds(spec, rounds, idle, seed):
    """Count each round's digits, scan for its ``need``; return the (found, remaining) and the scan's cycles."""
    dut = RadixHistogram(spec)
    rng = np.random.default_rng(seed)
    results = []

    async def bench(ctx):
        for digits, need in rounds:
            await ctx.tick().until(dut.ready)
            for digit in digits:
                while rng.random() < idle:
                    await ctx.tick()
                ctx.set(dut.update, 1)
                ctx.set(dut.digit, int(digit))
                await ctx.tick()
                ctx.set(dut.update, 0)
            for _ in range(spec.update_latency):
                await ctx.tick()
            ctx.set(dut.scan, 1)
            ctx.set(dut.need, need)
            await ctx.tick()
            ctx.set(dut.scan, 0)
            cycles = 1
            while not ctx.get(dut.scan_done):
                await ctx.tick()
                cycles += 1
            results.append((ctx.get(dut.found), ctx.get(dut.remaining), cycles))

    simulate(dut, bench)
    return results


@pytest.mark.parametrize("digit_bits,max_count,idle", [(2, 9, 0.0), (4, 64, 0.3), (7, 200, 0.1)])
def test_radix_histogram_finds_the_kth_largest_digit(digit_bits, max_count, idle):
    rng = np.random.default_rng(digit_bits)
    spec = RadixHistogramSpec(digit_bits=digit_bits, max_count=max_count)
    top = 2 ** digit_bits
    rounds = []
    for digits in (rng.integers(0, top, size=max_count),  # spread
                   np.full(max_count, top - 1),  # one full bin, at the top
                   rng.integers(0, 2, size=max_count // 2 + 1),  # two bins at the bottom
                   np.arange(max_count) % min(top, 8),  # two entries' bins in turn, each in flight at the next
                   np.array([top - 1, 0])):  # a lone digit in each extreme bin
        for need in sorted({1, len(digits), int(rng.integers(1, len(digits) + 1))}):
            rounds.append((digits, need))
    results = run_rounds(spec, rounds, idle, seed=max_count)
    assert [(found, remaining) for found, remaining, _ in results] == [
        kth_largest_digit(list(digits), need) for digits, need in rounds]
    assert [cycles for _, _, cycles in results] == [spec.scan_latency] * len(rounds)


def test_the_oracle_counts_from_the_top():
    assert kth_largest_digit([3, 1, 3, 2, 0], 1) == (3, 1)
    assert kth_largest_digit([3, 1, 3, 2, 0], 3) == (2, 1)
    assert kth_largest_digit([1, 1, 1], 2) == (1, 2)
