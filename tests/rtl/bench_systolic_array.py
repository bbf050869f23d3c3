"""cocotb bench: SystolicArray(AR, AC) alone.

Driver: rounds of (1) a weight load: a random number of shifts (around AR, sometimes more or fewer) of random
int8 rows on ``w_in`` with random gaps (``w_shift`` low, junk on ``w_in``), while no row is in flight; (2) a
burst of random int8 rows on ``in_data`` with ``in_valid``, back to back or with gaps carrying junk data; then
a drain. Monitor: every cycle (ReadOnly after the falling edge) ``out_valid``/``out_data`` and, on Icarus (the
hierarchy is visible), every PE's ``a_in`` and held weight. Reference model: the weights grid after the shifts
(row 0 takes ``w_in``, row i takes row i-1) and ``out[j] = sum_i a[i] * W[i][j]`` (int32 wrap).
Checker: each row presented in ``tau`` comes out whole in exactly ``tau + AR + AC - 1`` (the measured latency
must equal ``systolic_array_fill_drain_cycles - ACCEPT_CYCLES - 1 (spad read) - COMPUTE_EXTRA_CYCLES`` of
accelsim.timing, i.e. the array's share of a COMPUTE), ``out_valid`` is never high otherwise, lane i of the
row is at PE (i, j)'s ``a_in`` in ``tau + i + j``, and each PE holds its model weight.

Environment: ACCELSIM_AR, ACCELSIM_AC, ACCELSIM_SEED.
"""

from __future__ import annotations

import os
import random

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, ReadOnly

from accelsim.arch import DF_WS
from accelsim.timing import ACCEPT_CYCLES, COMPUTE_EXTRA_CYCLES, systolic_array_fill_drain_cycles
from tests.rtl.benches import check_latency, pack, start, unpack

SPAD_READ_CYCLES = 1  # the ifmap spad's synchronous read between a COMPUTE's accept and the array


def s8(v: int) -> int:
    return unpack(v, 1, 8, signed=True)[0]


class TB:
    def __init__(self, dut, AR: int, AC: int, rng: random.Random) -> None:
        self.dut, self.AR, self.AC, self.rng = dut, AR, AC, rng
        self.grid = np.zeros((AR, AC), np.int64)  # weights reset to 0
        self.t = 0
        self.expect: dict[int, tuple[int, list[int]]] = {}  # out cycle -> (in cycle, row)
        self.arrivals: dict[tuple[int, int, int], int] = {}  # (cycle, i, j) -> lane value
        self.latencies: set[int] = set()
        self.rows_checked = 0
        self.hier = cocotb.SIM_NAME.lower().startswith("icarus")
        if self.hier:
            self.pes = [[getattr(dut, f"pe_{i}_{j}") for j in range(AC)] for i in range(AR)]

    def rand_row(self, n: int) -> list[int]:
        return [self.rng.randint(-128, 127) for _ in range(n)]

    def pe_weight(self, i: int, j: int) -> int:
        pe = self.pes[i][j]
        sig = pe.weight if hasattr(pe, "weight") else pe.w_out
        return s8(sig.value.to_unsigned())

    async def cycle(self, *, valid: bool = False, row=None, shift: bool = False, wrow=None) -> None:
        """One cycle: drive after the falling edge, sample in ReadOnly, check, update the models."""
        dut, AR, AC = self.dut, self.AR, self.AC
        await FallingEdge(dut.clk)
        t = self.t
        row = row if row is not None else self.rand_row(AR)
        wrow = wrow if wrow is not None else self.rand_row(AC)
        dut.in_valid.value, dut.in_data.value = int(valid), pack(row, 8)
        dut.w_shift.value, dut.w_in.value = int(shift), pack(wrow, 8)
        if valid:
            out = (np.array(row, np.int64) @ self.grid) & 0xFFFFFFFF
            self.expect[t + AR + AC - 1] = (t, [int(v) for v in out])
            for i in range(AR):
                for j in range(AC):
                    self.arrivals[(t + i + j, i, j)] = row[i]
        await ReadOnly()
        got_valid = int(dut.out_valid.value)
        want = self.expect.pop(t, None)
        assert got_valid == (want is not None), f"cycle {t}: out_valid {got_valid}, expected {want}"
        if want is not None:
            got = unpack(dut.out_data.value.to_unsigned(), AC, 32)
            assert got == want[1], f"row presented in {want[0]}, out in {t}: rtl {got} != model {want[1]}"
            self.latencies.add(t - want[0])
            self.rows_checked += 1
        if self.hier:
            for i in range(AR):
                for j in range(AC):
                    lane = self.arrivals.pop((t, i, j), None)
                    if lane is not None:
                        got_a = s8(self.pes[i][j].a_in.value.to_unsigned())
                        assert got_a == lane, f"cycle {t}: PE ({i}, {j}) a_in {got_a} != lane {i} = {lane}"
        if shift:
            self.grid = np.vstack([np.array([wrow], np.int64), self.grid[:-1]])
        self.t += 1

    def check_weights(self) -> None:
        if not self.hier:
            return
        for i in range(self.AR):
            for j in range(self.AC):
                assert self.pe_weight(i, j) == self.grid[i][j], f"PE ({i}, {j}) weight"

    async def load_weights(self) -> None:
        rng = self.rng
        shifts = rng.choice((self.AR, self.AR, self.AR + rng.randint(1, 2), max(1, self.AR - 1)))
        for _ in range(shifts):
            for _ in range(rng.choice((0, 0, rng.randint(1, 3)))):
                await self.cycle()
            await self.cycle(shift=True)
        await self.cycle()
        self.check_weights()

    async def stream(self, n: int, p_gap: float) -> None:
        for _ in range(n):
            while self.rng.random() < p_gap:
                await self.cycle()
            await self.cycle(valid=True)
        for _ in range(self.AR + self.AC + 1):  # drain before the weights may change
            await self.cycle()
        assert not self.expect, f"rows never came out: {self.expect}"


@cocotb.test()
async def systolic_array_latency_and_data(dut):
    AR, AC = int(os.environ["ACCELSIM_AR"]), int(os.environ["ACCELSIM_AC"])
    rng = random.Random(int(os.environ.get("ACCELSIM_SEED", "1")))
    await start(dut, in_valid=0, in_data=0, w_shift=0, w_in=0)
    tb = TB(dut, AR, AC, rng)
    for _ in range(6):
        await tb.load_weights()
        await tb.stream(rng.randint(1, 12), rng.choice((0.0, 0.3, 0.7)))
    want = systolic_array_fill_drain_cycles(DF_WS, AR, AC) - ACCEPT_CYCLES - SPAD_READ_CYCLES \
        - COMPUTE_EXTRA_CYCLES
    check_latency("array latency (AR + AC - 1)", tb.latencies, want)
    dut._log.info("%dx%d: %d rows, latency %s cycles (contract %d), PE arrivals %s", AR, AC, tb.rows_checked,
                  tb.latencies, want, "checked" if tb.hier else "not visible on this simulator")
