/* MUL, MULH, MULHU, MULHSU, DIV, DIVU, REM, REMU on negative operands, INT_MIN, and division by zero. C
 * leaves x / 0 and INT_MIN / -1 undefined, so on RISC-V the instruction runs (inline asm) and natively the
 * spec's result is computed in C: both must print the same. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __riscv
#define RV_OP(name, insn, type)                                          \
    static type name(type a, type b)                                     \
    {                                                                    \
        type r;                                                          \
        __asm__ volatile(insn " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); \
        return r;                                                        \
    }
RV_OP(rv_div, "div", int32_t)
RV_OP(rv_divu, "divu", uint32_t)
RV_OP(rv_rem, "rem", int32_t)
RV_OP(rv_remu, "remu", uint32_t)
#else
static int32_t rv_div(int32_t a, int32_t b) { return b == 0 ? -1 : (a == INT_MIN && b == -1) ? a : a / b; }
static uint32_t rv_divu(uint32_t a, uint32_t b) { return b == 0 ? UINT32_MAX : a / b; }
static int32_t rv_rem(int32_t a, int32_t b) { return b == 0 ? a : (a == INT_MIN && b == -1) ? 0 : a % b; }
static uint32_t rv_remu(uint32_t a, uint32_t b) { return b == 0 ? a : a % b; }
#endif

static const int32_t values[] = {0, 1, -1, 2, -2, 7, -7, 3, 1000003, -999983, INT_MAX, INT_MIN, 0x12345678,
                                 -0x12345678};

int main(void)
{
    unsigned n = sizeof values / sizeof values[0];
    uint32_t check = 0;
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n; j++) {
            volatile int32_t a = values[i], b = values[j];
            int64_t p = (int64_t)a * b;
            uint64_t pu = (uint64_t)(uint32_t)a * (uint32_t)b;
            int64_t psu = (int64_t)a * (int64_t)(uint32_t)b;
            printf("%d %d: mul %d mulh %d mulhu %u mulhsu %d div %d divu %u rem %d remu %u\n", a, b, a * b,
                   (int32_t)(p >> 32), (uint32_t)(pu >> 32), (int32_t)(psu >> 32), rv_div(a, b),
                   rv_divu(a, b), rv_rem(a, b), rv_remu(a, b));
            check = check * 31 + (uint32_t)rv_div(a, b) + (uint32_t)rv_rem(a, b);
        }
    printf("check %08x\n", check);
    return (int)(check & 0x7f);
}
