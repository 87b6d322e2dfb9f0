/* consentminer — a RandomX program (specs.md 4.6, 5) as a WebAssembly module.
 *
 * Owns the program module's assembly: the input checks, its types, imports and three
 * functions: "run" (program_body.c, from program_decode.c's instructions), and mulh and
 * smulh, which IMULH and ISMULH call. The contract is in jit.h. The rounding is the float
 * module's (float_module.c), which the runtime instantiates once per thread.
 */
#include "program_internal.h"

/* mulh(ab, unused, unused) -> the high 64 bits of a * b (unsigned), from 32-bit halves,
 * with the float helpers' type (cm_jit_program says why): a and b in ab's i64 lanes 0
 * and 1, the result in both lanes. */
static void emit_mulh(ctx *c)
{
    const uint32_t A = 3, B = 4, AL = 5, AH = 6, BL = 7, BH = 8, LH = 9, HL = 10;
    cm_wlocals runs[1] = {{8, CM_WT_I64}};
    cm_wfunc_begin(c->b, runs, 1);
    for (uint8_t k = 0; k < 2; k++) {
        lg(c, 0);
        cm_w_simd_lane(c->b, CM_SIMD_I64X2_EXTRACT_LANE, k);
        ls(c, k ? B : A);
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
    sv(c, CM_SIMD_I64X2_SPLAT);
    cm_wfunc_end(c->b);
}

/* smulh(a, b) = mulh(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0) (mod 2^64); packed as
 * emit_mulh. */
static void emit_smulh(ctx *c)
{
    const uint32_t a = 3; /* a, b: locals 3, 4 */
    cm_wlocals runs[1] = {{2, CM_WT_I64}};
    cm_wfunc_begin(c->b, runs, 1);
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
    for (uint32_t k = 0; k < 2; k++) {
        lg(c, a + k);
        i64c(c, 63);
        op(c, CM_OP_I64_SHR_S);
        lg(c, a + !k);
        op(c, CM_OP_I64_AND);
        op(c, CM_OP_I64_SUB);
    }
    sv(c, CM_SIMD_I64X2_SPLAT);
    cm_wfunc_end(c->b);
}

/* Whether the FDIV_M divisor, (int32 as double & mantissa mask) | emask, stays inside
 * the fast range and positive for every int32: the exponent field's top bits come from
 * emask (RandomX's getFloatMask gives 0x300 | 4 bits << 4, biased 768..1023). When not,
 * FDIV_M calls fdiv_any instead of fdiv. */
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

static int input_ok(const cm_jit_prog_input *in, const cm_wbuf *out)
{
    if (!in || !out || !in->code || in->size > RX_PROGRAM_SIZE)
        return 0;
    for (int k = 0; k < 4; k++)
        if (in->read_reg[k] > 7)
            return 0;
    return in->item_scratch <= UINT32_MAX - 64 && in->mode_addr <= UINT32_MAX - 4;
}

/* The module around the three bodies. Only two function types: (i32 i32 i32 i64) for run
 * and the import item4, (v128 v128 i32) -> v128 for the float helpers, mulh and smulh.
 * Why: node 20's V8 (11.3) keeps every function type of every module it compiles in its
 * type canonicalizer for good, ~40 bytes each; at 8 modules a hash, 6 types a module grew
 * RSS ~1.3 MiB a minute (bench/wasm-soak.mjs, heaptrack; bench/wasm-module-churn.mjs
 * --types K shows it with trivial modules). item4(n, out, 0, 0) is the SuperscalarHash
 * module's item with run's type. */
static int write_module(const cm_wbuf bodies[3], int shared_memory, cm_wbuf *out)
{
    enum { T_RUN, T_V };
    const cm_wtype types[2] = {
        {4, 0, {CM_WT_I32, CM_WT_I32, CM_WT_I32, CM_WT_I64}, {0}},
        {3, 1, {CM_WT_V128, CM_WT_V128, CM_WT_I32}, {CM_WT_V128}},
    };
    cm_wimport imports[1 + FH_COUNT] = {{"item4", T_RUN}};
    for (int i = 0; i < FH_COUNT; i++)
        imports[1 + i] = (cm_wimport){jitp_fh_names[i], T_V};
    const cm_wfunc funcs[3] = {
        {T_RUN, "run", &bodies[0]}, {T_V, NULL, &bodies[1]}, {T_V, NULL, &bodies[2]}};
    cm_wmodule m = {types, 2, imports, 1 + FH_COUNT, funcs, 3, shared_memory};
    return cm_wmodule_write(&m, out);
}

int cm_jit_program(const cm_jit_prog_input *in, cm_wbuf *out)
{
    if (!input_ok(in, out))
        return -1;
    dec prog[RX_PROGRAM_SIZE];
    jitp_decode(in->code, in->size, prog);

    /* Function indices: the imports item4, fadd .. fsqrt, then run, mulh, smulh. */
    ctx c = {0};
    c.in = in;
    check_emask(&c);
    c.f_item = 0;
    c.f_float = 1;
    c.f_mulh = 1 + FH_COUNT + 1;
    c.f_smulh = 1 + FH_COUNT + 2;
    c.f_slow = c.f_slow2 = UINT32_MAX; /* not in this module: any use fails validation */

    cm_wbuf bodies[3];
    for (int i = 0; i < 3; i++)
        cm_wbuf_init(&bodies[i]);
    c.b = &bodies[0];
    jitp_emit_run(&c, prog, in->size);
    c.b = &bodies[1];
    emit_mulh(&c);
    c.b = &bodies[2];
    emit_smulh(&c);
    int rc = write_module(bodies, in->shared_memory, out);
    for (int i = 0; i < 3; i++)
        cm_wbuf_free(&bodies[i]);
    return rc ? -2 : 0;
}
