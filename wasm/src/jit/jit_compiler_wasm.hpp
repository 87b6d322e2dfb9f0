/* consentminer — RandomX's JitCompiler for WebAssembly (see wasm/patches/0003-wasm-jit.patch).
 *
 * Same interface as RandomX's x86 and ARM64 compilers, so RandomX's CompiledLightVm runs
 * it unchanged. Instead of machine code it writes WebAssembly modules (program.c,
 * superscalar.c) that the JS runtime compiles and instantiates against this module's
 * memory (jit-lib.js): the SuperscalarHash module once per cache seed, a program module
 * per RandomX program. A program's "run" export is put into this module's function
 * table, so getProgramFunc() returns an ordinary function pointer that RandomX calls.
 *
 * Light mode only: fast mode's 2080 MiB dataset does not fit a 32-bit WebAssembly memory.
 * One compiler belongs to one VM and is used from one thread (the table and the JS
 * instances are per thread in the shared-memory build).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common.hpp"

namespace randomx {

class Program;
struct ProgramConfiguration;
class SuperscalarProgram;

class JitCompilerWasm {
  public:
    JitCompilerWasm();
    ~JitCompilerWasm();
    JitCompilerWasm(const JitCompilerWasm &) = delete;
    JitCompilerWasm &operator=(const JitCompilerWasm &) = delete;

    void generateProgram(Program &, ProgramConfiguration &);
    void generateProgramLight(Program &program, ProgramConfiguration &config,
                              uint32_t datasetOffset);
    template <size_t N>
    void generateSuperscalarHash(SuperscalarProgram (&programs)[N],
                                 std::vector<uint64_t> &reciprocals) {
        static_assert(N == RANDOMX_CACHE_ACCESSES, "one program per cache access");
        setSuperscalar(programs, &reciprocals);
    }
    void generateDatasetInitCode() {}
    void setCacheMemory(uint8_t *memory) { cacheMemory = memory; }
    ProgramFunc *getProgramFunc();
    DatasetInitFunc *getDatasetInitFunc();
    uint8_t *getCode() { return nullptr; }
    size_t getCodeSize() { return 0; }
    void enableWriting() {}
    void enableExecution() {}
    void enableAll() {}

  private:
    void setSuperscalar(SuperscalarProgram *programs, std::vector<uint64_t> *reciprocals);
    void loadSuperscalar();

    SuperscalarProgram *ssPrograms = nullptr;
    std::vector<uint64_t> *ssReciprocals = nullptr;
    uint8_t *cacheMemory = nullptr;
    bool ssStale = false;
    int ssHandle = 0;   /* the JS runtime's handle of the SuperscalarHash instance */
    int slot = 0;       /* function table index of the current program's "run" */
    void *buffer;       /* a cm_wbuf, reused for every module */
    uint64_t *itemScratch; /* 64 bytes the SuperscalarHash module writes an item to */
};

} // namespace randomx
