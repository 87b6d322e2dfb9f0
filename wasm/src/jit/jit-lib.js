// consentminer — the JS half of the WebAssembly JIT (an Emscripten JS library).
//
// jit_compiler_wasm.cpp translates RandomX code into module bytes in wasm memory; these
// functions compile and instantiate them against the same memory and wire them up:
//  - a SuperscalarHash module per cache seed, whose "item" export program modules import;
//  - a program module per RandomX program, whose "run" export goes into this instance's
//    function table, where C calls it through an ordinary function pointer.
// Compilation is synchronous (new WebAssembly.Module), which browsers allow in workers for
// modules of any size; the runtime only hashes in workers (and in node).
// Old instances are dropped when replaced: the table slot and the handle are the only
// references, so the garbage collector frees their code.
//
// Two V8 settings, set once per process in node before its first program module (a page
// has no say in either; threads share the flags, so they are set, not swapped around each
// module, which would race another thread's instantiation):
//
// Lazy compilation: off (--no-wasm-lazy-compilation). With it on (node 20's default), V8
// posts four delayed tasks for every module instantiated, to report its lazy-compilation
// times 5, 20, 60 and 120 s later; node keeps them on its delayed-task thread, and at 8
// modules a hash the process never gave that memory back: bench/wasm-soak.mjs --minutes 60,
// RSS after collection +12.5% over the hour. Without it, a program module's functions are
// compiled when the module is (all of them run at once anyway) and nothing is posted:
// bench/wasm-module-churn.mjs shows both (measured 2026-11-26; figures there).
// CM_V8_LAZY_COMPILATION=1 in the environment leaves V8's default.
//
// Tier-up budget: raised to 400 M. V8 gives each wasm function a budget (about 1.8 M
// "bytes executed" of baseline code, --wasm-tiering-budget); when a function has spent it,
// V8 compiles it again with its optimizing compiler on a background thread, for its next
// call. A program module spends it early in its 2048 iterations and has no next call:
// that compilation is CPU the machine's owner pays for and nothing uses. Measured
// 2026-11-26 on the 2-core VM: node 20, `node wasm/cli.mjs bench`, 136 ms of CPU a hash
// instead of 85, and on 2 threads 15.8 H/s instead of 27.0 (those compilations took the
// second core); Chromium 156, bench/wasm-bench.mjs, the browser used 1.5 cores for one
// mining thread (1.03 with --js-flags=--wasm-tiering-budget=2000000000). A program module
// uses well under 400 M (100 M was enough in the same measurement); the functions called
// millions of times (SuperscalarHash's item, the float module, this build's AES and
// Blake2b) still reach it within seconds and are optimized. Other wasm in the same process
// tiers up later too. CM_V8_TIER_UP=1 in the environment leaves V8's budget as it is.
mergeInto(LibraryManager.library, {
  $cmJit: {
    ss: {},
    float: null,
    next: 1,
    freeSlots: [],
    stats: {
      programs: 0, programMs: 0, programEmitMs: 0, programBytes: 0,
      superscalar: 0, superscalarMs: 0, superscalarEmitMs: 0, superscalarBytes: 0,
      item: null,
    },
    instantiate: function(ptr, len, env) {
      var bytes = new Uint8Array(wasmMemory.buffer, ptr, len).slice();
      env.memory = wasmMemory;
      return new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: env });
    },
    // node: the two V8 settings at the top of this file, once, before the first program
    // module. A setting given on node's command line or in NODE_OPTIONS is left alone.
    v8FlagsSet: false,
    setV8Flags: function() {
      if (cmJit.v8FlagsSet) return;
      cmJit.v8FlagsSet = true;
      if (!ENVIRONMENT_IS_NODE) return;
      var opts = process.execArgv.concat((process.env.NODE_OPTIONS || '').split(/\s+/));
      var given = function(re) {
        for (var i = 0; i < opts.length; i++) if (re.test(opts[i])) return true;
        return false;
      };
      var flags = [];
      if (process.env.CM_V8_TIER_UP !== '1' && !given(/^--wasm[-_]tiering[-_]budget=/)) {
        flags.push('--wasm-tiering-budget=400000000');
      }
      if (process.env.CM_V8_LAZY_COMPILATION !== '1' && !given(/^--(no-)?wasm[-_]lazy[-_]compilation$/)) {
        flags.push('--no-wasm-lazy-compilation');
      }
      try {
        var v8 = require('v8');
        for (var j = 0; j < flags.length; j++) v8.setFlagsFromString(flags[j]);
      } catch (e) {
        // no node:v8 here: V8 stays as it is
      }
    },
  },
  $cmJit__postset: "Module['cmJitStats'] = cmJit.stats;",

  cm_jit_js_load_superscalar__deps: ['$cmJit'],
  cm_jit_js_load_superscalar: function(ptr, len, old, emitMs) {
    var t0 = performance.now();
    try {
      var inst = cmJit.instantiate(ptr, len, {});
      if (old) delete cmJit.ss[old];
      var h = cmJit.next++;
      cmJit.ss[h] = inst.exports;
      var s = cmJit.stats;
      s.superscalar++;
      s.superscalarMs += performance.now() - t0;
      s.superscalarEmitMs += emitMs;
      s.superscalarBytes = len;
      s.item = inst.exports.item;
      return h;
    } catch (e) {
      err('consentminer wasm JIT: SuperscalarHash module: ' + e);
      return -1;
    }
  },

  cm_jit_js_load_program__deps: ['$cmJit'],
  cm_jit_js_load_program: function(ptr, len, ssHandle, slot, emitMs) {
    var t0 = performance.now();
    try {
      var ss = cmJit.ss[ssHandle];
      if (!ss) throw new Error('no SuperscalarHash instance ' + ssHandle);
      // item4 for program modules with float helpers, item and fround_slow for the others
      // (wasm/src/jit/program.c, cm_jit_program)
      var env = { item: ss.item, item4: ss.item4, fround_slow: Module['asm']['cm_fround_slow'] };
      if (cmJit.float) for (var k in cmJit.float) env[k] = cmJit.float[k];
      cmJit.setV8Flags();
      var inst = cmJit.instantiate(ptr, len, env);
      if (!slot) slot = cmJit.freeSlots.length ? cmJit.freeSlots.pop() : wasmTable.grow(1);
      wasmTable.set(slot, inst.exports.run);
      var s = cmJit.stats;
      s.programs++;
      s.programMs += performance.now() - t0;
      s.programEmitMs += emitMs;
      s.programBytes += len;
      return slot;
    } catch (e) {
      err('consentminer wasm JIT: program module: ' + e);
      return -1;
    }
  },

  // The float module: compiled once per thread, so that V8 optimizes its functions (the
  // program modules, run once each, stay in its baseline compiler).
  cm_jit_js_have_float__deps: ['$cmJit'],
  cm_jit_js_have_float: function() {
    return cmJit.float ? 1 : 0;
  },
  cm_jit_js_load_float__deps: ['$cmJit'],
  cm_jit_js_load_float: function(ptr, len) {
    try {
      var ex = cmJit.instantiate(ptr, len, { fround_slow: Module['asm']['cm_fround_slow'] }).exports;
      cmJit.float = {};
      for (var k in ex) cmJit.float[k] = ex[k];
      return 1;
    } catch (e) {
      err('consentminer wasm JIT: float module: ' + e);
      return -1;
    }
  },

  cm_jit_js_release__deps: ['$cmJit'],
  cm_jit_js_release: function(ssHandle, slot) {
    if (ssHandle) delete cmJit.ss[ssHandle];
    if (slot) {
      wasmTable.set(slot, null);
      cmJit.freeSlots.push(slot);
    }
  },
});
