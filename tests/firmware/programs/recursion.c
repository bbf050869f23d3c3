/* Recursion: the stack at the top of RAM, calls and returns (JAL/JALR), deep enough to matter. */
#include <stdio.h>

static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static unsigned ackermann(unsigned m, unsigned n)
{
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

static int hanoi(int n, int from, int to, int via, int *moves)
{
    if (n == 0)
        return 0;
    hanoi(n - 1, from, via, to, moves);
    (*moves)++;
    if (n == 4)
        printf("move disk 4 %d->%d\n", from, to);
    return hanoi(n - 1, via, to, from, moves);
}

int main(void)
{
    int moves = 0;
    for (int i = 0; i <= 15; i += 5)
        printf("fib(%d) = %d\n", i, fib(i));
    printf("ackermann(2, 3) = %u\n", ackermann(2, 3));
    hanoi(6, 1, 3, 2, &moves);
    printf("hanoi(6) moves = %d\n", moves);
    return fib(12) % 256;
}
