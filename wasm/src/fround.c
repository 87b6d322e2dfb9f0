/* consentminer — the slow path of software directed rounding (see fround.h).
 *
 * Reached for zeros, infinities, NaN, subnormals and exponents near either end of the
 * range: rare in RandomX, so this favours being obviously exact over speed. The sign of
 * (exact - r) for mul, div and sqrt is found by comparing products of the integer
 * significands, which cannot overflow or underflow; add uses TwoSum after an exact
 * rescaling.
 */
#include "fround.h"

__thread unsigned cm_fround_mode;

typedef struct cm_u128 {
    uint64_t hi, lo;
} cm_u128;

static cm_u128 u128_mul(uint64_t a, uint64_t b)
{
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    cm_u128 r;
    r.lo = (mid << 32) | (p00 & 0xffffffffu);
    r.hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    return r;
}

static cm_u128 u128_from(uint64_t x)
{
    cm_u128 r = {0, x};
    return r;
}

static int u128_bitlen(cm_u128 x)
{
    int n = 0;
    if (x.hi) {
        n = 64;
        x.lo = x.hi;
    }
    while (x.lo) {
        n++;
        x.lo >>= 1;
    }
    return n;
}

/* x << n for 0 <= n < 128, when the result fits. */
static cm_u128 u128_shl(cm_u128 x, int n)
{
    if (n == 0)
        return x;
    if (n >= 64) {
        x.hi = x.lo << (n - 64);
        x.lo = 0;
        return x;
    }
    x.hi = (x.hi << n) | (x.lo >> (64 - n));
    x.lo <<= n;
    return x;
}

static int u128_cmp(cm_u128 x, cm_u128 y)
{
    if (x.hi != y.hi)
        return x.hi < y.hi ? -1 : 1;
    if (x.lo != y.lo)
        return x.lo < y.lo ? -1 : 1;
    return 0;
}

/* Compares x * 2^ex with y * 2^ey (x, y non-zero): -1, 0 or +1. */
static int cmp_scaled(cm_u128 x, int ex, cm_u128 y, int ey)
{
    int lx = u128_bitlen(x) + ex, ly = u128_bitlen(y) + ey;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    /* Same magnitude: shift the one with the larger exponent left; it then has the
     * other's bit length, so nothing is lost. */
    if (ex > ey)
        x = u128_shl(x, ex - ey);
    else
        y = u128_shl(y, ey - ex);
    return u128_cmp(x, y);
}

/* |x| = m * 2^e with m an integer in [2^52, 2^53), for finite non-zero x. */
static void decompose(double x, uint64_t *m, int *e)
{
    uint64_t u = cm_fround_bits(x);
    int be = (int)((u >> 52) & 0x7ff);
    uint64_t frac = u & 0xfffffffffffffull;
    if (be == 0) {
        /* subnormal: frac * 2^-1074; normalise */
        int sh = 0;
        while (!(frac & (1ull << 52))) {
            frac <<= 1;
            sh++;
        }
        *m = frac;
        *e = -1074 - sh;
    } else {
        *m = frac | (1ull << 52);
        *e = be - 1075;
    }
}

static int is_finite_nonzero(double x)
{
    unsigned e = cm_fround_exp(x);
    return e != 0x7ff && x != 0;
}

static double slow_add(double a, double b, double r, unsigned mode)
{
    if (!(cm_fround_exp(a) != 0x7ff && cm_fround_exp(b) != 0x7ff))
        return r;                  /* inf or NaN operands: exact (or invalid) */
    if (cm_fround_exp(r) == 0x7ff) /* overflow: the exact sum lies inside the range */
        return cm_fround_step(r, r > 0 ? -1 : 1, mode);
    if (r == 0) {
        if (mode == CM_FROUND_DOWN && !(cm_fround_bits(a) == 0 && cm_fround_bits(b) == 0))
            return -0.0;
        return r;
    }
    if (cm_fround_exp(a) < 2045 && cm_fround_exp(b) < 2045) {
        /* both below 2^1022: plain TwoSum cannot overflow */
        double bb = r - a;
        double err = (a - (r - bb)) + (b - bb);
        return cm_fround_step(r, cm_fround_sign(err), mode);
    }
    /* One operand is at least 2^1022 here; the other is `small`. */
    double small = cm_fround_exp(b) > cm_fround_exp(a) ? a : b;
    if (cm_fround_exp(small) < 3) {
        /* |small| < 2^-1020 is far below half an ulp of |big| >= 2^1022: r == big and the
         * error is small itself. */
        return cm_fround_step(r, cm_fround_sign(small), mode);
    }
    /* Scaling by 1/4 is exact for both (the smaller stays normal) and so is the rounded
     * sum; TwoSum on the scaled operands cannot overflow. */
    double as = a * 0.25, bs = b * 0.25, s = as + bs;
    double bb = s - as;
    double err = (as - (s - bb)) + (bs - bb);
    return cm_fround_step(r, cm_fround_sign(err), mode);
}

static double slow_mul(double a, double b, double r, unsigned mode)
{
    if (!is_finite_nonzero(a) || !is_finite_nonzero(b))
        return r; /* zero, inf or NaN operand: exact (or invalid) */
    int neg = (a < 0) != (b < 0);
    if (cm_fround_exp(r) == 0x7ff) /* overflow */
        return cm_fround_step(r, neg ? 1 : -1, mode);
    if (r == 0) /* underflow to zero: the exact product is on the side of its sign */
        return cm_fround_step(r, neg ? -1 : 1, mode);
    uint64_t ma, mb, mr;
    int ea, eb, er;
    decompose(a, &ma, &ea);
    decompose(b, &mb, &eb);
    decompose(r, &mr, &er);
    int c = cmp_scaled(u128_mul(ma, mb), ea + eb, u128_from(mr), er); /* |exact| vs |r| */
    return cm_fround_step(r, neg ? -c : c, mode);
}

static double slow_div(double a, double b, double r, unsigned mode)
{
    if (!is_finite_nonzero(a) || !is_finite_nonzero(b))
        return r; /* x/0, 0/x, inf, NaN: exact (or invalid) */
    int neg = (a < 0) != (b < 0);
    if (cm_fround_exp(r) == 0x7ff)
        return cm_fround_step(r, neg ? 1 : -1, mode);
    if (r == 0)
        return cm_fround_step(r, neg ? -1 : 1, mode);
    uint64_t ma, mb, mr;
    int ea, eb, er;
    decompose(a, &ma, &ea);
    decompose(b, &mb, &eb);
    decompose(r, &mr, &er);
    /* |a/b| vs |r|  <=>  |a| vs |r|*|b| */
    int c = cmp_scaled(u128_from(ma), ea, u128_mul(mr, mb), er + eb);
    return cm_fround_step(r, neg ? -c : c, mode);
}

static double slow_sqrt(double a, double r, unsigned mode)
{
    if (!is_finite_nonzero(a) || a < 0)
        return r; /* +-0, +inf: exact; negative, NaN: invalid */
    uint64_t ma, mr;
    int ea, er;
    decompose(a, &ma, &ea);
    decompose(r, &mr, &er);
    /* sqrt(a) vs r  <=>  a vs r*r (both positive) */
    int c = cmp_scaled(u128_from(ma), ea, u128_mul(mr, mr), 2 * er);
    return cm_fround_step(r, c, mode);
}

double cm_fround_slow(int op, double a, double b, double r, unsigned mode)
{
    if (mode == CM_FROUND_NEAREST)
        return r;
    switch (op) {
    case CM_FROUND_ADD:
        return slow_add(a, b, r, mode);
    case CM_FROUND_SUB:
        return slow_add(a, -b, r, mode);
    case CM_FROUND_MUL:
        return slow_mul(a, b, r, mode);
    case CM_FROUND_DIV:
        return slow_div(a, b, r, mode);
    case CM_FROUND_SQRT:
        return slow_sqrt(a, r, mode);
    default:
        return r;
    }
}
