"""The seven loops are the definition; check them on hand-worked cases, then the numpy oracle against them."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accelsim import AccelsimError
from accelsim.reference import conv2d, conv2d_numpy, requantize
from tests.strategies import layers, operands


def test_hand_worked_3x3_with_padding():
    x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    w = np.ones((1, 1, 3, 3), dtype=np.float32)
    out = conv2d(x, w, pad=1)
    assert out.shape == (1, 1, 3, 3) and out.dtype == np.float32
    # centre sees everything; corner (0,0) sees x[0:2,0:2] = 0+1+3+4
    assert out[0, 0, 1, 1] == 36 and out[0, 0, 0, 0] == 8


def test_int8_wraps_like_int32():
    # 2 * 128 * 128 * 65536 products overflow int32 in the sum: the reference wraps, like the hardware.
    C = 65536 * 2
    x = np.full((1, C, 1, 1), -128, dtype=np.int8)
    w = np.full((1, C, 1, 1), -128, dtype=np.int8)
    exact = C * 128 * 128
    out = conv2d_numpy(x, w)
    assert out.dtype == np.int32
    assert int(out[0, 0, 0, 0]) == (exact + 2**31) % 2**32 - 2**31


def test_groups_are_independent():
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (1, 4, 5, 5), dtype=np.int8)
    w = rng.integers(-128, 128, (6, 2, 3, 3), dtype=np.int8)
    out = conv2d(x, w, groups=2, stride=2)
    assert out.shape == (1, 6, 2, 2)
    np.testing.assert_array_equal(out[:, :3], conv2d(x[:, :2], w[:3], stride=2))
    np.testing.assert_array_equal(out[:, 3:], conv2d(x[:, 2:], w[3:], stride=2))


@given(layers(), st.integers(0, 2**31 - 1))
def test_numpy_oracle_equals_seven_loops_int8(layer, seed):
    x, w = operands(layer, np.int8, seed)
    kw = dict(stride=layer.stride, pad=layer.pad, groups=layer.groups)
    ref = conv2d(x, w, **kw)
    fast = conv2d_numpy(x, w, **kw)
    assert ref.shape == fast.shape == (layer.N, layer.M, layer.E, layer.F)
    assert ref.dtype == fast.dtype == np.int32
    np.testing.assert_array_equal(fast, ref)


@given(layers(), st.integers(0, 2**31 - 1))
def test_numpy_oracle_equals_seven_loops_float32(layer, seed):
    x, w = operands(layer, np.float32, seed)
    kw = dict(stride=layer.stride, pad=layer.pad, groups=layer.groups)
    ref, fast = conv2d(x, w, **kw), conv2d_numpy(x, w, **kw)
    assert ref.dtype == fast.dtype == np.float32
    np.testing.assert_allclose(fast, ref, rtol=1e-6, atol=1e-5)


def test_requantize_rounds_half_up_and_saturates():
    acc = np.array([-300000, -24, -23, -8, -7, 7, 8, 23, 24, 300000], dtype=np.int32)
    # shift 4: x/16 rounded half up: -24/16=-1.5 -> -1, -23/16 -> -1, -8/16=-0.5 -> 0, 8/16 -> 1,
    # 24/16=1.5 -> 2
    assert requantize(acc, 4).tolist() == [-128, -1, -1, 0, 0, 0, 1, 1, 2, 127]
    assert requantize(np.array([200, -200, 5], dtype=np.int32), 0).tolist() == [127, -128, 5]
    big = np.array([2**31 - 1], dtype=np.int32)
    assert requantize(big, 31).tolist() == [1]  # the rounding add does not overflow


@pytest.mark.parametrize(
    ("x", "w", "kw", "message"),
    [
        (np.zeros((1, 2, 3), np.int8), np.zeros((1, 2, 1, 1), np.int8), {}, "x must be a 4-D array"),
        (
            np.zeros((1, 2, 3, 3), np.int16),
            np.zeros((1, 2, 1, 1), np.int16),
            {},
            "x.dtype must be int8 or float32",
        ),
        (np.zeros((1, 2, 3, 3), np.int8), np.zeros((1, 2, 1, 1), np.float32), {}, "w.dtype must be equal"),
        (
            np.zeros((1, 2, 3, 3), np.int8),
            np.zeros((1, 1, 1, 1), np.int8),
            {},
            "w.shape[1] must be C/groups=2",
        ),
        (
            np.zeros((1, 2, 3, 3), np.int8),
            np.zeros((1, 2, 4, 1), np.int8),
            {},
            "R must be <= H+2*pad=3, not 4",
        ),
        (
            np.zeros((1, 3, 3, 3), np.int8),
            np.zeros((2, 1, 1, 1), np.int8),
            {"groups": 2},
            "C must be divisible",
        ),
        (
            np.zeros((1, 2, 3, 3), np.int8),
            np.zeros((1, 2, 1, 1), np.int8),
            {"stride": 0},
            "stride must be a positive",
        ),
    ],
)
def test_bad_operands(x, w, kw, message):
    with pytest.raises(AccelsimError) as err:
        conv2d(x, w, **kw)
    assert message in str(err.value)
