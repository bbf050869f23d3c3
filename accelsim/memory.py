"""SRAM and DRAM traffic of a mapped layer, in closed form (docs/microarchitecture.md, "Traffic").

Every tile loop visits each (pixel, reduction) pair of the implicit im2col once per m-tile and each weight
once per p-tile, so the per-command sums collapse to products. The executed-mapping kernel
(accelsim.kernels.executed) counts the same quantities command by command; tests hold the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.jit import compilable
from accelsim.layer import ConvLayer, gemm_dims, output_size
from accelsim.mapping import Mapping


@compilable
def valid_positions(out_size, in_size, filt, stride, pad):
    """Sum over filter taps of the outputs whose tap lands inside the input (not in the padding)."""
    total = 0
    for r in range(filt):
        # 0 <= stride*e + r - pad < in_size
        #   <=>  e in [ceil((pad - r)/stride), floor((in_size - 1 + pad - r)/stride)]
        lo = max(0, -(-(pad - r) // stride))
        hi = min(out_size - 1, (in_size - 1 + pad - r) // stride)
        total += max(0, hi - lo + 1)
    return total


@compilable
def valid_im2col_elems(N, C, H, W, R, S, stride, pad):
    """Non-padding entries of the implicit im2col matrix, all groups: what input LOADs read from DRAM."""
    rows = valid_positions(output_size(H, R, stride, pad), H, R, stride, pad)
    cols = valid_positions(output_size(W, S, stride, pad), W, S, stride, pad)
    return N * C * rows * cols


@compilable
def traffic_counts(N, M, C, H, W, R, S, stride, pad, groups, p_tiles, k_tiles, m_tiles, out_bytes):
    """The nine counts of :class:`Traffic`, in its field order, for a layer tiled into p/k/m tiles by the
    fixed lowering: every step loads both operands, so each input tile is loaded once per m-tile and each
    weight tile once per p-tile."""
    return mapped_traffic_counts(N, M, C, H, W, R, S, stride, pad, groups, p_tiles, k_tiles, m_tiles, m_tiles,
                                 p_tiles, out_bytes)


@compilable
def mapped_traffic_counts(N, M, C, H, W, R, S, stride, pad, groups, p_tiles, k_tiles, m_tiles, x_loads,
                          w_loads, out_bytes):
    """:func:`traffic_counts` when each input tile is loaded ``x_loads`` times and each weight tile
    ``w_loads`` times (accelsim.mapper: a resident operand is loaded once); the grid still reads each
    (pixel, reduction) pair once per m-tile and each weight once per p-tile."""
    P, K, Mg = gemm_dims(N, M, C, H, W, R, S, stride, pad, groups)
    im2col = groups * P * K  # entries written to the ifmap spad per input pass, padding zeros included
    weights = groups * K * Mg
    outputs = groups * P * Mg
    return (x_loads * valid_im2col_elems(N, C, H, W, R, S, stride, pad), w_loads * weights,
            outputs * out_bytes, m_tiles * im2col, x_loads * im2col, p_tiles * weights, w_loads * weights,
            k_tiles * outputs,  # (k_tiles - 1) accumulating COMPUTEs + 1 STORE per output
            k_tiles * outputs)


def touched_input_elems(layer: ConvLayer) -> int:
    """Distinct input elements some output depends on (the compulsory input traffic)."""
    def touched(out_size: int, in_size: int, filt: int) -> int:
        hit = set()
        for e in range(out_size):
            for r in range(filt):
                h = layer.stride * e + r - layer.pad
                if 0 <= h < in_size:
                    hit.add(h)
        return len(hit)

    return (layer.N * layer.C * touched(layer.E, layer.H, layer.R) * touched(layer.F, layer.W, layer.S))


@dataclass(frozen=True, slots=True)
class Traffic:
    """Element/byte counts of one layer (int8 operands: elements == bytes)."""

    dram_input_read_bytes: int
    dram_weight_read_bytes: int
    dram_write_bytes: int
    ifmap_spad_reads: int
    ifmap_spad_writes: int
    weight_spad_reads: int
    weight_spad_writes: int
    acc_reads: int
    acc_writes: int

    @property
    def dram_read_bytes(self) -> int:
        return self.dram_input_read_bytes + self.dram_weight_read_bytes

    def sram_reads(self) -> dict[str, int]:
        return {"ifmap_spad": self.ifmap_spad_reads, "weight_spad": self.weight_spad_reads,
                "acc": self.acc_reads}

    def sram_writes(self) -> dict[str, int]:
        return {"ifmap_spad": self.ifmap_spad_writes, "weight_spad": self.weight_spad_writes,
                "acc": self.acc_writes}


def traffic(m: Mapping, out_bytes: int = 4) -> Traffic:
    return Traffic(*traffic_counts(*m.layer.shape, m.p_tiles, m.k_tiles, m.m_tiles, out_bytes))
