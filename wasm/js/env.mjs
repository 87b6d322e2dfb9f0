// consentminer runtime — the few things that differ between a browser and node:
// reading the wasm file, compiling it, and starting a worker. Everything else in the
// runtime is the same code in both. Nothing here runs until the miner starts.

export const isNode = typeof process === 'object' && typeof process.versions === 'object' &&
  typeof process.versions.node === 'string' && typeof window === 'undefined';

// The wasm file's bytes: fetch() in a browser, the file system for file: URLs in node.
export async function loadBytes(url) {
  const u = new URL(url);
  if (isNode && u.protocol === 'file:') {
    const fs = await import('node:fs/promises');
    return fs.readFile(u);
  }
  const res = await fetch(u, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`${u.href}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

// A compiled WebAssembly.Module, which workers can receive by postMessage and
// instantiate without compiling again.
export async function compileWasm(url) {
  if (!isNode && typeof WebAssembly.compileStreaming === 'function') {
    try {
      return await WebAssembly.compileStreaming(fetch(new URL(url), { credentials: 'same-origin' }));
    } catch {
      // served without application/wasm, or streaming unsupported: compile from bytes
    }
  }
  return WebAssembly.compile(await loadBytes(url));
}

// Starts a module worker and wraps the two kinds (Web Worker, worker_threads) in one
// shape: post(message), terminate(); handlers onmessage(data), onerror(message) and
// onexit() are set by the caller.
export async function spawnWorker(url) {
  const handle = { onmessage: () => {}, onerror: () => {}, onexit: () => {} };
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(new URL(url));
    w.on('message', (data) => handle.onmessage(data));
    w.on('error', (e) => handle.onerror(String(e && e.message || e)));
    w.on('exit', () => handle.onexit());
    handle.post = (msg) => w.postMessage(msg);
    handle.terminate = () => { w.terminate().catch(() => {}); };
    handle.threadId = w.threadId;
    return handle;
  }
  const w = new Worker(url, { type: 'module' });
  w.onmessage = (e) => handle.onmessage(e.data);
  w.onerror = (e) => { e.preventDefault?.(); handle.onerror(String(e.message || 'worker failed to load')); };
  w.onmessageerror = () => handle.onerror('a message could not be deserialised');
  handle.post = (msg) => w.postMessage(msg);
  handle.terminate = () => w.terminate();
  return handle;
}

// Inside a worker: the port to the page (or to node's parent thread).
export async function workerPort() {
  if (typeof WorkerGlobalScope !== 'undefined' && typeof self !== 'undefined') {
    return {
      post: (msg) => self.postMessage(msg),
      listen: (fn) => { self.onmessage = (e) => fn(e.data); },
    };
  }
  const { parentPort } = await import('node:worker_threads');
  return {
    post: (msg) => parentPort.postMessage(msg),
    listen: (fn) => parentPort.on('message', fn),
  };
}

// Whether threads can share memory here: a cross-origin isolated page, or node.
export function canShareMemory() {
  if (typeof SharedArrayBuffer !== 'function') return false;
  if (isNode) return true;
  return globalThis.crossOriginIsolated === true;
}

export function workersAvailable() {
  return isNode || typeof Worker === 'function';
}

// Whether this engine can run the code the wasm JIT generates (wasm/src/jit/): a module
// using SIMD128 (the float registers are f64x2) must validate. Where it does not, the
// runtime hashes with RandomX's interpreter and says so in its state events.
// (module (func (param v128) (result v128) local.get 0 local.get 0 f64x2.add))
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 1, 123, 1, 123,
  3, 2, 1, 0, 10, 11, 1, 9, 0, 32, 0, 32, 0, 253, 240, 1, 11]);
// compile: also compile the probe synchronously, as the JIT does in a worker (a worker's
// Content-Security-Policy without 'wasm-unsafe-eval' forbids it there).
// JavaScriptCore (Safari, WebKitGTK, every browser on iOS): its user agent names AppleWebKit
// but no Chrome/Chromium. Its JIT path gave a wrong official vector in 2 of 9 runs of
// tests/engines (one hash each time; never in Chromium, Firefox or node), so by default
// the runtime hashes with the interpreter there until that is understood (tests/engines
// still runs the JIT there, through the instance, to find out).
export function isJavaScriptCore(ua = globalThis.navigator?.userAgent || '') {
  return /AppleWebKit\//.test(ua) && !/(Chrome|Chromium|HeadlessChrome)\//.test(ua);
}

export function jitSupport({ compile = false } = {}) {
  try {
    if (typeof WebAssembly.Module !== 'function' || typeof WebAssembly.Table !== 'function') {
      return { ok: false, why: 'WebAssembly.Module or WebAssembly.Table is missing' };
    }
    if (!WebAssembly.validate(SIMD_PROBE)) return { ok: false, why: 'this engine has no WebAssembly SIMD128' };
    if (compile) new WebAssembly.Module(SIMD_PROBE);
    return { ok: true, why: '' };
  } catch (e) {
    return { ok: false, why: `WebAssembly feature check failed: ${e.message}` };
  }
}
