#!/usr/bin/env node
// consentminer's wasm build from the command line, for checking and measuring it against
// the native `consentminer` CLI:
//
//   node wasm/cli.mjs hash (--key-text T | --key-hex H) (--input-text I | --input-hex H)
//   node wasm/cli.mjs hash --batch FILE        lines "KEY_HEX INPUT_HEX" ('-': stdin)
//   node wasm/cli.mjs bench [--seconds S] [--threads N] [--shared | --no-shared] [--json]
//   (both take --no-jit: RandomX's interpreter instead of the run-time wasm translators)
//
// Running a command is the consent: it grants a record for its own run only, and core
// refuses to hash without it, here as in the browser.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { grantForRun } from './js/consent.mjs';
import { compileWasm, jitSupport } from './js/env.mjs';
import { fromHex, instantiate, toHex } from './js/instance.mjs';
import { runBench } from './js/bench.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const defaultWasmDir = path.join(here, '..', 'build', 'wasm');

function usage(out) {
  out.write(`usage: node wasm/cli.mjs hash (--key-text T | --key-hex H) (--input-text I | --input-hex H)
       node wasm/cli.mjs hash --batch FILE
       node wasm/cli.mjs bench [--seconds S] [--threads N] [--shared | --no-shared] [--json]

Options for both: --wasm-dir DIR (default build/wasm), --no-jit (RandomX's interpreter
instead of programs translated to wasm at run time; the JIT is used where the engine
has SIMD128, as the browser runtime does), -h/--help.
hash    prints the 64-hex RandomX hash (light mode) of the input under the key; with
        --batch, one hash per line "KEY_HEX INPUT_HEX" of FILE ('-' for stdin), the
        cache rebuilt only when the key changes.
bench   hashes a synthetic job for S seconds (default 20) on N worker threads (default 1)
        and prints the same fields as \`consentminer bench --json\`. --shared: one cache
        shared by all threads (SharedArrayBuffer); --no-shared: one cache per worker
        (default: shared when N > 1).
`);
}

function fail(message, code = 2) {
  process.stderr.write(`wasm/cli.mjs: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv, spec) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') { usage(process.stdout); process.exit(0); }
    const kind = spec[a];
    if (kind === undefined) fail(`unknown option '${a}'`);
    if (kind === 'flag') out[a] = true;
    else {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      out[a] = argv[++i];
    }
  }
  return out;
}

async function loadInstance(wasmDir, jit) {
  const glue = pathToFileURL(path.join(wasmDir, 'consentminer.mjs')).href;
  const wasm = pathToFileURL(path.join(wasmDir, 'consentminer.wasm')).href;
  if (!fs.existsSync(fileURLToPath(wasm))) fail(`${fileURLToPath(wasm)} not found: build with cmake --preset wasm && cmake --build build/wasm`, 1);
  const inst = await instantiate(glue, await compileWasm(wasm));
  inst.setJit(jit && jitSupport().ok);
  inst.consent(grantForRun({ threads: 1, throttle: 100 }));
  return inst;
}

async function cmdHash(argv) {
  const o = parseArgs(argv, {
    '--key-text': 'v', '--key-hex': 'v', '--input-text': 'v', '--input-hex': 'v',
    '--batch': 'v', '--wasm-dir': 'v', '--no-jit': 'flag',
  });
  const wasmDir = o['--wasm-dir'] || defaultWasmDir;
  const jit = !o['--no-jit'];
  if (o['--batch'] !== undefined) return hashBatch(o['--batch'], wasmDir, jit);
  if ((o['--key-text'] === undefined) === (o['--key-hex'] === undefined)) fail('give one of --key-text or --key-hex');
  if ((o['--input-text'] === undefined) === (o['--input-hex'] === undefined)) fail('give one of --input-text or --input-hex');
  let key, input;
  try {
    key = o['--key-hex'] !== undefined ? fromHex(o['--key-hex'], 'key') : new TextEncoder().encode(o['--key-text']);
    input = o['--input-hex'] !== undefined ? fromHex(o['--input-hex'], 'input') : new TextEncoder().encode(o['--input-text']);
  } catch (e) {
    fail(e.message);
  }
  if (key.length < 1 || key.length > 64) fail(`key is ${key.length} bytes; expected 1..64`);
  const inst = await loadInstance(wasmDir, jit);
  try {
    inst.setSeed(key);
    process.stdout.write(toHex(inst.hash(input)) + '\n');
  } catch (e) {
    fail(`${e.name || 'error'}: ${e.message}`, 1);
  }
}

async function hashBatch(file, wasmDir, jit) {
  const inst = await loadInstance(wasmDir, jit);
  const stream = file === '-' ? process.stdin : fs.createReadStream(file);
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  let lastKey = null;
  let n = 0;
  for await (const line of lines) {
    n++;
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const [k, i = ''] = t.split(/\s+/);
    try {
      if (k !== lastKey) {
        inst.setSeed(fromHex(k, `line ${n}: key`));
        lastKey = k;
      }
      process.stdout.write(toHex(inst.hash(fromHex(i, `line ${n}: input`))) + '\n');
    } catch (e) {
      fail(`line ${n}: ${e.message}`, 1);
    }
  }
}

async function cmdBench(argv) {
  const o = parseArgs(argv, {
    '--seconds': 'v', '--threads': 'v', '-t': 'v', '--json': 'flag', '--shared': 'flag',
    '--no-shared': 'flag', '--wasm-dir': 'v', '--no-jit': 'flag',
  });
  const seconds = Number(o['--seconds'] ?? 20);
  const threads = Number(o['--threads'] ?? o['-t'] ?? 1);
  if (!(seconds >= 1 && seconds <= 86400)) fail(`--seconds is '${o['--seconds']}'; expected 1..86400`);
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) fail(`--threads is '${o['--threads'] ?? o['-t']}'; expected 1..256`);
  const shared = o['--shared'] ? 'always' : o['--no-shared'] ? 'never' : threads > 1 ? 'auto' : 'never';
  const wasmDir = o['--wasm-dir'] || defaultWasmDir;
  const result = await benchInProcess({ seconds, threads, shared, wasmDir, jit: o['--no-jit'] ? 'never' : 'auto' });
  if (o['--json']) {
    process.stdout.write(JSON.stringify(result) + '\n');
  } else {
    process.stdout.write(`mode ${result.mode} (wasm ${result.engine}, ${result.shared_cache ? 'one shared cache' : 'one cache per worker'}), ` +
      `${threads} thread${threads === 1 ? '' : 's'}: ${result.hashrate.toFixed(2)} H/s ` +
      `(${result.hashes} hashes in ${result.seconds.toFixed(1)} s); initialisation ${result.init_seconds.toFixed(1)} s\n`);
  }
}

// Native bench's measurement (wasm/js/bench.mjs), plus this process's peak memory.
async function benchInProcess({ seconds, threads, shared, wasmDir, jit }) {
  let peakRss = process.memoryUsage().rss;
  const timer = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  try {
    const r = await runBench({ seconds, threads, shared, jit, wasmUrl: pathToFileURL(path.join(wasmDir, 'consentminer.wasm')).href });
    // The CPU of the whole process over the command (every thread: the workers, V8's
    // background compilers, initialisation), in cores, beside the workers' busy time.
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    return { ...r, peak_rss_mib: Number((peakRss / 1048576).toFixed(1)),
      process_cpu_seconds: Number(cpuSeconds.toFixed(2)),
      process_cpu_cores: Number((cpuSeconds / ((performance.now() - wall0) / 1000)).toFixed(3)) };
  } catch (e) {
    fail(`${e.reason || 'error'}: ${e.message}`, 1);
  } finally {
    clearInterval(timer);
  }
}

const [cmd, ...rest] = process.argv.slice(2);
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (cmd === 'hash') await cmdHash(rest);
  else if (cmd === 'bench') await cmdBench(rest);
  else if (cmd === '-h' || cmd === '--help') usage(process.stdout);
  else { usage(process.stderr); process.exit(2); }
}
