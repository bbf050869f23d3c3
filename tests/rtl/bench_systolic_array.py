"""cocotb bench: SystolicArray(AR, AC, dot_width=V) alone.

Dot-product PEs (V > 1): an input row has ``AR*V`` lanes (grid row i takes lanes ``i*V .. i*V+V-1``), a
weight row ``AC*V`` (lane ``j*V+v`` is element v of column j), the weight grid as the arithmetic sees it is
``AR*V x AC`` (PE (i, j) holds rows ``i*V .. i*V+V-1`` of column j) and OS adds ``sum_v x[i*V+v] *
w[j*V+v]`` per pair; every latency asserted below is V = 1's (accelsim.timing does not depend on V).

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

Output-stationary (``os`` high, the second test): rounds of an ``acc_clear`` pulse, a burst of random
(activation row, weight row) pairs on ``in_data`` / ``w_in`` with ``in_valid`` (gaps carry zeros, as the
execute unit drives them), then ``acc_shift`` for AR cycles. Reference model: ``G = sum_t x_t^T w_t`` (int32
wrap). Checker: on Icarus every PE's sum equals the model from exactly ``AR + AC - 1`` cycles after the last
pair was presented on (measured: the cycle PE (AR-1, AC-1) takes its last product, the WS latency
``systolic_array_fill_drain_cycles(WS) - ACCEPT_CYCLES - 1 - COMPUTE_EXTRA_CYCLES``), and while shifting, the
bottom row of ``out_data`` is grid row ``AR-1-q`` in shift cycle q: ``systolic_array_fill_drain_cycles(OS) -
systolic_array_fill_drain_cycles(WS)`` (= AR) rows, one per cycle.

Environment: ACCELSIM_AR, ACCELSIM_AC, ACCELSIM_V (default 1), ACCELSIM_SEED.
"""

from __future__ import annotations

import os
import random

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, ReadOnly

from accelsim.arch import DF_OS, DF_WS
from accelsim.timing import ACCEPT_CYCLES, COMPUTE_EXTRA_CYCLES, systolic_array_fill_drain_cycles
from tests.rtl.benches import check_latency, pack, start, unpack

SPAD_READ_CYCLES = 1  # the ifmap spad's synchronous read between a COMPUTE's accept and the array


def dot_width() -> int:
    return int(os.environ.get("ACCELSIM_V", "1"))


class TB:
    def __init__(self, dut, AR: int, AC: int, rng: random.Random, V: int = 1) -> None:
        self.dut, self.AR, self.AC, self.rng, self.V = dut, AR, AC, rng, V
        self.grid = np.zeros((AR * V, AC), np.int64)  # weights reset to 0; PE (i, j): rows i*V .. i*V+V-1
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
        """The PE's held weight word (V int8 elements, element v in bits 8v..)."""
        pe = self.pes[i][j]
        sig = pe.weight if hasattr(pe, "weight") else pe.w_out
        return sig.value.to_unsigned()

    async def cycle(self, *, valid: bool = False, row=None, shift: bool = False, wrow=None) -> None:
        """One cycle: drive after the falling edge, sample in ReadOnly, check, update the models."""
        dut, AR, AC, V = self.dut, self.AR, self.AC, self.V
        await FallingEdge(dut.clk)
        t = self.t
        row = row if row is not None else self.rand_row(AR * V)
        wrow = wrow if wrow is not None else self.rand_row(AC * V)
        dut.in_valid.value, dut.in_data.value = int(valid), pack(row, 8)
        dut.w_shift.value, dut.w_in.value = int(shift), pack(wrow, 8)
        if valid:
            out = (np.array(row, np.int64) @ self.grid) & 0xFFFFFFFF
            self.expect[t + AR + AC - 1] = (t, [int(v) for v in out])
            for i in range(AR):
                for j in range(AC):
                    self.arrivals[(t + i + j, i, j)] = pack(row[i * V:(i + 1) * V], 8)
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
                        got_a = self.pes[i][j].a_in.value.to_unsigned()
                        assert got_a == lane, f"cycle {t}: PE ({i}, {j}) a_in {got_a:#x} != lanes {lane:#x}"
        if shift:  # grid row 0 takes the V elements of each column, every PE row moves down one
            top = np.array(wrow, np.int64).reshape(AC, V).T
            self.grid = np.vstack([top, self.grid[:-V]])
        self.t += 1

    def check_weights(self) -> None:
        if not self.hier:
            return
        V = self.V
        for i in range(self.AR):
            for j in range(self.AC):
                want = pack(self.grid[i * V:(i + 1) * V, j], 8)
                assert self.pe_weight(i, j) == want, f"PE ({i}, {j}) weight"

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
    await start(dut, in_valid=0, in_data=0, w_shift=0, w_in=0, os=0, acc_clear=0, acc_shift=0)
    tb = TB(dut, AR, AC, rng, dot_width())
    for _ in range(6):
        await tb.load_weights()
        await tb.stream(rng.randint(1, 12), rng.choice((0.0, 0.3, 0.7)))
    want = systolic_array_fill_drain_cycles(DF_WS, AR, AC) - ACCEPT_CYCLES - SPAD_READ_CYCLES \
        - COMPUTE_EXTRA_CYCLES
    check_latency("array latency (AR + AC - 1)", tb.latencies, want)
    dut._log.info("%dx%d V=%d: %d rows, latency %s cycles (contract %d), PE arrivals %s", AR, AC, tb.V,
                  tb.rows_checked, tb.latencies, want,
                  "checked" if tb.hier else "not visible on this simulator")


def array_latency(df: int, AR: int, AC: int) -> int:
    """The array's share of a COMPUTE's fill/drain (accelsim.timing): last row presented -> last output."""
    fill_drain = systolic_array_fill_drain_cycles(df, AR, AC)
    return fill_drain - ACCEPT_CYCLES - SPAD_READ_CYCLES - COMPUTE_EXTRA_CYCLES


@cocotb.test()
async def systolic_array_output_stationary(dut):
    AR, AC = int(os.environ["ACCELSIM_AR"]), int(os.environ["ACCELSIM_AC"])
    rng = random.Random(int(os.environ.get("ACCELSIM_SEED", "1")) + 7)
    V = dot_width()
    await start(dut, in_valid=0, in_data=0, w_shift=0, w_in=0, os=1, acc_clear=0, acc_shift=0)
    hier = cocotb.SIM_NAME.lower().startswith("icarus")
    settle = array_latency(DF_WS, AR, AC)  # sums final this many cycles after the last pair
    shift_rows = array_latency(DF_OS, AR, AC) - settle  # then one output row per cycle
    settled_at: set[int] = set()
    rows_checked = 0

    def rand(n):
        return [rng.randint(-128, 127) for _ in range(n)]

    async def cycle(**drive):
        await FallingEdge(dut.clk)
        for name in ("in_valid", "in_data", "w_in", "acc_clear", "acc_shift"):
            getattr(dut, name).value = drive.get(name, 0)
        await ReadOnly()

    def grid_now():
        return np.array([[unpack(getattr(dut, f"pe_{i}_{j}").psum_out.value.to_unsigned(), 1, 32)[0]
                          for j in range(AC)] for i in range(AR)], np.int64)

    for _ in range(5):
        await cycle(acc_clear=1)
        grid = np.zeros((AR, AC), np.int64)
        n = rng.randint(1, 10)
        for _ in range(n):
            while rng.random() < 0.3:  # a gap: zeros on both operands
                await cycle()
            x, w = rand(AR * V), rand(AC * V)  # PE (i, j) adds sum_v x[i*V+v] * w[j*V+v]
            grid += np.array(x, np.int64).reshape(AR, V) @ np.array(w, np.int64).reshape(AC, V).T
            await cycle(in_valid=1, in_data=pack(x, 8), w_in=pack(w, 8))
        want = grid & 0xFFFFFFFF
        first = None
        for d in range(1, settle + 1):  # the execute unit shifts the first row out settle + 1 cycles on
            await cycle()
            if hier and first is None and (grid_now() == want).all():
                first = d
        if hier:
            assert first is not None, f"OS sums not settled {settle} cycles after the last pair"
            settled_at.add(first)
        for q in range(AR):
            await cycle(acc_shift=1)
            got = unpack(dut.out_data.value.to_unsigned(), AC, 32)
            assert got == [int(v) for v in want[AR - 1 - q]], f"OS shift {q}: rtl {got} != row {AR - 1 - q}"
            rows_checked += 1
        await cycle()
    assert shift_rows == AR, f"contract: {shift_rows} output rows shifted, array has {AR}"
    if hier:
        check_latency("OS settle (AR + AC - 1)", {max(settled_at)}, settle)
    dut._log.info("%dx%d OS: %d output rows, settle %s cycles (contract %d)", AR, AC, rows_checked,
                  sorted(settled_at) or "not visible on this simulator", settle)
