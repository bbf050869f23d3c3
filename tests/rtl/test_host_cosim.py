"""Co-simulation with the host in the loop: firmware/conv.c runs on the RTL SoC (RV32IM core + the
accelerator) and drives real layers; the model runs the same ELF on its ISS coupled to the scheduler
(accelsim.host.coupling). The program's end (mcycle and minstret in the EXIT store's execute cycle) must be
equal: zero difference, on Icarus and Verilator. One simulator build per configuration runs every layer.

What this checks is timing (the SoC's DRAM is not loaded with the layer's tensors here; bit-exact outputs
are the fetcher-driven campaign's, tests/rtl/test_cosim.py)."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.arch import ArchConfig
from accelsim.host.build import build_conv
from accelsim.host.coupling import run_layer_coupled
from accelsim.host.driver import DESCRIPTOR_SYMBOL, descriptor
from accelsim.host.iss import load_elf as iss_load_elf
from accelsim.layer import ConvLayer
from tests.rtl.layers import small_arch

LAYERS = (
    ConvLayer(name="3x3 pad", N=1, M=8, C=8, H=6, W=6, R=3, S=3, stride=1, pad=1),
    ConvLayer(name="1x1 ragged", N=1, M=5, C=7, H=5, W=5, R=1, S=1),
    ConvLayer(name="stride 2, N=2", N=2, M=6, C=3, H=7, W=7, R=3, S=3, stride=2, pad=1),
    ConvLayer(name="depthwise", N=1, M=6, C=6, H=5, W=5, R=3, S=3, pad=1, groups=6),
    ConvLayer(name="fc", N=3, M=10, C=24, H=1, W=1, R=1, S=1),
)
ARCHS = {
    "4x4 q4 bw4": ArchConfig(name="a", array_rows=4, array_cols=4, ifmap_spad_kib=1, weight_spad_kib=1,
                             acc_kib=1, dram_bytes_per_cycle=4, dram_latency_cycles=5, queue_depth=4),
    "3x5 q2 bw8 hi": ArchConfig(name="b", array_rows=3, array_cols=5, ifmap_spad_kib=1, weight_spad_kib=1,
                                acc_kib=1, dram_bytes_per_cycle=8, dram_latency_cycles=12, queue_depth=2),
}


@pytest.fixture(scope="module")
def conv_elf(tmp_path_factory):
    return build_conv(tmp_path_factory.mktemp("fw") / "conv.elf")


def images(elf, layers, arch):
    from accelsim.cosim.soc import load_elf

    _, _, symbols = iss_load_elf(elf.read_bytes())
    addr, size = symbols[DESCRIPTOR_SYMBOL]
    out = []
    for layer in layers:
        img = load_elf(elf).copy()
        img.view(np.uint8)[addr:addr + size] = np.frombuffer(descriptor(layer, arch), np.uint8)
        out.append(img)
    return out


def check(conv_elf, arch, sim, layers=LAYERS):
    from accelsim.cosim.soc import run_programs
    from accelsim.rtl.params import AccelParams

    model = [run_layer_coupled(layer, arch, elf=conv_elf) for layer in layers]
    rtl = run_programs(images(conv_elf, layers, arch), AccelParams.from_arch(arch), sim=sim,
                       max_cycles=[4 * m.cycles + 10_000 for m in model])
    got = [(r.status, r.exit_code, r.cycles, r.instret) for r in rtl]
    want = [("exit", 0, m.cycles, m.instret) for m in model]
    assert got == want, [layer.name for layer, g, w in zip(layers, got, want, strict=True) if g != w]
    assert all(len(m.commands) > 7 for m in model)  # 5 CONFIGs, a FENCE and the steps


@pytest.mark.rtl
@pytest.mark.parametrize("arch", list(ARCHS), ids=list(ARCHS))
def test_firmware_driven_layers_icarus(conv_elf, arch):
    check(conv_elf, ARCHS[arch], "icarus")


@pytest.mark.rtl
@pytest.mark.slow
def test_firmware_driven_layers_verilator(conv_elf):
    # the configuration of tests/rtl/test_soc.py, so CI builds this SoC once for both
    check(conv_elf, small_arch(rows=2, cols=2), "verilator")
