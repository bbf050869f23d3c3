"""cocotb bench: StoreUnit (in the StoreTop of tests/rtl/test_store_unit.py) vs the STORE contract.

Stimulus: (a) every STORE of real programs (accelsim.mapping.program of tests/rtl/layers.py random layers on
the bench's arch in each dataflow in turn: IS rows are channels and lanes pixels, WS/OS the transpose; int32
outputs or requantized with a random shift), so the writes cover the layer's output tensor; (b) direct random
STOREs (random shapes up to 300x300 pixels and 3000 channels, tiny images so that rows cross images, random
out_base including 32-bit wrap-around, random P_t/M_t/pixel/channel origins, ob = 4
and ob = 1; half of them in the IS layout).

Driver: writes the layer registers, fills each command's accumulator rows (``acc_addr ..``; random in (b))
through the top's write port (one row per cycle, never a row an earlier STORE still has to read), and
offers each command after a random delay (often 0, so STOREs run back to back), holding ``cmd_valid`` until
accepted. Monitor: samples every cycle at the falling edge. Reference model: the expected beats of each
command from first principles (row i = pixel p0+i -> (n, e, f); byte b of the row -> channel m0 + b//ob,
byte b%ob of the little-endian int32 or accelsim.reference.requantize of it; NCHW address) and a Python DRAM
that collects the writes. Checker, every cycle: ``wr_valid`` exactly in start+2 .. end-1 and each beat's
lane enables, addresses and data exactly; ``push_prev`` only in end-1 of a command that pushes; ``push_next``
never; ``acc_rd_addr`` on row 0 in start+1 and on row i+1 in the last beat of row i; ``idle`` exactly
when no command is between start+1 and end-1 and no write was issued in the last L cycles. Latencies are
measured (end = first cycle after start with ``cmd_ready``; tail = idle rise - end when nothing follows) and
asserted equal to accelsim.schedule (busy, tail of command_tuple); a real program's writes cover every output
byte exactly once.

Environment: ACCELSIM_ARCH (JSON of ArchConfig.to_dict()), ACCELSIM_PROGRAMS, ACCELSIM_DIRECT (commands),
ACCELSIM_SEED.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field

import cocotb
import numpy as np
from accelsim.rtl.params import AccelParams, LayerRegs
from cocotb.triggers import FallingEdge

from accelsim.arch import DF_IS, DF_WS, Dataflow, from_dict
from accelsim.commands import Command, Op
from accelsim.mapping import lower, program
from accelsim.reference import requantize
from accelsim.schedule import command_tuple
from tests.rtl.benches import ValidReadyDriver, check_latency, layer_regs, pack, regs_word, start, uval
from tests.rtl.layers import random_layer

DATAFLOWS = (Dataflow.WS, Dataflow.IS, Dataflow.OS)  # programs in turn: int32 WS, requantized IS, ...

MASK32 = 0xFFFFFFFF


def overlap(a: Command, b: Command) -> bool:
    """Whether two STOREs read a common accumulator row."""
    return a.acc_addr < b.acc_addr + b.rows and b.acc_addr < a.acc_addr + a.rows


@dataclass
class Job:
    """One STORE in flight through the bench."""

    cmd: Command
    ob: int
    gap: int  # cycles to wait before offering it once it is allowed
    beats: list = field(default_factory=list)  # expected beats: {lane: (addr, byte)} of the enabled lanes
    rd_checks: dict = field(default_factory=dict)  # cycle offset from start -> expected acc_rd_addr
    written: set = field(default_factory=set)  # addresses this command wrote
    start: int | None = None
    end: int | None = None
    busy: int = 0
    tail: int = 0


class TB:
    def __init__(self, dut, arch, rng: random.Random) -> None:
        self.dut, self.arch, self.rng = dut, arch, rng
        self.params = AccelParams.from_arch(arch)
        self.AC, self.BW = arch.array_cols, arch.dram_bytes_per_cycle
        self.L = arch.dram_latency_cycles
        self.acc_rows = self.params.acc_rows
        self.acc: dict[int, list[int]] = {}  # shadow of the accumulator memory
        self.t = 0
        self.measured: dict[str, set] = {"busy": set(), "tail": set()}
        self.stores = 0
        self.writes = 0  # bytes written in the current run
        self.back_to_back = 0  # STOREs accepted in the end cycle of the previous one
        self.last_end = None

    # ---- reference model -----------------------------------------------------------------------------------
    def expected(self, job: Job, regs: dict) -> None:
        c, ob, BW = job.cmd, job.ob, self.BW
        E, F, M = regs["E"], regs["F"], regs["M"]
        base_row = c.acc_addr
        p0 = (c.n0 * E + c.e0) * F + c.f0
        row_bytes = c.lanes * ob
        nb = -(-row_bytes // BW)
        beats = []
        trans = regs["dataflow"] == DF_IS  # IS: row i is channel m0 + i, lane l pixel p0 + l
        for i in range(c.rows):
            p = p0 + i
            vals = self.acc[base_row + i][:c.lanes]
            if ob == 1:
                data = [int(v) & 0xFF for v in requantize(np.array(vals, dtype=np.int32), regs["shift"])]
            else:
                data = [(v >> (8 * k)) & 0xFF for v in vals for k in range(4)]
            for j in range(nb):
                lanes = {}
                for d in range(BW):
                    b = j * BW + d
                    if b < row_bytes:
                        m_abs, q = (c.m0 + i, p0 + b // ob) if trans else (c.m0 + b // ob, p)
                        n, e, f = q // (E * F), (q // F) % E, q % F
                        addr = regs["out_base"] + (((n * M + m_abs) * E + e) * F + f) * ob + b % ob
                        lanes[d] = (addr & MASK32, data[b])
                beats.append(lanes)
            if i + 1 < c.rows:
                job.rd_checks[2 + (i + 1) * nb - 1] = base_row + i + 1  # last beat of row i
        job.rd_checks[1] = base_row
        job.beats = beats
        _, _, job.busy, job.tail, *_ = command_tuple(c, self.arch, ob)
        assert job.busy == 2 + len(beats), "the bench's beat model disagrees with accelsim.timing"

    # ---- accumulator contents ------------------------------------------------------------------------------
    def random_row(self, shift: int | None) -> list[int]:
        rng = self.rng
        out = []
        for _ in range(self.AC):
            if shift is not None and rng.random() < 0.7:  # mostly in the int8 range after the shift
                v = rng.randint(-200 << shift, 200 << shift)
                v = max(-(2**31), min(2**31 - 1, v))
            else:
                v = rng.choice((rng.randint(-(2**31), 2**31 - 1), -(2**31), 2**31 - 1,
                                rng.randint(-300, 300)))
            out.append(v)
        return out

    # ---- one batch of commands under fixed layer registers -----------------------------------------------
    async def run(self, regs: dict, jobs: list[Job], shift: int | None) -> dict[int, int]:
        dut, L = self.dut, self.L
        dut.regs.value = regs_word(regs)
        for _ in range(2):
            await FallingEdge(dut.clk)
            self.t += 1
        dram: dict[int, int] = {}  # the Python DRAM: address -> last byte written
        self.writes = 0
        fill_job, fill_row = 0, 0  # next job to fill and its next row
        filled_at: dict[int, int] = {}  # job -> cycle its last row was written
        offer = 0  # next job to offer
        driver = ValidReadyDriver(dut.cmd_valid, dut.cmd, lambda job: job.cmd.pack(), idle=lambda: 0)
        for job in jobs:
            driver.offer(job, job.gap)
        active: Job | None = None  # between start and end (from the monitor's view)
        last_beat = -(10**9)
        tail_watch: Job | None = None
        done = 0
        limit = self.t + 50 + sum(2 + j.cmd.rows * 64 * 4 + j.gap + L + 2 + j.cmd.rows for j in jobs)
        while done < len(jobs) or active is not None or self.t - last_beat <= L + 1:
            assert self.t < limit, f"cycle limit hit at {self.t} (jobs done {done}/{len(jobs)})"
            t = self.t
            # ---- monitor + checker: outputs of cycle t ----
            cmd_ready = int(dut.cmd_ready.value)
            wr_valid = int(dut.wr_valid.value)
            push_prev = int(dut.push_prev.value)
            idle = int(dut.idle.value)
            assert int(dut.push_next.value) == 0, f"cycle {t}: push_next pulsed"
            if active is not None and cmd_ready and t > active.start:
                active.end = t
                got = t - active.start
                assert got == active.busy, f"STORE {active.cmd}: busy {got} != accelsim.timing {active.busy}"
                self.measured["busy"].add((active.cmd.rows, active.cmd.lanes, active.ob, got))
                tail_watch, active = active, None
                self.last_end = t
                done += 1
            expect_beat = None
            if active is not None:
                k = t - active.start
                if 2 <= k < active.busy:
                    expect_beat = active.beats[k - 2]
                if k in active.rd_checks:
                    got, want = uval(dut.acc_rd_addr), active.rd_checks[k]
                    assert got == want, f"cycle start+{k}: acc_rd_addr {got} != {want}"
                want_push = int(k == active.busy - 1 and active.cmd.push_prev)
                assert push_prev == want_push, f"cycle start+{k} of busy {active.busy}: push_prev {push_prev}"
            else:
                assert push_prev == 0, f"cycle {t}: push_prev outside a STORE"
            if expect_beat is None:
                assert wr_valid == 0, f"cycle {t}: a write beat outside start+2..end-1"
            else:
                assert wr_valid == 1, f"cycle {t} (start+{t - active.start}): no write beat"
                en = uval(dut.wr_lane_en)
                addrs = uval(dut.wr_addr)
                data = uval(dut.wr_data)
                want_en = sum(1 << d for d in expect_beat)
                assert en == want_en, f"cycle start+{t - active.start}: lane enables {en:b} != {want_en:b}"
                for d, (addr, byte) in expect_beat.items():
                    got_a, got_b = (addrs >> (32 * d)) & MASK32, (data >> (8 * d)) & 0xFF
                    assert (got_a, got_b) == (addr, byte), (
                        f"STORE {active.cmd} beat {t - active.start - 2} lane {d}: "
                        f"(addr {got_a:#x}, byte {got_b:#x}) != ({addr:#x}, {byte:#x})")
                    assert addr not in active.written, f"STORE {active.cmd}: address {addr:#x} written twice"
                    active.written.add(addr)
                    dram[addr] = byte
                    self.writes += 1
                last_beat = t
            want_idle = int((active is None or t == active.start) and t - last_beat > L)
            assert idle == want_idle, f"cycle {t}: idle {idle} != {want_idle} (last beat {last_beat}, L {L})"
            if tail_watch is not None and idle:
                got = t - tail_watch.end
                assert got == tail_watch.tail, f"STORE tail {got} != accelsim.timing {tail_watch.tail}"
                self.measured["tail"].add(got)
                tail_watch = None
            # ---- driver: inputs of cycle t ----
            dut.acc_w_en.value = 0
            if fill_job < len(jobs):
                job = jobs[fill_job]
                # its rows are free once every earlier command reading one of them has ended
                free = all(jobs[i].end is not None for i in range(fill_job) if overlap(jobs[i].cmd, job.cmd))
                if free:
                    row = job.cmd.acc_addr + fill_row
                    values = self.random_row(shift)
                    self.acc[row] = values
                    dut.acc_w_en.value = 1
                    dut.acc_w_addr.value = row
                    dut.acc_w_data.value = pack(values, 32)
                    fill_row += 1
                    if fill_row == job.cmd.rows:
                        filled_at[fill_job] = t
                        fill_job, fill_row = fill_job + 1, 0
            # the next job is offered once its rows are in the accumulator, its gap after that
            job = driver.drive(t, cmd_ready, allowed=offer in filled_at)
            if job is not None:
                self.expected(job, regs)
                job.start = t
                self.back_to_back += int(t == self.last_end)
                active = job
                tail_watch = None
                offer += 1
                self.stores += 1
            await FallingEdge(dut.clk)
            self.t += 1
        dut.cmd_valid.value = 0
        return dram

    def gap(self) -> int:
        r = self.rng.random()
        return 0 if r < 0.5 else self.rng.randint(1, 3) if r < 0.8 else self.rng.randint(self.L, self.L + 6)


@cocotb.test()
async def store_unit_matches_contract(dut):
    arch = from_dict(json.loads(os.environ["ACCELSIM_ARCH"]))
    n_programs = int(os.environ.get("ACCELSIM_PROGRAMS", "2"))
    n_direct = int(os.environ.get("ACCELSIM_DIRECT", "16"))
    rng = random.Random(int(os.environ.get("ACCELSIM_SEED", "1")))
    await start(dut, cmd_valid=0, acc_w_en=0)
    await FallingEdge(dut.clk)
    tb = TB(dut, arch, rng)

    # (a) real programs: every STORE of a layer; the writes must tile the output tensor exactly; the
    # dataflows in turn (the MODE register: IS stores rows of channels, WS and OS rows of pixels)
    checked = 0
    base_arch = arch
    while checked < n_programs:
        layer = random_layer(rng, max_hw=rng.choice((3, 5, 8)))
        arch = base_arch.with_dataflow(DATAFLOWS[checked % len(DATAFLOWS)])
        shift = rng.choice((None, rng.randint(0, 31))) if checked else None  # the first one int32
        if checked == 1:
            shift = rng.randint(0, 12)  # the second one requantized
        prog = program(lower(layer, arch), requantize_shift=shift)
        stores = [c for c in prog if c.op == Op.STORE]
        ob = 1 if shift is not None else 4
        if len(stores) < 2 or sum(c.rows * c.lanes * ob for c in stores) > 1500 * arch.dram_bytes_per_cycle:
            continue  # several STOREs (both accumulator buffers), about 1500 beats at most
        regs = layer_regs(prog)
        jobs = [Job(c, ob, tb.gap()) for c in stores]
        dram = await tb.run(regs, jobs, shift)
        want = {(regs["out_base"] + i) & MASK32 for i in range(layer.N * layer.M * layer.E * layer.F * ob)}
        assert set(dram) == want and tb.writes == len(want), (
            f"{layer.spec()}: the STOREs wrote {tb.writes} bytes to {len(dram)} addresses, the outputs are "
            f"{len(want)} bytes")
        checked += 1
        dut._log.info("program %d (%s): %s, %d STOREs (ob %d) match, %d output bytes", checked,
                      arch.dataflow.name, layer.spec(), len(stores), ob, len(dram))
    arch = base_arch

    # (b) direct random STOREs over larger shapes, in batches sharing the layer registers
    AC = arch.array_cols
    acc_rows = AccelParams.from_arch(arch).acc_rows
    left = n_direct
    while left > 0:
        shift = rng.choice((None, rng.randint(0, 31)))
        ob = 1 if shift is not None else 4
        N = rng.randint(1, 4)
        E, F = (rng.choice((rng.randint(1, 3), rng.randint(1, 300))) for _ in range(2))  # small: image wraps
        M = rng.randint(1, 3000)
        out_base = rng.choice((rng.randint(0, MASK32), MASK32 - rng.randint(0, 4000), 0))
        trans = rng.random() < 0.5  # IS: rows are channels, lanes pixels
        regs = {name: 0 for name, _ in LayerRegs} | dict(N=N, M=M, E=E, F=F, out_base=out_base,
                                                          requantize=int(shift is not None), shift=shift or 0,
                                                          dataflow=DF_IS if trans else DF_WS)
        jobs = []
        for i in range(min(left, rng.randint(2, 6))):
            P = N * E * F
            if trans:
                rows = rng.randint(1, min(acc_rows, M, rng.choice((3, acc_rows))))
                lanes = rng.randint(1, min(AC, P))
                m0, p0 = rng.randint(0, M - rows), rng.randint(0, P - lanes)
            else:
                rows = rng.randint(1, min(acc_rows, P, rng.choice((3, acc_rows))))
                p0 = rng.randint(0, P - rows)
                lanes = rng.randint(1, min(AC, M))
                m0 = rng.randint(0, M - lanes)
            # halves in turn (STOREs run back to back), anywhere in them
            acc_addr = i % 2 * acc_rows + rng.randint(0, acc_rows - rows)
            cmd = Command(Op.STORE, acc_addr=acc_addr, rows=rows, lanes=lanes, m0=m0, n0=p0 // (E * F),
                          e0=(p0 // F) % E, f0=p0 % F, pop_prev=1, push_prev=rng.randint(0, 1))
            jobs.append(Job(cmd, ob, tb.gap()))
        await tb.run(regs, jobs, shift)
        left -= len(jobs)
    dut._log.info("%d STOREs (%d back to back) checked over %d cycles; busy (rows, lanes, ob, cycles) seen: "
                  "%d kinds, tails %s", tb.stores, tb.back_to_back, tb.t, len(tb.measured["busy"]),
                  sorted(tb.measured["tail"]))
    assert tb.back_to_back > 0, "no STORE was accepted in the end cycle of the previous one"
    check_latency("STORE tail (L)", tb.measured["tail"], arch.dram_latency_cycles)
