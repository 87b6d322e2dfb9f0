/* consentminer tests — the native half of the RandomX program translator's differential
 * test (tests/jit/run_prog.mjs is the other half).
 *
 * For each random program it runs RandomX's own interpreter (InterpretedVm::execute of
 * RandomX 1.1.10, compiled from third_party/randomx/src; natively the hardware does the
 * rounding modes, so it is independent of wasm/src/fround.c) and translates the same
 * program with cm_jit_program. It writes one record per program to stdout: the module,
 * the initial state and the interpreter's final state. Dataset items come from a stand-in
 * (item_word below) that run_prog.mjs computes identically; the scratchpad starts from a
 * hash of its word index and a per-program seed, also recomputed by the script.
 *
 * Usage: prog_ref SEED COUNT    (the records)
 *        prog_ref float         (the float module the programs import)
 */
#include "fmix32.h"
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "jit.h"

/* RandomX's headers are not written for -Wextra. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "intrin_portable.h"
#include "vm_interpreted.hpp"
#pragma GCC diagnostic pop

namespace
{

/* Layout of the wasm memory, as run_prog.mjs builds it (sent in each record). */
constexpr uint32_t kReg = 0, kMem = 256, kMode = 264, kItem = 320, kSp = 4096;

/* The dataset stand-in: word k (0..7) of item n. */
uint64_t item_word(uint32_t n, uint32_t k)
{
    uint32_t lo = fmix32(n * 16 + 2 * k + 0x1234567u);
    uint32_t hi = fmix32(n * 16 + 2 * k + 1 + 0x1234567u);
    return (uint64_t)hi << 32 | lo;
}

uint64_t splitmix64(uint64_t &s)
{
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

using Base = randomx::InterpretedVm<randomx::AlignedAllocator<randomx::CacheLineSize>, true>;

class RefVm : public Base
{
  public:
    randomx::Program prog0;
    randomx::ProgramConfiguration config0;
    randomx::RegisterFile reg0;
    uint32_t mx0 = 0, ma0 = 0;
    uint64_t offset0 = 0;

    RefVm()
    {
        /* allocate() insists on a dataset; datasetRead below never reads it */
        static uint64_t no_dataset;
        this->datasetPtr = reinterpret_cast<randomx_dataset *>(&no_dataset);
    }
    void run(void *seed) override
    {
        /* the same program and configuration Base::run makes, kept for the translator */
        this->generateProgram(seed);
        this->initialize();
        prog0 = this->program;
        config0 = this->config;
        reg0 = this->reg;
        mx0 = this->mem.mx;
        ma0 = this->mem.ma;
        offset0 = this->datasetOffset;
        Base::run(seed);
    }
    uint8_t *pad()
    {
        return this->scratchpad;
    }
    uint32_t mx()
    {
        return this->mem.mx;
    }
    uint32_t ma()
    {
        return this->mem.ma;
    }

  protected:
    void datasetRead(uint64_t address, randomx::int_reg_t (&r)[randomx::RegistersCount]) override
    {
        for (uint32_t k = 0; k < 8; k++)
            r[k] ^= item_word((uint32_t)(address / randomx::CacheLineSize), k);
    }
    void datasetPrefetch(uint64_t) override {}
};

void put(const void *p, size_t n)
{
    if (fwrite(p, 1, n, stdout) != n) {
        perror("prog_ref: stdout");
        exit(1);
    }
}

void put32(uint32_t v)
{
    put(&v, 4);
}

} // namespace

static_assert(sizeof(randomx::Instruction) == sizeof(cm_jit_instr), "instruction layout");
static_assert(randomx::ScratchpadSize == 2097152, "program.c assumes Monero's scratchpad");
static_assert(randomx::CacheLineAlignMask == 0x7FFFFFC0u, "program.c assumes Monero's dataset");
static_assert(RANDOMX_PROGRAM_ITERATIONS == 2048, "iterations");

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "float") == 0) {
        /* the float module (cm_jit_float), which the programs import */
        cm_wbuf fm;
        cm_wbuf_init(&fm);
        if (cm_jit_float(0, &fm) != 0) {
            fprintf(stderr, "prog_ref: cm_jit_float failed\n");
            return 1;
        }
        put(fm.data, fm.len);
        cm_wbuf_free(&fm);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: prog_ref SEED COUNT\n       prog_ref float\n");
        return 2;
    }
    uint64_t state = strtoull(argv[1], nullptr, 0);
    unsigned count = (unsigned)strtoul(argv[2], nullptr, 0);

    RefVm *vm = new RefVm();
    vm->allocate();
    cm_wbuf out;
    cm_wbuf_init(&out);
    for (unsigned p = 0; p < count; p++) {
        uint64_t seed[8];
        for (auto &w : seed)
            w = splitmix64(state);
        uint32_t pad_seed = (uint32_t)splitmix64(state);
        uint32_t mode0 = (uint32_t)(splitmix64(state) & 3);
        uint8_t *sp = vm->pad();
        for (uint32_t i = 0; i < randomx::ScratchpadSize / 4; i++) {
            uint32_t w = fmix32(pad_seed ^ (i * 0x9E3779B9u));
            memcpy(sp + 4 * i, &w, 4);
        }

        rx_set_rounding_mode(mode0);
        vm->run(seed);
        uint32_t mode1 = rx_get_rounding_mode();
        rx_set_rounding_mode(0); /* the translator and stdio run in round-to-nearest */

        cm_jit_prog_input in;
        memset(&in, 0, sizeof in);
        in.code = reinterpret_cast<const cm_jit_instr *>(&vm->prog0(0));
        in.size = RANDOMX_PROGRAM_SIZE;
        memcpy(in.emask, vm->config0.eMask, sizeof in.emask);
        in.read_reg[0] = vm->config0.readReg0;
        in.read_reg[1] = vm->config0.readReg1;
        in.read_reg[2] = vm->config0.readReg2;
        in.read_reg[3] = vm->config0.readReg3;
        in.dataset_offset = (uint32_t)vm->offset0;
        in.mode_addr = kMode;
        in.item_scratch = kItem;
        cm_wbuf_reset(&out);
        int rc = cm_jit_program(&in, &out);
        if (rc != 0) {
            fprintf(stderr, "prog_ref: cm_jit_program returned %d\n", rc);
            return 1;
        }

        /* record: layout, module, initial state, expected state */
        put32(0x50524f47); /* "PROG" */
        put32(kReg);
        put32(kMem);
        put32(kMode);
        put32(kItem);
        put32(kSp);
        put32((uint32_t)out.len);
        put(out.data, out.len);
        put32(pad_seed);
        put32(mode0);
        put32(vm->mx0);
        put32(vm->ma0);
        put(&vm->reg0.a, sizeof vm->reg0.a);
        randomx::RegisterFile *reg = vm->getRegisterFile();
        put(reg->r, sizeof reg->r);
        put(reg->f, sizeof reg->f);
        put(reg->e, sizeof reg->e);
        put32(vm->mx());
        put32(vm->ma());
        put32(mode1);
        put(sp, randomx::ScratchpadSize);
    }
    cm_wbuf_free(&out);
    delete vm;
    return fflush(stdout) == 0 ? 0 : 1;
}
