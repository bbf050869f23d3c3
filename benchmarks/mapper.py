"""The mapper against the fixed lowering (issue 11's goals), on one core.

    python benchmarks/mapper.py [--networks resnet50,mobilenetv2] [--objectives edp,cycles] [--reps 1]

For each network on the default preset (gemmini: 16x16 WS) with its scratchpads enlarged to 256 KiB each (a
Gemmini-sized configuration; the accumulator stays 64 KiB), and each objective, with the layer's dataflow
fixed to the architecture's and free among WS/OS/IS (the hardware runs every built dataflow, chosen per
layer): the fixed lowering's network totals against the mapped ones (cycles, DRAM bytes, energy), the
layers where the mapping is worse in cycles, and the search's wall time on one core (best of ``--reps``,
after a warm-up that compiles the kernels). Also printed: the machine's floor on DRAM traffic for this load
unit (each im2col element, each weight and each output moved once), which bounds what any mapping can
save.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from accelsim import arch as arch_mod  # noqa: E402
from accelsim import memory  # noqa: E402
from accelsim.arch import Dataflow  # noqa: E402
from accelsim.layer import ConvLayer  # noqa: E402
from accelsim.mapper.search import search_network  # noqa: E402
from accelsim.workloads.zoo import zoo  # noqa: E402


def gemmini_256() -> arch_mod.ArchConfig:
    return dataclasses.replace(arch_mod.preset("gemmini"), name="gemmini-256k", ifmap_spad_kib=256,
                               weight_spad_kib=256)


def dram_floor(layers: tuple[ConvLayer, ...], out_bytes: int = 4) -> int:
    """Each non-padding im2col element (what this machine's load unit reads), each weight and each output
    moved once."""
    return sum(memory.valid_im2col_elems(*(getattr(lay, f) for f in ("N", "C", "H", "W", "R", "S", "stride",
                                                                      "pad")))
               + lay.weight_elems + out_bytes * lay.output_elems for lay in layers)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--networks", default="resnet50,mobilenetv2")
    ap.add_argument("--objectives", default="edp,cycles")
    ap.add_argument("--reps", type=int, default=1)
    args = ap.parse_args()
    arch = gemmini_256()
    search_network(zoo("resnet18")[:3], arch, dataflows=tuple(Dataflow))  # compile the kernels
    print(f"arch {arch.name}: {arch.grid_text}, spads {arch.ifmap_spad_kib}/{arch.weight_spad_kib} KiB, acc "
          f"{arch.acc_kib} KiB, {arch.dram_bytes_per_cycle} B/cycle DRAM; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    head = (f"{'network':<12} {'objective':<9} {'dataflows':<9} {'cycles x':>9} {'fewer':>7} {'DRAM x':>7} "
            f"{'energy x':>8} {'worse':>5} {'search s':>9}")
    print(head)
    print("-" * len(head))
    for net in args.networks.split(","):
        layers = zoo(net)
        floor = dram_floor(layers)
        for objective in args.objectives.split(","):
            for dataflows in (None, tuple(Dataflow)):
                best = None
                for _ in range(args.reps):
                    t0 = time.perf_counter()
                    mapped = search_network(layers, arch, objective=objective, dataflows=dataflows)
                    dt = time.perf_counter() - t0
                    best = dt if best is None else min(best, dt)
                fc, mc = sum(m.fixed.cycles for m in mapped), sum(m.result.cycles for m in mapped)
                fd = sum(m.fixed.dram_read_bytes + m.fixed.dram_write_bytes for m in mapped)
                md = sum(m.result.dram_read_bytes + m.result.dram_write_bytes for m in mapped)
                fe, me = sum(m.fixed.energy_pj for m in mapped), sum(m.result.energy_pj for m in mapped)
                worse = sum(m.result.cycles > m.fixed.cycles for m in mapped)
                print(f"{net:<12} {objective:<9} {'all' if dataflows else 'arch':<9} {fc / mc:>9.3f} "
                      f"{1 - mc / fc:>7.1%} {fd / md:>7.2f} {fe / me:>8.2f} {worse:>5} {best:>9.2f}")
        print(f"{net}: fixed lowering {fd:,} B of DRAM traffic; this machine's floor {floor:,} B "
              f"({fd / floor:.2f}x below the fixed lowering at most)")


if __name__ == "__main__":
    main()
