"""`accelsim`: simulate a layer or network, generate reports, co-simulate the RTL.

Bad input prints one line (``accelsim: error: ...``) to stderr and exits 2; never a traceback. Inputs are
validated where they are loaded (:mod:`accelsim.inputs` reads user files with a size limit); what is left,
an operating-system error on some file or on standard output, is turned into one line by :func:`main`.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import NoReturn

from accelsim import __version__, outdir
from accelsim import arch as arch_mod
from accelsim.arch import ArchConfig, Dataflow
from accelsim.errors import AccelsimError, require
from accelsim.layer import ConvLayer
from accelsim.mapper.cli import MAPPER_HELP, MAPPERS, add_mapping_option, add_search_options, mapping_option
from accelsim.mapper.cli import add_parser as add_map_parser
from accelsim.result import Timing

# What `cosim` and `rtl generate` import, and how to get it (the `rtl` extra of pyproject.toml).
RTL_EXTRA = {"cosim": ("amaranth", "cocotb"), "rtl": ("amaranth",)}
RTL_INSTALL = "pip install 'accelsim[rtl]' in this environment, or run bash scripts/test.sh, which sets it up"
SEED_LIMIT = 1 << 32  # cocotb and numpy both take a 32-bit seed


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2 (argparse prints usage + message)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _path(text: str) -> Path:
    """argparse type of every path option: ``Path("")`` would be the working directory, so refuse it."""
    if not text or "\0" in text:
        raise argparse.ArgumentTypeError(f"must be a non-empty path without NUL bytes, not {text!r}")
    return Path(text)


def _add_workload(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    from accelsim.workloads import ZOO_NAMES

    g = p.add_mutually_exclusive_group(required=required)
    g.add_argument("--network", metavar="NAME", help=f"a built-in network ({', '.join(ZOO_NAMES)})")
    g.add_argument("--topology", metavar="FILE.csv", type=_path, help="a SCALE-Sim topology CSV")
    g.add_argument("--onnx", metavar="FILE", type=_path, help="an ONNX model (Conv, Gemm and MatMul layers)")
    g.add_argument(
        "--layer",
        metavar="SPEC",
        help='one layer, e.g. "N=1,M=64,C=64,H=56,W=56,R=3,S=3,stride=1,pad=1,groups=1"',
    )


def _add_arch(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--arch", metavar="FILE.toml", type=_path, help="an accelerator configuration (TOML)")
    g.add_argument(
        "--preset",
        metavar="NAME",
        help=f"a shipped configuration: {', '.join(arch_mod.preset_names())} (default: gemmini)",
    )
    g.add_argument("--scalesim-cfg", metavar="FILE.cfg", type=_path, help="a SCALE-Sim .cfg file")
    p.add_argument("--dataflow", choices=[d.value for d in Dataflow], help="override the dataflow")


def _workload(args: argparse.Namespace) -> tuple[ConvLayer, ...]:
    from accelsim import workloads

    if args.layer is not None:
        return (ConvLayer.parse(args.layer),)
    if args.network is not None:
        return workloads.load(args.network)
    if args.topology is not None:  # the option says which loader, whatever the file is called
        return workloads.load_scalesim_csv(args.topology)
    return workloads.load_onnx(args.onnx)


def _arch(args: argparse.Namespace) -> ArchConfig:
    if getattr(args, "scalesim_cfg", None) is not None:
        from accelsim.scalesim import arch_from_scalesim_cfg

        scalesim_timing = getattr(args, "timing", None) == Timing.SCALESIM.value
        cfg = arch_from_scalesim_cfg(args.scalesim_cfg, for_scalesim_timing=scalesim_timing)
    elif args.arch is not None:
        cfg = arch_mod.load(args.arch)
    else:
        cfg = arch_mod.preset("gemmini" if args.preset is None else args.preset)
    return cfg.with_dataflow(args.dataflow)


def _simulate(args: argparse.Namespace, *, dataflow: Dataflow | None = None):
    """Simulate the arguments' workload on their configuration (in ``dataflow`` if given)."""
    from accelsim.sim import simulate_network

    timing = Timing(args.timing)
    _check_requantize(args)
    if timing is Timing.SCALESIM:
        require(args.requantize is None, "--requantize", "unset with --timing scalesim", args.requantize)
    arch = _arch(args)
    if dataflow is not None:
        arch = arch.with_dataflow(dataflow.value)
    what = mapping_option(args)
    if what is not None:
        from accelsim.mapper.cli import mapping_nests, search_args
        from accelsim.mapper.nest import evaluate_nest
        from accelsim.result import NetworkResult
        from accelsim.sim import simulate_layer

        require(timing is Timing.ACCELSIM, what, "used with --timing accelsim", timing.value)
        require(args.host == "fixed", what, "used with --host fixed (the firmware runs the fixed lowering)",
                args.host)
        layers = _workload(args)
        if args.mapping is None:  # the search evaluated each layer's mapping already
            return NetworkResult(arch=arch, layers=tuple(m.result for m in search_args(args, layers, arch)))
        nests = mapping_nests(args, layers, arch)
        return NetworkResult(arch=arch, layers=tuple(
            simulate_layer(layer, arch, requantize_shift=args.requantize) if nest is None else
            evaluate_nest(layer, arch, nest, requantize_shift=args.requantize)
            for layer, nest in zip(layers, nests, strict=True)))
    return simulate_network(_workload(args), arch, timing=timing, requantize_shift=args.requantize,
                            host=getattr(args, "host", "fixed"))


def _check_requantize(args: argparse.Namespace) -> None:
    shift = args.requantize
    require(shift is None or 0 <= shift <= 31, "requantize shift", "in [0, 31]", shift)


def _json(doc: object) -> str:
    """Strict JSON: a NaN or infinity (never produced by a valid run) is an error, not ``Infinity``."""
    try:
        return json.dumps(doc, indent=1, allow_nan=False)
    except ValueError:
        raise AccelsimError("results must be finite numbers, not NaN or infinity (a bug: please report "
                            "the command)") from None


# The table's numeric columns: header and width; every cell starts with a space, so wide numbers never touch.
_COLUMNS = (("MACs", 19), ("cycles", 16), ("util", 6), ("map.eff", 7), ("DRAM rd B", 17), ("DRAM wr B", 15),
            ("dram stall", 10), ("host stall", 10), ("fill/drain", 10))


def _row(label: str, *cells: str) -> str:
    return f"{label[:27]:<28}" + "".join(f" {cell:>{width}}" for cell, (_, width) in zip(cells, _COLUMNS,
                                                                                       strict=True))


def _table_lines(result):
    """The layer table, a line at a time (a 100 k-layer topology never builds it whole)."""
    head = _row("layer", *(name for name, _ in _COLUMNS))
    yield head
    yield "-" * len(head)
    for r in result.layers:
        yield _row(r.name, f"{r.macs:,}", f"{r.cycles:,}", f"{r.utilization:.1%}",
                   f"{r.mapping_efficiency:.1%}", f"{r.dram_read_bytes:,}", f"{r.dram_write_bytes:,}",
                   f"{r.breakdown.dram_stall / r.cycles:.1%}", f"{r.breakdown.host_stall / r.cycles:.1%}",
                   f"{r.breakdown.fill_drain / r.cycles:.1%}")
    t = result.totals
    yield "-" * len(head)
    yield _row(f"total ({t.layers} layers)", f"{t.macs:,}", f"{t.cycles:,}", f"{t.utilization:.1%}", "",
               f"{t.dram_read_bytes:,}", f"{t.dram_write_bytes:,}",
               f"{t.breakdown.dram_stall / t.cycles:.1%}", f"{t.breakdown.host_stall / t.cycles:.1%}",
               f"{t.breakdown.fill_drain / t.cycles:.1%}")
    a = result.arch
    timing = result.layers[0].timing if result.layers else None
    # SCALE-Sim's CALC mode (the one --timing scalesim reproduces) sizes DRAM to never stall: no bandwidth.
    dram = f"{a.dram_bytes_per_cycle} B/cycle DRAM"
    if timing is Timing.SCALESIM:
        dram = "CALC DRAM (never stalls)"
    yield (
        f"arch {a.name}: {a.grid_text}, {dram}, {a.clock_mhz:g} MHz -> "
        f"{t.time_us / 1000:.3f} ms, {t.energy_pj / 1e6:.1f} uJ, area {result.area.area:,.0f} LUT4-eq (iCE40 "
        f"estimate); timing: {timing.value if timing else '-'}"
    )


def _json_lines(result):
    """``_json(result.to_dict())`` a layer at a time (the same text, never the whole document in memory)."""
    def nested(doc: object) -> str:  # a value at depth 2, as json.dumps(..., indent=1) writes it there
        return _json(doc).replace("\n", "\n  ")

    yield "{"
    yield f' "arch": {_json(result.arch.to_dict()).replace(chr(10), chr(10) + " ")},'
    if result.layers:
        yield ' "layers": ['
        last = len(result.layers) - 1
        for i, r in enumerate(result.layers):
            yield f"  {nested(r.to_dict())}{',' if i < last else ''}"
        yield " ],"
    else:
        yield ' "layers": [],'
    yield f' "totals": {_json(result.totals.to_dict()).replace(chr(10), chr(10) + " ")},'
    yield f' "area": {_json(result.area.to_dict()).replace(chr(10), chr(10) + " ")}'
    yield "}"


def cmd_simulate(args: argparse.Namespace) -> int:
    result = _simulate(args)
    for line in (_json_lines if args.json else _table_lines)(result):
        print(line)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from accelsim import report

    require(args.mapping is None or not args.compare_dataflows, "--compare-dataflows",
            "used without --mapping (the file's nests are for one dataflow each)", "--mapping")
    out = outdir.OutputDir(args.out, force=args.force)  # refuse before simulating
    result = _simulate(args)
    compare = None
    if args.compare_dataflows:
        compare = {df: result if df is result.arch.dataflow else _simulate(args, dataflow=df)
                   for df in Dataflow}
    paths = report.write(result, out, compare=compare)
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
    require(0 <= args.seed < SEED_LIMIT, "--seed", "in [0, 2**32)", args.seed)
    _check_requantize(args)
    if args.waves is not None:
        outdir.check_file_target(args.waves, "--waves")
        require(args.host == "fetcher" and not args.all, "--waves", "used with one layer and --host fetcher",
                "given")
    layers = _workload(args)
    if args.all:
        require(args.index is None, "--index", "unset with --all", args.index)
    elif args.index is not None:
        require(0 <= args.index < len(layers), "--index", f"in [0, {len(layers)})", args.index)
        layers = (layers[args.index],)
    else:
        require(len(layers) == 1, "--index", "given when the workload has several layers (or pass --all)",
                None)
    from accelsim.cosim.layer import cosim_layer, estimated_seconds
    from accelsim.mapping import lower
    from accelsim.rtl.params import AccelParams
    from accelsim.schedule import schedule_fast

    arch = _arch(args)
    AccelParams.from_arch(arch)  # what the RTL cannot build is refused before any work
    require(args.max_minutes > 0, "--max-minutes", "positive", args.max_minutes)
    cycles = sum(schedule_fast(lower(layer, arch), arch).total_cycles for layer in layers)
    # one build (estimated_seconds counts it once), then every layer's simulation
    minutes = estimated_seconds(cycles, arch, args.sim) / 60
    what = f"layer {layers[0].name}" if len(layers) == 1 else f"{len(layers)} layers"
    require(minutes <= args.max_minutes, f"co-simulation of {what} ({cycles:,} cycles on a "
            f"{arch.array_rows}x{arch.array_cols} array, {args.sim})", f"estimated at most --max-minutes "
            f"{args.max_minutes:g} (try --sim verilator, a smaller layer or a larger --max-minutes)",
            f"~{minutes:,.0f} min")
    docs, ok = [], True
    nests = [None] * len(layers)
    what = mapping_option(args)
    if what is not None:
        from accelsim.mapper.cli import mapping_nests

        require(args.host == "fetcher", what,
                "used with --host fetcher (the firmware runs the fixed lowering)", args.host)
        nests = mapping_nests(args, layers, arch)
    if args.host == "riscv":
        from accelsim.cosim.host_layer import cosim_layer_host, dram_bytes_for

        dram_bytes = dram_bytes_for(layers, arch, args.requantize)  # one SoC build for every layer
    for layer, nest in zip(layers, nests, strict=True):
        if args.host == "riscv":
            res = cosim_layer_host(layer, arch, sim=args.sim, seed=args.seed,
                                   requantize_shift=args.requantize, dram_bytes=dram_bytes)
        elif nest is not None:
            from accelsim.mapper.nest import commands

            prog = commands(layer, arch, nest, requantize_shift=args.requantize)
            res = cosim_layer(layer, nest.arch(arch), sim=args.sim, seed=args.seed, waves=args.waves,
                              requantize_shift=args.requantize, commands=prog)
        else:
            res = cosim_layer(layer, arch, sim=args.sim, seed=args.seed, waves=args.waves,
                              requantize_shift=args.requantize)
        doc = {"name": layer.name, "layer": layer.spec(), "host": args.host,
               **({"mapping": nest.to_dict()} if nest is not None else {}),
               "outputs_match": res.outputs_match, "rtl_cycles": res.rtl_cycles,
               "model_cycles": res.model_cycles, "macs": res.macs, "wall_seconds": res.wall_seconds,
               "simulator": res.simulator}
        if args.host == "riscv":
            doc["host_instructions"] = res.host_instructions
        docs.append(doc)
        ok &= res.outputs_match and res.rtl_cycles == res.model_cycles
        if not args.json:
            print(f"{layer.name}: {layer.spec()} on {args.sim}, host {args.host}"
                  + (f", mapping {nest.describe()}" if nest is not None else ""))
            print(f"  outputs bit-exact vs accelsim.kernels: {'yes' if res.outputs_match else 'NO'}")
            print(f"  cycles: RTL {res.rtl_cycles:,}  model {res.model_cycles:,}  "
                  f"{'equal' if res.rtl_cycles == res.model_cycles else 'DIFFERENT'}")
            extra = f", {res.host_instructions:,} host instructions" if args.host == "riscv" else ""
            print(f"  {res.macs:,} MACs{extra}, {res.wall_seconds:.1f} s wall")
    total = {"layers": len(docs), "rtl_cycles": sum(d["rtl_cycles"] for d in docs),
             "model_cycles": sum(d["model_cycles"] for d in docs),
             "outputs_match": all(d["outputs_match"] for d in docs)}
    if args.json:
        print(_json(docs[0] if len(docs) == 1 and not args.all else {"layers": docs, "total": total}))
    elif args.all:
        print(f"total ({total['layers']} layers): RTL {total['rtl_cycles']:,} cycles, model "
              f"{total['model_cycles']:,}: {'equal' if ok else 'DIFFERENT'}")
    return 0 if ok else 1


def cmd_rtl_generate(args: argparse.Namespace) -> int:
    import tempfile

    from accelsim.rtl.generate import generate_verilog

    arch = _arch(args)
    out = outdir.OutputDir(args.out, force=args.force)  # refuse before generating
    # generate_verilog writes into a directory: let it write into a private one, then move the files
    # into --out through OutputDir (atomic, never through a symlink, never over a file not ours).
    with tempfile.TemporaryDirectory(prefix="accelsim-rtl-") as tmp:
        files = {path.name: path.read_bytes() for path in generate_verilog(arch, tmp)}
    for path in out.write_all(files):
        print(path)
    return 0


def cmd_rtl_run(args: argparse.Namespace) -> int:
    """Run a bare-metal RV32IM program on the RTL SoC; the program's console output and exit code."""
    missing = [name for name in ("cocotb", "elftools") if importlib.util.find_spec(name) is None]
    require(not missing, f"accelsim rtl run needs {', '.join(missing)}", f"installed ({RTL_INSTALL})",
            "missing")
    require(args.max_cycles >= 1, "--max-cycles", ">= 1", args.max_cycles)
    from accelsim.cosim.soc import load_elf, run_programs
    from accelsim.rtl.params import AccelParams

    params = AccelParams.from_arch(_arch(args))
    image = load_elf(args.elf)
    res = run_programs([image], params, sim=args.sim, max_cycles=args.max_cycles)[0]
    res.check(repr(str(args.elf)), args.max_cycles)
    if args.json:
        print(_json({"exit_code": res.exit_code, "stdout": res.stdout, "cycles": res.cycles,
                     "instret": res.instret}))
    else:
        sys.stdout.write(res.stdout)
    code = res.exit_code & 0xFF  # a process status is a byte; a non-zero code never becomes success
    return code if code or res.exit_code == 0 else 1


def cmd_firmware_build(args: argparse.Namespace) -> int:
    """Compile C programs with the project's crt0, linker script, stdio and accel.h (accelsim.host.build)."""
    from accelsim.host.build import BuildError, build

    out = outdir.check_file_target(args.out, "-o")
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        build(args.sources, out, ram_bytes=args.ram_bytes)
    except BuildError as err:  # the compiler's own message, then the one line of main()
        sys.stderr.write(err.output)
        raise
    print(out)
    return 0


HOST_HELP = ("fixed: a command every host_issue_cycles (default; fast, for sweeps); riscv: the layer driver "
             "firmware runs on the RV32IM host model, its time included (needs the RISC-V toolchain)")
TIMING_HELP = "accelsim: our microarchitecture (default); scalesim: SCALE-Sim 3.0 compatible numbers"
REQUANTIZE_HELP = "store int8 outputs, each int32 sum shifted right by SHIFT (0-31); default: int32 outputs"
FORCE_HELP = "write into DIR even if it holds files accelsim did not write (replacing those it writes)"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="accelsim", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"accelsim {__version__}",
                   help="print the version and exit")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("simulate", help="cycles, stalls, traffic and utilization per layer")
    _add_workload(s)
    _add_arch(s)
    s.add_argument("--timing", choices=[t.value for t in Timing], default=Timing.ACCELSIM.value,
                   help=TIMING_HELP)
    s.add_argument("--requantize", type=int, metavar="SHIFT", help=REQUANTIZE_HELP)
    s.add_argument("--json", action="store_true", help='print {"arch": ..., "layers": [...], "totals": ...}')
    s.add_argument("--host", choices=["fixed", "riscv"], default="fixed", help=HOST_HELP)
    s.add_argument("--mapper", choices=MAPPERS, default="fixed", help=MAPPER_HELP)
    add_mapping_option(s)
    add_search_options(s)
    s.set_defaults(func=cmd_simulate)

    r = sub.add_parser("report", help="write layers.csv, summary.json, report.md and PNG plots")
    _add_workload(r)
    _add_arch(r)
    r.add_argument("--timing", choices=[t.value for t in Timing], default=Timing.ACCELSIM.value,
                   help=TIMING_HELP)
    r.add_argument("--requantize", type=int, metavar="SHIFT", help=REQUANTIZE_HELP)
    r.add_argument("--host", choices=["fixed", "riscv"], default="fixed", help=HOST_HELP)
    r.add_argument("--mapper", choices=MAPPERS, default="fixed", help=MAPPER_HELP)
    add_mapping_option(r)
    add_search_options(r)
    r.add_argument("--out", type=_path, required=True, metavar="DIR",
                   help="directory to write into: new, empty, or written by accelsim before")
    r.add_argument("--force", action="store_true", help=FORCE_HELP)
    r.add_argument("--compare-dataflows", action="store_true",
                   help="also simulate WS, OS and IS on the same configuration: dataflows.csv, dataflows.png")
    r.set_defaults(func=cmd_report)

    lay = sub.add_parser("layers", help="print a workload's layer table")
    _add_workload(lay)
    lay.set_defaults(func=cmd_layers)

    c = sub.add_parser("cosim", help="run a layer on the RTL; compare outputs and cycles with the model")
    _add_workload(c)
    _add_arch(c)
    c.add_argument("--index", type=int, help="which layer of --network/--topology/--onnx (from 0)")
    c.add_argument("--sim", choices=["icarus", "verilator"], default="icarus",
                   help="Verilog simulator (default: icarus; verilator is faster on big layers)")
    c.add_argument("--seed", type=int, default=0,
                   help="seed of the random int8 inputs and weights, in [0, 2**32) (default 0)")
    c.add_argument("--waves", type=_path, metavar="FILE.fst",
                   help="also write the simulation's waveforms to this file")
    c.add_argument("--requantize", type=int, metavar="SHIFT", help=REQUANTIZE_HELP)
    c.add_argument("--max-minutes", type=float, default=60.0, metavar="MIN",
                   help="refuse up front a run estimated to take longer (default 60)")
    c.add_argument("--json", action="store_true", help="print the outcome as JSON")
    c.add_argument("--host", choices=["fetcher", "riscv"], default="fetcher",
                   help="fetcher: commands from a command memory every host_issue_cycles (default); riscv: "
                        "the layer driver firmware on the SoC's RV32IM core issues them (docs/host.md)")
    c.add_argument("--all", action="store_true", help="every layer of the workload, with the total")
    c.add_argument("--mapper", choices=MAPPERS, default="fixed", help=MAPPER_HELP)
    add_mapping_option(c)
    add_search_options(c)
    c.set_defaults(func=cmd_cosim)

    rtl = sub.add_parser("rtl", help="RTL utilities")
    rsub = rtl.add_subparsers(dest="rtl_command", required=True, parser_class=_Parser)
    gen = rsub.add_parser("generate", help="write the accelerator's Verilog for a configuration")
    _add_arch(gen)
    gen.add_argument("--out", type=_path, required=True, metavar="DIR",
                     help="directory to write accelerator.v and accelerator.json into")
    gen.add_argument("--force", action="store_true", help=FORCE_HELP)
    gen.set_defaults(func=cmd_rtl_generate)
    run = rsub.add_parser("run", help="run a bare-metal RV32IM program (ELF) on the RTL SoC")
    run.add_argument("--elf", type=_path, required=True, metavar="OUT.elf",
                     help="the program (32-bit RISC-V, linked at the RAM base; accelsim firmware build)")
    run.add_argument("--sim", choices=["icarus", "verilator"], default="icarus",
                     help="Verilog simulator (default: icarus)")
    run.add_argument("--max-cycles", type=int, default=10_000_000, metavar="N",
                     help="stop with an error if the program has not written EXIT after N cycles "
                          "(default 10,000,000)")
    run.add_argument("--json", action="store_true",
                     help='print {"exit_code", "stdout", "cycles", "instret"} instead of the console output')
    _add_arch(run)
    run.set_defaults(func=cmd_rtl_run)
    from accelsim.host.soc_map import RAM_BYTES_DEFAULT

    fw = sub.add_parser("firmware", help="RISC-V host firmware")
    fsub = fw.add_subparsers(dest="firmware_command", required=True, parser_class=_Parser)
    fb = fsub.add_parser("build", help="compile C programs into an ELF for the host (rv32im, picolibc)")
    fb.add_argument("sources", nargs="+", type=_path, metavar="SRC.c", help="C (or assembly) sources")
    fb.add_argument("-o", dest="out", type=_path, required=True, metavar="OUT.elf", help="the ELF to write")
    fb.add_argument("--ram-bytes", type=int, default=RAM_BYTES_DEFAULT, metavar="BYTES",
                    help=f"RAM size the program is linked for, a power of two (default {RAM_BYTES_DEFAULT})")
    fb.set_defaults(func=cmd_firmware_build)
    from accelsim.sweep.cli import add_parser as add_sweep_parser
    add_sweep_parser(sub)
    add_map_parser(sub, _add_workload, _add_arch, REQUANTIZE_HELP)
    return p


@functools.cache
def _parser() -> argparse.ArgumentParser:
    """The one parser (parse_args keeps no state in it; building it costs more than most commands)."""
    return build_parser()


def _check_extra(command: str) -> None:
    """`cosim` and `rtl` need the rtl extra: say how to install it before doing any work."""
    missing = [name for name in RTL_EXTRA.get(command, ()) if importlib.util.find_spec(name) is None]
    require(not missing, f"accelsim {command} needs the rtl extra: {', '.join(missing)}",
            f"installed ({RTL_INSTALL})", "missing")


def _silence_stdout() -> None:
    """After standard output failed, send what is still buffered to /dev/null so that the interpreter's
    final flush cannot fail again (and print a traceback) on the way out."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture): nothing to flush
        pass


def _os_error(err: OSError) -> str:
    """One line for an OSError nothing more specific caught: the file it names, or standard output."""
    if err.filename is None:
        return f"standard output must be writable, not failing ({err.strerror or err})"
    return f"file {os.fsdecode(err.filename)!r} must be accessible, not failing ({err.strerror or err})"


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv``; return the exit status: 0 done, 1 co-simulation mismatch, 2 error
    (130 interrupted)."""
    try:
        args = _parser().parse_args(argv)
        _check_extra(args.command)
        code = args.func(args)
        sys.stdout.flush()
        return code
    except SystemExit as exit_:  # argparse: --help, --version (0) or a usage error (2, already printed)
        return exit_.code if isinstance(exit_.code, int) else 2
    except BrokenPipeError:  # `accelsim ... | head`: the reader has all it wanted
        _silence_stdout()
        return 0
    except KeyboardInterrupt:  # Ctrl-C: no traceback either
        print("accelsim: interrupted", file=sys.stderr)
        return 130
    except (AccelsimError, OSError, UnicodeError, RecursionError, MemoryError) as err:
        if isinstance(err, AccelsimError):
            message = str(err)
        elif isinstance(err, OSError):
            message = _os_error(err)
            if err.filename is None:
                _silence_stdout()
        elif isinstance(err, UnicodeError):
            message = f"input must be valid UTF-8 text, not undecodable ({err})"
        else:
            message = f"input must be of a size accelsim can hold, not this large ({type(err).__name__})"
        print(f"accelsim: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
