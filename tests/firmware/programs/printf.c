/* printf's conversions through picolibc's stdio onto the console. */
#include <limits.h>
#include <stdio.h>

int main(void)
{
    printf("%d %d %d %d\n", 0, 42, -42, INT_MIN);
    printf("%u %x %X %08x %#x\n", 3000000000u, 0xdeadbeefu, 0xabcu, 0x1234u, 255u);
    printf("[%5d] [%-5d] [%05d] [%+d]\n", 7, 7, -7, 7);
    printf("%s|%10s|%-10s|%.3s\n", "host", "right", "left", "truncated");
    printf("%c%c%c %%\n", 'a', 'b', 'c');
    printf("%ld %lu %lld %llx\n", -123456789L, 4000000000UL, -9876543210LL, 0x123456789abcdefULL);
    puts("puts line");
    putchar('!');
    putchar('\n');
    return 0;
}
