"""Layer co-simulation: run one convolution layer on the RTL and hold it to the kernels and the model.

:func:`cosim_layer` draws random int8 data from ``seed``, lowers the layer (:func:`accelsim.mapping.lower` /
:func:`~accelsim.mapping.program`), places ``x`` and ``w`` in the harness's DRAM and the commands in its
command memory up front, runs :class:`~accelsim.cosim.harness.Harness` on Icarus or Verilator through
:func:`accelsim.cosim.runner.run_bench` with the bench module :mod:`accelsim.cosim.bench` (which only awaits
``done``: no Python in the per-cycle loop), reads the outputs back and compares them bit-exact with
:func:`accelsim.kernels.conv2d` (or :func:`accelsim.reference.conv2d_numpy` when the kernels are not
installed), and the cycle count with :func:`accelsim.timing.schedule`'s ``total_cycles``.

Builds are cached by the hash of the generated Verilog under ``$ACCELSIM_BUILD_DIR`` (default
``$XDG_CACHE_HOME/accelsim/rtl`` or ``~/.cache/accelsim/rtl``), so a second layer on the same configuration
reuses the simulator build (DRAM and command memory sizes are rounded up to powers of two for that).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accelsim.arch import ArchConfig
from accelsim.errors import AccelsimError, require
from accelsim.layer import ConvLayer
from accelsim.mapping import lower, program
from accelsim.reference import requantize
from accelsim.timing import schedule

BENCH_MODULE = "accelsim.cosim.bench"
MIN_DRAM_BYTES = 1 << 16
MIN_CMD_DEPTH = 1 << 10


@dataclass(frozen=True, slots=True)
class CosimResult:
    """Outcome of one layer on the RTL. ``wall_seconds`` covers everything (build included);
    ``sim_seconds`` only the simulator run from the first command to ``done``."""

    outputs_match: bool
    rtl_cycles: int
    model_cycles: int
    macs: int
    wall_seconds: float
    simulator: str
    sim_seconds: float = 0.0
    mismatches: int = 0

    @property
    def cycles_per_second(self) -> float:
        return self.rtl_cycles / self.sim_seconds if self.sim_seconds > 0 else 0.0


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
    """The Harness's Verilog (memoised: a campaign converts each configuration once per process).

    Every memory of the harness starts all-zero. Amaranth describes that initial content bit by bit
    (a ``$meminit`` cell per memory), which for a MB-sized simulated DRAM took 40 s of a 45 s conversion;
    here the all-zero ones are left out of the netlist and zeroed by a loop in an ``initial`` block instead
    (:func:`_zero_loops`) -- the same contents at time 0 in Icarus and Verilator."""
    from accelsim.rtl.params import AccelParams
    from amaranth.back import verilog

    from .harness import Harness

    top = Harness(AccelParams.from_arch(arch), dram_bytes=dram_bytes, cmd_depth=cmd_depth)
    with _without_zero_meminit():
        text = verilog.convert(top, name="harness")
    return _zero_loops(text)


@contextlib.contextmanager
def _without_zero_meminit():
    from amaranth.back import rtlil

    original = rtlil.ModuleEmitter.emit_memory

    def emit_memory(self, cell_idx, cell):
        if any(cell.init):
            original(self, cell_idx, cell)

    rtlil.ModuleEmitter.emit_memory = emit_memory
    try:
        yield
    finally:
        rtlil.ModuleEmitter.emit_memory = original


_MEMORY_DECL = re.compile(r"^(\s*)reg \[(\d+):0\] (\\\S+ |\w+) \[(\d+):0\];$", re.M)


def _zero_loops(text: str) -> str:
    """After every memory declaration without an initial content, an ``initial`` loop that zeroes it."""
    out, pos, n = [], 0, 0
    for m in _MEMORY_DECL.finditer(text):
        indent, _, name, last = m.groups()
        out.append(text[pos:m.end()])
        pos = m.end()
        if f"{name}[0] = " in text:  # Amaranth gave it contents: leave them
            continue
        out.append(f"\n{indent}initial begin : zero_init_{n}\n{indent}  integer i;\n"
                   f"{indent}  for (i = 0; i <= {last}; i = i + 1) {name}[i] = 0;\n{indent}end")
        n += 1
    out.append(text[pos:])
    return "".join(out)


@dataclass(frozen=True)
class CosimJob:
    """Everything one run needs: the DRAM image, the commands, where to read back, what the model says."""

    commands: np.ndarray  # (n, 4) uint32, the 128-bit words least significant first
    image: np.ndarray  # uint8 DRAM contents from address 0
    read_base: int
    read_len: int
    model_cycles: int
    dram_bytes: int  # DRAM size of the harness (a power of two)
    cmd_depth: int  # command memory depth (a power of two)


def prepare(layer: ConvLayer, arch: ArchConfig, *, seed: int = 0, requantize_shift: int | None = None
            ) -> tuple[CosimJob, np.ndarray]:
    """Lower ``layer``, draw its data and build the job; also return the expected outputs."""
    require(requantize_shift is None or 0 <= requantize_shift <= 31, "requantize shift", "in [0, 31]",
            requantize_shift)
    mapping = lower(layer, arch)
    prog = program(mapping, requantize_shift=requantize_shift)
    out_bytes = 1 if requantize_shift is not None else 4
    x, w = layer_data(layer, seed)
    want = expected_outputs(layer, x, w, requantize_shift)
    out_len = want.size * out_bytes
    dram_need = mapping.out_base + out_len
    image = np.zeros(dram_need, dtype=np.uint8)
    image[mapping.x_base:mapping.x_base + x.size] = x.reshape(-1).view(np.uint8)
    image[mapping.w_base:mapping.w_base + w.size] = w.reshape(-1).view(np.uint8)
    job = CosimJob(
        commands=np.array([c.words() for c in prog], dtype=np.uint32).reshape(-1, 4), image=image,
        read_base=mapping.out_base, read_len=out_len,
        model_cycles=schedule(prog, arch, out_bytes=out_bytes).total_cycles,
        dram_bytes=_pow2_at_least(dram_need, MIN_DRAM_BYTES),
        cmd_depth=_pow2_at_least(len(prog), MIN_CMD_DEPTH),
    )
    return job, want


def run_harness(text: str, job: CosimJob, arch: ArchConfig, *, sim: str = "icarus",
                build_root: Path | None = None, waves: Path | str | None = None, seed: int = 0
                ) -> tuple[np.ndarray, int, float]:
    """Build (cached by the Verilog's hash) and run a harness; return (read-back bytes, cycles, seconds
    from start to done)."""
    from .runner import VERILATOR_BUILD_ARGS, run_bench

    flags = repr(VERILATOR_BUILD_ARGS) if sim == "verilator" else ""
    digest = hashlib.sha256((text + flags).encode()).hexdigest()[:16]
    build_dir = Path(build_root or default_build_root()) / f"{sim}-{digest}"
    build_dir.mkdir(parents=True, exist_ok=True)
    src = build_dir / "harness.v"
    if not src.exists() or src.read_text() != text:
        src.write_text(text)
    with tempfile.TemporaryDirectory(prefix="accelsim-cosim-") as tmp:
        job_file, result = Path(tmp) / "job.npz", Path(tmp) / "result.npz"
        np.savez(job_file, image=job.image, commands=job.commands, out_base=job.read_base,
                 out_len=job.read_len,
                 timeout_cycles=2 * job.model_cycles + 10_000,
                 meta=json.dumps({"bw": arch.dram_bytes_per_cycle, "latency": arch.dram_latency_cycles}))
        tests, failed = run_bench(
            sim=sim, verilog_sources=[src], toplevel="harness", test_module=BENCH_MODULE, build_dir=build_dir,
            extra_env={"ACCELSIM_COSIM_JOB": str(job_file), "ACCELSIM_COSIM_RESULT": str(result)},
            waves=waves is not None, seed=seed, quiet=True, public_internals=False,
        )
        if failed or not result.exists():
            raise AccelsimError(f"co-simulation bench must pass, not fail ({failed} of {tests} failed; "
                                f"log in {build_dir})")
        res = np.load(result)
        out = (np.array(res["outputs"], dtype=np.uint8), int(res["cycles"]), float(res["sim_seconds"]))
    if waves is not None:
        _copy_waves(build_dir, Path(waves))
    return out


def cosim_layer(layer: ConvLayer, arch: ArchConfig, *, sim: str = "icarus", seed: int = 0,
                waves: Path | str | None = None, requantize_shift: int | None = None,
                build_root: Path | None = None) -> CosimResult:
    """Run ``layer`` on the RTL (WS) and compare outputs (bit-exact) and cycles with the model."""
    t0 = time.perf_counter()
    job, want = prepare(layer, arch, seed=seed, requantize_shift=requantize_shift)
    text = harness_verilog(arch, dram_bytes=job.dram_bytes, cmd_depth=job.cmd_depth)
    got_bytes, rtl_cycles, sim_seconds = run_harness(text, job, arch, sim=sim, build_root=build_root,
                                                     waves=waves, seed=seed)
    dtype = np.int8 if requantize_shift is not None else np.dtype("<i4")
    got = got_bytes.view(dtype).reshape(want.shape)
    mismatches = int(np.count_nonzero(got != want))
    return CosimResult(
        outputs_match=mismatches == 0, rtl_cycles=rtl_cycles, model_cycles=job.model_cycles, macs=layer.macs,
        wall_seconds=time.perf_counter() - t0, simulator=sim, sim_seconds=sim_seconds, mismatches=mismatches,
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
