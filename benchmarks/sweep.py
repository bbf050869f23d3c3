"""Speed of `accelsim sweep` end to end (evaluation, Parquet chunks with markers, Pareto front, summary):

    python benchmarks/sweep.py [--configs 100000] [--repeat 3] [--dask]

1. Evaluations per second on one core (in-process backend) on a space where the closed form covers most
   (layer, config) points, and on a mixed space (every key swept, the scheduler takes many points). An
   evaluation is one distinct layer shape on one configuration (what accelsim.batch computes; a network's
   repeated shapes are evaluated once per configuration); layer-points/s counts every layer of the network.
   Then the closed form alone (its points, no I/O), and end to end on a space it covers entirely (checked):
   the rate issue 12's ">= 1 M evaluations/s per core" is about, beside ``batch.evaluate`` alone on the same
   chunks; then the host axis's ``riscv`` points (the firmware on the instruction-level host model).
2. ResNet-50 x ``--configs`` configurations (default 100,000: measured, not extrapolated) of the mixed space
   on 1 and on 2 local workers (process pool), wall time (extrapolated linearly to 100,000 configurations
   when ``--configs`` is smaller); the 1 -> 2 worker
   scaling; and, extrapolated from the one-worker rate assuming linear scaling, a 32-worker Dask cluster.
   ``--dask`` also times a 2-worker Dask LocalCluster (cluster start-up included).
Wall-clock seconds (time.perf_counter); the machine may be shared, so rates vary run to run.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import tempfile
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # one core per worker
    os.environ.setdefault(_var, "1")

from accelsim.sweep import Backend, parse, run_sweep  # noqa: E402

CLOSED_FORM_SPACE = {  # large buffers, deep queues, fast host: the closed form's regimes
    "array_rows": [8, 16, 32, 64], "array_cols": [8, 16, 32, 64], "dataflow": ["ws", "os", "is"],
    "ifmap_spad_kib": [128, 256], "weight_spad_kib": [128, 256], "acc_kib": [64, 128],
    "dram_bytes_per_cycle": [16, 32, 64], "dram_latency_cycles": [50, 100], "queue_depth": [8, 16],
    "host_issue_cycles": [1, 2],
}

# the closed-form space less its wide arrays and WS, with more hosts, queues, latencies and accumulators:
# every (shape, config) point of ResNet-50 in it takes the closed form (checked when timed), so it measures
# the sweep path where the scheduler never runs
COVERED_SPACE = {**CLOSED_FORM_SPACE, "array_cols": [8, 16], "dataflow": ["os", "is"],
                 "acc_kib": [32, 64, 128, 256], "dram_latency_cycles": [20, 50, 100, 200],
                 "queue_depth": [4, 8, 16, 32], "host_issue_cycles": [1, 2, 3, 4]}


def mixed_space(configs: int) -> dict:
    """Every key swept; at least ``configs`` configurations (7,200 per value of the last key)."""
    space = {
        "array_rows": [8, 16, 32, 64, 128], "array_cols": [8, 16, 32, 64, 128],
        "dataflow": ["ws", "os", "is"],
        "ifmap_spad_kib": [32, 128], "weight_spad_kib": [32, 128], "acc_kib": [16, 64],
        "dram_bytes_per_cycle": [4, 16, 64], "dram_latency_cycles": [20, 200], "queue_depth": [2, 8],
    }
    per = 1
    for v in space.values():
        per *= len(v)
    space["host_issue_cycles"] = list(range(1, 1 + math.ceil(configs / per)))
    return space


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (pool workers)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def timed_sweep(space, backend: Backend, repeat: int = 1) -> tuple[float, float, float]:
    """Wall and CPU seconds of a whole sweep (the best of ``repeat`` runs, each), and the share of its
    layer-points that took the closed form (CPU of Dask's worker processes is not counted: they are not our
    children)."""
    import pyarrow.parquet as pq

    best = (math.inf, math.inf)
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            start, cpu = time.perf_counter(), cpu_seconds()
            res = run_sweep(space, Path(tmp) / "out", backend=backend, plots=False)
            seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
            best = (min(best[0], seconds), min(best[1], cpu))
            closed = pq.read_table(res.out / "points", columns=["closed_form_layers"])["closed_form_layers"]
            share = closed.to_numpy().sum() / (res.points * layer_counts(space)[1])
    return *best, share


def evaluation_alone(space, repeat: int) -> float:
    """CPU seconds (best of ``repeat``) of accelsim.batch.evaluate on every chunk of ``space`` as
    evaluate_chunk calls it, nothing else: the part of a sweep that is not the sweep's own work."""
    from accelsim.batch import ENERGY_FIELDS, evaluate
    from accelsim.closed_form import ARCH_FIELDS
    from accelsim.sweep.execute import chunk_ranges

    (w,) = space.workloads
    shapes = {k: v[:, None] for k, v in w.shapes.items()}
    energy = {k: getattr(space.base.energy, k) for k in ENERGY_FIELDS}
    best = math.inf
    for _ in range(repeat):
        cpu = time.process_time()
        for _, start, stop in chunk_ranges(space):
            cfg = space.configs(start, stop)
            evaluate(shapes, {**{k: cfg[k][None, :] for k in ARCH_FIELDS}, **energy})
        best = min(best, time.process_time() - cpu)
    return best


def layer_counts(space) -> tuple[int, int]:
    """(distinct shapes, layers) per configuration of the space's one workload."""
    (w,) = space.workloads
    return len(w.shapes["N"]), len(w.layer_shape)


def closed_form_only(space) -> None:
    """accelsim.batch.evaluate (the sweep's evaluator) on just the (shape, config) points of the closed-form
    space where the closed form applies: the rate the sweep path reaches where it applies everywhere."""
    import numpy as np

    from accelsim.batch import evaluate
    from accelsim.closed_form import ARCH_FIELDS

    (w,) = space.workloads
    cfg = space.configs(0, space.size)
    shapes = {k: v[:, None] for k, v in w.shapes.items()}
    arch = {k: cfg[k][None, :] if k in cfg else np.full((1, cfg["config_id"].size), getattr(space.base, k))
            for k in ARCH_FIELDS}
    applies = evaluate(shapes, arch)["closed_form"].astype(bool)
    s_idx, c_idx = np.nonzero(applies)
    flat_shapes = {k: v[s_idx, 0] for k, v in shapes.items()}
    flat_arch = {k: v[0, c_idx] for k, v in arch.items()}
    evaluate({k: v[:1] for k, v in flat_shapes.items()}, {k: v[:1] for k, v in flat_arch.items()})  # compile
    start, cpu = time.perf_counter(), time.process_time()
    ev = evaluate(flat_shapes, flat_arch)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert ev["closed_form"].all()
    print(f"    closed-form points only ({s_idx.size:,} (shape, config) points of the closed-form space, "
          f"accelsim.batch.evaluate as the sweep calls it, no I/O): {s_idx.size / cpu / 1e6:.2f} M "
          f"evaluations/CPU-s ({s_idx.size / seconds / 1e6:.2f} M/s wall)")


def host_in_the_loop(backend: Backend) -> None:
    """The host axis: ``host = "riscv"`` runs the layer driver firmware on the instruction-level host model
    per distinct (shape, configuration); timed once after a warm-up on another configuration (the ISS and
    firmware load once per process; results are cached per (shape, configuration))."""
    one = {"workloads": ["resnet50"], "space": {"host": "riscv"}}
    timed_sweep(parse({**one, "space": {"host": "riscv", "array_rows": 8}}), backend)  # warm-up
    space = parse({**one, "space": {"host": "riscv", "array_rows": [16, 32]}})
    shapes, _ = layer_counts(space)
    seconds, cpu, share = timed_sweep(space, backend)
    assert share == 0
    evals = space.feasible_count() * shapes
    print(f"    host = riscv (firmware in the loop), {space.feasible_count()} configs x {shapes} distinct "
          f"shapes: {seconds:.2f} s wall, {cpu:.2f} s CPU: {evals / cpu:,.0f} evaluations/CPU-s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", type=int, default=100_000, help="ResNet-50 configurations timed in (2)")
    ap.add_argument("--dask", action="store_true", help="also time a 2-worker Dask LocalCluster")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each one-core measurement (best kept)")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the start; one-core figures "
          f"are the best of {args.repeat} runs")
    inproc = Backend("inprocess")
    timed_sweep(parse({"workloads": ["resnet50"], "space": {"array_rows": [8, 16]}}), inproc)  # warm-up

    print("(1) one core, in-process backend, ResNet-50, end to end (Parquet chunks, front, summary):")
    for name, table in (("closed-form space", CLOSED_FORM_SPACE), ("mixed space", mixed_space(args.configs))):
        space = parse({"workloads": ["resnet50"], "space": table})
        shapes, layers = layer_counts(space)
        seconds, cpu, share = timed_sweep(space, inproc, args.repeat)
        n = space.feasible_count()
        evals = n * shapes
        print(f"    {name}: {n:,} configs x {shapes} distinct shapes ({layers} layers) in {seconds:.2f} s "
              f"wall, {cpu:.2f} s CPU: {evals / cpu / 1e3:,.0f} k evaluations/CPU-s "
              f"({evals / seconds / 1e3:,.0f} k/s wall), {n * layers / cpu / 1e3:,.0f} k layer-points/CPU-s; "
              f"closed form on {share:.0%} of layer-points")
    closed_form_only(parse({"workloads": ["resnet50"], "space": CLOSED_FORM_SPACE}))
    space = parse({"workloads": ["resnet50"], "space": COVERED_SPACE})
    shapes, _ = layer_counts(space)
    seconds, cpu, alone = math.inf, math.inf, math.inf
    for _ in range(args.repeat):  # alternately, so that both see the same load on a shared machine
        run_seconds, run_cpu, share = timed_sweep(space, inproc)
        seconds, cpu = min(seconds, run_seconds), min(cpu, run_cpu)
        alone = min(alone, evaluation_alone(space, 1))
    assert share == 1.0, f"the closed form covers only {share:.2%} of the covered space's layer-points"
    evals = space.feasible_count() * shapes
    print(f"    fully covered space (closed form on 100 % of layer-points, checked), end to end: "
          f"{space.feasible_count():,} configs x {shapes} distinct shapes in {seconds:.2f} s wall, "
          f"{cpu:.2f} s CPU: {evals / cpu / 1e6:.2f} M evaluations/CPU-s "
          f"({evals / seconds / 1e6:.2f} M/s wall); batch.evaluate alone on its chunks "
          f"{evals / alone / 1e6:.2f} M/CPU-s, {alone / cpu:.0%} of the end-to-end CPU time")
    host_in_the_loop(inproc)

    space = parse({"workloads": ["resnet50"], "space": mixed_space(args.configs)})
    n = space.feasible_count()
    print(f"(2) ResNet-50 x {n:,} configurations (mixed space), wall time:")
    t1, c1, _ = timed_sweep(space, Backend("pool", workers=1))
    t2, c2, _ = timed_sweep(space, Backend("pool", workers=2))
    for workers, t, c in ((1, t1, c1), (2, t2, c2)):
        print(f"    {workers} local worker{'s' if workers > 1 else ''}: {t:.1f} s wall, {c:.1f} s CPU "
              f"({n / t:,.0f} configs/s)"
              + ("" if n >= 100_000 else f" -> 100,000 configs in {t * 100_000 / n / 60:.1f} min wall "
                 "(extrapolated)"))
    print(f"    scaling 1 -> 2 workers: {t1 / t2:.2f}x wall; CPU per config {c2 / c1:.2f}x of one worker's "
          f"(load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: wall scaling needs idle "
          "cores)")
    if n < 100_000:
        print(f"    100,000 configs on {os.cpu_count()} otherwise idle cores, from CPU time: "
              f"{c1 * 100_000 / n / (os.cpu_count() or 1) / 60:.1f} min (extrapolated)")
    if args.dask:
        td, _, _ = timed_sweep(space, Backend("dask", workers=2, address="local"))
        print(f"    Dask LocalCluster, 2 workers (start-up included): {td:.1f} s wall")
    print("    32-worker Dask cluster, EXTRAPOLATED (not measured: 32 x one worker's CPU rate, linear "
          f"scaling, no scheduler overhead): 100,000 configs in {c1 * 100_000 / n / 32:.1f} s")


if __name__ == "__main__":
    main()
