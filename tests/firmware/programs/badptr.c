/* A bad pointer handed to printf: the load faults, crt0's trap handler ends the run (exit 128 + mcause). */
#include <stdio.h>

int main(void)
{
    printf("before\n");
    printf("%s\n", (const char *)0x90000000u);
    printf("after\n");
    return 0;
}
