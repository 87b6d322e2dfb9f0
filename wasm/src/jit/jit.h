/* consentminer — RandomX to WebAssembly translators.
 *
 * Portable C: each function turns RandomX code into the bytes of a WebAssembly module;
 * the wasm build's JS runtime compiles and instantiates those bytes against the main
 * module's memory (wasm/src/jit/jit-lib.js). Natively the same functions run in the fuzz
 * target and the translator tests.
 *
 * Safety: every memory access in the generated code goes to an address formed as
 * base + (value & mask) + small offset, where base and mask come from these inputs (the
 * trusted C side), never from the program; so a RandomX program, whatever its bytes,
 * reads and writes only the scratchpad, the register file, the memory registers, the
 * rounding-mode cell and the item scratch, and reads only the cache.
 */
#ifndef CM_JIT_H
#define CM_JIT_H

#include <stddef.h>
#include <stdint.h>

#include "wasm_emit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One RandomX instruction, laid out as randomx::Instruction (8 bytes). */
typedef struct cm_jit_instr {
    uint8_t opcode, dst, src, mod;
    uint32_t imm32;
} cm_jit_instr;

/* --- SuperscalarHash (specs.md 7.3, 7.4): one module per cache seed -----------------
 *
 * The module exports "item": (func (param $item i32) (param $out i32)), which writes
 * dataset item number $item (64 bytes, 8 little-endian u64) to memory at $out, exactly as
 * RandomX's initDatasetItem does (dataset.cpp), and "item4": the same with two more
 * params, ignored (func (param i32 i32 i32 i64)), run's type. */
typedef struct cm_jit_ss_input {
    const cm_jit_instr *code[8]; /* the 8 programs (RANDOMX_CACHE_ACCESSES) */
    uint32_t size[8];            /* instructions in each (at most 512) */
    uint32_t addr_reg[8];        /* each program's address register (0..7) */
    const uint64_t *reciprocals; /* IMUL_RCP's imm32 indexes this array */
    uint32_t nreciprocals;
    uint32_t cache_base;      /* address of the cache memory in linear memory */
    uint32_t cache_line_mask; /* cache lines - 1 (a power of two minus one) */
    int shared_memory;        /* import env.memory as shared */
} cm_jit_ss_input;

/* Returns 0 with the module appended to out; -1 for an input out of range (a register
 * above 7, a reciprocal index past the array, a size above 512), -2 when out of memory. */
int cm_jit_superscalar(const cm_jit_ss_input *in, cm_wbuf *out);

/* --- a RandomX program (specs.md 4.6, 5): one module per program ----------------------
 *
 * Imports, in this order (two function types in all, see program.c, write_module):
 *   env.memory
 *   env.item4:      (func (param i32 i32 i32 i64))     the SuperscalarHash module's "item4"
 *   env.fadd, env.fsub, env.fmul, env.fdiv, env.fdiv_any, env.fsqrt: the float module's
 *                   functions (cm_jit_float), which do the program's exact rounding
 * Exports "run": (func (param $reg i32) (param $mem i32) (param $sp i32) (param $iters i64))
 * with the meaning of randomx::ProgramFunc in light mode: $reg is a randomx::RegisterFile
 * (r[8] at 0, f[4] at 64, e[4] at 128, a[4] at 192; a is read), $mem a
 * randomx::MemoryRegisters (mx u32 at 0, ma u32 at 4; read at entry, written at exit),
 * $sp the scratchpad. It runs $iters iterations of the loop in specs.md 4.6.2, with the
 * integer registers starting at 0 (as vm_interpreted.cpp), reads dataset items through
 * env.item4 at item_scratch, and leaves r, f, e in the register file. The rounding mode
 * (0..3, fround.h's numbering = RandomX's fprc) is read from mode_addr at entry and
 * written there at exit. Results are bit-identical to RandomX's interpreter. The float
 * registers are SIMD128 values: the runtime uses this translator only where the engine
 * validates SIMD128, and RandomX's interpreter elsewhere. */
typedef struct cm_jit_prog_input {
    const cm_jit_instr *code; /* RANDOMX_PROGRAM_SIZE instructions */
    uint32_t size;
    uint64_t emask[2];       /* randomx::ProgramConfiguration::eMask */
    uint32_t read_reg[4];    /* ProgramConfiguration::readReg0..3 */
    uint32_t dataset_offset; /* the VM's datasetOffset (bytes) */
    uint32_t mode_addr;      /* address of the u32 rounding mode */
    uint32_t item_scratch;   /* 64 bytes the item function may write */
    int shared_memory;
} cm_jit_prog_input;

/* Returns 0 with the module appended to out; -1 for an input out of range, -2 when out
 * of memory. */
int cm_jit_program(const cm_jit_prog_input *in, cm_wbuf *out);

/* --- the float module: correctly rounded f64x2 operations, one module per thread -------
 *
 * Why: V8 compiles each program module with its baseline compiler (Liftoff) and runs it
 * once, never tiering it up (its optimizing compile costs more than the run); inline
 * exact rounding is most of a program's code, and runs several times slower there than
 * in optimized code. The float module is compiled once, gets hot and is optimized, and
 * program modules call it. Imports env.memory (unused) and env.fround_slow; exports
 * fadd, fsub, fmul, fdiv, fdiv_any, fsqrt: (func (param $x v128) (param $y v128)
 * (param $mode i32) (result v128)), x op y (fsqrt: sqrt x) per f64 lane, rounded in mode
 * (0..3) exactly as fround.h; fdiv takes a positive divisor of FDIV_M's range under
 * RandomX's eMask, fdiv_any any. Returns 0, -1 (out NULL) or -2 (out of memory). */
int cm_jit_float(int shared_memory, cm_wbuf *out);

#ifdef __cplusplus
}
#endif
#endif
