"""The Pareto front is exactly the non-dominated set (an O(n^2) oracle), compiled and interpreted."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from accelsim.sweep.pareto import front_mask


def oracle(values):
    """Row i is kept unless some row is <= it everywhere and < it somewhere."""
    n = len(values)
    return np.array([not any((values[j] <= values[i]).all() and (values[j] < values[i]).any()
                             for j in range(n)) for i in range(n)], bool)


points = st.integers(1, 4).flatmap(lambda k: hnp.arrays(
    np.float64, st.tuples(st.integers(0, 60), st.just(k)),
    elements=st.sampled_from([0.0, 1.0, 2.0, 3.0, 5.0, 1e9, 2.5e-3])))  # few values: many ties


@given(points)
def test_front_is_the_non_dominated_set(values):
    want = oracle(values)
    got = front_mask(values)
    assert got.shape == want.shape and got.dtype == np.bool_
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(front_mask(values, interpreted=True), want)


@given(points, st.randoms(use_true_random=False))
def test_front_of_union_is_front_of_fronts(values, rnd):
    cut = rnd.randint(0, len(values))
    a, b = values[:cut], values[cut:]
    merged = np.concatenate([a[front_mask(a)], b[front_mask(b)]])
    whole = values[front_mask(values)]
    assert sorted(map(tuple, merged[front_mask(merged)])) == sorted(map(tuple, whole))


def test_duplicates_all_stay_and_dominated_go():
    v = np.array([[1, 2], [1, 2], [2, 1], [2, 2], [1, 3], [0, 5]], float)
    np.testing.assert_array_equal(front_mask(v), [True, True, True, False, False, True])
