#!/usr/bin/env node
// consentminer — does V8 give back the memory of WebAssembly modules that are dropped?
//
//   node bench/wasm-module-churn.mjs [ROUNDS]      (default 20 rounds of 10,000 modules)
//
// The wasm JIT compiles and drops 8 modules per hash. This script does only that, with
// no consentminer code: it compiles, instantiates, calls once and drops trivial modules
// (one function calling an import, as a program module calls the SuperscalarHash item),
// and prints the process's RSS after a full garbage collection every 10,000 modules.
// Measured 2026-11-26 in node 20.20 (V8 11.3): 110 MiB after 10,000 modules, 195 MiB
// after 80,000, 231 MiB after 200,000 — it grows with the number of modules compiled,
// as bench/wasm-soak.mjs sees with the real ones.
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const rounds = Number(process.argv[2] || 20);

const sleb = (v) => { const o = []; for (;;) { const b = v & 0x7f; v >>= 7; const done = (v === 0 && !(b & 0x40)) || (v === -1 && (b & 0x40)); o.push(done ? b : b | 0x80); if (done) return o; } };
const section = (id, bytes) => [id, bytes.length, ...bytes];
const name = (s) => [s.length, ...Buffer.from(s)];

// (module (import "env" "f" (func (param i32 i32))) (func (export "run") i32.const k i32.const 0 call 0))
function moduleBytes(k) {
  const body = [0, 0x41, ...sleb(k), 0x41, 0, 0x10, 0, 0x0b];
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [2, 0x60, 2, 0x7f, 0x7f, 0, 0x60, 0, 0]),
    ...section(2, [1, ...name('env'), ...name('f'), 0, 0]),
    ...section(3, [1, 1]),
    ...section(7, [1, ...name('run'), 0, 1]),
    ...section(10, [1, body.length, ...body])]);
}

const host = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
  ...section(1, [1, 0x60, 2, 0x7f, 0x7f, 0]), ...section(3, [1, 0]), ...section(7, [1, ...name('f'), 0, 0]),
  ...section(10, [1, 2, 0, 0x0b])]))).exports.f;

let k = 0;
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < 10000; i++, k++) {
    new WebAssembly.Instance(new WebAssembly.Module(moduleBytes(k)), { env: { f: host } }).exports.run();
  }
  gc();
  console.log(`modules ${k}  rss after gc ${(process.memoryUsage().rss / 1048576).toFixed(1)} MiB`);
}
