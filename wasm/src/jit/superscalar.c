/* consentminer — SuperscalarHash to WebAssembly (see jit.h).
 *
 * One function, "item", holds the 8 programs inline: the 8 registers rl[] live in i64
 * locals from the first instruction to the final stores, so the only memory traffic is the
 * 8 cache-line reads per program and the 8 stores of the result (dataset.cpp,
 * initDatasetItem; specs.md 7.3). Each round's cache-line address depends only on the
 * register chosen by the previous program, so the first word of the line is loaded before
 * the program runs: the miss then overlaps the program's arithmetic, as RandomX's
 * rx_prefetch_nta does; the other 7 words, in the same line, are read after it.
 */
#include "jit.h"

/* SuperscalarInstructionType (superscalar.hpp). */
enum {
    SS_ISUB_R = 0,
    SS_IXOR_R = 1,
    SS_IADD_RS = 2,
    SS_IMUL_R = 3,
    SS_IROR_C = 4,
    SS_IADD_C7 = 5,
    SS_IXOR_C7 = 6,
    SS_IADD_C8 = 7,
    SS_IXOR_C8 = 8,
    SS_IADD_C9 = 9,
    SS_IXOR_C9 = 10,
    SS_IMULH_R = 11,
    SS_ISMULH_R = 12,
    SS_IMUL_RCP = 13,
    SS_COUNT = 14
};

/* RANDOMX_SUPERSCALAR_MAX_SIZE (configuration.h). */
#define SS_MAX_SIZE 512

/* Constants of initDatasetItem (dataset.cpp; specs.md 7.3). */
#define SS_MUL0 6364136223846793005ULL
static const uint64_t ss_add[8] = {
    0,
    9298411001130361340ULL,
    12065312585734608966ULL,
    9306329213124626780ULL,
    5281919268842080866ULL,
    10536153434571861004ULL,
    3398623926847679864ULL,
    9549104520008361294ULL,
};

/* Locals: the two parameters, then these. */
enum {
    L_ITEM = 0,
    L_OUT = 1,
    L_R0 = 2,   /* rl[0..7]: 2..9 */
    L_PRE = 10, /* word 0 of the round's cache line, loaded before the program */
    L_A0 = 11,  /* IMULH/ISMULH: low and high 32-bit halves of the operands, */
    L_A1 = 12,  /* the middle partial sum and (squares) the cross product */
    L_B0 = 13,
    L_B1 = 14,
    L_T = 15,
    L_M = 16,
    L_ADDR = 17, /* i32: byte offset of the round's cache line from cache_base */
    N_I64_LOCALS = 15,
    N_I32_LOCALS = 1
};

#define LO32 0xFFFFFFFFLL

static void get(cm_wbuf *b, uint32_t idx)
{
    cm_w_local(b, CM_OP_LOCAL_GET, idx);
}
static void set(cm_wbuf *b, uint32_t idx)
{
    cm_w_local(b, CM_OP_LOCAL_SET, idx);
}
static void tee(cm_wbuf *b, uint32_t idx)
{
    cm_w_local(b, CM_OP_LOCAL_TEE, idx);
}

static void op_const(cm_wbuf *b, uint8_t op, int64_t v)
{
    cm_w_i64_const(b, v);
    cm_w_u8(b, op);
}

/* Splits register r into a low (zero-extended) and a high half (sign-extended when
 * signed_hi) in locals lo and hi. */
static void split(cm_wbuf *b, uint32_t r, uint32_t lo, uint32_t hi, int signed_hi)
{
    get(b, r);
    op_const(b, CM_OP_I64_AND, LO32);
    set(b, lo);
    get(b, r);
    op_const(b, signed_hi ? CM_OP_I64_SHR_S : CM_OP_I64_SHR_U, 32);
    set(b, hi);
}

static void mul(cm_wbuf *b, uint32_t x, uint32_t y)
{
    get(b, x);
    get(b, y);
    cm_w_u8(b, CM_OP_I64_MUL);
}

/* rl[dst] = high 64 bits of rl[dst] * rl[src], unsigned or signed, from four 32x32->64
 * products (Hacker's Delight 8-2, mulhs/mulhu, with 32-bit digits). With a = a1:a0 and
 * b = b1:b0 (a1, b1 signed for smulh), every partial sum below fits in 64 bits:
 *   t  = a1*b0 + (a0*b0 >>u 32)
 *   w1 = a0*b1 + (t & 0xFFFFFFFF)
 *   hi = a1*b1 + (t >> 32) + (w1 >> 32)      (>> arithmetic for smulh)
 * 16 arithmetic ops (4 mul); 13 (3 mul) when src == dst, where a1*b0 == a0*b1. */
static void emit_mulh(cm_wbuf *b, uint32_t dst, uint32_t src, int is_signed)
{
    uint8_t shr = is_signed ? CM_OP_I64_SHR_S : CM_OP_I64_SHR_U;
    int square = dst == src;
    uint32_t b0 = square ? L_A0 : L_B0, b1 = square ? L_A1 : L_B1;
    split(b, L_R0 + dst, L_A0, L_A1, is_signed);
    if (!square)
        split(b, L_R0 + src, L_B0, L_B1, is_signed);
    mul(b, L_A1, b0);
    if (square)
        tee(b, L_M);
    mul(b, L_A0, b0);
    op_const(b, CM_OP_I64_SHR_U, 32);
    cm_w_u8(b, CM_OP_I64_ADD);
    tee(b, L_T);
    op_const(b, CM_OP_I64_AND, LO32);
    if (square)
        get(b, L_M);
    else
        mul(b, L_A0, b1);
    cm_w_u8(b, CM_OP_I64_ADD);
    op_const(b, shr, 32);
    get(b, L_T);
    op_const(b, shr, 32);
    cm_w_u8(b, CM_OP_I64_ADD);
    mul(b, L_A1, b1);
    cm_w_u8(b, CM_OP_I64_ADD);
    set(b, L_R0 + dst);
}

/* Checks one instruction against the limits of jit.h. */
static int valid(const cm_jit_instr *ins, uint32_t nreciprocals)
{
    if (ins->opcode >= SS_COUNT || ins->dst > 7)
        return 0;
    switch (ins->opcode) {
    case SS_ISUB_R:
    case SS_IXOR_R:
    case SS_IADD_RS:
    case SS_IMUL_R:
    case SS_IMULH_R:
    case SS_ISMULH_R:
        return ins->src <= 7;
    case SS_IMUL_RCP:
        return ins->imm32 < nreciprocals;
    default:
        return 1;
    }
}

static void emit_instr(cm_wbuf *b, const cm_jit_instr *ins, const uint64_t *reciprocals)
{
    uint32_t d = L_R0 + ins->dst, s = L_R0 + ins->src;
    /* signExtend2sCompl (common.hpp): the imm32 as a signed 32-bit value. */
    int64_t imm = (int64_t)(int32_t)ins->imm32;
    switch (ins->opcode) {
    case SS_ISUB_R:
    case SS_IXOR_R:
    case SS_IMUL_R:
        get(b, d);
        get(b, s);
        cm_w_u8(b, ins->opcode == SS_ISUB_R   ? CM_OP_I64_SUB
                   : ins->opcode == SS_IXOR_R ? CM_OP_I64_XOR
                                              : CM_OP_I64_MUL);
        set(b, d);
        break;
    case SS_IADD_RS: {
        unsigned shift = (ins->mod >> 2) % 4; /* Instruction::getModShift */
        get(b, d);
        get(b, s);
        if (shift)
            op_const(b, CM_OP_I64_SHL, shift);
        cm_w_u8(b, CM_OP_I64_ADD);
        set(b, d);
        break;
    }
    case SS_IROR_C:
        /* rotr by imm32 mod 64 (the generator gives 1..63; a rotation by 0 is none). */
        if (ins->imm32 & 63) {
            get(b, d);
            op_const(b, CM_OP_I64_ROTR, ins->imm32 & 63);
            set(b, d);
        }
        break;
    case SS_IADD_C7:
    case SS_IADD_C8:
    case SS_IADD_C9:
    case SS_IXOR_C7:
    case SS_IXOR_C8:
    case SS_IXOR_C9: {
        int add =
            ins->opcode == SS_IADD_C7 || ins->opcode == SS_IADD_C8 || ins->opcode == SS_IADD_C9;
        get(b, d);
        op_const(b, add ? CM_OP_I64_ADD : CM_OP_I64_XOR, imm);
        set(b, d);
        break;
    }
    case SS_IMULH_R:
    case SS_ISMULH_R:
        emit_mulh(b, ins->dst, ins->src, ins->opcode == SS_ISMULH_R);
        break;
    case SS_IMUL_RCP:
        get(b, d);
        op_const(b, CM_OP_I64_MUL, (int64_t)reciprocals[ins->imm32]);
        set(b, d);
        break;
    }
}

static int input_ok(const cm_jit_ss_input *in)
{
    uint64_t lines = (uint64_t)in->cache_line_mask + 1;
    if ((lines & (lines - 1)) != 0 || (uint64_t)in->cache_base + lines * 64 > 0x100000000ULL)
        return 0;
    for (int p = 0; p < 8; p++) {
        if (in->size[p] > SS_MAX_SIZE || in->addr_reg[p] > 7 || (in->size[p] && !in->code[p]))
            return 0;
        for (uint32_t j = 0; j < in->size[p]; j++)
            if (!valid(&in->code[p][j], in->reciprocals ? in->nreciprocals : 0))
                return 0;
    }
    return 1;
}

/* Program p of the 8: its cache line's first word, the program, then the line mixed in. */
static void emit_round(cm_wbuf *body, const cm_jit_ss_input *in, int p)
{
    /* The line: (registerValue & mask) * 64; registerValue is the item number, then
     * the previous program's address register. */
    if (p == 0) {
        get(body, L_ITEM);
    } else {
        get(body, L_R0 + in->addr_reg[p - 1]);
        cm_w_u8(body, CM_OP_I32_WRAP_I64);
    }
    cm_w_i32_const(body, (int32_t)in->cache_line_mask);
    cm_w_u8(body, CM_OP_I32_AND);
    cm_w_i32_const(body, 6);
    cm_w_u8(body, CM_OP_I32_SHL);
    tee(body, L_ADDR);
    cm_w_mem(body, CM_OP_I64_LOAD, 3, in->cache_base);
    set(body, L_PRE);

    for (uint32_t j = 0; j < in->size[p]; j++)
        emit_instr(body, &in->code[p][j], in->reciprocals);

    for (int q = 0; q < 8; q++) {
        get(body, L_R0 + q);
        if (q == 0) {
            get(body, L_PRE);
        } else {
            get(body, L_ADDR);
            cm_w_mem(body, CM_OP_I64_LOAD, 3, in->cache_base + 8 * (uint32_t)q);
        }
        cm_w_u8(body, CM_OP_I64_XOR);
        set(body, L_R0 + q);
    }
}

/* The body of "item": initDatasetItem. */
static void emit_item(cm_wbuf *body, const cm_jit_ss_input *in)
{
    const cm_wlocals locals[2] = {{N_I64_LOCALS, CM_WT_I64}, {N_I32_LOCALS, CM_WT_I32}};
    cm_wfunc_begin(body, locals, 2);

    /* rl[0] = (itemNumber + 1) * superscalarMul0, the others rl[0] ^ superscalarAdd<i>;
     * the item number is an unsigned 64-bit value in RandomX. */
    get(body, L_ITEM);
    cm_w_u8(body, CM_OP_I64_EXTEND_I32_U);
    op_const(body, CM_OP_I64_ADD, 1);
    op_const(body, CM_OP_I64_MUL, (int64_t)SS_MUL0);
    set(body, L_R0);
    for (int q = 1; q < 8; q++) {
        get(body, L_R0);
        op_const(body, CM_OP_I64_XOR, (int64_t)ss_add[q]);
        set(body, L_R0 + q);
    }
    for (int p = 0; p < 8; p++)
        emit_round(body, in, p);
    for (int q = 0; q < 8; q++) {
        get(body, L_OUT);
        get(body, L_R0 + q);
        cm_w_mem(body, CM_OP_I64_STORE, 3, 8 * (uint32_t)q);
    }
    cm_wfunc_end(body);
}

int cm_jit_superscalar(const cm_jit_ss_input *in, cm_wbuf *out)
{
    if (!input_ok(in))
        return -1;
    cm_wbuf body;
    cm_wbuf_init(&body);
    emit_item(&body, in);

    /* item4(n, out, i32, i64): item with the type of a program's run, which is how
     * program modules import it (program.c, write_module). */
    cm_wbuf body4;
    cm_wbuf_init(&body4);
    cm_wfunc_begin(&body4, NULL, 0);
    get(&body4, 0);
    get(&body4, 1);
    cm_w_u8(&body4, CM_OP_CALL);
    cm_w_u32(&body4, 0);
    cm_wfunc_end(&body4);

    const cm_wtype types[2] = {{2, 0, {CM_WT_I32, CM_WT_I32}, {0}},
                               {4, 0, {CM_WT_I32, CM_WT_I32, CM_WT_I32, CM_WT_I64}, {0}}};
    const cm_wfunc fns[2] = {{0, "item", &body}, {1, "item4", &body4}};
    const cm_wmodule m = {types, 2, NULL, 0, fns, 2, in->shared_memory};
    int rc = cm_wbuf_ok(&body) && cm_wbuf_ok(&body4) ? cm_wmodule_write(&m, out) : -1;
    cm_wbuf_free(&body);
    cm_wbuf_free(&body4);
    return rc == 0 && cm_wbuf_ok(out) ? 0 : -2;
}
