"""accelsim.kernels.conv2d against the reference: every route, shape then dtype then values.

int8 -> int32 results must equal the seven-loop reference bit for bit (wrap-around included). float32
results must lie within the worst-case error bound of float32 summation, whatever order a route sums in:
a sum of K products rounded in float32 differs from the exact sum by at most gamma_(K+1) * sum|x*w| with
gamma_k = k*u / (1 - k*u) and u = 2**-24 (Higham, Accuracy and Stability of Numerical Algorithms, 3.1);
the reference itself rounds its float64 sum once more (<= u * sum|x*w| plus float64 error far below that).
So ``|kernel - reference| <= 2 * (K + 2) * u * conv(|x|, |w|)``, computed per output element below.
"""

import numpy as np
import pytest
from accelsim.kernels import FLOAT32_ROUTES, ROUTES, choose_route, conv2d, rule_route
from hypothesis import given
from hypothesis import strategies as st

from accelsim import AccelsimError, ConvLayer
from accelsim.reference import conv2d as reference
from accelsim.reference import conv2d_numpy
from tests.strategies import layers, operands

U32 = 2.0**-24  # unit roundoff of float32


def kwargs(layer: ConvLayer) -> dict:
    return dict(stride=layer.stride, pad=layer.pad, groups=layer.groups)


def assert_float_close(out: np.ndarray, x: np.ndarray, w: np.ndarray, ref: np.ndarray, **kw) -> None:
    """The worst-case float32 summation bound of the module docstring, element by element."""
    K = w.shape[1] * w.shape[2] * w.shape[3]
    magnitude = conv2d_numpy(np.abs(x), np.abs(w), **kw).astype(np.float64)
    bound = 2 * (K + 2) * U32 * magnitude + 1e-30
    err = np.abs(out.astype(np.float64) - ref.astype(np.float64))
    worst = np.unravel_index(np.argmax(err - bound), err.shape)
    assert (err <= bound).all(), f"error {err[worst]} exceeds bound {bound[worst]} at {worst}"


def check(out: np.ndarray, x: np.ndarray, w: np.ndarray, ref: np.ndarray, **kw) -> None:
    """Shape, then dtype, then values (exact for int8, the stated bound for float32)."""
    assert out.shape == ref.shape
    assert out.dtype == ref.dtype == (np.int32 if x.dtype == np.int8 else np.float32)
    if x.dtype == np.int8:
        np.testing.assert_array_equal(out, ref)
    else:
        assert_float_close(out, x, w, ref, **kw)


def test_routes_are_named():
    assert ROUTES == ("direct", "im2col", "igemm")
    assert FLOAT32_ROUTES == ("direct", "im2col")


@pytest.mark.parametrize("route", [*ROUTES, None])
@given(layer=layers(), seed=st.integers(0, 2**31 - 1))
def test_int8_equals_seven_loops(route, layer, seed):
    x, w = operands(layer, np.int8, seed)
    out = conv2d(x, w, route=route, **kwargs(layer))
    assert out.shape == (layer.N, layer.M, layer.E, layer.F)
    check(out, x, w, reference(x, w, **kwargs(layer)))


@pytest.mark.parametrize("route", [*FLOAT32_ROUTES, None])
@given(layer=layers(), seed=st.integers(0, 2**31 - 1))
def test_float32_within_summation_bound(route, layer, seed):
    x, w = operands(layer, np.float32, seed)
    out = conv2d(x, w, route=route, **kwargs(layer))
    check(out, x, w, reference(x, w, **kwargs(layer)), **kwargs(layer))


# Layers of real networks, scaled so the numpy oracle stays quick: 3x3 pad 1, 1x1, an AlexNet-like 11x11
# stride 4, depthwise stride 2, grouped, a K of 1152 and of 2304 (int8 sums split into 2 and 3 chunks).
BIG = [
    ConvLayer(N=2, C=32, M=48, H=20, W=18, R=3, S=3, pad=1, name="3x3"),
    ConvLayer(N=1, C=96, M=40, H=15, W=15, R=1, S=1, name="1x1"),
    ConvLayer(N=1, C=3, M=16, H=63, W=59, R=11, S=11, stride=4, name="11x11/4"),
    ConvLayer(N=2, C=24, M=24, H=17, W=17, R=3, S=3, stride=2, pad=1, groups=24, name="depthwise/2"),
    ConvLayer(N=1, C=32, M=64, H=12, W=12, R=3, S=3, pad=1, groups=4, name="grouped"),
    ConvLayer(N=1, C=128, M=16, H=8, W=8, R=3, S=3, pad=1, name="K1152"),
    ConvLayer(N=1, C=256, M=8, H=6, W=7, R=3, S=3, stride=2, pad=2, name="K2304"),
]


@pytest.mark.parametrize(("dtype", "route"), [(np.int8, r) for r in (*ROUTES, None)]
                         + [(np.float32, r) for r in (*FLOAT32_ROUTES, None)])
@pytest.mark.parametrize("layer", BIG, ids=lambda layer: layer.name)
def test_network_layers_equal_numpy_oracle(layer, route, dtype):
    x, w = operands(layer, dtype, seed=7)
    out = conv2d(x, w, route=route, **kwargs(layer))
    check(out, x, w, conv2d_numpy(x, w, **kwargs(layer)), **kwargs(layer))


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("K", [1023, 1024, 1025, 2 * 65536])
def test_int8_worst_case_all_minus_128(route, K):
    # Every product is +2**14. K = 1024 sums to exactly 2**24, the largest total one float32 chunk may
    # hold; 1025 needs two chunks; 2 * 65536 sums to 2**31, which wraps to -2**31 in int32.
    x = np.full((1, K, 1, 1), -128, dtype=np.int8)
    w = np.full((2, K, 1, 1), -128, dtype=np.int8)
    out = conv2d(x, w, route=route)
    exact = K * 2**14
    assert out.dtype == np.int32
    assert out.ravel().tolist() == [(exact + 2**31) % 2**32 - 2**31] * 2


@pytest.mark.parametrize("route", ROUTES)
def test_int8_wraps_with_mixed_signs_and_padding(route):
    # 3x3 pad 1 over 16384 channels: the centre pixel sums 9 * 16384 products of -128 * -128 = 2**31 * 9/8
    # (wraps); the corner sums 4 * 16384 of them = 2**30 (does not); a -128 * 127 filter row goes negative.
    C = 16384
    x = np.full((1, C, 3, 3), -128, dtype=np.int8)
    w = np.full((2, C, 3, 3), -128, dtype=np.int8)
    w[1, :, 0, :] = 127
    out = conv2d(x, w, pad=1, route=route)
    np.testing.assert_array_equal(out, conv2d_numpy(x, w, pad=1))
    assert out[0, 0, 1, 1] == 9 * C * 2**14 - 2**32 and out[0, 0, 0, 0] == 4 * C * 2**14


@pytest.mark.parametrize("route", ROUTES)
def test_any_memory_layout_and_inputs_untouched(route):
    rng = np.random.default_rng(3)
    x = np.asfortranarray(rng.integers(-128, 128, (2, 4, 7, 6), dtype=np.int8))
    w = rng.integers(-128, 128, (4, 6, 4, 3), dtype=np.int8).transpose(1, 0, 2, 3)[::2]  # (3, 4, 4, 3)
    x0, w0 = x.copy(), w.copy()
    out = conv2d(x, w, stride=2, pad=1, route=route)
    np.testing.assert_array_equal(out, reference(x, w, stride=2, pad=1))
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)


def test_numpy_integer_parameters_accepted():
    x, w = operands(ConvLayer(C=4, M=4, H=5, W=5, R=3, S=3, groups=2), np.int8, seed=1)
    out = conv2d(x, w, stride=np.int64(2), pad=np.int32(1), groups=np.int16(2))
    np.testing.assert_array_equal(out, reference(x, w, stride=2, pad=1, groups=2))


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_dispatch_picks_a_valid_route_for_the_dtype(dtype):
    routes = ROUTES if dtype == np.int8 else FLOAT32_ROUTES
    dense = "igemm" if dtype == np.int8 else "im2col"
    depthwise = dict(N=1, M=32, C=32, R=3, S=3, E=56, F=56, groups=32)
    assert rule_route(**depthwise, dtype=dtype) == choose_route(**depthwise, dtype=dtype) == "direct"
    tiny = dict(N=1, M=1, C=1, R=2, S=2, E=4, F=4, groups=1)
    assert rule_route(**tiny, dtype=dtype) == choose_route(**tiny, dtype=dtype) == "direct"
    assert rule_route(N=1, M=64, C=64, R=3, S=3, E=56, F=56, groups=1, dtype=dtype) == dense
    assert choose_route(N=1, M=64, C=256, R=1, S=1, E=56, F=56, groups=1, dtype=dtype) in routes
    assert choose_route(N=1, M=96, C=3, R=11, S=11, E=55, F=55, groups=1, stride=4, dtype=dtype) in routes


@pytest.mark.parametrize(
    ("x", "w", "kw", "message"),
    [
        (np.zeros((1, 2, 3), np.int8), np.zeros((1, 2, 1, 1), np.int8), {}, "x must be a 4-D array"),
        ([[[[1]]]], np.zeros((1, 1, 1, 1), np.int8), {}, "x must be a 4-D array (N, C, H, W), not [[[[1]]]]"),
        (np.zeros((1, 2, 3, 3), np.int16), np.zeros((1, 2, 1, 1), np.int16), {},
         "x.dtype must be int8 or float32, not 'int16'"),
        (np.zeros((1, 2, 3, 3), np.int8), np.zeros((1, 2, 1, 1), np.float32), {},
         "w.dtype must be equal to x.dtype (int8), not 'float32'"),
        (np.zeros((1, 2, 3, 3), np.int8), np.zeros((1, 1, 1, 1), np.int8), {},
         "w.shape[1] must be C/groups=2, not 1"),
        (np.zeros((1, 2, 3, 3), np.int8), np.zeros((1, 2, 4, 1), np.int8), {},
         "R must be <= H+2*pad=3, not 4"),
        (np.zeros((1, 3, 3, 3), np.int8), np.zeros((2, 1, 1, 1), np.int8), {"groups": 2},
         "C must be divisible by groups=2, not 3"),
        (np.zeros((1, 2, 3, 3), np.int8), np.zeros((1, 2, 1, 1), np.int8), {"stride": 0},
         "stride must be a positive integer, not 0"),
        (np.zeros((1, 2, 3, 3), np.int8), np.zeros((1, 2, 1, 1), np.int8), {"pad": -1},
         "pad must be a non-negative integer, not -1"),
        (np.zeros((1, 2, 3, 3), np.int8), np.zeros((1, 2, 1, 1), np.int8), {"route": "winograd"},
         "route must be one of ['direct', 'im2col', 'igemm'], not 'winograd'"),
        (np.zeros((1, 2, 3, 3), np.int8), np.zeros((1, 2, 1, 1), np.int8), {"route": ["direct"]},
         "route must be one of ['direct', 'im2col', 'igemm'], not ['direct']"),
        (np.zeros((1, 2, 3, 3), np.float32), np.zeros((1, 2, 1, 1), np.float32), {"route": "igemm"},
         "route must be one of ['direct', 'im2col'] for float32, not 'igemm'"),
    ],
)
def test_bad_operands_raise_the_reference_messages(x, w, kw, message):
    with pytest.raises(AccelsimError) as err:
        conv2d(x, w, **kw)
    assert message in str(err.value)
    if "route" not in kw:  # the same message the reference gives
        with pytest.raises(AccelsimError, match=None) as ref_err:
            reference(x, w, **kw)
        assert str(err.value) == str(ref_err.value)
