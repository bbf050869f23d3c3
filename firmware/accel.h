/* The accelerator's command port, for C firmware (docs/host.md; the encoding is docs/microarchitecture.md's).
 *
 * Every bit position comes from the generated accel_fields.h (accelsim.commands) and every address from
 * soc.h (accelsim.host.soc_map): C and Python cannot drift. A command is six 32-bit words, CMD0 = bits
 * [31:0]; the store to CMD5 presents it and stalls while the dispatcher's queue is full. LOAD, PRELOAD,
 * COMPUTE and STORE name the first scratchpad / accumulator row they use (``addr``, ``addr2``,
 * ``acc_addr``). The encoders take
 * values the caller knows fit their fields (the loader validated the layer); with constant field positions
 * gcc -O2 folds each put into a shift and an or. */
#ifndef ACCELSIM_ACCEL_H
#define ACCELSIM_ACCEL_H

#include <stdint.h>

#include "accel_fields.h"
#include "soc.h"

#define ACCEL_INLINE static inline __attribute__((always_inline))
#define ACCEL_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define ACCEL_CMD_WORDS 6
_Static_assert(ACCEL_F_ACC_ADDR_LSB + ACCEL_F_ACC_ADDR_WIDTH <= 32 * ACCEL_CMD_WORDS, "six words a command");

typedef struct {
    uint32_t w[ACCEL_CMD_WORDS];
} accel_cmd_t;

/* Or ``v`` (< 2**width, width <= 32) into bits [lsb, lsb+width) of the 192-bit command. */
ACCEL_INLINE void accel_put(accel_cmd_t *c, unsigned lsb, unsigned width, uint32_t v)
{
    unsigned i = lsb >> 5, s = lsb & 31;
    c->w[i] |= v << s;
    if (s != 0 && s + width > 32)
        c->w[i + 1] |= v >> (32 - s);
}
#define ACCEL_PUT(c, field, v) accel_put((c), ACCEL_F_##field##_LSB, ACCEL_F_##field##_WIDTH, (uint32_t)(v))

/* The dependency flags as one nibble: bit 0 pop_prev, 1 pop_next, 2 push_prev, 3 push_next. */
#define ACCEL_POP_PREV 1u
#define ACCEL_POP_NEXT 2u
#define ACCEL_PUSH_PREV 4u
#define ACCEL_PUSH_NEXT 8u

ACCEL_INLINE accel_cmd_t accel_head(unsigned op, unsigned deps)
{
    accel_cmd_t c = {{0}};
    ACCEL_PUT(&c, OP, op);
    ACCEL_PUT(&c, POP_PREV, deps & 1u);
    ACCEL_PUT(&c, POP_NEXT, (deps >> 1) & 1u);
    ACCEL_PUT(&c, PUSH_PREV, (deps >> 2) & 1u);
    ACCEL_PUT(&c, PUSH_NEXT, (deps >> 3) & 1u);
    return c;
}

/* Present a command: six stores, CMD5 last. */
ACCEL_INLINE void accel_issue(const accel_cmd_t *c)
{
    ACCEL_REG(SOC_CMD0) = c->w[0];
    ACCEL_REG(SOC_CMD1) = c->w[1];
    ACCEL_REG(SOC_CMD2) = c->w[2];
    ACCEL_REG(SOC_CMD3) = c->w[3];
    ACCEL_REG(SOC_CMD4) = c->w[4];
    ACCEL_REG(SOC_CMD5) = c->w[5];
}

ACCEL_INLINE uint32_t accel_status(void) { return ACCEL_REG(SOC_STATUS); }
ACCEL_INLINE uint32_t accel_fences(void) { return ACCEL_REG(SOC_FENCES); }
ACCEL_INLINE int accel_ready(void) { return (accel_status() & SOC_STATUS_READY) != 0; }
ACCEL_INLINE int accel_idle(void) { return (accel_status() & SOC_STATUS_IDLE) != 0; }

/* Spin until FENCES differs from ``before`` (read before the FENCE was issued). */
ACCEL_INLINE void accel_wait_fence(uint32_t before)
{
    while (accel_fences() == before)
        ;
}

/* CONFIG ``reg`` with a 96-bit value given as three 32-bit words, least significant first. */
ACCEL_INLINE accel_cmd_t accel_config_cmd(unsigned reg, uint32_t v0, uint32_t v1, uint32_t v2)
{
    accel_cmd_t c = {{0}};
    ACCEL_PUT(&c, OP, ACCEL_OP_CONFIG);
    ACCEL_PUT(&c, REG, reg);
    accel_put(&c, ACCEL_F_VALUE_LSB, 32, v0);
    accel_put(&c, ACCEL_F_VALUE_LSB + 32, 32, v1);
    accel_put(&c, ACCEL_F_VALUE_LSB + 64, 32, v2);
    return c;
}

/* Or a CONFIG sub-field (lsb inside the value, width <= 32) into a 96-bit value held as three words. */
ACCEL_INLINE void accel_value_put(uint32_t v[3], unsigned lsb, unsigned width, uint32_t x)
{
    unsigned i = lsb >> 5, s = lsb & 31;
    v[i] |= x << s;
    if (s != 0 && s + width > 32)
        v[i + 1] |= x >> (32 - s);
}
#define ACCEL_CFG_PUT(v, reg, sub, x) \
    accel_value_put((v), ACCEL_CFG_##reg##_##sub##_LSB, ACCEL_CFG_##reg##_##sub##_WIDTH, (uint32_t)(x))

/* LOAD of the input tensor: rows x lanes from pixel (n0, e0, f0), reduction index (c0, r0, s0), into ifmap
 * spad rows addr .. addr + rows - 1. */
ACCEL_INLINE accel_cmd_t accel_load_input_cmd(unsigned deps, uint32_t addr, uint32_t rows, uint32_t lanes,
                                              uint32_t n0, uint32_t e0, uint32_t f0, uint32_t c0, uint32_t r0,
                                              uint32_t s0)
{
    accel_cmd_t c = accel_head(ACCEL_OP_LOAD, deps);
    ACCEL_PUT(&c, ADDR, addr);
    ACCEL_PUT(&c, OPERAND, ACCEL_OPERAND_INPUT);
    ACCEL_PUT(&c, ROWS, rows);
    ACCEL_PUT(&c, LANES, lanes);
    ACCEL_PUT(&c, N0, n0);
    ACCEL_PUT(&c, E0, e0);
    ACCEL_PUT(&c, F0, f0);
    ACCEL_PUT(&c, C0, c0);
    ACCEL_PUT(&c, R0, r0);
    ACCEL_PUT(&c, S0, s0);
    return c;
}

/* LOAD of the weights: rows x lanes from output channel m0 (absolute), reduction index k0, into weight spad
 * rows addr .. */
ACCEL_INLINE accel_cmd_t accel_load_weight_cmd(unsigned deps, uint32_t addr, uint32_t rows, uint32_t lanes,
                                               uint32_t m0, uint32_t k0)
{
    accel_cmd_t c = accel_head(ACCEL_OP_LOAD, deps);
    ACCEL_PUT(&c, ADDR, addr);
    ACCEL_PUT(&c, OPERAND, ACCEL_OPERAND_WEIGHT);
    ACCEL_PUT(&c, ROWS, rows);
    ACCEL_PUT(&c, LANES, lanes);
    ACCEL_PUT(&c, M0, m0);
    ACCEL_PUT(&c, K0, k0);
    return c;
}

/* PRELOAD of the stationary tile's K_t (``lanes``) rows from spad row addr (a multiple of V). */
ACCEL_INLINE accel_cmd_t accel_preload_cmd(unsigned deps, uint32_t addr, uint32_t lanes)
{
    accel_cmd_t c = accel_head(ACCEL_OP_PRELOAD, deps);
    ACCEL_PUT(&c, ADDR, addr);
    ACCEL_PUT(&c, LANES, lanes);
    return c;
}

/* COMPUTE: ``rows`` streamed from spad row addr (OS: the ifmap's; addr2 the weights', k_rows = K_t; both 0
 * in WS and IS) into accumulator rows from acc_addr. */
ACCEL_INLINE accel_cmd_t accel_compute_cmd(unsigned deps, uint32_t addr, uint32_t addr2, uint32_t acc_addr,
                                           unsigned accumulate, uint32_t rows, uint32_t k_rows)
{
    accel_cmd_t c = accel_head(ACCEL_OP_COMPUTE, deps);
    ACCEL_PUT(&c, ADDR, addr);
    ACCEL_PUT(&c, ADDR2, addr2);
    ACCEL_PUT(&c, ACC_ADDR, acc_addr);
    ACCEL_PUT(&c, ACCUMULATE, accumulate);
    ACCEL_PUT(&c, ROWS, rows);
    ACCEL_PUT(&c, K_ROWS, k_rows);
    return c;
}

ACCEL_INLINE accel_cmd_t accel_store_cmd(unsigned deps, uint32_t acc_addr, uint32_t rows, uint32_t lanes,
                                         uint32_t n0, uint32_t e0, uint32_t f0, uint32_t m0)
{
    accel_cmd_t c = accel_head(ACCEL_OP_STORE, deps);
    ACCEL_PUT(&c, ACC_ADDR, acc_addr);
    ACCEL_PUT(&c, ROWS, rows);
    ACCEL_PUT(&c, LANES, lanes);
    ACCEL_PUT(&c, N0, n0);
    ACCEL_PUT(&c, E0, e0);
    ACCEL_PUT(&c, F0, f0);
    ACCEL_PUT(&c, M0, m0);
    return c;
}

ACCEL_INLINE accel_cmd_t accel_fence_cmd(void) { return accel_head(ACCEL_OP_FENCE, 0); }

/* Issue a FENCE and wait until the accelerator releases it (every earlier command done). */
ACCEL_INLINE void accel_fence(void)
{
    uint32_t before = accel_fences();
    accel_cmd_t c = accel_fence_cmd();
    accel_issue(&c);
    accel_wait_fence(before);
}

#endif
