// consentminer bench — one in-process instance of the wasm build, loaded as
// `node wasm/cli.mjs` loads it, for the measurements that need to reach inside a hash
// (bench/wasm-bench.mjs's dataset share, bench/wasm-soak.mjs's memory samples).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { grantForRun } from '../wasm/js/consent.mjs';
import { compileWasm, jitSupport } from '../wasm/js/env.mjs';
import { fromHex, instantiate } from '../wasm/js/instance.mjs';
import { benchJob } from '../wasm/js/miner.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Resolves with { inst, jit, why }: jit is the path in use (false when asked for the
// interpreter, when the engine lacks SIMD128, or when the build has no JIT; why says which).
export async function loadInstance({ jit = true, wasmDir = path.join(root, 'build', 'wasm') } = {}) {
  const wasm = path.join(wasmDir, 'consentminer.wasm');
  if (!fs.existsSync(wasm)) throw new Error(`${wasm} not found: build with cmake --preset wasm && cmake --build build/wasm`);
  const inst = await instantiate(pathToFileURL(path.join(wasmDir, 'consentminer.mjs')).href,
    await compileWasm(pathToFileURL(wasm).href));
  const support = jitSupport();
  const inUse = inst.setJit(jit && support.ok);
  inst.consent(grantForRun({ threads: 1, throttle: 100 }));
  const why = inUse ? '' : !jit ? 'asked for the interpreter' : !support.ok ? support.why : 'this wasm build has no JIT';
  return { inst, jit: inUse, why };
}

// The synthetic job of `consentminer bench` / runBench: its seed and hashing blob.
export function benchSeedAndBlob() {
  const job = benchJob();
  return { seed: fromHex(job.seed_hash, 'seed'), blob: fromHex(job.blob, 'blob') };
}
