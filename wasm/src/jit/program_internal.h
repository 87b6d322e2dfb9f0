/* consentminer — what the RandomX program translator's parts share (not a public header).
 *
 * Owns: RandomX's constants for Monero, the decoded instruction (dec), the local layout of
 * the generated "run" function, the emitter context (ctx), the float module's function
 * numbering, and the one-line emitters every part writes with. The parts:
 *   program_decode.c  RandomX bytecode -> dec[] (bytecode_machine.cpp's rules)
 *   round_emit.c      exact rounding in f64x2 (fround.h's method) and the rounding mode
 *   program_body.c    the body of "run": entry, one iteration, the instructions, exit
 *   program.c         the program module around it (cm_jit_program)
 *   float_module.c    the float module the program module calls (cm_jit_float)
 * Includes only jit.h (and through it wasm_emit.h).
 */
#ifndef CM_JIT_PROGRAM_INTERNAL_H
#define CM_JIT_PROGRAM_INTERNAL_H

#include <string.h>

#include "jit.h"

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

/* Instruction types in opcode order (configuration.h, RANDOMX_FREQ_*). */
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

/* One decoded instruction. */
typedef struct dec {
    uint8_t type, dst, src, shift;
    uint32_t mask; /* memory mask; 0: the operand address is the constant imm & L3 mask */
    uint64_t imm;
    int loop_here; /* a CBRANCH jumps back to just before this instruction */
} dec;

/* program_decode.c: d[0..n) from code[0..n), as RandomX's bytecode machine reads it. */
void jitp_decode(const cm_jit_instr *code, uint32_t n, dec *d);

/* The fast-path range checks of round_emit.c, one per kind of operand (see there). */
enum { K_ADD, K_MUL, K_DIV, K_SQRT, K_GEN, K_COUNT };

#define A_LO (1023ull << 52) /* the group A range of getSmallPositiveFloatBits: [1, 2^32) */
#define A_HI (1055ull << 52)
#define SIGN_BIT 0x8000000000000000ull
#define SPLITTER 134217729.0 /* 2^27 + 1, Veltkamp */

/* Locals of the float module's functions, which round_emit.c's emitters use: x, y and the
 * mode are the params 0, 1, 2 (L_REG, L_MEM, L_SP), the rest are declared from index 3
 * on. This was the layout of "run" when program modules carried their own rounding code;
 * L_T1, L_AD, V_MANT, V_EMASK and the registers other than f0, e0 (x), a0 and its split
 * are unused here, and stay so that the float module's bytes did not change. */
enum {
    L_REG,
    L_MEM,
    L_SP,
    L_ITERS,
    L_R0,
    L_T0 = L_R0 + 8,
    L_T1,
    L_SGN,
    L_DX, /* i64: the rounding mode's sign mask and direction, before the splat */
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
    /* v128 */
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
    V_END = V_T + 9
};

/* The float module's functions, in its export order (cm_jit_float); the program module
 * imports them in this order after item4. */
enum { FH_ADD, FH_SUB, FH_MUL, FH_DIV, FH_DIVG, FH_SQRT, FH_COUNT };
extern const char *const jitp_fh_names[FH_COUNT]; /* float_module.c */

typedef struct ctx {
    cm_wbuf *b;
    const cm_jit_prog_input *in; /* the program module's input; NULL in the float module */
    int div_y_check;             /* the FDIV_M divisor can leave the fast range (unusual eMask) */
    int div_y_sign;              /* the FDIV_M divisor can be negative */
    /* function indices in the module being written */
    uint32_t f_item, f_mulh, f_smulh; /* program module: item4, mulh, smulh */
    uint32_t f_float;                 /* program module: f_float + FH_ADD..FH_SQRT */
    uint32_t f_slow, f_slow2;         /* float module: fround_slow and both lanes of it */
} ctx;

/* --- one-line emitters ------------------------------------------------------------- */

static inline void op(ctx *c, uint8_t o)
{
    cm_w_u8(c->b, o);
}
static inline void lg(ctx *c, uint32_t i)
{
    cm_w_local(c->b, CM_OP_LOCAL_GET, i);
}
static inline void ls(ctx *c, uint32_t i)
{
    cm_w_local(c->b, CM_OP_LOCAL_SET, i);
}
static inline void lt(ctx *c, uint32_t i)
{
    cm_w_local(c->b, CM_OP_LOCAL_TEE, i);
}
static inline void i32c(ctx *c, uint32_t v)
{
    cm_w_i32_const(c->b, (int32_t)v);
}
static inline void i64c(ctx *c, uint64_t v)
{
    cm_w_i64_const(c->b, (int64_t)v);
}
static inline void sv(ctx *c, uint32_t o)
{
    cm_w_simd(c->b, o);
}
static inline void mem(ctx *c, uint8_t o, uint32_t align, uint32_t off)
{
    cm_w_mem(c->b, o, align, off);
}
static inline void smem(ctx *c, uint32_t o, uint32_t align, uint32_t off)
{
    cm_w_simd(c->b, o);
    cm_w_u32(c->b, align);
    cm_w_u32(c->b, off);
}
static inline void splat(ctx *c, uint64_t v)
{
    cm_w_v128_const(c->b, v, v);
}
static inline void call(ctx *c, uint32_t f)
{
    op(c, CM_OP_CALL);
    cm_w_u32(c->b, f);
}
static inline void block(ctx *c, uint8_t o)
{
    op(c, o);
    op(c, CM_BT_EMPTY);
}

static inline uint64_t f64_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/* --- round_emit.c ------------------------------------------------------------------- */

/* Sets the rounding code's v128 constants: V_ONE, V_ABS, V_SPL, V_SIGN and the range
 * checks V_CK. */
void jitp_round_consts(ctx *c);
/* From L_MODE (0..3): L_DX, L_SGN and their splats V_DX, V_SGN. */
void jitp_mode_consts(ctx *c);
/* hi, lo = Veltkamp's split of local x. */
void jitp_split(ctx *c, uint32_t x, uint32_t hi, uint32_t lo);
/* x = x + y or x - y, correctly rounded in L_MODE. */
void jitp_addsub(ctx *c, int sub, uint32_t x, uint32_t y);
/* x = x * a[ai], correctly rounded (V_A + ai, V_AH + ai, V_AL + ai and L_ABAD set). */
void jitp_mul(ctx *c, uint32_t x, uint32_t ai);
/* x = x / y or sqrt(x) (y ignored), correctly rounded. */
void jitp_divsqrt(ctx *c, int sqrt, uint32_t x, uint32_t y);

/* --- program_body.c ------------------------------------------------------------------ */

/* The whole body of "run" (locals to end) for the n decoded instructions; its locals are
 * its own (program_body.c), not the layout above. */
void jitp_emit_run(ctx *c, const dec *prog, uint32_t n);

#endif
