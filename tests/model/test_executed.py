"""The executed-mapping check: the command stream of random layers x configs, executed on a functional model
of the machine (accelsim.executed), computes the reference's outputs and moves exactly the traffic
that accelsim.memory predicts in closed form."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from accelsim import AccelsimError, executed, mapping, memory, workloads
from accelsim.arch import ArchConfig, Dataflow, preset
from accelsim.commands import Op
from accelsim.executed import execute_mapping, program_tables, run_program
from accelsim.layer import ConvLayer
from accelsim.reference import conv2d_numpy, requantize
from accelsim.sim import simulate_layer
from tests.strategies import archs, layers, operands

SMALL = dict(max_c=16, max_m=16, max_hw=8, max_rs=4, max_n=2)
# Tall and wide arrays next to small ones: with 1-8 KiB buffers they force several tiles along every GEMM
# dimension in every dataflow (OS k-tiles need a short spad, IS m-tiles a short accumulator).
DIMS = (1, 2, 3, 4, 5, 7, 8, 12, 16, 24, 33, 64)

# Per dataflow, a layer tiled along p, k and m at once, with edge tiles, groups, stride and padding.
TILED = {
    Dataflow.WS: (ConvLayer(N=2, M=12, C=16, H=7, W=7, R=3, S=3, stride=2, pad=1, groups=2),
                  dict(array_rows=64, array_cols=4, ifmap_spad_kib=1, weight_spad_kib=1, acc_kib=1)),
    Dataflow.IS: (ConvLayer(N=1, M=20, C=4, H=9, W=7, R=3, S=3, stride=2, pad=1, groups=2),
                  dict(array_rows=4, array_cols=16, ifmap_spad_kib=1, weight_spad_kib=1, acc_kib=1)),
    Dataflow.OS: (ConvLayer(N=2, M=12, C=8, H=11, W=11, R=3, S=3, stride=2, pad=1, groups=2),
                  dict(array_rows=64, array_cols=4, ifmap_spad_kib=1, weight_spad_kib=1, acc_kib=2)),
}


@st.composite
def tiling_archs(draw):
    arch = draw(archs())
    return replace(arch, array_rows=draw(st.sampled_from(DIMS)), array_cols=draw(st.sampled_from(DIMS)),
                   ifmap_spad_kib=draw(st.integers(1, 8)), weight_spad_kib=draw(st.integers(1, 8)),
                   acc_kib=draw(st.integers(1, 8)))


def lowered(layer, arch):
    try:
        return mapping.lower(layer, arch)
    except AccelsimError:
        assume(False)


def check_executed(layer, arch, shift, seed):
    """Execute ``layer`` as its mapping on ``arch`` tiles it: outputs == reference (shape, dtype, values),
    MACs == the layer's, every traffic count == accelsim.memory's closed form and the model's report."""
    m = lowered(layer, arch)
    x, w = operands(layer, np.int8, seed)
    out, counts = execute_mapping(x, w, m, arch, requantize_shift=shift)

    ref = conv2d_numpy(x, w, stride=layer.stride, pad=layer.pad, groups=layer.groups)
    if shift is not None:
        ref = requantize(ref, shift)
    assert out.shape == ref.shape
    assert out.dtype == ref.dtype
    np.testing.assert_array_equal(out, ref)

    ob = 4 if shift is None else 1
    assert counts.macs == layer.macs
    assert counts.traffic() == memory.traffic(m, ob)
    r = simulate_layer(layer, arch, requantize_shift=shift)  # what the model reports for the same layer
    assert (r.dram_read_bytes, r.dram_write_bytes) == (counts.dram_read_bytes, counts.dram_write_bytes)
    assert r.sram_reads == counts.traffic().sram_reads()
    assert r.sram_writes == counts.traffic().sram_writes()
    return m


@pytest.mark.parametrize("dataflow", list(Dataflow), ids=lambda d: d.name)
@settings(max_examples=150)  # milliseconds each; OS k-tiles and IS m-tiles need the extra draws
@given(layer=layers(**SMALL), arch=tiling_archs(), shift=st.sampled_from([None, None, 0, 7]),
       seed=st.integers(0, 2**31 - 1))
def test_executed_mapping_equals_reference_and_model(dataflow, layer, arch, shift, seed):
    check_executed(layer, replace(arch, dataflow=dataflow), shift, seed)


@pytest.mark.parametrize("shift", [None, 5])
@pytest.mark.parametrize("dataflow", list(Dataflow), ids=lambda d: d.name)
def test_executed_mapping_tiled_along_every_dimension(dataflow, shift):
    layer, fields = TILED[dataflow]
    m = check_executed(layer, ArchConfig(dataflow=dataflow, **fields), shift, seed=11)
    assert min(m.p_tiles, m.k_tiles, m.m_tiles, m.layer.groups) > 1


@pytest.mark.parametrize("dataflow", list(Dataflow), ids=lambda d: d.name)
def test_executed_mapping_resnet50_layer_on_the_default_preset(dataflow):
    """A real layer on the shipped buffers (128 KiB spads, 64 KiB accumulator): 800-7000 steps."""
    (layer,) = [layer for layer in workloads.load("resnet50") if layer.name == "layer1.0.conv2"]
    check_executed(layer, preset().with_dataflow(dataflow), None, seed=1)


@pytest.mark.parametrize("dataflow", list(Dataflow), ids=lambda d: d.name)
def test_executed_mapping_compiled_equals_py_func(dataflow):
    layer, fields = TILED[dataflow]
    arch = ArchConfig(dataflow=dataflow, **fields)
    m = mapping.lower(layer, arch)
    x, w = operands(layer, np.int8, 3)
    out_c, counts_c = execute_mapping(x, w, m, arch)
    out_py, counts_py = execute_mapping(x, w, m, arch, interpreted=True)
    assert out_c.shape == out_py.shape and out_c.dtype == out_py.dtype
    np.testing.assert_array_equal(out_c, out_py)
    assert counts_c == counts_py


def test_executed_mapping_rejects_a_broken_stream():
    """The checker is not vacuous: a dropped token push, a COMPUTE that overwrites instead of accumulating
    and a STORE wider than its tile are each caught (error or wrong outputs)."""
    layer = ConvLayer(M=4, C=4, H=4, W=4, R=3, S=3, pad=1)
    arch = ArchConfig(array_rows=4, array_cols=4, dataflow=Dataflow.WS, ifmap_spad_kib=1, weight_spad_kib=1,
                      acc_kib=1)
    m = mapping.lower(layer, arch)
    x, w = operands(layer, np.int8, 5)
    cmds, regs = program_tables(m)
    C = executed.COLUMNS

    def run(table):
        state = executed.machine_state(m, arch, x, w, out_bytes=4)
        counts = np.zeros(len(executed.COUNTS), np.int64)
        status, _ = run_program(table, regs, state["dram"], state["x_spad"], state["w_spad"], state["acc"],
                                state["grid"], counts)
        raw = state["dram"][m.out_base:m.out_base + layer.output_elems * 4].view("<i4")
        return status, raw.reshape(layer.N, layer.M, layer.E, layer.F)

    status, out = run(cmds)
    assert status == executed.OK
    np.testing.assert_array_equal(out, conv2d_numpy(x, w, pad=1))

    ops = cmds[:, C.index("op")]
    first_load = np.flatnonzero(ops == Op.LOAD)[1]
    broken = cmds.copy()
    broken[first_load, C.index("push_next")] = 0
    assert run(broken)[0] == 1  # token underflow

    accumulating = np.flatnonzero((ops == Op.COMPUTE) & (cmds[:, C.index("accumulate")] == 1))[0]
    broken = cmds.copy()
    broken[accumulating, C.index("accumulate")] = 0
    status, out = run(broken)
    assert status == executed.OK and not np.array_equal(out, conv2d_numpy(x, w, pad=1))

    store = np.flatnonzero(ops == Op.STORE)[0]
    broken = cmds.copy()
    broken[store, C.index("lanes")] += 1
    assert run(broken)[0] == 5


# ------------------------------------------------------------------ dot-product PEs (pe_dot_width, issue 10)


@pytest.mark.parametrize("dataflow", list(Dataflow), ids=lambda d: d.name)
@settings(max_examples=100)
@given(layer=layers(**SMALL), arch=tiling_archs(), dot=st.sampled_from([2, 4, 8]),
       shift=st.sampled_from([None, None, 0, 7]), seed=st.integers(0, 2**31 - 1))
def test_executed_mapping_with_dot_product_pes(dataflow, layer, arch, dot, shift, seed):
    check_executed(layer, replace(arch, dataflow=dataflow, pe_dot_width=dot), shift, seed)


# Per (dataflow, V), a layer tiled along p, k and m at once on V-wide dot-product PEs.
TILED_DOT = {
    (Dataflow.WS, 2): (TILED[Dataflow.WS][0], dict(TILED[Dataflow.WS][1], array_rows=16)),
    (Dataflow.WS, 4): (TILED[Dataflow.WS][0], dict(TILED[Dataflow.WS][1], array_rows=8)),
    (Dataflow.IS, 2): TILED[Dataflow.IS],
    (Dataflow.IS, 4): TILED[Dataflow.IS],
    (Dataflow.OS, 2): (TILED[Dataflow.OS][0], dict(TILED[Dataflow.OS][1], ifmap_spad_kib=2)),
    (Dataflow.OS, 4): (TILED[Dataflow.OS][0], dict(TILED[Dataflow.OS][1], ifmap_spad_kib=2)),
}


@pytest.mark.parametrize("shift", [None, 5])
@pytest.mark.parametrize(("dataflow", "dot"), list(TILED_DOT), ids=lambda x: getattr(x, "name", str(x)))
def test_executed_mapping_with_dot_product_pes_tiled_along_every_dimension(dataflow, dot, shift):
    layer, fields = TILED_DOT[dataflow, dot]
    arch = ArchConfig(dataflow=dataflow, pe_dot_width=dot, **fields)
    m = check_executed(layer, arch, shift, seed=13)
    assert min(m.p_tiles, m.k_tiles, m.m_tiles, m.layer.groups) > 1
    if dataflow is Dataflow.OS:  # V reduction rows a cycle: a multiple of V per k-tile
        assert m.K_T % dot == 0
    else:  # the reduction fills the AR*V lanes
        assert arch.array_rows * dot == m.K_T


@pytest.mark.parametrize("dataflow", list(Dataflow), ids=lambda d: d.name)
def test_executed_mapping_resnet50_layer_on_the_tensorcore_preset(dataflow):
    (layer,) = [layer for layer in workloads.load("resnet50") if layer.name == "layer1.0.conv2"]
    check_executed(layer, preset("tensorcore").with_dataflow(dataflow), None, seed=2)


# ------------------------------------------------------------------ addressable scratchpads (issue 11)


@pytest.mark.parametrize("dot", [1, 4])
@pytest.mark.parametrize("dataflow", list(Dataflow), ids=lambda d: d.name)
def test_remapped_program_computes_the_same(dataflow, dot):
    """The fixed program with every tile moved to other rows (tests/remap.py: buffers swapped, slots moved,
    differently per memory) computes the same outputs with the same traffic and the same schedule: the
    checker follows the addresses, it does not assume the fixed placement."""
    from accelsim.schedule import schedule
    from tests.remap import remapped

    layer, fields = TILED_DOT.get((dataflow, dot), TILED[dataflow])
    arch = ArchConfig(dataflow=dataflow, pe_dot_width=dot, **fields)
    m = mapping.lower(layer, arch)
    prog = mapping.program(m)
    moved = remapped(m, arch, prog)
    rows = [(c.addr, c.addr2, c.acc_addr) for c in prog]
    assert sum(a != b for a, b in zip(rows, [(c.addr, c.addr2, c.acc_addr) for c in moved], strict=True)) > 0
    x, w = operands(layer, np.int8, 4)
    out, counts = execute_mapping(x, w, m, arch)
    out_moved, counts_moved = execute_mapping(x, w, m, arch, commands=moved)
    np.testing.assert_array_equal(out_moved, out)
    np.testing.assert_array_equal(out, conv2d_numpy(x, w, stride=layer.stride, pad=layer.pad,
                                                    groups=layer.groups))
    assert counts_moved == counts
    assert schedule(moved, arch).total_cycles == schedule(prog, arch).total_cycles


def test_rows_outside_a_memory_or_off_a_word_are_errors():
    """A LOAD past its spad's last row, and a PRELOAD or COMPUTE that does not start on a V-row word, are
    each caught."""
    layer, fields = TILED_DOT[Dataflow.WS, 4]
    arch = ArchConfig(dataflow=Dataflow.WS, pe_dot_width=4, **fields)
    m = mapping.lower(layer, arch)
    x, w = operands(layer, np.int8, 6)
    prog = mapping.program(m)
    spad_rows = executed.machine_state(m, arch, x, w, out_bytes=4)["x_spad"].shape[0]

    def first(op):
        return next(i for i, c in enumerate(prog) if c.op == op)

    def with_command(i, **changes):
        return [replace(c, **changes) if j == i else c for j, c in enumerate(prog)]

    i = first(Op.LOAD) + 1  # the input LOAD
    assert prog[i].operand == 0
    with pytest.raises(AssertionError, match="LOAD's rows and lanes lie inside its scratchpad"):
        execute_mapping(x, w, m, arch, commands=with_command(i, addr=spad_rows - prog[i].rows + 1))
    for op in (Op.PRELOAD, Op.COMPUTE):
        i = first(op)
        with pytest.raises(AssertionError, match="from a V-row word"):
            execute_mapping(x, w, m, arch, commands=with_command(i, addr=prog[i].addr + 2))
