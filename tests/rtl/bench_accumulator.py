"""cocotb bench: Accumulator(AC, acc_rows) alone.

Driver: random read-modify-write updates (``rmw_valid`` with probability 0.3-1, back to back or with gaps;
random rows including the same row in consecutive cycles; accumulate on/off; int32 values that wrap) and a
random store read address every cycle. Monitor: ``rd_data`` every cycle (ReadOnly after the falling edge).
Reference model: rows of AC int32; an update presented in X reads the old row as of the edge closing X (the
read is transparent to the previous update's write) and writes ``(accumulate ? old : 0) + new`` at the edge
closing X+1; a store read addressed in t returns the row as of the start of t, in t+1.
Checker: every ``rd_data`` equals the model; a probe phase (single updates of idle rows, the row read through
the store port in X, X+1, X+2, ...) measures the update latency (first store read that sees it) and asserts
it equals ``1 + COMPUTE_EXTRA_CYCLES`` of accelsim.timing (= ACCUMULATOR_WRITE_CYCLES).

Environment: ACCELSIM_AC, ACCELSIM_ACC_ROWS, ACCELSIM_SEED.
"""

from __future__ import annotations

import os
import random

import cocotb
from accelsim.rtl.accumulator import ACCUMULATOR_WRITE_CYCLES
from cocotb.triggers import FallingEdge, ReadOnly

from accelsim.timing import COMPUTE_EXTRA_CYCLES
from tests.rtl.benches import check_latency, pack, start, unpack

MASK = 0xFFFFFFFF


class TB:
    def __init__(self, dut, AC: int, rows: int, rng: random.Random) -> None:
        self.dut, self.AC, self.n, self.rng = dut, AC, 2 * rows, rng
        self.mem = [[0] * AC for _ in range(self.n)]  # Memory init 0
        self.pending = None  # update presented in the previous cycle: (addr, accumulate, new)
        self.last_rd = None  # (addr, row as of the start of the cycle it was addressed)
        self.t = 0
        self.checked = 0

    def rand_value(self) -> int:
        return self.rng.choice((self.rng.getrandbits(32), self.rng.randint(0, 1000), MASK, 1 << 31))

    async def cycle(self, update=None, rd_addr=None) -> list[int]:
        """One cycle; ``update`` = (addr, accumulate, row) or None. Returns this cycle's ``rd_data``."""
        dut = self.dut
        await FallingEdge(dut.clk)
        rd_addr = self.rng.randrange(self.n) if rd_addr is None else rd_addr
        dut.rd_addr.value = rd_addr
        dut.rmw_valid.value = int(update is not None)
        junk = (self.rng.randrange(self.n), self.rng.randint(0, 1),
                [self.rand_value() for _ in range(self.AC)])
        addr, acc, new = update if update is not None else junk
        dut.rmw_addr.value, dut.rmw_accumulate.value, dut.rmw_data.value = addr, acc, pack(new, 32)
        await ReadOnly()
        got = unpack(dut.rd_data.value.to_unsigned(), self.AC, 32)
        if self.last_rd is not None:
            a, want = self.last_rd
            assert got == want, f"cycle {self.t}: rd_data (row {a} addressed in {self.t - 1}) {got} != {want}"
            self.checked += 1
        self.last_rd = (rd_addr, list(self.mem[rd_addr]))  # non-transparent: state at the start of the cycle
        # the edge closing this cycle writes the update presented in the previous cycle
        if self.pending is not None:
            a, acc_p, new_p = self.pending
            old = self.mem[a] if acc_p else [0] * self.AC
            self.mem[a] = [(o + v) & MASK for o, v in zip(old, new_p, strict=True)]
        self.pending = update
        self.t += 1
        return got

    async def random_traffic(self, cycles: int, p_valid: float) -> None:
        rng = self.rng
        prev = None
        for _ in range(cycles):
            update = None
            if rng.random() < p_valid:
                addr = prev if prev is not None and rng.random() < 0.25 else rng.randrange(self.n)
                update = (addr, rng.randint(0, 1), [self.rand_value() for _ in range(self.AC)])
                prev = addr
            await self.cycle(update)

    async def probe(self) -> int:
        """One update of row A in X with nothing else in flight; return how many cycles after X a store
        read addressed then first returns the new row."""
        for _ in range(2):
            await self.cycle()
        a = self.rng.randrange(self.n)
        before = list(self.mem[a])
        row = [self.rand_value() for _ in range(self.AC)]
        after = [(o + v) & MASK for o, v in zip(before, row, strict=True)]
        assert after != before
        seen = []
        await self.cycle((a, 1, row), rd_addr=a)  # X
        for _ in range(4):
            seen.append(await self.cycle(rd_addr=a))  # data addressed in X + k, k = 0..3
        assert seen[-1] == after, "update never landed"
        return next(k for k, s in enumerate(seen) if s == after)


@cocotb.test()
async def accumulator_rmw_and_read(dut):
    AC, rows = int(os.environ["ACCELSIM_AC"]), int(os.environ["ACCELSIM_ACC_ROWS"])
    rng = random.Random(int(os.environ.get("ACCELSIM_SEED", "1")))
    await start(dut, rmw_valid=0, rmw_addr=0, rmw_accumulate=0, rmw_data=0, rd_addr=0)
    tb = TB(dut, AC, rows, rng)
    latencies = set()
    for _ in range(8):
        await tb.random_traffic(rng.randint(10, 60), rng.choice((0.3, 0.8, 1.0)))
        latencies.add(await tb.probe())
    check_latency("update latency", latencies, 1 + COMPUTE_EXTRA_CYCLES)
    check_latency("update latency (rtl/accumulator.py)", latencies, ACCUMULATOR_WRITE_CYCLES)
    dut._log.info("AC=%d rows=%d: %d reads checked, update visible to a read addressed %s cycles later", AC,
                  2 * rows, tb.checked, latencies)
