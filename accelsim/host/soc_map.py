"""The SoC contract: memory map and per-instruction-class cycle costs of the RISC-V host (issue 9).

One copy, read by every consumer: the Amaranth core and SoC (``rtl/host_core.py``, ``rtl/soc.py``), the
firmware header generator (``firmware/``'s ``soc.h``), and the model's instruction-level host (the ISS).
Changing a number here changes all of them; the lockstep and co-simulation tests hold them equal.

Memory map (byte addresses, little-endian, one hart):
    RAM_BASE .. RAM_BASE + ram_bytes        unified instruction + data RAM (power-of-two size, default
                                            RAM_BYTES_DEFAULT); the ELF's PT_LOAD segments are placed here
                                            before reset is released; the stack starts at the top.
    MMIO_BASE ..                            device registers (32-bit, word-aligned; SB/SH to them act on the
                                            whole word with the store's rs2 value):
      CMD0..CMD5   (W)  the six 32-bit words of one 192-bit command, CMD0 = bits [31:0]. The store to CMD5
                        presents the command to the dispatcher in that store's execute cycle; the core stays
                        in that cycle while the dispatcher cannot accept (back-pressure), so the accept cycle
                        is the command's dispatch cycle ``d_i`` of ``accelsim.schedule``.
      FENCES       (R)  number of FENCE commands released since reset (wraps at 2**32). Firmware waits for a
                        FENCE by reading FENCES before issuing it and spinning until it changes.
      STATUS       (R)  bit 0: the dispatcher would accept a command this cycle; bit 1: idle (no command
                        queued or running). Sampled in the load's execute cycle.
      CONSOLE      (W)  low byte is one character of the program's standard output.
      EXIT         (W)  ends the simulation; the stored value is the program's exit code.
    A load from MMIO reads the register as it is in the load's execute cycle. Any other address outside RAM
    and these registers (the gap between STATUS and CONSOLE included) is an access fault (the core traps
    with mcause 5 / 7).

Core timing (multi-cycle, in order: FETCH -> EXECUTE [-> extra cycles]); cycles per retired instruction:
    CPI_LOAD    loads (LB LH LW LBU LHU), from RAM or MMIO
    CPI_MUL     MUL MULH MULHSU MULHU
    CPI_DIV     DIV DIVU REM REMU (fixed, whatever the operands, division by zero included)
    CPI_OTHER   every other instruction: ALU, LUI/AUIPC, branches taken or not, JAL/JALR, stores, CSR
                instructions, FENCE/FENCE.I, MRET, and an instruction that traps (ECALL, EBREAK, illegal)
    a store to CMD5 takes CPI_OTHER + the cycles it waits for the dispatcher.
Counters: ``mcycle``/``cycle`` count cycles since reset was released (cycle 0 is the first FETCH);
``minstret``/``instret`` count retired instructions (a trapping instruction does not retire).
"""

from __future__ import annotations

RAM_BASE = 0x0000_0000
RAM_BYTES_DEFAULT = 1 << 16  # 64 KiB: picolibc's printf + the layer driver fit with room for the stack

MMIO_BASE = 0x8000_0000
CMD0 = MMIO_BASE + 0x00
CMD1 = MMIO_BASE + 0x04
CMD2 = MMIO_BASE + 0x08
CMD3 = MMIO_BASE + 0x0C
CMD4 = MMIO_BASE + 0x10
CMD5 = MMIO_BASE + 0x14  # the last command word: its store presents the command
FENCES = MMIO_BASE + 0x18
STATUS = MMIO_BASE + 0x1C
CONSOLE = MMIO_BASE + 0x28  # 0x20 and 0x24 are not registers (a gap that faults)
EXIT = MMIO_BASE + 0x2C
MMIO_END = MMIO_BASE + 0x30  # first byte past the registers
COMMAND_REGISTERS = (CMD0, CMD1, CMD2, CMD3, CMD4, CMD5)  # one per 32-bit word of a command, lsb first
REGISTERS = (*COMMAND_REGISTERS, FENCES, STATUS, CONSOLE, EXIT)

STATUS_READY = 1 << 0
STATUS_IDLE = 1 << 1

CPI_OTHER = 2
CPI_LOAD = 3
CPI_MUL = 3
CPI_DIV = 2 + 32  # an iterative radix-2 divider: one quotient bit a cycle

# mcause codes the core raises (the privileged spec's)
CAUSE_FETCH_MISALIGNED = 0  # a taken jump or branch to a target that is not 4-byte aligned (no C extension)
CAUSE_ILLEGAL = 2
CAUSE_BREAKPOINT = 3
CAUSE_LOAD_FAULT = 5
CAUSE_STORE_FAULT = 7
CAUSE_ECALL_M = 11
