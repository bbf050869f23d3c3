"""Run bare-metal RISC-V programs (ELF files) on the RTL SoC (:class:`accelsim.rtl.soc.Soc`) in Icarus or
Verilator.

:func:`load_elf` places an ELF's PT_LOAD segments into a RAM image (rejecting, with one-line
:class:`~accelsim.errors.AccelsimError` messages, a file that is not an ELF, not 32-bit RISC-V, does not
start at the reset address ``RAM_BASE`` or does not fit the RAM). :class:`SocHarness` is the simulation top:
the Soc with :class:`SimRam` (``sim_ram.v``: the image comes from ``+ram_init=<file>`` and is loaded again
on ``reload``) and the behavioural :class:`~accelsim.cosim.dram.Dram`. :func:`run_programs` builds the
harness once per configuration (cached by the hash of the Verilog and flags under
:func:`~accelsim.cosim.layer.default_build_root`) and runs many programs in one simulator process: the bench
(:mod:`accelsim.cosim.soc_bench`) rewrites the image file, pulses ``reload`` in reset and runs the next one,
until EXIT, an unhandled trap or ``max_cycles``. Each program's result: exit code, console output, ``cycles``
and ``instret`` (mcycle and minstret in the EXIT store's execute cycle) and, on request, the retirement trace.

Ports of SocHarness: ``reload`` in, and the Soc's console_*, exit_*, fault*, rvfi_* outputs.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from amaranth import ClockSignal, Instance, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from accelsim.errors import AccelsimError, require
from accelsim.host import soc_map as sm

SOURCE = Path(__file__).with_name("sim_ram.v")
BENCH_MODULE = "accelsim.cosim.soc_bench"
TOPLEVEL = "soc_harness"
DRAM_BYTES = 1 << 16
ELF_LIMIT_BYTES = 64 << 20  # a firmware ELF with debug sections is well under a MiB; /dev/zero is not one
CAUSES = {1: "instruction access fault", sm.CAUSE_ILLEGAL: "illegal instruction",
          sm.CAUSE_BREAKPOINT: "breakpoint (ebreak)", sm.CAUSE_LOAD_FAULT: "load access fault",
          sm.CAUSE_STORE_FAULT: "store access fault", sm.CAUSE_ECALL_M: "ecall"}
OUTPUTS = ("console_valid", "console_data", "exit_valid", "exit_code", "exit_cycle", "exit_instret", "fault",
           "fault_cause")


# ---- ELF -> RAM image --------------------------------------------------------------------------------------
def load_elf(path: Path | str, ram_bytes: int = sm.RAM_BYTES_DEFAULT) -> np.ndarray:
    """The RAM image (``ram_bytes // 4`` little-endian uint32 words) of the ELF file ``path``, parsed by the
    model's loader (accelsim.host.iss.load_elf); the SoC also needs the entry point at the reset address."""
    from accelsim.host.iss import load_elf as parse_elf
    from accelsim.inputs import read_bytes

    path = Path(path)
    what = f"program {str(path)!r}"
    data = read_bytes(path, what, limit=ELF_LIMIT_BYTES)
    require(data[:4] == b"\x7fELF", what, "an ELF file (starting b'\\x7fELF')",
            f"a file starting {data[:4]!r}")
    mem, entry, _ = parse_elf(data, ram_bytes, what=what)
    require(entry == sm.RAM_BASE, f"entry point of {str(path)!r}",
            f"the reset address RAM_BASE {sm.RAM_BASE:#x}", hex(entry))
    return mem.view("<u4").astype(np.uint32)


def write_image(path: Path, words: np.ndarray) -> None:
    """The ``$readmemh`` file of a RAM image: its non-zero words only, each run after an ``@<word address>``
    line (the RAM is zeroed before every load, so a small program loads in a small fraction of the time a
    full 64 KiB image takes)."""
    words = np.asarray(words, dtype=np.uint32)
    nonzero = np.flatnonzero(words)
    lines = []
    prev = -2
    for k in nonzero.tolist():
        if k != prev + 1:
            lines.append(f"@{k:x}\n")
        lines.append(f"{int(words[k]):08x}\n")
        prev = k
    Path(path).write_text("".join(lines))


# ---- the simulation top ------------------------------------------------------------------------------------
class SimRam(wiring.Component):
    """The Soc's RAM in simulation: an Instance of ``accelsim_sim_ram`` (:data:`SOURCE`)."""

    def __init__(self, ram_bytes: int) -> None:
        from accelsim.rtl.soc import ram_members

        self.ram_bytes = ram_bytes
        super().__init__({"reload": In(1), **ram_members(ram_bytes)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.storage = Instance(
            "accelsim_sim_ram", p_DEPTH=self.ram_bytes // 4, p_ABITS=ceil_log2(self.ram_bytes) - 2,
            i_clk=ClockSignal("sync"), i_reload=self.reload, i_raddr=self.raddr, o_rdata=self.rdata,
            i_waddr=self.waddr, i_wmask=self.wmask, i_wdata=self.wdata,
        )
        return m


class SocHarness(wiring.Component):
    def __init__(self, params, *, ram_bytes: int = sm.RAM_BYTES_DEFAULT,
                 dram_bytes: int = DRAM_BYTES) -> None:
        from accelsim.rtl.host_core import RVFI
        from accelsim.rtl.soc import Soc

        self.params, self.ram_bytes, self.dram_bytes = params, ram_bytes, dram_bytes
        self.ram = SimRam(ram_bytes)
        self.soc = Soc(params, ram_bytes=ram_bytes, ram=self.ram)
        sig = self.soc.signature.members
        super().__init__({"reload": In(1), **{n: Out(sig[n].shape) for n in OUTPUTS},
                          **{f"rvfi_{n}": Out(w) for n, w in RVFI}})

    def elaborate(self, platform):
        from .dram import Dram
        from .harness import DRAM_CHANNELS, DRAM_MEMORY, DRAM_RSP

        m = Module()
        soc = m.submodules.soc = self.soc
        dram = m.submodules.dram = Dram(self.params, size_bytes=self.dram_bytes, name=DRAM_MEMORY)
        m.d.comb += self.ram.reload.eq(self.reload)
        m.d.comb += [getattr(dram, n).eq(getattr(soc, n)) for n in DRAM_CHANNELS]
        m.d.comb += [getattr(soc, n).eq(getattr(dram, n)) for n in DRAM_RSP]
        for name in self.signature.members:
            if name != "reload":
                m.d.comb += getattr(self, name).eq(getattr(soc, name))
        return m


# ---- running -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProgramResult:
    """One program's run. ``status``: "exit", "fault" (a trap with no handler) or "timeout" (no EXIT within
    ``max_cycles``). ``trace``: the retired instructions (dicts of the rvfi_* fields) when requested."""

    status: str
    exit_code: int
    stdout: str
    cycles: int
    instret: int
    fault_cause: int = 0
    fault_pc: int = 0
    fault_insn: int = 0
    sim_seconds: float = 0.0  # wall time of the simulation from reset release to the end (no build, no load)
    trace: tuple = field(default=(), repr=False)
    dram: np.ndarray | None = field(default=None, repr=False)  # the loaded DRAM bytes after the run, if any

    def check(self, what: str, max_cycles: int) -> None:
        """Raise the one-line AccelsimError of a run that did not reach EXIT."""
        if self.status == "timeout":
            raise AccelsimError(f"program {what} must write EXIT within --max-cycles {max_cycles}, "
                                "not run on")
        if self.status == "fault":
            name = CAUSES.get(self.fault_cause, f"mcause {self.fault_cause}")
            raise AccelsimError(f"program {what} must not trap without a handler (mtvec = 0), not raise "
                                f"{name} (mcause {self.fault_cause}) at pc {self.fault_pc:#010x} "
                                f"(instruction {self.fault_insn:#010x})")


def soc_verilog(params, ram_bytes: int, dram_bytes: int = DRAM_BYTES) -> str:
    """The simulation top: SocHarness with flops on its inputs and its own clock (register_inputs)."""
    from amaranth.back import verilog

    from .runner import CLOCK_PERIOD_NS, register_inputs

    return register_inputs(verilog.convert(SocHarness(params, ram_bytes=ram_bytes, dram_bytes=dram_bytes),
                                           name=TOPLEVEL, emit_src=False), TOPLEVEL,
                           clock_period_ns=CLOCK_PERIOD_NS)


_VERILOG: dict = {}


def run_programs(images: list[np.ndarray], params, *, sim: str = "icarus",
                 ram_bytes: int = sm.RAM_BYTES_DEFAULT,
                 max_cycles: int | list[int] = 1_000_000, trace: bool | list[bool] = False,
                 build_root: Path | None = None, dram: np.ndarray | None = None,
                 dram_bytes: int = DRAM_BYTES) -> list[ProgramResult]:
    """Run each RAM image (from :func:`load_elf`) on the SoC in one simulator process, in order, each for at
    most ``max_cycles`` cycles (one number for all, or one per image), with the retirement trace when
    ``trace`` (one flag for all, or one per image). ``dram`` (bytes from address 0, in a DRAM of
    ``dram_bytes``, a power of two) is loaded before the first program; the contents of those ``len(dram)``
    bytes after the last one are then in :attr:`ProgramResult.dram` of the last result (the rest of the DRAM
    is neither loaded nor saved: the files of a small layer in a network-sized DRAM stay small)."""
    from .layer import default_build_root
    from .runner import build_flags, cached_top, run_bench
    from .sim_memory import SOURCE as MEMORY_SOURCE

    require(len(images) >= 1, "programs", "at least one", len(images))
    limits = [max_cycles] * len(images) if isinstance(max_cycles, int) else list(max_cycles)
    require(len(limits) == len(images), "max_cycles", "one number, or one per program", max_cycles)
    traces = [trace] * len(images) if isinstance(trace, bool) else list(trace)
    require(len(traces) == len(images), "trace", "one flag, or one per program", trace)
    for limit in limits:
        require(isinstance(limit, int) and limit >= 1, "--max-cycles", "an integer >= 1", limit)
    key = (params, ram_bytes, dram_bytes)
    if key not in _VERILOG:
        _VERILOG[key] = soc_verilog(params, ram_bytes, dram_bytes)
    text = _VERILOG[key]
    build_dir, src = cached_top(text, name="soc_harness.v", sim=sim, sources=[SOURCE, MEMORY_SOURCE],
                                flags=build_flags(sim, waves=False, public_internals=False, timing=True),
                                build_root=Path(build_root or default_build_root()), prefix="soc-")
    with tempfile.TemporaryDirectory(prefix="accelsim-soc-") as tmp:
        tmp = Path(tmp)
        jobs = []
        for k, words in enumerate(images):
            require(len(words) == ram_bytes // 4, "RAM image", f"{ram_bytes // 4} words", len(words))
            write_image(tmp / f"image{k}.hex", words)
            jobs.append({"image": str(tmp / f"image{k}.hex"), "max_cycles": limits[k],
                         "trace": traces[k]})
        ram_file = tmp / "ram.hex"
        (ram_file).write_bytes((tmp / "image0.hex").read_bytes())
        (tmp / "jobs.json").write_text(json.dumps({"jobs": jobs, "ram_file": str(ram_file)}))
        result = tmp / "result.json"
        dram_args = []
        if dram is not None:
            from .harness import DRAM_MEMORY
            from .sim_memory import plusargs, write_init

            n = write_init(tmp / "dram.hex", dram, width=8, depth=dram_bytes)
            dram_args = plusargs(DRAM_MEMORY, init=tmp / "dram.hex", init_words=n, dump=tmp / "dram.out.hex",
                                 dump_words=n)
        tests, failed = run_bench(
            sim=sim, verilog_sources=[src, SOURCE, MEMORY_SOURCE], toplevel=TOPLEVEL,
            test_module=BENCH_MODULE,
            build_dir=build_dir, extra_env={"ACCELSIM_SOC_JOBS": str(tmp / "jobs.json"),
                                            "ACCELSIM_SOC_RESULT": str(result)},
            plusargs=[f"+ram_init={ram_file}", *dram_args], quiet=True, public_internals=False, timing=True,
        )
        if failed or not result.exists():
            raise AccelsimError(f"SoC bench must run, not fail ({failed} of {tests} failed; "
                                f"log in {build_dir})")
        out = json.loads(result.read_text())
        results = [ProgramResult(**{**r, "trace": tuple(r.get("trace", ()))}) for r in out]
        if dram is not None:
            from .sim_memory import read_dump

            results[-1] = replace(results[-1], dram=read_dump(tmp / "dram.out.hex"))
    return results


__all__ = ["ProgramResult", "SimRam", "SocHarness", "load_elf", "run_programs", "write_image"]
