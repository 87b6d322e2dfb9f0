/* consentminer tests — operands for the differential tests of the float rounding layer.
 *
 * A deterministic generator (splitmix64, integer operations only, so the same seed gives
 * the same operands natively and in wasm) that mixes:
 *  - the value ranges RandomX produces (specs.md 4.3): group F values (int32 converted,
 *    sums up to about 3e14), group A values ([1, 2^32), 52-bit fractions), group E values
 *    (exponent 4..124 with masked fractions, grown by products);
 *  - any finite double, and operands with close exponents (cancellation, ratios near 1);
 *  - results near overflow and in the subnormal range, the largest and smallest normal
 *    exponents, infinities, zeros, NaN;
 *  - significands with few bits, so that exact results and ties (half-way cases) happen.
 * Header-only: included by tests/unit/test_fround.c and tests/wasm/fround_table.c.
 */
#ifndef CM_TEST_FROUND_OPERANDS_H
#define CM_TEST_FROUND_OPERANDS_H

#include <stdint.h>
#include <string.h>

static inline uint64_t fo_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline double fo_double(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* A double with sign bit sign, biased exponent be (1..2046) and a fraction whose low
 * `zeros` bits are cleared. */
static inline double fo_make(uint64_t *s, int sign, int be, int zeros)
{
    uint64_t frac = fo_next(s) & 0xfffffffffffffull;
    if (zeros > 0)
        frac &= ~((1ull << (zeros > 52 ? 52 : zeros)) - 1);
    return fo_double(((uint64_t)(sign & 1) << 63) | ((uint64_t)be << 52) | frac);
}

/* Low-bit zeros: mostly full significands, sometimes short ones for exact cases and ties. */
static inline int fo_zeros(uint64_t *s)
{
    uint64_t r = fo_next(s);
    if ((r & 7) < 5)
        return 0;
    return (int)((r >> 8) % 53);
}

static inline double fo_special(uint64_t *s)
{
    static const uint64_t specials[] = {
        0x0000000000000000ull, /* +0 */
        0x8000000000000000ull, /* -0 */
        0x7ff0000000000000ull, /* +inf */
        0xfff0000000000000ull, /* -inf */
        0x7fefffffffffffffull, /* DBL_MAX */
        0xffefffffffffffffull, /* -DBL_MAX */
        0x7fe0000000000000ull, /* 2^1023 */
        0x0010000000000000ull, /* DBL_MIN */
        0x8010000000000000ull, /* -DBL_MIN */
        0x0000000000000001ull, /* smallest subnormal */
        0x800fffffffffffffull, /* largest negative subnormal */
        0x3ff0000000000000ull, /* 1 */
        0xbff0000000000001ull, /* -(1 + 2^-52) */
        0x3fefffffffffffffull, /* 1 - 2^-53 */
        0x7ff8000000000000ull, /* NaN */
        0x41dfffffffc00000ull, /* 2^31 - 1 */
        0xc1e0000000000000ull, /* -2^31 */
        0x41efffffffffffffull, /* just below 2^32 (largest group A) */
    };
    uint64_t r = fo_next(s);
    return fo_double(specials[r % (sizeof specials / sizeof specials[0])]);
}

/* group F: an int32 converted (specs.md 4.3.1), or an accumulated sum up to ~2^48 */
static inline double fo_group_f(uint64_t *s)
{
    uint64_t r = fo_next(s);
    if (r & 1)
        return (double)(int32_t)(uint32_t)(r >> 32);
    return fo_make(s, (int)(r >> 1), 1023 + (int)((r >> 8) % 49), fo_zeros(s));
}

/* group A: +1.fraction x 2^(0..31) (specs.md 4.5.2) */
static inline double fo_group_a(uint64_t *s)
{
    uint64_t r = fo_next(s);
    return fo_make(s, 0, 1023 + (int)(r % 32), 0);
}

/* group E: positive; as loaded exponent 4..124 with a 22-bit fraction mask (specs.md
 * 4.3.2), then multiplied and divided: exponents about -300..400 */
static inline double fo_group_e(uint64_t *s)
{
    uint64_t r = fo_next(s);
    if (r & 1)
        return fo_make(s, 0, 1023 + 4 + (int)((r >> 8) % 121), (int)((r >> 20) & 1) * 22);
    return fo_make(s, 0, 1023 - 300 + (int)((r >> 8) % 700), 0);
}

/* any finite double, exponent uniform over the whole range (subnormals included) */
static inline double fo_any(uint64_t *s)
{
    uint64_t r = fo_next(s);
    return fo_make(s, (int)r, (int)((r >> 8) % 2047), fo_zeros(s));
}

/* exponent within +-d of x's, random sign */
static inline double fo_near(uint64_t *s, double x, int d)
{
    uint64_t u, r = fo_next(s);
    memcpy(&u, &x, sizeof u);
    int be = (int)((u >> 52) & 0x7ff) + (int)(r % (uint64_t)(2 * d + 1)) - d;
    if (be < 0)
        be = 0;
    if (be > 2046)
        be = 2046;
    return fo_make(s, (int)(r >> 40), be, fo_zeros(s));
}

enum { FO_ADD = 0, FO_SUB = 1, FO_MUL = 2, FO_DIV = 3, FO_SQRT = 4 };

/* The i-th operand pair for op (b unused for sqrt). */
static inline void fo_operands(uint64_t *s, int op, double *a, double *b)
{
    uint64_t r = fo_next(s);
    unsigned cat = (unsigned)(r % 16);
    int big = (int)((r >> 8) % 64); /* offsets for the near-the-edge cases */
    switch (op) {
    case FO_ADD:
    case FO_SUB:
        if (cat < 6) { /* RandomX: f +- a, f +- int32 */
            *a = fo_group_f(s);
            *b = (r >> 20) & 1 ? fo_group_a(s) : (double)(int32_t)(uint32_t)fo_next(s);
        } else if (cat < 9) { /* cancellation, ties (exponent gaps of 52..54) */
            *a = fo_any(s);
            *b = fo_near(s, *a, (r >> 20) & 1 ? 2 : 56);
        } else if (cat < 11) { /* near overflow */
            *a = fo_make(s, (int)(r >> 30), 2046 - big % 8, fo_zeros(s));
            *b = fo_make(s, (int)(r >> 31), 2046 - big, fo_zeros(s));
        } else if (cat < 13) { /* subnormal and smallest normals */
            *a = fo_make(s, (int)(r >> 30), big % 4, fo_zeros(s));
            *b = fo_make(s, (int)(r >> 31), big % 3, fo_zeros(s));
        } else if (cat < 14) {
            *a = fo_special(s);
            *b = (r >> 20) & 1 ? fo_special(s) : fo_any(s);
        } else {
            *a = fo_any(s);
            *b = fo_any(s);
        }
        break;
    case FO_MUL:
        if (cat < 6) { /* RandomX: e * a */
            *a = fo_group_e(s);
            *b = fo_group_a(s);
        } else if (cat < 8) { /* product near overflow: exponents summing to ~1023 */
            int ea = 1023 + 400 + big * 3;
            *a = fo_make(s, (int)(r >> 30), ea, fo_zeros(s));
            *b = fo_make(s, (int)(r >> 31), 2046 + 1023 - ea - 3 + (int)((r >> 40) % 6),
                         fo_zeros(s));
        } else if (cat < 10) { /* product in the subnormal range: exponents summing to ~-1040 */
            int ea = 1023 - 400 - big * 3;
            *a = fo_make(s, (int)(r >> 30), ea, fo_zeros(s));
            *b = fo_make(s, (int)(r >> 31), 1023 - 1022 - (ea - 1023) - (int)((r >> 40) % 60),
                         fo_zeros(s));
        } else if (cat < 11) { /* subnormal operand */
            *a = fo_make(s, (int)(r >> 30), 0, fo_zeros(s));
            *b = fo_make(s, (int)(r >> 31), 1023 + (int)((r >> 40) % 1020), fo_zeros(s));
        } else if (cat < 12) {
            *a = fo_special(s);
            *b = (r >> 20) & 1 ? fo_special(s) : fo_any(s);
        } else if (cat < 13) { /* short significands: exact products and ties */
            *a = fo_make(s, (int)(r >> 30), 1023 + big - 32, 26 + (int)((r >> 40) % 27));
            *b = fo_make(s, (int)(r >> 31), 1023 - big + 32, 20 + (int)((r >> 48) % 33));
        } else {
            *a = fo_any(s);
            *b = fo_any(s);
        }
        break;
    case FO_DIV:
        if (cat < 6) { /* RandomX: e / E-converted memory operand */
            *a = fo_group_e(s);
            *b = fo_make(s, 0, 1023 + 4 + (int)((r >> 40) % 121), 22);
        } else if (cat < 8) { /* quotient near overflow */
            int eb = 1023 - 400 - big * 3;
            *a = fo_make(s, (int)(r >> 30), eb + 1023 - 3 + (int)((r >> 40) % 6), fo_zeros(s));
            *b = fo_make(s, (int)(r >> 31), eb, fo_zeros(s));
        } else if (cat < 10) { /* quotient in the subnormal range */
            int eb = 1023 + 400 + big * 3;
            *a = fo_make(s, (int)(r >> 30), eb - 1022 - (int)((r >> 40) % 60), fo_zeros(s));
            *b = fo_make(s, (int)(r >> 31), eb, fo_zeros(s));
        } else if (cat < 11) { /* subnormal operands */
            *a = (r >> 20) & 1 ? fo_make(s, (int)(r >> 30), 0, fo_zeros(s)) : fo_any(s);
            *b = (r >> 20) & 1 ? fo_any(s) : fo_make(s, (int)(r >> 31), 0, fo_zeros(s));
        } else if (cat < 12) {
            *a = fo_special(s);
            *b = (r >> 20) & 1 ? fo_special(s) : fo_any(s);
        } else if (cat < 13) { /* ratios near 1, short significands (exact quotients) */
            *b = fo_any(s);
            *a = fo_near(s, *b, 1);
        } else {
            *a = fo_any(s);
            *b = fo_any(s);
        }
        break;
    default: /* FO_SQRT */
        *b = 0;
        if (cat < 6)
            *a = fo_group_e(s);
        else if (cat < 8) /* exact squares and their neighbours */
        {
            double x = fo_make(s, 0, 1023 - 400 + (int)((r >> 40) % 800), 27);
            uint64_t u;
            *a = x * x;
            memcpy(&u, a, sizeof u);
            u += (uint64_t)((r >> 20) % 3) - 1;
            *a = fo_double(u);
        } else if (cat < 9) /* largest exponents */
            *a = fo_make(s, 0, 2046 - big, fo_zeros(s));
        else if (cat < 10) /* subnormals and smallest normals */
            *a = fo_make(s, 0, big % 3, fo_zeros(s));
        else if (cat < 11)
            *a = fo_special(s);
        else
            *a = fo_any(s);
        break;
    }
}

#endif
