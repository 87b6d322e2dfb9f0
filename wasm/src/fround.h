/* consentminer — IEEE 754 directed rounding in software, for RandomX in WebAssembly.
 *
 * RandomX's CFROUND picks one of four rounding modes (specs.md 4.3, Table 4.3.1) and every
 * FADD/FSUB/FMUL/FDIV/FSQRT must honour it. WebAssembly only rounds to nearest and
 * Emscripten's fesetround is a no-op, so each operation here is done in round-to-nearest
 * and then corrected: an error-free transformation gives the sign of the exact error
 * (exact result minus rounded result), and when the rounded result lies on the wrong side
 * for the requested direction it is moved one ulp. That is exact because a
 * round-to-nearest result is always one of the two doubles that bracket the exact value.
 *
 *  - add, sub: TwoSum (Knuth) gives the error itself;
 *  - mul: Dekker's product (Veltkamp split; WebAssembly has no fused multiply-add) gives
 *    a*b - p exactly;
 *  - div: q*b - a, from Dekker's product of q and b;
 *  - sqrt: s*s - a, from Dekker's product of s and s.
 * These are exact only while no intermediate overflows or underflows, so the inline fast
 * path checks operand exponents and leaves the rest (zeros, infinities, NaN, subnormals,
 * results near overflow or underflow) to cm_fround_slow(), which decides the sign of the
 * error with integer arithmetic on the significands.
 *
 * Semantics are IEEE 754 with gradual underflow: what x86 SSE2 does with its default
 * MXCSR, AArch64 and RandomX's portable code do. RandomX's x86 code runs with
 * flush-to-zero and denormals-are-zero (MXCSR 0x9FC0), which can only differ on
 * subnormal operands or results, and RandomX's value ranges never produce those
 * (specs.md 5.3: "no operation results in NaN or a denormal number").
 * Overflow follows IEEE too: under round-down a positive overflow gives DBL_MAX, not
 * infinity; infinite operands (inf*x) are exact and never "overflow".
 *
 * The caller must keep the hardware in round-to-nearest (the only mode WebAssembly has;
 * natively, the default) and must not compile this with fast-math or FMA contraction.
 */
#ifndef CM_FROUND_H
#define CM_FROUND_H

#include <stdint.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The rounding modes, numbered as RandomX's fprc register (specs.md Table 4.3.1). */
enum {
    CM_FROUND_NEAREST = 0, /* roundTiesToEven */
    CM_FROUND_DOWN = 1,    /* roundTowardNegative */
    CM_FROUND_UP = 2,      /* roundTowardPositive */
    CM_FROUND_ZERO = 3     /* roundTowardZero */
};

/* Operations, for cm_fround_slow and the tests. */
enum {
    CM_FROUND_ADD = 0,
    CM_FROUND_SUB = 1,
    CM_FROUND_MUL = 2,
    CM_FROUND_DIV = 3,
    CM_FROUND_SQRT = 4
};

/* The current mode of this thread, as RandomX's CFROUND sets it (the patched
 * rx_set_rounding_mode writes it). __thread rather than thread_local so that C and C++
 * see one plain TLS variable with no initialisation wrapper. */
extern __thread unsigned cm_fround_mode;

/* The correctly rounded result of op (b ignored for sqrt) in mode, given r, the
 * round-to-nearest result. Handles every input, including the ones the inline fast path
 * declines. */
double cm_fround_slow(int op, double a, double b, double r, unsigned mode);

/* Correctly rounded a+b, a-b, a*b, a/b and sqrt(a) in mode (0..3). */
static inline double cm_fround_add(double a, double b, unsigned mode);
static inline double cm_fround_sub(double a, double b, unsigned mode);
static inline double cm_fround_mul(double a, double b, unsigned mode);
static inline double cm_fround_div(double a, double b, unsigned mode);
static inline double cm_fround_sqrt(double a, unsigned mode);

/* ---- implementation ---------------------------------------------------------------- */

static inline uint64_t cm_fround_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline double cm_fround_double(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* The biased exponent field, 0 (zero, subnormal) .. 2047 (inf, NaN). */
static inline unsigned cm_fround_exp(double x)
{
    return (unsigned)(cm_fround_bits(x) >> 52) & 0x7ff;
}

/* The next double above x; -inf goes to -DBL_MAX, both zeros to the smallest subnormal.
 * Never called with +inf or NaN. */
static inline double cm_fround_next_up(double x)
{
    uint64_t u = cm_fround_bits(x);
    if ((u << 1) == 0)
        return cm_fround_double(1);
    return cm_fround_double((u >> 63) ? u - 1 : u + 1);
}

static inline double cm_fround_next_down(double x)
{
    return -cm_fround_next_up(-x);
}

/* r is the round-to-nearest result and s the sign of (exact - r): -1, 0 or +1. The exact
 * value lies between r and its neighbour on side s, so one step is always enough. */
static inline double cm_fround_step(double r, int s, unsigned mode)
{
    switch (mode) {
    case CM_FROUND_DOWN:
        return s < 0 ? cm_fround_next_down(r) : r;
    case CM_FROUND_UP:
        return s > 0 ? cm_fround_next_up(r) : r;
    case CM_FROUND_ZERO:
        if (s < 0 && r > 0)
            return cm_fround_next_down(r);
        if (s > 0 && r < 0)
            return cm_fround_next_up(r);
        return r;
    default:
        return r;
    }
}

static inline int cm_fround_sign(double x)
{
    return (x > 0) - (x < 0);
}

/* Veltkamp's split of x into hi + lo, each with at most 26 significant bits; exact while
 * |x| < 2^995 (134217729 = 2^27 + 1). */
static inline void cm_fround_split(double x, double *hi, double *lo)
{
    double c = 134217729.0 * x;
    *hi = c - (c - x);
    *lo = x - *hi;
}

/* Dekker's product: x*y - p exactly, where p = RN(x*y). */
static inline double cm_fround_two_prod_err(double x, double y, double p)
{
    double xh, xl, yh, yl;
    cm_fround_split(x, &xh, &xl);
    cm_fround_split(y, &yh, &yl);
    return xl * yl - (((p - xh * yh) - xl * yh) - xh * yl);
}

/* The fast paths of mul, div and sqrt need operand exponents (unbiased) within
 * [-423, 476]: then no split overflows (< 2^995), no product overflows (< 2^953), and the
 * smallest partial product of Dekker's algorithm (about 2^(ea+eb-106)) stays normal.
 * RandomX's group E values (exponents 4..124, scaled by group A values < 2^32, see
 * specs.md 4.3.2 and 4.5.2) live well inside. */
#define CM_FROUND_FAST_LO 600u /* biased exponent 600 = 2^-423 */
#define CM_FROUND_FAST_SPAN 900u

static inline int cm_fround_fast_exp(double x)
{
    return cm_fround_exp(x) - CM_FROUND_FAST_LO < CM_FROUND_FAST_SPAN;
}

static inline double cm_fround_add(double a, double b, unsigned mode)
{
    double s = a + b;
    if (mode == CM_FROUND_NEAREST)
        return s;
    /* TwoSum cannot overflow while both |a| and |b| are below 2^1022 (biased 2045). */
    if (cm_fround_exp(a) >= 2045 || cm_fround_exp(b) >= 2045)
        return cm_fround_slow(CM_FROUND_ADD, a, b, s, mode);
    if (s == 0) {
        /* A zero sum is exact (sums of doubles are multiples of 2^-1074). IEEE 754 6.3:
         * under roundTowardNegative it is -0 unless both operands are +0. */
        if (mode == CM_FROUND_DOWN && !(cm_fround_bits(a) == 0 && cm_fround_bits(b) == 0))
            return -0.0;
        return s;
    }
    double bb = s - a;
    double err = (a - (s - bb)) + (b - bb);
    return cm_fround_step(s, cm_fround_sign(err), mode);
}

static inline double cm_fround_sub(double a, double b, unsigned mode)
{
    /* IEEE 754 defines a - b as a + (-b), signs of zero included. */
    return cm_fround_add(a, -b, mode);
}

static inline double cm_fround_mul(double a, double b, unsigned mode)
{
    double p = a * b;
    if (mode == CM_FROUND_NEAREST)
        return p;
    if (!cm_fround_fast_exp(a) || !cm_fround_fast_exp(b))
        return cm_fround_slow(CM_FROUND_MUL, a, b, p, mode);
    return cm_fround_step(p, cm_fround_sign(cm_fround_two_prod_err(a, b, p)), mode);
}

static inline double cm_fround_div(double a, double b, unsigned mode)
{
    double q = a / b;
    if (mode == CM_FROUND_NEAREST)
        return q;
    if (!cm_fround_fast_exp(a) || !cm_fround_fast_exp(b))
        return cm_fround_slow(CM_FROUND_DIV, a, b, q, mode);
    /* a - q*b = (a - ph) - pl with ph + pl = q*b; a - ph is exact (Sterbenz: ph is
     * within a factor of two of a). sign(a/b - q) = sign(a - q*b) * sign(b). */
    double ph = q * b;
    double pl = cm_fround_two_prod_err(q, b, ph);
    double t = a - ph;
    int s = (t > pl) - (t < pl);
    return cm_fround_step(q, b < 0 ? -s : s, mode);
}

static inline double cm_fround_sqrt(double a, unsigned mode)
{
    double r = __builtin_sqrt(a);
    if (mode == CM_FROUND_NEAREST)
        return r;
    if (!cm_fround_fast_exp(a) || a < 0)
        return cm_fround_slow(CM_FROUND_SQRT, a, 0, r, mode);
    /* sign(sqrt(a) - r) = sign(a - r*r); a - ph is exact as in div. */
    double ph = r * r;
    double pl = cm_fround_two_prod_err(r, r, ph);
    double t = a - ph;
    return cm_fround_step(r, (t > pl) - (t < pl), mode);
}

#ifdef __cplusplus
}
#endif
#endif
