"""Random small layers and architectures for the RTL benches (shared by the controller and cosim tests)."""

from __future__ import annotations

import os
import random

from accelsim.arch import ArchConfig, Dataflow
from accelsim.layer import ConvLayer


def random_layer(rng: random.Random, *, max_hw: int = 8, max_ch: int = 9, name: str = "rand") -> ConvLayer:
    """A small legal conv layer: sometimes depthwise, sometimes grouped, strided, padded, 1x1 or FC-like."""
    while True:
        kind = rng.random()
        N = rng.choice((1, 1, 2))
        H, W = rng.randint(1, max_hw), rng.randint(1, max_hw)
        R, S = rng.choice((1, 2, 3)), rng.choice((1, 2, 3))
        stride, pad = rng.choice((1, 1, 2)), rng.choice((0, 0, 1))
        if kind < 0.2:  # depthwise
            C = M = groups = rng.randint(1, max_ch)
        elif kind < 0.3:  # grouped
            groups = rng.choice((2, 3))
            C, M = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
        else:
            groups, C, M = 1, rng.randint(1, max_ch), rng.randint(1, max_ch)
        if H + 2 * pad < R or W + 2 * pad < S:
            continue
        return ConvLayer(N=N, M=M, C=C, H=H, W=W, R=R, S=S, stride=stride, pad=pad, groups=groups, name=name)


def small_arch(*, rows: int = 4, cols: int = 4, queue_depth: int = 2, host_issue_cycles: int = 1,
               dram_latency_cycles: int = 4, dram_bytes_per_cycle: int = 4, spad_kib: int = 1,
               acc_kib: int = 1, dataflow: str = "ws", pe_dot_width: int = 1) -> ArchConfig:
    """A configuration small enough for Icarus; 1 KiB buffers give several p-tiles on small layers."""
    return ArchConfig(
        name=f"t{rows}x{cols}q{queue_depth}h{host_issue_cycles}l{dram_latency_cycles}b{dram_bytes_per_cycle}"
             + (f"v{pe_dot_width}" if pe_dot_width != 1 else ""),
        pe_dot_width=pe_dot_width,
        dataflow=Dataflow.parse(dataflow),
        array_rows=rows, array_cols=cols, ifmap_spad_kib=spad_kib, weight_spad_kib=spad_kib, acc_kib=acc_kib,
        queue_depth=queue_depth, host_issue_cycles=host_issue_cycles, dram_latency_cycles=dram_latency_cycles,
        dram_bytes_per_cycle=dram_bytes_per_cycle,
    )


def campaign_mode() -> str:
    """``ACCELSIM_CAMPAIGN``: ``ci`` (default: the campaign's fixed sample) or ``full`` (every case)."""
    mode = os.environ.get("ACCELSIM_CAMPAIGN", "ci")
    if mode not in ("ci", "full"):
        raise ValueError(f"ACCELSIM_CAMPAIGN must be 'ci' or 'full', not {mode!r}")
    return mode


def shared_build_root(tmp_path_factory, name: str):
    """A build directory the whole test session shares: under pytest-xdist, every worker's (the parent of
    the workers' base temporary directories), so a configuration is built once (workers wait on the build's
    lock, accelsim.cosim.runner.build_lock) rather than once per worker."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = tmp_path_factory.getbasetemp().parent / name
        root.mkdir(exist_ok=True)
        return root
    return tmp_path_factory.mktemp(name)
