/* consentminer — RandomX program bytecode to decoded instructions (program_internal.h).
 *
 * Owns the reading of RandomX's 8-byte instructions as bytecode_machine.cpp does: the
 * opcode's type from the frequency table, register and immediate forms, the memory
 * masks, IMUL_RCP's reciprocal, and where each CBRANCH jumps back to (after a CBRANCH
 * every register counts as used, so the branch ranges never overlap). Emits no code.
 */
#include "program_internal.h"

/* Instruction frequencies in opcode order (configuration.h, RANDOMX_FREQ_*). */
static const uint8_t rx_freq[I_COUNT] = {16, 7, 16, 7,  16, 4,  4, 1, 4,  1, 8, 2,  15, 5,  8,
                                         2,  4, 4,  16, 5,  16, 5, 6, 32, 4, 6, 25, 1,  16, 0};

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

static uint64_t sext(uint32_t v)
{
    return (uint64_t)(int64_t)(int32_t)v;
}

/* The type-specific part of decoding instruction i into x; usage[r] is the index of the
 * instruction that last wrote register r (-1: none). */
static void decode_operands(const cm_jit_instr *ins, uint32_t i, dec *x, int usage[8], dec *d)
{
    int same = x->src == x->dst;
    switch (x->type) {
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

void jitp_decode(const cm_jit_instr *code, uint32_t n, dec *d)
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
        decode_operands(ins, i, x, usage, d);
    }
}
