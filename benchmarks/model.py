"""Speed of the model on ResNet-50: command-level scheduler, SCALE-Sim compatibility mode, SCALE-Sim itself,
and the closed form's sweep rate, all in one run.

    python benchmarks/model.py [--reps 5] [--scalesim-layers 3] [--sweep-sample 200]

1. :func:`accelsim.sim.simulate_network` on ResNet-50 with the default preset: CPU seconds per run
   (``time.process_time``, best of ``--reps``; the shape cache of ``simulate_layer`` is cleared before
   every run, so each run schedules all 24 distinct shapes once) and layers per second.
2. :func:`accelsim.scalesim.simulate_layer_scalesim` on the same 54 layers, WS 32x32 with the
   SRAM sizes of SCALE-Sim's google.cfg (6144/6144/2048 kB: every operand fits).
3. SCALE-Sim 3.0 itself on the first ``--scalesim-layers`` layers with that config, when the environment
   variable ACCELSIM_SCALESIM_PYTHON names a python that can ``import scalesim`` (it pins its own numpy, so
   it runs in its own venv, in a subprocess: see benchmarks/scalesim_golden.py). Its CPU seconds per layer
   are measured inside that process around ``run_scale`` and set against ours for the same layer;
   its report numbers are checked against ours. Without it, the figure from the issue is printed, marked
   as not measured in this run.
4. :func:`accelsim.closed_form.closed_form_breakdown` over ResNet-50 layers x a grid of configs, one layer per
   call: evaluations per second of one process on one core, best of ``--reps``, compiled (after a warm-up
   call that loads or compiles it); the same function interpreted on a slice, its rate and a check that the
   two agree on every field; the rate of the compiled kernel alone; and a random sample of the points where
   the closed form applies checked against :func:`accelsim.schedule.schedule_fast` (every field).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import time
from dataclasses import replace

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # one core, as reported
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

# A sibling script: Python puts this script's folder first on sys.path when it runs it.
from scalesim_golden import DRIVER, accelsim_numbers, config_text, topology_text  # noqa: E402

from accelsim import mapping, schedule, sim, workloads  # noqa: E402
from accelsim.arch import ArchConfig, Dataflow, preset  # noqa: E402
from accelsim.closed_form import (  # noqa: E402
    ARCH_FIELDS,
    LAYER_FIELDS,
    Engine,
    closed_form_breakdown,
    closed_form_points,
    layer_fields,
)
from accelsim.jit import compiled  # noqa: E402
from accelsim.scalesim import ScaleSimConfig, simulate_layer_scalesim  # noqa: E402

ENV_SCALESIM = "ACCELSIM_SCALESIM_PYTHON"
PYTHON_ENGINE_CONFIGS = 2000  # points the interpreted closed form is timed on (it is ~1000x slower)
# The issue's measurement (not repeated by this script unless SCALE-Sim is installed): SCALE-Sim 3.0,
# ResNet-50, WS 32x32, on this machine class.
ISSUE_SCALESIM_RESNET50_SECONDS = 681.0
GOOGLE_CFG = ScaleSimConfig(array_height=32, array_width=32, ifmap_sram_kib=6144, filter_sram_kib=6144,
                            ofmap_sram_kib=2048, dataflow=Dataflow.WS, run_name="golden")
GOOGLE_CFG_KEYS = {"ArrayHeight": 32, "ArrayWidth": 32, "IfmapSramSzkB": 6144, "FilterSramSzkB": 6144,
                   "OfmapSramSzkB": 2048, "Dataflow": "ws"}

# The closed-form sweep: every combination (7200 configs; x 54 layers).
SWEEP = {
    "array_rows": (8, 16, 32, 64, 128),
    "array_cols": (8, 16, 32, 64, 128),
    "dataflow": tuple(d.code for d in Dataflow),
    "ifmap_spad_kib": (64, 256),
    "weight_spad_kib": (64, 256),
    "acc_kib": (32, 128),
    "dram_bytes_per_cycle": (8, 16, 64),
    "dram_latency_cycles": (50, 200),
    "queue_depth": (2, 8),
    "host_issue_cycles": (1, 8),
}


def best_cpu(fn, reps: int, setup=None) -> float:
    """Best CPU seconds (time.process_time) of ``reps`` calls of ``fn``, ``setup()`` before each, untimed."""
    best = float("inf")
    for _ in range(reps):
        if setup is not None:
            setup()
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def command_level(layers, reps: int) -> None:
    arch = preset()
    shapes = len({replace(layer, name="") for layer in layers})
    seconds = best_cpu(lambda: sim.simulate_network(layers, arch), reps,
                       setup=sim._simulate_shape.cache_clear)
    r = sim.simulate_network(layers, arch)
    cycles = sum(layer.cycles for layer in r.layers)
    print(f"(1) command-level model, ResNet-50 ({len(layers)} layers, {shapes} distinct shapes), preset "
          f"{arch.name!r} ({arch.array_rows}x{arch.array_cols} {arch.dataflow.name}), cache cleared per run:")
    print(f"    {seconds:.3f} s CPU per run (best of {reps}), {len(layers) / seconds:.0f} layers/s; "
          f"{cycles} cycles simulated")


def scalesim_compat(layers, reps: int) -> tuple[float, dict[str, float]]:
    per_layer = {}
    for layer in layers:
        per_layer[layer.name] = best_cpu(lambda layer=layer: simulate_layer_scalesim(layer, GOOGLE_CFG), reps)
    seconds = best_cpu(lambda: [simulate_layer_scalesim(layer, GOOGLE_CFG) for layer in layers], reps)
    print(f"(2) SCALE-Sim compatibility mode, ResNet-50 ({len(layers)} layers), WS 32x32, "
          "SRAMs 6144/6144/2048 kB:")
    print(f"    {seconds * 1e3:.1f} ms CPU per network (best of {reps}), "
          f"{len(layers) / seconds:.0f} layers/s")
    return seconds, per_layer


def scalesim_itself(layers, network_seconds: float, ours: dict[str, float], n_layers: int) -> None:
    python = os.environ.get(ENV_SCALESIM)
    probe = None
    if python:
        probe = subprocess.run([python, "-c", "import scalesim"], capture_output=True, text=True)
    if not python or probe is None or probe.returncode != 0:
        why = (f"{ENV_SCALESIM} is not set" if not python
               else f"{ENV_SCALESIM}={python} cannot import scalesim")
        print(f"(3) SCALE-Sim is not installed ({why}; e.g. python3 -m venv /tmp/ssvenv && "
              f"/tmp/ssvenv/bin/pip install scalesim==3.0.0 'numpy<2.4'), so it was not run.")
        print(f"    Reference figure from the issue, NOT measured in this run: SCALE-Sim 3.0 took "
              f"{ISSUE_SCALESIM_RESNET50_SECONDS:.0f} s for ResNet-50 WS 32x32 on this machine class; "
              f"compatibility mode here: {network_seconds * 1e3:.1f} ms (2), i.e. ours/theirs "
              f"{network_seconds / ISSUE_SCALESIM_RESNET50_SECONDS:.1e} (unmeasured peer).")
        return
    version = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('scalesim'))"],
                             capture_output=True, text=True).stdout.strip()
    chosen = layers[:n_layers]
    print(f"(3) SCALE-Sim {version} ({python}), measured in this run, same config, "
          f"first {len(chosen)} layers (CPU seconds inside its process, around run_scale):")
    proc = subprocess.Popen([python, "-c", DRIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd="/tmp")
    assert proc.stdin is not None and proc.stdout is not None
    theirs_total = ours_total = 0.0
    for layer in chosen:
        job = {"cfg": config_text(GOOGLE_CFG_KEYS), "topology": topology_text(layer)}
        proc.stdin.write(json.dumps(job) + "\n")
        proc.stdin.flush()
        result = json.loads(proc.stdout.readline())
        if "error" in result:
            print(f"    {layer.name}: SCALE-Sim failed: {result['error']}")
            continue
        same = accelsim_numbers(simulate_layer_scalesim(layer, GOOGLE_CFG)) == [*result["compute"],
                                                                                 *result["detail"]]
        theirs, mine = result["cpu_seconds"], ours[layer.name]
        theirs_total += theirs
        ours_total += mine
        print(f"    {layer.name:<16} SCALE-Sim {theirs:8.2f} s (wall {result['wall_seconds']:.2f} s)   "
              f"ours {mine * 1e3:7.3f} ms   ours/theirs {mine / theirs:.1e} ({theirs / mine:,.0f}x faster)   "
              f"reports identical: {'yes' if same else 'NO'}")
    proc.stdin.close()
    proc.wait()
    if theirs_total:
        print(f"    total: SCALE-Sim {theirs_total:.2f} s, ours {ours_total * 1e3:.3f} ms, "
              f"ours/theirs {ours_total / theirs_total:.1e}")
    print(f"    (issue's whole-network figure, not re-measured here: SCALE-Sim 3.0 "
          f"{ISSUE_SCALESIM_RESNET50_SECONDS:.0f} s for ResNet-50 WS 32x32; "
          f"ours {network_seconds * 1e3:.1f} ms for all {len(layers)} layers)")


def closed_form_sweep(layers, sample: int, reps: int, seed: int = 0) -> None:
    names = list(SWEEP)
    combos = np.array(list(itertools.product(*SWEEP.values())), np.int64)
    arch_f = {k: combos[:, i][None, :] for i, k in enumerate(names)}
    lf = {k: v[:, None] for k, v in layer_fields(layers).items()}
    points = len(layers) * len(combos)
    start = time.perf_counter()  # warm up: Numba loads its cached machine code (or compiles it)
    closed_form_breakdown({k: v[:1] for k, v in lf.items()}, arch_f)
    warm = time.perf_counter() - start
    parts = []

    def run():  # one layer x every config per call, as a sweep over configs would call it
        parts[:] = [closed_form_breakdown({k: v[i:i + 1] for k, v in lf.items()}, arch_f)
                    for i in range(len(layers))]

    seconds = best_cpu(run, reps)
    cf_fields = ("applies", "regime", "total_cycles", "ex_stream_cycles", "ex_fill_drain_cycles",
                 "ex_preload_cycles", "commands", "ex_idle_cycles")
    cat = {f: np.concatenate([getattr(p, f) for p in parts], axis=-2) for f in cf_fields}
    applies = cat["applies"]
    # The interpreted engine (the same function, not compiled) on a slice: its rate, and agreement.
    few = {k: v[:, :PYTHON_ENGINE_CONFIGS] for k, v in arch_f.items()}
    one = {k: v[:1] for k, v in lf.items()}
    start = time.process_time()
    py = closed_form_breakdown(one, few, engine=Engine.PYTHON)
    py_seconds = time.process_time() - start
    comp = closed_form_breakdown(one, few)
    differ = [f for f in cf_fields if not np.array_equal(getattr(py, f), getattr(comp, f))]
    rate = points / seconds
    print(f"(4) closed form, ResNet-50 {len(layers)} layers x {len(combos)} configs = {points} evaluations, "
          f"one layer per call, best of {reps}, one process, one core; applies to {applies.mean():.1%}:")
    print(f"    compiled: {seconds:.3f} s CPU, {rate:,.0f} evaluations/s (warm-up call {warm:.2f} s: cached "
          f"machine code loaded or compiled)")
    print(f"    the same function interpreted, on {PYTHON_ENGINE_CONFIGS} of the points: "
          f"{PYTHON_ENGINE_CONFIGS / py_seconds:,.0f} evaluations/s; compiled/interpreted "
          f"{rate * py_seconds / PYTHON_ENGINE_CONFIGS:.0f}x; the two agree on "
          f"{'every field' if not differ else 'NOT ' + ', '.join(differ)}")
    print(f"    (the compiled kernel alone on the same calls, fields already flat int64, outputs allocated: "
          f"{closed_form_kernel_rate(lf, arch_f, reps):,.0f} evaluations/s)")

    # Check a random sample of the applicable points against the command-level scheduler.
    rng = np.random.default_rng(seed)
    li, ci = np.nonzero(applies)
    pick = rng.choice(li.size, size=min(sample, li.size), replace=False)
    mismatches, sched_seconds = [], 0.0
    for j in pick:
        layer, row = layers[li[j]], combos[ci[j]]
        fields = {k: int(v) for k, v in zip(names, row, strict=True)}
        fields["dataflow"] = Dataflow.from_code(fields["dataflow"])
        arch = ArchConfig(name="sweep", **fields)
        start = time.process_time()
        s = schedule.schedule_fast(mapping.lower(layer, arch), arch)
        sched_seconds += time.process_time() - start
        at = (li[j], ci[j])
        ours = (*(int(cat[f][at]) for f in ("total_cycles", "ex_stream_cycles", "ex_fill_drain_cycles",
                                             "ex_preload_cycles")),
                tuple(int(x) for x in cat["ex_idle_cycles"][(slice(None), *at)]))
        theirs = (s.total_cycles, s.ex_stream_cycles, s.ex_fill_drain_cycles, s.ex_preload_cycles,
                  tuple(s.ex_idle_cycles))
        if ours != theirs:
            mismatches.append((layer.name, fields, ours, theirs))
    print(f"    sample of {len(pick)} applicable points vs schedule.schedule_fast (total cycles and "
          f"breakdown): {len(pick) - len(mismatches)} equal, {len(mismatches)} differ; the scheduler took "
          f"{sched_seconds / len(pick) * 1e3:.2f} ms CPU per point, the closed form "
          f"{seconds / points * 1e6:.3f} us")
    for m in mismatches[:5]:
        print(f"    MISMATCH {m}")


def closed_form_kernel_rate(lf, arch_f, reps: int) -> float:
    """Evaluations/s of the compiled closed_form_points on the same per-layer chunks, their fields
    flattened to int64 and the outputs allocated beforehand: the compiled arithmetic without
    closed_form_breakdown's per-call numpy bookkeeping (broadcast, flatten, allocate, reshape)."""
    points = compiled(closed_form_points)
    calls = []
    for i in range(next(iter(lf.values())).shape[0]):
        both = {**{k: v[i:i + 1] for k, v in lf.items()}, **arch_f}
        arrays = np.broadcast_arrays(*(both[k] for k in (*LAYER_FIELDS, *ARCH_FIELDS)))
        flat = [np.ascontiguousarray(a, np.int64).reshape(-1) for a in arrays]
        n = flat[0].size
        outs = [np.empty(n, bool), *(np.empty(n, np.int64) for _ in range(6)), np.empty((3, n), np.int64)]
        calls.append((flat, outs))
    seconds = best_cpu(lambda: [points(*flat, 4, *outs) for flat, outs in calls], reps)
    return sum(flat[0].size for flat, _ in calls) / seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions; the best CPU time is reported")
    parser.add_argument("--scalesim-layers", type=int, default=3, help="ResNet-50 layers to run SCALE-Sim on")
    parser.add_argument("--sweep-sample", type=int, default=200,
                        help="closed-form points checked against the scheduler")
    args = parser.parse_args(argv)
    layers = workloads.load("resnet50")
    command_level(layers, args.reps)
    network_seconds, ours = scalesim_compat(layers, args.reps)
    scalesim_itself(layers, network_seconds, ours, args.scalesim_layers)
    closed_form_sweep(layers, args.sweep_sample, args.reps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
