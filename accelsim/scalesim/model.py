"""SCALE-Sim 3.0 compatibility mode: SCALE-Sim's per-layer numbers in closed form, quirks included.

SCALE-Sim 3.0 (``pip install scalesim==3.0.0``) builds a cycle-by-cycle address trace per operand and
replays it through its SRAM models. In ``InterfaceBandwidth: CALC`` mode the reads never stall, so every
number it reports follows from the shape of those traces; this package computes them without building
them. Formulas, reproduced quirks and limits: docs/scalesim_compat.md. Checked against SCALE-Sim itself
on every case of tests/golden/scalesim_compat.json (benchmarks/scalesim_golden.py), with zero difference.

The layer is seen as SCALE-Sim sees a topology row written by accelsim: IFMAP ``H+2*pad x W+2*pad``, no
padding, output ``ceil((H - R + U) / U)`` (one more than accelsim's E when ``H - R`` is not a multiple of
``U``; the extra windows read past the input and those reads are ``-1``, i.e. skipped).
"""

from __future__ import annotations

import numpy as np

from accelsim.arch import Dataflow
from accelsim.errors import require
from accelsim.layer import ConvLayer
from accelsim.scalesim.cfg import InterfaceBandwidth, ScaleSimConfig
from accelsim.scalesim.geometry import Folds, Layer, folds
from accelsim.scalesim.read_buffer import read_buffer
from accelsim.scalesim.result import ScaleSimLayerResult
from accelsim.scalesim.streams import ifmap_address
from accelsim.scalesim.trace import Work
from accelsim.scalesim.write_buffer import Writes, ofmap_write_buffer


def _last_ifmap_row(layer: Layer, f: Folds, dataflow: Dataflow) -> int:
    """The last demand row holding an IFMAP read (reads past the input edge are -1: not requests)."""
    Ra, U = f.Ra, layer.U
    for fold in range(f.count - 1, -1, -1):  # the last fold, unless all its reads are past the edge
        fc, fr = divmod(fold, f.rf)
        base = fold * f.rows
        if dataflow is Dataflow.WS:  # column c: window element k, down every pixel; its last valid pixel
            k = fr * Ra + np.arange(f.used_rows(fr))
            r, s = (k // layer.C) // layer.S, (k // layer.C) % layer.S
            last_er = np.minimum(layer.E - 1, (layer.H - 1 - r) // U)
            last_ec = np.minimum(layer.F - 1, (layer.W - 1 - s) // U)
            return base + Ra + int(np.max(last_er * layer.F + last_ec + np.arange(len(k))))
        if dataflow is Dataflow.OS:  # column c: pixel p, along its window; its last valid element
            p = fr * Ra + np.arange(f.used_rows(fr))
            y0, x0 = (p // layer.F) * U, (p % layer.F) * U
            inside = (y0 < layer.H) & (x0 < layer.W)
            if inside.any():
                r_max = np.minimum(layer.R - 1, layer.H - 1 - y0)
                s_max = np.minimum(layer.S - 1, layer.W - 1 - x0)
                k_max = (r_max * layer.S + s_max + 1) * layer.C - 1
                return base + int(np.max((k_max + np.arange(len(p)))[inside]))
            continue
        h, w = f.used_rows(fr), f.used_cols(fc)  # IS: row Ra-h+j holds window element fr*Ra+h-1-j
        k = fr * Ra + h - 1 - np.arange(h)
        valid = ifmap_address(layer, fc * f.Ca + np.arange(w)[None, :], k[:, None]) >= 0
        rows = np.flatnonzero(valid.any(axis=1))
        if len(rows):
            return base + Ra - h + int(rows[-1])
    raise AssertionError("a layer reads its first IFMAP word")


def _sram_rows(layer: Layer, f: Folds, dataflow: Dataflow, writes: Writes) -> tuple[int, ...]:
    """First and last demand row holding a request: IFMAP, filter, OFMAP."""
    Ra, T = f.Ra, f.T
    last = (f.count - 1) * f.rows  # first row of the last fold
    last_r, last_c = f.used_rows(f.rf - 1), f.used_cols(f.cf - 1)
    if dataflow is Dataflow.OS:
        ifmap_first, filter_first, filter_last = 0, 0, last + T + last_c - 2
    elif dataflow is Dataflow.WS:
        ifmap_first, filter_first, filter_last = Ra, Ra - f.used_rows(0), last + Ra - 1
    else:
        ifmap_first, filter_first, filter_last = Ra - f.used_rows(0), Ra, last + Ra + T + last_r - 2
    ifmap_last = _last_ifmap_row(layer, f, dataflow)
    ofmap_first, ofmap_last = writes.row_of(0), writes.row_of(writes.total - 1)
    return ifmap_first, ifmap_last, filter_first, filter_last, ofmap_first, ofmap_last


def simulate_layer_scalesim(
    layer: ConvLayer, cfg: ScaleSimConfig, *, work: Work | None = None
) -> ScaleSimLayerResult:
    """SCALE-Sim 3.0's numbers for ``layer`` on ``cfg`` (CALC mode), as its reports would show them.

    ``work``, if given, counts what the buffer models materialised and stepped through (:class:`Work`).
    """
    what = f"layer {layer.name}"
    require(layer.groups == 1, f"{what}: groups", "1 in SCALE-Sim compatibility mode", layer.groups)
    require(layer.N == 1, f"{what}: N", "1 in SCALE-Sim compatibility mode", layer.N)
    require(
        cfg.interface_bandwidth is InterfaceBandwidth.CALC,
        "ScaleSimConfig interface_bandwidth",
        "CALC in SCALE-Sim compatibility mode",
        cfg.interface_bandwidth.value,
    )
    view = Layer(
        H=layer.H + 2 * layer.pad, W=layer.W + 2 * layer.pad, R=layer.R, S=layer.S, C=layer.C, M=layer.M,
        U=layer.stride,
    )
    f = folds(view, cfg)
    Ra, Ca, T = f.Ra, f.Ca, f.T
    dataflow = cfg.dataflow
    last_r, last_c = f.used_rows(f.rf - 1), f.used_cols(f.cf - 1)

    # Compute report: per-fold ratios averaged the way SCALE-Sim does.
    shapes = ((Ra, Ca), (last_r, Ca), (Ra, last_c), (last_r, last_c))
    mapping = f.mean_over_folds(*((r * c) / (Ra * Ca) for r, c in shapes))
    util_cycles = T + Ra + Ca - 2 if dataflow is Dataflow.OS else 2 * Ra + 2 * Ca + T - 3
    compute_util = f.mean_over_folds(*((r * c * T) / (Ra * Ca * util_cycles) for r, c in shapes))

    # SRAM accesses: SCALE-Sim counts every entry of each fold's operand slice, -1 entries included.
    if dataflow is Dataflow.OS:
        sram = (f.cf * T * f.Sr, f.rf * T * f.Sc, f.Sr * f.Sc + f.count * (Ra + Ca))
    elif dataflow is Dataflow.WS:
        sram = (f.cf * T * f.Sr, f.Sr * f.Sc, f.rf * T * f.Sc)
    else:
        sram = (f.Sr * f.Sc, f.cf * f.Sr * T, f.rf * f.Sc * T)
    # First and last rows with a request; a read is served (and traced) one cycle after its row.
    writes = Writes(f, dataflow is Dataflow.OS)
    rows = _sram_rows(view, f, dataflow, writes)

    last_row = f.count * f.rows - 1
    work = Work() if work is None else work
    ofmap = ofmap_write_buffer(writes, 1024 * cfg.ofmap_sram_kib, last_row, work)
    ifmap = read_buffer(view, f, dataflow, "ifmap", cfg.ifmap_sram_kib, rows[0], work)
    filt = read_buffer(view, f, dataflow, "filter", cfg.filter_sram_kib, rows[2], work)

    return ScaleSimLayerResult(
        total_cycles=ofmap.dram_stop_cycle - min(ifmap.dram_start_cycle, filt.dram_start_cycle),
        compute_cycles=last_row,  # SCALE-Sim reports the index of the last cycle
        stall_cycles=0,  # CALC mode: reads always hit and the OFMAP buffer never fills (checked above)
        macs=view.P * view.M * view.K,
        pes=Ra * Ca,
        mapping_efficiency=mapping,
        compute_utilization=compute_util,
        ifmap_sram_reads=sram[0],
        filter_sram_reads=sram[1],
        ofmap_sram_writes=sram[2],
        ifmap_dram_reads=ifmap.dram_reads,
        filter_dram_reads=filt.dram_reads,
        ofmap_dram_writes=ofmap.dram_writes,
        ifmap_sram_start_cycle=rows[0] + 1,
        ifmap_sram_stop_cycle=rows[1] + 1,
        filter_sram_start_cycle=rows[2] + 1,
        filter_sram_stop_cycle=rows[3] + 1,
        ofmap_sram_start_cycle=rows[4],
        ofmap_sram_stop_cycle=rows[5],
        ifmap_dram_start_cycle=ifmap.dram_start_cycle,
        ifmap_dram_stop_cycle=ifmap.dram_stop_cycle,
        filter_dram_start_cycle=filt.dram_start_cycle,
        filter_dram_stop_cycle=filt.dram_stop_cycle,
        ofmap_dram_start_cycle=ofmap.dram_start_cycle,
        ofmap_dram_stop_cycle=ofmap.dram_stop_cycle,
    )

