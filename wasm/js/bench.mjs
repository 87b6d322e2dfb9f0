// consentminer runtime — the benchmark loop, shared by `node wasm/cli.mjs bench` and the
// browser page of bench/wasm-bench.mjs: initialise, then count hashes for `seconds`,
// as native `consentminer bench` does, and report the same fields.
import { benchJob, createMiner } from './miner.mjs';
import { grantForRun } from './consent.mjs';

// options: { seconds, threads, shared: 'auto'|'always'|'never', jit: 'auto'|'never', wasmUrl?, wasmBase? }
// Resolves with native bench's JSON fields plus wasm-only ones (shared_cache,
// wasm_memory_mib, cpu_busy, engine, engine_reason, jit: the JIT's counters); rejects with an Error carrying .reason.
export async function runBench({ seconds, threads, shared = 'auto', jit = 'auto', wasmUrl, wasmBase }) {
  const miner = createMiner({ job: benchJob(), wasmUrl, wasmBase, shared, jit, statsIntervalMs: 250 });
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
  const j0 = sumJit(miner.info().jitStats);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const s1 = miner.totals();
  const info = miner.info();
  const j1 = sumJit(info.jitStats);
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
    engine: info.engine, engine_reason: info.engineReason || '',
    // Over the measured interval: program modules translated (C) and compiled +
    // instantiated (JS), per program, and the share of the worker's busy time that took.
    jit: j1 && j0 && j1.programs > j0.programs ? {
      programs: j1.programs - j0.programs,
      emit_ms_per_program: round((j1.programEmitMs - j0.programEmitMs) / (j1.programs - j0.programs), 4),
      compile_ms_per_program: round((j1.programMs - j0.programMs) / (j1.programs - j0.programs), 4),
      bytes_per_program: Math.round((j1.programBytes - j0.programBytes) / (j1.programs - j0.programs)),
      compile_share: round((j1.programMs - j0.programMs + j1.programEmitMs - j0.programEmitMs) / Math.max(1, s1.busyMs - s0.busyMs), 4),
      superscalar_compile_ms: round(j1.superscalarMs, 2), superscalar_emit_ms: round(j1.superscalarEmitMs, 2),
      superscalar_bytes: j1.superscalarBytes,
    } : null,
  };
}

// The JIT counters of all workers (one-thread build; the shared-memory build keeps them in
// its pthreads and reports none).
function sumJit(list) {
  if (!list || !list.length) return null;
  const out = {};
  for (const s of list) for (const [k, v] of Object.entries(s)) out[k] = (out[k] || 0) + v;
  return out;
}

function round(x, digits) {
  return Number(x.toFixed(digits));
}
