"""Hypothesis strategies shared by the tests: layers and int8/float32 operands."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from accelsim.layer import ConvLayer


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
def archs(draw, *, max_dim: int = 12):
    """Small valid ArchConfigs over all dataflows, with scratchpads small enough to force several tiles."""
    from accelsim.arch import ArchConfig, Dataflow

    rows = draw(st.integers(1, max_dim))
    cols = draw(st.integers(1, max_dim))
    return ArchConfig(
        name="hyp",
        array_rows=rows,
        array_cols=cols,
        dataflow=draw(st.sampled_from(list(Dataflow))),
        ifmap_spad_kib=draw(st.integers(1, 8)),
        weight_spad_kib=draw(st.integers(1, 8)),
        acc_kib=draw(st.integers(1, 8)),
        dram_bytes_per_cycle=draw(st.sampled_from([1, 2, 3, 4, 8, 16])),
        dram_latency_cycles=draw(st.integers(0, 60)),
        queue_depth=draw(st.integers(1, 8)),
        host_issue_cycles=draw(st.integers(1, 12)),
    )
