"""Co-simulation speed: simulated cycles per second of the RTL on Verilator (and Icarus), whole layers.

    python benchmarks/cosim.py [--sims verilator,icarus] [--layers conv3_x,small] [--dataflows ws,os,is]
                               [--max-seconds 150] [--build-root DIR]

For each layer and dataflow (MODE is a run-time field: dataflows share a build, unless their command counts
round up to different command memory depths, as conv3_x's three do) it runs
:func:`accelsim.cosim.layer.cosim_layer` twice (the first run builds the simulator, unless ``--build-root``
holds the build, and is reported separately) and prints the wall time, the simulator's time from the first
command to ``done`` (wall, and the simulator process's CPU time, which other jobs on a shared machine do not
inflate), the simulated cycles per second of each, and whether outputs and cycles match the kernels and the
model. The peers in the same run are the other simulator on the same layer (a simulator whose estimated
run, :func:`accelsim.cosim.layer.estimated_seconds` less the build, exceeds ``--max-seconds`` is left out,
saying so: Icarus needs ~15 min for conv3_x on 16x16) and the Python model's time for it (its second call:
the first compiles).

The default large layer is ResNet-18 layer2.0.conv2 (conv3_x 3x3, C = M = 128, 28x28) on a 16x16 array; the
issue's goal is >= 200 k simulated cycles/s on Verilator in every dataflow.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from accelsim.cosim.layer import BUILD_SECONDS, cosim_layer, estimated_seconds

from accelsim import ConvLayer
from accelsim import sim as sim_mod
from accelsim.arch import ArchConfig
from accelsim.sim import simulate_layer

ARCH = ArchConfig(name="bench16", array_rows=16, array_cols=16, ifmap_spad_kib=16, weight_spad_kib=16,
                  acc_kib=32, dram_bytes_per_cycle=16, dram_latency_cycles=32, queue_depth=4,
                  host_issue_cycles=4)
LAYERS = {
    "conv3_x": ConvLayer(
        N=1, M=128, C=128, H=28, W=28, R=3, S=3, stride=1, pad=1, name="resnet18 conv3_x 3x3"
    ),
    "small": ConvLayer(N=1, M=32, C=32, H=14, W=14, R=3, S=3, stride=1, pad=1, name="32ch 14x14 3x3"),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", default="verilator,icarus")
    ap.add_argument("--layers", default="conv3_x,small")
    ap.add_argument("--dataflows", default="ws,os,is")
    ap.add_argument("--max-seconds", type=float, default=150.0,
                    help="leave out a simulator whose estimated time for a layer exceeds this")
    ap.add_argument("--build-root", type=Path, default=None,
                    help="simulator builds (default: a fresh temporary directory, so the first run builds)")
    args = ap.parse_args(argv)
    print(
        f"arch: {ARCH.array_rows}x{ARCH.array_cols}, {ARCH.dram_bytes_per_cycle} B/cycle, "
        f"L={ARCH.dram_latency_cycles}"
    )
    with tempfile.TemporaryDirectory(prefix="accelsim-bench-") as tmp:
        root = args.build_root or Path(tmp)
        for key, df in ((k, d) for k in args.layers.split(",") for d in args.dataflows.split(",")):
            layer, arch = LAYERS[key], ARCH.with_dataflow(df)
            simulate_layer(layer, arch)  # compiles
            sim_mod._simulate_shape.cache_clear()
            t0 = time.process_time()
            model = simulate_layer(layer, arch)
            model_s = time.process_time() - t0
            print(
                f"\n{layer.name} ({arch.dataflow.name}): {layer.spec()}, {layer.macs:,} MACs; model: "
                f"{model.cycles:,} cycles in {model_s * 1e3:.1f} ms CPU"
            )
            for sim in args.sims.split(","):
                estimate = estimated_seconds(model.cycles, arch, sim) - BUILD_SECONDS[sim]  # one run
                if estimate > args.max_seconds:
                    print(f"  {sim:<9} not run: estimated {estimate:,.0f} s > --max-seconds "
                          f"{args.max_seconds:g}")
                    continue
                first = cosim_layer(layer, arch, sim=sim, build_root=root)
                res = cosim_layer(layer, arch, sim=sim, build_root=root, seed=1)
                ok = first.outputs_match and res.outputs_match and res.rtl_cycles == res.model_cycles
                print(
                    f"  {sim:<9} first run {first.wall_seconds:6.1f} s wall; again: "
                    f"{res.wall_seconds:6.1f} s wall, {res.rtl_cycles:,} cycles simulated in "
                    f"{res.sim_seconds:6.2f} s wall = "
                    f"{res.cycles_per_second / 1e3:7.1f} k cycles/s, {res.sim_cpu_seconds:6.2f} s CPU = "
                    f"{res.cycles_per_cpu_second / 1e3:7.1f} k cycles/CPU-s; outputs "
                    f"{'bit-exact' if res.outputs_match else 'DIFFER'}, cycles "
                    f"{'equal' if res.rtl_cycles == res.model_cycles else 'DIFFER'} "
                    f"({'ok' if ok else 'FAIL'}); "
                    f"model/RTL CPU time {model_s / res.sim_cpu_seconds:.2e}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
