/* libFuzzer target for the RandomX-to-WebAssembly translators (wasm/src/jit, jit.h).
 *
 * The first byte picks the translator: even, cm_jit_superscalar; odd, cm_jit_program
 * (fuzz/CMakeLists.txt defines CM_FUZZ_JIT_PROGRAM; without it odd inputs also go to the
 * superscalar translator). The rest describes the inputs: in
 * "tame" inputs every field is reduced into range, so most inputs give a module; in raw
 * inputs opcodes, registers, sizes and reciprocal indices are as hostile as the bytes, and
 * the translator must answer -1 without crashing. Whenever a translator returns 0, the
 * module must pass Binaryen's validator (all features enabled), or we abort.
 *
 * Instructions come from the input while it lasts, then from splitmix64 seeded with the
 * input's hash, so a short input still describes 8 programs of up to 512 instructions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <binaryen-c.h>

#include "jit.h"

typedef struct reader {
    const uint8_t *p;
    size_t n;
    uint64_t rng;
} reader;

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint8_t byte(reader *r)
{
    if (r->n) {
        r->n--;
        return *r->p++;
    }
    return (uint8_t)splitmix(&r->rng);
}

static uint32_t u32(reader *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)byte(r) << (8 * i);
    return v;
}

static uint64_t u64(reader *r)
{
    return (uint64_t)u32(r) | (uint64_t)u32(r) << 32;
}

static void instr(reader *r, cm_jit_instr *ins, int tame, uint32_t nopcodes, uint32_t nrcp)
{
    ins->opcode = byte(r);
    ins->dst = byte(r);
    ins->src = byte(r);
    ins->mod = byte(r);
    ins->imm32 = u32(r);
    if (tame) {
        ins->opcode %= nopcodes;
        ins->dst &= 7;
        ins->src &= 7;
        /* IMUL_RCP (13) indexes the reciprocal table. */
        if (nopcodes == 14 && ins->opcode == 13)
            ins->imm32 = nrcp ? ins->imm32 % nrcp : 0;
        if (nopcodes == 14 && ins->opcode == 13 && !nrcp)
            ins->opcode = 3;
    }
}

/* Aborts unless the module parses and validates with every feature enabled. */
static void check_module(const cm_wbuf *m)
{
    char *copy = malloc(m->len);
    if (!copy)
        abort();
    memcpy(copy, m->data, m->len);
    BinaryenModuleRef mod = BinaryenModuleRead(copy, m->len);
    BinaryenModuleSetFeatures(mod, BinaryenFeatureAll());
    int ok = BinaryenModuleValidate(mod);
    BinaryenModuleDispose(mod);
    free(copy);
    if (!ok)
        abort();
}

static int fuzz_superscalar(reader *r, int tame, cm_wbuf *out)
{
    static const uint32_t masks[4] = {0x3FFFFF, 0, 0xFF, 5 /* not 2^k - 1 */};
    cm_jit_ss_input in;
    memset(&in, 0, sizeof in);
    uint8_t shape = byte(r);
    in.shared_memory = shape & 1;
    in.cache_line_mask = masks[(shape >> 1) & 3];
    in.cache_base = (shape & 8) ? u32(r) : 65536;
    uint32_t nrcp = byte(r) % 48;
    uint64_t rcp[48];
    for (uint32_t i = 0; i < nrcp; i++)
        rcp[i] = u64(r);
    in.reciprocals = rcp;
    in.nreciprocals = nrcp;

    cm_jit_instr *code = malloc(8 * 520 * sizeof *code);
    if (!code)
        abort();
    for (int p = 0; p < 8; p++) {
        uint32_t size = (uint32_t)byte(r) | (uint32_t)byte(r) << 8;
        uint32_t reg = byte(r);
        /* RandomX's programs have 60..512 instructions; raw inputs go past the limit. */
        in.size[p] = tame ? size % 513 : size % 520;
        in.addr_reg[p] = tame ? reg & 7 : reg % 9;
        in.code[p] = code + 520 * p;
        for (uint32_t j = 0; j < in.size[p]; j++)
            instr(r, &code[520 * p + j], tame, 14, nrcp);
    }
    int rc = cm_jit_superscalar(&in, out);
    free(code);
    return rc;
}

#ifdef CM_FUZZ_JIT_PROGRAM
static int fuzz_program(reader *r, int tame, cm_wbuf *out)
{
    /* RANDOMX_PROGRAM_SIZE (configuration.h); raw inputs also try other sizes. */
    enum { PROGRAM_SIZE = 256, MAX = 300 };
    cm_jit_instr code[MAX];
    cm_jit_prog_input in;
    memset(&in, 0, sizeof in);
    uint8_t shape = byte(r);
    in.shared_memory = (shape >> 1) & 1;
    in.size = tame || !(shape & 4) ? PROGRAM_SIZE : byte(r) % MAX;
    in.emask[0] = u64(r);
    in.emask[1] = u64(r);
    for (int i = 0; i < 4; i++)
        in.read_reg[i] = tame ? byte(r) & 7 : byte(r) % 9;
    in.dataset_offset = tame ? (u32(r) % 262145) * 64 : u32(r);
    in.mode_addr = tame ? 1024 : u32(r);
    in.item_scratch = tame ? 2048 : u32(r);
    for (uint32_t j = 0; j < in.size; j++)
        instr(r, &code[j], 0, 256, 0); /* every byte value is a RandomX opcode */
    if (tame)
        for (uint32_t j = 0; j < in.size; j++)
            code[j].dst &= 7, code[j].src &= 7;
    in.code = code;
    return cm_jit_program(&in, out);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    reader r = {data + 1, size - 1, 0xCBF29CE484222325ULL};
    for (size_t i = 0; i < size; i++) /* FNV-1a: the continuation stream's seed */
        r.rng = (r.rng ^ data[i]) * 0x100000001B3ULL;
    int tame = (data[0] & 2) != 0;

    cm_wbuf out;
    cm_wbuf_init(&out);
    int rc;
#ifdef CM_FUZZ_JIT_PROGRAM
    if (data[0] & 1)
        rc = fuzz_program(&r, tame, &out);
    else
#endif
        rc = fuzz_superscalar(&r, tame, &out);
    if (rc == 0)
        check_module(&out);
    else if (rc != -1)
        abort(); /* -2 (out of memory) cannot happen at these sizes */
    cm_wbuf_free(&out);
    return 0;
}
