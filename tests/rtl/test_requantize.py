"""Requantize: elaborates, converts, rejects bad parameters, and matches accelsim.reference.requantize.

The bench runs in-process with amaranth.sim (the block is combinational). Driver: for every shift 0..31 in a
random order, edge values (INT32_MIN/MAX, 0, +-1, the round-half-up halfway points ``k*2**shift +-
2**(shift-1)`` around the int8 limits and zero, the saturation boundaries), random int32 values and small
magnitudes around the int8 range after the shift, shuffled so every lane sees every kind of value, packed
``lanes`` at a time. Monitor: ``o`` after each vector, with no clock edge in between. Reference model:
accelsim.reference.requantize. Checker: the measured latency (the delay at which ``o`` is the model's answer)
is 0 cycles, the documented latency, i.e. every lane of every vector matches at once.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from tests.rtl.benches import check_latency, check_timeline, measure_latency, pack, simulate, unpack

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
LATENCY_CYCLES = 0  # documented in rtl/requantize.py
RANDOM_PER_SHIFT = 24


def edge_values(shift: int) -> list[int]:
    """Values where rounding or saturation changes, for this shift (all inside int32)."""
    half = (1 << shift) >> 1
    out = [INT32_MIN, INT32_MIN + 1, INT32_MAX, INT32_MAX - 1, 0, 1, -1]
    for k in (-(2**24), -129, -128, -127, -2, -1, 0, 1, 2, 126, 127, 128, 2**24 - 1):
        base = k << shift
        for d in (-half - 1, -half, -half + 1, half - 1, half, half + 1, 0):
            out.append(base + d)
    return [v for v in out if INT32_MIN <= v <= INT32_MAX]


@pytest.mark.rtl
def test_requantize_rejects_bad_lanes():
    from accelsim.rtl.requantize import Requantize

    from accelsim.errors import AccelsimError

    with pytest.raises(AccelsimError, match="lanes must be a positive integer"):
        Requantize(0)


@pytest.mark.rtl
def test_requantize_converts():
    from accelsim.rtl.requantize import Requantize
    from amaranth.back import verilog

    text = verilog.convert(Requantize(4), name="requantize")
    assert "module requantize" in text and all(port in text for port in ("shift", "i", "o"))


@pytest.mark.rtl
@pytest.mark.parametrize("lanes", [1, 4, 8])
def test_requantize_matches_reference(lanes):
    from accelsim.rtl.requantize import Requantize

    from accelsim.reference import requantize

    dut, rng = Requantize(lanes), random.Random(lanes + 11)
    outs, model = [], []  # per vector: o as int8 lanes; the reference's

    async def bench(ctx):
        for shift in rng.sample(range(32), 32):
            values = edge_values(shift)
            values += [rng.randint(INT32_MIN, INT32_MAX) for _ in range(RANDOM_PER_SHIFT)]
            values += [rng.randint(-300 << shift, 300 << shift) for _ in range(RANDOM_PER_SHIFT)]
            values = [v for v in values if INT32_MIN <= v <= INT32_MAX]
            rng.shuffle(values)
            values += [0] * (-len(values) % lanes)
            for at in range(0, len(values), lanes):
                vec = values[at:at + lanes]
                ctx.set(dut.shift, shift)
                ctx.set(dut.i, pack(vec, 32))
                outs.append(unpack(ctx.get(dut.o), lanes, 8, signed=True))
                model.append([int(v) for v in requantize(np.array(vec, dtype=np.int32), shift)])

    simulate(dut, bench, clocked=False)
    assert len(outs) * lanes >= 32 * 2 * RANDOM_PER_SHIFT
    check_timeline("requantize lanes", dict(enumerate(outs)), dict(enumerate(model)))  # names the vector
    check_latency("requantize latency (cycles)", [measure_latency(outs, model, range(3))], LATENCY_CYCLES)
