"""cocotb bench: one PE.

Driver: random ``a_in`` (including -128 and 127), ``psum_in`` (including values that overflow int32), and
``w_in`` with ``w_shift`` high in a random third of the cycles. Monitor: ``a_out``, ``psum_out``, ``w_out``
every cycle (ReadOnly after the falling edge). Reference model: a_out(t) = a_in(t - d), psum_out(t) =
wrap32(psum_in(t - d) + a_in(t - d) * w(t - d)) with w the weight held in that cycle (it takes ``w_in`` at an
edge where ``w_shift`` is high). Checker: every cycle, and the measured hop latency d (the smallest delay at
which the model explains the outputs) equals :data:`accelsim.rtl.pe.PE_LATENCY_CYCLES` = 1, the per-hop
cycle of the SystolicArray's ``AR + AC - 1`` (AR - 1 + AC - 1 hops plus the bottom register).

Environment: ACCELSIM_SEED.
"""

from __future__ import annotations

import os
import random

import cocotb
from accelsim.rtl.pe import PE_LATENCY_CYCLES
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge


def wrap32(v: int) -> int:
    return ((v + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


@cocotb.test()
async def pe_hops_and_mac(dut):
    rng = random.Random(int(os.environ.get("ACCELSIM_SEED", "1")))
    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    dut.a_in.value, dut.psum_in.value, dut.w_in.value, dut.w_shift.value = 0, 0, 0, 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    weight = 0  # reset value
    history = []  # per cycle: (a_in, psum_in, weight held)
    outs = []  # per cycle: (a_out, psum_out, w_out)
    for _ in range(400):
        await FallingEdge(dut.clk)
        a = rng.choice((-128, 127, 0, rng.randint(-128, 127), rng.randint(-128, 127)))
        psum = rng.choice((rng.randint(-(1 << 31), (1 << 31) - 1), rng.randint(-1000, 1000),
                           (1 << 31) - 1, -(1 << 31)))
        shift, w_in = rng.random() < 0.33, rng.randint(-128, 127)
        dut.a_in.value, dut.psum_in.value = a & 0xFF, psum & 0xFFFFFFFF
        dut.w_in.value, dut.w_shift.value = w_in & 0xFF, int(shift)
        await ReadOnly()
        outs.append((dut.a_out.value.to_signed(), dut.psum_out.value.to_signed(),
                     dut.w_out.value.to_signed()))
        history.append((a, psum, weight))
        assert outs[-1][2] == weight, f"cycle {len(outs) - 1}: w_out {outs[-1][2]} != held weight {weight}"
        if shift:
            weight = w_in

    def explained(d: int) -> bool:
        return all(outs[t][:2] == (a, wrap32(p + a * w))
                   for t, (a, p, w) in zip(range(d, len(outs)), history[:len(outs) - d], strict=True))

    latency = next((d for d in range(1, 4) if explained(d)), None)
    assert latency == PE_LATENCY_CYCLES, f"measured hop latency {latency} != {PE_LATENCY_CYCLES}"
    dut._log.info("PE: %d cycles checked, hop latency %d", len(outs), latency)
