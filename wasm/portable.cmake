# The portable C of wasm/src as library targets: the JIT's translators (src/jit: the
# wasm byte writer, SuperscalarHash, RandomX programs in decode / rounding / body / module
# parts, and the float module) and the rounding layer
# (src/fround.c). The wasm build links them into RandomX; the native tests and the
# fuzzers link the same sources built for this machine. Included by wasm/CMakeLists.txt,
# tests/CMakeLists.txt, tests/jit and fuzz/.
set(CM_WASM_SRC ${CMAKE_CURRENT_LIST_DIR}/src)

# cm_add_jit_library(NAME [compile options...])
function(cm_add_jit_library name)
  add_library(${name} STATIC ${CM_WASM_SRC}/jit/wasm_emit.c ${CM_WASM_SRC}/jit/superscalar.c
    ${CM_WASM_SRC}/jit/program_decode.c ${CM_WASM_SRC}/jit/round_emit.c
    ${CM_WASM_SRC}/jit/program_body.c ${CM_WASM_SRC}/jit/program.c
    ${CM_WASM_SRC}/jit/float_module.c)
  target_include_directories(${name} PUBLIC ${CM_WASM_SRC}/jit ${CM_WASM_SRC})
  target_compile_options(${name} PRIVATE ${CM_WARNINGS} ${ARGN})
endfunction()

# cm_add_fround_library(NAME [compile options...]). -ffp-contract=off always: the error-free
# transformations of fround.h are wrong if the compiler fuses a multiply and an add.
function(cm_add_fround_library name)
  add_library(${name} STATIC ${CM_WASM_SRC}/fround.c)
  target_include_directories(${name} PUBLIC ${CM_WASM_SRC})
  target_compile_options(${name} PRIVATE ${CM_WARNINGS} -ffp-contract=off ${ARGN})
endfunction()
