"""firmware/conv.c, the layer driver, run on the ISS: the commands it writes to CMD0..CMD5 equal
mapping.program(mapping.lower(layer, arch)) word for word, CONFIGs and FENCE included, for every ResNet-18
layer on the default preset and the tensorcore one (dot-product PEs, V = 4), and for random layers on random
architectures of every dataflow and every pe_dot_width V."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from accelsim.arch import ArchConfig, Dataflow, preset
from accelsim.commands import COMMAND_WORDS
from accelsim.errors import AccelsimError
from accelsim.host.driver import descriptor, run_layer
from accelsim.layer import ConvLayer
from accelsim.mapping import lower, program
from accelsim.workloads import zoo
from tests.strategies import layers

# Instructions the driver retires per command on ResNet-18 (measured 8.27 on gemmini and on tensorcore, V = 4,
# with six stores a command; 6.29 with the four of 128-bit commands; docs/host.md quotes them; the driver that
# built every command from its fields retired 22.5).
MAX_INSTRUCTIONS_PER_COMMAND = 9.5


def expected_words(layer, arch, shift=None):
    return [c.pack() for c in program(lower(layer, arch), requantize_shift=shift)]


def check(conv_elf, layer, arch, shift=None):
    r = run_layer(conv_elf, layer, arch, requantize_shift=shift)
    assert r.exit_code == 0 and r.traps == 0
    want = expected_words(layer, arch, shift)
    got = r.command_words()
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, f"command {i} of {len(want)}: firmware {g:#034x} != mapping {w:#034x}"
    return r


@pytest.mark.parametrize("name", ["gemmini", "tensorcore"])
def test_every_resnet18_layer(conv_elf, name):
    arch = preset(name)
    commands = instructions = 0
    for layer in zoo("resnet18"):
        r = check(conv_elf, layer, arch)
        commands += len(r.commands)
        instructions += r.instret
        t = r.commands[:, COMMAND_WORDS]  # issue cycles strictly increase
        assert (t[1:] > t[:-1]).all()
    assert instructions / commands <= MAX_INSTRUCTIONS_PER_COMMAND


@st.composite
def archs(draw, dataflows=tuple(Dataflow), pe_dot_width=1):
    """Small arrays and scratchpads, so that layers tile in every dimension and meet edge tiles."""
    return ArchConfig(
        name="hyp",
        array_rows=draw(st.sampled_from([1, 2, 3, 4, 8, 16] if pe_dot_width == 1 else [1, 2, 3, 4, 8])),
        array_cols=draw(st.sampled_from([1, 2, 3, 4, 8, 16])),
        pe_dot_width=pe_dot_width,
        dataflow=draw(st.sampled_from(dataflows)),
        ifmap_spad_kib=draw(st.sampled_from([1, 2, 4, 64])),
        weight_spad_kib=draw(st.sampled_from([1, 2, 4, 64])),
        acc_kib=draw(st.sampled_from([1, 2, 4, 64])),
    )


@settings(max_examples=60)
@given(layers(max_c=24, max_m=24, max_hw=12, max_n=3), archs(), st.one_of(st.none(), st.integers(0, 31)))
def test_random_layers_and_archs(conv_elf, layer, arch, shift):
    try:
        lower(layer, arch)
    except AccelsimError:
        assume(False)  # the buffers cannot hold a tile: the loader refuses it (tested below)
    check(conv_elf, layer, arch, shift)


@pytest.mark.parametrize("V", [2, 4, 8])
@pytest.mark.parametrize("dataflow", list(Dataflow))
def test_dot_product_pes_random_layers_and_archs(conv_elf, V, dataflow):
    """pe_dot_width V > 1: K_T = AR*V in WS and IS (wider reduction lanes), OS's K_T a multiple of V and its
    COMPUTE ceil(K_t / V) rows, on random layers (groups, depthwise, N > 1, strides, padding) and arrays."""

    @settings(max_examples=15, deadline=None)
    @given(layers(max_c=40, max_m=24, max_hw=10, max_n=2), archs((dataflow,), V),
           st.one_of(st.none(), st.integers(0, 31)))
    def run(layer, arch, shift):
        try:
            lower(layer, arch)
        except AccelsimError:
            assume(False)
        ran.append(len(check(conv_elf, layer, arch, shift).commands))

    ran = []
    run()
    assert len(ran) >= 10, ran  # not only layers the buffers refuse


def _dot_arch(dataflow, V):
    return ArchConfig(name="dot", array_rows=4, array_cols=4, pe_dot_width=V, dataflow=dataflow,
                      ifmap_spad_kib=1, weight_spad_kib=2, acc_kib=1)


@pytest.mark.parametrize("V", [2, 4, 8])
@pytest.mark.parametrize("dataflow", list(Dataflow))
@pytest.mark.parametrize("layer", [
    ConvLayer(name="grouped", N=2, M=12, C=2 * 37, H=7, W=6, R=3, S=3, pad=1, groups=2),  # K = 333: ragged
    ConvLayer(name="fc", N=2, M=40, C=300, H=1, W=1, R=1, S=1),
    ConvLayer(name="depthwise", N=1, M=8, C=8, H=9, W=9, R=3, S=3, pad=1, stride=2, groups=8),
], ids=lambda layer: layer.name)
def test_dot_product_pes_layers(conv_elf, V, dataflow, layer):
    """Grouped with N = 2 and a ragged last k-tile (OS: K_L not a multiple of V), FC, depthwise (K = 9 <
    AR*V: one k-tile shorter than the lanes)."""
    arch = _dot_arch(dataflow, V)
    m = lower(layer, arch)
    K_L = layer.gemm_K - (m.k_tiles - 1) * m.K_T
    if layer.name == "grouped":
        assert m.k_tiles >= 3 and 0 < K_L < m.K_T and (dataflow is not Dataflow.OS or K_L % V)
    if dataflow is Dataflow.OS:
        assert m.K_T % V == 0 or m.k_tiles == 1
    check(conv_elf, layer, arch)


def test_wide_layers_reach_the_encoding_limits(conv_elf):
    """Large C, M, stride, pad and a streamed tile cut at MAX_TILE_ROWS; high DRAM address bits."""
    arch = replace(preset(), ifmap_spad_kib=1 << 14, acc_kib=1 << 14, array_rows=4, array_cols=4)
    check(conv_elf, ConvLayer(N=2, M=6, C=5, H=300, W=520, R=1, S=1, stride=1), arch)
    check(conv_elf, ConvLayer(N=1, M=8, C=1 << 12, H=1, W=1 << 10, R=1, S=3, stride=3, pad=1),
          replace(preset(), dataflow=Dataflow.OS))


def _edge_arch(dataflow):
    return ArchConfig(name="edges", array_rows=4, array_cols=4, dataflow=dataflow, ifmap_spad_kib=1,
                      weight_spad_kib=1, acc_kib=1)


@pytest.mark.parametrize("V", [1, 2, 4, 8])
@pytest.mark.parametrize("dataflow", list(Dataflow))
@pytest.mark.parametrize("k_tiles", [1, 2, 3, 4, 5, 8])
def test_steady_state_loop_edges(conv_elf, dataflow, k_tiles, V):
    """The driver's steady-state loop (unrolled by 2) takes a tile's k-steps between its first and last one,
    away from the layer's first and last two steps: tiles of 1-8 k-steps (no steady step, an odd and an even
    count of them), two groups, N=2, several p and m tiles, an edge K tile; with every PE width V."""
    arch = replace(_edge_arch(dataflow), pe_dot_width=V)
    K_T = lower(ConvLayer(N=1, M=4, C=4096, H=1, W=1, R=1, S=1), arch).K_T
    Cg = K_T * (k_tiles - 1) + max(1, K_T - 1)
    hw = 2 if dataflow is Dataflow.OS else 9
    layer = ConvLayer(N=2, M=80, C=2 * Cg, H=hw, W=hw + 1, R=1, S=1, groups=2)
    m = lower(layer, arch)
    assert m.k_tiles == k_tiles and m.p_tiles > 1 and m.m_tiles > 1
    check(conv_elf, layer, arch)


def reduction_period(K_T, RS):
    """conv.c's E: the first k >= 2 where (r0, s0) is back to (0, 0) and c0 has advanced by a multiple of
    16."""
    k = 2
    while (k * K_T) % RS or (k * K_T // RS) % 16:
        k += 1
    return k


@pytest.mark.parametrize("dataflow", list(Dataflow))
@pytest.mark.parametrize("rows,V,R,S,Cg", [(16, 1, 3, 3, 20), (4, 1, 3, 3, 21), (16, 1, 2, 2, 30),
                                           (3, 1, 1, 5, 100), (4, 4, 3, 3, 40), (2, 8, 2, 2, 60),
                                           (3, 2, 1, 5, 100)])
def test_reduction_table_wraps(conv_elf, dataflow, rows, V, R, S, Cg):
    """Tiles longer than one period of the reduction table: the steady loop wraps to its start with c0 raised,
    at either step of an unrolled pair, and the last k-steps lie past the table; K_T = rows * V in WS/IS."""
    arch = ArchConfig(name="period", array_rows=rows, array_cols=4, pe_dot_width=V, dataflow=dataflow,
                      ifmap_spad_kib=64, weight_spad_kib=64, acc_kib=4)
    if dataflow is Dataflow.OS:  # K_T is the ifmap scratchpad's rows per buffer
        arch = replace(arch, array_rows=32, ifmap_spad_kib=1)  # 16 rows
    layer = ConvLayer(N=1, M=24, C=2 * Cg, H=R + 2, W=S + 3, R=R, S=S, groups=2)
    m = lower(layer, arch)
    assert m.k_tiles - 1 > reduction_period(m.K_T, R * S) and m.m_tiles * m.p_tiles >= 3
    check(conv_elf, layer, arch)


@pytest.mark.parametrize("dataflow", list(Dataflow))
def test_reduction_period_longer_than_the_table_holds(conv_elf, dataflow):
    """A reduction period (here 16 * 32 * 32 k-steps of one row) and a tile longer than the RAM between .bss
    and the stack holds table entries for (8 bytes each, < 64 KiB): every step goes the general way, (c0, r0,
    s0) advanced step by step."""
    arch = replace(_edge_arch(dataflow), array_rows=1, ifmap_spad_kib=64, weight_spad_kib=64, acc_kib=64)
    if dataflow is Dataflow.OS:  # K_T is the ifmap scratchpad's rows: one
        arch = replace(arch, array_rows=512, array_cols=1, ifmap_spad_kib=1)
    layer = ConvLayer(N=1, M=2, C=2 * 9, H=32, W=32, R=32, S=32, groups=2)
    m = lower(layer, arch)
    room = (64 << 10) // 8
    assert m.K_T == 1 and m.k_tiles > room and reduction_period(m.K_T, 32 * 32) > room
    check(conv_elf, layer, arch)


def test_k0_beyond_command_word_1(conv_elf):
    """K > 2**23: k0 reaches into command word 2, which the steady-state loop's add to word 1 would miss;
    the driver sends such layers the general way."""
    arch = ArchConfig(name="wide", array_rows=1, array_cols=1, dataflow=Dataflow.OS, ifmap_spad_kib=256,
                      weight_spad_kib=256, acc_kib=1)
    layer = ConvLayer(N=1, M=1, C=600_000, H=4, W=4, R=4, S=4)
    m = lower(layer, arch)
    assert layer.gemm_K > 1 << 23 and m.k_tiles > 4
    check(conv_elf, layer, arch)


def test_descriptor_refuses_what_the_driver_cannot_run():
    with pytest.raises(AccelsimError, match="N\\*E\\*F must be < 2\\*\\*32"):
        descriptor(ConvLayer(N=1 << 16, H=256, W=256), preset())
    with pytest.raises(AccelsimError, match="weight_spad_kib must be"):
        descriptor(ConvLayer(M=8, C=8), replace(preset(), weight_spad_kib=1, array_rows=64, array_cols=64))
