"""The Pareto front: the points no other point dominates (all objectives minimised).

``a`` dominates ``b`` when ``a <= b`` in every objective and ``a < b`` in one; equal points do not dominate
each other, so duplicates on the front all stay. After a lexicographic sort every dominator of a point comes
before it, and a point dominated by anything is dominated by a point already on the front (domination is
transitive), so one pass that compares each point with the front so far is exact. The front of a union is
the front of the union of the fronts, which is how a sweep merges chunk after chunk in bounded memory.
"""

from __future__ import annotations

import numpy as np

from accelsim.jit import compilable, compiled


@compilable
def front_of_sorted(values, keep):
    """``keep[i]`` = no row before ``i`` of ``values`` (n, k; lexicographically sorted, float64) dominates
    row ``i``; compares only with rows kept so far."""
    n, k = values.shape
    front = np.empty(n, np.int64)
    size = 0
    for i in range(n):
        dominated = False
        for f in range(size):
            j = front[f]
            le = True
            lt = False
            for c in range(k):
                if values[j, c] > values[i, c]:
                    le = False
                    break
                if values[j, c] < values[i, c]:
                    lt = True
            if le and lt:
                dominated = True
                break
        keep[i] = not dominated
        if not dominated:
            front[size] = i
            size += 1


def front_mask(values: np.ndarray, *, interpreted: bool = False) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` (n, k), every column minimised. NaNs are not
    allowed (filter invalid points first)."""
    values = np.asarray(values, np.float64)
    if values.ndim != 2:
        raise ValueError(f"values must be a 2-D array, not of shape {values.shape}")
    if np.isnan(values).any():
        raise ValueError("values must not contain NaN, not have NaN entries")
    n = values.shape[0]
    order = np.lexsort(values.T[::-1]) if n else np.zeros(0, np.int64)
    keep_sorted = np.zeros(n, np.bool_)
    run = front_of_sorted if interpreted else compiled(front_of_sorted)
    run(np.ascontiguousarray(values[order]), keep_sorted)
    keep = np.zeros(n, np.bool_)
    keep[order] = keep_sorted
    return keep
