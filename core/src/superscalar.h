/* consentminer — RandomX dataset items computed several at a time (issue 18).
 *
 * RandomX computes one dataset item at a time: eight SuperscalarHash programs, each
 * followed by a read of one 64-byte cache line whose address depends on the program's
 * result, so the eight reads of an item wait on each other (RandomX spec 7.3). Here a
 * batch of SSH_LANES items runs each program instruction on all items at once (the lane
 * loops compile to AVX-512 or AVX2 where the CPU has it), and the cache reads of the
 * whole batch are issued together. The programs come from RandomX itself
 * (superscalar_programs.cpp), and every new cache is checked item for item against
 * RandomX's own initDatasetItem before this path is trusted (hasher.c).
 * Internal to core; native builds only (wasm has no dataset).
 */
#ifndef CM_CORE_SUPERSCALAR_H
#define CM_CORE_SUPERSCALAR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* RandomX's SuperscalarMaxSize (3 * RANDOMX_SUPERSCALAR_LATENCY + 2) and
 * RANDOMX_CACHE_ACCESSES with the default configuration.h. */
#define SSH_MAX_SIZE 512
#define SSH_PROGRAMS 8

/* RandomX's SuperscalarInstructionType numbering (superscalar.hpp). */
enum ssh_op {
    SSH_ISUB_R = 0,
    SSH_IXOR_R = 1,
    SSH_IADD_RS = 2,
    SSH_IMUL_R = 3,
    SSH_IROR_C = 4,
    SSH_IADD_C7 = 5,
    SSH_IXOR_C7 = 6,
    SSH_IADD_C8 = 7,
    SSH_IXOR_C8 = 8,
    SSH_IADD_C9 = 9,
    SSH_IXOR_C9 = 10,
    SSH_IMULH_R = 11,
    SSH_ISMULH_R = 12,
    SSH_IMUL_RCP = 13
};

typedef struct ssh_instr {
    uint8_t op, dst, src, shift; /* shift: IADD_RS's; rotation count for IROR_C */
    uint64_t imm;                /* sign-extended constant, or IMUL_RCP's reciprocal */
} ssh_instr;

typedef struct ssh_program {
    uint32_t size;
    uint32_t addr_reg;
    ssh_instr code[SSH_MAX_SIZE];
} ssh_program;

/* The eight programs RandomX derives from key (its Blake2Generator and
 * generateSuperscalar). Returns 0, or -1 when RandomX gave something out of range. */
int ssh_generate(const void *key, size_t key_len, ssh_program progs[SSH_PROGRAMS]);

/* The cache's 256 MiB of Argon2 memory (randomx_cache's first member). */
const uint8_t *ssh_cache_memory(const void *randomx_cache);

/* RandomX's own computation of one item (randomx::initDatasetItem), for checking. */
void ssh_reference_item(void *randomx_cache, uint8_t out[64], uint64_t item);

/* Items [start, start + count) into out (64 bytes each; out is item start's place). */
void ssh_init_items(const ssh_program progs[SSH_PROGRAMS], const uint8_t *cache_memory,
                    uint8_t *out, uint64_t start, uint64_t count);

#ifdef __cplusplus
}
#endif
#endif
