/* The layer driver: walks accelsim.mapping's tiling loop nest for the layer in ``accel_layer`` and issues
 * the same command stream as mapping.program(mapping.lower(layer, arch)): the CONFIGs, every step's
 * LOADs/PRELOAD/COMPUTE/STORE with their dependency flags, and the FENCE, which it waits for.
 *
 * The loader (accelsim.host.driver) writes the layer and arch into ``accel_layer`` after validating them
 * with mapping.lower, so nothing here checks limits. Nothing per step divides or packs a field: a tile's
 * commands are built once and a steady k-step only swaps in prebuilt words for its buffer (the loop is
 * unrolled by 2), adds a pre-shifted k0 and ors in the reduction index's words from a one-period table
 * (docs/host.md, "How the driver is fast"). The layer's first and last tiles, and layers the table cannot
 * serve, take the general path (every flag computed: mapping's ``near`` as comparisons of the step and tile
 * counters with their ends). */
#include <stdint.h>

#include "accel.h"
#include "accel_layer.h"

struct accel_layer accel_layer = {.magic = ACCEL_LAYER_MAGIC};

/* A position (hi, mid, lo) in a mixed-radix number with digits lo < lo_n, mid < mid_n: the pixel
 * (n, e, f) of a GEMM row or the reduction index (c, r, s) of a k. */
struct coord {
    uint32_t hi, mid, lo;
};

/* c += step, where step = (dhi, dmid, dlo) is the tile size in the same radix (dmid < mid_n, dlo < lo_n). */
static inline __attribute__((always_inline)) void coord_add(struct coord *c, const struct coord *step,
                                                            uint32_t mid_n, uint32_t lo_n)
{
    uint32_t lo = c->lo + step->lo, mid = c->mid + step->mid, hi = c->hi + step->hi;
    if (lo >= lo_n) {
        lo -= lo_n;
        mid += 1;
    }
    if (mid >= mid_n) {
        mid -= mid_n;
        hi += 1;
    }
    c->lo = lo;
    c->mid = mid;
    c->hi = hi;
}

/* One output tile: everything its steps' commands need but k. ``index`` is the step index of its k = 0. */
struct tile {
    uint32_t index, tile_index, P_t, M_t, mabs;
    struct coord px;
};

struct plan {
    uint32_t groups, Cg, Mg, E, F, R, S;
    uint32_t P_T, K_T, M_T, P_L, K_L, M_L;
    uint32_t rows_T, rows_L; /* OS: the COMPUTE's stream over k of a full and the last k-tile */
    uint32_t x_slot, w_slot, acc_slot; /* mapping.slot_rows: buffer b of a memory starts at row b * slot */
    uint32_t p_tiles, k_tiles, m_tiles;
    uint32_t steps, tiles;
    struct coord p_step, k_step; /* P_T as (n, e, f), K_T as (c, r, s) */
};

static inline uint64_t align_up(uint64_t a) { return (a + ACCEL_DRAM_ALIGN_BYTES - 1) / ACCEL_DRAM_ALIGN_BYTES * ACCEL_DRAM_ALIGN_BYTES; }
/* A divide costs 34 cycles, before the first command: skip it where the divisor is often 1 (stride, groups,
 * 1x1 kernels) or the quotient is 1. */
static inline uint32_t div1(uint32_t a, uint32_t b) { return b == 1 ? a : a / b; }
static inline uint32_t mod1(uint32_t a, uint32_t b) { return b == 1 ? 0 : a % b; }

static inline __attribute__((always_inline)) void issue(accel_cmd_t c) { accel_issue(&c); }

/* The CONFIG commands (mapping.config_commands) and the loop bounds: the full tiles and their counts are
 * mapping.lower's, from the descriptor (accelsim.host.driver.tiling_fields), the edge tiles what is left. */
static void configure(const struct accel_layer *L, struct plan *p)
{
    const uint32_t df = L->dataflow;
    const uint32_t E = div1(L->H + 2 * L->pad - L->R, L->stride) + 1;
    const uint32_t F = div1(L->W + 2 * L->pad - L->S, L->stride) + 1;
    const uint32_t Cg = div1(L->C, L->groups), Mg = div1(L->M, L->groups), RS = L->R * L->S;
    const uint32_t K = Cg * RS, EF = E * F, P = L->N * EF;

    p->P_T = L->P_T;
    p->K_T = L->K_T;
    p->M_T = L->M_T;
    p->rows_T = L->os_rows_T;
    p->rows_L = L->os_rows_L;
    p->x_slot = L->ifmap_slot;
    p->w_slot = L->weight_slot;
    p->acc_slot = L->acc_slot;
    p->groups = L->groups;
    p->Cg = Cg;
    p->Mg = Mg;
    p->E = E;
    p->F = F;
    p->R = L->R;
    p->S = L->S;
    p->p_tiles = L->p_tiles;
    p->k_tiles = L->k_tiles;
    p->m_tiles = L->m_tiles;
    p->P_L = P - (p->p_tiles - 1) * p->P_T;
    p->K_L = K - (p->k_tiles - 1) * p->K_T;
    p->M_L = Mg - (p->m_tiles - 1) * p->M_T;
    p->tiles = L->groups * p->p_tiles * p->m_tiles;
    p->steps = p->tiles * p->k_tiles;
    if (p->p_tiles > 1)
        p->p_step = (struct coord){div1(p->P_T, EF), mod1(div1(p->P_T, F), E), mod1(p->P_T, F)};
    else /* only advances past the last tile: no divide, but no uninitialised stack either */
        p->p_step = (struct coord){0, 0, 0};
    p->k_step = (struct coord){div1(p->K_T, RS), mod1(div1(p->K_T, L->S), L->R), mod1(p->K_T, L->S)};

    /* DRAM placement (mapping.lower): input at 0, then weights, then outputs, each 64-byte aligned */
    const uint64_t w_base = align_up((uint64_t)L->N * L->C * L->H * L->W);
    const uint64_t out_base = w_base + align_up((uint64_t)L->M * K);

    uint32_t v[3] = {0, 0, 0};
    ACCEL_CFG_PUT(v, SHAPE0, N, L->N);
    ACCEL_CFG_PUT(v, SHAPE0, C, L->C);
    ACCEL_CFG_PUT(v, SHAPE0, H, L->H);
    ACCEL_CFG_PUT(v, SHAPE0, W, L->W);
    issue(accel_config_cmd(ACCEL_CFG_SHAPE0, v[0], v[1], v[2]));
    v[0] = v[1] = v[2] = 0;
    ACCEL_CFG_PUT(v, SHAPE1, M, L->M);
    ACCEL_CFG_PUT(v, SHAPE1, R, L->R);
    ACCEL_CFG_PUT(v, SHAPE1, S, L->S);
    ACCEL_CFG_PUT(v, SHAPE1, E, E);
    ACCEL_CFG_PUT(v, SHAPE1, F, F);
    issue(accel_config_cmd(ACCEL_CFG_SHAPE1, v[0], v[1], v[2]));
    v[0] = v[1] = v[2] = 0;
    ACCEL_CFG_PUT(v, SHAPE2, STRIDE, L->stride);
    ACCEL_CFG_PUT(v, SHAPE2, PAD, L->pad);
    ACCEL_CFG_PUT(v, SHAPE2, CG, Cg);
    ACCEL_CFG_PUT(v, SHAPE2, MG, Mg);
    ACCEL_CFG_PUT(v, SHAPE2, K, K);
    issue(accel_config_cmd(ACCEL_CFG_SHAPE2, v[0], v[1], v[2]));
    v[0] = v[1] = v[2] = 0;
    ACCEL_CFG_PUT(v, ADDR, X_BASE, 0);
    ACCEL_CFG_PUT(v, ADDR, W_BASE, (uint32_t)w_base);
    ACCEL_CFG_PUT(v, ADDR, OUT_BASE, (uint32_t)out_base);
    issue(accel_config_cmd(ACCEL_CFG_ADDR, v[0], v[1], v[2]));
    v[0] = v[1] = v[2] = 0;
    ACCEL_CFG_PUT(v, MODE, DATAFLOW, df);
    ACCEL_CFG_PUT(v, MODE, REQUANTIZE, L->requantize);
    ACCEL_CFG_PUT(v, MODE, SHIFT, L->shift);
    ACCEL_CFG_PUT(v, MODE, X_BASE_HI, 0);
    ACCEL_CFG_PUT(v, MODE, W_BASE_HI, (uint32_t)(w_base >> 32));
    ACCEL_CFG_PUT(v, MODE, OUT_BASE_HI, (uint32_t)(out_base >> 32));
    issue(accel_config_cmd(ACCEL_CFG_MODE, v[0], v[1], v[2]));
}

/* The reduction table: the bits (c0, r0, s0) of a k-step's LOAD of the input contribute to command words 2
 * and 3; the table holds them, two words per k, for k = 0 .. E of the current group. The sequence repeats:
 * after E k-steps (r0, s0) is back to (0, 0) and c0 has advanced by a multiple of 2**C0_W2_BITS (its bits in
 * word 2), so red(k + E) is red(k) with word 3 raised by ``dw``. E is 2 for a 1x1 kernel and 9 for 3x3 on a
 * 16-row array; the table lives in the free RAM between .bss and the stack (link.ld's heap), so nothing
 * clears it at reset. */
extern uint32_t __heap_start[], __heap_end[];

_Static_assert(ACCEL_BUFFERS == 2, "the steady-state loop is unrolled by 2: buf = index % 2");
_Static_assert(ACCEL_F_C0_LSB > 64 && ACCEL_F_C0_LSB <= 96 && ACCEL_F_C0_LSB + ACCEL_F_C0_WIDTH <= 128 &&
                   ACCEL_F_R0_LSB >= 64 && ACCEL_F_S0_LSB >= 64,
               "the reduction index lies in command words 2 and 3, c0 reaching into word 3");
_Static_assert(ACCEL_F_K0_LSB >= 32 && ACCEL_F_K0_LSB < 64, "k0 starts in command word 1");
_Static_assert(ACCEL_F_ADDR_LSB >= 128 && ACCEL_F_ACC_ADDR_LSB >= 128,
               "the rows lie in words 4 and 5: k0's and the reduction index's words do not move them");
#define K0_SHIFT (ACCEL_F_K0_LSB - 32)
#define K0_WORD1_LIMIT (1u << (64 - ACCEL_F_K0_LSB)) /* k0 below it: all of k0 lies in word 1 */
#define C0_W2_BITS (96 - ACCEL_F_C0_LSB)             /* the low bits of c0, in word 2 */
#define TABLE_PENDING 0xffffffffu                    /* struct redtab's E before the first tile fills it */

#define INLINE static inline __attribute__((always_inline))


/* The group's reduction table: entries 0 .. min(E, k_tiles - 1) of two words (red_words); red(k + E) =
 * red(k) + (0, dw). */
struct redtab {
    uint32_t *tab;
    uint32_t E, dw;
};

/* The reduction index's bits in words 2 and 3 of a LOAD of the input. */
INLINE void red_words(const struct coord *red, uint32_t out[2])
{
    accel_cmd_t c = {{0}};
    ACCEL_PUT(&c, C0, red->hi);
    ACCEL_PUT(&c, R0, red->mid);
    ACCEL_PUT(&c, S0, red->lo);
    out[0] = c.w[2];
    out[1] = c.w[3];
}

/* The first row of buffer ``buf`` of a memory whose slot is ``slot`` rows (mapping.slot_rows). */
INLINE uint32_t slot_of(uint32_t slot, unsigned buf) { return buf ? slot : 0; }

/* The LOADs of a step with (c0, r0, s0) = 0 (the caller ors in the table's words), in each dataflow's shape,
 * into buffer ``buf`` of their spad. */
INLINE accel_cmd_t li_cmd(const struct plan *p, const unsigned df, unsigned deps, unsigned buf, uint32_t P_t,
                          uint32_t K_t, const struct coord *px)
{
    const uint32_t row = slot_of(p->x_slot, buf);
    if (df == ACCEL_DF_WS)
        return accel_load_input_cmd(deps, row, P_t, K_t, px->hi, px->mid, px->lo, 0, 0, 0);
    return accel_load_input_cmd(deps, row, K_t, P_t, px->hi, px->mid, px->lo, 0, 0, 0);
}

INLINE accel_cmd_t lw_cmd(const struct plan *p, const unsigned df, unsigned deps, unsigned buf, uint32_t M_t,
                          uint32_t K_t, uint32_t mabs, uint32_t k0)
{
    const uint32_t row = slot_of(p->w_slot, buf);
    if (df == ACCEL_DF_IS)
        return accel_load_weight_cmd(deps, row, M_t, K_t, mabs, k0);
    return accel_load_weight_cmd(deps, row, K_t, M_t, mabs, k0);
}

/* PRELOAD of buffer ``buf`` of the stationary operand's spad (WS: weights, IS: inputs). */
INLINE accel_cmd_t pre_cmd(const struct plan *p, const unsigned df, unsigned buf, uint32_t K_t)
{
    return accel_preload_cmd(ACCEL_POP_PREV, slot_of(df == ACCEL_DF_IS ? p->x_slot : p->w_slot, buf), K_t);
}

/* COMPUTE streaming buffer ``buf`` (WS: inputs, IS: weights, OS: both, with K_t) into accumulator buffer
 * ``acc_buf``. */
INLINE accel_cmd_t comp_cmd(const struct plan *p, const unsigned df, unsigned deps, unsigned buf,
                            unsigned acc_buf, unsigned accumulate, uint32_t rows, uint32_t K_t)
{
    const uint32_t x = slot_of(p->x_slot, buf), w = slot_of(p->w_slot, buf);
    return accel_compute_cmd(deps, df == ACCEL_DF_IS ? w : x, df == ACCEL_DF_OS ? w : 0,
                             slot_of(p->acc_slot, acc_buf), accumulate, rows, df == ACCEL_DF_OS ? K_t : 0);
}

/* The STORE of a tile from accumulator buffer ``acc_buf``. */
INLINE void store(const struct plan *p, const unsigned df, unsigned deps, unsigned acc_buf,
                  const struct tile *t)
{
    const uint32_t row = slot_of(p->acc_slot, acc_buf);
    if (df == ACCEL_DF_IS)
        issue(accel_store_cmd(deps, row, t->M_t, t->P_t, t->px.hi, t->px.mid, t->px.lo, t->mabs));
    else
        issue(accel_store_cmd(deps, row, t->P_t, t->M_t, t->px.hi, t->px.mid, t->px.lo, t->mabs));
}

/* A COMPUTE's rows: WS streams the tile's pixels, IS its channels, OS its k-tile (``k_rows``: rows_T or
 * rows_L, ceil(K_t / V)). */
INLINE uint32_t stream_of(const unsigned df, uint32_t P_t, uint32_t M_t, uint32_t k_rows)
{
    return df == ACCEL_DF_WS ? P_t : df == ACCEL_DF_IS ? M_t : k_rows;
}

/* A step's commands in issue order: the stationary operand's LOAD, the streamed one's, PRELOAD (not OS),
 * COMPUTE; ``li`` carries the reduction index already. */
INLINE void issue_step(const unsigned df, const accel_cmd_t *lw, const accel_cmd_t *li, const accel_cmd_t *pre,
                       const accel_cmd_t *comp)
{
    if (df == ACCEL_DF_IS) {
        accel_issue(li);
        accel_issue(lw);
    } else {
        accel_issue(lw);
        accel_issue(li);
    }
    if (df != ACCEL_DF_OS)
        accel_issue(pre);
    accel_issue(comp);
}

/* Any step k of tile ``t`` (mapping.step_program with every flag computed), (c0, r0, s0) given as its
 * words 2 and 3: the first and last k-steps of a tile, the layer's first and last BUFFERS steps, and every
 * step when the fast path does not apply. */
INLINE void step(const struct plan *p, const unsigned df, const struct tile *t, uint32_t k, uint32_t red2,
                 uint32_t red3)
{
    const uint32_t index = t->index + k;
    const int last_k = k == p->k_tiles - 1;
    const uint32_t K_t = last_k ? p->K_L : p->K_T;
    const unsigned buf = index % ACCEL_BUFFERS, acc_buf = t->tile_index % ACCEL_BUFFERS;
    const unsigned first_deps = index >= ACCEL_BUFFERS ? ACCEL_POP_NEXT : 0;
    const unsigned more = p->steps - 1 - index >= ACCEL_BUFFERS ? ACCEL_PUSH_PREV : 0;
    const unsigned free_acc = k == 0 && t->tile_index >= ACCEL_BUFFERS ? ACCEL_POP_NEXT : 0;
    accel_cmd_t li = li_cmd(p, df, df == ACCEL_DF_IS ? first_deps : ACCEL_PUSH_NEXT, buf, t->P_t, K_t, &t->px);
    li.w[2] |= red2;
    li.w[3] |= red3;
    const accel_cmd_t lw = lw_cmd(p, df, df == ACCEL_DF_IS ? ACCEL_PUSH_NEXT : first_deps, buf, t->M_t, K_t,
                                  t->mabs, k * p->K_T);
    const accel_cmd_t pre = pre_cmd(p, df, buf, K_t);
    const unsigned cdeps = (df == ACCEL_DF_OS ? ACCEL_POP_PREV : 0) | free_acc | more |
                           (last_k ? ACCEL_PUSH_NEXT : 0);
    const uint32_t stream = stream_of(df, t->P_t, t->M_t, last_k ? p->rows_L : p->rows_T);
    const accel_cmd_t comp = comp_cmd(p, df, cdeps, buf, acc_buf, k != 0, stream, K_t);
    issue_step(df, &lw, &li, &pre, &comp);
    if (last_k) {
        const unsigned sdeps =
            ACCEL_POP_PREV | (p->tiles - 1 - t->tile_index >= ACCEL_BUFFERS ? ACCEL_PUSH_PREV : 0);
        store(p, df, sdeps, acc_buf, t);
    }
}

/* Where the steady loop is: k0 in the weight LOAD's word 1 (pre-shifted), the reduction table's entry and
 * what word 3 has gained from its wraps. */
struct cursor {
    uint32_t lw1, c3;
    const uint32_t *r;
};

/* One steady k-step: k0's word ``lw1`` into the weight LOAD, reduction table entry ``r`` (two words) over
 * ``li2`` and the wraps' ``c3`` into the input LOAD, then the step's commands. */
INLINE void steady_step(const unsigned df, accel_cmd_t *lw, accel_cmd_t *li, const accel_cmd_t *pr,
                        const accel_cmd_t *cp, uint32_t lw1, uint32_t li2, const uint32_t *r, uint32_t c3)
{
    lw->w[1] = lw1;
    li->w[2] = li2 | r[0];
    li->w[3] = r[1] + c3;
    issue_step(df, lw, li, pr, cp);
}

/* ``n`` steady k-steps from ``cur`` (the ``x`` words for the first, 3rd, ..; ``y`` for the 2nd, 4th, ..),
 * unrolled by 2 so that buf is a constant in each half: per step only k0 (``dk`` added to the weight
 * LOAD's word 1) and the reduction index (two table words, or-ed into the input LOAD's words 2 and 3 over
 * ``li2``) change. A pair reads entries j and j + 1 <= E, then moves on by two: past E - 1 it wraps to
 * entry j - E with word 3 raised by dw. k0's word doubles as the loop counter. On return ``cur`` is at the
 * step after them (an odd tail moves r on by one entry, which stays <= E: no wrap). */
INLINE void steady(const unsigned df, uint32_t n, accel_cmd_t *lwx, accel_cmd_t *lix, const accel_cmd_t *prx,
                   const accel_cmd_t *cpx, accel_cmd_t *lwy, accel_cmd_t *liy, const accel_cmd_t *pry,
                   const accel_cmd_t *cpy, uint32_t li2, uint32_t dk, const struct redtab *rt,
                   struct cursor *cur)
{
    const uint32_t E = rt->E, dw = rt->dw;
    const uint32_t *const wrap = rt->tab + 2 * E;
    const uint32_t *r = cur->r;
    uint32_t lw1 = cur->lw1, c3 = cur->c3;
    const uint32_t lw1_end = lw1 + (n & ~1u) * dk;
    while (lw1 != lw1_end) {
        steady_step(df, lwx, lix, prx, cpx, lw1, li2, r, c3);
        lw1 += dk;
        steady_step(df, lwy, liy, pry, cpy, lw1, li2, r + 2, c3);
        lw1 += dk;
        r += 4;
        if (r >= wrap) {
            r -= 2 * E;
            c3 += dw;
        }
    }
    if (n & 1) {
        steady_step(df, lwx, lix, prx, cpx, lw1, li2, r, c3);
        lw1 += dk;
        r += 2;
    }
    cur->lw1 = lw1;
    cur->c3 = c3;
    cur->r = r;
}

/* Steps ka .. kb-1 of tile ``t``, all in the steady state: neither the first nor the last k-step of the
 * tile, none among the layer's first or last BUFFERS steps, so K_t = K_T and every flag is constant; k0 <
 * K0_WORD1_LIMIT. The commands are built once, for both buffers, and ``steady`` issues them. */
INLINE void fast_steps(const struct plan *p, const unsigned df, const struct tile *t, uint32_t ka, uint32_t kb,
                       const struct redtab *rt)
{
    const uint32_t K_T = p->K_T, n = kb - ka;
    const unsigned ba = (t->index + ka) % ACCEL_BUFFERS, bb = ba ^ 1, acc_buf = t->tile_index % ACCEL_BUFFERS;
    const unsigned lw_deps = df == ACCEL_DF_IS ? ACCEL_PUSH_NEXT : ACCEL_POP_NEXT;
    const unsigned li_deps = df == ACCEL_DF_IS ? ACCEL_POP_NEXT : ACCEL_PUSH_NEXT;
    const unsigned cdeps = (df == ACCEL_DF_OS ? ACCEL_POP_PREV : 0) | ACCEL_PUSH_PREV;
    const uint32_t stream = stream_of(df, t->P_t, t->M_t, p->rows_T);
    accel_cmd_t lwa = lw_cmd(p, df, lw_deps, ba, t->M_t, K_T, t->mabs, ka * K_T);
    accel_cmd_t lwb = lw_cmd(p, df, lw_deps, bb, t->M_t, K_T, t->mabs, ka * K_T);
    accel_cmd_t lia = li_cmd(p, df, li_deps, ba, t->P_t, K_T, &t->px);
    accel_cmd_t lib = li_cmd(p, df, li_deps, bb, t->P_t, K_T, &t->px);
    const accel_cmd_t pra = pre_cmd(p, df, ba, K_T);
    const accel_cmd_t prb = pre_cmd(p, df, bb, K_T);
    const accel_cmd_t cpa = comp_cmd(p, df, cdeps, ba, acc_buf, 1, stream, K_T);
    const accel_cmd_t cpb = comp_cmd(p, df, cdeps, bb, acc_buf, 1, stream, K_T);
    const uint32_t E = rt->E;
    uint32_t j = ka, c3 = 0;
    while (j >= E) { /* ka <= BUFFERS: at most twice */
        j -= E;
        c3 += rt->dw;
    }
    struct cursor cur = {lwa.w[1], c3, rt->tab + 2 * j};
    steady(df, kb - ka, &lwa, &lia, &pra, &cpa, &lwb, &lib, &prb, &cpb, lia.w[2], K_T << K0_SHIFT, rt, &cur);
}

/* A whole tile away from the layer's first and last BUFFERS steps: its first k-step, the steady ones and the
 * last (with K_L and the STORE), from one set of prebuilt words; with k_tiles = 1 its one step is both. */
INLINE void tile_fast(const struct plan *p, const unsigned df, const struct tile *t, const struct redtab *rt)
{
    const uint32_t K_T = p->K_T, kt = p->k_tiles;
    const unsigned ba = t->index % ACCEL_BUFFERS, acc_buf = t->tile_index % ACCEL_BUFFERS;
    const unsigned lw_deps = df == ACCEL_DF_IS ? ACCEL_PUSH_NEXT : ACCEL_POP_NEXT;
    const unsigned li_deps = df == ACCEL_DF_IS ? ACCEL_POP_NEXT : ACCEL_PUSH_NEXT;
    const unsigned cdeps = (df == ACCEL_DF_OS ? ACCEL_POP_PREV : 0) | ACCEL_PUSH_PREV;
    const unsigned free_acc = t->tile_index >= ACCEL_BUFFERS ? ACCEL_POP_NEXT : 0;
    const uint32_t *r = rt->tab;
    uint32_t c3 = 0;
    unsigned bl = ba; /* the last step's buf */
    if (kt >= 2) {
        const uint32_t n = kt - 2, stream = stream_of(df, t->P_t, t->M_t, p->rows_T);
        const unsigned bb = ba ^ 1;
        /* "a" words: buf of k = 0, 2, 4, ..; "b": k = 1, 3, .. */
        accel_cmd_t lwa = lw_cmd(p, df, lw_deps, ba, t->M_t, K_T, t->mabs, 0);
        accel_cmd_t lwb = lw_cmd(p, df, lw_deps, bb, t->M_t, K_T, t->mabs, 0);
        accel_cmd_t lia = li_cmd(p, df, li_deps, ba, t->P_t, K_T, &t->px);
        accel_cmd_t lib = li_cmd(p, df, li_deps, bb, t->P_t, K_T, &t->px);
        const accel_cmd_t pra = pre_cmd(p, df, ba, K_T);
        const accel_cmd_t prb = pre_cmd(p, df, bb, K_T);
        const accel_cmd_t cpa = comp_cmd(p, df, cdeps, ba, acc_buf, 1, stream, K_T);
        const accel_cmd_t cpb = comp_cmd(p, df, cdeps, bb, acc_buf, 1, stream, K_T);
        const accel_cmd_t cp0 = comp_cmd(p, df, cdeps | free_acc, ba, acc_buf, 0, stream, K_T);
        const uint32_t li2 = lia.w[2], dk = K_T << K0_SHIFT;
        lia.w[2] = li2 | r[0];
        lia.w[3] = r[1];
        issue_step(df, &lwa, &lia, &pra, &cp0);
        struct cursor cur = {lwa.w[1] + dk, 0, r + 2}; /* entry 1 <= E */
        steady(df, n, &lwb, &lib, &prb, &cpb, &lwa, &lia, &pra, &cpa, li2, dk, rt, &cur);
        r = cur.r;
        c3 = cur.c3;
        bl = n & 1 ? ba : bb;
    }
    /* the last k-step: K_L, (c0, r0, s0) at r; its COMPUTE pushes the accumulator (and with one k-step is
     * also the first: frees it, overwrites), then STORE */
    const uint32_t K_L = p->K_L;
    const accel_cmd_t lw = lw_cmd(p, df, lw_deps, bl, t->M_t, K_L, t->mabs, (kt - 1) * K_T);
    accel_cmd_t li = li_cmd(p, df, li_deps, bl, t->P_t, K_L, &t->px);
    li.w[2] |= r[0];
    li.w[3] |= r[1] + c3;
    const accel_cmd_t pre = pre_cmd(p, df, bl, K_L);
    const accel_cmd_t comp = comp_cmd(p, df, cdeps | ACCEL_PUSH_NEXT | (kt == 1 ? free_acc : 0), bl, acc_buf,
                                      kt != 1, stream_of(df, t->P_t, t->M_t, p->rows_L), K_L);
    issue_step(df, &lw, &li, &pre, &comp);
    const unsigned sdeps = ACCEL_POP_PREV | (p->tiles - 1 - t->tile_index >= ACCEL_BUFFERS ? ACCEL_PUSH_PREV : 0);
    store(p, df, sdeps, acc_buf, t);
}

/* ``run`` consecutive interior tiles of one row of the loop nest (WS/OS: m varies, IS: p varies), ``t`` the
 * first and, on return, the one after them; the last of them is the row's edge tile if ``edge_last``. */
INLINE void row_fast(const struct plan *p, const unsigned df, struct tile *tp, uint32_t run, int edge_last,
                     const struct redtab *rt)
{
    struct tile t = *tp;
    for (uint32_t j = run; j != 0; j--) {
        const int edge = j == 1 && edge_last;
        if (df == ACCEL_DF_IS)
            t.P_t = edge ? p->P_L : p->P_T;
        else
            t.M_t = edge ? p->M_L : p->M_T;
        tile_fast(p, df, &t, rt);
        t.index += p->k_tiles;
        t.tile_index++;
        if (df == ACCEL_DF_IS)
            coord_add(&t.px, &p->p_step, p->E, p->F);
        else
            t.mabs += p->M_T;
    }
    *tp = t;
}

#define ROW(name, df)                                                                                         \
    static __attribute__((noinline)) void name(const struct plan *p, struct tile *t, uint32_t run,           \
                                               int edge_last, const struct redtab *rt)                       \
    {                                                                                                         \
        row_fast(p, df, t, run, edge_last, rt);                                                               \
    }
ROW(row_ws, ACCEL_DF_WS)
ROW(row_os, ACCEL_DF_OS)
ROW(row_is, ACCEL_DF_IS)

/* One copy of the steady-state loop per dataflow, each its own function so that its registers are its own. */
#define FAST(name, df)                                                                                        \
    static __attribute__((noinline)) void name(const struct plan *p, const struct tile *t, uint32_t ka,      \
                                               uint32_t kb, const struct redtab *rt)                         \
    {                                                                                                         \
        fast_steps(p, df, t, ka, kb, rt);                                                                     \
    }
FAST(fast_ws, ACCEL_DF_WS)
FAST(fast_os, ACCEL_DF_OS)
FAST(fast_is, ACCEL_DF_IS)

/* Fill ``rt`` for the group whose c0 starts at ``c_first``: entries 0, 1, .. until the period closes (E) or
 * the last k-step (E = k_tiles: no wrap). 0 (and E = 0) if the free RAM holds fewer entries. */
static __attribute__((noinline)) int fill(const struct plan *p, uint32_t c_first, struct redtab *rt)
{
    const uint32_t kt = p->k_tiles, mask = (1u << C0_W2_BITS) - 1, R = p->R, S = p->S;
    const uint32_t room = (uint32_t)((uintptr_t)__heap_end - (uintptr_t)__heap_start) / 8;
    const struct coord step = p->k_step;
    uint32_t *const e = __heap_start;
    struct coord red = {c_first, 0, 0};
    rt->E = 0;
    for (uint32_t k = 0;; k++) {
        if (k >= room)
            return 0;
        red_words(&red, e + 2 * k);
        if (k == kt - 1) {
            rt->E = kt;
            rt->dw = 0;
            break;
        }
        /* E >= 2, so that a pair of steps wraps at most once */
        if (k >= 2 && red.mid == 0 && red.lo == 0 && ((red.hi - c_first) & mask) == 0) {
            rt->E = k;
            rt->dw = (red.hi - c_first) >> C0_W2_BITS;
            break;
        }
        coord_add(&red, &step, R, S);
    }
    rt->tab = e;
    return 1;
}

/* Step k of a tile the general way with its reduction words from ``rt``: red(k mod E) + (k div E) * dw.
 * Only for the layer's first and last tiles, so the divide does not matter. */
INLINE void step_rt(const struct plan *p, const unsigned df, const struct tile *t, uint32_t k,
                    const struct redtab *rt)
{
    const uint32_t q = k <= rt->E ? 0 : k / rt->E, j = k - q * rt->E; /* entry E is red(E) itself */
    step(p, df, t, k, rt->tab[2 * j], rt->tab[2 * j + 1] + q * rt->dw);
}

/* The k-steps of tile ``t``: with the group's reduction table ``rt``, the edge steps one by one and the
 * steady ones in fast_steps; without (rt == 0 or rt->E == 0), every step from an incremental (c0, r0, s0).
 * The layer's first tile fills the group's table (TABLE_PENDING) after its first step. */
INLINE void tile_steps(const struct plan *p, const unsigned df, const struct tile *t, struct redtab *rt,
                       uint32_t c_first)
{
    const uint32_t kt = p->k_tiles;
    uint32_t k = 0;
    struct coord red = {c_first, 0, 0};
    if (rt && rt->E == TABLE_PENDING) {
        /* the layer's first step before the table: the accelerator starts while it is filled */
        uint32_t w[2];
        red_words(&red, w);
        step(p, df, t, 0, w[0], w[1]);
        k = 1;
        if (!fill(p, c_first, rt)) {
            coord_add(&red, &p->k_step, p->R, p->S);
            rt = 0;
        }
    }
    if (!rt || !rt->E) {
        for (; k < kt; k++) {
            uint32_t w[2];
            red_words(&red, w);
            step(p, df, t, k, w[0], w[1]);
            coord_add(&red, &p->k_step, p->R, p->S);
        }
        return;
    }
    /* the steady steps: 1 <= k < kt - 1 and BUFFERS <= index <= steps - 1 - BUFFERS */
    const int32_t lo = t->index >= ACCEL_BUFFERS - 1 ? 1 : (int32_t)(ACCEL_BUFFERS - t->index);
    const int32_t last = (int32_t)(p->steps - ACCEL_BUFFERS - t->index); /* the first k past the steady ones */
    const int32_t hi = last < (int32_t)kt - 1 ? last : (int32_t)kt - 1;
    for (; k < kt && (int32_t)k < lo; k++)
        step_rt(p, df, t, k, rt);
    if ((int32_t)k < hi) {
        if (df == ACCEL_DF_WS)
            fast_ws(p, t, k, (uint32_t)hi, rt);
        else if (df == ACCEL_DF_IS)
            fast_is(p, t, k, (uint32_t)hi, rt);
        else
            fast_os(p, t, k, (uint32_t)hi, rt);
        k = (uint32_t)hi;
    }
    for (; k < kt; k++)
        step_rt(p, df, t, k, rt);
}

/* The loop nest (mapping.steps): group, outer, inner, k; WS/OS outer p inner m, IS outer m inner p. */
INLINE void walk(const struct plan *p, const unsigned df)
{
    const int is = df == ACCEL_DF_IS;
    const uint32_t n_outer = is ? p->m_tiles : p->p_tiles, n_inner = is ? p->p_tiles : p->m_tiles;
    /* the steady-state loop needs k0 in word 1 and the table in RAM (else every step goes the general way) */
    const int k0_fits = (p->k_tiles - 1) * p->K_T < K0_WORD1_LIMIT;
    const uint32_t edge_tiles = p->k_tiles >= ACCEL_BUFFERS ? 1 : ACCEL_BUFFERS; /* ceil(BUFFERS / k_tiles) */
    struct redtab rt;
    struct tile t; /* no initialiser: gcc would clear it with memset */
    t.index = t.tile_index = 0;
    for (uint32_t g = 0; g < p->groups; g++) {
        const uint32_t c_first = g * p->Cg;
        if (g == 0)
            rt.E = TABLE_PENDING; /* filled by the first tile */
        else if (k0_fits)
            fill(p, c_first, &rt);
        struct redtab *const rtp = k0_fits ? &rt : 0;
        struct coord px = {0, 0, 0};
        for (uint32_t o = 0; o < n_outer; o++) {
            const int o_last = o == n_outer - 1;
            if (is)
                px = (struct coord){0, 0, 0};
            uint32_t i = 0;
            while (i < n_inner) {
                const int i_last = i == n_inner - 1;
                const uint32_t m = is ? o : i;
                t.P_t = (is ? i_last : o_last) ? p->P_L : p->P_T;
                t.M_t = (is ? o_last : i_last) ? p->M_L : p->M_T;
                t.mabs = g * p->Mg + m * p->M_T;
                t.px = px;
                /* interior tiles (all but the ones holding the layer's first and last BUFFERS steps) in one call */
                if (rtp && rt.E && t.tile_index >= edge_tiles && t.tile_index + edge_tiles < p->tiles) {
                    uint32_t run = n_inner - i;
                    if (run > p->tiles - edge_tiles - t.tile_index)
                        run = p->tiles - edge_tiles - t.tile_index;
                    if (df == ACCEL_DF_WS)
                        row_ws(p, &t, run, i + run == n_inner, rtp);
                    else if (df == ACCEL_DF_IS)
                        row_is(p, &t, run, i + run == n_inner, rtp);
                    else
                        row_os(p, &t, run, i + run == n_inner, rtp);
                    i += run;
                    if (is)
                        px = t.px;
                    continue;
                }
                tile_steps(p, df, &t, rtp, c_first);
                t.tile_index++;
                t.index += p->k_tiles;
                if (is)
                    coord_add(&px, &p->p_step, p->E, p->F);
                i++;
            }
            if (!is)
                coord_add(&px, &p->p_step, p->E, p->F);
        }
    }
}

int main(void)
{
    const struct accel_layer *L = &accel_layer;
    if (L->magic != ACCEL_LAYER_MAGIC)
        return 3;
    struct plan p;
    configure(L, &p);
    if (L->dataflow == ACCEL_DF_WS)
        walk(&p, ACCEL_DF_WS);
    else if (L->dataflow == ACCEL_DF_IS)
        walk(&p, ACCEL_DF_IS);
    else
        walk(&p, ACCEL_DF_OS);
    accel_fence();
    return 0;
}
