// consentminer runtime — the benchmark loop, shared by `node wasm/cli.mjs bench` and the
// browser page of bench/wasm-bench.mjs: initialise, then count hashes for `seconds`,
// as native `consentminer bench` does, and report the same fields.
import { benchJob, createMiner } from './miner.mjs';
import { grantForRun } from './consent.mjs';

// options: { seconds, threads, shared: 'auto'|'always'|'never', wasmUrl?, wasmBase? }
// Resolves with native bench's JSON fields plus wasm-only ones (shared_cache,
// wasm_memory_mib, cpu_busy); rejects with an Error carrying .reason.
export async function runBench({ seconds, threads, shared = 'auto', wasmUrl, wasmBase }) {
  const miner = createMiner({ job: benchJob(), wasmUrl, wasmBase, shared, statsIntervalMs: 250 });
  let error = null;
  miner.addEventListener('error', (e) => { if (e.detail.fatal) error = e.detail; });
  const t0 = performance.now();
  try {
    await miner.start(grantForRun({ threads, throttle: 100 }));
    await miner.ready();
  } catch (e) {
    miner.stop();
    throw Object.assign(new Error((error && error.message) || e.message), { reason: (error && error.reason) || e.reason });
  }
  const initSeconds = (performance.now() - t0) / 1000;
  // Counters arrive from the workers a few times a second; wait for the first ones.
  await new Promise((r) => setTimeout(r, 300));
  const s0 = miner.totals();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const s1 = miner.totals();
  const info = miner.info();
  miner.stop();
  if (error) throw Object.assign(new Error(error.message), { reason: error.reason });
  const secs = (s1.time - s0.time) / 1000;
  const hashes = s1.hashes - s0.hashes;
  return {
    mode: 'light', threads, hashes, seconds: round(secs, 3),
    hashrate: round(secs > 0 ? hashes / secs : 0, 2),
    init_seconds: round(initSeconds, 3), large_pages: false, huge_pages: 'none', interrupted: false,
    shared_cache: info.shared, wasm_memory_mib: round(info.memoryBytes / 1048576, 1),
    cpu_busy: round((s1.busyMs - s0.busyMs) / (s1.time - s0.time) / threads, 3),
  };
}

function round(x, digits) {
  return Number(x.toFixed(digits));
}
