/* Encodes the commands the test writes into enc_cases with accel.h's encoders and issues them (the test
 * compares the words the ISS records with accelsim.commands). */
#include "accel.h"

enum { CASE_CONFIG, CASE_LOAD_INPUT, CASE_LOAD_WEIGHT, CASE_PRELOAD, CASE_COMPUTE, CASE_STORE, CASE_FENCE };

struct enc_case {
    uint32_t kind, deps, addr, addr2, k_rows, acc_addr, accumulate, rows, lanes, n0, e0, f0, c0, r0, s0, m0, k0,
        reg, v0, v1, v2;
};

#define MAX_CASES 64
struct enc_case enc_cases[MAX_CASES] = {{1}};
uint32_t enc_count = 1;

int main(void)
{
    for (uint32_t i = 0; i < enc_count; i++) {
        const struct enc_case *e = &enc_cases[i];
        accel_cmd_t c;
        switch (e->kind) {
        case CASE_CONFIG: c = accel_config_cmd(e->reg, e->v0, e->v1, e->v2); break;
        case CASE_LOAD_INPUT:
            c = accel_load_input_cmd(e->deps, e->addr, e->rows, e->lanes, e->n0, e->e0, e->f0, e->c0, e->r0, e->s0);
            break;
        case CASE_LOAD_WEIGHT: c = accel_load_weight_cmd(e->deps, e->addr, e->rows, e->lanes, e->m0, e->k0); break;
        case CASE_PRELOAD: c = accel_preload_cmd(e->deps, e->addr, e->lanes); break;
        case CASE_COMPUTE:
            c = accel_compute_cmd(e->deps, e->addr, e->addr2, e->acc_addr, e->accumulate, e->rows, e->k_rows);
            break;
        case CASE_STORE:
            c = accel_store_cmd(e->deps, e->acc_addr, e->rows, e->lanes, e->n0, e->e0, e->f0, e->m0);
            break;
        default: c = accel_fence_cmd(); break;
        }
        accel_issue(&c);
    }
    return 0;
}
