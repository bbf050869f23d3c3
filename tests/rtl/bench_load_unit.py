"""cocotb bench: LoadUnit + Dram + ifmap/weight Scratchpads (tests/rtl/test_load_unit.py ``load_top``).

Driver: per random layer (tests/rtl/layers.py ``random_layer``), in a dataflow taken in turn (WS, OS, IS: the
MODE register's run-time field picks the layouts of step_loads), it writes the layer registers (the values of
the program's CONFIG commands), fills the DRAM with a random input and random weights through the host write
channel, then presents a random selection (in program order) of the real LOAD commands of
``accelsim.mapping.program``, each moved to a random first row (``addr``, any row that keeps the LOAD inside
its spad), with random idle gaps before ``cmd_valid`` rises — sometimes while the unit is still busy, so
commands also go back to back.
Monitor: samples every cycle (falling edge) the handshake, the DRAM read beats, the two spad write ports,
``push_next`` and ``idle``.
Reference model: the implicit im2col ``A`` built with numpy from the padded input (and ``B`` from the weights)
gives every beat's expected lane addresses and enables and every spad write; the contract's timing gives the
cycles: beats in ``start+1 .. end-1`` with ``end - start = accelsim.timing.load_unit_cycles``, each write
``L`` cycles after its beat, ``push_next`` in ``end-1+L`` when flagged, ``idle`` low from ``start+1`` until
``done = end + L``.
Checker: all of the above cycle for cycle; after each layer the scratchpads are read back through their read
ports and compared with the model of their contents (lanes a LOAD does not cover keep their old bytes).

Environment: ACCELSIM_ARCH (JSON of ArchConfig.to_dict()), ACCELSIM_LAYERS, ACCELSIM_DRAM_BYTES,
ACCELSIM_SEED.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import replace

import cocotb
import numpy as np
from accelsim.rtl.params import AccelParams
from cocotb.triggers import FallingEdge

from accelsim.arch import Dataflow, from_dict
from accelsim.commands import Command, Op, Operand
from accelsim.layer import ConvLayer
from accelsim.mapping import config_commands, lower, program, step_at, step_commands
from accelsim.timing import load_unit_cycles
from tests.rtl.benches import (
    Monitor,
    ValidReadyDriver,
    check_timeline,
    layer_regs,
    regs_word,
    start,
    unpack,
    uval,
)
from tests.rtl.layers import random_layer

MAX_LOADS_PER_LAYER = 24
BIG_STEPS = 4
BIG_LAYERS = (  # network-sized shapes: 7x7/2 pad 3 stem, 3x3 pad 1 with N=2, depthwise stride 2, FC, odd ones
    ConvLayer(N=1, M=64, C=3, H=224, W=224, R=7, S=7, stride=2, pad=3, name="stem"),
    ConvLayer(N=2, M=64, C=64, H=56, W=56, R=3, S=3, stride=1, pad=1, name="3x3"),
    ConvLayer(N=1, M=96, C=96, H=112, W=112, R=3, S=3, stride=2, pad=1, groups=96, name="dw"),
    ConvLayer(N=4, M=1000, C=2048, H=1, W=1, name="fc"),
    ConvLayer(N=3, M=32, C=16, H=27, W=13, R=5, S=3, stride=3, pad=2, groups=2, name="odd"),
)


class Model:
    """Expected beats and spad rows of LOAD commands of one layer.

    Small layers: the values come from the implicit im2col ``A`` (numpy, from the padded input) and the weight
    matrix, and must also be what the DRAM image holds at the lane's address. Big layers (``x is None``: the
    tensors do not fit the bench's DRAM, which takes addresses modulo its size) take the image's byte at the
    address.
    """

    def __init__(self, layer, mapping, params: AccelParams, image: np.ndarray, x=None, w=None) -> None:
        self.layer, self.map, self.p, self.image = layer, mapping, params, image
        self.x = x
        if x is not None:
            pad = layer.pad
            self.xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))).view(np.uint8)
            self.wflat = w.reshape(layer.M, -1).view(np.uint8)  # [M][K]

    def _value(self, addr: int, reference: int | None) -> int:
        byte = int(self.image[addr % len(self.image)])
        if reference is not None:
            assert byte == reference, f"bench: DRAM image byte {byte} at {addr} != tensor value {reference}"
        return byte

    def rows(self, cmd):
        """[(spad, row, [(lane value, dram address or None for padding)])] in issue order."""
        L, mp, small = self.layer, self.map, self.x is not None
        out = []
        if cmd.operand == Operand.WEIGHT:
            m_rows = mp.dataflow is Dataflow.IS  # IS: rows are channels m, lanes reduction indices k
            for i in range(cmd.rows):
                lanes = []
                for lane in range(cmd.lanes):
                    m, k = (cmd.m0 + i, cmd.k0 + lane) if m_rows else (cmd.m0 + lane, cmd.k0 + i)
                    addr = mp.w_base + m * L.gemm_K + k
                    ref = int(self.wflat[m, k]) if small else None
                    lanes.append((self._value(addr, ref), addr))
                out.append(("wt", cmd.addr + i, lanes))
            return out
        RS = L.R * L.S
        p0 = (cmd.n0 * L.E + cmd.e0) * L.F + cmd.f0
        q0 = cmd.c0 * RS + cmd.r0 * L.S + cmd.s0
        pixel_rows = mp.dataflow is Dataflow.WS  # OS/IS: rows are reduction indices, lanes pixels
        for i in range(cmd.rows):
            lanes = []
            for lane in range(cmd.lanes):
                p, q = (p0 + i, q0 + lane) if pixel_rows else (p0 + lane, q0 + i)
                n, rem = divmod(p, L.E * L.F)
                e, f = divmod(rem, L.F)
                c, rem2 = divmod(q, RS)
                r, s = divmod(rem2, L.S)
                hp, wp = e * L.stride + r, f * L.stride + s  # padded coordinates
                h, w_ = hp - L.pad, wp - L.pad
                if 0 <= h < L.H and 0 <= w_ < L.W:
                    addr = mp.x_base + ((n * L.C + c) * L.H + h) * L.W + w_
                    lanes.append((self._value(addr, int(self.xp[n, c, hp, wp]) if small else None), addr))
                else:
                    assert not small or self.xp[n, c, hp, wp] == 0
                    lanes.append((0, None))
            out.append(("if", cmd.addr + i, lanes))
        return out


MONITORED = ("cmd_ready", "idle", "push_prev", "push_next", "rd_valid", "rd_addr", "rd_lane_en",
             *(f"{pre}_w_{n}" for pre in ("if", "wt") for n in ("en", "addr", "data", "mask")))


class TB:
    def __init__(self, dut, arch, params: AccelParams, rng: random.Random, dram_bytes: int) -> None:
        self.dut, self.arch, self.p, self.rng = dut, arch, params, rng
        self.BW, self.L = params.dram_bytes_per_cycle, params.dram_latency_cycles
        self.spad = {"if": np.zeros((2 * params.ifmap_rows, params.ifmap_lanes), np.uint8),
                     "wt": np.zeros((2 * params.weight_rows, params.weight_lanes), np.uint8)}
        self.image = np.zeros(dram_bytes, np.uint8)  # the DRAM's contents
        self.t = 0  # cycle counter (falling edges)
        self.latencies: list[tuple] = []

    async def cycle(self) -> None:
        await FallingEdge(self.dut.clk)
        self.t += 1

    async def host_write(self, base: int, data: np.ndarray) -> None:
        """DRAM fill, BW bytes per cycle, lanes in a random order with random holes (per-lane addresses)."""
        dut, BW = self.dut, self.BW
        todo = list(range(len(data)))
        self.rng.shuffle(todo)
        while todo:
            chunk, todo = todo[:BW], todo[BW:]
            addr = data_word = en = 0
            for b, i in enumerate(chunk):
                self.image[(base + i) % len(self.image)] = data[i]
                addr |= (base + i) << (32 * b)
                data_word |= int(data[i]) << (8 * b)
                en |= 1 << b
            dut.host_wr_valid.value = 1
            dut.host_wr_addr.value = addr
            dut.host_wr_data.value = data_word
            dut.host_wr_lane_en.value = en
            await self.cycle()
        dut.host_wr_valid.value = 0
        await self.cycle()

    async def run_loads(self, cmds, model: Model) -> None:
        """Drive the commands with random gaps, monitor every cycle, check cycle-exactly."""
        dut, BW, L, rng = self.dut, self.BW, self.L, self.rng
        driver = ValidReadyDriver(dut.cmd_valid, dut.cmd, Command.pack)  # cmd holds while not valid
        for c in cmds:
            driver.offer(c)
        mon = Monitor(dut, MONITORED)
        beats, writes = {}, {}
        t0 = self.t
        driver.pause(t0 + 1 + rng.choice((0, 0, 1, 4)))
        quiet = 0
        while True:
            await self.cycle()
            t = self.t
            # --- cycle t: the monitored outputs depend on state only: sample, then drive cycle t's inputs
            out = mon.sample(t)
            accepted = driver.drive(t, out["cmd_ready"])
            if accepted is not None:  # the handshake: cycle t is this command's start
                busy = load_unit_cycles(accepted.rows, accepted.lanes, self.arch.dram_bytes_per_cycle)
                gap = rng.choice((0, 0, rng.randint(1, busy + L + 3), busy - 1 + rng.randint(0, 3)))
                driver.pause(t + 1 + gap)
            if out["rd_valid"]:
                addrs, en = unpack(out["rd_addr"], BW, 32), out["rd_lane_en"]
                beats[t] = [a if (en >> b) & 1 else None for b, a in enumerate(addrs)]
            for pre, lanes in (("if", self.p.ifmap_lanes), ("wt", self.p.weight_lanes)):
                if out[f"{pre}_w_en"]:
                    mask, data = out[f"{pre}_w_mask"], unpack(out[f"{pre}_w_data"], lanes, 8)
                    got = {lane: data[lane] for lane in range(lanes) if (mask >> lane) & 1}
                    assert t not in writes, f"two spad writes in cycle {t}"
                    writes[t] = (pre, out[f"{pre}_w_addr"], got)
                    for lane, v in got.items():
                        self.spad[pre][out[f"{pre}_w_addr"], lane] = v
            assert out["push_prev"] == 0, f"cycle {t}: push_prev"
            if not driver.pending:
                quiet = quiet + 1 if out["idle"] else 0
                if quiet > L + 2:
                    break
            assert t - t0 < 200000, "bench ran away"
        starts = [t for t, _ in driver.accepts]
        self.check(cmds, model, starts, mon, beats, writes, t0, self.t)

    def check(self, cmds, model, starts, mon: Monitor, beats, writes, t0, t1) -> None:
        ready, idles = mon.trace["cmd_ready"], mon.trace["idle"]
        BW, L = self.BW, self.L
        assert len(starts) == len(cmds), f"{len(starts)} accepts for {len(cmds)} commands"
        exp_beats, exp_writes, exp_push, busy_or_flight = {}, {}, set(), set()
        for k, (cmd, s) in enumerate(zip(cmds, starts, strict=True)):
            end = next(t for t in range(s + 1, t1 + 1) if ready[t])
            busy = load_unit_cycles(cmd.rows, cmd.lanes, self.arch.dram_bytes_per_cycle)
            assert end - s == busy, f"LOAD {k} {cmd}: end - start = {end - s} cycles, timing says {busy}"
            t = s + 1
            for spad, row, lanes in model.rows(cmd):
                for j in range(0, len(lanes), BW):
                    part = lanes[j:j + BW]
                    exp_beats[t] = [a for _, a in part] + [None] * (BW - len(part))
                    exp_writes[t + L] = (spad, row, {j + b: v & 0xFF for b, (v, _) in enumerate(part)})
                    t += 1
            assert t == end, f"LOAD {k}: model beats end at {t}, rtl at {end}"
            if cmd.push_next:
                exp_push.add(end - 1 + L)
            busy_or_flight.update(range(s + 1, end + L))
            alone = k + 1 == len(cmds) or starts[k + 1] >= end + L
            if alone:  # nothing follows in its tail: idle rises exactly at done = end + L
                assert idles[end + L] and not idles[end + L - 1], f"LOAD {k}: idle not exactly at end + L"
            push = end - 1 + L - s if cmd.push_next else None
            self.latencies.append((int(cmd.operand), cmd.rows, cmd.lanes, end - s, push, end + L - s))
        check_timeline("DRAM read beat", beats, exp_beats)
        check_timeline("spad write", writes, exp_writes)
        check_timeline("push_next", dict.fromkeys(mon.cycles("push_next"), 1), dict.fromkeys(exp_push, 1))
        check_timeline("idle", idles, {t: int(t not in busy_or_flight) for t in range(t0 + 1, t1 + 1)})

    async def readback(self) -> None:
        """Read every spad row through the read port (1-cycle latency) and compare with the model."""
        dut = self.dut
        for pre, rows in (("if", 2 * self.p.ifmap_rows), ("wt", 2 * self.p.weight_rows)):
            lanes = self.spad[pre].shape[1]
            for row in range(rows + 1):
                if row > 0:  # r_data in cycle t is the row addressed in cycle t-1
                    word = uval(getattr(dut, f"{pre}_r_data"))
                    got = [(word >> (8 * lane)) & 0xFF for lane in range(lanes)]
                    assert got == list(self.spad[pre][row - 1]), f"{pre} spad row {row - 1}: {got}"
                if row < rows:
                    getattr(dut, f"{pre}_r_addr").value = row
                await self.cycle()


def placed(rng: random.Random, params: AccelParams, cmd):
    """``cmd`` with a random destination row that keeps its rows inside its spad (a LOAD writes any row)."""
    size = 2 * (params.weight_rows if cmd.operand == Operand.WEIGHT else params.ifmap_rows)
    return replace(cmd, addr=rng.randrange(size - cmd.rows + 1))


async def run_layer(tb: TB, layer, mapping, loads, model: Model, what: str) -> None:
    # the layer registers change as late as the controller allows: a cycle before the first accept
    loads = [placed(tb.rng, tb.p, c) for c in loads]
    tb.dut.regs.value = regs_word(layer_regs(config_commands(mapping)))
    await tb.run_loads(loads, model)
    await tb.readback()
    tb.dut._log.info("%s (%s): %s, x_base %d w_base %d, %d LOADs match", what, mapping.dataflow.name,
                     layer.spec(), mapping.x_base, mapping.w_base, len(loads))


@cocotb.test()
async def load_unit_moves_im2col_rows(dut):
    arch = from_dict(json.loads(os.environ["ACCELSIM_ARCH"]))
    params = AccelParams.from_arch(arch)
    n_layers = int(os.environ.get("ACCELSIM_LAYERS", "3"))
    dram_bytes = int(os.environ["ACCELSIM_DRAM_BYTES"])
    rng = random.Random(int(os.environ.get("ACCELSIM_SEED", "1")))
    await start(dut, reset_cycles=3, cmd_valid=0, host_wr_valid=0, cmd=0, regs=0, if_r_addr=0, wt_r_addr=0)
    tb = TB(dut, arch, params, rng, dram_bytes)
    await tb.cycle()
    done = 0
    dataflows = [arch.with_dataflow(Dataflow.from_code(d)) for d in params.dataflows]
    while done < n_layers:  # small random layers, the real LOADs of their program, dataflows in turn
        layer = random_layer(rng, max_hw=rng.choice((4, 6, 8)))
        arch = dataflows[done % len(dataflows)]
        x_base = rng.randrange(256)
        w_base = x_base + layer.input_elems + rng.randrange(64)
        if w_base + layer.weight_elems > dram_bytes:
            continue
        mapping = replace(lower(layer, arch), x_base=x_base, w_base=w_base)
        loads = [c for c in program(mapping) if c.op == Op.LOAD]
        if len(loads) > MAX_LOADS_PER_LAYER:
            keep = sorted(rng.sample(range(len(loads)), MAX_LOADS_PER_LAYER))
            loads = [loads[i] for i in keep]
        nprng = np.random.default_rng(rng.getrandbits(32))
        x = nprng.integers(-128, 128, (layer.N, layer.C, layer.H, layer.W), dtype=np.int8)
        w = nprng.integers(-128, 128, (layer.M, layer.C // layer.groups, layer.R, layer.S), dtype=np.int8)
        await tb.host_write(mapping.x_base, x.reshape(-1).view(np.uint8))
        await tb.host_write(mapping.w_base, w.reshape(-1).view(np.uint8))
        done += 1
        model = Model(layer, mapping, params, tb.image, x, w)
        await run_layer(tb, layer, mapping, loads, model, f"layer {done}")
    # network-sized layers: random steps' LOADs; the DRAM (addresses modulo its size) is random bytes
    await tb.host_write(0, np.frombuffer(rng.randbytes(dram_bytes), np.uint8))
    for i, layer in enumerate(BIG_LAYERS[:int(os.environ.get("ACCELSIM_BIG_LAYERS", str(len(BIG_LAYERS))))]):
        arch = dataflows[i % len(dataflows)]
        mapping = replace(lower(layer, arch), x_base=rng.randrange(1 << 30), w_base=rng.randrange(1 << 30))
        loads = []
        for _ in range(BIG_STEPS):
            st = step_at(mapping, rng.randrange(layer.groups), *(rng.randrange(n) for n in mapping.loops),
                         rng.randrange(mapping.k_tiles))
            loads += [c for c in step_commands(mapping, st) if c.op == Op.LOAD]
        await run_layer(tb, layer, mapping, loads, Model(layer, mapping, params, tb.image), "big layer")
    seen = sorted(set(tb.latencies), key=lambda v: tuple(-1 if x is None else x for x in v))
    dut._log.info("measured (operand, rows, lanes, start->end, start->push, start->done): %s", seen[:12])
    dut._log.info("every LOAD: end - start = 1 + rows*ceil(lanes/%d), done - end = L = %d",
                  params.dram_bytes_per_cycle, params.dram_latency_cycles)
