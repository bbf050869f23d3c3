// accelsim's environment for the riscv-tests (rv32ui, rv32um) on the RTL SoC (tests/rtl/soc_programs.py).
// Machine mode, no virtual memory. ACCELSIM_EXIT (the EXIT register's address, accelsim.host.soc_map.EXIT)
// comes from the compiler command line. Pass: exit code 0. Fail: exit code (TESTNUM << 1) | 1, as upstream's
// tohost. A trap (none is expected) exits with 0x1000 | mcause. Every register starts at 0 (the register file
// is not reset, and the lockstep reference starts from zeros).
#ifndef ACCELSIM_RISCV_TEST_H
#define ACCELSIM_RISCV_TEST_H

#define RVTEST_RV32U .macro init; .endm
#define RVTEST_RV64U RVTEST_RV32U
#define TESTNUM gp

#define ACCELSIM_ZERO_REGS \
  li x1, 0; li x2, 0; li x3, 0; li x4, 0; li x5, 0; li x6, 0; li x7, 0; li x8, 0; li x9, 0; li x10, 0; \
  li x11, 0; li x12, 0; li x13, 0; li x14, 0; li x15, 0; li x16, 0; li x17, 0; li x18, 0; li x19, 0; \
  li x20, 0; li x21, 0; li x22, 0; li x23, 0; li x24, 0; li x25, 0; li x26, 0; li x27, 0; li x28, 0; \
  li x29, 0; li x30, 0; li x31, 0

#define RVTEST_CODE_BEGIN \
  .section .text.init; .align 6; .globl _start; \
_start: \
  ACCELSIM_ZERO_REGS; \
  la t0, accelsim_trap; csrw mtvec, t0; li t0, 0; \
  init; j accelsim_tests; \
  .align 2; \
accelsim_trap: \
  csrr a0, mcause; li t0, 0x1000; or a0, a0, t0; li t0, ACCELSIM_EXIT; sw a0, 0(t0); \
1: j 1b; \
accelsim_tests:

#define RVTEST_CODE_END unimp

#define RVTEST_PASS \
  fence; li a0, 0; li t0, ACCELSIM_EXIT; sw a0, 0(t0); \
1: j 1b

#define RVTEST_FAIL \
  fence; \
1: beqz TESTNUM, 1b; \
  sll a0, TESTNUM, 1; or a0, a0, 1; li t0, ACCELSIM_EXIT; sw a0, 0(t0); \
2: j 2b

#define EXTRA_DATA
#define RVTEST_DATA_BEGIN EXTRA_DATA .align 4; .global begin_signature; begin_signature:
#define RVTEST_DATA_END .align 4; .global end_signature; end_signature:

#endif
