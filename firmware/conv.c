/* The layer driver: walks accelsim.mapping's tiling loop nest for the layer in ``accel_layer`` and issues
 * the same command stream as mapping.program(mapping.lower(layer, arch)): the CONFIGs, every step's
 * LOADs/PRELOAD/COMPUTE/STORE with their dependency flags, and the FENCE, which it waits for.
 *
 * The loader (accelsim.host.driver) writes the layer and arch into ``accel_layer`` after validating them
 * with mapping.lower, so nothing here checks limits. Everything per step is incremental: pixel and
 * reduction coordinates advance by a mixed-radix add of the tile size (no division in the loop), and the
 * dependency flags compare the step and tile counters with their ends (mapping's ``near``). */
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

struct plan {
    uint32_t groups, Cg, Mg, E, F, R, S;
    uint32_t P_T, K_T, M_T, P_L, K_L, M_L;
    uint32_t p_tiles, k_tiles, m_tiles;
    uint32_t steps, tiles;
    struct coord p_step, k_step; /* P_T as (n, e, f), K_T as (c, r, s) */
};

static inline uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static inline uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static inline uint32_t ceil_div(uint32_t a, uint32_t b) { return (a + b - 1) / b; }
static inline uint64_t align_up(uint64_t a) { return (a + ACCEL_DRAM_ALIGN_BYTES - 1) / ACCEL_DRAM_ALIGN_BYTES * ACCEL_DRAM_ALIGN_BYTES; }

static inline __attribute__((always_inline)) void issue(accel_cmd_t c) { accel_issue(&c); }

/* The CONFIG commands (mapping.config_commands) and the loop bounds (mapping.lower, tile_sizes). */
static void configure(const struct accel_layer *L, struct plan *p)
{
    const uint32_t df = L->dataflow, AR = L->array_rows, AC = L->array_cols;
    const uint32_t E = (L->H + 2 * L->pad - L->R) / L->stride + 1;
    const uint32_t F = (L->W + 2 * L->pad - L->S) / L->stride + 1;
    const uint32_t Cg = L->C / L->groups, Mg = L->M / L->groups, RS = L->R * L->S;
    const uint32_t K = Cg * RS, EF = E * F, P = L->N * EF;

    /* mapping.buffer_rows and tile_sizes */
    const uint32_t if_lanes = df == ACCEL_DF_IS ? AC : AR, w_lanes = df == ACCEL_DF_IS ? AR : AC;
    const uint64_t if_rows = (uint64_t)L->ifmap_spad_kib * 1024 / if_lanes / ACCEL_BUFFERS;
    const uint64_t w_rows = (uint64_t)L->weight_spad_kib * 1024 / w_lanes / ACCEL_BUFFERS;
    const uint64_t acc_rows = (uint64_t)L->acc_kib * 1024 / (4 * AC) / ACCEL_BUFFERS;
    if (df == ACCEL_DF_WS) {
        p->P_T = (uint32_t)min64(min64(P, min64(if_rows, acc_rows)), ACCEL_MAX_TILE_ROWS);
        p->K_T = min32(AR, K);
        p->M_T = min32(AC, Mg);
    } else if (df == ACCEL_DF_IS) {
        p->P_T = min32(AC, P);
        p->K_T = min32(AR, K);
        p->M_T = (uint32_t)min64(min64(Mg, min64(w_rows, acc_rows)), ACCEL_MAX_TILE_ROWS);
    } else {
        p->P_T = min32(AR, P);
        p->K_T = (uint32_t)min64(min64(K, min64(if_rows, w_rows)), ACCEL_MAX_TILE_ROWS);
        p->M_T = min32(AC, Mg);
    }
    p->groups = L->groups;
    p->Cg = Cg;
    p->Mg = Mg;
    p->E = E;
    p->F = F;
    p->R = L->R;
    p->S = L->S;
    p->p_tiles = ceil_div(P, p->P_T);
    p->k_tiles = ceil_div(K, p->K_T);
    p->m_tiles = ceil_div(Mg, p->M_T);
    p->P_L = P - (p->p_tiles - 1) * p->P_T;
    p->K_L = K - (p->k_tiles - 1) * p->K_T;
    p->M_L = Mg - (p->m_tiles - 1) * p->M_T;
    p->tiles = L->groups * p->p_tiles * p->m_tiles;
    p->steps = p->tiles * p->k_tiles;
    p->p_step = (struct coord){p->P_T / EF, p->P_T / F % E, p->P_T % F};
    p->k_step = (struct coord){p->K_T / RS, p->K_T / L->S % L->R, p->K_T % L->S};

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

/* The steps of one output tile (mapping.step_program for k = 0 .. k_tiles-1); ``df`` is a constant in
 * each of the three copies the compiler makes. Returns the next step index. */
static inline __attribute__((always_inline)) uint32_t
tile_steps(const struct plan *p, const unsigned df, uint32_t index, uint32_t tile_index, uint32_t P_t,
           uint32_t M_t, const struct coord *px, uint32_t mabs, uint32_t c_first)
{
    const unsigned acc_buf = tile_index % ACCEL_BUFFERS;
    const unsigned free_acc = tile_index >= ACCEL_BUFFERS ? ACCEL_POP_NEXT : 0; /* COMPUTE of k = 0 */
    struct coord red = {c_first, 0, 0};
    uint32_t k0 = 0;
    for (uint32_t k = 0; k < p->k_tiles; k++) {
        const int last_k = k == p->k_tiles - 1;
        const uint32_t K_t = last_k ? p->K_L : p->K_T;
        const unsigned buf = index % ACCEL_BUFFERS;
        const unsigned first_deps = index >= ACCEL_BUFFERS ? ACCEL_POP_NEXT : 0;
        const unsigned more = p->steps - 1 - index >= ACCEL_BUFFERS ? ACCEL_PUSH_PREV : 0;
        if (df == ACCEL_DF_IS) {
            issue(accel_load_input_cmd(first_deps, buf, K_t, P_t, px->hi, px->mid, px->lo, red.hi, red.mid,
                                       red.lo));
            issue(accel_load_weight_cmd(ACCEL_PUSH_NEXT, buf, M_t, K_t, mabs, k0));
        } else {
            issue(accel_load_weight_cmd(first_deps, buf, K_t, M_t, mabs, k0));
            if (df == ACCEL_DF_WS)
                issue(accel_load_input_cmd(ACCEL_PUSH_NEXT, buf, P_t, K_t, px->hi, px->mid, px->lo, red.hi,
                                           red.mid, red.lo));
            else
                issue(accel_load_input_cmd(ACCEL_PUSH_NEXT, buf, K_t, P_t, px->hi, px->mid, px->lo, red.hi,
                                           red.mid, red.lo));
        }
        if (df != ACCEL_DF_OS)
            issue(accel_preload_cmd(ACCEL_POP_PREV, buf, K_t));
        const uint32_t stream = df == ACCEL_DF_WS ? P_t : df == ACCEL_DF_IS ? M_t : K_t;
        const unsigned cdeps = (df == ACCEL_DF_OS ? ACCEL_POP_PREV : 0) | (k == 0 ? free_acc : 0) | more |
                               (last_k ? ACCEL_PUSH_NEXT : 0);
        issue(accel_compute_cmd(cdeps, buf, acc_buf, k != 0, stream));
        if (last_k) {
            const unsigned sdeps = ACCEL_POP_PREV | (p->tiles - 1 - tile_index >= ACCEL_BUFFERS ? ACCEL_PUSH_PREV : 0);
            if (df == ACCEL_DF_IS)
                issue(accel_store_cmd(sdeps, acc_buf, M_t, P_t, px->hi, px->mid, px->lo, mabs));
            else
                issue(accel_store_cmd(sdeps, acc_buf, P_t, M_t, px->hi, px->mid, px->lo, mabs));
        }
        index++;
        k0 += p->K_T;
        coord_add(&red, &p->k_step, p->R, p->S);
    }
    return index;
}

/* The loop nest (mapping.steps): group, outer, inner, k; WS/OS outer p inner m, IS outer m inner p. */
static inline __attribute__((always_inline)) void walk(const struct plan *p, const unsigned df)
{
    const int is = df == ACCEL_DF_IS;
    const uint32_t n_outer = is ? p->m_tiles : p->p_tiles, n_inner = is ? p->p_tiles : p->m_tiles;
    uint32_t index = 0, tile_index = 0;
    for (uint32_t g = 0; g < p->groups; g++) {
        struct coord px = {0, 0, 0};
        for (uint32_t o = 0; o < n_outer; o++) {
            const int o_last = o == n_outer - 1;
            if (is)
                px = (struct coord){0, 0, 0};
            for (uint32_t i = 0; i < n_inner; i++) {
                const int i_last = i == n_inner - 1;
                const uint32_t m = is ? o : i;
                const uint32_t P_t = (is ? i_last : o_last) ? p->P_L : p->P_T;
                const uint32_t M_t = (is ? o_last : i_last) ? p->M_L : p->M_T;
                const uint32_t mabs = g * p->Mg + m * p->M_T;
                index = tile_steps(p, df, index, tile_index, P_t, M_t, &px, mabs, g * p->Cg);
                tile_index++;
                if (is)
                    coord_add(&px, &p->p_step, p->E, p->F);
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
