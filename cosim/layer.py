"""Layer co-simulation: run one convolution layer on the RTL and hold it to the kernels and the model.

:func:`cosim_layer` draws random int8 data from ``seed``, lowers the layer (:func:`accelsim.mapping.lower`
/ :func:`~accelsim.mapping.program`), writes ``x`` and ``w`` as the harness's DRAM image and the commands as
its command memory (files the simulator loads with ``$readmemh``, :mod:`accelsim.cosim.sim_memory`), runs
:class:`~accelsim.cosim.harness.Harness` on Icarus or Verilator through
:func:`accelsim.cosim.runner.run_bench` with the bench module :mod:`accelsim.cosim.bench` (which only awaits
``done``: no Python in the per-cycle loop), reads the outputs from the DRAM the simulator saved at the end
and compares them bit-exact with :func:`accelsim.kernels.conv2d` (or
:func:`accelsim.reference.conv2d_numpy` when the kernels are not installed), and the cycle count with
:func:`accelsim.schedule.schedule`'s ``total_cycles``.

Builds are cached by the hash of the generated Verilog under ``$ACCELSIM_BUILD_DIR`` (default
``$XDG_CACHE_HOME/accelsim/rtl`` or ``~/.cache/accelsim/rtl``), so a second layer on the same configuration
reuses the simulator build (DRAM and command memory sizes are rounded up to powers of two for that).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accelsim.arch import ArchConfig
from accelsim.commands import COMMAND_WORDS, Command
from accelsim.errors import AccelsimError, require
from accelsim.layer import ConvLayer
from accelsim.mapping import Mapping, lower, program
from accelsim.reference import requantize
from accelsim.schedule import schedule

BENCH_MODULE = "accelsim.cosim.bench"
MIN_DRAM_BYTES = 1 << 16
MIN_CMD_DEPTH = 1 << 10


@dataclass(frozen=True, slots=True)
class CosimResult:
    """Outcome of one layer on the RTL. ``wall_seconds`` covers everything (build included);
    ``sim_seconds`` only the simulator run from the first command to ``done``, ``sim_cpu_seconds`` the
    simulator process's CPU time over the same span (what other jobs on the machine do not inflate)."""

    outputs_match: bool
    rtl_cycles: int
    model_cycles: int
    macs: int
    wall_seconds: float
    simulator: str
    sim_seconds: float = 0.0
    mismatches: int = 0
    sim_cpu_seconds: float = 0.0

    @property
    def cycles_per_second(self) -> float:
        return self.rtl_cycles / self.sim_seconds if self.sim_seconds > 0 else 0.0

    @property
    def cycles_per_cpu_second(self) -> float:
        return self.rtl_cycles / self.sim_cpu_seconds if self.sim_cpu_seconds > 0 else 0.0


# Simulated PE-cycles per second of wall time (a cycle of an AR x AC design costs about AR*AC times a
# one-PE cycle), from benchmarks/cosim.py on a 2-core AMD EPYC: Verilator ~260 k cycles/s on 16x16,
# Icarus ~10 k on 4x4 and ~0.6 k on 16x16. An estimate within ~2x, for refusing hopeless runs up front.
PE_CYCLES_PER_SECOND = {"verilator": 66_000_000, "icarus": 160_000}
BUILD_SECONDS = {"verilator": 200.0, "icarus": 5.0}  # a first build, conversion included


def estimated_seconds(model_cycles: int, arch: ArchConfig, sim: str) -> float:
    """Rough wall time of co-simulating a layer of ``model_cycles`` on ``sim``, build included."""
    return BUILD_SECONDS[sim] + model_cycles * arch.array_rows * arch.array_cols / PE_CYCLES_PER_SECOND[sim]


def _pow2_at_least(n: int, floor: int) -> int:
    return max(floor, 1 << max(0, (n - 1).bit_length()))


def default_build_root() -> Path:
    if "ACCELSIM_BUILD_DIR" in os.environ:
        return Path(os.environ["ACCELSIM_BUILD_DIR"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "accelsim" / "rtl"


def expected_outputs(layer: ConvLayer, x: np.ndarray, w: np.ndarray,
                     requantize_shift: int | None = None) -> np.ndarray:
    """The golden outputs: accelsim.kernels.conv2d when importable, else the exact numpy oracle."""
    try:
        from accelsim.kernels import conv2d
    except ImportError:
        from accelsim.reference import conv2d_numpy as conv2d
    out = conv2d(x, w, stride=layer.stride, pad=layer.pad, groups=layer.groups)
    return out if requantize_shift is None else requantize(out, requantize_shift)


def layer_data(layer: ConvLayer, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random int8 ``x`` (N, C, H, W) and ``w`` (M, C/groups, R, S) from ``seed``."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=(layer.N, layer.C, layer.H, layer.W), dtype=np.int8)
    w = rng.integers(-128, 128, size=(layer.M, layer.C // layer.groups, layer.R, layer.S), dtype=np.int8)
    return x, w


@functools.lru_cache(maxsize=16)
def harness_verilog(arch: ArchConfig, *, dram_bytes: int, cmd_depth: int) -> str:
    """The Harness's Verilog (memoised: a campaign converts each configuration once per process); build it
    together with :data:`accelsim.cosim.sim_memory.SOURCE`."""
    from accelsim.rtl.params import AccelParams
    from amaranth.back import verilog

    from .harness import Harness

    top = Harness(AccelParams.from_arch(arch), dram_bytes=dram_bytes, cmd_depth=cmd_depth)
    return verilog.convert(top, name="harness", emit_src=False)


@dataclass(frozen=True)
class CosimJob:
    """Everything one run needs: the DRAM image, the commands, where to read back, what the model says."""

    commands: np.ndarray  # (n, COMMAND_WORDS) uint32, the 192-bit words least significant first
    image: np.ndarray  # uint8 DRAM contents from address 0
    read_base: int
    read_len: int
    model_cycles: int
    dram_bytes: int  # DRAM size of the harness (a power of two)
    cmd_depth: int  # command memory depth (a power of two)


def prepare(layer: ConvLayer, arch: ArchConfig, *, seed: int = 0, requantize_shift: int | None = None,
            remap: Callable[[Mapping, list[Command]], list[Command]] | None = None
            ) -> tuple[CosimJob, np.ndarray]:
    """Lower ``layer``, draw its data and build the job; also return the expected outputs. ``remap``, if
    given, rewrites the program (:func:`accelsim.mapping.program`) before it runs, e.g. to place its tiles at
    other rows; the model's cycles are those of the program that runs."""
    require(requantize_shift is None or 0 <= requantize_shift <= 31, "requantize shift", "in [0, 31]",
            requantize_shift)
    mapping = lower(layer, arch)
    prog = program(mapping, requantize_shift=requantize_shift)
    if remap is not None:
        prog = remap(mapping, prog)
    out_bytes = 1 if requantize_shift is not None else 4
    x, w = layer_data(layer, seed)
    want = expected_outputs(layer, x, w, requantize_shift)
    out_len = want.size * out_bytes
    dram_need = mapping.out_base + out_len
    image = np.zeros(dram_need, dtype=np.uint8)
    image[mapping.x_base:mapping.x_base + x.size] = x.reshape(-1).view(np.uint8)
    image[mapping.w_base:mapping.w_base + w.size] = w.reshape(-1).view(np.uint8)
    job = CosimJob(
        commands=np.array([c.words() for c in prog], dtype=np.uint32).reshape(-1, COMMAND_WORDS), image=image,
        read_base=mapping.out_base, read_len=out_len,
        model_cycles=schedule(prog, arch, out_bytes=out_bytes).total_cycles,
        dram_bytes=_pow2_at_least(dram_need, MIN_DRAM_BYTES),
        cmd_depth=_pow2_at_least(len(prog), MIN_CMD_DEPTH),
    )
    return job, want


def run_harness(text: str, job: CosimJob, arch: ArchConfig, *, sim: str = "icarus",
                build_root: Path | None = None, waves: Path | str | None = None, seed: int = 0
                ) -> tuple[np.ndarray, int, float]:
    """Build (cached by the hash of the sources and flags) and run a harness (``text``: Amaranth's Verilog of
    a top ``harness`` with the ports of :class:`~accelsim.cosim.harness.Harness`, which this wraps with
    :func:`~accelsim.cosim.runner.register_inputs`: flops on the inputs and its own clock); return
    (read-back bytes, cycles, seconds from start to done)."""
    data, cycles, res = _run_harness(text, job, arch, sim=sim, build_root=build_root, waves=waves, seed=seed)
    return data, cycles, res["sim_seconds"]


def _run_harness(text: str, job: CosimJob, arch: ArchConfig, *, sim: str, build_root: Path | None,
                 waves: Path | str | None, seed: int) -> tuple[np.ndarray, int, dict]:
    """:func:`run_harness` with the bench's whole result (cycles, sim_seconds, sim_cpu_seconds)."""
    from accelsim.rtl.params import CMD_BITS

    from .harness import COMMAND_MEMORY, DRAM_MEMORY
    from .runner import CLOCK_PERIOD_NS, build_flags, cached_top, register_inputs, run_bench
    from .sim_memory import SOURCE, plusargs, read_dump, write_init

    text = register_inputs(text, "harness", clock_period_ns=CLOCK_PERIOD_NS)
    build_dir, src = cached_top(text, name="harness.v", sim=sim, sources=[SOURCE],
                                flags=build_flags(sim, waves=waves is not None, public_internals=False,
                                                  timing=True),
                                build_root=Path(build_root or default_build_root()))
    with tempfile.TemporaryDirectory(prefix="accelsim-cosim-") as tmp:
        tmp = Path(tmp)
        n_cmd = write_init(tmp / "cmd.hex", job.commands, width=CMD_BITS, depth=job.cmd_depth)
        n_dram = write_init(tmp / "dram.hex", job.image, width=8, depth=job.dram_bytes)
        n_dump = max(n_dram, job.read_base + job.read_len)  # the saved DRAM: up to the last byte read back
        result = tmp / "result.json"
        tests, failed = run_bench(
            sim=sim, verilog_sources=[src, SOURCE], toplevel="harness", test_module=BENCH_MODULE,
            build_dir=build_dir,
            extra_env={"ACCELSIM_COSIM_JOB": json.dumps({"count": len(job.commands),
                                                         "timeout_cycles": 2 * job.model_cycles + 10_000}),
                       "ACCELSIM_COSIM_RESULT": str(result)},
            plusargs=[*plusargs(COMMAND_MEMORY, init=tmp / "cmd.hex", init_words=n_cmd),
                      *plusargs(DRAM_MEMORY, init=tmp / "dram.hex", init_words=n_dram,
                                dump=tmp / "dram.out.hex", dump_words=n_dump)],
            waves=waves is not None, seed=seed, quiet=True, public_internals=False, timing=True,
        )
        if failed or not result.exists() or not (tmp / "dram.out.hex").exists():
            raise AccelsimError(f"co-simulation bench must pass, not fail ({failed} of {tests} failed; "
                                f"log in {build_dir})")
        res = json.loads(result.read_text())
        dram = read_dump(tmp / "dram.out.hex")
        out = (dram[job.read_base:job.read_base + job.read_len].copy(), int(res["cycles"]), res)
    if waves is not None:
        _copy_waves(build_dir, Path(waves))
    return out


def cosim_layer(layer: ConvLayer, arch: ArchConfig, *, sim: str = "icarus", seed: int = 0,
                waves: Path | str | None = None, requantize_shift: int | None = None,
                build_root: Path | None = None, commands: list[Command] | None = None) -> CosimResult:
    """Run ``layer`` on the RTL and compare outputs (bit-exact) and cycles with the model; ``commands``
    replaces the fixed lowering's program (e.g. a searched mapping's, accelsim.mapper.nest.commands)."""
    t0 = time.perf_counter()
    remap = None if commands is None else (lambda _m, _p: commands)
    job, want = prepare(layer, arch, seed=seed, requantize_shift=requantize_shift, remap=remap)
    text = harness_verilog(arch, dram_bytes=job.dram_bytes, cmd_depth=job.cmd_depth)
    got_bytes, rtl_cycles, res = _run_harness(text, job, arch, sim=sim, build_root=build_root, waves=waves,
                                              seed=seed)
    dtype = np.int8 if requantize_shift is not None else np.dtype("<i4")
    got = got_bytes.view(dtype).reshape(want.shape)
    mismatches = int(np.count_nonzero(got != want))
    return CosimResult(
        outputs_match=mismatches == 0, rtl_cycles=rtl_cycles, model_cycles=job.model_cycles, macs=layer.macs,
        wall_seconds=time.perf_counter() - t0, simulator=sim, sim_seconds=float(res["sim_seconds"]),
        mismatches=mismatches, sim_cpu_seconds=float(res["sim_cpu_seconds"]),
    )


def _copy_waves(build_dir: Path, dest: Path) -> None:
    found = sorted(build_dir.glob("*.fst")) + sorted(build_dir.glob("*.vcd"))
    require(bool(found), "waves", f"written by the simulator into {build_dir}", None)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(max(found, key=lambda p: p.stat().st_mtime), dest)


__all__ = [
    "CosimJob", "CosimResult", "cosim_layer", "default_build_root", "expected_outputs", "layer_data",
    "prepare", "run_harness",
]
