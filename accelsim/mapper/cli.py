"""`accelsim map`: search each layer's mapping and print it next to the fixed lowering (registered by
accelsim.cli), and the options `simulate --mapper search` shares."""

from __future__ import annotations

import argparse
from pathlib import Path

from accelsim.arch import Dataflow
from accelsim.errors import require
from accelsim.mapper.search import DEFAULT_GAP, MAPPERS, OBJECTIVES, Mapped, search_network

MAPPER_HELP = ("fixed: the fixed lowering (docs/microarchitecture.md, \"Lowering\"); search: each layer's "
               "mapping searched by accelsim.mapper (docs/mapper.md)")


def add_search_options(p: argparse.ArgumentParser) -> None:
    """The search's options, shared by `map` and `simulate --mapper search`."""
    p.add_argument("--objective", choices=OBJECTIVES, default="edp",
                   help="what the search minimises per layer (default: edp, energy x cycles)")
    p.add_argument("--budget-s", type=float, metavar="S",
                   help="wall-clock seconds for the whole workload's search (default: none; the fixed "
                        "lowering is evaluated first, so the answer is never worse)")
    p.add_argument("--gap", type=float, default=DEFAULT_GAP, metavar="FRACTION",
                   help=f"stop when no mapping left can beat the best by more than this (default "
                        f"{DEFAULT_GAP}; 0: the exact optimum of the space)")
    p.add_argument("--dataflows", metavar="LIST",
                   help="dataflows a layer may use, e.g. ws,os,is or all (default: the architecture's; the "
                        "hardware runs every built dataflow, chosen per layer)")


MAPPING_HELP = ("a mapping file (TOML, one [layers.NAME] table of loop-nest keys per layer, as `accelsim map "
                "--save` writes; docs/mapper.md): those layers run their nest, the others the fixed lowering")


def add_mapping_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mapping", type=Path, metavar="FILE.toml", help=MAPPING_HELP)


def mapping_option(args: argparse.Namespace) -> str | None:
    """The option that asks for loop nests (``--mapping`` or ``--mapper search``), or None (the fixed
    lowering): the name the one-line errors about it use."""
    if getattr(args, "mapping", None) is not None:
        return "--mapping"
    return "--mapper search" if getattr(args, "mapper", "fixed") == "search" else None


def mapping_nests(args: argparse.Namespace, layers, arch) -> list | None:
    """Each layer's nest the arguments name (``--mapper search`` or ``--mapping FILE``; None in the list:
    the fixed lowering), or None when neither is asked for."""
    path = getattr(args, "mapping", None)
    if path is not None:
        from accelsim.mapper.mapfile import load_mapping, nests_for

        require(args.mapper == "fixed", "--mapping", "used without --mapper search (the file is the mapping)",
                args.mapper)
        return nests_for(layers, arch, load_mapping(path))
    if args.mapper == "search":
        return [m.nest for m in search_args(args, layers, arch)]
    return None


def parse_dataflows(text: str | None) -> tuple[Dataflow, ...] | None:
    if text is None:
        return None
    names = [d.value for d in Dataflow] if text.strip().lower() == "all" else text.split(",")
    require(names and all(n.strip() for n in names), "--dataflows", "a comma-separated list such as ws,os,is",
            text)
    out = tuple(dict.fromkeys(Dataflow.parse(n, "--dataflows") for n in names))
    return out


def search_args(args: argparse.Namespace, layers, arch) -> list[Mapped]:
    """Run the search the arguments ask for (one line of progress per shape on a terminal)."""
    require(args.budget_s is None or args.budget_s > 0, "--budget-s", "a positive number of seconds",
            args.budget_s)
    return search_network(layers, arch, objective=args.objective, budget_s=args.budget_s, gap=args.gap,
                          requantize_shift=getattr(args, "requantize", None),
                          dataflows=parse_dataflows(args.dataflows))


def add_parser(subparsers, add_workload, add_arch, requantize_help: str) -> argparse.ArgumentParser:
    p = subparsers.add_parser("map", help="search each layer's mapping (tiles, loop order, residency, "
                                          "buffering) and compare it with the fixed lowering")
    add_workload(p)
    add_arch(p)
    add_search_options(p)
    p.add_argument("--requantize", type=int, metavar="SHIFT", help=requantize_help)
    p.add_argument("--json", action="store_true", help="print every layer's mapping and both results as JSON")
    p.add_argument("--save", type=Path, metavar="FILE.toml",
                   help="also write the mappings found as a mapping file (read by simulate, report and "
                        "cosim --mapping)")
    p.set_defaults(func=cmd_map)
    return p


def cmd_map(args: argparse.Namespace) -> int:
    from accelsim.cli import _arch, _check_requantize, _json, _workload

    _check_requantize(args)
    arch, layers = _arch(args), _workload(args)
    mapped = search_args(args, layers, arch)
    if args.save is not None:
        _save(args.save, mapped)
    if args.json:
        print(_json({"arch": arch.to_dict(), "objective": args.objective, "layers": [
            {"name": m.result.name, "mapping": m.nest.to_dict(), "mapped": _summary(m.result),
             "fixed": _summary(m.fixed), "candidates": m.candidates, "scheduled": m.scheduled,
             "search_s": round(m.seconds, 4), "exhaustive": m.exhaustive} for m in mapped],
            "totals": {"mapped": _totals([m.result for m in mapped]),
                       "fixed": _totals([m.fixed for m in mapped]),
                       "search_s": round(sum(_once(mapped)), 3)}}))
        return 0
    head = f"{'layer':<24} {'mapping':<58} {'cycles':>13} {'vs fixed':>8} {'DRAM B':>13} {'vs fixed':>8}"
    print(head)
    print("-" * len(head))
    for m in mapped:
        r, f = m.result, m.fixed
        print(f"{m.result.name[:23]:<24} {m.nest.describe()[:57]:<58} {r.cycles:>13,} "
              f"{r.cycles / f.cycles:>8.3f} {_dram(r):>13,} {_dram(r) / max(1, _dram(f)):>8.3f}")
    t, tf = _totals([m.result for m in mapped]), _totals([m.fixed for m in mapped])
    print("-" * len(head))
    print(f"{'total':<24} {'':<58} {t['cycles']:>13,} {t['cycles'] / tf['cycles']:>8.3f} "
          f"{t['dram_bytes']:>13,} {t['dram_bytes'] / max(1, tf['dram_bytes']):>8.3f}")
    print(f"objective {args.objective}: {tf['cycles'] / t['cycles']:.3f}x fewer cycles, "
          f"{tf['dram_bytes'] / max(1, t['dram_bytes']):.2f}x less DRAM traffic, "
          f"{tf['energy_pj'] / t['energy_pj']:.2f}x less energy than the fixed lowering; "
          f"searched in {sum(_once(mapped)):.2f} s on arch {arch.name} ({arch.grid_text})")
    cut = sum(not m.exhaustive for m in mapped)
    if cut:
        print(f"--budget-s ran out on {cut} of {len(mapped)} layers: their mappings are the best found by "
              "then, not proven within --gap of the optimum")
    return 0


def _save(path: Path, mapped: list[Mapped]) -> None:
    from accelsim.mapper.mapfile import dumps
    from accelsim.outdir import atomic_write

    names = [m.result.name for m in mapped]
    repeated = next((n for n in names if names.count(n) > 1), None)
    require(repeated is None, "--save", "a workload whose layers have distinct names", repeated)
    atomic_write(path, dumps({m.result.name: m.nest for m in mapped}).encode(), what="--save file")


def _once(mapped: list[Mapped]) -> list[float]:
    """Each distinct search's time once (layers of one shape share a search)."""
    return list({(m.nest, m.fixed.layer, m.seconds): m.seconds for m in mapped}.values())


def _dram(r) -> int:
    return r.dram_read_bytes + r.dram_write_bytes


def _summary(r) -> dict[str, object]:
    return {"dataflow": r.dataflow.value, "cycles": r.cycles, "dram_bytes": _dram(r),
            "energy_pj": r.energy_pj, "utilization": r.utilization}


def _totals(results) -> dict[str, float]:
    return {"cycles": sum(r.cycles for r in results), "dram_bytes": sum(_dram(r) for r in results),
            "energy_pj": sum(r.energy_pj for r in results)}


__all__ = ["MAPPERS", "MAPPER_HELP", "add_parser", "add_search_options", "cmd_map", "search_args"]
