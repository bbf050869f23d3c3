"""HostCore: RV32I programs on the RTL match the reference ISS (registers, data memory, MMIO writes) and
take exactly ``host_core_cycles`` cycles; plus the assembler's encodings and the ISS's results by hand."""

from __future__ import annotations

import pytest

from tests.rtl import rv32i_iss
from tests.rtl.benches import run_component_bench
from tests.rtl.rv32i_asm import assemble

IMEM_WORDS, DMEM_WORDS = 256, 512


def test_assembler_matches_known_encodings():
    # reference encodings from the RISC-V spec / GNU as
    src = """
        addi x1, x0, 1
        add x3, x1, x2
        sub x3, x1, x2
        srai x5, x6, 3
        lw x7, -4(x8)
        sb x9, 5(x10)
        lui x11, 0x12345
        beq x1, x2, 8
        jal x1, -4
        jalr x0, 0(x1)
        ecall
        ebreak
    """
    assert assemble(src) == [
        0x00100093, 0x002081B3, 0x402081B3, 0x40335293, 0xFFC42383, 0x009502A3, 0x123455B7,
        0x00208463, 0xFFDFF0EF, 0x00008067, 0x00000073, 0x00100073,
    ]
    assert len(assemble("li x1, 5")) == 2
    with pytest.raises(ValueError, match="immediate must be in"):
        assemble("addi x1, x0, 2048")
    with pytest.raises(ValueError, match="register must be"):
        assemble("add x32, x0, x0")


def _iss(name: str) -> rv32i_iss.Result:
    from tests.rtl.bench_host_core import DIRECTED

    words = assemble(DIRECTED[name])
    return rv32i_iss.run(words + [0] * (IMEM_WORDS - len(words)), dmem_words=DMEM_WORDS)


@pytest.mark.rtl  # the programs live in the cocotb bench module
def test_iss_directed_results_by_hand():
    alu = _iss("alu")
    assert alu.regs[5] == 0x7FFFFFFE and alu.regs[11:15] == [1, 0, 0, 1]
    assert alu.regs[19:23] == [1, 0, 1, 0] and alu.regs[27] == 0xF and alu.regs[28] == 0xFFFFFFFC
    br = _iss("branches")
    assert br.regs[11] == 0 and br.regs[10] == 0b111111 and br.regs[13] == 15
    jumps = _iss("jumps")
    assert jumps.regs[2] == 1 + 10 + 200 + 7 + 2
    loops = _iss("loops")
    assert loops.regs[10] == 5050 and loops.dmem[0x1FC // 4] == 5050
    assert loops.dmem[0x300 // 4: 0x340 // 4] == loops.dmem[0x200 // 4: 0x240 // 4]
    assert loops.regs[20] == sum(loops.dmem[0x200 // 4: 0x240 // 4]) & 0xFFFFFFFF
    mmio = _iss("mmio")
    assert mmio.mmio == [(0x80000000, 0xDEADBEEF), (0x80000010, 0xDEADBEEF), (0x80000002, 0xDEADBEEF),
                         (0xFFFFFEFF, 0xFFFFFF00), (0x80000004, 3), (0x80000004, 2), (0x80000004, 1),
                         (0x80000008, 0)]
    ls = _iss("loads_stores")
    assert ls.regs[4:8] == [0xFFFFFFBB, 0xFFFFFFAA, 0xFFFFFF99, 0xFFFFFF88]
    assert ls.regs[8:12] == [0xBB, 0xAA, 0x99, 0x88]
    assert ls.regs[12:16] == [0xFFFFAABB, 0xFFFF8899, 0xAABB, 0x8899]


@pytest.mark.rtl
def test_host_core_rejects_bad_sizes():
    from accelsim.rtl.host_core import HostCore

    from accelsim.errors import AccelsimError

    with pytest.raises(AccelsimError, match="imem_words must be a power of two >= 2, not 100"):
        HostCore(imem_words=100, dmem_words=256)
    with pytest.raises(AccelsimError, match="dmem_words must be a power of two >= 2, not 0"):
        HostCore(imem_words=256, dmem_words=0)


@pytest.mark.rtl
@pytest.mark.parametrize("sim, seed", [
    ("icarus", 1), pytest.param("verilator", 2, marks=pytest.mark.slow),
])
def test_host_core_runs_programs_like_the_iss(tmp_path, sim, seed):
    from accelsim.rtl.host_core import HostCore

    tests, failed = run_component_bench(
        tmp_path,
        sim,
        HostCore(IMEM_WORDS, DMEM_WORDS),
        toplevel="host_core",
        bench="bench_host_core",
        env={
            "ACCELSIM_SEED": str(seed),
            "ACCELSIM_IMEM_WORDS": str(IMEM_WORDS),
            "ACCELSIM_DMEM_WORDS": str(DMEM_WORDS),
        },
    )
    assert (tests, failed) == (2, 0)
