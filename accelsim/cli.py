"""`accelsim`: simulate a layer or network, generate reports, co-simulate the RTL.

Bad input prints one line (``accelsim: error: ...``) to stderr and exits 2; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import NoReturn

from accelsim import arch as arch_mod
from accelsim.arch import ArchConfig, Dataflow
from accelsim.errors import AccelsimError, require
from accelsim.layer import ConvLayer


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2 (argparse prints usage + message)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _add_workload(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    g = p.add_mutually_exclusive_group(required=required)
    g.add_argument(
        "--network",
        metavar="NAME",
        help="a built-in network (alexnet, vgg16, resnet18, resnet50, mobilenetv2)",
    )
    g.add_argument("--topology", metavar="FILE.csv", type=Path, help="a SCALE-Sim topology CSV")
    g.add_argument("--onnx", metavar="FILE", type=Path, help="an ONNX model")
    g.add_argument(
        "--layer",
        metavar="SPEC",
        help='one layer, e.g. "N=1,M=64,C=64,H=56,W=56,R=3,S=3,stride=1,pad=1,groups=1"',
    )


def _add_arch(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--arch", metavar="FILE.toml", type=Path, help="an accelerator configuration (TOML)")
    g.add_argument(
        "--preset",
        metavar="NAME",
        help=f"a shipped configuration: {', '.join(arch_mod.preset_names())} (default: gemmini)",
    )
    g.add_argument("--scalesim-cfg", metavar="FILE.cfg", type=Path, help="a SCALE-Sim .cfg file")
    p.add_argument("--dataflow", choices=[d.value for d in Dataflow], help="override the dataflow")


def _workload(args: argparse.Namespace) -> tuple[ConvLayer, ...]:
    from accelsim import workloads

    if args.layer is not None:
        return (ConvLayer.parse(args.layer),)
    return workloads.load(args.network or args.topology or args.onnx)


def _arch(args: argparse.Namespace) -> ArchConfig:
    if getattr(args, "scalesim_cfg", None) is not None:
        from accelsim.scalesim import arch_from_scalesim_cfg

        cfg = arch_from_scalesim_cfg(args.scalesim_cfg,
                                     for_scalesim_timing=getattr(args, "timing", None) == "scalesim")
    elif args.arch is not None:
        cfg = arch_mod.load(args.arch)
    else:
        cfg = arch_mod.preset(args.preset or "gemmini")
    return cfg.with_dataflow(args.dataflow)


def _simulate(args: argparse.Namespace):
    from accelsim.sim import simulate_network

    if args.timing == "scalesim":
        require(args.requantize is None, "--requantize", "unset with --timing scalesim", args.requantize)
    return simulate_network(
        _workload(args), _arch(args), timing_mode=args.timing, requantize_shift=args.requantize
    )


def _fmt_table(result) -> str:
    head = (
        f"{'layer':<28}{'MACs':>14}{'cycles':>12}{'util':>7}{'map.eff':>8}{'DRAM rd B':>13}"
        f"{'DRAM wr B':>12}{'dram stall':>11}{'fill/drain':>11}"
    )
    lines = [head, "-" * len(head)]
    for r in result.layers:
        lines.append(
            f"{r.name[:27]:<28}{r.macs:>14,}{r.cycles:>12,}{r.utilization:>7.1%}"
            f"{r.mapping_efficiency:>8.1%}{r.dram_read_bytes:>13,}{r.dram_write_bytes:>12,}"
            f"{r.breakdown['dram_stall'] / r.cycles:>11.1%}{r.breakdown['fill_drain'] / r.cycles:>11.1%}"
        )
    t = result.totals
    lines.append("-" * len(head))
    lines.append(
        f"{'total (' + str(t['layers']) + ' layers)':<28}{t['macs']:>14,}{t['cycles']:>12,}"
        f"{t['utilization']:>7.1%}{'':>8}{t['dram_read_bytes']:>13,}{t['dram_write_bytes']:>12,}"
        f"{t['breakdown']['dram_stall'] / t['cycles']:>11.1%}"
        f"{t['breakdown']['fill_drain'] / t['cycles']:>11.1%}"
    )
    a = result.arch
    lines.append(
        f"arch {a['name']}: {a['array_rows']}x{a['array_cols']} {a['dataflow'].upper()}, "
        f"{a['dram_bytes_per_cycle']} B/cycle DRAM, {a['clock_mhz']:g} MHz -> "
        f"{t['time_us'] / 1000:.3f} ms, {t['energy_pj'] / 1e6:.1f} uJ; "
        f"timing: {result.layers[0].timing if result.layers else '-'}"
    )
    return "\n".join(lines)


def cmd_simulate(args: argparse.Namespace) -> int:
    result = _simulate(args)
    if args.json:
        doc = result.to_dict()
        print(json.dumps(doc, indent=1))
    else:
        print(_fmt_table(result))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from accelsim import report

    result = _simulate(args)
    paths = report.write(result, args.out)
    for path in paths:
        print(path)
    return 0


def cmd_layers(args: argparse.Namespace) -> int:
    layers = _workload(args)
    print(
        f"{'#':>3} {'layer':<28}{'N':>3}{'M':>6}{'C':>6}{'H':>5}{'W':>5}{'R':>3}{'S':>3}{'U':>3}{'pad':>4}"
        f"{'grp':>5}{'E':>5}{'F':>5}{'MACs':>15}"
    )
    for i, l in enumerate(layers):
        print(
            f"{i:>3} {l.name[:27]:<28}{l.N:>3}{l.M:>6}{l.C:>6}{l.H:>5}{l.W:>5}{l.R:>3}{l.S:>3}{l.stride:>3}"
            f"{l.pad:>4}{l.groups:>5}{l.E:>5}{l.F:>5}{l.macs:>15,}"
        )
    print(f"total MACs {sum(l.macs for l in layers):,} in {len(layers)} layers")
    return 0


def cmd_cosim(args: argparse.Namespace) -> int:
    layers = _workload(args)
    if args.index is not None:
        require(0 <= args.index < len(layers), "--index", f"in [0, {len(layers)})", args.index)
        layer = layers[args.index]
    else:
        require(len(layers) == 1, "--index", "given when the workload has several layers", None)
        layer = layers[0]
    from accelsim.rtl.cosim import cosim_layer

    res = cosim_layer(
        layer, _arch(args), sim=args.sim, seed=args.seed, waves=args.waves, requantize_shift=args.requantize
    )
    doc = {
        "layer": layer.spec(),
        "outputs_match": res.outputs_match,
        "rtl_cycles": res.rtl_cycles,
        "model_cycles": res.model_cycles,
        "macs": res.macs,
        "wall_seconds": res.wall_seconds,
        "simulator": res.simulator,
    }
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        print(f"{layer.name}: {layer.spec()} on {args.sim}")
        print(f"  outputs bit-exact vs accelsim.kernels: {'yes' if res.outputs_match else 'NO'}")
        print(
            f"  cycles: RTL {res.rtl_cycles:,}  model {res.model_cycles:,}  "
            f"{'equal' if res.rtl_cycles == res.model_cycles else 'DIFFERENT'}"
        )
        print(f"  {res.macs:,} MACs, {res.wall_seconds:.1f} s wall")
    return 0 if res.outputs_match and res.rtl_cycles == res.model_cycles else 1


def cmd_rtl_generate(args: argparse.Namespace) -> int:
    from accelsim.rtl.generate import generate_verilog

    for path in generate_verilog(_arch(args), args.out):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="accelsim", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("simulate", help="cycles, stalls, traffic and utilization per layer")
    _add_workload(s)
    _add_arch(s)
    s.add_argument(
        "--timing",
        choices=["accelsim", "scalesim"],
        default="accelsim",
        help="our microarchitecture (default) or SCALE-Sim 3.0 compatible numbers",
    )
    s.add_argument("--requantize", type=int, metavar="SHIFT", help="store int8 outputs (shift right SHIFT)")
    s.add_argument("--json", action="store_true", help='print {"layers": [...], "totals": {...}}')
    s.set_defaults(func=cmd_simulate)

    r = sub.add_parser("report", help="write layers.csv, summary.json, report.md and PNG plots")
    _add_workload(r)
    _add_arch(r)
    r.add_argument("--timing", choices=["accelsim", "scalesim"], default="accelsim")
    r.add_argument("--requantize", type=int, metavar="SHIFT")
    r.add_argument("--out", type=Path, required=True, metavar="DIR")
    r.set_defaults(func=cmd_report)

    lay = sub.add_parser("layers", help="print a workload's layer table")
    _add_workload(lay)
    lay.set_defaults(func=cmd_layers)

    c = sub.add_parser("cosim", help="run a layer on the RTL; compare outputs and cycles with the model")
    _add_workload(c)
    _add_arch(c)
    c.add_argument("--index", type=int, help="which layer of --network/--topology/--onnx")
    c.add_argument("--sim", choices=["icarus", "verilator"], default="icarus")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--waves", type=Path, metavar="FILE.fst")
    c.add_argument("--requantize", type=int, metavar="SHIFT")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_cosim)

    rtl = sub.add_parser("rtl", help="RTL utilities")
    rsub = rtl.add_subparsers(dest="rtl_command", required=True, parser_class=_Parser)
    gen = rsub.add_parser("generate", help="write the accelerator's Verilog for a configuration")
    _add_arch(gen)
    gen.add_argument("--out", type=Path, required=True, metavar="DIR")
    gen.set_defaults(func=cmd_rtl_generate)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except AccelsimError as err:
        print(f"accelsim: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
