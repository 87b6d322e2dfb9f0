/* consentminer — RandomX's JitCompiler for WebAssembly (see jit_compiler_wasm.hpp). */
#include "jit/jit_compiler_wasm.hpp"

#include <cstdio>
#include <cstdlib>

#include <emscripten.h>

#include "dataset.hpp"
#include "fround.h"
#include "jit/jit.h"
#include "program.hpp"
#include "superscalar_program.hpp"

/* wasm/src/jit/jit-lib.js: compile and instantiate module bytes; each returns a positive
 * handle (or table slot) or a negative number after printing why. */
extern "C" int cm_jit_js_load_superscalar(const uint8_t *bytes, uint32_t len, int old_handle,
                                          double emit_ms);
extern "C" int cm_jit_js_load_program(const uint8_t *bytes, uint32_t len, int ss_handle,
                                      int slot, double emit_ms);
extern "C" void cm_jit_js_release(int ss_handle, int slot);
/* The float module (cm_jit_float), once per thread: 1 when this thread has it. */
extern "C" int cm_jit_js_have_float(void);
extern "C" int cm_jit_js_load_float(const uint8_t *bytes, uint32_t len);

namespace randomx {

static_assert(sizeof(Instruction) == sizeof(cm_jit_instr), "cm_jit_instr mirrors Instruction");

[[noreturn]] static void fail(const char *what)
{
    /* RandomX's VM interface has no error path for a compiler; the runtime turns an abort
     * into a worker error, and the page falls back to the interpreter only by choice. */
    std::fprintf(stderr, "consentminer wasm JIT: %s\n", what);
    std::abort();
}

JitCompilerWasm::JitCompilerWasm()
{
    cm_wbuf *b = new cm_wbuf;
    cm_wbuf_init(b);
    buffer = b;
    itemScratch = new uint64_t[8]();
}

JitCompilerWasm::~JitCompilerWasm()
{
    if (ssHandle || slot)
        cm_jit_js_release(ssHandle, slot);
    cm_wbuf *b = static_cast<cm_wbuf *>(buffer);
    cm_wbuf_free(b);
    delete b;
    delete[] itemScratch;
}

void JitCompilerWasm::generateProgram(Program &, ProgramConfiguration &)
{
    fail("fast mode is not available in WebAssembly (the dataset needs 2080 MiB)");
}

void JitCompilerWasm::setSuperscalar(SuperscalarProgram *programs,
                                     std::vector<uint64_t> *reciprocals)
{
    /* Only remembered here: the module is built in the thread that runs the VM, at its
     * next program, because instances and table slots belong to one thread. */
    ssPrograms = programs;
    ssReciprocals = reciprocals;
    ssStale = true;
}

void JitCompilerWasm::loadSuperscalar()
{
    if (!ssPrograms || !cacheMemory)
        fail("no cache given to the compiler before the first program");
    cm_jit_ss_input in = {};
    for (int i = 0; i < RANDOMX_CACHE_ACCESSES; i++) {
        in.code[i] = reinterpret_cast<const cm_jit_instr *>(&ssPrograms[i](0));
        in.size[i] = ssPrograms[i].getSize();
        in.addr_reg[i] = (uint32_t)ssPrograms[i].getAddressRegister();
    }
    in.reciprocals = ssReciprocals->data();
    in.nreciprocals = (uint32_t)ssReciprocals->size();
    in.cache_base = (uint32_t)(uintptr_t)cacheMemory;
    in.cache_line_mask = (uint32_t)(RANDOMX_ARGON_MEMORY * ArgonBlockSize / CacheLineSize - 1);
#ifdef __EMSCRIPTEN_PTHREADS__
    in.shared_memory = 1;
#endif
    cm_wbuf *b = static_cast<cm_wbuf *>(buffer);
    cm_wbuf_reset(b);
    double t0 = emscripten_get_now();
    int rc = cm_jit_superscalar(&in, b);
    if (rc)
        fail(rc == -2 ? "out of memory translating SuperscalarHash"
                      : "SuperscalarHash programs out of range");
    int h = cm_jit_js_load_superscalar(b->data, (uint32_t)b->len, ssHandle,
                                       emscripten_get_now() - t0);
    if (h <= 0)
        fail("the runtime could not instantiate the SuperscalarHash module");
    ssHandle = h;
    ssStale = false;
}

void JitCompilerWasm::generateProgramLight(Program &program, ProgramConfiguration &config,
                                           uint32_t datasetOffset)
{
    if (ssStale || !ssHandle)
        loadSuperscalar();
    int shared = 0;
#ifdef __EMSCRIPTEN_PTHREADS__
    shared = 1;
#endif
    cm_wbuf *b = static_cast<cm_wbuf *>(buffer);
    if (!cm_jit_js_have_float()) {
        cm_wbuf_reset(b);
        if (cm_jit_float(shared, b) != 0)
            fail("out of memory translating the float module");
        if (cm_jit_js_load_float(b->data, (uint32_t)b->len) <= 0)
            fail("the runtime could not instantiate the float module");
    }
    cm_jit_prog_input in = {};
    in.code = reinterpret_cast<const cm_jit_instr *>(&program(0));
    in.size = program.getSize();
    in.emask[0] = config.eMask[0];
    in.emask[1] = config.eMask[1];
    in.read_reg[0] = config.readReg0;
    in.read_reg[1] = config.readReg1;
    in.read_reg[2] = config.readReg2;
    in.read_reg[3] = config.readReg3;
    in.dataset_offset = datasetOffset;
    in.mode_addr = (uint32_t)(uintptr_t)&cm_fround_mode; /* this thread's mode */
    in.item_scratch = (uint32_t)(uintptr_t)itemScratch;
    in.shared_memory = shared;
    cm_wbuf_reset(b);
    double t0 = emscripten_get_now();
    int rc = cm_jit_program(&in, b);
    if (rc)
        fail(rc == -2 ? "out of memory translating a program" : "program out of range");
    int s = cm_jit_js_load_program(b->data, (uint32_t)b->len, ssHandle, slot,
                                   emscripten_get_now() - t0);
    if (s <= 0)
        fail("the runtime could not instantiate a program module");
    slot = s;
}

ProgramFunc *JitCompilerWasm::getProgramFunc()
{
    /* A function pointer in WebAssembly is an index into the function table. */
    return reinterpret_cast<ProgramFunc *>(static_cast<uintptr_t>(slot));
}

DatasetInitFunc *JitCompilerWasm::getDatasetInitFunc()
{
    return &initDataset; /* fast mode only, which this build does not use */
}

} // namespace randomx
