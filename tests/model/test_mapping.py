"""The lowering: every real layer (LLM-sized GEMMs included) lowers to commands the encoding carries; where
a true limit of the encoding remains, the error names the user's quantity, never a register field."""

import pytest

from accelsim import AccelsimError, ConvLayer, mapping, workloads
from accelsim.arch import preset, preset_names
from accelsim.commands import Command, Op
from accelsim.sim import simulate_layer

BIG = [
    ConvLayer(M=64, C=8192, H=8, W=8, R=3, S=3, pad=1, name="wide-3x3"),  # K = 73,728
    ConvLayer.fc(100_000, 100_000, N=4096, name="llm-fc"),  # K, M 100 k; 41 GB of weights (48-bit addresses)
    ConvLayer.fc(768, 70_000, N=70_000, name="tall-gemm"),  # M, N >= 65,536
    ConvLayer(M=50_257, C=768, H=1024, W=1, name="gemm-row"),  # a topology GEMM row, K on the channels
]


def encoded(m: mapping.Mapping) -> None:
    """Pack the CONFIGs, the first, a middle and the last step (every field through the 192-bit word)."""
    n_outer, n_inner = m.loops
    corners = [(0, 0, 0, 0), (m.layer.groups // 2, n_outer // 2, n_inner // 2, m.k_tiles // 2),
               (m.layer.groups - 1, n_outer - 1, n_inner - 1, m.k_tiles - 1)]
    for c in [*mapping.config_commands(m), *(c for at in corners
                                            for c in mapping.step_commands(m, mapping.step_at(m, *at)))]:
        assert Command.unpack(c.pack()) == c


@pytest.mark.parametrize("layer", BIG, ids=lambda layer: layer.name)
@pytest.mark.parametrize("name", preset_names())
def test_big_layers_lower_encode_and_simulate(layer, name):
    arch = preset(name)
    m = mapping.lower(layer, arch)
    encoded(m)
    r = simulate_layer(layer, arch)
    assert r.macs == layer.macs and r.cycles * arch.macs_per_cycle >= layer.macs


@pytest.mark.parametrize("network", workloads.ZOO_NAMES)
def test_every_zoo_layer_encodes(network):
    for layer in workloads.zoo(network):
        encoded(mapping.lower(layer, preset()))


@pytest.mark.parametrize("layer, message", [
    (ConvLayer(M=8, C=(1 << 20) - 1, H=5, W=5, R=5, S=5),
     "C/groups*R*S (the reduction length) must be < 16,777,216 (the command encoding's limit), not "
     "26214375"),
    (ConvLayer(M=8, C=8, H=300, W=300, R=256, S=1),
     "R must be < 256 (the command encoding's limit), not 256"),
    (ConvLayer.fc(8, 1 << 20), "M must be < 1,048,576 (the command encoding's limit), not 1048576"),
    (ConvLayer.fc(8, 8, N=1 << 19), "N must be < 524,288 (the command encoding's limit), not 524288"),
    (ConvLayer(M=1, C=1, H=1 << 16, W=1), "H must be < 65,536 (the command encoding's limit), not 65536"),
])
def test_true_limits_name_the_layers_quantity(layer, message):
    with pytest.raises(AccelsimError) as err:
        mapping.lower(layer, preset())
    assert str(err.value) == f"layer {layer.name}: {message}"


def test_huge_buffers_cap_the_stream_at_what_a_command_names():
    arch = preset().__class__(array_rows=1, array_cols=1, ifmap_spad_kib=1 << 20, acc_kib=1 << 20)
    m = mapping.lower(ConvLayer.fc(1, 1, N=300_000), arch)
    assert m.P_T == mapping.MAX_TILE_ROWS and m.p_tiles == 2
    assert max(c.rows for c in mapping.program(m) if c.op == Op.COMPUTE) == mapping.MAX_TILE_ROWS


# ------------------------------------------------------------------ dot-product PEs (pe_dot_width, issue 10)


@pytest.mark.parametrize("dot", [1, 2, 4, 8])
@pytest.mark.parametrize("dataflow", ["ws", "is"])
def test_dot_product_pes_cut_the_reduction_to_ar_times_v_lanes(dataflow, dot):
    from dataclasses import replace

    arch = replace(preset("gemmini"), array_rows=8, pe_dot_width=dot).with_dataflow(dataflow)
    AR, AC, V = arch.array_rows, arch.array_cols, dot
    buf = mapping.Buffers.of(arch)
    streamed_lanes = buf.ifmap_lanes if dataflow == "ws" else buf.weight_lanes
    stationary_rows = buf.weight_rows if dataflow == "ws" else buf.ifmap_rows
    assert streamed_lanes == AR * V  # a row of the operand feeding the K lanes is AR*V bytes
    assert stationary_rows >= AR * V  # one AR*V x AC stationary tile per buffer
    layer = ConvLayer(M=40, C=24, H=10, W=10, R=3, S=3, pad=1)
    m = mapping.lower(layer, arch)
    assert min(AR * V, layer.gemm_K) == m.K_T
    assert (m.M_T if dataflow == "ws" else m.P_T) == AC
    for cmd in mapping.program(m):
        if cmd.op is Op.PRELOAD:
            assert cmd.lanes <= AR * V  # the K_t valid stationary rows
        if cmd.op is Op.LOAD:
            assert cmd.lanes <= max(AR * V, AC)
        Command.unpack(cmd.pack())  # every field still fits its bits


def test_dot_product_lanes_must_fit_the_command_field():
    from dataclasses import replace

    arch = replace(preset("gemmini"), array_rows=512, array_cols=4, pe_dot_width=4, weight_spad_kib=1 << 12)
    with pytest.raises(AccelsimError, match=r"array_rows x pe_dot_width must be <= 2047 .*, not 2048"):
        mapping.lower(ConvLayer(M=4, C=4, H=4, W=4, R=1, S=1), arch)


@pytest.mark.parametrize("dot", [1, 2, 4, 8])
def test_dot_product_pes_in_os_stream_v_reduction_rows_a_cycle(dot):
    from dataclasses import replace

    arch = replace(preset("gemmini"), array_rows=8, pe_dot_width=dot, ifmap_spad_kib=3).with_dataflow("os")
    buf = mapping.Buffers.of(arch)
    assert (buf.ifmap_lanes, buf.weight_lanes) == (8, 16)  # pixels and channels, whatever V
    layer = ConvLayer(M=40, C=600, H=10, W=10, R=3, S=3, pad=1)
    m = mapping.lower(layer, arch)
    assert m.K_T % dot == 0 and min(buf.ifmap_rows, buf.weight_rows) >= m.K_T
    k_last = layer.gemm_K - (m.k_tiles - 1) * m.K_T
    streams = {cmd.rows for cmd in mapping.program(m) if cmd.op is Op.COMPUTE}
    assert streams == {-(-m.K_T // dot), -(-k_last // dot)}  # ceil(K_t / V)



@pytest.mark.parametrize("dot", [1, 2, 4, 8])
@pytest.mark.parametrize("dataflow", ["ws", "os", "is"])
@pytest.mark.parametrize("network", ["resnet18", "mobilenetv2"])
def test_slots_hold_every_tile_and_fit_the_memories(network, dataflow, dot):
    """mapping.slot_rows (issue 11): each slot holds its memory's largest tile (the operand spads' a whole
    number of V-row words), an OS slot covers the AR accumulator rows its COMPUTE writes, the two slots fit
    the memory of an RTL build of the dataflow, and the program's commands stay inside their slot."""
    from dataclasses import replace

    arch = preset("tensorcore").with_dataflow(dataflow)
    arch = replace(arch, pe_dot_width=dot, array_rows=16 // dot)
    _, _, if_rows, w_rows, acc_rows = mapping.built_buffers((arch.dataflow.code,), arch.array_rows,
                                                            arch.array_cols, dot, arch.ifmap_spad_kib,
                                                            arch.weight_spad_kib, arch.acc_kib)
    for layer in workloads.load(network)[::5]:
        m = mapping.lower(layer, arch)
        x_slot, w_slot, acc_slot = mapping.slot_rows(m)
        assert x_slot % dot == 0 and w_slot % dot == 0
        assert x_slot <= if_rows and w_slot <= w_rows and acc_slot <= acc_rows
        if dataflow == "os":
            assert acc_slot >= arch.array_rows
        step = mapping.step_at(m, 0, 0, 0, min(1, m.k_tiles - 1))  # buffer 1 when there are two k-steps
        for c in mapping.step_commands(m, step):
            if c.op == Op.LOAD:
                slot = x_slot if c.operand == 0 else w_slot
                assert c.addr == step.index % mapping.BUFFERS * slot and c.rows <= slot
            if c.op in (Op.COMPUTE, Op.STORE):
                assert c.acc_addr == 0
