// consentminer tests — the wasm half of the RandomX program translator's differential
// test. prog_ref (tests/jit/prog_ref.cpp) runs RandomX's interpreter on random programs
// and translates each with cm_jit_program; this script runs every module in node against
// a memory holding the same initial state and compares r, f, e, the scratchpad, mx, ma and
// the rounding mode bit for bit.
//
// Usage: node run_prog.mjs PROG_REF FROUND_WASM [--long] [--count N] [--seed S]
//   FROUND_WASM: wasm/src/fround.c built with emcc; its cm_fround_slow is env.fround_slow.
//   WASM_VALIDATE (env): wabt's wasm-validate, run on the first module of every batch.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const argv = process.argv.slice(2);
if (argv.length < 2) {
  console.error('usage: node run_prog.mjs PROG_REF FROUND_WASM [--long] [--count N] [--seed S]');
  process.exit(2);
}
const [refExe, froundPath] = argv;
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
// 600 programs keep the CI run near 30 s; --long is for a soak.
const count = Number(opt('--count', argv.includes('--long') ? 9000 : 600));
const seed0 = BigInt(opt('--seed', '20240611'));
const BATCH = 10;
const ITERS = 2048n;

const fround = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(froundPath)), {});
const froundSlow = fround.exports.cm_fround_slow;
// The float module (cm_jit_float) that the programs import; its fround_slow is
// counted like the programs' own.
const floatRes = spawnSync(refExe, ['float'], { maxBuffer: 1 << 24 });
if (floatRes.status !== 0) { console.error(`prog_ref float failed: ${floatRes.stderr}`); process.exit(1); }
let floatHelpers = null;

// The dataset stand-in and the scratchpad fill, as prog_ref.cpp.
const fmix32 = (h) => {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
};

const PAGES = 40;
const memory = new WebAssembly.Memory({ initial: PAGES });
const u8 = new Uint8Array(memory.buffer);
const u32 = new Uint32Array(memory.buffer);

const stats = { programs: 0, slow: 0, slowPrograms: 0, infPrograms: 0, slowInf: 0,
  compileMs: 0, runMs: 0, bytes: 0, maxBytes: 0, modes: [0, 0, 0, 0] };
let slowHere = 0, infHere = false;
function itemStandIn(n, out) {
  for (let k = 0; k < 16; k++) u32[(out >>> 2) + k] = fmix32((n * 16 + k + 0x1234567) >>> 0);
}
const env = (lay) => ({
  memory,
  ...floatHelpers,
  item4: itemStandIn, // the SuperscalarHash module's item with run's type
  fround_slow(op, a, b, r, mode) {
    slowHere++;
    if (!Number.isFinite(a) || !Number.isFinite(r)) { infHere = true; stats.slowInf++; }
    return froundSlow(op, a, b, r, mode);
  },
});

const hex = (buf) => Buffer.from(buf).toString('hex');
let failures = 0;

function check(name, got, want, what) {
  if (Buffer.compare(Buffer.from(got), Buffer.from(want)) === 0) return true;
  let i = 0;
  while (got[i] === want[i]) i++;
  const at = i & ~7;
  console.error(`FAIL ${name}: ${what} differs at byte ${i}: got ${hex(got.slice(at, at + 8))}` +
    ` want ${hex(want.slice(at, at + 8))}`);
  failures++;
  return false;
}

function runBatch(seed, n, dir) {
  const res = spawnSync(refExe, [String(seed), String(n)],
    { maxBuffer: 1 << 30 });
  if (res.status !== 0) {
    console.error(`prog_ref failed (${res.status}): ${res.stderr}`);
    process.exit(1);
  }
  const out = res.stdout;
  let pos = 0;
  const rd32 = () => { const v = out.readUInt32LE(pos); pos += 4; return v; };
  const take = (k) => { const b = out.subarray(pos, pos + k); pos += k; return b; };
  for (let p = 0; p < n; p++) {
    if (rd32() !== 0x50524f47) throw new Error('bad record');
    const lay = { reg: rd32(), mem: rd32(), mode: rd32(), item: rd32(), sp: rd32() };
    const mod = take(rd32());
    const padSeed = rd32(), mode0 = rd32(), mx0 = rd32(), ma0 = rd32();
    const a = take(64);
    const wantRegs = take(192);
    const wantMx = rd32(), wantMa = rd32(), wantMode = rd32();
    const wantPad = take(2097152);
    const name = `seed ${seed} #${p}`;
    // A program module declares two function types (program.c, write_module: node 20's
    // V8 keeps every type of every module it compiles). The type section comes first:
    // id 1, its size (LEB128), then the count.
    {
      let at = 9;
      while (mod[at] & 0x80) at++;
      const ntypes = mod[8] === 1 ? mod[at + 1] : -1;
      if (ntypes !== 2) {
        console.error(`FAIL ${name}: ${ntypes} function types, want 2`);
        failures++;
      }
    }

    if (p === 0 && process.env.WASM_VALIDATE) {
      const f = join(dir, 'prog.wasm');
      writeFileSync(f, mod);
      const v = spawnSync(process.env.WASM_VALIDATE, ['--enable-all', f]);
      if (v.status !== 0) {
        console.error(`FAIL ${name}: wasm-validate: ${v.stderr}${v.stdout}`);
        failures++;
      }
    }

    // Everything outside the regions the contract allows (jit.h) holds a pattern that must
    // survive the run: a write anywhere else in memory fails the test (reads past the
    // memory's end trap).
    u8.fill(0xA5, 0, lay.sp);
    u8.fill(0xA5, lay.sp + 2097152);
    for (let i = 0; i < 524288; i++) u32[(lay.sp >>> 2) + i] = fmix32((padSeed ^ Math.imul(i, 0x9E3779B9)) >>> 0);
    u8.set(a, lay.reg + 192);
    u32[lay.mem >>> 2] = mx0;
    u32[(lay.mem >>> 2) + 1] = ma0;
    u32[lay.mode >>> 2] = mode0;

    slowHere = 0;
    infHere = false;
    const t0 = performance.now();
    const m = new WebAssembly.Module(mod);
    const inst = new WebAssembly.Instance(m, { env: env(lay) });
    const t1 = performance.now();
    inst.exports.run(lay.reg, lay.mem, lay.sp, ITERS);
    const t2 = performance.now();
    stats.compileMs += t1 - t0;
    stats.runMs += t2 - t1;
    stats.bytes += mod.length;
    stats.maxBytes = Math.max(stats.maxBytes, mod.length);
    stats.programs++;
    stats.slow += slowHere;
    if (slowHere) stats.slowPrograms++;
    if (infHere) stats.infPrograms++;
    stats.modes[wantMode]++;

    const allowed = [[lay.reg, 256], [lay.mem, 8], [lay.mode, 4], [lay.item, 64], [lay.sp, 2097152]];
    for (let i = 0; i < u8.length; i++) {
      if (u8[i] === 0xA5) continue;
      const region = allowed.find(([at, n]) => i >= at && i < at + n);
      if (region) { i = region[0] + region[1] - 1; continue; }
      console.error(`FAIL ${name}: the program wrote byte ${i}, outside its scratchpad, registers and scratch`);
      failures++;
      break;
    }
    check(name, u8.subarray(lay.reg, lay.reg + 192), wantRegs, 'register file (r, f, e)') &&
      check(name, u8.subarray(lay.mem, lay.mem + 8),
        Buffer.from(new Uint32Array([wantMx, wantMa]).buffer), 'mx, ma') &&
      check(name, u8.subarray(lay.mode, lay.mode + 4),
        Buffer.from(new Uint32Array([wantMode]).buffer), 'rounding mode') &&
      check(name, u8.subarray(lay.sp, lay.sp + 2097152), wantPad, 'scratchpad');
    if (failures > 5) {
      console.error('too many failures');
      process.exit(1);
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'cm-prog-'));
const tStart = performance.now();
floatHelpers = new WebAssembly.Instance(new WebAssembly.Module(floatRes.stdout), {
  env: { memory, fround_slow: (...a) => env(null).fround_slow(...a) },
}).exports;
if (process.env.WASM_VALIDATE) {
  const f = join(tmpdir(), `cm-float-${process.pid}.wasm`);
  writeFileSync(f, floatRes.stdout);
  const v = spawnSync(process.env.WASM_VALIDATE, ['--enable-all', f]);
  if (v.status !== 0) { console.error(`FAIL float module: wasm-validate: ${v.stderr}${v.stdout}`); failures++; }
}
for (let done = 0; done < count; done += BATCH) {
  runBatch(seed0 + BigInt(done), Math.min(BATCH, count - done), dir);
}
rmSync(dir, { recursive: true, force: true });
const per = (x) => (x / stats.programs).toFixed(2);
console.log(`${stats.programs} programs, ` +
  `${((performance.now() - tStart) / 1000).toFixed(1)} s: ${failures} failed`);
console.log(`slow rounding: ${stats.slow} calls in ${stats.slowPrograms} programs; ` +
  `${stats.infPrograms} programs reached infinity (${stats.slowInf} slow calls on infinities)`);
console.log(`final rounding modes ${stats.modes.join('/')}; module ${per(stats.bytes)} bytes ` +
  `average, ${stats.maxBytes} max; compile+instantiate ${per(stats.compileMs)} ms, ` +
  `run (2048 iterations) ${per(stats.runMs)} ms per program`);
process.exit(failures ? 1 : 0);
