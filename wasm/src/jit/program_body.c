/* consentminer — the body of a program module's "run" (the contract is in jit.h).
 *
 * Owns the code of one RandomX program run: entry (registers into locals), one iteration
 * of specs.md 4.6.2 as one pass of a wasm loop, each instruction, and exit (locals back
 * to the register file). Every RandomX register lives in a wasm local: r0-7 as i64; f, e,
 * a as v128 pairs of doubles. Each CBRANCH is a wasm loop from its target to the branch;
 * the decoder (program_decode.c) guarantees that these nest inside the iteration loop.
 * FADD/FSUB/FMUL/FDIV/FSQRT call the float module (float_module.c); IMULH/ISMULH call
 * the module's mulh/smulh (program.c) with both operands packed in one i64x2.
 */
#include "program_internal.h"

/* Locals of "run": the four params, then i64, i32 and v128 locals. */
enum {
    P_REG,
    P_MEM,
    P_SP,
    P_ITERS,
    P_R0,
    P_T0 = P_R0 + 8, /* spMix */
    P_I64_END,
    P_P0 = P_I64_END, /* the iteration's scratchpad addresses */
    P_P1,
    P_MX,
    P_MA,
    P_MODE, /* the rounding mode, 0..3, as the float module's helpers take it */
    P_SPA0,
    P_SPA1,
    P_I32_END,
    PV_F = P_I32_END, /* f0-3, then e0-3, then a0-3 */
    PV_E = PV_F + 4,
    PV_A = PV_E + 4,
    PV_MANT = PV_A + 4, /* dynamicMantissaMask in both lanes */
    PV_EMASK,           /* the program's eMask */
    PV_Y,               /* the float memory operand */
    PV_END
};

/* --- operands ---------------------------------------------------------------------- */

/* Pushes the scratchpad address of (r[reg] + imm) & mask, or of imm & L3 for mask 0,
 * and returns the static offset to give the access. */
static uint32_t addr(ctx *c, uint32_t reg, uint64_t imm, uint32_t mask)
{
    lg(c, P_SP);
    if (!mask)
        return (uint32_t)imm & RX_L3_MASK;
    lg(c, P_R0 + reg);
    op(c, CM_OP_I32_WRAP_I64);
    i32c(c, (uint32_t)imm);
    op(c, CM_OP_I32_ADD);
    i32c(c, mask);
    op(c, CM_OP_I32_AND);
    op(c, CM_OP_I32_ADD);
    return 0;
}

static void int_mem_load(ctx *c, const dec *x)
{
    uint32_t off = addr(c, x->src, x->imm, x->mask);
    mem(c, CM_OP_I64_LOAD, 3, off);
}

/* Pushes dst and the second operand: memory (is_mem), imm when src is dst, else src. */
static void int_op(ctx *c, const dec *x, int is_mem)
{
    lg(c, P_R0 + x->dst);
    if (is_mem)
        int_mem_load(c, x);
    else if (x->src == x->dst)
        i64c(c, x->imm);
    else
        lg(c, P_R0 + x->src);
}

/* Pushes the two int32 at the address on the stack (+off) as a pair of doubles. */
static void load_cvt(ctx *c, uint32_t off)
{
    smem(c, CM_SIMD_V128_LOAD64_ZERO, 3, off);
    sv(c, CM_SIMD_F64X2_CONVERT_LOW_I32X4_S);
}

/* Applies maskRegisterExponentMantissa to the vector on the stack. */
static void emask(ctx *c)
{
    lg(c, PV_MANT);
    sv(c, CM_SIMD_V128_AND);
    lg(c, PV_EMASK);
    sv(c, CM_SIMD_V128_OR);
}

/* Loads the float memory operand (two int32) into the local PV_Y, with FDIV_M's
 * exponent mask when masked. Returns the operand's local. */
static uint32_t float_mem(ctx *c, const dec *x, int masked)
{
    uint32_t off = addr(c, x->src, x->imm, x->mask);
    load_cvt(c, off);
    if (masked)
        emask(c);
    ls(c, PV_Y);
    return PV_Y;
}

/* x = helper(x, y, mode) in the float module. */
static void fh_call(ctx *c, int fh, uint32_t x, uint32_t y)
{
    lg(c, x);
    lg(c, y);
    lg(c, P_MODE);
    call(c, c->f_float + (uint32_t)fh);
    ls(c, x);
}

/* --- instructions ------------------------------------------------------------------- */

/* dst = dst op (src, imm or memory) for the one-opcode integer instructions. */
static void emit_int_binary(ctx *c, const dec *x)
{
    uint8_t o;
    switch (x->type) {
    case I_IADD_M:
        o = CM_OP_I64_ADD;
        break;
    case I_ISUB_R:
    case I_ISUB_M:
        o = CM_OP_I64_SUB;
        break;
    case I_IMUL_R:
    case I_IMUL_M:
        o = CM_OP_I64_MUL;
        break;
    default: /* IXOR_R, IXOR_M */
        o = CM_OP_I64_XOR;
        break;
    }
    int is_mem =
        x->type == I_IADD_M || x->type == I_ISUB_M || x->type == I_IMUL_M || x->type == I_IXOR_M;
    int_op(c, x, is_mem);
    op(c, o);
    ls(c, P_R0 + x->dst);
}

/* IMULH/ISMULH: (d, s) packed as one i64x2 for mulh/smulh, whose type is the float
 * helpers' (cm_jit_program says why). */
static void emit_mulh_call(ctx *c, const dec *x)
{
    uint32_t d = P_R0 + x->dst;
    int is_mem = x->type == I_IMULH_M || x->type == I_ISMULH_M;
    lg(c, d);
    sv(c, CM_SIMD_I64X2_SPLAT);
    if (is_mem)
        int_mem_load(c, x);
    else
        lg(c, P_R0 + x->src);
    cm_w_simd_lane(c->b, CM_SIMD_I64X2_REPLACE_LANE, 1);
    splat(c, 0);
    i32c(c, 0);
    call(c, x->type == I_IMULH_R || x->type == I_IMULH_M ? c->f_mulh : c->f_smulh);
    cm_w_simd_lane(c->b, CM_SIMD_I64X2_EXTRACT_LANE, 0);
    ls(c, d);
}

/* IADD_RS, IMUL_RCP, INEG_R, IROR_R, IROL_R, ISWAP_R. */
static void emit_int_other(ctx *c, const dec *x)
{
    uint32_t d = P_R0 + x->dst, s = P_R0 + x->src;
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
    default: /* ISWAP_R */
        lg(c, d);
        lg(c, s);
        ls(c, d);
        ls(c, s);
        break;
    }
}

/* FSWAP_R, FSCAL_R: lane and sign-bit moves, no rounding. */
static void emit_float_move(ctx *c, const dec *x)
{
    if (x->type == I_FSWAP_R) {
        static const uint8_t swap[16] = {8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7};
        uint32_t r = x->dst; /* 0-3: f, 4-7: e */
        uint32_t v = (r < 4 ? PV_F : PV_E) + r % 4;
        lg(c, v);
        lg(c, v);
        sv(c, CM_SIMD_I8X16_SHUFFLE);
        cm_w_bytes(c->b, swap, sizeof swap);
        ls(c, v);
        return;
    }
    uint32_t v = PV_F + x->dst % 4; /* FSCAL_R */
    lg(c, v);
    splat(c, RX_FSCAL_MASK);
    sv(c, CM_SIMD_V128_XOR);
    ls(c, v);
}

/* FADD/FSUB (_R, _M), FMUL_R, FDIV_M, FSQRT_R: through the float module. */
static void emit_float_arith(ctx *c, const dec *x)
{
    uint32_t f = PV_F + x->dst % 4, e = PV_E + x->dst % 4, a = PV_A + x->src % 4;
    switch (x->type) {
    case I_FADD_R:
    case I_FSUB_R:
        fh_call(c, x->type == I_FSUB_R ? FH_SUB : FH_ADD, f, a);
        break;
    case I_FADD_M:
    case I_FSUB_M: {
        uint32_t y = float_mem(c, x, 0);
        fh_call(c, x->type == I_FSUB_M ? FH_SUB : FH_ADD, f, y);
        break;
    }
    case I_FMUL_R:
        fh_call(c, FH_MUL, e, a);
        break;
    case I_FDIV_M: {
        uint32_t y = float_mem(c, x, 1);
        /* fdiv assumes RandomX's divisor range (check_emask), fdiv_any does not */
        fh_call(c, c->div_y_check || c->div_y_sign ? FH_DIVG : FH_DIV, e, y);
        break;
    }
    default: /* FSQRT_R */
        fh_call(c, FH_SQRT, e, e);
        break;
    }
}

/* CBRANCH, CFROUND, ISTORE. */
static void emit_control(ctx *c, const dec *x)
{
    uint32_t d = P_R0 + x->dst, s = P_R0 + x->src;
    switch (x->type) {
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
        ls(c, P_MODE);
        break;
    default: { /* ISTORE */
        uint32_t off = addr(c, x->dst, x->imm, x->mask);
        lg(c, s);
        mem(c, CM_OP_I64_STORE, 3, off);
        break;
    }
    }
}

static void emit_instr(ctx *c, const dec *x)
{
    switch (x->type) {
    case I_IADD_M:
    case I_ISUB_R:
    case I_ISUB_M:
    case I_IMUL_R:
    case I_IMUL_M:
    case I_IXOR_R:
    case I_IXOR_M:
        emit_int_binary(c, x);
        break;
    case I_IMULH_R:
    case I_IMULH_M:
    case I_ISMULH_R:
    case I_ISMULH_M:
        emit_mulh_call(c, x);
        break;
    case I_IADD_RS:
    case I_IMUL_RCP:
    case I_INEG_R:
    case I_IROR_R:
    case I_IROL_R:
    case I_ISWAP_R:
        emit_int_other(c, x);
        break;
    case I_FSWAP_R:
    case I_FSCAL_R:
        emit_float_move(c, x);
        break;
    case I_FADD_R:
    case I_FADD_M:
    case I_FSUB_R:
    case I_FSUB_M:
    case I_FMUL_R:
    case I_FDIV_M:
    case I_FSQRT_R:
        emit_float_arith(c, x);
        break;
    case I_CBRANCH:
    case I_CFROUND:
    case I_ISTORE:
        emit_control(c, x);
        break;
    default: /* NOP */
        break;
    }
}

/* --- run: entry, one iteration, exit --------------------------------------------------- */

/* Entry: the masks, a, the memory registers, the rounding mode. */
static void run_entry(ctx *c)
{
    const cm_jit_prog_input *in = c->in;
    splat(c, RX_DYN_MANTISSA_MASK);
    ls(c, PV_MANT);
    cm_w_v128_const(c->b, in->emask[0], in->emask[1]);
    ls(c, PV_EMASK);
    for (uint32_t i = 0; i < 4; i++) {
        lg(c, P_REG);
        smem(c, CM_SIMD_V128_LOAD, 3, 192 + 16 * i);
        ls(c, PV_A + i);
    }
    lg(c, P_MEM);
    mem(c, CM_OP_I32_LOAD, 2, 0);
    lt(c, P_MX);
    ls(c, P_SPA0);
    lg(c, P_MEM);
    mem(c, CM_OP_I32_LOAD, 2, 4);
    lt(c, P_MA);
    ls(c, P_SPA1);
    i32c(c, 0);
    mem(c, CM_OP_I32_LOAD, 2, in->mode_addr);
    i32c(c, 3);
    op(c, CM_OP_I32_AND);
    ls(c, P_MODE);
}

/* spMix, the scratchpad addresses, and r, f, e from the scratchpad. */
static void iteration_loads(ctx *c)
{
    const cm_jit_prog_input *in = c->in;
    lg(c, P_R0 + in->read_reg[0]);
    lg(c, P_R0 + in->read_reg[1]);
    op(c, CM_OP_I64_XOR);
    ls(c, P_T0);
    for (int k = 0; k < 2; k++) {
        lg(c, k ? P_SPA1 : P_SPA0);
        lg(c, P_T0);
        if (k) {
            i64c(c, 32);
            op(c, CM_OP_I64_SHR_U);
        }
        op(c, CM_OP_I32_WRAP_I64);
        op(c, CM_OP_I32_XOR);
        i32c(c, RX_L3_MASK64);
        op(c, CM_OP_I32_AND);
        lg(c, P_SP);
        op(c, CM_OP_I32_ADD);
        ls(c, k ? P_P1 : P_P0);
    }
    for (uint32_t i = 0; i < 8; i++) {
        lg(c, P_R0 + i);
        lg(c, P_P0);
        mem(c, CM_OP_I64_LOAD, 3, 8 * i);
        op(c, CM_OP_I64_XOR);
        ls(c, P_R0 + i);
    }
    for (uint32_t i = 0; i < 8; i++) {
        lg(c, P_P1);
        load_cvt(c, 8 * i);
        if (i >= 4)
            emask(c);
        ls(c, PV_F + i); /* PV_E follows PV_F */
    }
}

/* mx, the dataset item (item4(n, out, 0, 0): see cm_jit_program), the mx/ma swap. */
static void iteration_item(ctx *c)
{
    const cm_jit_prog_input *in = c->in;
    lg(c, P_MX);
    lg(c, P_R0 + in->read_reg[2]);
    lg(c, P_R0 + in->read_reg[3]);
    op(c, CM_OP_I64_XOR);
    op(c, CM_OP_I32_WRAP_I64);
    op(c, CM_OP_I32_XOR);
    i32c(c, RX_CACHE_LINE_ALIGN_MASK);
    op(c, CM_OP_I32_AND);
    ls(c, P_MX);
    lg(c, P_MA);
    i32c(c, in->dataset_offset);
    op(c, CM_OP_I32_ADD);
    i32c(c, 6);
    op(c, CM_OP_I32_SHR_U);
    i32c(c, in->item_scratch);
    i32c(c, 0);
    i64c(c, 0);
    call(c, c->f_item);
    for (uint32_t i = 0; i < 8; i++) {
        lg(c, P_R0 + i);
        i32c(c, 0);
        mem(c, CM_OP_I64_LOAD, 3, in->item_scratch + 8 * i);
        op(c, CM_OP_I64_XOR);
        ls(c, P_R0 + i);
    }
    lg(c, P_MX);
    lg(c, P_MA);
    ls(c, P_MX);
    ls(c, P_MA);
}

/* Stores r to spAddr1 and f ^ e to spAddr0, resets the addresses, counts down, loops. */
static void iteration_stores(ctx *c)
{
    for (uint32_t i = 0; i < 8; i++) {
        lg(c, P_P1);
        lg(c, P_R0 + i);
        mem(c, CM_OP_I64_STORE, 3, 8 * i);
    }
    for (uint32_t i = 0; i < 4; i++) {
        lg(c, P_P0);
        lg(c, PV_F + i);
        lg(c, PV_E + i);
        sv(c, CM_SIMD_V128_XOR);
        lt(c, PV_F + i);
        smem(c, CM_SIMD_V128_STORE, 3, 16 * i);
    }
    i32c(c, 0);
    ls(c, P_SPA0);
    i32c(c, 0);
    ls(c, P_SPA1);
    lg(c, P_ITERS);
    i64c(c, 1);
    op(c, CM_OP_I64_SUB);
    ls(c, P_ITERS);
    op(c, CM_OP_BR);
    cm_w_u32(c->b, 0);
}

/* Exit: the register file, the memory registers, the mode. */
static void run_exit(ctx *c)
{
    for (uint32_t i = 0; i < 8; i++) {
        lg(c, P_REG);
        lg(c, P_R0 + i);
        mem(c, CM_OP_I64_STORE, 3, 8 * i);
    }
    for (uint32_t i = 0; i < 8; i++) {
        lg(c, P_REG);
        lg(c, PV_F + i);
        smem(c, CM_SIMD_V128_STORE, 3, 64 + 16 * i);
    }
    lg(c, P_MEM);
    lg(c, P_MX);
    mem(c, CM_OP_I32_STORE, 2, 0);
    lg(c, P_MEM);
    lg(c, P_MA);
    mem(c, CM_OP_I32_STORE, 2, 4);
    i32c(c, 0);
    lg(c, P_MODE);
    mem(c, CM_OP_I32_STORE, 2, c->in->mode_addr);
}

void jitp_emit_run(ctx *c, const dec *prog, uint32_t n)
{
    cm_wlocals runs[3] = {{P_I64_END - P_R0, CM_WT_I64},
                          {P_I32_END - P_I64_END, CM_WT_I32},
                          {PV_END - P_I32_END, CM_WT_V128}};
    cm_wfunc_begin(c->b, runs, 3);
    run_entry(c);
    block(c, CM_OP_BLOCK);
    block(c, CM_OP_LOOP);
    lg(c, P_ITERS);
    op(c, CM_OP_I64_EQZ);
    op(c, CM_OP_BR_IF);
    cm_w_u32(c->b, 1);
    iteration_loads(c);
    for (uint32_t i = 0; i < n; i++) {
        if (prog[i].loop_here)
            block(c, CM_OP_LOOP);
        emit_instr(c, &prog[i]);
    }
    iteration_item(c);
    iteration_stores(c);
    op(c, CM_OP_END); /* loop */
    op(c, CM_OP_END); /* block */
    run_exit(c);
    cm_wfunc_end(c->b);
}
