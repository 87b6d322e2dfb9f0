// consentminer — the JS half of the WebAssembly JIT (an Emscripten JS library).
//
// jit_compiler_wasm.cpp translates RandomX code into module bytes in wasm memory; these
// functions compile and instantiate them against the same memory and wire them up:
//  - a SuperscalarHash module per cache seed, whose "item4" export program modules import;
//  - a program module per RandomX program, whose "run" export goes into this instance's
//    function table, where C calls it through an ordinary function pointer.
// Compilation is synchronous (new WebAssembly.Module), which browsers allow in workers for
// modules of any size; the runtime only hashes in workers (and in node).
// Old instances are dropped when replaced: the table slot and the handle are the only
// references, so the garbage collector frees their code.
//
// Two V8 settings, set once per process in node before its first program module (a page
// has no say in either; threads share the flags, so they are set, not swapped around each
// module, which would race another thread's instantiation). Why each, in short; the
// measurements are in the README's benchmark section and bench/results/:
//
// Lazy compilation off (--no-wasm-lazy-compilation): with it on, V8 posts delayed
// metrics tasks for every module instantiated, which node 20 holds for minutes, so a
// process making 8 modules a hash grows. A program module's functions all run at once, so
// compiling them eagerly costs nothing. CM_V8_LAZY_COMPILATION=1 leaves V8's default.
//
// Tier-up budget raised to 400 M (--wasm-tiering-budget): V8 recompiles a wasm function
// with its optimizing compiler, in the background, once it has run for a while. A program
// module reaches that point within its one call and is then dropped, so that compilation
// is CPU the visitor pays for and nothing uses. Functions called millions of times
// (SuperscalarHash's item, the float module, AES, Blake2b) still reach 400 M within
// seconds and are optimized. CM_V8_TIER_UP=1 leaves V8's budget as it is.
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
      // item4 and the float module's functions (wasm/src/jit/jit.h, cm_jit_program)
      var env = { item4: ss.item4 };
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
