"""Per-layer time of the SCALE-Sim compatibility mode (``--timing scalesim``), ordinary to extreme layers.

    python benchmarks/scalesim_compat.py [--reps 3] [--quick] [--random 80 [--seed 0] [--limit 60]]

For every case it prints the CPU seconds of :func:`accelsim.scalesim.simulate_layer_scalesim` (best of
``--reps``, ``time.process_time``), and for the two read buffers what the model materialised: trace reads
built, gathered or walked, the largest array of them, and the flush intervals it worked out read by read
(every other interval is inferred from repetition). Cases: one ResNet-50 layer with 64 KiB SRAMs (SCALE-Sim's
scale.cfg sizes) in each dataflow; all of ResNet-50 with those sizes; and the extremes of issue 8 (a
2048-channel 512x512 3x3 layer on the default preset and on scale.cfg sizes, 1x1 arrays, 1 KiB SRAMs,
fully-connected layers of 100 k inputs and outputs, SCALE-Sim's google.cfg sizes). With ``--random N``, N
random large layers and configs follow (:func:`random_cases`: the max and the median; a case still running
after ``--limit`` CPU seconds is stopped and counted as over it). The process's peak resident memory
closes the run.
SCALE-Sim itself takes ~20 s for the first case (docs/scalesim_compat.md) and cannot run the extremes.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import signal
import statistics
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # one core, as reported
    os.environ.setdefault(_var, "1")

from accelsim import workloads  # noqa: E402
from accelsim.arch import Dataflow, preset  # noqa: E402
from accelsim.layer import ConvLayer  # noqa: E402
from accelsim.scalesim import ScaleSimConfig, scalesim_config, simulate_layer_scalesim  # noqa: E402
from accelsim.scalesim.geometry import Layer, folds  # noqa: E402
from accelsim.scalesim.read_buffer import read_buffer  # noqa: E402
from accelsim.scalesim.trace import Work  # noqa: E402


def scale_cfg(dataflow: Dataflow, rows: int = 32, cols: int = 32, kib: int = 64) -> ScaleSimConfig:
    """SCALE-Sim's configs/scale.cfg sizes (32x32, 64 KiB SRAMs), or others."""
    return ScaleSimConfig(array_height=rows, array_width=cols, ifmap_sram_kib=kib, filter_sram_kib=kib,
                          ofmap_sram_kib=kib, dataflow=dataflow)


HUGE = ConvLayer(M=2048, C=2048, H=512, W=512, R=3, S=3, pad=1, name="huge")
RES2 = ConvLayer(M=64, C=64, H=56, W=56, R=3, S=3, pad=1, name="res2a_branch2b")
FC = ConvLayer.fc(100_000, 100_000)
HIRES = ConvLayer(M=64, C=3, H=2048, W=2048, R=7, S=7, stride=2, pad=3, name="hires")
CASES: list[tuple[str, ConvLayer, ScaleSimConfig]] = [
    *((f"{RES2.name}, 32x32 64 KiB {d.name}", RES2, scale_cfg(d)) for d in Dataflow),
    ("huge, default preset (16x16 WS, 128/128/64 KiB)", HUGE, scalesim_config(preset())),
    *((f"huge, 32x32 64 KiB {d.name}", HUGE, scale_cfg(d)) for d in Dataflow),
    *((f"huge, 1x1 array 64 KiB {d.name}", HUGE, scale_cfg(d, 1, 1)) for d in Dataflow),
    *((f"huge, 16x16 1 KiB {d.name}", HUGE, scale_cfg(d, 16, 16, 1)) for d in Dataflow),
    *((f"huge, 128x128 1 MiB {d.name}", HUGE, scale_cfg(d, 128, 128, 1024)) for d in Dataflow),
    *((f"fc 100k x 100k, 32x32 64 KiB {d.name}", FC, scale_cfg(d)) for d in Dataflow),
    *((f"fc 100k x 100k, 1x1 1 KiB {d.name}", FC, scale_cfg(d, 1, 1, 1)) for d in Dataflow),
    *((f"7x7/2 on 2048x2048x3, 8x8 4 KiB {d.name}", HIRES, scale_cfg(d, 8, 8, 4)) for d in Dataflow),
    *((f"huge, 32x32 6/6/2 MiB (google.cfg) {d.name}", HUGE,
       ScaleSimConfig(array_height=32, array_width=32, ifmap_sram_kib=6144, filter_sram_kib=6144,
                      ofmap_sram_kib=2048, dataflow=d)) for d in Dataflow),
]


def random_cases(n: int, seed: int) -> list[tuple[str, ConvLayer, ScaleSimConfig]]:
    """``n`` random large layers and configs: H = W 7 to 512, C 3 to 2048, M 16 to 2048 (log-uniform),
    R = S 1 to 7, stride 1 or 2 (padding R // 2); arrays 1 to 256 each way and SRAMs 1 KiB to 2 MiB each
    (powers of two), any dataflow."""
    rng = random.Random(seed)

    def log_int(lo: int, hi: int) -> int:
        return round(lo * (hi / lo) ** rng.random())

    out = []
    for i in range(n):
        R, U = rng.choice([1, 3, 5, 7]), rng.choice([1, 2])
        H = log_int(max(7, R), 512)
        layer = ConvLayer(M=log_int(16, 2048), C=log_int(3, 2048), H=H, W=H, R=R, S=R, stride=U, pad=R // 2,
                          name=f"random{i}")
        kib = [2 ** rng.randint(0, 11) for _ in range(3)]
        cfg = ScaleSimConfig(array_height=2 ** rng.randint(0, 8), array_width=2 ** rng.randint(0, 8),
                             ifmap_sram_kib=kib[0], filter_sram_kib=kib[1], ofmap_sram_kib=kib[2],
                             dataflow=rng.choice(list(Dataflow)))
        name = (f"{H}x{H}x{layer.C} {R}x{R}/{U} M={layer.M}, {cfg.array_height}x{cfg.array_width} "
                f"{'/'.join(map(str, kib))} KiB {cfg.dataflow.name}")
        out.append((name, layer, cfg))
    return out


class _OverLimitError(Exception):
    pass


def _stop(signum, frame):
    raise _OverLimitError


def best_cpu(fn, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def work_of(layer: ConvLayer, cfg: ScaleSimConfig) -> str:
    """What the two read buffers materialised for ``layer``."""
    view = Layer(H=layer.H + 2 * layer.pad, W=layer.W + 2 * layer.pad, R=layer.R, S=layer.S, C=layer.C,
                 M=layer.M, U=layer.stride)
    f = folds(view, cfg)
    out = []
    for operand, kib in (("ifmap", cfg.ifmap_sram_kib), ("filter", cfg.filter_sram_kib)):
        work = Work()
        read_buffer(view, f, cfg.dataflow, operand, kib, 0, work)
        out.append(f"{operand} {work.reads / 1e6:.2f} M reads (largest {work.largest}), "
                   f"{work.epochs} intervals")
    return "; ".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="repetitions; the best CPU time is reported")
    parser.add_argument("--quick", action="store_true", help="skip the whole-network runs")
    parser.add_argument("--random", type=int, default=0, help="random large layers and configs to add")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random layers")
    parser.add_argument("--limit", type=float, default=60.0, help="CPU seconds before a random case stops")
    parser.add_argument("--only-random", action="store_true", help="skip the fixed cases")
    args = parser.parse_args(argv)
    worst = 0.0
    for name, layer, cfg in [] if args.only_random else CASES:
        seconds = best_cpu(lambda layer=layer, cfg=cfg: simulate_layer_scalesim(layer, cfg), args.reps)
        worst = max(worst, seconds)
        print(f"{name:<48} {seconds * 1e3:9.1f} ms   {work_of(layer, cfg)}", flush=True)
    if args.random:
        signal.signal(signal.SIGXCPU, _stop)
        times = []
        for name, layer, cfg in random_cases(args.random, args.seed):
            used = resource.getrusage(resource.RUSAGE_SELF)
            soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
            until = int(used.ru_utime + used.ru_stime + args.limit) + 1
            resource.setrlimit(resource.RLIMIT_CPU, (until, hard))
            try:
                seconds = best_cpu(lambda layer=layer, cfg=cfg: simulate_layer_scalesim(layer, cfg),
                                   args.reps)
                note = ""
            except _OverLimitError:
                seconds, note = float("inf"), f"   over {args.limit:.0f} s, stopped"
            finally:
                resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
            times.append(seconds)
            print(f"{name:<56} {seconds * 1e3:9.1f} ms{note}", flush=True)
        print(f"{len(times)} random cases: median {statistics.median(times) * 1e3:.1f} ms, max "
              f"{max(times) * 1e3:.1f} ms, {sum(t >= 1 for t in times)} at 1 s or more", flush=True)
        worst = max(worst, max(times))
    if not args.quick and not args.only_random:
        layers = workloads.load("resnet50")
        for dataflow in Dataflow:
            cfg = scale_cfg(dataflow)
            per_layer = [best_cpu(lambda layer=layer, cfg=cfg: simulate_layer_scalesim(layer, cfg), 1)
                         for layer in layers]
            print(f"ResNet-50 ({len(layers)} layers), 32x32 64 KiB {dataflow.name}: "
                  f"{sum(per_layer):.3f} s CPU, slowest layer {max(per_layer) * 1e3:.1f} ms", flush=True)
            worst = max(worst, max(per_layer))
    print(f"slowest single layer: {worst * 1e3:.1f} ms; peak memory "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
