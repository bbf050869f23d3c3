"""Exact int8 x int8 -> int32 matrix products on float32 BLAS.

numpy's int32 ``matmul`` has no BLAS behind it and runs at < 4 GOP/s here; sgemm runs at 40x that. sgemm is
exact for int8 operands as long as no sum it forms can leave the integers float32 represents exactly:

Exactness proof. Let a, b be int8, so |a|, |b| <= 128 and every product a*b is an integer with
|a*b| <= 128*128 = 2**14. A float32 has a 24-bit significand, so every integer v with |v| <= 2**24 is a
float32. Let the chunk length be K_c <= 1024 = 2**10. Whatever order, blocking, vector-lane split or fused
multiply-add the BLAS uses, every intermediate value it computes for one output is the sum of a subset of
the K_c products (the operands are exact: int8 values are float32s), an integer of magnitude
<= K_c * 2**14 <= 2**24. Each multiply and each add therefore has an exactly representable true result and
IEEE-754 rounding returns it unchanged, so the chunk's float32 result is the exact integer sum, and
converting it to int32 (|sum| <= 2**24 < 2**31) is exact too. Wider accumulation (float64) only helps.
The chunks' exact sums are then added in int32 with two's-complement wrap-around: addition modulo 2**32 is
associative, so the result is the exact total modulo 2**32 -- what :func:`accelsim.reference.wrap_int32`
gives. The worst case, all operands -128 with K_c = 1024, reaches exactly 2**24 and is in the tests.

Cost: a K of up to 1024 (a 3x3 filter on up to 113 channels) is one sgemm plus one conversion pass over the
output; longer K is split into ceil(K/1024) near-equal chunks, one sgemm and one wrap-add pass each.
"""

from __future__ import annotations

import itertools

import numpy as np
from numba import njit

from .workspace import scratch

CHUNK_K = 1024  # largest K whose float32 sums of int8 products stay exact (K * 2**14 <= 2**24)


def chunk_bounds(K: int, chunk: int = CHUNK_K) -> list[tuple[int, int]]:
    """Split range(K) into ceil(K / chunk) contiguous pieces of near-equal length, each <= chunk."""
    pieces = -(-K // chunk)
    edges = [K * i // pieces for i in range(pieces + 1)]
    return list(itertools.pairwise(edges))


@njit(cache=True)
def store_chunk(part, dst):
    """dst (int32) = part (float32 holding exact integers |v| <= 2**24); part may be dst's own memory
    viewed as float32 (each element is read before the same element is written)."""
    rows, cols = dst.shape
    for i in range(rows):
        src = part[i]
        out = dst[i]
        for j in range(cols):
            out[j] = np.int32(src[j])


@njit(cache=True)
def add_chunk(part, dst):
    """dst (int32) += part with two's-complement wrap (the int64 sum is truncated to 32 bits on store)."""
    rows, cols = dst.shape
    for i in range(rows):
        src = part[i]
        out = dst[i]
        for j in range(cols):
            out[j] += np.int32(src[j])


def exact_int8_matmul(a: np.ndarray, b: np.ndarray, dst: np.ndarray, chunk: int = CHUNK_K) -> None:
    """dst (P, Q) int32 = a (P, K) @ b (K, Q) wrapped to int32; a and b are float32 holding int8 values.

    dst must be C-contiguous: the first chunk's float32 product is written into dst's own memory (same
    size) and converted in place; later chunks go through a scratch array and are added with wrap-around.
    """
    bounds = chunk_bounds(a.shape[1], chunk)
    k0, k1 = bounds[0]
    first = dst.view(np.float32)
    np.matmul(a[:, k0:k1], b[k0:k1], out=first)
    store_chunk(first, dst)
    if len(bounds) > 1:
        part = scratch("int8.part", dst.shape, np.float32)
        for k0, k1 in bounds[1:]:
            np.matmul(a[:, k0:k1], b[k0:k1], out=part)
            add_chunk(part, dst)
