/* consentminer — the float module: correctly rounded f64x2 operations (see jit.h).
 *
 * Owns the module the program modules call for FADD/FSUB/FMUL/FDIV/FSQRT: round_emit.c's
 * emitters as five exported functions helper(x, y, mode) -> x op y (sqrt ignores y),
 * correctly rounded in mode 0..3, and slow2, which sends both lanes to env.fround_slow.
 * It exists because V8 runs each program module once, in its baseline compiler; this
 * module is compiled once per thread, gets hot and is optimized (jit.h, cm_jit_float).
 */
#include "program_internal.h"

const char *const jitp_fh_names[FH_COUNT] = {"fadd", "fsub", "fmul", "fdiv", "fdiv_any", "fsqrt"};

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

/* FMUL's y is a group A register: its split, and whether it lies in [1, 2^32). */
static void mul_operand(ctx *c)
{
    lg(c, 1);
    ls(c, V_A);
    jitp_split(c, V_A, V_AH, V_AL);
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
}

/* One helper. Each body declares the locals of "run" from index 3 on, so the rounding
 * emitters work unchanged: x, y and the mode are locals 0, 1, 2 (run's L_REG, L_MEM and
 * L_SP, which no rounding emitter touches); the constants are set up per call. fdiv
 * assumes a divisor of RandomX's FDIV_M range, positive (program.c, check_emask);
 * fdiv_any checks both operands' ranges and the divisor's sign. */
static void emit_float_helper(ctx *c, int fh)
{
    cm_wlocals runs[3] = {{L_I64_END - 3, CM_WT_I64},
                          {L_I32_END - L_I64_END, CM_WT_I32},
                          {V_END - L_I32_END, CM_WT_V128}};
    cm_wfunc_begin(c->b, runs, 3);
    jitp_round_consts(c);
    lg(c, 2);
    i32c(c, 3);
    op(c, CM_OP_I32_AND);
    ls(c, L_MODE);
    jitp_mode_consts(c);
    switch (fh) {
    case FH_ADD:
    case FH_SUB:
        jitp_addsub(c, fh == FH_SUB, 0, 1);
        break;
    case FH_MUL:
        mul_operand(c);
        jitp_mul(c, 0, 0);
        break;
    case FH_DIV:
    case FH_DIVG:
        c->div_y_check = c->div_y_sign = fh == FH_DIVG;
        jitp_divsqrt(c, 0, 0, 1);
        break;
    default:
        jitp_divsqrt(c, 1, 0, 0);
        break;
    }
    lg(c, 0);
    cm_wfunc_end(c->b);
}

int cm_jit_float(int shared_memory, cm_wbuf *out)
{
    if (!out)
        return -1;
    ctx c = {0};
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
        funcs[1 + i] = (cm_wfunc){2, jitp_fh_names[i], &bodies[1 + i]};
    cm_wmodule m = {types, 3, imports, 1, funcs, 1 + FH_COUNT, shared_memory};
    int rc = cm_wmodule_write(&m, out);
    for (int i = 0; i <= FH_COUNT; i++)
        cm_wbuf_free(&bodies[i]);
    return rc ? -2 : 0;
}
