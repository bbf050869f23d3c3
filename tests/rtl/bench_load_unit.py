"""cocotb bench: LoadUnit + Dram + ifmap/weight Scratchpads (tests/rtl/test_load_unit.py ``load_top``).

Driver: per random layer (tests/rtl/layers.py ``random_layer``) it writes the layer registers (the values of
the program's CONFIG commands), fills the DRAM with a random input and random weights through the host write
channel, then presents a random selection (in program order) of the real LOAD commands of
``accelsim.mapping.program`` with random idle gaps before ``cmd_valid`` rises — sometimes while the unit is
still busy, so commands also go back to back.
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
from accelsim.rtl.params import AccelParams, LayerRegs
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from accelsim.arch import from_dict
from accelsim.commands import ConfigReg, Op, Operand, config_fields
from accelsim.layer import ConvLayer
from accelsim.mapping import config_commands, lower, program, step_at, step_commands
from accelsim.timing import load_unit_cycles
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


def uval(sig) -> int:
    """A signal's value as an unsigned int (1-bit signals are Logic, wider ones LogicArray)."""
    value = sig.value
    return value.to_unsigned() if hasattr(value, "to_unsigned") else int(value)


def regs_value(configs) -> int:
    vals = {}
    for c in configs:
        if c.op == Op.CONFIG:
            vals |= config_fields(ConfigReg(c.reg), c.value)
    word = 0
    for name, fld in LayerRegs:
        word |= vals[name] << fld.offset
    return word


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
            for i in range(cmd.rows):
                lanes = []
                for lane in range(cmd.lanes):
                    addr = mp.w_base + (cmd.m0 + lane) * L.gemm_K + cmd.k0 + i
                    ref = int(self.wflat[cmd.m0 + lane, cmd.k0 + i]) if small else None
                    lanes.append((self._value(addr, ref), addr))
                out.append(("wt", cmd.buf * self.p.weight_rows + i, lanes))
            return out
        RS = L.R * L.S
        p0 = (cmd.n0 * L.E + cmd.e0) * L.F + cmd.f0
        q0 = cmd.c0 * RS + cmd.r0 * L.S + cmd.s0
        for i in range(cmd.rows):
            n, rem = divmod(p0 + i, L.E * L.F)
            e, f = divmod(rem, L.F)
            lanes = []
            for lane in range(cmd.lanes):
                c, rem2 = divmod(q0 + lane, RS)
                r, s = divmod(rem2, L.S)
                hp, wp = e * L.stride + r, f * L.stride + s  # padded coordinates
                h, w_ = hp - L.pad, wp - L.pad
                if 0 <= h < L.H and 0 <= w_ < L.W:
                    addr = mp.x_base + ((n * L.C + c) * L.H + h) * L.W + w_
                    lanes.append((self._value(addr, int(self.xp[n, c, hp, wp]) if small else None), addr))
                else:
                    assert not small or self.xp[n, c, hp, wp] == 0
                    lanes.append((0, None))
            out.append(("if", cmd.buf * self.p.ifmap_rows + i, lanes))
        return out


class TB:
    def __init__(self, dut, arch, params: AccelParams, rng: random.Random, dram_bytes: int) -> None:
        self.dut, self.arch, self.p, self.rng = dut, arch, params, rng
        self.BW, self.L = params.dram_bytes_per_cycle, params.dram_latency_cycles
        self.spad = {"if": np.zeros((2 * params.ifmap_rows, params.array_rows), np.uint8),
                     "wt": np.zeros((2 * params.weight_rows, params.array_cols), np.uint8)}
        self.image = np.zeros(dram_bytes, np.uint8)  # the DRAM's contents
        self.t = 0  # cycle counter (falling edges)
        self.latencies: list[tuple] = []

    async def cycle(self) -> None:
        await FallingEdge(self.dut.clk)
        self.t += 1

    async def reset(self) -> None:
        dut = self.dut
        dut.rst.value = 1
        for n in ("cmd_valid", "host_wr_valid", "cmd", "regs", "if_r_addr", "wt_r_addr"):
            getattr(dut, n).value = 0
        for _ in range(3):
            await self.cycle()
        dut.rst.value = 0
        await self.cycle()

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
        starts, ready, beats, writes, pushes, idles = [], {}, {}, {}, set(), {}
        nxt, presenting, gap = 0, False, rng.choice((0, 0, 1, 4))
        t0 = self.t
        quiet = 0
        while True:
            await self.cycle()
            t = self.t
            # --- cycle t: the monitored outputs depend on state only: read them, then drive cycle t's inputs
            ready[t] = int(dut.cmd_ready.value)
            if nxt < len(cmds) and not presenting:
                if gap > 0:
                    gap -= 1
                else:
                    dut.cmd.value = cmds[nxt].pack()
                    presenting = True
            dut.cmd_valid.value = int(presenting)
            if presenting and ready[t]:  # the handshake: cycle t is this command's start
                starts.append(t)
                busy = load_unit_cycles(cmds[nxt].rows, cmds[nxt].lanes, self.arch.dram_bytes_per_cycle)
                nxt, presenting = nxt + 1, False
                gap = rng.choice((0, 0, rng.randint(1, busy + L + 3), busy - 1 + rng.randint(0, 3)))
            if int(dut.rd_valid.value):
                addrs, en = uval(dut.rd_addr), uval(dut.rd_lane_en)
                beats[t] = [((addrs >> (32 * b)) & 0xFFFFFFFF if (en >> b) & 1 else None) for b in range(BW)]
            for pre, lanes in (("if", self.p.array_rows), ("wt", self.p.array_cols)):
                if int(getattr(dut, f"{pre}_w_en").value):
                    mask = uval(getattr(dut, f"{pre}_w_mask"))
                    data = uval(getattr(dut, f"{pre}_w_data"))
                    row = uval(getattr(dut, f"{pre}_w_addr"))
                    got = {lane: (data >> (8 * lane)) & 0xFF for lane in range(lanes) if (mask >> lane) & 1}
                    assert t not in writes, f"two spad writes in cycle {t}"
                    writes[t] = (pre, row, got)
                    for lane, v in got.items():
                        self.spad[pre][row, lane] = v
            if int(dut.push_next.value):
                pushes.add(t)
            idles[t] = int(dut.idle.value)
            assert int(dut.push_prev.value) == 0, f"cycle {t}: push_prev"
            if nxt == len(cmds):
                quiet = quiet + 1 if idles[t] else 0
                if quiet > L + 2:
                    break
            assert t - t0 < 200000, "bench ran away"
        self.check(cmds, model, starts, ready, beats, writes, pushes, idles, t0, self.t)

    def check(self, cmds, model, starts, ready, beats, writes, pushes, idles, t0, t1) -> None:
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
        for t in sorted(set(beats) | set(exp_beats)):
            assert beats.get(t) == exp_beats.get(t), \
                f"cycle {t}: beat {beats.get(t)} != model {exp_beats.get(t)}"
        for t in sorted(set(writes) | set(exp_writes)):
            assert writes.get(t) == exp_writes.get(t), \
                f"cycle {t}: spad write {writes.get(t)} != model {exp_writes.get(t)}"
        assert pushes == exp_push, f"push_next at {sorted(pushes)} != model {sorted(exp_push)}"
        for t in range(t0 + 1, t1 + 1):
            assert idles[t] == (t not in busy_or_flight), f"cycle {t}: idle {idles[t]}"

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


async def run_layer(tb: TB, layer, mapping, loads, model: Model, what: str) -> None:
    # the layer registers change as late as the controller allows: a cycle before the first accept
    tb.dut.regs.value = regs_value(config_commands(mapping))
    await tb.run_loads(loads, model)
    await tb.readback()
    tb.dut._log.info("%s: %s, x_base %d w_base %d, %d LOADs match", what, layer.spec(), mapping.x_base,
                     mapping.w_base, len(loads))


@cocotb.test()
async def load_unit_moves_im2col_rows(dut):
    arch = from_dict(json.loads(os.environ["ACCELSIM_ARCH"]))
    params = AccelParams.from_arch(arch)
    n_layers = int(os.environ.get("ACCELSIM_LAYERS", "3"))
    dram_bytes = int(os.environ["ACCELSIM_DRAM_BYTES"])
    rng = random.Random(int(os.environ.get("ACCELSIM_SEED", "1")))
    Clock(dut.clk, 10, unit="ns").start()
    tb = TB(dut, arch, params, rng, dram_bytes)
    await tb.reset()
    done = 0
    while done < n_layers:  # small random layers, the real LOADs of their program
        layer = random_layer(rng, max_hw=rng.choice((4, 6, 8)))
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
    for layer in BIG_LAYERS[:int(os.environ.get("ACCELSIM_BIG_LAYERS", str(len(BIG_LAYERS))))]:
        mapping = replace(lower(layer, arch), x_base=rng.randrange(1 << 30), w_base=rng.randrange(1 << 30))
        loads = []
        for _ in range(BIG_STEPS):
            st = step_at(mapping, rng.randrange(layer.groups), *(rng.randrange(n) for n in mapping.loops),
                         rng.randrange(mapping.k_tiles))
            loads += [c for c in step_commands(mapping, st) if c.op == Op.LOAD]
        await run_layer(tb, layer, mapping, loads, Model(layer, mapping, params, tb.image), "big layer")
    seen = sorted(set(tb.latencies))
    dut._log.info("measured (operand, rows, lanes, start->end, start->push, start->done): %s", seen[:12])
    dut._log.info("every LOAD: end - start = 1 + rows*ceil(lanes/%d), done - end = L = %d",
                  params.dram_bytes_per_cycle, params.dram_latency_cycles)
