/* Reset entry of every firmware ELF (docs/host.md, "Firmware layout").
 * RAM is unified and loaded in place before reset, so .data needs no copy: set gp, sp (top of RAM), tp (the
 * TLS block picolibc keeps errno in), mtvec; clear .bss and .tbss; run constructors; call main(0, 0) and
 * write its return value to the EXIT register. A trap nobody handles ends the run with exit code
 * 128 + mcause (a bad pointer handed to printf faults instead of hanging). */
#include "soc.h"

    .section .text.init, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, __stack_top
    la      tp, __tls_base
    la      t0, __trap_entry
    csrw    mtvec, t0
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sw      zero, 0(t0)
    addi    t0, t0, 4
    j       1b
2:  call    __libc_init_array
    li      a0, 0
    li      a1, 0
    call    main
    .globl  _exit
_exit:                          /* void _exit(int status): picolibc's exit() ends here too */
    li      t0, SOC_EXIT
    sw      a0, 0(t0)
3:  j       3b

    .align  2
    .weak   __trap_entry
__trap_entry:
    csrr    a0, mcause
    addi    a0, a0, 128
    li      t0, SOC_EXIT
    sw      a0, 0(t0)
4:  j       4b
