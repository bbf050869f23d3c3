"""Each Numba kernel, compiled, against its own Python source (``.py_func``) on small shapes, and the exact
int8 chunked product against integer arithmetic."""

import dataclasses

import numpy as np
import pytest
from accelsim.kernels import direct, igemm, im2col, int8
from accelsim.kernels.pad import pad_input
from hypothesis import given
from hypothesis import strategies as st

from accelsim import ConvLayer
from accelsim.reference import conv2d as reference
from accelsim.reference import conv2d_numpy, wrap_int32
from tests.strategies import layers, operands


def both(kernel, *args, out_index=-1):
    """Run the compiled kernel and its .py_func on copies of args; return the two output arrays."""
    a = [np.copy(v) if isinstance(v, np.ndarray) else v for v in args]
    b = [np.copy(v) if isinstance(v, np.ndarray) else v for v in args]
    kernel(*a)
    kernel.py_func(*b)
    return a[out_index], b[out_index]


def assert_same(compiled, python):
    assert compiled.shape == python.shape and compiled.dtype == python.dtype
    if compiled.dtype.kind in "iu":
        np.testing.assert_array_equal(compiled, python)
    else:  # same loop order in both; compiled code may only contract or reorder within float32 rounding
        np.testing.assert_allclose(compiled, python, rtol=1e-5, atol=1e-5)


SMALL = dict(max_c=4, max_m=4, max_hw=6, max_rs=3, max_n=2)


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@given(layer=layers(**SMALL), seed=st.integers(0, 2**31 - 1))
def test_direct_kernels_compiled_equal_py_func(dtype, layer, seed):
    x, w = operands(layer, dtype, seed)
    acc = np.int32 if dtype == np.int8 else np.float32
    Hp, Wp = layer.H + 2 * layer.pad, layer.W + 2 * layer.pad
    xp_c, xp_py = both(pad_input, x, layer.pad, np.full((layer.N, layer.C, Hp, Wp), 9, dtype=dtype))
    assert_same(xp_c, xp_py)
    np.testing.assert_array_equal(xp_c[:, :, layer.pad:layer.pad + layer.H, layer.pad:layer.pad + layer.W], x)
    wide = w.astype(acc)
    out = np.full((layer.N, layer.M, layer.E, layer.F), 7, dtype=acc)
    if layer.stride == 1:
        assert_same(*both(direct.direct_stride1, xp_c, wide, layer.groups, out))
    assert_same(*both(direct.direct_strided, xp_c, wide, layer.stride, layer.groups, out))


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@given(layer=layers(**SMALL), seed=st.integers(0, 2**31 - 1))
def test_direct_3x3_compiled_equals_py_func_and_general_kernel(dtype, layer, seed):
    layer = ConvLayer(N=layer.N, M=layer.M, C=layer.C, H=layer.H + 2, W=layer.W + 2, R=3, S=3,
                      pad=layer.pad, groups=layer.groups)
    x, w = operands(layer, dtype, seed)
    acc = np.int32 if dtype == np.int8 else np.float32
    xp = np.pad(x, ((0, 0), (0, 0), (layer.pad, layer.pad), (layer.pad, layer.pad)))
    out = np.full((layer.N, layer.M, layer.E, layer.F), 7, dtype=acc)
    compiled, python = both(direct.direct_3x3, xp, w.astype(acc), layer.groups, out)
    assert_same(compiled, python)
    general, _ = both(direct.direct_stride1, xp, w.astype(acc), layer.groups, out)
    assert_same(compiled, general)


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@given(layer=layers(**SMALL), seed=st.integers(0, 2**31 - 1))
def test_unfold_kernels_compiled_equal_py_func_and_definition(dtype, layer, seed):
    x, _ = operands(layer, dtype, seed)
    R, S, U, pad = layer.R, layer.S, layer.stride, layer.pad
    xp = np.empty((layer.N, layer.C, layer.H + 2 * pad, layer.W + 2 * pad), dtype=np.float32)
    pad_input(x, pad, xp)  # int8 -> float32 conversion and padding in one pass
    np.testing.assert_array_equal(xp, np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))).astype(np.float32))
    n = layer.N - 1
    col = np.full((layer.C * R * S, layer.E * layer.F), np.nan, dtype=np.float32)
    strided_c, strided_py = both(im2col.im2col_strided, xp, n, R, S, U, col)
    assert_same(strided_c, strided_py)
    # col[(c*R + r)*S + s, e*F + f] = xp[n, c, U*e + r, U*f + s]
    windows = np.lib.stride_tricks.sliding_window_view(xp[n], (R, S), axis=(1, 2))[:, ::U, ::U]
    expected = windows[:, :layer.E, :layer.F].transpose(0, 3, 4, 1, 2).reshape(col.shape)
    np.testing.assert_array_equal(strided_c, expected)
    if U == 1:
        s1_c, s1_py = both(im2col.im2col_stride1, xp, n, R, S, col)
        assert_same(s1_c, s1_py)
        np.testing.assert_array_equal(s1_c, expected)


@given(rows=st.integers(1, 5), cols=st.integers(1, 7), seed=st.integers(0, 2**31 - 1))
def test_chunk_kernels_compiled_equal_py_func(rows, cols, seed):
    rng = np.random.default_rng(seed)
    part = rng.integers(-(2**24), 2**24 + 1, (rows, cols)).astype(np.float32)
    dst = rng.integers(-(2**31), 2**31, (rows, cols), dtype=np.int64).astype(np.int32)
    assert_same(*both(int8.store_chunk, part, dst))
    # The Python form wraps through numpy int32 scalars, which warn on overflow; the values still agree.
    with np.errstate(over="ignore"):
        compiled, python = both(int8.add_chunk, part, dst)
    assert_same(compiled, python)
    np.testing.assert_array_equal(compiled, wrap_int32(dst.astype(np.int64) + part.astype(np.int64)))


@pytest.mark.parametrize(("K", "chunk", "expected"), [
    (1, 1024, [(0, 1)]),
    (1024, 1024, [(0, 1024)]),
    (1025, 1024, [(0, 512), (512, 1025)]),
    (2304, 1024, [(0, 768), (768, 1536), (1536, 2304)]),
    (10, 3, [(0, 2), (2, 5), (5, 7), (7, 10)]),
])
def test_chunk_bounds_cover_k_in_near_equal_pieces(K, chunk, expected):
    assert int8.chunk_bounds(K, chunk) == expected


@given(P=st.integers(1, 6), K=st.integers(1, 40), Q=st.integers(1, 6), chunk=st.integers(1, 16),
       seed=st.integers(0, 2**31 - 1))
def test_exact_int8_matmul_equals_integer_product(P, K, Q, chunk, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, (P, K))
    b = rng.integers(-128, 128, (K, Q))
    dst = np.empty((P, Q), dtype=np.int32)
    int8.exact_int8_matmul(a.astype(np.float32), b.astype(np.float32), dst, chunk)
    np.testing.assert_array_equal(dst, wrap_int32(a @ b))


def test_exact_int8_matmul_wraps_worst_case():
    # 131072 products of (-128) * (-128) = 2**31: 128 exact chunks of 2**24, wrapped once in int32.
    K = 131072
    a = np.full((1, K), -128, dtype=np.float32)
    dst = np.empty((1, 1), dtype=np.int32)
    int8.exact_int8_matmul(a, a.T.copy(), dst)
    assert dst[0, 0] == -(2**31)


@given(layer=layers(**SMALL), seed=st.integers(0, 2**31 - 1))
def test_igemm_packing_compiled_equals_py_func_and_definition(layer, seed):
    x, w = operands(layer, np.int8, seed)
    U, pad, g = layer.stride, layer.pad, layer.groups - 1  # pack the last group
    Cg, Mg = layer.C // layer.groups, layer.M // layer.groups
    Rs, Ss = -(-layer.R // U), -(-layer.S // U)
    Hs, Ws = layer.E + Rs - 1, layer.F + Ss - 1
    P = -(-Cg * U * U // 2)
    xpair_c, xpair_py = both(igemm.pack_input, x, g * Cg, Cg, pad, U, Hs, Ws,
                             np.full((layer.N, P, Hs, Ws, 2), 99, dtype=np.int16))
    assert_same(xpair_c, xpair_py)
    # Definition: space-to-depth channel q = (c*U + a)*U + b at (h, v) is x[c, U*h + a - pad, U*v + b - pad].
    big = U * max(Hs, Ws) + U
    xp = np.zeros((layer.N, Cg, big + pad, big + pad), dtype=np.int16)
    xp[:, :, pad:pad + layer.H, pad:pad + layer.W] = x[:, g * Cg:(g + 1) * Cg]
    s2d = np.zeros((layer.N, 2 * P, Hs, Ws), dtype=np.int16)
    for q in range(Cg * U * U):
        c, a, b = q // (U * U), (q // U) % U, q % U
        s2d[:, q] = xp[:, c, a:a + U * Hs:U, b:b + U * Ws:U]
    np.testing.assert_array_equal(xpair_c, s2d.reshape(layer.N, P, 2, Hs, Ws).transpose(0, 1, 3, 4, 2))

    Mpad = -(-Mg // igemm.MR) * igemm.MR
    wpair_c, wpair_py = both(igemm.pack_weights, w, g * Mg, Mg, U, Rs, Ss,
                             np.full((Mpad, P * Rs * Ss, 2), 99, dtype=np.int16))
    assert_same(wpair_c, wpair_py)
    assert not wpair_c[Mg:].any()  # the rows completing the last panel are zero
    # The stride-1 convolution of the packed operands is the original strided convolution of the group.
    ws = wpair_c.reshape(Mpad, P, Rs, Ss, 2).transpose(0, 1, 4, 2, 3).reshape(Mpad, 2 * P, Rs, Ss)
    packed = conv2d_numpy(s2d.astype(np.int8), ws[:Mg].astype(np.int8))[:, :, :layer.E, :layer.F]
    expected = conv2d_numpy(x[:, g * Cg:(g + 1) * Cg], w[g * Mg:(g + 1) * Mg], stride=U, pad=pad)
    np.testing.assert_array_equal(packed, expected)


@given(layer=layers(**SMALL), seed=st.integers(0, 2**31 - 1))
def test_igemm_tiles_equal_integer_convolution(layer, seed):
    # The tile kernel is an intrinsic (no Python form): drive it through the route, stride 1, one group.
    layer = dataclasses.replace(layer, stride=1, groups=1)
    x, w = operands(layer, np.int8, seed)
    out = np.full((layer.N, layer.M, layer.E, layer.F), 7, dtype=np.int32)
    igemm.conv2d_igemm(x, w, 1, layer.pad, 1, out)
    np.testing.assert_array_equal(out, reference(x, w, pad=layer.pad))
