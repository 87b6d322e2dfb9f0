/* consentminer — exact rounding for RandomX's float instructions, in f64x2 wasm code.
 *
 * Owns the rounding emitters and the rounding-mode set-up; the float module
 * (float_module.c) wraps them as functions the program modules call.
 *
 * WebAssembly only rounds to nearest. Each FADD/FSUB/FMUL/FDIV/FSQRT is done in
 * round-to-nearest, then an error-free transformation gives the sign of the exact error
 * and the result moves one ulp when it lies on the wrong side for the mode (the method of
 * wasm/src/fround.h, inline and branch-free). Two locals hold the mode as a sign mask and
 * a direction so that D = (bits(s) & SGN) ^ DX is 0 (nearest), -1.0 (down), +1.0 (up) or
 * -sign(s) (toward zero); a lane moves when err * D > 0, by one in its bit pattern:
 * away from zero when s and D share a sign, toward it otherwise. Operands outside the
 * transformations' exact range (and zero sums, whose sign depends on the mode) go to
 * env.fround_slow, lane by lane, behind one compare and a rarely taken branch.
 */
#include "program_internal.h"

#include "../fround.h" /* CM_FROUND_ADD..SQRT: env.fround_slow's op numbers */

/* Fast-path ranges of the bits of the varying operand, [lo, hi): there the error-free
 * transformations neither overflow nor underflow (fround.h's reasoning, with RandomX's
 * other operand: a in [1, 2^32) for FMUL, checked at entry; the FDIV_M divisor in
 * [2^-256, 2) from eMask, checked at translation). Wider than fround.h's generic window
 * so that the large group E values of ordinary programs stay on the fast path.
 *  - add/sub: |s| in [smallest subnormal, 2^1022) (a zero sum is exact but its sign
 *    depends on the mode);
 *  - mul: e in [2^-800, 2^960): the split of e stays below 2^988, the product below 2^992
 *    and the smallest partial product above 2^-904;
 *  - div: e in [2^-600, 2^700): the quotient below 2^956, partial products above 2^-961;
 *  - sqrt: e in [2^-800, 2^1000) and positive;
 *  - generic (fround.h's [600, 1500) biased exponents) for both FDIV_M operands when eMask
 *    is not of RandomX's form. (The kinds: K_ADD..K_GEN, program_internal.h.) */
static const uint64_t k_lo[K_COUNT] = {1, 223ull << 52, 423ull << 52, 223ull << 52, 600ull << 52};
static const uint64_t k_hi[K_COUNT] = {2045ull << 52, 1983ull << 52, 1723ull << 52, 2023ull << 52,
                                       1500ull << 52};

/* Pushes 1 when a lane of local v lies outside the fast range, from its bits (abs: its
 * magnitude). The unsigned test bits - lo < hi - lo as one signed compare. */
static void v_bad(ctx *c, uint32_t v, int k)
{
    lg(c, v);
    if (k == K_ADD) {
        lg(c, V_ABS);
        sv(c, CM_SIMD_V128_AND);
    }
    lg(c, V_CK + 2 * (uint32_t)k);
    sv(c, CM_SIMD_I64X2_ADD);
    lg(c, V_CK + 2 * (uint32_t)k + 1);
    sv(c, CM_SIMD_I64X2_GT_S);
    sv(c, CM_SIMD_V128_ANY_TRUE);
}

static uint64_t bad_off(uint64_t lo)
{
    return SIGN_BIT - lo;
}

static uint64_t bad_k(uint64_t lo, uint64_t hi)
{
    return ((hi - lo) ^ SIGN_BIT) - 1;
}

/* dst = fround_slow lane by lane (the float module's slow2, c->f_slow2). */
static void v_slow(ctx *c, int fop, uint32_t dst, uint32_t x, uint32_t y, uint32_t s)
{
    i32c(c, (uint32_t)fop);
    lg(c, x);
    lg(c, y);
    lg(c, s);
    lg(c, L_MODE);
    call(c, c->f_slow2);
    ls(c, dst);
}

/* x = the corrected result, or fround_slow's when the i32 on the stack is set. */
static void v_finish(ctx *c, int fop, uint32_t x, uint32_t y, uint32_t s)
{
    block(c, CM_OP_IF);
    v_slow(c, fop, V_T + 8, x, y, s);
    op(c, CM_OP_END);
    lg(c, V_T + 8);
    ls(c, x);
}

/* dst = s moved one ulp toward the exact value when the mode asks (see the top). */
static void v_correct(ctx *c, uint32_t dst, uint32_t s, uint32_t err)
{
    uint32_t d = V_T + 7;
    lg(c, s);
    lg(c, s);
    lg(c, V_SGN);
    sv(c, CM_SIMD_V128_AND);
    lg(c, V_DX);
    sv(c, CM_SIMD_V128_XOR);
    lt(c, d);
    lg(c, s);
    sv(c, CM_SIMD_V128_XOR);
    i32c(c, 63);
    sv(c, CM_SIMD_I64X2_SHR_S);
    lg(c, V_ONE);
    sv(c, CM_SIMD_V128_OR);
    lg(c, d);
    lg(c, err);
    sv(c, CM_SIMD_F64X2_MUL);
    lg(c, V_ZERO);
    sv(c, CM_SIMD_F64X2_GT);
    sv(c, CM_SIMD_V128_AND);
    sv(c, CM_SIMD_I64X2_ADD);
    ls(c, dst);
}

/* hi, lo = Veltkamp's split of x. */
void jitp_split(ctx *c, uint32_t x, uint32_t hi, uint32_t lo)
{
    lg(c, x);
    lg(c, V_SPL);
    sv(c, CM_SIMD_F64X2_MUL);
    lt(c, hi);
    lg(c, hi);
    lg(c, x);
    sv(c, CM_SIMD_F64X2_SUB);
    sv(c, CM_SIMD_F64X2_SUB);
    lt(c, hi);
    lg(c, x);
    sv(c, CM_SIMD_F64X2_SUB);
    sv(c, CM_SIMD_F64X2_NEG);
    ls(c, lo);
}

/* Pushes Dekker's x*y - p from the splits. */
static void v_prod_err(ctx *c, uint32_t xh, uint32_t xl, uint32_t yh, uint32_t yl, uint32_t p)
{
    lg(c, xl);
    lg(c, yl);
    sv(c, CM_SIMD_F64X2_MUL);
    lg(c, p);
    lg(c, xh);
    lg(c, yh);
    sv(c, CM_SIMD_F64X2_MUL);
    sv(c, CM_SIMD_F64X2_SUB);
    lg(c, xl);
    lg(c, yh);
    sv(c, CM_SIMD_F64X2_MUL);
    sv(c, CM_SIMD_F64X2_SUB);
    lg(c, xh);
    lg(c, yl);
    sv(c, CM_SIMD_F64X2_MUL);
    sv(c, CM_SIMD_F64X2_SUB);
    sv(c, CM_SIMD_F64X2_SUB);
}

/* x = x + y or x - y, correctly rounded. */
void jitp_addsub(ctx *c, int sub, uint32_t x, uint32_t y)
{
    uint32_t s = V_T, bb = V_T + 2, err = V_T + 3;
    lg(c, x);
    lg(c, y);
    sv(c, sub ? CM_SIMD_F64X2_SUB : CM_SIMD_F64X2_ADD);
    ls(c, s);
    /* TwoSum of x and y (or -y): bb = s - x; err = (x - (s - bb)) + (y - bb) */
    lg(c, x);
    lg(c, s);
    lg(c, s);
    lg(c, x);
    sv(c, CM_SIMD_F64X2_SUB);
    lt(c, bb);
    sv(c, CM_SIMD_F64X2_SUB);
    sv(c, CM_SIMD_F64X2_SUB);
    lg(c, y);
    lg(c, bb);
    if (sub) {
        sv(c, CM_SIMD_F64X2_ADD);
        sv(c, CM_SIMD_F64X2_SUB);
    } else {
        sv(c, CM_SIMD_F64X2_SUB);
        sv(c, CM_SIMD_F64X2_ADD);
    }
    ls(c, err);
    v_correct(c, V_T + 8, s, err);
    v_bad(c, s, K_ADD);
    v_finish(c, sub ? CM_FROUND_SUB : CM_FROUND_ADD, x, y, s);
}

/* x = x * a[ai], correctly rounded (a's split is precomputed). */
void jitp_mul(ctx *c, uint32_t x, uint32_t ai)
{
    uint32_t p = V_T, xh = V_T + 2, xl = V_T + 3, err = V_T + 4;
    lg(c, x);
    lg(c, V_A + ai);
    sv(c, CM_SIMD_F64X2_MUL);
    ls(c, p);
    jitp_split(c, x, xh, xl);
    v_prod_err(c, xh, xl, V_AH + ai, V_AL + ai, p);
    ls(c, err);
    v_correct(c, V_T + 8, p, err);
    v_bad(c, x, K_MUL);
    lg(c, L_ABAD);
    op(c, CM_OP_I32_OR);
    v_finish(c, CM_FROUND_MUL, x, V_A + ai, p);
}

/* x = x / y or sqrt(x) (y ignored), correctly rounded: the sign of x - q*y or x - r*r. */
void jitp_divsqrt(ctx *c, int sqrt, uint32_t x, uint32_t y)
{
    uint32_t q = V_T, qh = V_T + 2, ql = V_T + 3, yh = V_T + 4, yl = V_T + 5, ph = V_T + 6;
    lg(c, x);
    if (sqrt) {
        sv(c, CM_SIMD_F64X2_SQRT);
        y = q;
    } else {
        lg(c, y);
        sv(c, CM_SIMD_F64X2_DIV);
    }
    ls(c, q);
    lg(c, q);
    lg(c, y);
    sv(c, CM_SIMD_F64X2_MUL);
    ls(c, ph);
    jitp_split(c, q, qh, ql);
    if (!sqrt)
        jitp_split(c, y, yh, yl);
    lg(c, x);
    lg(c, ph);
    sv(c, CM_SIMD_F64X2_SUB);
    if (sqrt)
        v_prod_err(c, qh, ql, qh, ql, ph);
    else
        v_prod_err(c, qh, ql, yh, yl, ph);
    sv(c, CM_SIMD_F64X2_SUB);
    if (!sqrt && c->div_y_sign) {
        lg(c, y);
        lg(c, V_SIGN);
        sv(c, CM_SIMD_V128_AND);
        sv(c, CM_SIMD_V128_XOR);
    }
    ls(c, qh);
    v_correct(c, V_T + 8, q, qh);
    if (sqrt) {
        v_bad(c, x, K_SQRT);
    } else if (!c->div_y_check) {
        v_bad(c, x, K_DIV);
    } else {
        v_bad(c, x, K_GEN);
        v_bad(c, y, K_GEN);
        op(c, CM_OP_I32_OR);
    }
    v_finish(c, sqrt ? CM_FROUND_SQRT : CM_FROUND_DIV, x, sqrt ? x : y, q);
}

/* From L_MODE (0..3): the sign mask and direction of D (see the top). */
void jitp_mode_consts(ctx *c)
{
    /* DX = mode ? (mode == 2 ? +1.0 : -1.0) : 0 */
    i64c(c, f64_bits(1.0));
    i64c(c, f64_bits(-1.0));
    lg(c, L_MODE);
    i32c(c, 2);
    op(c, CM_OP_I32_EQ);
    op(c, CM_OP_SELECT);
    i64c(c, 0);
    lg(c, L_MODE);
    op(c, CM_OP_SELECT);
    ls(c, L_DX);
    i64c(c, SIGN_BIT);
    i64c(c, 0);
    lg(c, L_MODE);
    i32c(c, 3);
    op(c, CM_OP_I32_EQ);
    op(c, CM_OP_SELECT);
    ls(c, L_SGN);
    lg(c, L_DX);
    sv(c, CM_SIMD_I64X2_SPLAT);
    ls(c, V_DX);
    lg(c, L_SGN);
    sv(c, CM_SIMD_I64X2_SPLAT);
    ls(c, V_SGN);
}

void jitp_round_consts(ctx *c)
{
    const struct {
        uint32_t local;
        uint64_t v;
    } k[] = {{V_ONE, 1}, {V_ABS, ~SIGN_BIT}, {V_SPL, f64_bits(SPLITTER)}, {V_SIGN, SIGN_BIT}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        splat(c, k[i].v);
        ls(c, k[i].local);
    }
    for (uint32_t i = 0; i < K_COUNT; i++) {
        splat(c, bad_off(k_lo[i]));
        ls(c, V_CK + 2 * i);
        splat(c, bad_k(k_lo[i], k_hi[i]));
        ls(c, V_CK + 2 * i + 1);
    }
}
