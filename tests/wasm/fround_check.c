/* consentminer tests — wasm side of the rounding layer's differential test.
 *
 * Compiled to wasm together with wasm/src/fround.c (the very file RandomX's wasm build
 * uses), it recomputes each record of tests/wasm/fround_table.c's table in software
 * and counts results that are not bit-identical to the hardware's (any NaN equals any
 * NaN: payloads are not specified).
 */
#include <emscripten/emscripten.h>
#include <stdint.h>
#include <string.h>

#include "fround.h"

static double emulate(uint32_t op, double a, double b, unsigned mode)
{
    switch (op) {
    case CM_FROUND_ADD:
        return cm_fround_add(a, b, mode);
    case CM_FROUND_SUB:
        return cm_fround_sub(a, b, mode);
    case CM_FROUND_MUL:
        return cm_fround_mul(a, b, mode);
    case CM_FROUND_DIV:
        return cm_fround_div(a, b, mode);
    default:
        return cm_fround_sqrt(a, mode);
    }
}

/* Checks n 32-byte records at rec; returns the number that differ and stores the index
 * of the first one in *first (-1 when none). */
EMSCRIPTEN_KEEPALIVE int fround_check(const unsigned char *rec, int n, int *first)
{
    int bad = 0;
    *first = -1;
    for (int i = 0; i < n; i++, rec += 32) {
        uint32_t op, mode;
        double a, b, want;
        memcpy(&op, rec, 4);
        memcpy(&mode, rec + 4, 4);
        memcpy(&a, rec + 8, 8);
        memcpy(&b, rec + 16, 8);
        memcpy(&want, rec + 24, 8);
        double got = emulate(op, a, b, mode & 3);
        int same = (got != got && want != want) || cm_fround_bits(got) == cm_fround_bits(want);
        if (!same) {
            if (*first < 0)
                *first = i;
            bad++;
        }
    }
    return bad;
}

/* The emulated result of one operation, to print a mismatch. */
EMSCRIPTEN_KEEPALIVE double fround_one(int op, double a, double b, int mode)
{
    return emulate((uint32_t)op, a, b, (unsigned)mode & 3);
}
