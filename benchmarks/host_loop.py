"""The RISC-V host in the loop: model speed, and the model against the RTL SoC on the same layers, same run.

    python benchmarks/host_loop.py [--network resnet50] [--rtl-network resnet18] [--rtl-layers 3 | --all]
                                   [--sim verilator]

1. The model: ``accelsim simulate --network NET --host riscv`` end to end in a fresh process (imports, the
   compiled ISS and scheduler loaded from the on-disk cache, every distinct layer shape run on the ISS
   coupled to the scheduler), next to the fixed-issue host (``--host fixed``) in the same kind of process,
   and the coupled runs alone once warm (in this process). Goal (issue 9): ResNet-50 in <= 1 s.
2. The RTL: the first ``--rtl-layers`` layers of ``--rtl-network`` (``--all``: every layer) firmware-driven
   on the SoC (accelsim.cosim.host_layer.cosim_layer_host: conv.c on the RV32IM core, the 16x16 default
   preset), each checked bit-exact against the kernels and cycle-exact against the model. Per layer it
   prints the RTL's simulated cycles per second and the model's (the coupled ISS + scheduler run of the same
   layer), and their ratio. The first layer's wall time includes the SoC build (a cold one without ccache).
   Goal (issue 9): all of ResNet-18 in < 10 min wall on Verilator.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from accelsim.cosim.host_layer import cosim_layer_host, dram_bytes_for

from accelsim.arch import preset
from accelsim.host.coupling import conv_elf, run_layer_coupled
from accelsim.workloads.zoo import zoo


def fresh_process_seconds(network: str, host: str) -> float:
    """Wall time of ``accelsim simulate --network NET --host HOST`` in a new interpreter (best of 2)."""
    cmd = [sys.executable, "-m", "accelsim.cli", "simulate", "--network", network, "--host", host]
    best = float("inf")
    for _ in range(2):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t)
    return best


def model_run(layer, arch) -> tuple[int, float]:
    """(cycles, seconds) of the coupled ISS + scheduler run of one layer (warm: compiled code loaded)."""
    t = time.perf_counter()
    run = run_layer_coupled(layer, arch, elf=conv_elf())
    return run.cycles, time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="resnet50", help="the network of the model-speed part")
    ap.add_argument("--rtl-network", default="resnet18", help="the network of the RTL part")
    ap.add_argument("--rtl-layers", type=int, default=3, help="how many of its layers run on the RTL")
    ap.add_argument("--all", action="store_true", help="every layer of --rtl-network on the RTL")
    ap.add_argument("--sim", default="verilator", choices=("verilator", "icarus"))
    args = ap.parse_args(argv)
    arch = preset("gemmini")

    print(f"model, `accelsim simulate --network {args.network}` in a fresh process (best of 2):")
    riscv, fixed = (fresh_process_seconds(args.network, host) for host in ("riscv", "fixed"))
    print(f"  --host riscv {riscv:6.2f} s   --host fixed {fixed:6.2f} s   ratio {riscv / fixed:.2f}")
    shapes = list(dict.fromkeys(replace(layer, name="") for layer in zoo(args.network)))
    model_run(shapes[0], arch)  # load the compiled code
    t = time.perf_counter()
    cycles = sum(model_run(shape, arch)[0] for shape in shapes)
    warm = time.perf_counter() - t
    print(f"  coupled runs alone, warm: {len(shapes)} distinct shapes, {cycles:,} cycles in {warm:.2f} s = "
          f"{cycles / warm / 1e6:.1f} M simulated cycles/s")

    rtl_layers = zoo(args.rtl_network)
    if not args.all:
        rtl_layers = rtl_layers[:args.rtl_layers]
    dram_bytes = dram_bytes_for(rtl_layers, arch)  # one SoC build for every layer
    print(f"\nRTL SoC ({args.sim}, {arch.array_rows}x{arch.array_cols} {arch.dataflow.name}, conv.c on the "
          f"RV32IM core) vs the model, {len(rtl_layers)} layers of {args.rtl_network}:")
    print(f"  {'layer':<22} {'cycles':>11} {'exact':>6} {'wall s':>7} {'RTL cyc/s':>10} {'model cyc/s':>12} "
          f"{'model/RTL':>10}")
    total_wall = total_sim = total_model = 0.0
    total_cycles, ok = 0, True
    with tempfile.TemporaryDirectory(prefix="accelsim-bench-") as tmp:
        for layer in rtl_layers:
            res = cosim_layer_host(layer, arch, sim=args.sim, build_root=Path(tmp), dram_bytes=dram_bytes)
            model_cycles, model_s = model_run(layer, arch)
            exact = res.outputs_match and res.rtl_cycles == res.model_cycles == model_cycles
            ok &= exact
            rtl_rate, model_rate = res.rtl_cycles / res.sim_seconds, model_cycles / model_s
            print(f"  {layer.name:<22} {res.rtl_cycles:>11,} {'yes' if exact else 'NO':>6} "
                  f"{res.wall_seconds:>7.1f} {rtl_rate / 1e3:>9.1f}k {model_rate / 1e6:>11.2f}M "
                  f"{model_rate / rtl_rate:>10.0f}")
            total_wall += res.wall_seconds
            total_sim += res.sim_seconds
            total_model += model_s
            total_cycles += res.rtl_cycles
    print(f"  total: {total_cycles:,} cycles, {'all bit-exact and cycle-exact' if ok else 'DIFFERENCES'}; "
          f"{total_wall:.0f} s wall ({total_wall / 60:.1f} min, first build included); the model "
          f"{total_model:.2f} s: {total_sim / total_model:,.0f}x faster than the RTL's simulating time")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
