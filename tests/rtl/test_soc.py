"""The RV32IM SoC (rtl/soc.py, rtl/host_core.py) on Icarus and Verilator: the riscv-tests, lockstep against
Unicorn through the trace port, the CPI contract, traps and CSRs, and the MMIO command port driving a real
Accelerator with back-pressure.

Every program of a simulator runs in one simulator process on one build (:func:`accelsim.cosim.soc
.run_programs`), once per session; each test case then checks its program's result. The riscv-tests run
without the trace on Icarus (its Python callbacks cost more than the simulation there) and with it on
Verilator, where every traced program is held to Unicorn instruction by instruction.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from accelsim.host import soc_map as sm
from tests.rtl import soc_programs as sp
from tests.rtl.layers import small_arch

pytestmark = pytest.mark.rtl

SIMS = ["icarus", pytest.param("verilator", marks=pytest.mark.slow)]  # as the other benches: Verilator builds
ARCH = small_arch(rows=2, cols=2)  # the smallest accelerator: these tests are about the host
RISCV_TESTS = [("rv32ui", n) for n in sp.RV32UI] + [("rv32um", n) for n in sp.RV32UM]
RANDOM_SEEDS = range(10)
RANDOM_LENGTH = 300
MMIO = f"li s0, {sm.MMIO_BASE:#x}"

# print a0 as 8 hex digits and a newline on CONSOLE (s0 = MMIO_BASE); clobbers t2..t4
PRINT_HEX = f"""
print_hex:
  li t2, 28
1: srl t3, a0, t2
  andi t3, t3, 15
  li t4, 10
  blt t3, t4, 2f
  addi t3, t3, 87
  j 3f
2: addi t3, t3, 48
3: sb t3, {sm.CONSOLE - sm.MMIO_BASE}(s0)
  addi t2, t2, -4
  bgez t2, 1b
  li t3, 10
  sb t3, {sm.CONSOLE - sm.MMIO_BASE}(s0)
  ret
"""

HELLO = f"""
.section .text.init
.globl _start
_start:
  {MMIO}
  la s1, msg
1: lbu a0, 0(s1)
  beqz a0, 2f
  sb a0, {sm.CONSOLE - sm.MMIO_BASE}(s0)
  addi s1, s1, 1
  j 1b
2: li a0, 1000000
  li a1, 7
  div a2, a0, a1
  rem a3, a0, a1
  mul a4, a2, a1
  add a4, a4, a3       # == a0
  sub a5, a4, a0       # 0
  addi a5, a5, 42
  sw a5, {sm.EXIT - sm.MMIO_BASE}(s0)
3: j 3b
.data
msg: .asciz "hello from the RV32IM SoC\\n"
"""

ILLEGAL = """
.section .text.init
.globl _start
_start:
  nop
  .word 0x00000000
"""

NEVER_EXITS = """
.section .text.init
.globl _start
_start:
1: j 1b
"""

# self-checking: traps and CSRs. Exit code 0 = every check passed, else the failing check's number.
TRAPS = f"""
.section .text.init
.globl _start
_start:
  {MMIO}
  la t0, handler
  csrw mtvec, t0
  csrr t1, mtvec
  li gp, 1
  bne t0, t1, fail
  # ecall: mcause 11, mepc = its pc, mtval 0; the handler returns past it
  li gp, 2
  li s2, -1
e1: ecall
  li t0, {sm.CAUSE_ECALL_M}
  bne s2, t0, fail
  la t0, e1
  bne s3, t0, fail
  bnez s4, fail
  # ebreak
  li gp, 3
b1: ebreak
  li t0, {sm.CAUSE_BREAKPOINT}
  bne s2, t0, fail
  la t0, b1
  bne s3, t0, fail
  # illegal instruction: mtval = the instruction
  li gp, 4
i1: .word 0xffffffff
  li t0, {sm.CAUSE_ILLEGAL}
  bne s2, t0, fail
  li t0, -1
  bne s4, t0, fail
  # an unknown CSR and a write to a read-only one are illegal
  li gp, 5
  csrr t1, 0x7c0
  li t0, {sm.CAUSE_ILLEGAL}
  bne s2, t0, fail
  li gp, 6
  li s2, 0
  csrw cycle, x0
  li t0, {sm.CAUSE_ILLEGAL}
  bne s2, t0, fail
  # load and store access faults: outside RAM, an MMIO hole, misaligned; mtval = the address
  li gp, 7
  li t1, {sm.MMIO_BASE - 4:#x}
  lw t2, 0(t1)
  li t0, {sm.CAUSE_LOAD_FAULT}
  bne s2, t0, fail
  bne s4, t1, fail
  li gp, 8
  li t1, {sm.MMIO_END:#x}
  sw x0, 0(t1)
  li t0, {sm.CAUSE_STORE_FAULT}
  bne s2, t0, fail
  bne s4, t1, fail
  li gp, 9
  la t1, word
  lw t2, 2(t1)
  li t0, {sm.CAUSE_LOAD_FAULT}
  bne s2, t0, fail
  li gp, 10
  sh x0, 1(t1)
  li t0, {sm.CAUSE_STORE_FAULT}
  bne s2, t0, fail
  # mscratch round trip; csrrs / csrrc / immediates
  li gp, 11
  li t0, 0x1234
  csrw mscratch, t0
  csrrsi t1, mscratch, 3
  bne t1, t0, fail
  csrrc t1, mscratch, t0
  li t0, 0x1237
  bne t1, t0, fail
  csrr t1, mscratch
  li t0, 3
  bne t1, t0, fail
  # mstatus: a trap clears MIE into MPIE, mret restores it
  li gp, 12
  csrsi mstatus, 8
  ecall
  csrr t1, mstatus
  andi t1, t1, 0x88
  li t0, 0x88
  bne t1, t0, fail
  # cycle and instret: 4 CPI_OTHER instructions and one of each multi-cycle class between two reads
  li gp, 13
  la t1, word
  rdcycle s5
  rdinstret s6
  addi x0, x0, 0
  lw t2, 0(t1)
  mul t2, t2, t2
  divu t2, t2, t1
  rdcycle s7
  rdinstret s8
  sub s7, s7, s5
  li t0, {3 * sm.CPI_OTHER + sm.CPI_LOAD + sm.CPI_MUL + sm.CPI_DIV}
  bne s7, t0, fail
  sub s8, s8, s6
  li t0, 6
  bne s8, t0, fail
  # mcycleh / instreth read the high halves (0 this early); misa says RV32IM; mhartid 0
  li gp, 14
  csrr t1, cycleh
  bnez t1, fail
  csrr t1, minstreth
  bnez t1, fail
  csrr t1, misa
  li t0, {(1 << 30) | (1 << 8) | (1 << 12):#x}
  bne t1, t0, fail
  csrr t1, mhartid
  bnez t1, fail
  # a taken jump or branch to a target that is not 4-byte aligned: mcause 0, mtval = the target, mepc = the
  # jump (the handler resumes after it), rd not written; a not-taken branch and JALR's bit 0 do not trap
  li gp, 15
  li s2, -1
  li ra, 7
j1: jal ra, j1 + 6
  bnez s2, fail
  la t0, j1
  bne s3, t0, fail
  addi t0, t0, 6
  bne s4, t0, fail
  li t0, 7
  bne ra, t0, fail
  li gp, 16
  li s2, -1
  la t1, j2
  addi t1, t1, 2
j2: jalr ra, 0(t1)
  bnez s2, fail
  la t0, j2
  bne s3, t0, fail
  bne s4, t1, fail
  li gp, 17
  li s2, -1
j3: beq x0, x0, j3 + 10
  bnez s2, fail
  la t0, j3
  addi t0, t0, 10
  bne s4, t0, fail
  li gp, 18
  li s2, -1
  bne x0, x0, . + 6
  la t1, k1
  addi t1, t1, 1
  jalr x0, 0(t1)
  j fail
k1:
  li t0, -1
  bne s2, t0, fail
  li a0, 0
  j done
fail:
  mv a0, gp
done:
  sw a0, {sm.EXIT - sm.MMIO_BASE}(s0)
1: j 1b
.align 2
handler:
  csrr s2, mcause
  csrr s3, mepc
  csrr s4, mtval
  addi t6, s3, 4
  csrw mepc, t6
  mret
.data
.align 4
word: .word 0x01020304
"""


def _mmio_command_program():
    """Commands written by a loop of CMD0..CMD5 stores (recording mcycle after every CMD5), then a poll of
    FENCES until it reads 2; prints the records. The stream: a small layer's program (ending with its
    FENCE), a CONFIG (refused until the FENCE releases: the CMD5 store waits) and a last FENCE. The
    loop's period from one CMD5 execute cycle to the next, from the CPI table:
    12 CPI_OTHER (csrr, sw, 3 addi, bnez, 6 stores) + 6 CPI_LOAD; the schedule gets it as the host's issue
    interval. Returns (source, the layer's stream (up to the first FENCE), the whole stream, arch)."""
    from accelsim.commands import COMMAND_WORDS, Command, Op
    from accelsim.layer import ConvLayer
    from accelsim.mapping import lower, program

    period = (6 + COMMAND_WORDS) * sm.CPI_OTHER + COMMAND_WORDS * sm.CPI_LOAD
    arch = small_arch(rows=2, cols=2, host_issue_cycles=period)
    # its last STORE still runs when the FENCE is accepted (the FENCE is pending for more than a period;
    # M = 4: the last m-tile is 2 channels wide, a STORE of two beats a row)
    layer = ConvLayer(N=1, M=4, C=3, H=8, W=8, R=2, S=2, stride=1, pad=0, groups=1, name="soc")
    first = program(lower(layer, arch))
    assert first[-1].op == Op.FENCE
    prog = [*first, first[0], Command(Op.FENCE)]
    words = "\n".join(f"  .word {w:#x}" for c in prog for w in c.words())
    n = len(prog)
    stores = "\n".join(f"  lw t0, {4 * k}(s1)\n  sw t0, {reg - sm.MMIO_BASE}(s0)"
                       for k, reg in enumerate(sm.COMMAND_REGISTERS))
    src = f"""
.section .text.init
.globl _start
_start:
  {MMIO}
  la s1, cmds
  li s2, {n}
  la s3, rec
loop:
{stores}
  csrr t1, mcycle
  sw t1, 0(s3)
  addi s3, s3, 4
  addi s1, s1, {4 * COMMAND_WORDS}
  addi s2, s2, -1
  bnez s2, loop
  li t2, 2
1: lw t0, {sm.FENCES - sm.MMIO_BASE}(s0)
  bne t0, t2, 1b
  csrr t1, mcycle
  sw t1, 0(s3)
  lw t0, {sm.STATUS - sm.MMIO_BASE}(s0)
  sw t0, 4(s3)
  lw t0, {sm.FENCES - sm.MMIO_BASE}(s0)
  sw t0, 8(s3)
  la s3, rec
  li s2, {n + 3}
2: lw a0, 0(s3)
  call print_hex
  addi s3, s3, 4
  addi s2, s2, -1
  bnez s2, 2b
  sw x0, {sm.EXIT - sm.MMIO_BASE}(s0)
3: j 3b
{PRINT_HEX}
.data
.align 4
cmds:
{words}
rec: .space {4 * (n + 3)}
"""
    return src, first, prog, arch


SOC_PROGRAMS = {"hello": HELLO, "traps": TRAPS, "illegal": ILLEGAL, "never_exits": NEVER_EXITS}
MAX_CYCLES = {"never_exits": 500}
DEFAULT_MAX_CYCLES = 200_000


@pytest.fixture(scope="session")
def soc_elfs(tmp_path_factory):
    out = tmp_path_factory.mktemp("soc-elf")
    elfs = {f"{suite}-{name}": sp.build_riscv_test(suite, name, out) for suite, name in RISCV_TESTS}
    for seed in RANDOM_SEEDS:
        src = sp.random_program(seed, RANDOM_LENGTH)
        elfs[f"random-{seed}"] = sp.build_asm(src, out / f"random-{seed}.elf")
    for name, src in SOC_PROGRAMS.items():
        elfs[name] = sp.build_asm(src, out / f"{name}.elf")
    src, *_ = _mmio_command_program()
    elfs["mmio_commands"] = sp.build_asm(src, out / "mmio_commands.elf")
    return elfs


@pytest.fixture(scope="session")
def soc_runs(soc_elfs, soc_builds):
    """sim -> {program: ProgramResult}, each simulator run once per session (one build, one process)."""
    from accelsim.cosim.soc import load_elf, run_programs
    from accelsim.rtl.params import AccelParams

    builds = soc_builds
    params = AccelParams.from_arch(ARCH)
    cache: dict = {}

    def get(sim: str) -> dict:
        if sim not in cache:
            names = list(soc_elfs)
            traced = [sim == "verilator" or not n.startswith("rv32u") for n in names]
            results = run_programs([load_elf(soc_elfs[n]) for n in names], params, sim=sim,
                                   max_cycles=[MAX_CYCLES.get(n, DEFAULT_MAX_CYCLES) for n in names],
                                   trace=traced, build_root=builds)
            cache[sim] = dict(zip(names, results, strict=True))
        return cache[sim]

    return get


def test_riscv_tests_are_all_there():
    assert len(sp.RV32UI) == 41 and "ma_data" not in sp.RV32UI and "add" in sp.RV32UI  # 42 minus ma_data
    assert sp.RV32UM == ["div", "divu", "mul", "mulh", "mulhsu", "mulhu", "rem", "remu"]


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize(("suite", "name"), RISCV_TESTS, ids=[f"{s}-{n}" for s, n in RISCV_TESTS])
def test_riscv_test(soc_runs, sim, suite, name):
    res = soc_runs(sim)[f"{suite}-{name}"]
    assert res.status == "exit", res
    assert res.exit_code == 0, f"{suite}/{name} failed its test {res.exit_code >> 1} ({res.exit_code:#x})"


def _cpi(insn: int) -> int:
    opcode, f3, f7 = insn & 0x7F, (insn >> 12) & 7, insn >> 25
    if opcode == 0x03:
        return sm.CPI_LOAD
    if opcode == 0x33 and f7 == 1:
        return sm.CPI_MUL if f3 < 4 else sm.CPI_DIV
    return sm.CPI_OTHER


LOCKSTEP = [f"{s}-{n}" for s, n in RISCV_TESTS] + [f"random-{seed}" for seed in RANDOM_SEEDS] + ["hello"]
LOCKSTEP_CASES = [pytest.param("verilator", n, marks=pytest.mark.slow, id=f"verilator-{n}") for n in LOCKSTEP]
LOCKSTEP_CASES += [pytest.param("icarus", n, id=f"icarus-{n}") for n in LOCKSTEP if not n.startswith("rv32u")]


@pytest.mark.parametrize(("sim", "name"), LOCKSTEP_CASES)
def test_lockstep_with_unicorn(soc_runs, soc_elfs, sim, name):
    """Every retired instruction as Unicorn executes it; the exit's cycles and instret as the CPI table
    says for that instruction sequence (mcycle in the EXIT store's execute cycle: every earlier
    instruction's CPI, plus that store's FETCH cycle)."""
    res = soc_runs(sim)[name]
    assert res.status == "exit", res
    trace = list(res.trace)
    ref = sp.unicorn_trace(soc_elfs[name], len(trace) + 10)
    sp.compare_traces(trace, ref, name)
    assert len(trace) > 20
    before_exit = trace[:-1]
    assert res.instret == len(before_exit)
    assert res.cycles == sum(_cpi(r["insn"]) for r in before_exit) + 1


@pytest.mark.parametrize("sim", SIMS)
def test_console_and_exit_code(soc_runs, sim):
    res = soc_runs(sim)["hello"]
    assert (res.status, res.exit_code, res.stdout) == ("exit", 42, "hello from the RV32IM SoC\n")


@pytest.mark.parametrize("sim", SIMS)
def test_traps_and_csrs(soc_runs, soc_elfs, sim):
    from accelsim.host.iss import Iss

    res = soc_runs(sim)["traps"]
    assert res.status == "exit", res
    assert res.exit_code == 0, f"check {res.exit_code} of the TRAPS program failed"
    iss = Iss(soc_elfs["traps"]).run(max_cycles=DEFAULT_MAX_CYCLES)  # the model takes the same traps
    assert (iss.exit_code, iss.cycles, iss.instret) == (0, res.cycles, res.instret)


@pytest.mark.parametrize("sim", SIMS)
def test_unhandled_trap_and_max_cycles(soc_runs, sim):
    from accelsim.errors import AccelsimError

    res = soc_runs(sim)["illegal"]
    assert (res.status, res.fault_cause, res.fault_pc, res.fault_insn) == ("fault", sm.CAUSE_ILLEGAL, 4, 0)
    with pytest.raises(AccelsimError, match=r"must not trap without a handler .* illegal instruction "
                                            r"\(mcause 2\) at pc 0x00000004"):
        res.check("illegal.elf", 100)
    res = soc_runs(sim)["never_exits"]
    assert res.status == "timeout"
    with pytest.raises(AccelsimError, match="must write EXIT within --max-cycles 500"):
        res.check("never_exits.elf", 500)


@pytest.mark.parametrize("sim", SIMS)
def test_mmio_commands_dispatch_as_the_schedule_says(soc_runs, sim):
    """Each command is accepted in the schedule's dispatch cycle (the host loop's period as the issue
    interval); the CONFIG after a pending FENCE waits in its CMD5 store (back-pressure) until the cycle after
    the FENCE's release at the schedule's total; FENCES counts both FENCEs; STATUS reads idle + ready."""
    from accelsim.schedule import schedule

    _, first, prog, arch = _mmio_command_program()
    res = soc_runs(sim)["mmio_commands"]
    assert res.status == "exit" and res.exit_code == 0, res
    values = [int(line, 16) for line in res.stdout.split()]
    assert len(values) == len(prog) + 3
    accepts, fence_seen, status, fences = values[:len(prog)], values[-3], values[-2], values[-1]
    rel = [a - accepts[0] for a in accepts]
    want = schedule(first, arch)
    assert rel[:len(first)] == [c[0] - want.cycles[0][0] for c in want.cycles]
    period = arch.host_issue_cycles
    stalled = rel[len(first)] - rel[len(first) - 1] - period
    assert stalled > 0, "the CONFIG after the FENCE was not held back"
    assert rel[len(first)] == want.total_cycles + 1
    assert rel[-1] == rel[-2] + period
    # the last FENCE releases in its accept cycle (nothing pending) and FENCES shows it the next cycle, so
    # the first poll sees 2: from the loop's last csrr to the one after the poll, csrr sw addi addi addi
    # bnez li bne (CPI_OTHER) and the poll's lw (CPI_LOAD)
    assert fence_seen - accepts[-1] == 8 * sm.CPI_OTHER + sm.CPI_LOAD
    assert (status, fences) == (sm.STATUS_READY | sm.STATUS_IDLE, 2)


# ---- the CLI: accelsim rtl run --------------------------------------------------------------------------
def _arch_toml(path):
    keys = ("array_rows", "array_cols", "ifmap_spad_kib", "weight_spad_kib", "acc_kib", "queue_depth",
            "host_issue_cycles", "dram_latency_cycles", "dram_bytes_per_cycle")
    path.write_text('name = "soc-test"\n' + "".join(f"{k} = {getattr(ARCH, k)}\n" for k in keys))
    return path


@pytest.fixture
def cli(soc_runs, soc_builds, tmp_path, monkeypatch, capsys):
    """Run ``accelsim rtl run`` in-process on the session's builds; return (status, stdout, stderr)."""
    from accelsim.cli import main

    soc_runs("icarus")  # the session's Icarus build exists; the CLI finds it by its hash
    monkeypatch.setenv("ACCELSIM_BUILD_DIR", str(soc_builds))
    arch = _arch_toml(tmp_path / "arch.toml")

    def run(*args):
        status = main(["rtl", "run", "--arch", str(arch), *map(str, args)])
        out = capsys.readouterr()
        return status, out.out, out.err

    return run


def test_rtl_run_prints_the_console_and_exits_with_the_code(cli, soc_elfs, soc_runs):
    import json

    status, out, err = cli("--elf", soc_elfs["hello"], "--sim", "icarus")
    assert (status, out, err) == (42, "hello from the RV32IM SoC\n", "")
    status, out, err = cli("--elf", soc_elfs["hello"], "--sim", "icarus", "--json")
    doc = json.loads(out)
    want = soc_runs("icarus")["hello"]
    assert status == 42 and doc == {"exit_code": 42, "stdout": "hello from the RV32IM SoC\n",
                                    "cycles": want.cycles, "instret": want.instret}


def test_rtl_run_bad_input_is_one_line(cli, soc_elfs, tmp_path):
    not_elf = tmp_path / "prog.S"
    not_elf.write_text("nop\n")
    rv64 = tmp_path / "rv64.elf"
    subprocess.run([sp.GCC, "-march=rv64imac", "-mabi=lp64", "-nostdlib", "-x", "assembler", "-", "-o",
                    str(rv64)], input=".globl _start\n_start: j _start\n", text=True, check=True)
    big = sp.build_asm(".section .text.init\n.globl _start\n_start: j _start\n.data\n"
                       f".space {sm.RAM_BYTES_DEFAULT}\n", tmp_path / "big.elf")
    cases = [
        (["--elf", not_elf], "must be an ELF file"),
        (["--elf", rv64], "must be a 32-bit RISC-V ELF"),
        (["--elf", "/bin/sh"], "must be a 32-bit RISC-V ELF"),
        (["--elf", big], f"must be inside the {sm.RAM_BYTES_DEFAULT:,}-byte RAM"),
        (["--elf", tmp_path / "missing.elf"], "must be an existing file"),
        (["--elf", soc_elfs["hello"], "--max-cycles", "0"], "--max-cycles must be >= 1"),
        (["--elf", soc_elfs["never_exits"], "--max-cycles", "300"],
         "must write EXIT within --max-cycles 300"),
        (["--elf", soc_elfs["illegal"]], "must not trap without a handler .* illegal instruction"),
    ]
    for args, message in cases:
        status, out, err = cli(*args, "--sim", "icarus")
        assert status == 2 and out == "", (args, out, err)
        assert err.count("\n") == 1 and re.search(message, err), (args, err)
