/* consentminer — a RandomX program (specs.md 4.6, 5) as a WebAssembly module.
 *
 * The contract is in jit.h. The generated "run" keeps every RandomX register in a wasm
 * local: r0-7 as i64; f, e, a as v128 pairs of doubles (or, without SIMD, two f64 locals
 * each). One iteration of specs.md 4.6.2 is one pass of a wasm loop; each CBRANCH is a
 * wasm loop from its target to the branch: after a CBRANCH every register counts as
 * used (bytecode_machine.cpp), so the branch ranges never overlap and always nest
 * properly inside the iteration loop.
 *
 * Rounding: WebAssembly only rounds to nearest. Each FADD/FSUB/FMUL/FDIV/FSQRT is done in
 * round-to-nearest, then an error-free transformation gives the sign of the exact error
 * and the result moves one ulp when it lies on the wrong side for the mode (the method of
 * wasm/src/fround.h, inline and branch-free). Two locals hold the mode as a sign mask and
 * a direction so that D = (bits(s) & SGN) ^ DX is 0 (nearest), -1.0 (down), +1.0 (up) or
 * -sign(s) (toward zero); a lane moves when err * D > 0, by one in its bit pattern:
 * away from zero when s and D share a sign, toward it otherwise. Operands outside the
 * transformations' exact range (and zero sums, whose sign depends on the mode) go to
 * env.fround_slow, lane by lane, behind one compare and a rarely taken branch.
 */
#include "jit.h"

#include <string.h>

#include "../fround.h" /* CM_FROUND_ADD..SQRT: env.fround_slow's op numbers */

/* RandomX 1.1.10 with Monero's parameters (configuration.h, common.hpp). */
#define RX_PROGRAM_SIZE 256
#define RX_L1_MASK 0x3FF8u   /* (RANDOMX_SCRATCHPAD_L1 / 8 - 1) * 8 */
#define RX_L2_MASK 0x3FFF8u  /* (RANDOMX_SCRATCHPAD_L2 / 8 - 1) * 8 */
#define RX_L3_MASK 0x1FFFF8u /* (RANDOMX_SCRATCHPAD_L3 / 8 - 1) * 8 */
#define RX_L3_MASK64 0x1FFFC0u
#define RX_CACHE_LINE_ALIGN_MASK 0x7FFFFFC0u /* (RANDOMX_DATASET_BASE_SIZE - 1) & ~63 */
#define RX_COND_OFFSET 8                     /* RANDOMX_JUMP_OFFSET */
#define RX_COND_MASK 0xFFu                   /* (1 << RANDOMX_JUMP_BITS) - 1 */
#define RX_STORE_L3_COND 14
#define RX_DISP_REG 5                              /* RegisterNeedsDisplacement */
#define RX_DYN_MANTISSA_MASK 0x00FFFFFFFFFFFFFFull /* dynamicMantissaMask: 52 + 4 bits */
#define RX_FSCAL_MASK 0x80F0000000000000ull

/* Instruction frequencies in opcode order (configuration.h, RANDOMX_FREQ_*). */
enum {
    I_IADD_RS,
    I_IADD_M,
    I_ISUB_R,
    I_ISUB_M,
    I_IMUL_R,
    I_IMUL_M,
    I_IMULH_R,
    I_IMULH_M,
    I_ISMULH_R,
    I_ISMULH_M,
    I_IMUL_RCP,
    I_INEG_R,
    I_IXOR_R,
    I_IXOR_M,
    I_IROR_R,
    I_IROL_R,
    I_ISWAP_R,
    I_FSWAP_R,
    I_FADD_R,
    I_FADD_M,
    I_FSUB_R,
    I_FSUB_M,
    I_FSCAL_R,
    I_FMUL_R,
    I_FDIV_M,
    I_FSQRT_R,
    I_CBRANCH,
    I_CFROUND,
    I_ISTORE,
    I_NOP,
    I_COUNT
};
static const uint8_t rx_freq[I_COUNT] = {16, 7, 16, 7,  16, 4,  4, 1, 4,  1, 8, 2,  15, 5,  8,
                                         2,  4, 4,  16, 5,  16, 5, 6, 32, 4, 6, 25, 1,  16, 0};

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
 *    is not of RandomX's form. */
enum { K_ADD, K_MUL, K_DIV, K_SQRT, K_GEN, K_COUNT };
static const uint64_t k_lo[K_COUNT] = {1, 223ull << 52, 423ull << 52, 223ull << 52, 600ull << 52};
static const uint64_t k_hi[K_COUNT] = {2045ull << 52, 1983ull << 52, 1723ull << 52, 2023ull << 52,
                                       1500ull << 52};
#define A_LO (1023ull << 52) /* the group A range of getSmallPositiveFloatBits: [1, 2^32) */
#define A_HI (1055ull << 52)
#define SIGN_BIT 0x8000000000000000ull
#define SPLITTER 134217729.0 /* 2^27 + 1, Veltkamp */

/* Type indices of the program module (function indices: ctx). */
enum { T_ITEM, T_SLOW, T_RUN, T_MUL, T_SLOW2 };

/* Locals of "run": params, then i64, i32, then v128 (SIMD) or f64 (scalar). */
enum {
    L_REG,
    L_MEM,
    L_SP,
    L_ITERS,
    L_R0,
    L_T0 = L_R0 + 8,
    L_T1,
    L_SGN,
    L_DX, /* i64: L_SGN, L_DX scalar mode's constants */
    L_I64_END,
    L_P0 = L_I64_END,
    L_P1,
    L_MX,
    L_MA,
    L_MODE,
    L_SPA0,
    L_SPA1,
    L_AD,
    L_ABAD, /* 1: some group A value is outside [1, 2^32) */
    L_I32_END,
    /* v128 (SIMD) */
    V_F = L_I32_END,
    V_E = V_F + 4,
    V_A = V_E + 4,
    V_AH = V_A + 4,
    V_AL = V_AH + 4,
    V_SGN = V_AL + 4,
    V_DX,
    V_ONE,
    V_ZERO,
    V_ABS,
    V_MANT,
    V_EMASK,
    V_SPL,
    V_SIGN,
    V_CK,                     /* V_CK + 2k, + 2k + 1: range check k's offset and bound */
    V_T = V_CK + 2 * K_COUNT, /* V_T..V_T+8 temporaries */
    V_END = V_T + 9,
    /* f64 (scalar): register i lane l at base + 2i + l */
    S_F = L_I32_END,
    S_E = S_F + 8,
    S_A = S_E + 8,
    S_AH = S_A + 8,
    S_AL = S_AH + 8,
    S_T = S_AL + 8,
    S_END = S_T + 11 /* S_T + 8, 9: the memory operand; + 10 the result */
};

typedef struct ctx {
    cm_wbuf *b;
    const cm_jit_prog_input *in;
    int div_y_check; /* the FDIV_M divisor can leave the fast range (unusual eMask) */
    int div_y_sign;  /* the FDIV_M divisor can be negative */
    /* function indices in the module being written (they differ between the program
     * module with and without float helpers, and the float module) */
    uint32_t f_item, f_slow, f_mulh, f_smulh, f_slow2;
    uint32_t f_float; /* float helpers: f_float + FH_ADD..FH_SQRT (in->float_helpers) */
} ctx;

/* The float module's functions, in its export order (cm_jit_float). */
enum { FH_ADD, FH_SUB, FH_MUL, FH_DIV, FH_DIVG, FH_SQRT, FH_COUNT };
static const char *const fh_names[FH_COUNT] = {"fadd", "fsub", "fmul", "fdiv", "fdiv_any", "fsqrt"};

/* --- small emitters ---------------------------------------------------------------- */

static void op(ctx *c, uint8_t o)
{
    cm_w_u8(c->b, o);
}
static void lg(ctx *c, uint32_t i)
{
    cm_w_local(c->b, CM_OP_LOCAL_GET, i);
}
static void ls(ctx *c, uint32_t i)
{
    cm_w_local(c->b, CM_OP_LOCAL_SET, i);
}
static void lt(ctx *c, uint32_t i)
{
    cm_w_local(c->b, CM_OP_LOCAL_TEE, i);
}
static void i32c(ctx *c, uint32_t v)
{
    cm_w_i32_const(c->b, (int32_t)v);
}
static void i64c(ctx *c, uint64_t v)
{
    cm_w_i64_const(c->b, (int64_t)v);
}
static void sv(ctx *c, uint32_t o)
{
    cm_w_simd(c->b, o);
}
static void mem(ctx *c, uint8_t o, uint32_t align, uint32_t off)
{
    cm_w_mem(c->b, o, align, off);
}
static void smem(ctx *c, uint32_t o, uint32_t align, uint32_t off)
{
    cm_w_simd(c->b, o);
    cm_w_u32(c->b, align);
    cm_w_u32(c->b, off);
}
static void splat(ctx *c, uint64_t v)
{
    cm_w_v128_const(c->b, v, v);
}
static void call(ctx *c, uint32_t f)
{
    op(c, CM_OP_CALL);
    cm_w_u32(c->b, f);
}
static void block(ctx *c, uint8_t o)
{
    op(c, o);
    op(c, CM_BT_EMPTY);
}

static uint64_t f64_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/* RandomX's IMUL_RCP constant: floor(2^x / d) for the largest x giving a value below
 * 2^64, that is 2^(63 + bitlength(d)) / d; d is neither 0 nor a power of two. Long
 * division, one quotient bit per step. */
static uint64_t reciprocal(uint64_t d)
{
    uint64_t q = (1ull << 63) / d, r = (1ull << 63) % d;
    for (uint64_t bit = d; bit; bit >>= 1) {
        int carry = r >= d - r;
        q = 2 * q + (uint64_t)carry;
        r = carry ? r - (d - r) : 2 * r;
    }
    return q;
}

/* --- decoding (bytecode_machine.cpp) ------------------------------------------------ */

typedef struct dec {
    uint8_t type, dst, src, shift;
    uint32_t mask; /* memory mask; 0: the operand address is the constant imm & L3 mask */
    uint64_t imm;
    int loop_here; /* a CBRANCH jumps back to just before this instruction */
} dec;

static uint64_t sext(uint32_t v)
{
    return (uint64_t)(int64_t)(int32_t)v;
}

static void decode(const cm_jit_instr *code, uint32_t n, dec *d)
{
    unsigned ceil[I_COUNT];
    int usage[8];
    unsigned acc = 0;
    for (int t = 0; t < I_COUNT; t++) {
        acc += rx_freq[t];
        ceil[t] = acc;
    }
    for (int r = 0; r < 8; r++)
        usage[r] = -1;
    memset(d, 0, n * sizeof *d);
    for (uint32_t i = 0; i < n; i++) {
        const cm_jit_instr *ins = &code[i];
        int t = 0;
        while (t < I_NOP && ins->opcode >= ceil[t])
            t++;
        dec *x = &d[i];
        x->type = (uint8_t)t;
        x->dst = ins->dst % 8;
        x->src = ins->src % 8;
        x->imm = sext(ins->imm32);
        x->shift = (ins->mod >> 2) % 4;
        x->mask = (ins->mod % 4) ? RX_L1_MASK : RX_L2_MASK;
        int same = x->src == x->dst;
        switch (t) {
        case I_IADD_M:
        case I_ISUB_M:
        case I_IMUL_M:
        case I_IMULH_M:
        case I_ISMULH_M:
        case I_IXOR_M:
            if (same)
                x->mask = 0;
            usage[x->dst] = (int)i;
            break;
        case I_IMUL_RCP:
            if (ins->imm32 == 0 || (ins->imm32 & (ins->imm32 - 1)) == 0) {
                x->type = I_NOP;
            } else {
                x->imm = reciprocal(ins->imm32);
                usage[x->dst] = (int)i;
            }
            break;
        case I_IROR_R:
        case I_IROL_R:
            x->imm = ins->imm32;
            usage[x->dst] = (int)i;
            break;
        case I_ISWAP_R:
            if (same) {
                x->type = I_NOP;
            } else {
                usage[x->dst] = (int)i;
                usage[x->src] = (int)i;
            }
            break;
        case I_FSWAP_R:
        case I_FADD_R:
        case I_FADD_M:
        case I_FSUB_R:
        case I_FSUB_M:
        case I_FSCAL_R:
        case I_FMUL_R:
        case I_FDIV_M:
        case I_FSQRT_R:
            break;
        case I_CBRANCH: {
            int shift = (ins->mod >> 4) + RX_COND_OFFSET;
            uint64_t imm = sext(ins->imm32) | (1ull << shift);
            imm &= ~(1ull << (shift - 1));
            x->imm = imm;
            x->shift = (uint8_t)shift;
            d[usage[x->dst] + 1].loop_here = 1;
            x->mask = (uint32_t)usage[x->dst] + 1; /* the loop's first instruction */
            for (int r = 0; r < 8; r++)
                usage[r] = (int)i;
            break;
        }
        case I_CFROUND:
            x->imm = ins->imm32 & 63;
            break;
        case I_ISTORE:
            if ((ins->mod >> 4) >= RX_STORE_L3_COND)
                x->mask = RX_L3_MASK;
            break;
        case I_NOP:
            break;
        default: /* IADD_RS, ISUB_R, IMUL_R, IMULH_R, ISMULH_R, INEG_R, IXOR_R */
            usage[x->dst] = (int)i;
            break;
        }
    }
}

/* --- addresses ---------------------------------------------------------------------- */

/* Pushes the scratchpad address of (r[reg] + imm) & mask, or of imm & L3 for mask 0,
 * and returns the static offset to give the access. */
static uint32_t addr(ctx *c, uint32_t reg, uint64_t imm, uint32_t mask)
{
    lg(c, L_SP);
    if (!mask)
        return (uint32_t)imm & RX_L3_MASK;
    lg(c, L_R0 + reg);
    op(c, CM_OP_I32_WRAP_I64);
    i32c(c, (uint32_t)imm);
    op(c, CM_OP_I32_ADD);
    i32c(c, mask);
    op(c, CM_OP_I32_AND);
    op(c, CM_OP_I32_ADD);
    return 0;
}

/* --- SIMD floating point ------------------------------------------------------------ */

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

/* dst = fround_slow lane by lane (the helper F_SLOW2). */
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
static void v_split(ctx *c, uint32_t x, uint32_t hi, uint32_t lo)
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
static void v_addsub(ctx *c, int sub, uint32_t x, uint32_t y)
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
static void v_mul(ctx *c, uint32_t x, uint32_t ai)
{
    uint32_t p = V_T, xh = V_T + 2, xl = V_T + 3, err = V_T + 4;
    lg(c, x);
    lg(c, V_A + ai);
    sv(c, CM_SIMD_F64X2_MUL);
    ls(c, p);
    v_split(c, x, xh, xl);
    v_prod_err(c, xh, xl, V_AH + ai, V_AL + ai, p);
    ls(c, err);
    v_correct(c, V_T + 8, p, err);
    v_bad(c, x, K_MUL);
    lg(c, L_ABAD);
    op(c, CM_OP_I32_OR);
    v_finish(c, CM_FROUND_MUL, x, V_A + ai, p);
}

/* x = x / y or sqrt(x) (y ignored), correctly rounded: the sign of x - q*y or x - r*r. */
static void v_divsqrt(ctx *c, int sqrt, uint32_t x, uint32_t y)
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
    v_split(c, q, qh, ql);
    if (!sqrt)
        v_split(c, y, yh, yl);
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

/* Pushes the two int32 at the address on the stack (+off) as a pair of doubles. */
static void v_load_cvt(ctx *c, uint32_t off)
{
    smem(c, CM_SIMD_V128_LOAD64_ZERO, 3, off);
    sv(c, CM_SIMD_F64X2_CONVERT_LOW_I32X4_S);
}

/* Applies maskRegisterExponentMantissa to the vector on the stack. */
static void v_emask(ctx *c)
{
    lg(c, V_MANT);
    sv(c, CM_SIMD_V128_AND);
    lg(c, V_EMASK);
    sv(c, CM_SIMD_V128_OR);
}

/* --- scalar floating point (the same algorithms, one lane at a time) ---------------- */

static void f64c(ctx *c, double v)
{
    cm_w_f64_const(c->b, v);
}

static void s_bad(ctx *c, uint32_t v, int k)
{
    lg(c, v);
    op(c, CM_OP_I64_REINTERPRET_F64);
    if (k == K_ADD) {
        i64c(c, ~SIGN_BIT);
        op(c, CM_OP_I64_AND);
    }
    i64c(c, k_lo[k]);
    op(c, CM_OP_I64_SUB);
    i64c(c, k_hi[k] - k_lo[k] - 1);
    op(c, CM_OP_I64_GT_U);
}

static void s_slow(ctx *c, int fop, uint32_t dst, uint32_t x, uint32_t y, uint32_t s)
{
    i32c(c, (uint32_t)fop);
    lg(c, x);
    lg(c, y);
    lg(c, s);
    lg(c, L_MODE);
    call(c, c->f_slow);
    ls(c, dst);
}

/* x = the corrected result, or fround_slow's when the i32 on the stack is set. */
static void s_finish(ctx *c, int fop, uint32_t x, uint32_t y, uint32_t s)
{
    block(c, CM_OP_IF);
    s_slow(c, fop, S_T + 10, x, y, s);
    op(c, CM_OP_END);
    lg(c, S_T + 10);
    ls(c, x);
}

static void s_correct(ctx *c, uint32_t dst, uint32_t s, uint32_t err)
{
    lg(c, s);
    op(c, CM_OP_I64_REINTERPRET_F64);
    lt(c, L_T0);
    lg(c, L_T0);
    lg(c, L_SGN);
    op(c, CM_OP_I64_AND);
    lg(c, L_DX);
    op(c, CM_OP_I64_XOR);
    lt(c, L_T1);
    lg(c, L_T0);
    op(c, CM_OP_I64_XOR);
    i64c(c, 63);
    op(c, CM_OP_I64_SHR_S);
    i64c(c, 1);
    op(c, CM_OP_I64_OR);
    i64c(c, 0);
    lg(c, L_T1);
    op(c, CM_OP_F64_REINTERPRET_I64);
    lg(c, err);
    op(c, CM_OP_F64_MUL);
    f64c(c, 0.0);
    op(c, 0x64); /* f64.gt */
    op(c, CM_OP_SELECT);
    op(c, CM_OP_I64_ADD);
    op(c, CM_OP_F64_REINTERPRET_I64);
    ls(c, dst);
}

static void s_split(ctx *c, uint32_t x, uint32_t hi, uint32_t lo)
{
    lg(c, x);
    f64c(c, SPLITTER);
    op(c, CM_OP_F64_MUL);
    lt(c, hi);
    lg(c, hi);
    lg(c, x);
    op(c, CM_OP_F64_SUB);
    op(c, CM_OP_F64_SUB);
    lt(c, hi);
    lg(c, x);
    op(c, CM_OP_F64_SUB);
    op(c, CM_OP_F64_NEG);
    ls(c, lo);
}

static void s_prod_err(ctx *c, uint32_t xh, uint32_t xl, uint32_t yh, uint32_t yl, uint32_t p)
{
    lg(c, xl);
    lg(c, yl);
    op(c, CM_OP_F64_MUL);
    lg(c, p);
    lg(c, xh);
    lg(c, yh);
    op(c, CM_OP_F64_MUL);
    op(c, CM_OP_F64_SUB);
    lg(c, xl);
    lg(c, yh);
    op(c, CM_OP_F64_MUL);
    op(c, CM_OP_F64_SUB);
    lg(c, xh);
    lg(c, yl);
    op(c, CM_OP_F64_MUL);
    op(c, CM_OP_F64_SUB);
    op(c, CM_OP_F64_SUB);
}

static void s_addsub(ctx *c, int sub, uint32_t x, uint32_t y)
{
    uint32_t s = S_T, bb = S_T + 2, err = S_T + 3;
    lg(c, x);
    lg(c, y);
    op(c, sub ? CM_OP_F64_SUB : CM_OP_F64_ADD);
    ls(c, s);
    lg(c, x);
    lg(c, s);
    lg(c, s);
    lg(c, x);
    op(c, CM_OP_F64_SUB);
    lt(c, bb);
    op(c, CM_OP_F64_SUB);
    op(c, CM_OP_F64_SUB);
    lg(c, y);
    lg(c, bb);
    if (sub) {
        op(c, CM_OP_F64_ADD);
        op(c, CM_OP_F64_SUB);
    } else {
        op(c, CM_OP_F64_SUB);
        op(c, CM_OP_F64_ADD);
    }
    ls(c, err);
    s_correct(c, S_T + 10, s, err);
    s_bad(c, s, K_ADD);
    s_finish(c, sub ? CM_FROUND_SUB : CM_FROUND_ADD, x, y, s);
}

static void s_mul(ctx *c, uint32_t x, uint32_t a)
{
    uint32_t p = S_T, xh = S_T + 2, xl = S_T + 3, err = S_T + 4;
    lg(c, x);
    lg(c, S_A + a);
    op(c, CM_OP_F64_MUL);
    ls(c, p);
    s_split(c, x, xh, xl);
    s_prod_err(c, xh, xl, S_AH + a, S_AL + a, p);
    ls(c, err);
    s_correct(c, S_T + 10, p, err);
    s_bad(c, x, K_MUL);
    lg(c, L_ABAD);
    op(c, CM_OP_I32_OR);
    s_finish(c, CM_FROUND_MUL, x, S_A + a, p);
}

static void s_divsqrt(ctx *c, int sqrt, uint32_t x, uint32_t y)
{
    uint32_t q = S_T, qh = S_T + 2, ql = S_T + 3, yh = S_T + 4, yl = S_T + 5, ph = S_T + 6;
    lg(c, x);
    if (sqrt) {
        op(c, CM_OP_F64_SQRT);
        y = q;
    } else {
        lg(c, y);
        op(c, CM_OP_F64_DIV);
    }
    ls(c, q);
    lg(c, q);
    lg(c, y);
    op(c, CM_OP_F64_MUL);
    ls(c, ph);
    s_split(c, q, qh, ql);
    if (!sqrt)
        s_split(c, y, yh, yl);
    lg(c, x);
    lg(c, ph);
    op(c, CM_OP_F64_SUB);
    if (sqrt)
        s_prod_err(c, qh, ql, qh, ql, ph);
    else
        s_prod_err(c, qh, ql, yh, yl, ph);
    op(c, CM_OP_F64_SUB);
    if (!sqrt && c->div_y_sign) {
        /* times the sign of y: a copysign on the error's bits */
        op(c, CM_OP_I64_REINTERPRET_F64);
        lg(c, y);
        op(c, CM_OP_I64_REINTERPRET_F64);
        i64c(c, SIGN_BIT);
        op(c, CM_OP_I64_AND);
        op(c, CM_OP_I64_XOR);
        op(c, CM_OP_F64_REINTERPRET_I64);
    }
    ls(c, qh);
    s_correct(c, S_T + 10, q, qh);
    if (sqrt) {
        s_bad(c, x, K_SQRT);
    } else if (!c->div_y_check) {
        s_bad(c, x, K_DIV);
    } else {
        s_bad(c, x, K_GEN);
        s_bad(c, y, K_GEN);
        op(c, CM_OP_I32_OR);
    }
    s_finish(c, sqrt ? CM_FROUND_SQRT : CM_FROUND_DIV, x, sqrt ? x : y, q);
}

/* Pushes the int32 at [local L_AD + off] as a double. */
static void s_load_cvt(ctx *c, uint32_t off)
{
    lg(c, L_AD);
    mem(c, CM_OP_I32_LOAD, 2, off);
    op(c, CM_OP_F64_CONVERT_I32_S);
}

static void s_emask(ctx *c, int lane)
{
    op(c, CM_OP_I64_REINTERPRET_F64);
    i64c(c, RX_DYN_MANTISSA_MASK);
    op(c, CM_OP_I64_AND);
    i64c(c, c->in->emask[lane]);
    op(c, CM_OP_I64_OR);
    op(c, CM_OP_F64_REINTERPRET_I64);
}

/* --- the rounding mode -------------------------------------------------------------- */

/* From L_MODE (0..3): the sign mask and direction of D (see the top). */
static void mode_consts(ctx *c)
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
    if (c->in->simd) {
        lg(c, L_DX);
        sv(c, CM_SIMD_I64X2_SPLAT);
        ls(c, V_DX);
        lg(c, L_SGN);
        sv(c, CM_SIMD_I64X2_SPLAT);
        ls(c, V_SGN);
    }
}

/* --- instructions ------------------------------------------------------------------- */

static void int_mem_load(ctx *c, const dec *x)
{
    uint32_t off = addr(c, x->src, x->imm, x->mask);
    mem(c, CM_OP_I64_LOAD, 3, off);
}

/* dst = dst <o> (operand pushed by the caller) */
static void int_op(ctx *c, const dec *x, int kind)
{
    uint32_t d = L_R0 + x->dst;
    int is_mem = kind == 1;
    lg(c, d);
    if (is_mem)
        int_mem_load(c, x);
    else if (x->src == x->dst)
        i64c(c, x->imm);
    else
        lg(c, L_R0 + x->src);
}

/* Loads the float memory operand (two int32) into the temporary y: V_T + 1 or lanes
 * S_T + 8, S_T + 9; with FDIV_M's exponent mask. Returns the operand's local. */
static uint32_t float_mem(ctx *c, const dec *x, int masked)
{
    uint32_t off = addr(c, x->src, x->imm, x->mask);
    if (c->in->simd) {
        v_load_cvt(c, off);
        if (masked)
            v_emask(c);
        ls(c, V_T + 1);
        return V_T + 1;
    }
    /* the address is on the stack: keep it for the two loads */
    if (off) {
        i32c(c, off);
        op(c, CM_OP_I32_ADD);
    }
    ls(c, L_AD);
    for (int l = 0; l < 2; l++) {
        s_load_cvt(c, 4u * (uint32_t)l);
        if (masked)
            s_emask(c, l);
        ls(c, S_T + 8 + (uint32_t)l);
    }
    return S_T + 8;
}

/* x = helper(x, y, mode) in the float module (in->float_helpers). */
static void fh_call(ctx *c, int fh, uint32_t x, uint32_t y)
{
    lg(c, x);
    lg(c, y);
    lg(c, L_MODE);
    call(c, c->f_float + (uint32_t)fh);
    ls(c, x);
}

static void fp_addsub(ctx *c, int sub, uint32_t fx, uint32_t y, int y_is_a)
{
    if (c->in->float_helpers) {
        fh_call(c, sub ? FH_SUB : FH_ADD, V_F + fx, y_is_a ? V_A + y : y);
        return;
    }
    if (c->in->simd) {
        v_addsub(c, sub, V_F + fx, y_is_a ? V_A + y : y);
        return;
    }
    for (uint32_t l = 0; l < 2; l++)
        s_addsub(c, sub, S_F + 2 * fx + l, (y_is_a ? S_A + 2 * y : y) + l);
}

static void emit_instr(ctx *c, const dec *x)
{
    uint32_t d = L_R0 + x->dst, s = L_R0 + x->src;
    switch (x->type) {
    case I_IADD_RS:
        lg(c, d);
        lg(c, s);
        if (x->shift) {
            i64c(c, x->shift);
            op(c, CM_OP_I64_SHL);
        }
        op(c, CM_OP_I64_ADD);
        if (x->dst == RX_DISP_REG) {
            i64c(c, x->imm);
            op(c, CM_OP_I64_ADD);
        }
        ls(c, d);
        break;
    case I_IADD_M:
        int_op(c, x, 1);
        op(c, CM_OP_I64_ADD);
        ls(c, d);
        break;
    case I_ISUB_R:
    case I_ISUB_M:
        int_op(c, x, x->type == I_ISUB_M);
        op(c, CM_OP_I64_SUB);
        ls(c, d);
        break;
    case I_IMUL_R:
    case I_IMUL_M:
        int_op(c, x, x->type == I_IMUL_M);
        op(c, CM_OP_I64_MUL);
        ls(c, d);
        break;
    case I_IMULH_R:
    case I_IMULH_M:
    case I_ISMULH_R:
    case I_ISMULH_M: {
        int is_mem = x->type == I_IMULH_M || x->type == I_ISMULH_M;
        int packed = c->in->float_helpers; /* (d, s) as one i64x2: see cm_jit_program */
        lg(c, d);
        if (packed)
            sv(c, CM_SIMD_I64X2_SPLAT);
        if (is_mem)
            int_mem_load(c, x);
        else
            lg(c, s);
        if (packed) {
            cm_w_simd_lane(c->b, CM_SIMD_I64X2_REPLACE_LANE, 1);
            splat(c, 0);
            i32c(c, 0);
        }
        call(c, x->type == I_IMULH_R || x->type == I_IMULH_M ? c->f_mulh : c->f_smulh);
        if (packed)
            cm_w_simd_lane(c->b, CM_SIMD_I64X2_EXTRACT_LANE, 0);
        ls(c, d);
        break;
    }
    case I_IMUL_RCP:
        lg(c, d);
        i64c(c, x->imm);
        op(c, CM_OP_I64_MUL);
        ls(c, d);
        break;
    case I_INEG_R:
        i64c(c, 0);
        lg(c, d);
        op(c, CM_OP_I64_SUB);
        ls(c, d);
        break;
    case I_IXOR_R:
    case I_IXOR_M:
        int_op(c, x, x->type == I_IXOR_M);
        op(c, CM_OP_I64_XOR);
        ls(c, d);
        break;
    case I_IROR_R:
    case I_IROL_R:
        lg(c, d);
        if (x->src == x->dst)
            i64c(c, x->imm & 63);
        else
            lg(c, s);
        op(c, x->type == I_IROR_R ? CM_OP_I64_ROTR : CM_OP_I64_ROTL);
        ls(c, d);
        break;
    case I_ISWAP_R:
        lg(c, d);
        lg(c, s);
        ls(c, d);
        ls(c, s);
        break;
    case I_FSWAP_R: {
        uint32_t r = x->dst; /* 0-3: f, 4-7: e */
        if (c->in->simd) {
            static const uint8_t swap[16] = {8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7};
            uint32_t v = (r < 4 ? V_F : V_E) + r % 4;
            lg(c, v);
            lg(c, v);
            sv(c, CM_SIMD_I8X16_SHUFFLE);
            cm_w_bytes(c->b, swap, sizeof swap);
            ls(c, v);
        } else {
            uint32_t v = (r < 4 ? S_F : S_E) + 2 * (r % 4);
            lg(c, v);
            lg(c, v + 1);
            ls(c, v);
            ls(c, v + 1);
        }
        break;
    }
    case I_FADD_R:
    case I_FSUB_R:
        fp_addsub(c, x->type == I_FSUB_R, x->dst % 4, x->src % 4, 1);
        break;
    case I_FADD_M:
    case I_FSUB_M: {
        uint32_t y = float_mem(c, x, 0);
        fp_addsub(c, x->type == I_FSUB_M, x->dst % 4, y, 0);
        break;
    }
    case I_FSCAL_R:
        if (c->in->simd) {
            uint32_t v = V_F + x->dst % 4;
            lg(c, v);
            splat(c, RX_FSCAL_MASK);
            sv(c, CM_SIMD_V128_XOR);
            ls(c, v);
        } else {
            for (uint32_t l = 0; l < 2; l++) {
                uint32_t v = S_F + 2 * (x->dst % 4) + l;
                lg(c, v);
                op(c, CM_OP_I64_REINTERPRET_F64);
                i64c(c, RX_FSCAL_MASK);
                op(c, CM_OP_I64_XOR);
                op(c, CM_OP_F64_REINTERPRET_I64);
                ls(c, v);
            }
        }
        break;
    case I_FMUL_R:
        if (c->in->float_helpers) {
            fh_call(c, FH_MUL, V_E + x->dst % 4, V_A + x->src % 4);
        } else if (c->in->simd) {
            v_mul(c, V_E + x->dst % 4, x->src % 4);
        } else {
            for (uint32_t l = 0; l < 2; l++)
                s_mul(c, S_E + 2 * (x->dst % 4) + l, 2 * (x->src % 4) + l);
        }
        break;
    case I_FDIV_M: {
        uint32_t y = float_mem(c, x, 1);
        if (c->in->float_helpers) {
            /* fdiv assumes RandomX's divisor range (check_emask), fdiv_any does not */
            fh_call(c, c->div_y_check || c->div_y_sign ? FH_DIVG : FH_DIV, V_E + x->dst % 4, y);
        } else if (c->in->simd) {
            v_divsqrt(c, 0, V_E + x->dst % 4, y);
        } else {
            for (uint32_t l = 0; l < 2; l++)
                s_divsqrt(c, 0, S_E + 2 * (x->dst % 4) + l, y + l);
        }
        break;
    }
    case I_FSQRT_R:
        if (c->in->float_helpers) {
            fh_call(c, FH_SQRT, V_E + x->dst % 4, V_E + x->dst % 4);
        } else if (c->in->simd) {
            v_divsqrt(c, 1, V_E + x->dst % 4, 0);
        } else {
            for (uint32_t l = 0; l < 2; l++)
                s_divsqrt(c, 1, S_E + 2 * (x->dst % 4) + l, 0);
        }
        break;
    case I_CBRANCH:
        lg(c, d);
        i64c(c, x->imm);
        op(c, CM_OP_I64_ADD);
        lt(c, d);
        i64c(c, (uint64_t)RX_COND_MASK << x->shift);
        op(c, CM_OP_I64_AND);
        op(c, CM_OP_I64_EQZ);
        op(c, CM_OP_BR_IF);
        cm_w_u32(c->b, 0); /* the loop opened at the target */
        op(c, CM_OP_END);
        break;
    case I_CFROUND:
        lg(c, s);
        i64c(c, x->imm);
        op(c, CM_OP_I64_ROTR);
        op(c, CM_OP_I32_WRAP_I64);
        i32c(c, 3);
        op(c, CM_OP_I32_AND);
        ls(c, L_MODE);
        mode_consts(c);
        break;
    case I_ISTORE: {
        uint32_t off = addr(c, x->dst, x->imm, x->mask);
        lg(c, s);
        mem(c, CM_OP_I64_STORE, 3, off);
        break;
    }
    default: /* NOP */
        break;
    }
}

/* --- functions ---------------------------------------------------------------------- */

static void emit_run(ctx *c, const dec *prog, uint32_t n)
{
    const cm_jit_prog_input *in = c->in;
    cm_wlocals runs[3] = {{L_I64_END - L_R0, CM_WT_I64},
                          {L_I32_END - L_I64_END, CM_WT_I32},
                          {in->simd ? (uint32_t)(V_END - L_I32_END) : (uint32_t)(S_END - L_I32_END),
                           in->simd ? (uint8_t)CM_WT_V128 : (uint8_t)CM_WT_F64}};
    cm_wfunc_begin(c->b, runs, 3);

    /* entry: constants, a and its split, the memory registers, the rounding mode */
    if (in->simd) {
        const struct {
            uint32_t local;
            uint64_t v;
        } k[] = {{V_ONE, 1},
                 {V_ABS, ~SIGN_BIT},
                 {V_MANT, RX_DYN_MANTISSA_MASK},
                 {V_SPL, f64_bits(SPLITTER)},
                 {V_SIGN, SIGN_BIT}};
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
        cm_w_v128_const(c->b, in->emask[0], in->emask[1]);
        ls(c, V_EMASK);
    }
    for (uint32_t i = 0; i < 4; i++) {
        if (in->simd) {
            lg(c, L_REG);
            smem(c, CM_SIMD_V128_LOAD, 3, 192 + 16 * i);
            ls(c, V_A + i);
            /* v_split's hi/lo temporaries are the destination locals */
            v_split(c, V_A + i, V_AH + i, V_AL + i);
        } else {
            for (uint32_t l = 0; l < 2; l++) {
                lg(c, L_REG);
                mem(c, CM_OP_F64_LOAD, 3, 192 + 16 * i + 8 * l);
                ls(c, S_A + 2 * i + l);
                s_split(c, S_A + 2 * i + l, S_AH + 2 * i + l, S_AL + 2 * i + l);
            }
        }
    }
    /* FMUL_R's fast range assumes RandomX's group A values: anything else goes slow */
    for (uint32_t j = 0; j < 8; j++) {
        lg(c, L_REG);
        mem(c, CM_OP_I64_LOAD, 3, 192 + 8 * j);
        i64c(c, A_LO);
        op(c, CM_OP_I64_SUB);
        i64c(c, A_HI - A_LO - 1);
        op(c, CM_OP_I64_GT_U);
        if (j)
            op(c, CM_OP_I32_OR);
    }
    ls(c, L_ABAD);
    lg(c, L_MEM);
    mem(c, CM_OP_I32_LOAD, 2, 0);
    lt(c, L_MX);
    ls(c, L_SPA0);
    lg(c, L_MEM);
    mem(c, CM_OP_I32_LOAD, 2, 4);
    lt(c, L_MA);
    ls(c, L_SPA1);
    i32c(c, 0);
    mem(c, CM_OP_I32_LOAD, 2, in->mode_addr);
    i32c(c, 3);
    op(c, CM_OP_I32_AND);
    ls(c, L_MODE);
    mode_consts(c);

    block(c, CM_OP_BLOCK);
    block(c, CM_OP_LOOP);
    lg(c, L_ITERS);
    op(c, CM_OP_I64_EQZ);
    op(c, CM_OP_BR_IF);
    cm_w_u32(c->b, 1);

    /* spMix and the scratchpad addresses */
    lg(c, L_R0 + in->read_reg[0]);
    lg(c, L_R0 + in->read_reg[1]);
    op(c, CM_OP_I64_XOR);
    ls(c, L_T0);
    for (int k = 0; k < 2; k++) {
        uint32_t spa = k ? L_SPA1 : L_SPA0;
        lg(c, spa);
        lg(c, L_T0);
        if (k) {
            i64c(c, 32);
            op(c, CM_OP_I64_SHR_U);
        }
        op(c, CM_OP_I32_WRAP_I64);
        op(c, CM_OP_I32_XOR);
        i32c(c, RX_L3_MASK64);
        op(c, CM_OP_I32_AND);
        lg(c, L_SP);
        op(c, CM_OP_I32_ADD);
        ls(c, k ? L_P1 : L_P0);
    }
    for (uint32_t i = 0; i < 8; i++) {
        lg(c, L_R0 + i);
        lg(c, L_P0);
        mem(c, CM_OP_I64_LOAD, 3, 8 * i);
        op(c, CM_OP_I64_XOR);
        ls(c, L_R0 + i);
    }
    for (uint32_t i = 0; i < 8; i++) {
        if (in->simd) {
            lg(c, L_P1);
            v_load_cvt(c, 8 * i);
            if (i >= 4)
                v_emask(c);
            ls(c, V_F + i); /* V_E follows V_F */
        } else {
            lg(c, L_P1);
            ls(c, L_AD);
            for (int l = 0; l < 2; l++) {
                s_load_cvt(c, 8 * i + 4u * (uint32_t)l);
                if (i >= 4)
                    s_emask(c, l);
                ls(c, S_F + 2 * i + (uint32_t)l);
            }
        }
    }

    /* the program */
    for (uint32_t i = 0; i < n; i++) {
        if (prog[i].loop_here)
            block(c, CM_OP_LOOP);
        emit_instr(c, &prog[i]);
    }

    /* mx, the dataset item, the swap */
    lg(c, L_MX);
    lg(c, L_R0 + in->read_reg[2]);
    lg(c, L_R0 + in->read_reg[3]);
    op(c, CM_OP_I64_XOR);
    op(c, CM_OP_I32_WRAP_I64);
    op(c, CM_OP_I32_XOR);
    i32c(c, RX_CACHE_LINE_ALIGN_MASK);
    op(c, CM_OP_I32_AND);
    ls(c, L_MX);
    lg(c, L_MA);
    i32c(c, in->dataset_offset);
    op(c, CM_OP_I32_ADD);
    i32c(c, 6);
    op(c, CM_OP_I32_SHR_U);
    i32c(c, in->item_scratch);
    if (in->float_helpers) { /* item4(n, out, 0, 0): see cm_jit_program */
        i32c(c, 0);
        i64c(c, 0);
    }
    call(c, c->f_item);
    for (uint32_t i = 0; i < 8; i++) {
        lg(c, L_R0 + i);
        i32c(c, 0);
        mem(c, CM_OP_I64_LOAD, 3, in->item_scratch + 8 * i);
        op(c, CM_OP_I64_XOR);
        ls(c, L_R0 + i);
    }
    lg(c, L_MX);
    lg(c, L_MA);
    ls(c, L_MX);
    ls(c, L_MA);

    /* stores: r to spAddr1, f ^ e to spAddr0 */
    for (uint32_t i = 0; i < 8; i++) {
        lg(c, L_P1);
        lg(c, L_R0 + i);
        mem(c, CM_OP_I64_STORE, 3, 8 * i);
    }
    for (uint32_t i = 0; i < 4; i++) {
        if (in->simd) {
            lg(c, L_P0);
            lg(c, V_F + i);
            lg(c, V_E + i);
            sv(c, CM_SIMD_V128_XOR);
            lt(c, V_F + i);
            smem(c, CM_SIMD_V128_STORE, 3, 16 * i);
        } else {
            for (uint32_t l = 0; l < 2; l++) {
                uint32_t f = S_F + 2 * i + l;
                lg(c, L_P0);
                lg(c, f);
                op(c, CM_OP_I64_REINTERPRET_F64);
                lg(c, S_E + 2 * i + l);
                op(c, CM_OP_I64_REINTERPRET_F64);
                op(c, CM_OP_I64_XOR);
                op(c, CM_OP_F64_REINTERPRET_I64);
                lt(c, f);
                mem(c, CM_OP_F64_STORE, 3, 16 * i + 8 * l);
            }
        }
    }
    i32c(c, 0);
    ls(c, L_SPA0);
    i32c(c, 0);
    ls(c, L_SPA1);
    lg(c, L_ITERS);
    i64c(c, 1);
    op(c, CM_OP_I64_SUB);
    ls(c, L_ITERS);
    op(c, CM_OP_BR);
    cm_w_u32(c->b, 0);
    op(c, CM_OP_END); /* loop */
    op(c, CM_OP_END); /* block */

    /* exit: the register file, the memory registers, the mode */
    for (uint32_t i = 0; i < 8; i++) {
        lg(c, L_REG);
        lg(c, L_R0 + i);
        mem(c, CM_OP_I64_STORE, 3, 8 * i);
    }
    for (uint32_t i = 0; i < 8; i++) {
        if (in->simd) {
            lg(c, L_REG);
            lg(c, V_F + i);
            smem(c, CM_SIMD_V128_STORE, 3, 64 + 16 * i);
        } else {
            for (uint32_t l = 0; l < 2; l++) {
                lg(c, L_REG);
                lg(c, S_F + 2 * i + l);
                mem(c, CM_OP_F64_STORE, 3, 64 + 16 * i + 8 * l);
            }
        }
    }
    lg(c, L_MEM);
    lg(c, L_MX);
    mem(c, CM_OP_I32_STORE, 2, 0);
    lg(c, L_MEM);
    lg(c, L_MA);
    mem(c, CM_OP_I32_STORE, 2, 4);
    i32c(c, 0);
    lg(c, L_MODE);
    mem(c, CM_OP_I32_STORE, 2, in->mode_addr);
    cm_wfunc_end(c->b);
}

/* mulh(a, b): the high 64 bits of the unsigned 128-bit product, from 32-bit halves. */
/* mulh(a, b) -> the high 64 bits of a * b (unsigned), from 32-bit halves. Packed (the
 * program module with float helpers): (ab: v128, unused: v128, unused: i32) -> v128,
 * a and b in ab's i64 lanes 0 and 1, the result in lane 0 (and 1). */
static void emit_mulh(ctx *c, int packed)
{
    const uint32_t o = packed ? 3 : 0; /* the first i64 local */
    const uint32_t A = o, B = o + 1, AL = o + 2, AH = o + 3, BL = o + 4, BH = o + 5, LH = o + 6,
                   HL = o + 7;
    cm_wlocals runs[1] = {{packed ? 8 : 6, CM_WT_I64}};
    cm_wfunc_begin(c->b, runs, 1);
    if (packed) {
        for (uint8_t k = 0; k < 2; k++) {
            lg(c, 0);
            cm_w_simd_lane(c->b, CM_SIMD_I64X2_EXTRACT_LANE, k);
            ls(c, k ? B : A);
        }
    }
    for (int k = 0; k < 2; k++) {
        lg(c, k ? B : A);
        i64c(c, 0xFFFFFFFFu);
        op(c, CM_OP_I64_AND);
        ls(c, k ? BL : AL);
        lg(c, k ? B : A);
        i64c(c, 32);
        op(c, CM_OP_I64_SHR_U);
        ls(c, k ? BH : AH);
    }
    lg(c, AL);
    lg(c, BH);
    op(c, CM_OP_I64_MUL);
    ls(c, LH);
    lg(c, AH);
    lg(c, BL);
    op(c, CM_OP_I64_MUL);
    ls(c, HL);
    /* hi = ah*bh + (lh >> 32) + (hl >> 32) + (((al*bl) >> 32) + (u32)lh + (u32)hl) >> 32 */
    lg(c, AH);
    lg(c, BH);
    op(c, CM_OP_I64_MUL);
    lg(c, LH);
    i64c(c, 32);
    op(c, CM_OP_I64_SHR_U);
    op(c, CM_OP_I64_ADD);
    lg(c, HL);
    i64c(c, 32);
    op(c, CM_OP_I64_SHR_U);
    op(c, CM_OP_I64_ADD);
    lg(c, AL);
    lg(c, BL);
    op(c, CM_OP_I64_MUL);
    i64c(c, 32);
    op(c, CM_OP_I64_SHR_U);
    lg(c, LH);
    i64c(c, 0xFFFFFFFFu);
    op(c, CM_OP_I64_AND);
    op(c, CM_OP_I64_ADD);
    lg(c, HL);
    i64c(c, 0xFFFFFFFFu);
    op(c, CM_OP_I64_AND);
    op(c, CM_OP_I64_ADD);
    i64c(c, 32);
    op(c, CM_OP_I64_SHR_U);
    op(c, CM_OP_I64_ADD);
    if (packed)
        sv(c, CM_SIMD_I64X2_SPLAT);
    cm_wfunc_end(c->b);
}

/* smulh(a, b) = mulh(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0) (mod 2^64); packed as
 * emit_mulh. */
static void emit_smulh(ctx *c, int packed)
{
    cm_wlocals runs[1] = {{2, CM_WT_I64}};
    cm_wfunc_begin(c->b, runs, packed ? 1 : 0);
    const uint32_t a = packed ? 3 : 0;
    if (packed) {
        for (uint8_t k = 0; k < 2; k++) {
            lg(c, 0);
            cm_w_simd_lane(c->b, CM_SIMD_I64X2_EXTRACT_LANE, k);
            ls(c, a + k);
        }
        lg(c, 0);
        lg(c, 1);
        lg(c, 2);
        call(c, c->f_mulh);
        cm_w_simd_lane(c->b, CM_SIMD_I64X2_EXTRACT_LANE, 0);
    } else {
        lg(c, 0);
        lg(c, 1);
        call(c, c->f_mulh);
    }
    for (uint32_t k = 0; k < 2; k++) {
        lg(c, a + k);
        i64c(c, 63);
        op(c, CM_OP_I64_SHR_S);
        lg(c, a + !k);
        op(c, CM_OP_I64_AND);
        op(c, CM_OP_I64_SUB);
    }
    if (packed)
        sv(c, CM_SIMD_I64X2_SPLAT);
    cm_wfunc_end(c->b);
}

/* slow2(op, x, y, r, mode): both lanes through env.fround_slow. */
static void emit_slow2(ctx *c)
{
    cm_wfunc_begin(c->b, NULL, 0);
    lg(c, 3);
    for (uint8_t l = 0; l < 2; l++) {
        lg(c, 0);
        for (uint32_t p = 1; p <= 3; p++) {
            lg(c, p);
            cm_w_simd_lane(c->b, CM_SIMD_F64X2_EXTRACT_LANE, l);
        }
        lg(c, 4);
        call(c, c->f_slow);
        cm_w_simd_lane(c->b, CM_SIMD_F64X2_REPLACE_LANE, l);
    }
    cm_wfunc_end(c->b);
}

/* Whether the FDIV_M divisor, (int32 as double & mantissa mask) | emask, stays inside
 * the fast range and positive for every int32: the exponent field's top bits come from
 * emask (RandomX's getFloatMask gives 0x300 | 4 bits << 4, biased 768..1023). */
static void check_emask(ctx *c)
{
    for (int l = 0; l < 2; l++) {
        uint64_t e = c->in->emask[l];
        uint64_t lo = (e & ~RX_DYN_MANTISSA_MASK & ~SIGN_BIT) >> 52;
        uint64_t hi = lo | 0xF;
        if (e & SIGN_BIT)
            c->div_y_sign = 1;
        if (lo < 1023 - 256 || hi > 1023)
            c->div_y_check = 1;
    }
}

int cm_jit_program(const cm_jit_prog_input *in, cm_wbuf *out)
{
    if (!in || !out || !in->code || in->size > RX_PROGRAM_SIZE)
        return -1;
    for (int k = 0; k < 4; k++)
        if (in->read_reg[k] > 7)
            return -1;
    if (in->item_scratch > UINT32_MAX - 64 || in->mode_addr > UINT32_MAX - 4)
        return -1;

    dec prog[RX_PROGRAM_SIZE];
    decode(in->code, in->size, prog);

    if (in->float_helpers && !in->simd)
        return -1;
    ctx c = {0};
    c.in = in;
    check_emask(&c);
    /* Function indices: imports, then run, mulh, smulh, [slow2].
     * Without float helpers: imports item, fround_slow; types T_ITEM, T_SLOW, T_RUN, T_MUL
     * (and T_SLOW2 with SIMD).
     * With float helpers (the form the runtime uses): imports item4, fadd .. fsqrt, and
     * only two function types: (i32 i32 i32 i64) for run and item4, (v128 v128 i32) ->
     * v128 for the float helpers, mulh and smulh (a and b packed in one i64x2). Why: node
     * 20's V8 (11.3) keeps every function type of every module it compiles in its type
     * canonicalizer for good, ~40 bytes each; at 8 modules a hash, 6 types a module grew
     * RSS ~1.3 MiB a minute (bench/wasm-soak.mjs, heaptrack; bench/wasm-module-churn.mjs
     * --types K shows it with trivial modules). item4(n, out, 0, 0) is the SuperscalarHash
     * module's item with run's type. */
    const int helpers = in->float_helpers;
    uint32_t nimp = helpers ? 1u + FH_COUNT : 2u;
    c.f_item = 0;
    c.f_slow = helpers ? UINT32_MAX : 1; /* not imported: any use fails validation */
    c.f_float = 1;
    c.f_mulh = nimp + 1;
    c.f_smulh = nimp + 2;
    c.f_slow2 = nimp + 3;

    cm_wbuf bodies[4];
    for (int i = 0; i < 4; i++)
        cm_wbuf_init(&bodies[i]);
    c.b = &bodies[0];
    emit_run(&c, prog, in->size);
    c.b = &bodies[1];
    emit_mulh(&c, helpers);
    c.b = &bodies[2];
    emit_smulh(&c, helpers);
    c.b = &bodies[3];
    int slow2 = in->simd && !helpers;
    if (slow2)
        emit_slow2(&c);

    const cm_wtype types[6] = {
        {2, 0, {CM_WT_I32, CM_WT_I32}, {0}},
        {5, 1, {CM_WT_I32, CM_WT_F64, CM_WT_F64, CM_WT_F64, CM_WT_I32}, {CM_WT_F64}},
        {4, 0, {CM_WT_I32, CM_WT_I32, CM_WT_I32, CM_WT_I64}, {0}},
        {2, 1, {CM_WT_I64, CM_WT_I64}, {CM_WT_I64}},
        {5, 1, {CM_WT_I32, CM_WT_V128, CM_WT_V128, CM_WT_V128, CM_WT_I32}, {CM_WT_V128}},
        {3, 1, {CM_WT_V128, CM_WT_V128, CM_WT_I32}, {CM_WT_V128}},
    };
    enum { TH_RUN, TH_V }; /* the two types with float helpers: types[T_RUN], types[5] */
    const cm_wtype types_h[2] = {types[T_RUN], types[5]};
    cm_wimport imports[1 + FH_COUNT > 2 ? 1 + FH_COUNT : 2];
    if (helpers) {
        imports[0] = (cm_wimport){"item4", TH_RUN};
        for (int i = 0; i < FH_COUNT; i++)
            imports[1 + i] = (cm_wimport){fh_names[i], TH_V};
    } else {
        imports[0] = (cm_wimport){"item", T_ITEM};
        imports[1] = (cm_wimport){"fround_slow", T_SLOW};
    }
    const cm_wfunc funcs[4] = {{helpers ? TH_RUN : T_RUN, "run", &bodies[0]},
                               {helpers ? TH_V : T_MUL, NULL, &bodies[1]},
                               {helpers ? TH_V : T_MUL, NULL, &bodies[2]},
                               {T_SLOW2, NULL, &bodies[3]}};
    cm_wmodule m = {helpers ? types_h : types,
                    helpers ? 2u : in->simd ? 5u : 4u,
                    imports,
                    nimp,
                    funcs,
                    slow2 ? 4u : 3u,
                    in->shared_memory};
    int rc = cm_wmodule_write(&m, out);
    for (int i = 0; i < 4; i++)
        cm_wbuf_free(&bodies[i]);
    return rc ? -2 : 0;
}

/* The float module: the SIMD rounding code of this file as five functions
 * helper(x, y, mode) -> x op y (sqrt ignores y), correctly rounded in mode 0..3. Each
 * body declares the locals of "run" from index 3 on, so the emitters above work
 * unchanged: x, y and the mode are locals 0, 1, 2 (the run function's L_REG, L_MEM and
 * L_SP, which no float emitter touches), the constants are set up per call. fdiv
 * assumes a divisor of RandomX's FDIV_M range, positive (check_emask); fdiv_any checks
 * both operands' ranges and the divisor's sign. */
static void emit_float_helper(ctx *c, int fh)
{
    cm_wlocals runs[3] = {{L_I64_END - 3, CM_WT_I64},
                          {L_I32_END - L_I64_END, CM_WT_I32},
                          {V_END - L_I32_END, CM_WT_V128}};
    cm_wfunc_begin(c->b, runs, 3);
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
    lg(c, 2);
    i32c(c, 3);
    op(c, CM_OP_I32_AND);
    ls(c, L_MODE);
    mode_consts(c);
    switch (fh) {
    case FH_ADD:
    case FH_SUB:
        v_addsub(c, fh == FH_SUB, 0, 1);
        break;
    case FH_MUL:
        /* y is a group A register: its split, and whether it lies in [1, 2^32) */
        lg(c, 1);
        ls(c, V_A);
        v_split(c, V_A, V_AH, V_AL);
        for (uint8_t l = 0; l < 2; l++) {
            lg(c, 1);
            cm_w_simd_lane(c->b, CM_SIMD_I64X2_EXTRACT_LANE, l);
            i64c(c, A_LO);
            op(c, CM_OP_I64_SUB);
            i64c(c, A_HI - A_LO - 1);
            op(c, CM_OP_I64_GT_U);
            if (l)
                op(c, CM_OP_I32_OR);
        }
        ls(c, L_ABAD);
        v_mul(c, 0, 0);
        break;
    case FH_DIV:
    case FH_DIVG:
        c->div_y_check = c->div_y_sign = fh == FH_DIVG;
        v_divsqrt(c, 0, 0, 1);
        break;
    default:
        v_divsqrt(c, 1, 0, 0);
        break;
    }
    lg(c, 0);
    cm_wfunc_end(c->b);
}

int cm_jit_float(int shared_memory, cm_wbuf *out)
{
    if (!out)
        return -1;
    static const cm_jit_prog_input in = {.simd = 1};
    ctx c = {0};
    c.in = &in;
    c.f_slow = 0;
    c.f_slow2 = 1;
    cm_wbuf bodies[1 + FH_COUNT];
    for (int i = 0; i <= FH_COUNT; i++)
        cm_wbuf_init(&bodies[i]);
    c.b = &bodies[0];
    emit_slow2(&c);
    for (int i = 0; i < FH_COUNT; i++) {
        c.b = &bodies[1 + i];
        emit_float_helper(&c, i);
    }
    const cm_wtype types[3] = {
        {5, 1, {CM_WT_I32, CM_WT_F64, CM_WT_F64, CM_WT_F64, CM_WT_I32}, {CM_WT_F64}},
        {5, 1, {CM_WT_I32, CM_WT_V128, CM_WT_V128, CM_WT_V128, CM_WT_I32}, {CM_WT_V128}},
        {3, 1, {CM_WT_V128, CM_WT_V128, CM_WT_I32}, {CM_WT_V128}},
    };
    const cm_wimport imports[1] = {{"fround_slow", 0}};
    cm_wfunc funcs[1 + FH_COUNT] = {{1, NULL, &bodies[0]}};
    for (int i = 0; i < FH_COUNT; i++)
        funcs[1 + i] = (cm_wfunc){2, fh_names[i], &bodies[1 + i]};
    cm_wmodule m = {types, 3, imports, 1, funcs, 1 + FH_COUNT, shared_memory};
    int rc = cm_wmodule_write(&m, out);
    for (int i = 0; i <= FH_COUNT; i++)
        cm_wbuf_free(&bodies[i]);
    return rc ? -2 : 0;
}
