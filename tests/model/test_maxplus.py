"""accelsim.maxplus: the closed form's max-plus products and powers."""

import numpy as np

from accelsim.maxplus import NEG, mul2, mul3, pow2, pow3


def test_pow3_is_the_repeated_product():
    """Repeated squaring equals n - 1 plain products, -inf entries included; n = 0 is the identity."""
    rng = np.random.default_rng(5)
    for _ in range(40):
        a = tuple(float(x) if x >= 0 else NEG for x in rng.integers(-3, 50, 9))
        want = (0.0, NEG, NEG, NEG, 0.0, NEG, NEG, NEG, 0.0)
        for n in range(0, 37):
            got = pow3(a, float(n))
            assert [max(x, NEG) for x in got] == [max(x, NEG) for x in want], n
            want = mul3(a, want)


def test_pow2_is_the_repeated_product():
    """The 2x2 power in closed form equals n - 1 plain products, -inf entries included; n = 0 is the
    identity."""
    rng = np.random.default_rng(7)
    for _ in range(40):
        a = tuple(float(x) if x >= 0 else NEG for x in rng.integers(-3, 50, 4))
        want = (0.0, NEG, NEG, 0.0)
        for n in range(0, 37):
            got = pow2(*a, float(n))
            assert [max(x, NEG) for x in got] == [max(x, NEG) for x in want], n
            want = mul2(*a, *want)
