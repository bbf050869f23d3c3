"""The pure helpers of benchmarks/zigzag_compare.py: our layer and architecture in ZigZag's terms.

ZigZag itself is a benchmark-only dependency (the ``bench`` extra), so nothing here imports it; these check
that the description the benchmark hands it is the same layer and the same machine as ours.
"""

import importlib.util
import math
from pathlib import Path

from hypothesis import given

from accelsim.arch import preset
from accelsim.layer import ConvLayer, output_size
from tests.strategies import layers

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "zigzag_compare.py"
_spec = importlib.util.spec_from_file_location("zigzag_compare", _PATH)
zc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(zc)


@given(layers(max_c=12, max_m=12, max_hw=12, max_rs=5))
def test_layer_is_the_same_convolution(layer):
    d = zc.zigzag_layer(layer, layer_id=3)
    size = dict(zip(d["loop_dims"], d["loop_sizes"], strict=True))
    assert math.prod(d["loop_sizes"]) == layer.macs
    assert (size["B"], size["G"], size["K"] * size["G"], size["C"] * size["G"]) == (
        layer.N, layer.groups, layer.M, layer.C)
    assert (size["OY"], size["OX"], size["FY"], size["FX"]) == (layer.E, layer.F, layer.R, layer.S)
    # ZigZag derives the input extent from its relation ix = stride*ox + fx and the padding: the same E, F
    pr = dict(zip(d["pr_loop_dims"], d["pr_loop_sizes"], strict=True))
    pads = dict(zip(d["pr_loop_dims"], d["padding"], strict=True))
    assert (pr["IY"], pr["IX"]) == (layer.H, layer.W)
    for dim, inp, f in (("IY", "iy", "fy"), ("IX", "ix", "fx")):
        assert f"{inp}={layer.stride}*o{inp[1]}+1*{f}" in d["dimension_relations"]
        lo, hi = pads[dim]
        assert output_size(pr[dim], size[f.upper()], layer.stride, lo) == size["O" + dim[1]]
        assert lo == hi == layer.pad
    assert d["operand_source"] == {"W": 3, "I": 3}  # both operands come from DRAM
    assert d["operand_precision"] == {"W": 8, "I": 8, "O": 32, "O_final": 32}


def test_resnet_conv1_in_zigzag_terms():
    conv1 = ConvLayer(N=1, M=64, C=3, H=224, W=224, R=7, S=7, stride=2, pad=3, name="conv1")
    d = zc.zigzag_layer(conv1, out_bits=8)
    assert d["loop_sizes"] == [1, 64, 1, 112, 112, 3, 7, 7]
    assert d["dimension_relations"] == ["ix=2*ox+1*fx", "iy=2*oy+1*fy"]
    assert d["operand_precision"]["O_final"] == 8


def test_accelerator_matches_the_issue_arch():
    arch = zc.issue_arch()
    assert (arch.ifmap_spad_kib, arch.weight_spad_kib, arch.acc_kib) == (256, 256, 64)
    acc = zc.zigzag_accelerator(arch)
    mem = acc["memories"]
    assert acc["operational_array"]["sizes"] == [arch.array_rows, arch.array_cols]
    assert mem["ifmap_spad"]["size"] == 256 * 1024 * 8 and mem["ifmap_spad"]["operands"] == ["I1"]
    assert mem["weight_spad"]["size"] == 256 * 1024 * 8 and mem["weight_spad"]["operands"] == ["I2"]
    assert mem["acc"]["size"] == 64 * 1024 * 8 and mem["acc"]["operands"] == ["O"]
    dram_ports = {p["type"]: p for p in mem["dram"]["ports"]}
    assert set(dram_ports) == {"read", "write"}  # a channel each way, as ours
    for p in dram_ports.values():
        assert p["bandwidth_max"] == 8 * arch.dram_bytes_per_cycle
    e = arch.energy
    # ZigZag charges per access of bandwidth_max bits: per byte (per int32 word) it must be our table
    per_unit = {"ifmap_spad": (8, e.spad_byte_pj), "weight_spad": (8, e.spad_byte_pj),
                "acc": (arch.acc_bits, e.acc_word_pj), "dram": (8, e.dram_byte_pj)}
    for name, (unit_bits, pj) in per_unit.items():
        width = max(p["bandwidth_max"] for p in mem[name]["ports"])
        for cost in (mem[name]["r_cost"], mem[name]["w_cost"]):
            assert math.isclose(cost / (width / unit_bits), pj)
    assert acc["operational_array"]["unit_energy"] == e.mac_pj


def test_mapping_is_weight_stationary_on_our_grid():
    arch = preset("gemmini")
    (m,) = zc.zigzag_mapping(arch)
    assert m["spatial_mapping"] == {"D1": [f"C, {arch.array_rows}"], "D2": [f"K, {arch.array_cols}"]}
    assert m["memory_operand_links"] == {"O": "O", "W": "I2", "I": "I1"}
