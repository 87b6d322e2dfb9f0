// consentminer runtime — one instance of the wasm build, with its C calls wrapped.
//
// The Emscripten glue is given an already compiled WebAssembly.Module (instantiateWasm),
// so it never fetches anything itself: the runtime decides when bytes are loaded (after
// consent) and compiles them once for all workers.

export class WasmError extends Error {
  constructor(code, name, message) {
    super(message);
    this.code = code;
    this.name = name;
  }
}

// options.cmYield(resume): called at RandomX's yield points when yielding is on (see
// wasm/src/yield.c); call resume() to let the hash or cache fill go on.
export async function instantiate(glueUrl, wasmModule, options = {}) {
  const { default: factory } = await import(glueUrl);
  const state = { aborted: null };
  const M = await factory({
    cmYield: options.cmYield || ((resume) => setTimeout(resume, 0)),
    instantiateWasm(imports, receive) {
      // The module goes along so that the shared-memory build can hand it to its
      // pthread workers.
      WebAssembly.instantiate(wasmModule, imports).then(
        (instance) => receive(instance, wasmModule),
        (err) => { state.aborted = String(err); });
      return {};
    },
    onAbort(what) { state.aborted = String(what); },
    print: () => {},
    printErr: () => {},
  });
  return new Instance(M, state);
}

export class Instance {
  constructor(M, state) {
    this.M = M;
    this.state = state;
  }

  // Picks RandomX's path before the first seed (cm_wasm_set_jit): true for the run-time
  // wasm translators, false for the interpreter. Returns the path in use.
  setJit(on) {
    return this.M._cm_wasm_set_jit(on ? 1 : 0) === 1;
  }

  // The JIT's counters (jit-lib.js): modules compiled and milliseconds spent.
  get jitStats() {
    const s = this.M.cmJitStats;
    if (!s) return null;
    const { item, ...numbers } = s; // a plain copy that postMessage can clone
    return numbers;
  }

  get memoryBytes() {
    return this.M.HEAPU8 ? this.M.HEAPU8.length : 0;
  }

  // Runs fn with NUL-terminated copies of strings in wasm memory, freed afterwards.
  withStrings(strings, fn) {
    const M = this.M;
    const ptrs = strings.map((s) => {
      const n = M.lengthBytesUTF8(s) + 1;
      const p = M._malloc(n);
      if (!p) throw new WasmError(-2, 'CM_E_NOMEM', 'out of memory passing a string to wasm');
      M.stringToUTF8(s, p, n);
      return p;
    });
    try {
      return fn(...ptrs);
    } finally {
      ptrs.forEach((p) => M._free(p));
    }
  }

  withBytes(bytes, fn) {
    const M = this.M;
    const p = M._malloc(bytes.length || 1);
    if (!p) throw new WasmError(-2, 'CM_E_NOMEM', 'out of memory passing bytes to wasm');
    M.HEAPU8.set(bytes, p);
    try {
      return fn(p, bytes.length);
    } finally {
      M._free(p);
    }
  }

  // Throws WasmError for a negative cm_err code; returns rc otherwise.
  check(rc) {
    if (rc < 0) {
      const M = this.M;
      throw new WasmError(rc, M.UTF8ToString(M._cm_wasm_error_name(rc)),
        M.UTF8ToString(M._cm_wasm_error_message()));
    }
    return rc;
  }

  consent(c) {
    return this.check(this.M._cm_wasm_consent(c.granted_at, c.expires_at, c.threads, c.throttle));
  }

  revoke() {
    this.M._cm_wasm_revoke();
  }

  // 1 when the cache was (re)built for this seed, 0 when it already held it.
  setSeed(seed) {
    return this.withBytes(seed, (p, n) => this.check(this.M._cm_wasm_set_seed(p, n)));
  }

  hash(input) {
    const M = this.M;
    const out = M._malloc(32);
    try {
      this.withBytes(input, (p, n) => this.check(M._cm_wasm_hash(p, n, out)));
      return M.HEAPU8.slice(out, out + 32);
    } finally {
      M._free(out);
    }
  }

  // A stratum job for this worker's slice `index` of `count` nonces.
  job(job, { nicehash = false, index = 0, count = 1 } = {}) {
    return this.withStrings([job.blob, job.job_id, job.target, job.seed_hash],
      (b, id, t, s) => this.check(this.M._cm_wasm_job(b, id, t, s, Number(job.height) || 0,
        nicehash ? 1 : 0, index, count)));
  }

  // The same with RandomX's yield points on: the call returns to the event loop every
  // 20 ms (one-thread build only). Only one such call may be under way at a time.
  async setSeedAsync(seed) {
    const M = this.M;
    const p = M._malloc(seed.length || 1);
    M.HEAPU8.set(seed, p);
    M._cm_wasm_set_yield(1);
    try {
      return this.check(await M.ccall('cm_wasm_set_seed', 'number', ['number', 'number'], [p, seed.length], { async: true }));
    } finally {
      M._cm_wasm_set_yield(0);
      M._free(p);
    }
  }

  async mineAsync(max = 1) {
    const M = this.M;
    M._cm_wasm_set_yield(1);
    let rc;
    try {
      rc = await M.ccall('cm_wasm_mine', 'number', ['number'], [max], { async: true });
    } finally {
      M._cm_wasm_set_yield(0);
    }
    return this.mineResult(rc);
  }

  jobSeed() {
    const p = this.M._cm_wasm_job_seed();
    return p ? this.M.HEAPU8.slice(p, p + 32) : null;
  }

  // Hashes up to max nonces: { rc, hashes, shares: [{ nonce, result }] }. rc is 0 or a
  // negative cm_err with name and message (not thrown: the caller decides).
  mine(max = 1) {
    return this.mineResult(this.M._cm_wasm_mine(max));
  }

  mineResult(rc) {
    const M = this.M;
    const hashes = M._cm_wasm_mined();
    const shares = [];
    for (let i = 0, n = M._cm_wasm_share_count(); i < n; i++) {
      const p = M._cm_wasm_share_hash(i);
      shares.push({ nonce: M._cm_wasm_share_nonce(i) >>> 0, result: toHex(M.HEAPU8.subarray(p, p + 32)) });
    }
    const out = { rc, hashes, shares, jobId: M.UTF8ToString(M._cm_wasm_job_id()) };
    if (rc < 0) {
      out.name = M.UTF8ToString(M._cm_wasm_error_name(rc));
      out.message = M.UTF8ToString(M._cm_wasm_error_message());
    }
    return out;
  }

  // Which of the page's mining threads this instance hashes for (from 0): core checks it
  // against the consent's thread ceiling before every hash.
  setThreadIndex(index) {
    return this.check(this.M._cm_wasm_set_thread_index(index));
  }

  setThrottle(pct) {
    return this.check(this.M._cm_wasm_throttle_set(pct));
  }

  throttlePause(busyMs, idleMs) {
    return this.M._cm_wasm_throttle_account(busyMs, idleMs);
  }
}

export function toHex(bytes) {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

export function fromHex(hex, what = 'hex') {
  if (typeof hex !== 'string' || hex.length % 2 || /[^0-9a-fA-F]/.test(hex)) {
    throw new Error(`${what} is not an even number of hex digits`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}

// Stratum's nonce: the 4 blob bytes in hex, little-endian (0x01020304 is "04030201").
export function nonceHex(nonce) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, nonce >>> 0, true);
  return toHex(b);
}
