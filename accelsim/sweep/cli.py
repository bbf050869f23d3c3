"""`accelsim sweep SPACE.toml`: the subcommand's parser and function (registered by accelsim.cli)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from accelsim.errors import require
from accelsim.sweep.space import OBJECTIVES


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "sweep", help="evaluate a design space x workloads; write every point, the Pareto front and plots")
    p.add_argument("space", type=Path, metavar="SPACE.toml", help="the space (docs/sweep.md)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="output folder (default: SPACE-sweep/ beside the space file)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, metavar="N",
                   help="local processes (default: every core; 1 runs in this process)")
    g.add_argument("--dask", metavar="ADDR",
                   help="run on Dask: 'local' (a LocalCluster) or a scheduler such as tcp://host:8786")
    p.add_argument("--resume", action="store_true", help="continue an interrupted sweep in --out")
    p.add_argument("--objectives", metavar="A,B",
                   help=f"objectives to minimise, from {','.join(OBJECTIVES)} (default: the space's, "
                        "else cycles,energy_pj)")
    p.add_argument("--no-plots", action="store_true", help="skip pareto.png and sensitivity.png")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_sweep)
    return p


def cmd_sweep(args: argparse.Namespace) -> int:
    from accelsim import sweep
    from accelsim.sweep.space import parse_objectives

    space = sweep.load(args.space)
    objectives = parse_objectives(args.objectives) if args.objectives else space.objectives
    if args.dask is not None:
        backend = sweep.Backend("dask", address=args.dask)
    else:
        require(args.workers is None or args.workers >= 1, "--workers", "a positive integer", args.workers)
        backend = sweep.Backend("pool", workers=args.workers or 0)
    out = args.out if args.out is not None else args.space.resolve().with_name(f"{args.space.stem}-sweep")
    try:
        res = sweep.run_sweep(space, out, backend=backend, resume=args.resume, objectives=objectives,
                              progress=sys.stderr.isatty(), plots=not args.no_plots)
    except KeyboardInterrupt:
        print(f"accelsim: interrupted: the finished chunks are in {out / 'points'}; add --resume to continue",
              file=sys.stderr)
        return 130
    summary = json.loads((res.out / "summary.json").read_text())
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    print(f"{res.points:,} points ({res.valid_points:,} valid) of {summary['feasible_configs']:,} "
          f"configurations x {len(space.workloads)} workloads; {res.chunks_run} of {res.chunks} chunks run")
    for net, entry in summary["networks"].items():
        best = ", ".join(f"{o} {b['value']:.6g} (config {b['config_id']})" for o, b in entry["best"].items())
        print(f"  {net}: Pareto front {entry['front_points']} points; best {best}")
    print(f"table: {res.out / 'points'}  front: {res.out / 'pareto.csv'}")
    for path in res.paths:
        if path.suffix == ".png":
            print(f"plot: {path}")
    return 0
