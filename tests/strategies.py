"""Hypothesis strategies shared by the tests: layers and int8/float32 operands."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import strategies as st

from accelsim.layer import SHAPE_FIELDS, ConvLayer


@st.composite
def layers(draw, *, max_c: int = 8, max_m: int = 8, max_hw: int = 9, max_rs: int = 4, max_n: int = 2):
    """Small valid ConvLayers: stride > 1, padding, groups, depthwise, 1x1, non-square, N > 1."""
    groups = draw(st.sampled_from([1, 1, 1, 2, 3]))
    depthwise = draw(st.booleans()) and groups > 1
    if depthwise:
        C = M = groups
    else:
        C = groups * draw(st.integers(1, max(1, max_c // groups)))
        M = groups * draw(st.integers(1, max(1, max_m // groups)))
    R = draw(st.integers(1, max_rs))
    S = draw(st.integers(1, max_rs))
    pad = draw(st.integers(0, 2))
    H = draw(st.integers(max(1, R - 2 * pad), max_hw))
    W = draw(st.integers(max(1, S - 2 * pad), max_hw))
    return ConvLayer(
        N=draw(st.integers(1, max_n)), M=M, C=C, H=H, W=W, R=R, S=S,
        stride=draw(st.integers(1, 3)), pad=pad, groups=groups, name="hyp",
    )


def operands(layer: ConvLayer, dtype, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random x (N,C,H,W) and w (M,C/groups,R,S) of ``dtype`` (int8 full range, or float32 N(0,1))."""
    rng = np.random.default_rng(seed)
    xs = (layer.N, layer.C, layer.H, layer.W)
    ws = (layer.M, layer.C // layer.groups, layer.R, layer.S)
    if np.dtype(dtype) == np.int8:
        return (rng.integers(-128, 128, xs, dtype=np.int8), rng.integers(-128, 128, ws, dtype=np.int8))
    return rng.standard_normal(xs, dtype=np.float32), rng.standard_normal(ws, dtype=np.float32)


@st.composite
def archs(draw, *, max_dim: int = 12, pe_dot_widths: tuple[int, ...] = (1,)):
    """Small valid ArchConfigs over all dataflows, with scratchpads small enough to force several tiles;
    ``pe_dot_width`` drawn from ``pe_dot_widths``."""
    from accelsim.arch import ArchConfig, Dataflow

    rows = draw(st.integers(1, max_dim))
    cols = draw(st.integers(1, max_dim))
    dataflow = draw(st.sampled_from(list(Dataflow)))
    dot = draw(st.sampled_from(pe_dot_widths)) if pe_dot_widths != (1,) else 1
    return ArchConfig(
        name="hyp",
        array_rows=rows,
        array_cols=cols,
        pe_dot_width=dot,
        dataflow=dataflow,
        ifmap_spad_kib=draw(st.integers(1, 8)),
        weight_spad_kib=draw(st.integers(1, 8)),
        acc_kib=draw(st.integers(1, 8)),
        dram_bytes_per_cycle=draw(st.sampled_from([1, 2, 3, 4, 8, 16])),
        dram_latency_cycles=draw(st.integers(0, 60)),
        queue_depth=draw(st.integers(1, 8)),
        host_issue_cycles=draw(st.integers(1, 12)),
    )


# ------------------------------------------------------------------ CLI inputs, well-formed and hostile
# (tests/test_fuzz_cli.py). Each mixes what the loaders accept with the hostile values issue 8 found:
# duplicates, empty strings, control characters, NUL, bytes that are not UTF-8, inf/nan/huge/subnormal
# numbers, missing or swapped columns, typos of every key.
#
# The fuzz runs ~10,000 examples, so each is built from ONE hypothesis draw: a byte string that a
# `_Choices` reader turns into choices (a pool index, a length, a yes/no). Hypothesis's cost per draw made
# composite strategies of ~50 draws 5-10x slower; with one draw it still shrinks (shorter and smaller
# bytes), and every pool lists its simplest, valid entries first, so a shrunk example is a simple one.


class _Choices:
    """Choices read from bytes: one byte per choice (two for more than 256 options); once the bytes are
    used up every choice is 0, the first option, so the input ends (lists stop, values are simplest)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def below(self, n: int) -> int:
        value = 0
        for _ in range(1 if n <= 256 else 2):
            value = value << 8 | (self.data[self.at] if self.at < len(self.data) else 0)
            self.at += 1
        return value % n

    def pick(self, options):
        return options[self.below(len(options))]

    def one_in(self, n: int) -> bool:
        return self.below(n) == n - 1

    def count(self, most: int) -> int:
        return self.below(most + 1)

    def rest(self) -> bytes:
        return self.data[self.at :]


def _from_bytes(build, size: int) -> st.SearchStrategy:
    """``build(choices)`` over ``size`` drawn bytes (a fixed size: hypothesis draws short byte strings
    far more often than long ones, and short ones would leave most choices at their first option)."""
    return st.binary(min_size=size, max_size=size).map(lambda data: build(_Choices(data)))


NASTY_TEXT = ["conv1", "DP", "", " ", "\x00", "a\x00b", "\x07", "\n", "\r\n", "\t", "é", "名前", "\u202e",
              "\ufeff", "#", ",", '"', "'", "=", "[", "]", "{", "\\", "\x7f", "\U0001f600", "x" * 300]
NASTY_INTS = [0, -1, 2**16, 2**24, 2**24 + 1, 2**31, 2**32, 2**53, 2**63 - 1, 2**63, -(2**63), 10**30]
NASTY_FLOATS = ["inf", "-inf", "nan", "+nan", "1e309", "-1e309", "5e-324", "2.2e-310", "1e-6", "0.0", "-0.0",
                "1e300", "0.5", "1.5"]
SMALL = [str(i) for i in range(1, 13)]
# Numbers as a user might type them: mostly small valid ones, then every kind of wrong.
NUMBERS = [*SMALL, *SMALL, *SMALL, *(str(v) for v in NASTY_INTS), *NASTY_FLOATS, *NASTY_TEXT,
           " 5", "5 ", "+5", "0x10", "1_0", "٣", "1e3", "-0", "12abc"]


def _text(c: _Choices) -> str:
    """A short string of interesting characters: ASCII, controls, NUL, non-ASCII, bidi, BOM, emoji."""
    chars = "a1 _-.,;=#\"'\\\x00\x01\x07\t\n\r\x7f\x85é名\u202e\ufeff\U0001f600"
    return "".join(c.pick(chars) for _ in range(c.count(8)))


def _nasty(c: _Choices) -> str:
    return _text(c) if c.one_in(4) else c.pick(NASTY_TEXT)


def _corrupt(c: _Choices, data: bytes) -> bytes:
    """Mostly ``data``; sometimes with invalid UTF-8 spliced in, truncated, or replaced by raw bytes."""
    choice = c.below(10)
    if choice == 1:
        at = c.below(len(data) + 1)
        return data[:at] + c.pick([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xfe\xff"]) + data[at:]
    if choice == 2:
        return data[: c.below(len(data) + 1)]
    if choice == 3:
        return c.rest()
    return data


LAYER_KEYS = [*SHAPE_FIELDS, "name", *SHAPE_FIELDS, "name", "m", "Stride", "padding", "group", "K", "", " M",
              "M ", "N\x00", "é"]


def _layer_spec(c: _Choices, *, valid_bias: bool = False) -> str:
    if c.one_in(10):
        return _text(c)
    items = [(c.pick(SHAPE_FIELDS), "=", c.pick(SMALL)) if valid_bias and not c.one_in(8) else
             (c.pick(LAYER_KEYS), c.pick(["=", "=", "=", "==", ":", ""]), c.pick(NUMBERS))
             for _ in range(c.count(8))]
    if items and c.one_in(4):  # a duplicated key
        items.append(c.pick(items))
    return c.pick([",", ",", ", ", ",,", ";"]).join(f"{k}{eq}{v}" for k, eq, v in items)


def layer_specs(*, valid_bias: bool = False) -> st.SearchStrategy[str]:
    """``--layer`` strings: valid field sets, duplicates, typos, junk values, odd separators, raw text;
    with ``valid_bias``, mostly valid fields (to reach the simulation more often)."""
    return _from_bytes(lambda c: _layer_spec(c, valid_bias=valid_bias), 48)


ARCH_KEYS = ["name", "array_rows", "array_cols", "dataflow", "ifmap_spad_kib", "weight_spad_kib", "acc_kib",
             "dram_bytes_per_cycle", "dram_latency_cycles", "queue_depth", "host_issue_cycles", "clock_mhz",
             "input_bits", "weight_bits", "acc_bits"]
ENERGY_KEYS = ["mac", "spad_byte", "acc_word", "dram_byte"]
# TOML value texts of every type: ints, floats (inf, nan, huge, subnormal), strings (with control
# characters: json.dumps escapes them as TOML does, but for DEL, which then makes the document malformed),
# booleans, dates, arrays, inline tables.
TOML_VALUES = [*SMALL, *SMALL, *(str(v) for v in NASTY_INTS), *NASTY_FLOATS,
               *(json.dumps(t, ensure_ascii=False) for t in NASTY_TEXT),
               '"ws"', '"os"', '"is"', '"WS"', '"rs"', "true", "false", "07:32:00", "1979-05-27T07:32:00Z",
               "[]", "[1, 2]", "{}", "{ a = 1 }", "0x10", "0o7", "1_000", "+1", "1e3", "200.0"]


def _toml_document(c: _Choices) -> bytes:
    keys = [*ARCH_KEYS, "array_row", "Array_rows", "clock", "energy", "dataflow ", '"name"', "a.b"]
    lines = [f"{c.pick(keys)} = {c.pick(TOML_VALUES)}" for _ in range(c.count(6))]
    if c.one_in(2):
        lines.append(c.pick(["[energy_pj]", "[energy_pj]", "[energy]", "energy_pj = 1"]))
        energy = [*ENERGY_KEYS, *ENERGY_KEYS, "sram", "mac_pj", "MAC"]
        lines += [f"{c.pick(energy)} = {c.pick(TOML_VALUES)}" for _ in range(c.count(3))]
    return _corrupt(c, "\n".join(lines).encode())


def toml_documents() -> st.SearchStrategy[bytes]:
    """Arch TOML files: known keys and typos with values of every TOML type, an [energy_pj] table or not,
    sometimes spliced with bytes that are not UTF-8, truncated, or raw bytes."""
    return _from_bytes(_toml_document, 64)


MAPPING_GOOD = {"dataflow": ['"ws"', '"os"', '"is"'], "order": ['"p>m"', '"m>p"'],
                "x_residency": ['"step"', '"keep"'], "w_residency": ['"step"', '"keep"']}
MAPPING_KEYS = ["dataflow", "P_T", "K_T", "M_T", "order", "x_residency", "w_residency", "x_depth", "w_depth",
                "acc_depth"]


def _mapping_document(c: _Choices) -> bytes:
    """Mostly one well-formed [layers.layer] table for a tiny layer (so nests reach the fit checks and run),
    its values sometimes of any TOML type, sometimes a typo'd key, another layer name or table."""
    heads = [f"[layers.{json.dumps(c.pick(NASTY_TEXT), ensure_ascii=False)}]", "[layers]", "[layer.x]",
             "[[layers]]", "x = 1\n[layers.layer]", "[layers.conv1]"]
    lines = ["[layers.layer]" if not c.one_in(8) else c.pick(heads)]
    for key in MAPPING_KEYS:
        if c.one_in(16 if key in ("P_T", "K_T", "M_T") else 2):
            continue
        good = MAPPING_GOOD.get(key, ["1", "1", "2", "3", "4", "4", "8", "16", "64"])
        value = c.pick(TOML_VALUES) if c.one_in(24) else c.pick(good)
        typo = c.pick(["p_t", "P_T ", "speed", key.upper()])
        lines.append(f"{typo if c.one_in(64) else key} = {value}")
    return c.rest() if c.one_in(24) else "\n".join(lines).encode()


def mapping_documents() -> st.SearchStrategy[bytes]:
    """Mapping files (accelsim.mapper.mapfile): [layers.NAME] tables, known keys and typos, values of
    every TOML type, names the workload has or not, other tables, sometimes corrupted as toml_documents."""
    return _from_bytes(_mapping_document, 96)


CONV_COLUMNS = ["Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels",
                "Num Filter", "Strides"]
GEMM_COLUMNS = ["Layer", "M", "N", "K"]


def _topology_file(c: _Choices) -> bytes:
    gemm = c.one_in(2)
    columns = list(GEMM_COLUMNS if gemm else CONV_COLUMNS)
    width = len(columns) - 1
    mutation = c.below(7)
    if mutation == 1:
        del columns[c.below(len(columns))]
    elif mutation == 2:
        i, j = c.below(len(columns)), c.below(len(columns))
        columns[i], columns[j] = columns[j], columns[i]
    elif mutation == 3:
        columns.append(c.pick(["Sparsity", "Extra", ""]))
    lines = [", ".join(columns) + c.pick([",", "", ", "])]
    for _ in range(c.count(4)):
        name = _nasty(c) if c.one_in(3) else c.pick(["conv1", "fc", "Conv_DP", "DP1", "layer 2"])
        fields = [c.pick(NUMBERS) for _ in range(width + c.pick([0, 0, 0, -1, 1]))]
        lines.append(",".join([name, *fields]) + c.pick([",", ",", "", ",#c", ",1:1,", ",2:4,"]))
    newline = c.pick(["\n", "\r\n"])
    return _corrupt(c, (c.pick(["", "", "\ufeff"]) + newline.join(lines) + newline).encode())


def topology_files() -> st.SearchStrategy[bytes]:
    """SCALE-Sim topology CSVs: either form, headers with missing, swapped or extra columns, rows with
    hostile names and numbers or a wrong field count, a Sparsity column, comments, BOM, CRLF; or bytes."""
    return _from_bytes(_topology_file, 96)


# The keys of a SCALE-Sim 3.0 .cfg by section, and a valid value of each required one.
CFG_KEYS = {
    "general": ["run_name"],
    "architecture_presets": ["ArrayHeight", "ArrayWidth", "IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB",
                             "IfmapOffset", "FilterOffset", "OfmapOffset", "Dataflow", "Bandwidth",
                             "ReadRequestBuffer", "WriteRequestBuffer", "MemoryBanks"],
    "run_presets": ["InterfaceBandwidth", "UseRamulatorTrace"],
    "layout": ["IfmapCustomLayout", "FilterCustomLayout"],
    "sparsity": ["SparsitySupport", "OptimizedMapping", "BlockSize"],
}
CFG_VALID = {"run_name": "fuzz", "ArrayHeight": "4", "ArrayWidth": "4", "IfmapSramSzkB": "8",
             "FilterSramSzkB": "8", "OfmapSramSzkB": "8", "IfmapOffset": "0", "FilterOffset": "10000000",
             "OfmapOffset": "20000000", "Dataflow": "ws", "InterfaceBandwidth": "CALC"}
CFG_VALUES = [*NUMBERS, "os", "is", "OS", "CALC", "USER", "True", "False", "10,20", "10,,", "run"]


def _scalesim_cfg(c: _Choices) -> bytes:
    lines = []
    for section, keys in CFG_KEYS.items():
        head = c.pick([section, section, section, section, section, section.upper(), section + "x", ""])
        if head:
            lines.append(f"[{head}]")
        for key in keys:
            if key in CFG_VALID:
                lines.append(f"{key}: {c.pick(CFG_VALUES) if c.one_in(4) else CFG_VALID[key]}")
        for _ in range(c.count(2)):  # optional keys, typos and duplicates
            key = c.pick([*keys, "Typo", keys[0]])
            lines.append(f"{key}{c.pick([': ', ' = '])}{c.pick(CFG_VALUES)}")
    if c.one_in(5):
        lines.insert(c.below(len(lines) + 1), _nasty(c))
    return _corrupt(c, "\n".join(lines).encode())


def scalesim_cfgs() -> st.SearchStrategy[bytes]:
    """SCALE-Sim .cfg files: the required keys (mostly valid), optional ones, typos, hostile values,
    duplicate keys, odd section names, lines that are not INI; or bytes."""
    return _from_bytes(_scalesim_cfg, 96)


def _onnx_file(c: _Choices) -> bytes:
    from onnx import TensorProto, helper, numpy_helper

    op = c.pick(["Conv", "Conv", "Gemm", "MatMul", "ConvTranspose", "Relu", "Einsum"])
    rank = c.pick([4, 4, 2, 3] if op == "Conv" else [2, 2, 3])
    x_shape = [c.pick([*range(1, 9), 0, "batch", "n"]) for _ in range(rank)]
    w_shape = [1 + c.below(8) for _ in range(rank)]
    attrs: dict[str, object] = {}
    if op == "Conv":
        for key in ("strides", "pads", "dilations", "kernel_shape"):
            if c.one_in(4):
                attrs[key] = [c.below(5) - 1 for _ in range(1 + c.below(5))]
        if c.one_in(4):
            attrs["group"] = c.below(6) - 1
        if c.one_in(4):
            attrs["auto_pad"] = c.pick(["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "X"])
    elif op == "Gemm":
        attrs = {"transA": c.below(2), "transB": c.below(2)}
    node = helper.make_node(op, ["x", "w"], ["y"], name=c.pick(["n", "", "a\x00b", "名", "x" * 300]), **attrs)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.zeros(w_shape, dtype=np.float32), "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", c.pick([17, 13]))])
    data = model.SerializeToString()
    choice = c.below(6)
    if choice == 1:
        return data[: c.below(len(data) + 1)]
    if choice == 2:
        at = c.below(len(data))
        return data[:at] + bytes([c.below(256)]) + data[at + 1 :]
    if choice == 3:
        return c.rest()
    return data


def onnx_files() -> st.SearchStrategy[bytes]:
    """ONNX bytes: one-node models (Conv, Gemm, MatMul or another op) with random, often impossible, shapes
    and attributes; those truncated or with a byte changed; and raw bytes."""
    return _from_bytes(_onnx_file, 64)
