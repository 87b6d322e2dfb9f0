// consentminer runtime — a worker: the core's mining loop in wasm, driven by messages.
//
// Two kinds, chosen by the page in the 'init' message:
//  - 'single': this worker is one mining thread with its own module instance and its own
//    RandomX cache (no shared memory). It hashes one nonce per call into wasm, so that
//    between hashes it can read messages (new job, pause, throttle) and measure its busy
//    time: performance.now() around each call, never derived from the setting.
//  - 'shared': this worker is the controller of the shared-memory build; its mining
//    threads are pthreads (Web Workers that Emscripten starts) hashing from one cache.
//    It relays jobs and settings and polls the threads' counters and shares.
// Stopping is always the page terminating this worker (and with it, its pthreads).
//
// Messages in:  init {kind, glueUrl, module, consent, index, count, threads, throttle, jit},
//               job {job, nicehash, index, count}, throttle {pct}, threads {n},
//               pause {}, resume {}, revoke {}, consent {consent} (a renewed record)
// Messages out: ready {jit (the RandomX path in use), jitReason (why not the JIT), stop
//                      handle of the shared build},
//               state {state: 'initializing'|'mining'|'waiting'|'paused'},
//               stats {hashes, busyMs, time, threads: [{hashes, busyMs}], memoryBytes,
//                      jit (one-thread build: the JIT's counters, jit-lib.js)},
//               share {job_id, nonce, result}, error {reason, message, fatal}
import { jitSupport, workerPort } from './env.mjs';
import { instantiate, nonceHex, toHex, WasmError } from './instance.mjs';

const port = await workerPort();
const STATS_MS = 500;
const CONSENT_ERRORS = { CM_E_NO_CONSENT: 'no-consent', CM_E_CONSENT_EXPIRED: 'consent-expired', CM_E_CONSENT_REVOKED: 'consent-revoked', CM_E_CONSENT_INVALID: 'consent-invalid', CM_E_CONSENT_EXCEEDED: 'consent-exceeded' };

let engine = null;
let instance = null; // the module instance whose consent record core checks

function post(msg) {
  port.post(msg);
}

function report(err, fallbackReason, fatal = true) {
  const name = err && err.name;
  let reason = fallbackReason;
  if (CONSENT_ERRORS[name]) reason = CONSENT_ERRORS[name];
  else if (name === 'CM_E_NOMEM') reason = 'not-enough-memory';
  else if (typeof name === 'string' && /^CM_E_(HEX|BLOB|NONCE_OFFSET|JOB_ID|TARGET|SEED_HASH|HEIGHT|ALGO)/.test(name)) reason = 'bad-job';
  post({ type: 'error', reason, message: String((err && err.message) || err), code: name, fatal });
}

// Runs fn as a new task, after pending messages and timers. Nested setTimeout(0) is
// clamped to 4 ms in browsers, so a MessageChannel there; node drains a MessagePort's
// whole queue before its timers run, so setImmediate there.
function zeroDelay() {
  if (typeof setImmediate === 'function') return (fn) => setImmediate(fn);
  const ch = new MessageChannel();
  const queue = [];
  ch.port1.onmessage = () => { const f = queue.shift(); if (f) f(); };
  return (fn) => { queue.push(fn); ch.port2.postMessage(0); };
}

// ---- one mining thread, its own cache ------------------------------------------------
// One loop does every call into wasm that can take long (cache fill, hashing), so at most
// one of them is under way (Asyncify allows one). RandomX yields to the event loop every
// 20 ms inside those calls (wasm/src/yield.c): messages are handled meanwhile, a pause
// holds the hash where it is, and a terminate from the page takes effect at once.
class SingleEngine {
  constructor(msg) {
    this.index = msg.index;
    this.count = msg.count;
    this.throttlePct = msg.throttle;
    this.paused = false;
    this.exhausted = false;
    this.job = null;        // the job being mined
    this.pendingJob = null; // the next one, applied between calls into wasm
    this.seedHex = '';
    this.hashes = 0;
    this.busyMs = 0;
    this.suspendedMs = 0;   // time a call spent yielded (not busy)
    this.dead = false;
    this.held = null;       // a yield's resume while paused
    this.wakeUp = null;
    this.yieldNow = zeroDelay();
  }

  // Module.cmYield: RandomX reached a yield point.
  onYield(resume) {
    const t0 = performance.now();
    const go = () => { this.suspendedMs += performance.now() - t0; resume(); };
    if (this.paused) this.held = go;
    else this.yieldNow(go);
  }

  start(inst) {
    this.inst = inst;
    inst.setThreadIndex(this.index);
    inst.setThrottle(this.throttlePct);
    this.statsTimer = setInterval(() => this.postStats(), STATS_MS);
    this.loop().catch((e) => this.fatal(e, 'worker-failed'));
  }

  postStats() {
    post({ type: 'stats', hashes: this.hashes, busyMs: this.busyMs, time: performance.now(), memoryBytes: this.inst.memoryBytes,
      threads: [{ hashes: this.hashes, busyMs: this.busyMs }], jit: this.inst.jitStats });
  }

  wake() {
    const w = this.wakeUp;
    this.wakeUp = null;
    if (w) w();
  }

  sleep(ms) {
    return new Promise((resolve) => {
      const t = ms === Infinity ? null : setTimeout(() => { this.wakeUp = null; resolve(); }, ms);
      this.wakeUp = () => { if (t) clearTimeout(t); resolve(); };
    });
  }

  async loop() {
    let idleMs = 0;
    let state = '';
    const say = (s) => { if (s !== state) { state = s; post({ type: 'state', state: s }); } };
    while (!this.dead) {
      if (this.pendingJob) {
        const msg = this.pendingJob;
        this.pendingJob = null;
        if (!(await this.applyJob(msg, say))) continue;
      }
      if (this.paused || !this.job || this.exhausted) {
        say(this.paused ? 'paused' : 'waiting');
        await this.sleep(Infinity);
        continue;
      }
      say('mining');
      const t0 = performance.now();
      const s0 = this.suspendedMs;
      const r = await this.inst.mineAsync(1);
      const busy = performance.now() - t0 - (this.suspendedMs - s0);
      this.hashes += r.hashes;
      this.busyMs += busy;
      for (const sh of r.shares) post({ type: 'share', job_id: r.jobId, nonce: nonceHex(sh.nonce), result: sh.result });
      this.postStats();
      if (r.rc < 0) {
        if (r.name === 'CM_E_NONCE_EXHAUSTED') this.exhausted = true;
        else { this.fatal(new WasmError(r.rc, r.name, r.message), 'mining-failed'); return; }
      }
      const pause = r.hashes ? this.inst.throttlePause(busy, idleMs) : 0;
      const p0 = performance.now();
      if (pause > 0) await this.sleep(pause);
      else await new Promise((resolve) => this.yieldNow(resolve));
      idleMs = performance.now() - p0;
    }
  }

  // Parses and installs a job, rebuilding the cache when its seed is new. false when the
  // job was refused (the previous one, if any, goes on).
  async applyJob(msg, say) {
    const inst = this.inst;
    if (msg.index !== undefined) { this.index = msg.index; this.count = msg.count; }
    try {
      inst.job(msg.job, { nicehash: msg.nicehash, index: this.index, count: this.count });
    } catch (e) {
      report(e, 'bad-job', false);
      return false;
    }
    const seed = inst.jobSeed();
    const hex = toHex(seed);
    if (hex !== this.seedHex) {
      say('initializing');
      try {
        await inst.setSeedAsync(seed);
      } catch (e) {
        this.fatal(e, 'init-failed');
        return false;
      }
      this.seedHex = hex;
    }
    this.job = msg.job;
    this.exhausted = false;
    return true;
  }

  fatal(e, reason) {
    if (this.dead) return;
    this.dead = true;
    clearInterval(this.statsTimer);
    report(e, reason, true);
  }

  jobMessage(msg) {
    this.pendingJob = msg;
    this.wake();
  }

  throttle(pct) {
    this.throttlePct = pct;
    this.inst.setThrottle(pct);
  }

  pause() {
    this.paused = true;
    post({ type: 'state', state: 'paused' });
  }

  resume() {
    this.paused = false;
    const held = this.held;
    this.held = null;
    if (held) held();
    this.wake();
  }

  revoke() {
    this.inst.revoke();
  }
}

// ---- the controller of pthreads sharing one cache ------------------------------------
class SharedEngine {
  constructor(inst, msg) {
    this.inst = inst;
    this.M = inst.M;
    this.threads = msg.threads;
    this.buf = this.M._malloc(8 * (1 + 3 * 256));
    this.idBuf = this.M._malloc(65);
    this.nonceBuf = this.M._malloc(4);
    this.hashBuf = this.M._malloc(32);
    this.paused = false;
    this.started = false;
    this.reported = new Set();
    inst.check(this.M._cm_wasm_mt_start(msg.threads, msg.throttle));
    this.statsTimer = setInterval(() => this.poll(), STATS_MS);
  }

  // The page stops the threads itself, through shared memory, before it terminates this
  // worker: a browser would let the threads run on for a while (wasm/src/yield.c).
  stopHandle() {
    return { buffer: this.M.HEAPU8.buffer, stopFlag: this.M._cm_wasm_mt_stop_flag() };
  }

  poll() {
    const M = this.M;
    const waiting = M._cm_wasm_mt_poll(this.buf, 256);
    const v = new Float64Array(M.HEAPU8.buffer, this.buf, 1 + 3 * 256);
    const n = v[0];
    const threads = [];
    let hashes = 0;
    let busyMs = 0;
    for (let i = 0; i < n; i++) {
      const t = { hashes: v[1 + 3 * i], busyMs: v[2 + 3 * i] };
      const err = v[3 + 3 * i];
      if (err && !this.reported.has(err)) {
        this.reported.add(err);
        const name = M.UTF8ToString(M._cm_wasm_error_name(err));
        report(new WasmError(err, name, `mining thread ${i}: ${name}`), 'mining-failed', !!CONSENT_ERRORS[name]);
      }
      threads.push(t);
      hashes += t.hashes;
      busyMs += t.busyMs;
    }
    for (let k = 0; k < waiting; k++) {
      if (!M._cm_wasm_mt_share(this.idBuf, this.nonceBuf, this.hashBuf)) break;
      const nonce = new DataView(M.HEAPU8.buffer).getUint32(this.nonceBuf, true);
      post({ type: 'share', job_id: M.UTF8ToString(this.idBuf), nonce: nonceHex(nonce), result: toHex(M.HEAPU8.subarray(this.hashBuf, this.hashBuf + 32)) });
    }
    post({ type: 'stats', hashes, busyMs, time: performance.now(), threads, memoryBytes: this.inst.memoryBytes });
  }

  jobMessage(msg) {
    const { job } = msg;
    let rc;
    try {
      const seedChanging = this.seed !== job.seed_hash;
      if (seedChanging) post({ type: 'state', state: 'initializing' });
      rc = this.inst.withStrings([job.blob, job.job_id, job.target, job.seed_hash],
        (b, id, t, s) => this.M._cm_wasm_mt_job(b, id, t, s, Number(job.height) || 0, msg.nicehash ? 1 : 0));
      this.inst.check(rc);
      this.seed = job.seed_hash;
    } catch (e) {
      report(e, e.name === 'CM_E_NOMEM' ? 'not-enough-memory' : 'bad-job', e.name === 'CM_E_NOMEM');
      return;
    }
    this.reported.clear();
    post({ type: 'state', state: this.paused ? 'paused' : 'mining' });
  }

  throttle(pct) {
    this.M._cm_wasm_mt_set_throttle(pct);
  }

  setThreads(n) {
    this.inst.check(this.M._cm_wasm_mt_set_threads(n));
  }

  pause() {
    this.paused = true;
    this.M._cm_wasm_mt_pause(1);
    post({ type: 'state', state: 'paused' });
  }

  resume() {
    this.paused = false;
    this.M._cm_wasm_mt_pause(0);
    post({ type: 'state', state: 'mining' });
  }

  revoke() {
    this.M._cm_wasm_mt_stop();
  }
}

// The JIT when the page asked for it and this worker may compile wasm itself (its CSP);
// otherwise RandomX's interpreter, with the reason for the page's state events.
function pickPath(inst, wanted) {
  if (!wanted) return { jit: inst.setJit(false), jitReason: '' };
  const here = jitSupport({ compile: true });
  if (!here.ok) return { jit: inst.setJit(false), jitReason: `in the worker: ${here.why}` };
  const jit = inst.setJit(true);
  return { jit, jitReason: jit ? '' : 'this wasm build has no JIT' };
}

async function init(msg) {
  if (msg.kind === 'shared') {
    const inst = await instantiate(msg.glueUrl, msg.module);
    const { jit, jitReason } = pickPath(inst, msg.jit);
    inst.consent(msg.consent);
    instance = inst;
    engine = new SharedEngine(inst, msg);
    post({ type: 'ready', jit, jitReason, ...engine.stopHandle() });
    return;
  }
  const single = new SingleEngine(msg);
  const inst = await instantiate(msg.glueUrl, msg.module, { cmYield: (resume) => single.onYield(resume) });
  const { jit, jitReason } = pickPath(inst, msg.jit);
  inst.consent(msg.consent);
  instance = inst;
  single.start(inst);
  engine = single;
  post({ type: 'ready', jit, jitReason });
}

// Messages are handled one at a time, in order: a job that arrives while the module is
// still loading waits for it.
let queue = Promise.resolve();
port.listen((msg) => {
  queue = queue.then(() => handle(msg)).catch((e) => report(e, 'worker-failed'));
});

async function handle(msg) {
  if (!msg || typeof msg.type !== 'string') return;
  if (msg.type === 'init') {
    try {
      await init(msg);
    } catch (e) {
      report(e, e && e.name === 'CM_E_NOMEM' ? 'not-enough-memory' : 'init-failed');
    }
    return;
  }
  if (!engine) return;
  try {
    if (msg.type === 'job') engine.jobMessage(msg);
    else if (msg.type === 'throttle') engine.throttle(msg.pct);
    else if (msg.type === 'threads' && engine.setThreads) engine.setThreads(msg.n);
    else if (msg.type === 'pause') engine.pause();
    else if (msg.type === 'resume') engine.resume();
    else if (msg.type === 'revoke') engine.revoke();
    else if (msg.type === 'consent') instance.consent(msg.consent);
  } catch (e) {
    report(e, 'worker-failed');
  }
}
