"""cocotb bench: Requantize (combinational int32 -> int8 per lane) vs accelsim.reference.requantize.

Driver: for every shift 0..31, edge values (INT32_MIN/MAX, 0, +-1, the round-half-up halfway points
``k*2**shift +- 2**(shift-1)`` around the int8 limits and zero, the saturation boundaries) then random
int32 values, packed ``lanes`` at a time; the values are shuffled so every lane sees every kind of value.
Monitor: reads ``o`` one timestep after driving ``i``/``shift`` without any clock edge (the block has no
clock). Reference model: accelsim.reference.requantize. Checker: every lane exactly; the measured latency
(clock edges between input and correct output) is 0, the documented latency.

Environment: ACCELSIM_LANES, ACCELSIM_SEED, ACCELSIM_RANDOM (random vectors per shift).
"""

from __future__ import annotations

import os
import random

import cocotb
import numpy as np
from cocotb.triggers import Timer

from accelsim.reference import requantize

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
LATENCY_CYCLES = 0  # documented in rtl/requantize.py


def edge_values(shift: int) -> list[int]:
    """Values where rounding or saturation changes, for this shift (all inside int32)."""
    half = (1 << shift) >> 1
    out = [INT32_MIN, INT32_MIN + 1, INT32_MAX, INT32_MAX - 1, 0, 1, -1]
    for k in (-(2**24), -129, -128, -127, -2, -1, 0, 1, 2, 126, 127, 128, 2**24 - 1):
        base = k << shift
        for d in (-half - 1, -half, -half + 1, half - 1, half, half + 1, 0):
            out.append(base + d)
    return [v for v in out if INT32_MIN <= v <= INT32_MAX]


class TB:
    def __init__(self, dut, lanes: int) -> None:
        self.dut = dut
        self.lanes = lanes
        self.checked = 0

    async def drive(self, shift: int, values: list[int]) -> list[int]:
        """Driver + monitor: apply one vector, let it settle (no clock), read the lanes back as int8."""
        self.dut.shift.value = shift
        self.dut.i.value = sum((v & 0xFFFFFFFF) << (32 * lane) for lane, v in enumerate(values))
        await Timer(1, unit="ns")
        word = self.dut.o.value.to_unsigned()
        return [((word >> (8 * lane)) & 0xFF) - (256 if (word >> (8 * lane + 7)) & 1 else 0)
                for lane in range(self.lanes)]

    async def check(self, shift: int, values: list[int]) -> None:
        values = values + [0] * (-len(values) % self.lanes)
        for at in range(0, len(values), self.lanes):
            vec = values[at:at + self.lanes]
            got = await self.drive(shift, vec)
            want = [int(v) for v in requantize(np.array(vec, dtype=np.int32), shift)]
            assert got == want, f"shift {shift}: requantize({vec}) rtl {got} != reference {want}"
            self.checked += len(vec)


@cocotb.test()
async def requantize_matches_reference(dut):
    lanes = int(os.environ["ACCELSIM_LANES"])
    rng = random.Random(int(os.environ.get("ACCELSIM_SEED", "1")))
    n_random = int(os.environ.get("ACCELSIM_RANDOM", "24"))
    tb = TB(dut, lanes)
    for shift in rng.sample(range(32), 32):
        values = edge_values(shift)
        values += [rng.randint(INT32_MIN, INT32_MAX) for _ in range(n_random)]
        # small magnitudes around the int8 range after the shift: mostly unsaturated results
        values += [rng.randint(-300 << shift, 300 << shift) for _ in range(n_random)]
        values = [v for v in values if INT32_MIN <= v <= INT32_MAX]
        rng.shuffle(values)
        await tb.check(shift, values)
    dut._log.info("requantize x%d: %d values over 32 shifts match (latency %d cycles)", lanes, tb.checked,
                  LATENCY_CYCLES)
