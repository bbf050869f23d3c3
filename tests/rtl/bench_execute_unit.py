"""cocotb bench: ExecuteUnit + two test spads (tests/rtl/test_execute_unit.py's ExecuteTop).

Every sequence runs in one dataflow, WS, OS and IS in turn (the ``regs`` port's MODE field, as CONFIG sets
it):
WS preloads the weight spad and streams the ifmap spad, IS the other way round, OS streams both (no PRELOAD)
and shifts the AR x AC outputs into accumulator rows ``acc_addr ..``.
Driver: random PRELOAD/COMPUTE sequences (random K_t <= AR, T, accumulate, push flags, and row addresses
anywhere in the spads (V-aligned) and the accumulator that keep the command's rows inside them) with
random idle gaps and back-pressure (a command is often presented while the unit is still busy and must wait
for ``cmd_ready``); junk on ``cmd`` while ``cmd_valid`` is low; random store-side accumulator reads meanwhile.
Two spad modes per sequence: *filled* (both spads written with random rows up front) and *pinned* (every row a
command reads is written one cycle before the contract's read cycle and clobbered with junk in that very
cycle, so a read one cycle early or late picks up junk; rows >= K_t of a PRELOAD hold junk that the unit must
replace by zeros).
Monitor: every cycle (after the falling edge, in ReadOnly) ``cmd_ready``, ``idle``, ``last``, ``push_prev``,
``push_next``. Reference model: numpy (weights grid, accumulator rows, int32 wrap) and
:func:`accelsim.timing.busy_cycles`. Checker: the measured busy cycles (accept -> ``cmd_ready`` again) equal
``busy_cycles``; ``cmd_ready == idle``; pushes pulse exactly in ``end - 1`` per the command's flags; every
store-port read made while commands run equals the model, with row t of a COMPUTE switching from old to
new exactly at the edge closing ``start + t + AR + AC + 2`` (the contract's write cycle; OS: row i at the edge
closing ``start + T + AR + AC + 2 + (AR - 1 - i)``, the bottom grid row first); after each sequence
every accumulator row read through ``acc_rd_*`` equals the model.

Dot-product PEs (``pe_dot_width`` V > 1): the spads are V-row words (the write ports take a word and V row
enables), a PRELOAD reads ``AR*V`` k-rows (zeros from ``K_t = lanes`` on) and the grid is ``AR*V x AC``; WS/IS
stream ``AR*V``-lane rows; an OS COMPUTE reads V k-rows of each spad a cycle, ``rows*V`` k-rows in all, of
which the first K_t (its ``k_rows``, random) count (the pinned mode puts fresh random rows, not zeros, past
it). The latencies asserted are V = 1's, from accelsim.timing.

Environment: ACCELSIM_PARAMS (AccelParams as JSON), ACCELSIM_SEEDS, ACCELSIM_SEQUENCES, ACCELSIM_SEED.
"""

from __future__ import annotations

import json
import os
import random
from collections import defaultdict

import cocotb
import numpy as np
from accelsim.rtl.params import LayerRegs
from cocotb.triggers import FallingEdge, ReadOnly

from accelsim.arch import DF_IS, DF_OS, DF_WS, Dataflow
from accelsim.commands import COMMAND_BITS, Command, Op
from accelsim.timing import busy_cycles, systolic_array_fill_drain_cycles, systolic_array_preload_cycles
from tests.rtl.benches import ValidReadyDriver, pack, regs_word, start, unpack, uval
from tests.rtl.layers import small_arch

SPAD_WRITE_ENABLES = {f"{s}_w{w}_en": 0 for s in ("if", "wt") for w in "ab"}
REG_NAMES = [name for name, _ in LayerRegs]


class Model:
    """Spad contents as the unit reads them, the weights in the grid, the accumulator (int64, wrapped)."""

    def __init__(self, p: dict) -> None:
        self.p = p
        self.df = DF_WS
        AR, AC = p["array_rows"], p["array_cols"]
        self.ifmap = np.zeros((2 * p["ifmap_rows"], p["ifmap_lanes"]), np.int64)
        self.weight = np.zeros((2 * p["weight_rows"], p["weight_lanes"]), np.int64)
        self.V = p.get("pe_dot_width", 1)
        self.grid = np.zeros((AR * self.V, AC), np.int64)  # weights reset to 0; PE (i, j): rows i*V ..
        self.acc = np.zeros((2 * p["acc_rows"], AC), np.int64)  # Memory init 0

    def spads(self) -> tuple:
        """(stationary spad, streamed spad) of WS/IS."""
        return (self.ifmap, self.weight) if self.df == DF_IS else (self.weight, self.ifmap)

    def execute(self, c: Command) -> None:
        p = self.p
        AR, AC = p["array_rows"], p["array_cols"]
        stat, strm = self.spads()
        abase = c.acc_addr
        if c.op == Op.PRELOAD:
            self.grid = stat[c.addr:c.addr + AR * self.V, :AC].copy()
            self.grid[c.lanes:] = 0
            return
        if self.df == DF_OS:  # outputs G = sum_t x_t^T w_t into accumulator rows acc_addr .. + AR-1
            k = c.k_rows  # K_t
            new, n = self.ifmap[c.addr:c.addr + k, :AR].T @ self.weight[c.addr2:c.addr2 + k, :AC], AR
        else:
            new, n = strm[c.addr:c.addr + c.rows, :AR * self.V] @ self.grid, c.rows
        old = self.acc[abase:abase + n] if c.accumulate else 0
        self.acc[abase:abase + n] = (old + new) & 0xFFFFFFFF


class TB:
    def __init__(self, dut, p: dict, rng: random.Random) -> None:
        self.dut, self.p, self.rng = dut, p, rng
        self.AR, self.AC = p["array_rows"], p["array_cols"]
        self.V = p.get("pe_dot_width", 1)
        self.arch = small_arch(rows=self.AR, cols=self.AC, pe_dot_width=self.V)
        self.lanes = {"if": p["ifmap_lanes"], "wt": p["weight_lanes"]}
        self.model = Model(p)
        self.t = 0  # cycles since reset release
        self.measured: dict[tuple, set[int]] = defaultdict(set)  # (df, op) -> busy - stream length seen
        self.acc_reads = 0  # store-port reads checked while commands run
        self.driver = ValidReadyDriver(dut.cmd_valid, dut.cmd, Command.pack,  # junk while not valid
                                       idle=lambda: self.rng.getrandbits(COMMAND_BITS))

    async def set_dataflow(self, df: int) -> None:
        """The layer's MODE register (static while commands run, as between CONFIG and FENCE)."""
        await FallingEdge(self.dut.clk)
        self.idle_ports()
        self.dut.cmd_valid.value = 0
        self.t += 1
        self.model.df = df
        self.arch = small_arch(rows=self.AR, cols=self.AC, dataflow=Dataflow.from_code(df).value,
                               pe_dot_width=self.V)
        self.dut.regs.value = regs_word({"dataflow": df} | {n: 0 for n in REG_NAMES if n != "dataflow"})

    def rand_row(self, lanes: int) -> np.ndarray:
        return np.array([self.rng.randint(-128, 127) for _ in range(lanes)], np.int64)

    def idle_ports(self) -> None:
        for name, value in SPAD_WRITE_ENABLES.items():
            getattr(self.dut, name).value = value

    def word(self, spad: str, rows: dict[int, np.ndarray]) -> tuple[int, int, int]:
        """A write of whole rows (row -> lanes) of one V-row word: (word address, row enables, data)."""
        V, lanes = self.V, self.lanes[spad]
        (w,) = {r // V for r in rows}
        data = sum(pack(row, 8) << (8 * lanes * (r % V)) for r, row in rows.items())
        return w, sum(1 << (r % V) for r in rows), data

    async def fill(self) -> None:
        """Write every row of both spads with random data (port a), one V-row word per spad per cycle."""
        dut, p, V = self.dut, self.p, self.V
        n_if, n_wt = 2 * p["ifmap_rows"] // V, 2 * p["weight_rows"] // V
        for w in range(max(n_if, n_wt)):
            await FallingEdge(dut.clk)
            self.idle_ports()
            for spad, n, mem in (("if", n_if, self.model.ifmap), ("wt", n_wt, self.model.weight)):
                if w < n:
                    rows = {r: self.rand_row(self.lanes[spad]) for r in range(w * V, (w + 1) * V)}
                    for r, row in rows.items():
                        mem[r] = row
                    self.drive_writes([(spad, "a", *self.word(spad, rows))])
        await FallingEdge(dut.clk)
        self.idle_ports()

    def random_command(self) -> Command:
        rng, p = self.rng, self.p
        flags = dict(push_prev=rng.randint(0, 1), push_next=rng.randint(0, 1), pop_prev=rng.randint(0, 1),
                     pop_next=rng.randint(0, 1))
        df, V = self.model.df, self.V
        KL = self.AR * V  # a PRELOAD's k-rows
        size = {"if": 2 * p["ifmap_rows"], "wt": 2 * p["weight_rows"], "acc": 2 * p["acc_rows"]}

        def row(memory, rows, align=V):
            """A random first row (a multiple of ``align``) with ``rows`` rows inside ``memory``."""
            return align * rng.randint(0, (size[memory] - rows) // align)

        stationary, streamed = ("if", "wt") if df == DF_IS else ("wt", "if")
        if df != DF_OS and rng.random() < 0.4:
            lanes = rng.choice((KL, KL, rng.randint(0, KL)))
            return Command(op=Op.PRELOAD, addr=row(stationary, KL), lanes=lanes, **flags)
        if df == DF_OS:  # K_t rows of each spad, ceil(K_t / V) words from V-aligned rows
            longest = min(p["ifmap_rows"], p["weight_rows"])
            k_t = rng.choice((1, rng.randint(1, longest), longest))
            rows = -(-k_t // V)
            return Command(op=Op.COMPUTE, addr=row("if", rows * V), addr2=row("wt", rows * V),
                           acc_addr=row("acc", self.AR, 1), k_rows=k_t, accumulate=rng.randint(0, 1),
                           rows=rows, **flags)
        longest = min(p[f"{'ifmap' if df == DF_WS else 'weight'}_rows"], p["acc_rows"])
        rows = rng.choice((1, rng.randint(1, longest), longest))
        return Command(op=Op.COMPUTE, addr=row(streamed, rows), acc_addr=row("acc", rows, 1),
                       accumulate=rng.randint(0, 1), rows=rows, **flags)

    def pinned_writes(self, c: Command, start: int, writes: dict) -> None:
        """Fresh rows for every spad row ``c`` reads: correct data written in (read cycle - 1) through port a,
        junk written in the read cycle through port b. V > 1: a PRELOAD or an OS COMPUTE reads the V rows
        of a word a cycle, a WS/IS COMPUTE one row of a word."""
        df, V = self.model.df, self.V
        stationary, streamed = ("if", "wt") if df == DF_IS else ("wt", "if")
        if c.op == Op.PRELOAD:
            spads = [stationary]
            # cycle start+1+q reads PE row AR-1-q: k-rows (AR-1-q)*V .. (AR-1-q)*V + V-1
            order = [range((self.AR - 1 - q) * V, (self.AR - q) * V) for q in range(self.AR)]
        elif df == DF_OS:
            spads, order = ["if", "wt"], [range(t * V, (t + 1) * V) for t in range(c.rows)]
        else:
            spads, order = [streamed], [[t] for t in range(c.rows)]
        for spad in spads:
            mem = self.model.ifmap if spad == "if" else self.model.weight
            base = c.addr2 if c.op == Op.COMPUTE and df == DF_OS and spad == "wt" else c.addr
            lanes = self.lanes[spad]
            for q, rows in enumerate(order):
                read_cycle = start + 1 + q
                for i in rows:
                    mem[base + i] = self.rand_row(lanes)
                writes[read_cycle - 1].append(("a", spad, {base + i: mem[base + i] for i in rows}))
                writes[read_cycle].append(("b", spad, {base + i: self.rand_row(lanes) for i in rows}))

    def drive_writes(self, todo: list) -> None:
        """Writes of one cycle: (spad, port, word, row enables, data), or (port, spad, rows) to pack."""
        dut = self.dut
        for w in todo:
            spad, port, addr, en, data = (w[1], w[0], *self.word(w[1], w[2])) if len(w) == 3 else w
            getattr(dut, f"{spad}_w{port}_en").value = en
            getattr(dut, f"{spad}_w{port}_addr").value = addr
            getattr(dut, f"{spad}_w{port}_data").value = data

    async def run_sequence(self, cmds: list[Command], pinned: bool) -> None:
        dut, rng, driver = self.dut, self.rng, self.driver
        writes: dict[int, list] = defaultdict(list)
        for c in cmds:
            driver.offer(c)
        driver.pause(self.t + rng.randint(0, 3))
        end = self.t  # the running command ends here (ready again)
        cur = None  # (command, start, busy)
        switch: dict[int, tuple] = {}  # acc row of the latest COMPUTE -> (old, new, first cycle it reads new)
        rd_expect = None  # (row, value) addressed on the store read port in the previous cycle
        pushes: list[tuple[str, int]] = []
        while driver.pending or self.t <= end:
            await FallingEdge(dut.clk)
            t = self.t
            self.idle_ports()
            accepted = driver.drive(t, uval(dut.cmd_ready))
            rd_addr = rng.randrange(2 * self.p["acc_rows"])
            dut.acc_rd_addr.value = rd_addr
            exp_ready = t >= end
            if accepted is not None and pinned:
                self.pinned_writes(accepted, t, writes)
            self.drive_writes(writes.pop(t, []))
            await ReadOnly()
            if rd_expect is not None:  # the store port, concurrently with the unit's own updates
                got = unpack(dut.acc_rd_data.value.to_unsigned(), self.AC, 32)
                assert got == rd_expect[1], f"cycle {t}: acc row {rd_expect[0]} addressed in {t - 1}: " \
                    f"rtl {got} != model {rd_expect[1]}"
                self.acc_reads += 1
            if rd_addr in switch:  # a row of the running COMPUTE: old until its write edge, then new
                old, new, when = switch[rd_addr]
                rd_expect = (rd_addr, new if t >= when else old)
            else:
                rd_expect = (rd_addr, [int(v) for v in self.model.acc[rd_addr]])
            ready = int(dut.cmd_ready.value)
            assert int(dut.idle.value) == ready, f"cycle {t}: idle {dut.idle.value} != cmd_ready {ready}"
            if cur is not None and t == end:  # measure: accept -> cmd_ready high again
                c, start, busy = cur
                assert ready, f"{c.op.name} accepted in {start}: not ready at {t} (busy {busy} expected)"
                want = [(n, end - 1) for n in ("push_prev", "push_next") if getattr(c, n)]
                assert pushes == want, f"{c.op.name} start {start} end {end}: pushes {pushes} != {want}"
                stream = c.rows if c.op == Op.COMPUTE else 0
                self.measured[(self.model.df, c.op.name)].add(t - start - stream)
                cur, pushes = None, []
            assert ready == int(exp_ready), f"cycle {t}: cmd_ready {ready}, expected {int(exp_ready)} " \
                f"(running {cur and cur[0]}, ends {end})"
            assert int(dut.last.value) == int(cur is not None and t == end - 1), f"cycle {t}: last"
            for n in ("push_prev", "push_next"):
                if int(getattr(dut, n).value):
                    pushes.append((n, t))
            if accepted is not None:
                c = accepted
                busy = busy_cycles(c, self.arch, 4)
                cur, end = (c, t, busy), t + busy
                before = self.model.acc.copy()
                self.model.execute(c)
                if c.op == Op.COMPUTE:
                    # row r enters the array in start+2+r, is presented AR+AC-1 cycles later (X) and written
                    # at the edge closing X+1: a store read addressed from X+2 = start+r+AR+AC+3 on sees it.
                    # OS: grid row i is presented in start+T+AR+AC+1+(AR-1-i), written at the next edge
                    base = c.acc_addr
                    if self.model.df == DF_OS:
                        when = {r: t + c.rows + 2 * self.AR + self.AC + 2 - r for r in range(self.AR)}
                    else:
                        when = {r: t + r + self.AR + self.AC + 3 for r in range(c.rows)}
                    switch = {base + r: ([int(v) for v in before[base + r]],
                                         [int(v) for v in self.model.acc[base + r]], w)
                              for r, w in when.items()}
                driver.pause(t + 1 + rng.choice((0, 0, 1, rng.randint(0, busy + 4))))
            self.t += 1
        assert not writes, f"unapplied spad writes {sorted(writes)}"

    async def check_acc(self) -> None:
        dut = self.dut
        n = 2 * self.p["acc_rows"]
        for r in range(n + 1):
            await FallingEdge(dut.clk)
            self.idle_ports()
            dut.cmd_valid.value = 0
            dut.acc_rd_addr.value = r % n
            await ReadOnly()
            if r > 0:
                got = unpack(dut.acc_rd_data.value.to_unsigned(), self.AC, 32)
                want = [int(v) for v in self.model.acc[r - 1]]
                assert got == want, f"acc row {r - 1}: rtl {got} != model {want}"
            self.t += 1


@cocotb.test()
async def execute_unit_matches_model(dut):
    p = json.loads(os.environ["ACCELSIM_PARAMS"])
    seeds = int(os.environ.get("ACCELSIM_SEEDS", "2"))
    sequences = int(os.environ.get("ACCELSIM_SEQUENCES", "3"))
    base = int(os.environ.get("ACCELSIM_SEED", "1"))
    await start(dut, reset_cycles=3, cmd_valid=0, cmd=0, regs=0, acc_rd_addr=0, **SPAD_WRITE_ENABLES)
    tb = TB(dut, p, random.Random(base))
    dataflows = (DF_WS, DF_OS, DF_IS)
    n = 0
    for s in range(seeds):
        tb.rng = random.Random(base * 1000 + s)
        for q in range(sequences):
            await tb.set_dataflow(dataflows[n % len(dataflows)])
            n += 1
            pinned = q % 2 == 1
            if not pinned:
                await tb.fill()
            cmds = [tb.random_command() for _ in range(tb.rng.randint(6, 14))]
            while tb.model.df != DF_OS and cmds[0].op != Op.PRELOAD:  # the grid is the dataflow's own
                cmds[0] = tb.random_command()  # after a PRELOAD (OS leaves its streamed rows in it)
            await tb.run_sequence(cmds, pinned)
            await tb.check_acc()
            dut._log.info("seed %d sequence %d (%s, %s): %d commands match", s, q,
                          Dataflow.from_code(tb.model.df).name, "pinned" if pinned else "filled", len(cmds))
    AR, AC = p["array_rows"], p["array_cols"]
    want = {(df, "COMPUTE"): {systolic_array_fill_drain_cycles(df, AR, AC)} for df in dataflows}
    want |= {(df, "PRELOAD"): {systolic_array_preload_cycles(AR)} for df in (DF_WS, DF_IS)}
    got = dict(tb.measured)
    assert got == want, f"measured busy (COMPUTE: minus T) {got} != contract {want}"
    dut._log.info("measured busy (dataflow, op) -> cycles (COMPUTE: minus T): %s; %d store-port reads "
                  "checked in flight", sorted(got.items()), tb.acc_reads)
