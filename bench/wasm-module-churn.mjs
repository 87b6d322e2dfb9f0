#!/usr/bin/env node
// consentminer — does V8 give back the memory of WebAssembly modules that are dropped?
//
//   node bench/wasm-module-churn.mjs [ROUNDS]          (default 20 rounds of 10,000 modules)
//   node bench/wasm-module-churn.mjs --rate R [--seconds S]   (R modules a second, S=200)
//
// The wasm JIT compiles and drops 8 modules per hash. This script does only that, with
// no consentminer code: it compiles, instantiates, calls once and drops trivial modules
// (one function calling an import, as a program module calls the SuperscalarHash item),
// and prints the process's RSS after a full garbage collection every 10,000 modules, or,
// with --rate, every 15 s while it makes R modules a second.
// Measured 2026-11-26 in node 20.20 (V8 11.3), as fast as it can: 110 MiB after 10,000
// modules, 195 MiB after 80,000, 231 MiB after 200,000. Compiling alone holds nothing;
// each instantiation leaves memory behind. At a steady rate (--rate) it climbs fast for
// about 2 minutes (memory V8 frees later), then keeps growing slowly for good:
// --rate 1000: 130.8 MiB at 45 s, 224.6 MiB at 600 s (600,000 modules); --rate 100, about
// the JIT's own rate: 71.3 MiB at 15 s, 82.3 at 600 s, 83.8 at 1200 s (120,000 modules),
// ~0.1 KB a module. bench/wasm-soak.mjs sees the same with the real modules.
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const rounds = Number((process.argv[2] || '').startsWith('--') ? 20 : process.argv[2] || 20);

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

const rateAt = process.argv.indexOf('--rate');
if (rateAt >= 0) {
  const rate = Number(process.argv[rateAt + 1]);
  const secAt = process.argv.indexOf('--seconds');
  const secs = secAt >= 0 ? Number(process.argv[secAt + 1]) : 200;
  if (!(rate > 0) || !(secs > 0)) {
    console.error('wasm-module-churn: --rate and --seconds take positive numbers');
    process.exit(2);
  }
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
