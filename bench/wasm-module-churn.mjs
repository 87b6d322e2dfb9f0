#!/usr/bin/env node
// consentminer — does V8 give back the memory of WebAssembly modules that are dropped?
//
//   node bench/wasm-module-churn.mjs [ROUNDS] [--eager] [--types K]   (20 rounds of 10,000 modules)
//   node bench/wasm-module-churn.mjs --rate R [--seconds S] [--eager] [--types K]   (R modules a second)
//
// The wasm JIT compiles and drops 8 modules per hash. This script does only that, with
// no consentminer code: it compiles, instantiates, calls once and drops trivial modules
// (one function calling an import, as a program module calls the SuperscalarHash item),
// and prints the process's RSS after a full garbage collection every 10,000 modules, or,
// with --rate, every 15 s while it makes R modules a second (S=200 by default).
// --eager turns V8's lazy compilation off first, as wasm/src/jit/jit-lib.js does in node.
// --types K (default 2; 2 to 10): each module declares K function types (the two it
// uses and K-2 more, all different from each other, the same in every module).
//
// Why that matters, in node 20 (V8 11.3):
//  - with lazy compilation on (node's default), V8 posts four delayed tasks for every
//    module instantiated (lazy-compilation metrics, due 5, 20, 60 and 120 s later), which
//    node keeps on its delayed-task thread (heaptrack: node's DelayedTaskScheduler and
//    V8's InstantiateToInstanceObject hold the memory); compiling alone posts nothing;
//  - V8's type canonicalizer keeps a copy of every function type of every module it
//    compiles, for good, even when the same type was seen before (heaptrack:
//    TypeCanonicalizer::CanonicalizeTypeDef's zone), about 40 bytes a type.
// Measured 2026-11-26 in node 20.20, as fast as it can, lazy (the default), 2 types:
// 110 MiB after 10,000 modules, 195 MiB after 80,000, 231 MiB after 200,000; --rate 1000:
// 130.8 MiB at 45 s, 224.6 MiB at 600 s; --rate 100, about the JIT's own rate: 71.3 MiB at
// 15 s, 82.3 at 600 s, 83.8 at 1200 s. The same two ways with --eager (a variant of this
// loop yielding every 100 modules): RSS 117 -> 138 MiB over 200,000 modules, flat after
// 150,000, where lazy went 136 -> 209 MiB by 100,000. Types: the same variant with
// modules of K types and no import, eager, malloc's bytes in use (glibc's mallinfo2, read
// through a preloaded library that is not part of this project) after 20,000 and 60,000
// modules: 1 type 3.5 -> 4.9 MiB, 6 types 7.7 -> 17.0 MiB (~240 bytes a module, ~40 a
// type). RSS after collection, this script's own reading, does not show that difference
// within 80,000 modules (--eager, 8 rounds: --types 2 122.4 -> 179.2 MiB, --types 7
// 119.1 -> 190.4): its loop does not yield, so freeing lags.
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const args = process.argv.slice(2);
const optNum = (name, dflt) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  if (!(v > 0)) {
    console.error(`wasm-module-churn: ${name} is '${args[i + 1]}'; expected a positive number`);
    process.exit(2);
  }
  return v;
};
const ntypes = Math.floor(optNum('--types', 2));
if (ntypes < 2 || ntypes > 10) {
  console.error(`wasm-module-churn: --types is ${ntypes}; expected 2 (the two types the module uses) to 10`);
  process.exit(2);
}
const positional = args.filter((a, i) => !a.startsWith('--') && !['--types', '--rate', '--seconds'].includes(args[i - 1]));
const rounds = positional.length ? Number(positional[0]) : 20;
if (!(Number.isInteger(rounds) && rounds > 0)) {
  console.error(`wasm-module-churn: ROUNDS is '${positional[0]}'; expected a positive integer`);
  process.exit(2);
}
if (args.includes('--eager')) v8.setFlagsFromString('--no-wasm-lazy-compilation');

const sleb = (v) => { const o = []; for (;;) { const b = v & 0x7f; v >>= 7; const done = (v === 0 && !(b & 0x40)) || (v === -1 && (b & 0x40)); o.push(done ? b : b | 0x80); if (done) return o; } };
const section = (id, bytes) => [id, bytes.length, ...bytes];
const name = (s) => [s.length, ...Buffer.from(s)];

// (module (import "env" "f" (func (param i32 i32))) (func (export "run") i32.const k i32.const 0 call 0)),
// with K-2 more types: type 2+j takes j+1 i64 params.
const extraTypes = [];
for (let j = 0; j < ntypes - 2; j++) extraTypes.push(0x60, j + 1, ...Array(j + 1).fill(0x7e), 0);
function moduleBytes(k) {
  const body = [0, 0x41, ...sleb(k), 0x41, 0, 0x10, 0, 0x0b];
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [ntypes, 0x60, 2, 0x7f, 0x7f, 0, 0x60, 0, 0, ...extraTypes]),
    ...section(2, [1, ...name('env'), ...name('f'), 0, 0]),
    ...section(3, [1, 1]),
    ...section(7, [1, ...name('run'), 0, 1]),
    ...section(10, [1, body.length, ...body])]);
}

const host = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
  ...section(1, [1, 0x60, 2, 0x7f, 0x7f, 0]), ...section(3, [1, 0]), ...section(7, [1, ...name('f'), 0, 0]),
  ...section(10, [1, 2, 0, 0x0b])]))).exports.f;

if (args.includes('--rate')) {
  const rate = optNum('--rate', 0);
  const secs = optNum('--seconds', 200);
  const t0 = Date.now();
  let k = 0;
  let next = 15;
  while (Date.now() - t0 < secs * 1000) {
    const due = Math.floor(((Date.now() - t0) / 1000) * rate);
    while (k < due) new WebAssembly.Instance(new WebAssembly.Module(moduleBytes(k++)), { env: { f: host } }).exports.run();
    await new Promise((r) => setTimeout(r, 5));
    if ((Date.now() - t0) / 1000 >= next) {
      gc();
      console.log(`t ${next} s  modules ${k}  rss after gc ${(process.memoryUsage().rss / 1048576).toFixed(1)} MiB`);
      next += 15;
    }
  }
  process.exit(0);
}

let k = 0;
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < 10000; i++, k++) {
    new WebAssembly.Instance(new WebAssembly.Module(moduleBytes(k)), { env: { f: host } }).exports.run();
  }
  gc();
  console.log(`modules ${k}  rss after gc ${(process.memoryUsage().rss / 1048576).toFixed(1)} MiB`);
}
