// consentminer tests — the wasm build of the rounding layer against the hardware.
//
//   node tests/wasm/fround-check.mjs TABLE_PROGRAM [COUNT] [WASM_BUILD_DIR]
//
// Runs TABLE_PROGRAM (tests/wasm/fround_table.c built natively) and streams its records
// (op, mode, a, b, hardware result) through wasm/src/fround.c compiled to wasm
// (build/wasm/tests/fround_check.mjs). Prints one line per operation and mode and exits
// non-zero if any result differs from the hardware's.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [table, count = '1000000', buildDir = path.join(here, '..', '..', 'build', 'wasm')] = process.argv.slice(2);
if (!table) {
  console.error('usage: node tests/wasm/fround-check.mjs TABLE_PROGRAM [COUNT] [WASM_BUILD_DIR]');
  process.exit(2);
}
const ops = ['add', 'sub', 'mul', 'div', 'sqrt'];
const modes = ['nearest', 'down', 'up', 'zero'];

const { default: factory } = await import(pathToFileURL(path.join(buildDir, 'tests', 'fround_check.mjs')).href);
const M = await factory({ wasmBinary: fs.readFileSync(path.join(buildDir, 'tests', 'fround_check.wasm')) });

const REC = 32;
const CHUNK = 65536;
const buf = M._malloc(REC * CHUNK);
const firstPtr = M._malloc(4);
const counts = new Map(); // "op mode" -> [checked, bad]
let shown = 0;

function check(bytes) {
  const n = bytes.length / REC;
  M.HEAPU8.set(bytes, buf);
  const bad = M._fround_check(buf, n, firstPtr);
  // tally per op/mode (records arrive grouped, but count each to be safe)
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) {
    const key = `${dv.getUint32(i * REC, true)} ${dv.getUint32(i * REC + 4, true)}`;
    const c = counts.get(key) || [0, 0];
    c[0]++;
    counts.set(key, c);
  }
  if (bad) {
    // find and report the failing records (rare: only on failure)
    for (let i = 0; i < n; i++) {
      const op = dv.getUint32(i * REC, true);
      const mode = dv.getUint32(i * REC + 4, true);
      const a = dv.getFloat64(i * REC + 8, true);
      const b = dv.getFloat64(i * REC + 16, true);
      const want = dv.getFloat64(i * REC + 24, true);
      const got = M._fround_one(op, a, b, mode);
      const same = (Number.isNaN(got) && Number.isNaN(want)) || Object.is(got, want);
      if (!same) {
        counts.get(`${op} ${mode}`)[1]++;
        if (shown++ < 10) console.error(`MISMATCH ${ops[op]} ${modes[mode]}: a=${a} b=${b} hardware=${want} wasm=${got}`);
      }
    }
  }
}

const child = spawn(table, [count], { stdio: ['ignore', 'pipe', 'inherit'] });
let pending = Buffer.alloc(0);
for await (const data of child.stdout) {
  pending = pending.length ? Buffer.concat([pending, data]) : data;
  const whole = Math.floor(pending.length / REC) * REC;
  for (let off = 0; off + REC <= whole; off += REC * CHUNK) {
    check(pending.subarray(off, Math.min(whole, off + REC * CHUNK)));
  }
  pending = Buffer.from(pending.subarray(whole));
}
const code = await new Promise((resolve) => child.on('close', resolve));
if (code !== 0) {
  console.error(`fround-check: ${table} exited with ${code}`);
  process.exit(1);
}

let total = 0;
let totalBad = 0;
for (let op = 0; op < 5; op++) {
  for (let mode = 0; mode < 4; mode++) {
    const [n, bad] = counts.get(`${op} ${mode}`) || [0, 0];
    total += n;
    totalBad += bad;
    console.log(`${bad ? 'FAIL' : 'ok  '} ${ops[op].padEnd(4)} ${modes[mode].padEnd(7)} ${n} operands, ${bad} differ from the hardware`);
  }
}
const expected = 20 * Number(count);
if (total !== expected) {
  console.error(`fround-check: checked ${total} records, expected ${expected}`);
  process.exit(1);
}
console.log(`fround-check: wasm rounding ${totalBad ? 'DIFFERS from' : 'matches'} the hardware on ${total} operations`);
process.exit(totalBad ? 1 : 0);
