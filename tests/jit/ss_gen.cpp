// consentminer — differential test of the SuperscalarHash translator (wasm/src/jit/
// superscalar.c), native half: RandomX's own code (third_party/randomx, compiled here)
// makes the programs and the reference dataset items; the translator makes the modules.
//
//   ss_gen OUTDIR SETS ITEMS SEED
//
// writes, for each set k < SETS, OUTDIR/ss_<k>.wasm and OUTDIR/ss_<k>.items (ITEMS
// records of u32 item number + 64 bytes of the item), and OUTDIR/ss_params.json (the
// cache base, the cache fill seed). run_ss.mjs then runs every module in node and compares.
// The cache is not Argon2's (initDatasetItem only reads it): word i of it is
// ss_fill(i, fill seed), recomputed identically by run_ss.mjs. Also checks that inputs out
// of range give -1, as jit.h promises.
#include "fmix32.h"
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "blake2_generator.hpp"
#include "common.hpp"
#include "dataset.hpp"
#include "reciprocal.h"
#include "superscalar.hpp"

extern "C" {
#include "jit.h"
}

namespace
{

// splitmix64: the test's own randomness (keys, item numbers).
uint64_t next(uint64_t &s)
{
    uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// 32-bit word i of the cache image (murmur3's finalizer); run_ss.mjs has the same.
uint32_t ss_fill(uint32_t i, uint32_t seed)
{
    return fmix32(i * 0x9E3779B9u + seed);
}

// Cache base in the node test's memory: not page aligned, to catch a missing add.
const uint32_t kCacheBase = 65536 + 192;

int fail(const char *what)
{
    std::fprintf(stderr, "ss_gen: %s\n", what);
    return 1;
}

void fill_input(randomx_cache &cache, std::vector<cm_jit_instr> (&code)[8], cm_jit_ss_input &in)
{
    std::memset(&in, 0, sizeof in);
    for (int p = 0; p < 8; p++) {
        randomx::SuperscalarProgram &prog = cache.programs[p];
        code[p].resize(prog.getSize());
        for (unsigned j = 0; j < prog.getSize(); j++) {
            static_assert(sizeof(randomx::Instruction) == sizeof(cm_jit_instr), "layout");
            std::memcpy(&code[p][j], &prog(j), sizeof(cm_jit_instr));
        }
        in.code[p] = code[p].data();
        in.size[p] = prog.getSize();
        in.addr_reg[p] = (uint32_t)prog.getAddressRegister();
    }
    in.reciprocals = cache.reciprocalCache.data();
    in.nreciprocals = (uint32_t)cache.reciprocalCache.size();
    in.cache_base = kCacheBase;
    in.cache_line_mask = randomx::CacheSize / randomx::CacheLineSize - 1;
}

// jit.h: -1 for each input out of range; the valid input must still give 0.
int check_rejects(const cm_jit_ss_input &good)
{
    struct Case {
        const char *name;
        int p, j; // program, instruction (-1: a program field)
        int field, value;
    };
    // field: 0 opcode, 1 dst, 2 src, 3 imm32 (IMUL_RCP made first), 4 size, 5 addr_reg,
    // 6 cache_line_mask
    const Case cases[] = {
        {"opcode 14 (SuperscalarInstructionType::COUNT)", 0, 0, 0, 14},
        {"opcode 255", 7, 3, 0, 255},
        {"dst register 8", 3, 1, 1, 8},
        {"src register 8 of IXOR_R", 2, 0, 2, 8},
        {"IMUL_RCP reciprocal index past the table", 5, 2, 3, 0},
        {"program size 513", 1, -1, 4, 513},
        {"address register 8", 6, -1, 5, 8},
        {"cache line mask not a power of two minus one", 0, -1, 6, 5},
        {"cache past 4 GiB", 0, -1, 6, 0x7FFFFFF},
    };
    std::vector<cm_jit_instr> big(600);
    for (const Case &c : cases) {
        cm_jit_ss_input in = good;
        std::vector<cm_jit_instr> prog;
        if (c.j >= 0) {
            prog.assign(good.code[c.p], good.code[c.p] + good.size[c.p]);
            cm_jit_instr &ins = prog[c.j];
            if (c.field == 0)
                ins.opcode = (uint8_t)c.value;
            else if (c.field == 1)
                ins.dst = (uint8_t)c.value;
            else if (c.field == 2)
                ins.opcode = 1, ins.src = (uint8_t)c.value;
            else
                ins.opcode = 13, ins.imm32 = good.nreciprocals;
            in.code[c.p] = prog.data();
        } else if (c.field == 4) {
            in.code[c.p] = big.data();
            in.size[c.p] = (uint32_t)c.value;
        } else if (c.field == 5) {
            in.addr_reg[c.p] = (uint32_t)c.value;
        } else {
            in.cache_line_mask = (uint32_t)c.value;
        }
        cm_wbuf out;
        cm_wbuf_init(&out);
        int rc = cm_jit_superscalar(&in, &out);
        cm_wbuf_free(&out);
        if (rc != -1) {
            std::fprintf(stderr, "ss_gen: %s: got %d, want -1\n", c.name, rc);
            return 1;
        }
    }
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 5)
        return fail("usage: ss_gen OUTDIR SETS ITEMS SEED");
    std::string dir = argv[1];
    int sets = std::atoi(argv[2]), items = std::atoi(argv[3]);
    uint64_t seed = std::strtoull(argv[4], nullptr, 0);
    uint32_t fill_seed = (uint32_t)next(seed);

    std::vector<uint8_t> memory(randomx::CacheSize);
    for (uint32_t i = 0; i < randomx::CacheSize / 4; i++) {
        uint32_t w = ss_fill(i, fill_seed);
        std::memcpy(&memory[4 * (size_t)i], &w, 4); // little-endian, as wasm memory
    }

    // Item numbers: the edges of the u32 range and of the cache line mask, then random.
    const uint32_t edges[] = {0,          1,          2,          0x3FFFFF,  0x400000,
                              0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF};
    size_t nedges = sizeof edges / sizeof edges[0];

    size_t total_bytes = 0;
    for (int k = 0; k < sets; k++) {
        // As initCache: programs from a Blake2Generator over the key, then each IMUL_RCP's
        // divisor replaced by its index in the reciprocal table.
        randomx_cache *cache = new randomx_cache();
        cache->memory = memory.data();
        cache->jit = nullptr;
        uint8_t key[32];
        for (int i = 0; i < 4; i++) {
            uint64_t v = next(seed);
            std::memcpy(key + 8 * i, &v, 8);
        }
        randomx::Blake2Generator gen(key, sizeof key);
        for (int p = 0; p < RANDOMX_CACHE_ACCESSES; p++) {
            randomx::generateSuperscalar(cache->programs[p], gen);
            for (unsigned j = 0; j < cache->programs[p].getSize(); j++) {
                randomx::Instruction &instr = cache->programs[p](j);
                if ((randomx::SuperscalarInstructionType)instr.opcode ==
                    randomx::SuperscalarInstructionType::IMUL_RCP) {
                    uint64_t rcp = randomx_reciprocal(instr.getImm32());
                    instr.setImm32((uint32_t)cache->reciprocalCache.size());
                    cache->reciprocalCache.push_back(rcp);
                }
            }
        }

        std::vector<cm_jit_instr> code[8];
        cm_jit_ss_input in;
        fill_input(*cache, code, in);
        in.shared_memory = k % 2; // both import forms
        if (k == 0 && check_rejects(in))
            return 1;

        cm_wbuf out;
        cm_wbuf_init(&out);
        int rc = cm_jit_superscalar(&in, &out);
        if (rc != 0) {
            std::fprintf(stderr, "ss_gen: set %d: cm_jit_superscalar gave %d\n", k, rc);
            return 1;
        }
        total_bytes += out.len;
        std::string base = dir + "/ss_" + std::to_string(k);
        FILE *f = std::fopen((base + ".wasm").c_str(), "wb");
        if (!f || std::fwrite(out.data, 1, out.len, f) != out.len || std::fclose(f))
            return fail("cannot write the module");
        cm_wbuf_free(&out);

        f = std::fopen((base + ".items").c_str(), "wb");
        if (!f)
            return fail("cannot write the items");
        for (int i = 0; i < items; i++) {
            uint32_t item = (size_t)i < nedges ? edges[i] : (uint32_t)next(seed);
            uint8_t rec[68];
            std::memcpy(rec, &item, 4);
            randomx::initDatasetItem(cache, rec + 4, item);
            if (std::fwrite(rec, 1, sizeof rec, f) != sizeof rec)
                return fail("cannot write the items");
        }
        if (std::fclose(f))
            return fail("cannot write the items");
        delete cache;
    }

    FILE *f = std::fopen((dir + "/ss_params.json").c_str(), "w");
    if (!f)
        return fail("cannot write ss_params.json");
    std::fprintf(f, "{\"sets\": %d, \"cacheBase\": %" PRIu32 ", \"fillSeed\": %" PRIu32 "}\n", sets,
                 kCacheBase, fill_seed);
    std::fclose(f);
    std::printf("ss_gen: %d sets x %d items, modules %zu bytes on average\n", sets, items,
                sets ? total_bytes / (size_t)sets : 0);
    return 0;
}
