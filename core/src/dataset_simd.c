/* consentminer — dataset items, a batch at a time (see superscalar.h).
 *
 * The registers of SSH_LANES items live in memory as r[register][lanes]; each program
 * instruction is decoded once per batch and applied to every lane. The lane loops use
 * GCC's generic vectors of eight 64-bit lanes; the function is compiled for x86-64-v4
 * (AVX-512: one zmm per vector), x86-64-v3 (AVX2) and the baseline, and the loader picks
 * the best the CPU runs (target_clones). The arithmetic is RandomX's, lane by lane:
 * 64-bit wrap-around add, sub, mul, xor, rotate, and the high halves of the unsigned and
 * signed 128-bit products (RandomX spec 6.1, 7.3).
 */
#include "superscalar.h"

#include <string.h>

typedef uint64_t v8u __attribute__((vector_size(64)));

/* 64 items: 4 KiB of registers, well inside L1, and each decoded instruction drives 8
 * vector operations, so decoding costs little. */
#define SSH_LANES 64
#define SSH_VECS (SSH_LANES / 8)

/* RandomX's dataset.cpp constants (RandomX spec 7.3: the initial register values). */
#define SSH_MUL0 6364136223846793005ULL
static const uint64_t ssh_add[8] = {0,
                                    9298411001130361340ULL,
                                    12065312585734608966ULL,
                                    9306329213124626780ULL,
                                    5281919268842080866ULL,
                                    10536153434571861004ULL,
                                    3398623926847679864ULL,
                                    9549104520008361294ULL};

/* The cache is 2^22 lines of 64 bytes (RANDOMX_ARGON_MEMORY * 1 KiB / 64). */
#define SSH_LINE_MASK ((256u * 1024u * 1024u / 64u) - 1u)

/* High 64 bits of the unsigned 128-bit product, from four 32x32->64 products. */
/* always_inline: the callers are cloned per instruction set, and a callee left out of
 * line would be compiled for the baseline only. */
#define SSH_INLINE static inline __attribute__((always_inline))

SSH_INLINE v8u mulh_u(v8u a, v8u b)
{
    const v8u lo = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
                    0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};
    v8u al = a & lo, ah = a >> 32, bl = b & lo, bh = b >> 32;
    v8u ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    v8u mid = (ll >> 32) + (lh & lo) + (hl & lo);
    return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/* Signed high half: the unsigned one, less b where a < 0 and a where b < 0. */
SSH_INLINE v8u mulh_s(v8u a, v8u b)
{
    typedef int64_t v8s __attribute__((vector_size(64)));
    v8u an = (v8u)((v8s)a >> 63), bn = (v8u)((v8s)b >> 63);
    return mulh_u(a, b) - (an & b) - (bn & a);
}

SSH_INLINE void run_program(v8u r[8][SSH_VECS], const ssh_program *p)
{
    for (uint32_t k = 0; k < p->size; k++) {
        const ssh_instr *in = &p->code[k];
        v8u *d = r[in->dst];
        const v8u *s = r[in->src];
        const unsigned sh = in->shift;
        const uint64_t imm = in->imm;
        switch (in->op) {
        case SSH_ISUB_R:
            for (int j = 0; j < SSH_VECS; j++)
                d[j] -= s[j];
            break;
        case SSH_IXOR_R:
            for (int j = 0; j < SSH_VECS; j++)
                d[j] ^= s[j];
            break;
        case SSH_IADD_RS:
            for (int j = 0; j < SSH_VECS; j++)
                d[j] += s[j] << sh;
            break;
        case SSH_IMUL_R:
            for (int j = 0; j < SSH_VECS; j++)
                d[j] *= s[j];
            break;
        case SSH_IROR_C:
            for (int j = 0; j < SSH_VECS; j++)
                d[j] = (d[j] >> sh) | (d[j] << ((64 - sh) & 63));
            break;
        case SSH_IADD_C7:
        case SSH_IADD_C8:
        case SSH_IADD_C9:
            for (int j = 0; j < SSH_VECS; j++)
                d[j] += imm;
            break;
        case SSH_IXOR_C7:
        case SSH_IXOR_C8:
        case SSH_IXOR_C9:
            for (int j = 0; j < SSH_VECS; j++)
                d[j] ^= imm;
            break;
        case SSH_IMULH_R:
            for (int j = 0; j < SSH_VECS; j++)
                d[j] = mulh_u(d[j], s[j]);
            break;
        case SSH_ISMULH_R:
            for (int j = 0; j < SSH_VECS; j++)
                d[j] = mulh_s(d[j], s[j]);
            break;
        case SSH_IMUL_RCP:
            for (int j = 0; j < SSH_VECS; j++)
                d[j] *= imm;
            break;
        }
    }
}

/* On x86-64 one copy per vector width (AVX-512, AVX2, baseline), chosen at load time by
 * the CPU; elsewhere the compiler's own vectors for the target. */
#if defined(__x86_64__)
#define SSH_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SSH_CLONES
#endif

SSH_CLONES void
ssh_init_items(const ssh_program progs[SSH_PROGRAMS], const uint8_t *cache_memory, uint8_t *out,
               uint64_t start, uint64_t count)
{
    v8u r[8][SSH_VECS] __attribute__((aligned(64)));
    const uint64_t *lines[SSH_LANES];
    for (uint64_t base = 0; base < count; base += SSH_LANES) {
        for (int l = 0; l < SSH_LANES; l++) {
            uint64_t r0 = (start + base + (uint64_t)l + 1) * SSH_MUL0;
            for (int q = 0; q < 8; q++)
                r[q][l / 8][l % 8] = r0 ^ ssh_add[q];
        }
        /* RandomX spec 7.3: the first line is addressed by the item number itself. */
        for (int l = 0; l < SSH_LANES; l++)
            lines[l] =
                (const uint64_t *)(cache_memory +
                                   (size_t)((start + base + (uint64_t)l) & SSH_LINE_MASK) * 64);
        for (int i = 0; i < SSH_PROGRAMS; i++) {
            /* The whole batch's lines are requested before the program runs, so their
             * memory latency overlaps with it and with each other. */
            for (int l = 0; l < SSH_LANES; l++)
                __builtin_prefetch(lines[l], 0, 0);
            run_program(r, &progs[i]);
            const uint32_t a = progs[i].addr_reg;
            for (int l = 0; l < SSH_LANES; l++) {
                const uint64_t *line = lines[l];
                for (int q = 0; q < 8; q++)
                    r[q][l / 8][l % 8] ^= line[q];
                lines[l] = (const uint64_t *)(cache_memory +
                                              (size_t)(r[a][l / 8][l % 8] & SSH_LINE_MASK) * 64);
            }
        }
        uint64_t n = count - base < SSH_LANES ? count - base : SSH_LANES;
        for (uint64_t l = 0; l < n; l++) {
            uint64_t item[8];
            for (int q = 0; q < 8; q++)
                item[q] = r[q][l / 8][l % 8];
            memcpy(out + (base + l) * 64, item, sizeof item);
        }
    }
}
