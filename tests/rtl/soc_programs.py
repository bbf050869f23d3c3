"""Programs for the SoC tests, built with the apt RISC-V gcc, and the Unicorn reference they are held to.

* :func:`build_riscv_tests`: every rv32ui and rv32um test of third_party/riscv-tests (vendored, BSD) with our
  environment header (riscv_tests/riscv_test.h: pass/fail through EXIT) and link script;
* :func:`random_program`: a seeded random RV32IM instruction stream (every register initialised, ALU / M /
  LUI / AUIPC / aligned loads and stores into a data window / forward branches and jumps; no trap, no loop),
  ending with a store to EXIT;
* :func:`build_asm`: assemble and link a program of ours;
* :func:`unicorn_trace` / :func:`compare_traces`: run an ELF on Unicorn one instruction at a time and
  compare it, retired instruction by retired instruction, with the RTL's trace port (pc, next pc, rd and its
  value, memory address, masks and data).

A missing toolchain fails loudly (FileNotFoundError / CalledProcessError), never skips.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

from accelsim.host import soc_map as sm

HERE = Path(__file__).resolve().parent
ENV_DIR = HERE / "riscv_tests"
RISCV_TESTS = Path(__file__).resolve().parents[2] / "third_party" / "riscv-tests"
GCC = "riscv64-unknown-elf-gcc"
MARCH = ["-march=rv32im_zicsr_zifencei", "-mabi=ilp32"]
# ma_data checks that misaligned loads and stores return/write the right bytes; the contract's core raises
# an access fault instead (no emulation; docs/microarchitecture.md, "Host"), so it cannot pass by design.
EXCLUDED = {"ma_data": "misaligned accesses trap (load/store access fault) by contract"}


def _isa_names(suite: str) -> list[str]:
    return sorted(p.stem for p in (RISCV_TESTS / "isa" / suite).glob("*.S") if p.stem not in EXCLUDED)


RV32UI = _isa_names("rv32ui")
RV32UM = _isa_names("rv32um")


def _link_flags() -> list[str]:
    return [*MARCH, "-nostdlib", "-nostartfiles", "-static", f"-DACCELSIM_EXIT={sm.EXIT:#x}", f"-I{ENV_DIR}",
            f"-T{ENV_DIR / 'link.ld'}", f"-Wl,--defsym=ACCELSIM_RAM_BASE={sm.RAM_BASE:#x}"]


def build_riscv_test(suite: str, name: str, out_dir: Path) -> Path:
    out = Path(out_dir) / f"{suite}-{name}.elf"
    if not out.exists():
        subprocess.run([GCC, *_link_flags(), f"-I{RISCV_TESTS / 'isa' / 'macros' / 'scalar'}",
                        str(RISCV_TESTS / "isa" / suite / f"{name}.S"), "-o", str(out)],
                       check=True, capture_output=True, text=True)
    return out


def build_asm(source: str, out: Path) -> Path:
    """Assemble and link ``source`` (GNU assembler text with a ``_start`` in ``.text.init``)."""
    src = Path(out).with_suffix(".S")
    src.write_text(source)
    subprocess.run([GCC, *_link_flags(), str(src), "-o", str(out)], check=True, capture_output=True,
                   text=True)
    return Path(out)


# ---- random RV32IM streams ---------------------------------------------------------------------------------
R_OPS = ("add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
         "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu")
I_OPS = ("addi", "slti", "sltiu", "xori", "ori", "andi")
SHIFT_OPS = ("slli", "srli", "srai")
LOADS = (("lb", 1), ("lh", 2), ("lw", 4), ("lbu", 1), ("lhu", 2))
STORES = (("sb", 1), ("sh", 2), ("sw", 4))
BASE = "x31"  # the data window's base, never written by the stream
DATA_BYTES = 256
SPECIAL = (0, 1, -1, 0x7FFFFFFF, -0x80000000, 2, -2)


def random_program(seed: int, length: int = 200) -> str:
    """A random straight-line-ish RV32IM program (forward branches/jumps only), ending in an EXIT store."""
    rng = random.Random(seed)
    lines = [".section .text.init", ".globl _start", "_start:"]
    for r in range(1, 31):
        v = rng.choice(SPECIAL) if rng.random() < 0.3 else rng.randint(-2**31, 2**31 - 1)
        lines.append(f"  li x{r}, {v}")
    lines += [f"  la {BASE}, data"]
    dest = [f"x{r}" for r in range(0, 31)]
    src = [f"x{r}" for r in range(0, 32)]
    label = 0
    pending: list[tuple[int, str]] = []  # (instructions left before placing the label, label)
    for _ in range(length):
        kind = rng.random()
        if kind < 0.35:
            lines.append(f"  {rng.choice(R_OPS)} {rng.choice(dest)}, {rng.choice(src)}, {rng.choice(src)}")
        elif kind < 0.55:
            imm = rng.randint(-2048, 2047)
            lines.append(f"  {rng.choice(I_OPS)} {rng.choice(dest)}, {rng.choice(src)}, {imm}")
        elif kind < 0.62:
            sh = rng.randint(0, 31)
            lines.append(f"  {rng.choice(SHIFT_OPS)} {rng.choice(dest)}, {rng.choice(src)}, {sh}")
        elif kind < 0.66:
            lines.append(f"  {rng.choice(('lui', 'auipc'))} {rng.choice(dest)}, {rng.randint(0, 0xFFFFF)}")
        elif kind < 0.78:
            op, size = rng.choice(LOADS)
            lines.append(f"  {op} {rng.choice(dest)}, {size * rng.randrange(DATA_BYTES // size)}({BASE})")
        elif kind < 0.90:
            op, size = rng.choice(STORES)
            lines.append(f"  {op} {rng.choice(src)}, {size * rng.randrange(DATA_BYTES // size)}({BASE})")
        elif kind < 0.97:
            op = rng.choice(("beq", "bne", "blt", "bge", "bltu", "bgeu"))
            label += 1
            lines.append(f"  {op} {rng.choice(src)}, {rng.choice(src)}, L{label}")
            pending.append((rng.randint(0, 3), f"L{label}"))
        else:
            label += 1
            lines.append(f"  jal {rng.choice(dest)}, L{label}")
            pending.append((rng.randint(0, 3), f"L{label}"))
        still = []
        for left, name in pending:
            if left == 0:
                lines.append(f"{name}:")
            else:
                still.append((left - 1, name))
        pending = still
    lines += [f"{name}:" for _, name in pending]
    lines += [f"  li x30, {sm.EXIT:#x}", "  sw x0, 0(x30)", "1: j 1b",
              ".data", ".align 4", "data:"]
    lines += [f"  .word {rng.getrandbits(32):#x}" for _ in range(DATA_BYTES // 4)]
    return "\n".join(lines) + "\n"


# ---- Unicorn lockstep --------------------------------------------------------------------------------------
def unicorn_trace(elf: Path, steps: int, ram_bytes: int = sm.RAM_BYTES_DEFAULT) -> list[dict]:
    """The first ``steps`` instructions of ``elf`` on Unicorn (RV32), in the trace port's fields."""
    from accelsim.cosim.soc import load_elf
    from unicorn import UC_ARCH_RISCV, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE, UC_MODE_RISCV32, Uc
    from unicorn.riscv_const import UC_RISCV_REG_PC, UC_RISCV_REG_X0

    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
    uc.mem_map(sm.RAM_BASE, ram_bytes)
    uc.mem_map(sm.MMIO_BASE, 0x1000)
    uc.mem_write(sm.RAM_BASE, load_elf(elf, ram_bytes).astype("<u4").tobytes())
    uc.reg_write(UC_RISCV_REG_PC, sm.RAM_BASE)
    access: list[tuple[str, int, int, int]] = []

    def on_read(uc_, kind, addr, size, value, user):
        access.append(("r", addr, size, int.from_bytes(uc_.mem_read(addr, size), "little")))

    def on_write(uc_, kind, addr, size, value, user):
        access.append(("w", addr, size, value & ((1 << (8 * size)) - 1)))

    uc.hook_add(UC_HOOK_MEM_READ, on_read)
    uc.hook_add(UC_HOOK_MEM_WRITE, on_write)
    out = []
    for _ in range(steps):
        pc = uc.reg_read(UC_RISCV_REG_PC)
        insn = int.from_bytes(uc.mem_read(pc, 4), "little")
        before = [uc.reg_read(UC_RISCV_REG_X0 + r) for r in range(32)]
        access.clear()
        uc.emu_start(pc, 0xFFFF_FFFF, count=1)
        after = [uc.reg_read(UC_RISCV_REG_X0 + r) for r in range(32)]
        rec = {"pc_rdata": pc, "insn": insn, "pc_wdata": uc.reg_read(UC_RISCV_REG_PC)}
        opcode, rd = insn & 0x7F, (insn >> 7) & 31
        writes_rd = opcode in (0x37, 0x17, 0x6F, 0x67, 0x03, 0x13, 0x33) or (opcode == 0x73
                                                                           and (insn >> 12) & 7)
        rec["rd_addr"] = rd if writes_rd else 0
        rec["rd_wdata"] = after[rd] if writes_rd and rd else 0
        assert all(after[r] == before[r] for r in range(32) if r != rec["rd_addr"]), (hex(pc), "extra write")
        rec["mem"] = [(k, a, s, v) for k, a, s, v in access]
        out.append(rec)
        if insn & 0x7F == 0x23 and access and access[-1][1] == sm.EXIT:
            break
    return out


def compare_traces(rtl: list[dict], ref: list[dict], what: str) -> None:
    """Every retired instruction equal; the first difference fails with both records."""
    assert len(rtl) == len(ref), f"{what}: RTL retired {len(rtl)} instructions, Unicorn {len(ref)}"
    for k, (got, want) in enumerate(zip(rtl, ref, strict=True)):
        ctx = f"{what}: instruction {k} at pc {want['pc_rdata']:#x} ({want['insn']:#010x})"
        assert got["trap"] == 0, f"{ctx}: the RTL trapped"
        for name in ("pc_rdata", "insn", "pc_wdata", "rd_addr", "rd_wdata"):
            assert got[name] == want[name], f"{ctx}: {name} RTL {got[name]:#x} != Unicorn {want[name]:#x}"
        mem = [(kind, a, s, v) for kind, a, s, v in want["mem"]]
        reads = [m for m in mem if m[0] == "r"]
        writes = [m for m in mem if m[0] == "w"]
        if got["mem_rmask"]:
            assert reads, f"{ctx}: the RTL read memory, Unicorn did not"
            _, a, s, v = reads[0]
            rtl_load = (got["mem_addr"], got["mem_rmask"], got["mem_rdata"])
            assert rtl_load == (a, (1 << s) - 1, v), f"{ctx}: load RTL {rtl_load} != Unicorn {reads[0]}"
        else:
            assert not reads, f"{ctx}: Unicorn read memory {reads}, the RTL did not"
        if got["mem_wmask"]:
            assert writes, f"{ctx}: the RTL wrote memory, Unicorn did not"
            _, a, s, v = writes[0]
            rtl_store = (got["mem_addr"], got["mem_wmask"], got["mem_wdata"])
            assert rtl_store == (a, (1 << s) - 1, v), f"{ctx}: store RTL {rtl_store} != Unicorn {writes[0]}"
        else:
            assert not writes, f"{ctx}: Unicorn wrote memory {writes}, the RTL did not"
