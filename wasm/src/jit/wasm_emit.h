/* consentminer — a small WebAssembly binary writer for the run-time translators.
 *
 * Portable C (no Emscripten): the translators run inside the wasm build, and natively in
 * the fuzz target and the unit tests. Only what the translators need: a growable byte
 * buffer, LEB128, the opcodes they use, and the module sections around one or more
 * function bodies. Encodings follow the WebAssembly core specification 2.0, section 5
 * (binary format), and the SIMD128 opcode table (prefix 0xFD).
 */
#ifndef CM_WASM_EMIT_H
#define CM_WASM_EMIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A growable byte buffer. A failed allocation sets oom and makes every later write a
 * no-op, so emitters check once at the end (cm_wbuf_ok). */
typedef struct cm_wbuf {
    uint8_t *data;
    size_t len, cap;
    int oom;
} cm_wbuf;

void cm_wbuf_init(cm_wbuf *b);
void cm_wbuf_free(cm_wbuf *b);
void cm_wbuf_reset(cm_wbuf *b); /* len = 0, keeps the allocation and clears oom */
static inline int cm_wbuf_ok(const cm_wbuf *b) { return !b->oom; }

void cm_w_u8(cm_wbuf *b, uint8_t v);
void cm_w_bytes(cm_wbuf *b, const void *p, size_t n);
void cm_w_u32(cm_wbuf *b, uint32_t v); /* unsigned LEB128 */
void cm_w_s32(cm_wbuf *b, int32_t v);  /* signed LEB128 */
void cm_w_s64(cm_wbuf *b, int64_t v);  /* signed LEB128 */
void cm_w_name(cm_wbuf *b, const char *s);

/* Instructions with immediates. */
void cm_w_i32_const(cm_wbuf *b, int32_t v);
void cm_w_i64_const(cm_wbuf *b, int64_t v);
void cm_w_f64_const(cm_wbuf *b, double v);
void cm_w_v128_const(cm_wbuf *b, uint64_t lo, uint64_t hi);
void cm_w_local(cm_wbuf *b, uint8_t op, uint32_t idx); /* local.get/set/tee */
/* Loads and stores: op, alignment as log2 bytes, offset. */
void cm_w_mem(cm_wbuf *b, uint8_t op, uint32_t align, uint32_t offset);
/* SIMD: 0xFD prefix + u32 opcode; for loads/stores add cm_w_u32 align, offset after. */
void cm_w_simd(cm_wbuf *b, uint32_t op);
/* SIMD lane instructions (extract/replace_lane): opcode then the lane byte. */
void cm_w_simd_lane(cm_wbuf *b, uint32_t op, uint8_t lane);

/* Value types. */
enum { CM_WT_I32 = 0x7F, CM_WT_I64 = 0x7E, CM_WT_F32 = 0x7D, CM_WT_F64 = 0x7C, CM_WT_V128 = 0x7B };

/* Core opcodes the translators use. */
enum {
    CM_OP_UNREACHABLE = 0x00, CM_OP_NOP = 0x01, CM_OP_BLOCK = 0x02, CM_OP_LOOP = 0x03,
    CM_OP_IF = 0x04, CM_OP_ELSE = 0x05, CM_OP_END = 0x0B, CM_OP_BR = 0x0C, CM_OP_BR_IF = 0x0D,
    CM_OP_RETURN = 0x0F, CM_OP_CALL = 0x10, CM_OP_DROP = 0x1A, CM_OP_SELECT = 0x1B,
    CM_OP_LOCAL_GET = 0x20, CM_OP_LOCAL_SET = 0x21, CM_OP_LOCAL_TEE = 0x22,
    CM_OP_I32_LOAD = 0x28, CM_OP_I64_LOAD = 0x29, CM_OP_F64_LOAD = 0x2B,
    CM_OP_I64_LOAD32_S = 0x34, CM_OP_I64_LOAD32_U = 0x35,
    CM_OP_I32_STORE = 0x36, CM_OP_I64_STORE = 0x37, CM_OP_F64_STORE = 0x39,
    CM_OP_I32_CONST = 0x41, CM_OP_I64_CONST = 0x42, CM_OP_F64_CONST = 0x44,
    CM_OP_I32_EQZ = 0x45, CM_OP_I32_EQ = 0x46, CM_OP_I32_NE = 0x47,
    CM_OP_I64_EQZ = 0x50, CM_OP_I64_EQ = 0x51, CM_OP_I64_NE = 0x52,
    CM_OP_I64_LT_S = 0x53, CM_OP_I64_LT_U = 0x54, CM_OP_I64_GT_U = 0x56,
    CM_OP_I32_ADD = 0x6A, CM_OP_I32_SUB = 0x6B, CM_OP_I32_MUL = 0x6C, CM_OP_I32_AND = 0x71,
    CM_OP_I32_OR = 0x72, CM_OP_I32_XOR = 0x73, CM_OP_I32_SHL = 0x74, CM_OP_I32_SHR_U = 0x76,
    CM_OP_I32_ROTR = 0x78,
    CM_OP_I64_ADD = 0x7C, CM_OP_I64_SUB = 0x7D, CM_OP_I64_MUL = 0x7E, CM_OP_I64_DIV_U = 0x80,
    CM_OP_I64_AND = 0x83, CM_OP_I64_OR = 0x84, CM_OP_I64_XOR = 0x85, CM_OP_I64_SHL = 0x86,
    CM_OP_I64_SHR_S = 0x87, CM_OP_I64_SHR_U = 0x88, CM_OP_I64_ROTL = 0x89, CM_OP_I64_ROTR = 0x8A,
    CM_OP_F64_ABS = 0x99, CM_OP_F64_NEG = 0x9A, CM_OP_F64_SQRT = 0x9F, CM_OP_F64_ADD = 0xA0,
    CM_OP_F64_SUB = 0xA1, CM_OP_F64_MUL = 0xA2, CM_OP_F64_DIV = 0xA3,
    CM_OP_I32_WRAP_I64 = 0xA7, CM_OP_I64_EXTEND_I32_S = 0xAC, CM_OP_I64_EXTEND_I32_U = 0xAD,
    CM_OP_F64_CONVERT_I32_S = 0xB7, CM_OP_F64_CONVERT_I64_S = 0xB9,
    CM_OP_I64_REINTERPRET_F64 = 0xBD, CM_OP_F64_REINTERPRET_I64 = 0xBF,
    CM_OP_SIMD = 0xFD
};
/* Block type for blocks and loops with no parameters or results. */
#define CM_BT_EMPTY 0x40

/* SIMD128 opcodes (after 0xFD, as u32 LEB128). */
enum {
    CM_SIMD_V128_LOAD = 0x00, CM_SIMD_V128_STORE = 0x0B, CM_SIMD_V128_CONST = 0x0C,
    CM_SIMD_I8X16_SHUFFLE = 0x0D, CM_SIMD_I64X2_SPLAT = 0x12, CM_SIMD_F64X2_SPLAT = 0x14,
    CM_SIMD_I64X2_EXTRACT_LANE = 0x1D, CM_SIMD_I64X2_REPLACE_LANE = 0x1E,
    CM_SIMD_F64X2_EXTRACT_LANE = 0x21, CM_SIMD_F64X2_REPLACE_LANE = 0x22,
    CM_SIMD_F64X2_EQ = 0x47, CM_SIMD_F64X2_NE = 0x48, CM_SIMD_F64X2_LT = 0x49,
    CM_SIMD_F64X2_GT = 0x4A, CM_SIMD_F64X2_LE = 0x4B, CM_SIMD_F64X2_GE = 0x4C,
    CM_SIMD_V128_NOT = 0x4D, CM_SIMD_V128_AND = 0x4E, CM_SIMD_V128_ANDNOT = 0x4F,
    CM_SIMD_V128_OR = 0x50, CM_SIMD_V128_XOR = 0x51, CM_SIMD_V128_BITSELECT = 0x52,
    CM_SIMD_V128_ANY_TRUE = 0x53,
    CM_SIMD_V128_LOAD64_ZERO = 0x5D,
    CM_SIMD_I64X2_ALL_TRUE = 0xC3, CM_SIMD_I64X2_BITMASK = 0xC4,
    CM_SIMD_I64X2_SHL = 0xCB, CM_SIMD_I64X2_SHR_S = 0xCC, CM_SIMD_I64X2_SHR_U = 0xCD,
    CM_SIMD_I64X2_ADD = 0xCE, CM_SIMD_I64X2_SUB = 0xD1, CM_SIMD_I64X2_MUL = 0xD5,
    CM_SIMD_I64X2_EQ = 0xD6, CM_SIMD_I64X2_NE = 0xD7, CM_SIMD_I64X2_LT_S = 0xD8,
    CM_SIMD_I64X2_GT_S = 0xD9,
    CM_SIMD_F64X2_ABS = 0xEC, CM_SIMD_F64X2_NEG = 0xED, CM_SIMD_F64X2_SQRT = 0xEF,
    CM_SIMD_F64X2_ADD = 0xF0, CM_SIMD_F64X2_SUB = 0xF1, CM_SIMD_F64X2_MUL = 0xF2,
    CM_SIMD_F64X2_DIV = 0xF3,
    CM_SIMD_F64X2_CONVERT_LOW_I32X4_S = 0xFE
};

/* --- modules ---------------------------------------------------------------------- */

/* A function signature: up to 8 params and 8 results. */
typedef struct cm_wtype {
    uint8_t nparams, nresults;
    uint8_t params[8], results[8];
} cm_wtype;

/* An imported function: env.<name> with signature type index `type`. */
typedef struct cm_wimport {
    const char *name;
    uint32_t type;
} cm_wimport;

/* A defined function: its type index, export name (NULL: not exported) and body: the
 * locals declaration and the instructions, ending with CM_OP_END (as cm_wfunc_end
 * writes). Function indices: imports first, then defined functions in order. */
typedef struct cm_wfunc {
    uint32_t type;
    const char *export_name;
    const cm_wbuf *body;
} cm_wfunc;

/* Module shape: env.memory is always imported (min 0 pages; shared memories need a
 * maximum, 65536 pages, which any memory of the main module satisfies). */
typedef struct cm_wmodule {
    const cm_wtype *types;
    uint32_t ntypes;
    const cm_wimport *imports;
    uint32_t nimports;
    const cm_wfunc *funcs;
    uint32_t nfuncs;
    int shared_memory;
} cm_wmodule;

/* Writes the whole module into out (appending). Returns 0, or -1 when out ran out of
 * memory. */
int cm_wmodule_write(const cm_wmodule *m, cm_wbuf *out);

/* Function bodies: a body starts with its locals, as runs of (count, type). */
typedef struct cm_wlocals {
    uint32_t count;
    uint8_t type;
} cm_wlocals;
void cm_wfunc_begin(cm_wbuf *body, const cm_wlocals *runs, uint32_t nruns);
static inline void cm_wfunc_end(cm_wbuf *body) { cm_w_u8(body, CM_OP_END); }

#ifdef __cplusplus
}
#endif
#endif
