/* A bare-metal program for the SoC's RV32IM host: `accelsim firmware build examples/hello.c -o hello.elf`,
   then `accelsim rtl run --elf hello.elf` (the RTL) prints what it prints and exits with main's value. */
#include <stdio.h>

static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(void) {
    printf("hello from RV32IM: fib(15) = %d, -7 / 2 = %d, -7 %% 2 = %d\n", fib(15), -7 / 2, -7 % 2);
    return 0;
}
