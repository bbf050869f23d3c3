"""PE, in-process with amaranth.sim: one-cycle activation and partial-sum hops, int8 x int8 + int32 wrap,
the output-stationary mode (own sum, clear, shift; weights streaming down),
the weight shift chain.

Driver: random ``a_in`` (including -128 and 127), ``psum_in`` (including values that overflow int32), and
``w_in`` with ``w_shift`` high in a random third of the cycles. Monitor: ``a_out``, ``psum_out``, ``w_out``
every cycle. Reference model: a_out(t) = a_in(t - d), psum_out(t) = wrap32(psum_in(t - d) + a_in(t - d) *
w(t - d)) with w the weight held in that cycle (it takes ``w_in`` at an edge where ``w_shift`` is high).
Checker: ``w_out`` is the held weight every cycle, and the measured hop latency d (the smallest delay at which
the model explains the outputs) equals :data:`accelsim.rtl.pe.PE_LATENCY_CYCLES` = 1, the per-hop cycle of
the SystolicArray's ``AR + AC - 1`` (AR - 1 + AC - 1 hops plus the bottom register).
Each test runs the MAC cell (V = 1) and a dot-product cell (V = 4, ``dot_width``): ``a_in``, ``w_in`` carry
V int8 elements and the product is the dot product of the V pairs; the latencies are the same.
"""

from __future__ import annotations

import random

import pytest

from tests.rtl.benches import check_latency, measure_latency, simulate

CYCLES = 400
DOT_WIDTHS = (1, 4)


def pack(values) -> int:
    """V int8 elements as one port value (element v in bits 8v..8v+7; V = 1: the signed value itself)."""
    if len(values) == 1:
        return values[0]
    return sum((v & 0xFF) << (8 * k) for k, v in enumerate(values))


def dot(a, w) -> int:
    return sum(x * y for x, y in zip(a, w, strict=True))


def wrap32(v: int) -> int:
    return ((v + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


@pytest.mark.rtl
@pytest.mark.parametrize("V", DOT_WIDTHS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pe_hops_and_mac(seed, V):
    from accelsim.rtl.pe import PE, PE_LATENCY_CYCLES

    dut, rng = PE(V), random.Random(seed)
    outs, model = [], []  # per cycle: (a_out, psum_out); the model's answer to that cycle's inputs

    async def bench(ctx):
        weight = [0] * V  # init value
        for t in range(CYCLES):
            a = [rng.choice((-128, 127, 0, rng.randint(-128, 127), rng.randint(-128, 127))) for _ in range(V)]
            psum = rng.choice((rng.randint(-(1 << 31), (1 << 31) - 1), rng.randint(-1000, 1000),
                               (1 << 31) - 1, -(1 << 31)))
            shift, w_in = rng.random() < 0.33, [rng.randint(-128, 127) for _ in range(V)]
            for port, value in (("a_in", pack(a)), ("psum_in", psum), ("w_in", pack(w_in)),
                                ("w_shift", int(shift))):
                ctx.set(getattr(dut, port), value)
            outs.append((ctx.get(dut.a_out), ctx.get(dut.psum_out)))
            model.append((pack(a), wrap32(psum + dot(a, weight))))
            assert ctx.get(dut.w_out) == pack(weight), f"cycle {t}: w_out {ctx.get(dut.w_out)} != {weight}"
            if shift:
                weight = w_in
            await ctx.tick()

    simulate(dut, bench)
    check_latency("PE hop latency", [measure_latency(outs, model, range(1, 4))], PE_LATENCY_CYCLES)


@pytest.mark.rtl
@pytest.mark.parametrize("V", DOT_WIDTHS)
@pytest.mark.parametrize("seed", [4, 5])
def test_pe_output_stationary(seed, V):
    """``os`` high: the cell multiplies ``a_in * w_in`` into its own sum (``acc_clear`` zeroes it,
    ``acc_shift`` takes ``psum_in``), and passes ``a_in`` right and ``w_in`` down one cycle later each. Model
    per cycle; the hop latency measured as in the WS test equals PE_LATENCY_CYCLES."""
    from accelsim.rtl.pe import PE, PE_LATENCY_CYCLES

    dut, rng = PE(V), random.Random(seed)
    hops, model_hops = [], []  # per cycle: (a_out, w_out); the inputs of that cycle
    state = {"sum": 0}

    async def bench(ctx):
        ctx.set(dut.os, 1)
        for t in range(CYCLES):
            a = [rng.randint(-128, 127) for _ in range(V)]
            w = [rng.choice((-128, 127, rng.randint(-128, 127))) for _ in range(V)]
            psum = rng.randint(-(1 << 31), (1 << 31) - 1)
            clear, shift = rng.random() < 0.05, rng.random() < 0.1
            for port, value in (("a_in", pack(a)), ("w_in", pack(w)), ("psum_in", psum),
                                ("acc_clear", int(clear)), ("acc_shift", int(shift)),
                                ("w_shift", rng.randint(0, 1))):
                ctx.set(getattr(dut, port), value)
            assert ctx.get(dut.psum_out) == state["sum"], f"cycle {t}: sum {ctx.get(dut.psum_out)}"
            hops.append((ctx.get(dut.a_out), ctx.get(dut.w_out)))
            model_hops.append((pack(a), pack(w)))
            state["sum"] = psum if shift else 0 if clear else wrap32(state["sum"] + dot(a, w))
            await ctx.tick()

    simulate(dut, bench)
    check_latency("PE OS hop latency", [measure_latency(hops, model_hops, range(1, 4))], PE_LATENCY_CYCLES)
