"""Memory of `accelsim sweep` as the space grows: 100 k, 1 M and 10 M points, one fresh process each.

    python benchmarks/sweep_memory.py [--sizes 100000,1000000,10000000] [--workers N]

Each size runs `accelsim sweep` (the CLI, in a child process) on a one-layer SCALE-Sim CSV workload over
``array_rows x array_cols x dram_latency_cycles`` (100 x 100 x size/10,000 configurations, one point
each) and prints its wall time, rate, the Parquet bytes written and the peak resident memory of the sweep
process and of its largest pool worker (``ru_maxrss`` of the process and of its children), and the ratio of
each peak to the smallest size's: a sweep that held its table in RAM would grow ~100x from 100 k to 10 M
points; one that streams its chunks to disk stays flat. The peer is the same sweep at the smallest size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CSV = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n" \
      "conv, 16, 16, 3, 3, 32, 32, 1,\n"

CHILD = r"""
import json, resource, sys
from accelsim.cli import main
code = main(sys.argv[1:])
me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"exit": code, "self_kib": me, "children_kib": kids}), file=sys.stderr)
"""


def run(size: int, tmp: Path, workers: int | None) -> dict:
    latencies = size // 10_000
    space = tmp / f"space{size}.toml"
    space.write_text(
        f'base = "gemmini"\nworkloads = ["layer.csv"]\nobjectives = ["cycles", "pes"]\n\n[space]\n'
        "array_rows = {start = 4, stop = 103, step = 1}\n"
        "array_cols = {start = 4, stop = 103, step = 1}\n"
        f"dram_latency_cycles = {{start = 1, stop = {latencies}, step = 1}}\n")
    out = tmp / f"out{size}"
    argv = ["sweep", str(space), "--out", str(out), "--no-plots"]
    if workers:
        argv += ["--workers", str(workers)]
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"sweep of {size:,} points failed: {proc.stderr.strip().splitlines()[-1:]}")
    stats = json.loads(proc.stderr.strip().splitlines()[-1])
    if stats["exit"] != 0:
        raise SystemExit(f"sweep of {size:,} points exited {stats['exit']}")
    parquet = sum(p.stat().st_size for p in (out / "points").glob("*.parquet"))
    return {"size": size, "seconds": seconds, "parquet": parquet, **stats}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000,10000000",
                    help="points per sweep (multiples of 10,000)")
    ap.add_argument("--workers", type=int, default=None, help="pool workers (default: every core)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    for s in sizes:
        if s < 10_000 or s % 10_000:
            raise SystemExit(f"--sizes: each a multiple of 10,000, not {s}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "layer.csv").write_text(CSV)
        rows = [run(s, tmp, args.workers) for s in sizes]
    base = rows[0]
    print(f"{'points':>12} {'wall s':>8} {'points/s':>10} {'Parquet MB':>11} {'sweep peak MB':>14} "
          f"{'worker peak MB':>15} {'vs smallest':>12}")
    for r in rows:
        print(f"{r['size']:>12,} {r['seconds']:>8.1f} {r['size'] / r['seconds']:>10,.0f} "
              f"{r['parquet'] / 1e6:>11.1f} {r['self_kib'] / 1024:>14.0f} "
              f"{r['children_kib'] / 1024:>15.0f} {r['self_kib'] / base['self_kib']:>5.2f}x / "
              f"{r['children_kib'] / max(1, base['children_kib']):.2f}x")


if __name__ == "__main__":
    main()
