// consentminer runtime — the miner object that the consent frame (or a node program) drives.
//
//   import { createMiner } from './miner.mjs';
//   const miner = createMiner({ gateway: 'wss://host/ws' });
//   miner.addEventListener('state' | 'hashrate' | 'cpu' | 'share' | 'share-result' | 'error', e => e.detail);
//   await miner.start(sessionToken);  // the token POST /consent/grant or /consent/session gave
//   await miner.renew(sessionToken);  // a newer session token of the same grant
//   miner.setThrottle(pct); miner.setThreads(n); miner.pause(reason); miner.resume();
//   miner.stop();                 // terminates the workers at once
//
// The runtime mines only under a consent the gateway issued (docs/design.md, issue 14):
// start() takes the gateway's session token, reads the record in its payload (times in
// ms, thread and throttle ceilings), logs in to the gateway with that token FIRST, and
// only once the gateway accepted the login fetches the wasm and starts workers. In a
// browser it runs only on the gateway's own origin (the consent frame), and refuses
// before it fetches anything elsewhere: a page script that imports a copy of it gets an
// error, and the gateway refuses its WebSocket (Origin) and any token it did not sign.
// Nothing is fetched, compiled, started or connected before a valid start(); creating a
// miner costs nothing. Each mining thread is a Web Worker (worker_threads in node) running
// core's mining loop in wasm; core checks the record again before every hash. When the
// page can share memory (cross-origin isolated, or node), all threads hash from one
// 256 MiB RandomX cache; otherwise each worker has its own, after a memory check.
//
// Options: gateway (ws:// or wss:// URL of the gateway's /ws), WebSocket (a constructor,
// for node 20 which has none: the `ws` package), origin (node only: the Origin header the
// `ws` package sends; the gateway accepts only its frame origin), wasmUrl
// (consentminer.wasm; the other build files are looked for beside it), wasmBase (their
// directory), workerUrl, shared ('auto' | 'always' | 'never'), jit ('auto' | 'never':
// RandomX programs translated to wasm at run time where the engine can run them, or
// always RandomX's interpreter), agent, statsIntervalMs, and job (a fixed stratum job
// instead of a gateway, for benchmarks and tests: nothing is paid, and start() then also
// takes a plain record { granted_at, expires_at, threads, throttle }, the consent of the
// person running the benchmark). Any other shared or jit value throws a TypeError.
//
// Event details:
//   state        { state: 'starting'|'initializing'|'mining'|'paused'|'reconnecting'|'stopped',
//                  reason?, engine: 'jit'|'interpreter', engineReason? (why not the JIT);
//                  while reconnecting also attempt and delayMs (the next login's wait) }
//   hashrate     { hashrate (H/s over the last 10 s; 0 while paused), hashes (total), threads }
//   cpu          { fraction (0..1 per thread), percent, threads: [..] }: the share of
//                  wall-clock time the mining threads spent inside hashes. It is not CPU
//                  time (browsers do not report that): when other programs compete for
//                  the processor, a thread that waits for a core still counts as busy, so
//                  on a busy machine the figure overstates what the miner gets.
//   share        { job_id, nonce, result }           a hash below the job's target
//   share-result { job_id, nonce, accepted, error }  the gateway's verdict on it
//   error        { reason, message, fatal }   reasons: no-consent, consent-invalid,
//                consent-expired, consent-revoked, consent-exceeded (core refused a thread
//                or throttle above the consent's ceilings), wrong-origin, no-webassembly, no-workers,
//                no-websocket, not-enough-memory, bad-job, gateway-unreachable,
//                gateway-refused, gateway-gone, worker-failed, init-failed, mining-failed
// start() rejects (with an Error carrying .reason) when mining cannot begin; the same
// problem is also sent as an 'error' event. Nothing else throws.
import { checkConsent, readToken } from './consent.mjs';
import { canShareMemory, compileWasm, isJavaScriptCore, isNode, jitSupport, spawnWorker, workersAvailable } from './env.mjs';
import { GatewaySession } from './gateway.mjs';

export { requestGrant } from './gateway.mjs';

// RandomX light mode per cache: 256 MiB plus VM and slack (wasm/src/session.h).
const CACHE_GIB = 0.264;
const HASHRATE_WINDOW_MS = 10 * 1000;
const CPU_WINDOW_MS = 3 * 1000;

export function createMiner(options = {}) {
  return new Miner(options);
}

// The synthetic job of `consentminer bench` (native/src/cmd_bench.c): Monero-shaped
// header, nonce at 39, a target no hash meets.
export function benchJob() {
  const blob = new Uint8Array(76);
  blob.set([16, 16, 0xa0, 0xb5, 0xd3, 0xa6, 0x06]);
  for (let i = 7; i < 76; i++) blob[i] = (i * 37 + 11) & 0xff;
  const seed = new Uint8Array(32);
  for (let i = 0; i < 32; i++) seed[i] = 0x5a ^ i;
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return { blob: hex(blob), job_id: 'bench', target: '0100000000000000', seed_hash: hex(seed), height: 0, algo: 'rx/0' };
}

// A new login after a lost gateway connection: first after about a second, doubling to
// at most 30 s (a restarted gateway is usually back within seconds).
const RECONNECT_FIRST_MS = 1000;
const RECONNECT_MAX_MS = 30 * 1000;

class Miner extends EventTarget {
  #opts;
  #state = 'idle';
  #run = 0;
  #consent = null;
  #ceiling = null; // the token's thread and throttle ceilings
  #token = null;
  #grantId = null;
  #shared = false;
  #module = null;
  #urls = null;
  #workers = [];
  #retired = { hashes: 0, busyMs: 0 };
  #session = null;
  #job = null;
  #nicehash = false;
  #threads = 0;
  #throttle = 100;
  #paused = false;
  #samples = [];
  #timers = [];
  #readyWaiters = [];
  #engine = { engine: 'interpreter', engineReason: 'not started' };

  constructor(options = {}) {
    super();
    this.#opts = { statsIntervalMs: 1000, ...options, shared: options.shared ?? 'auto', jit: options.jit ?? 'auto' };
    // A misspelt choice is an error, not quietly 'auto'.
    for (const [name, allowed] of [['shared', ['auto', 'always', 'never']], ['jit', ['auto', 'never']]]) {
      if (!allowed.includes(this.#opts[name])) {
        throw new TypeError(`createMiner: ${name} is ${JSON.stringify(this.#opts[name])}; expected ${allowed.map((a) => `'${a}'`).join(', ')}`);
      }
    }
  }

  get state() {
    return this.#state;
  }

  // Starts mining under the gateway's session token. See the header for what it resolves
  // and rejects with.
  async start(token) {
    if (this.#state !== 'idle' && this.#state !== 'stopped') {
      throw this.#fail('already-started', `start() while ${this.#state}: stop() first`, false);
    }
    const wrongOrigin = this.#originProblem();
    if (wrongOrigin) throw this.#fail('wrong-origin', wrongOrigin, true);
    let consent = token;
    this.#grantId = null;
    if (!this.#opts.job || typeof token === 'string') {
      const read = readToken(token, 'session');
      if (read.reason) throw this.#fail(read.reason, read.message, true);
      consent = read.record;
      this.#grantId = read.payload.grant;
    }
    const problem = checkConsent(consent);
    if (problem) throw this.#fail(problem.reason, problem.message, true);
    if (typeof WebAssembly !== 'object' || typeof WebAssembly.compile !== 'function') {
      throw this.#fail('no-webassembly', 'this browser has no WebAssembly; mining is not possible here', true);
    }
    if (!workersAvailable()) throw this.#fail('no-workers', 'this browser has no Web Workers', true);
    if (!this.#opts.gateway && !this.#opts.job) throw this.#fail('gateway-unreachable', 'no gateway URL given', true);

    const run = ++this.#run;
    this.#consent = { ...consent };
    this.#ceiling = { threads: consent.threads, throttle: consent.throttle };
    this.#token = typeof token === 'string' ? token : null;
    this.#threads = consent.threads;
    this.#throttle = consent.throttle;
    this.#paused = false;
    this.#retired = { hashes: 0, busyMs: 0 };
    this.#samples = [];
    this.#hashedOnce = false;
    const want = this.#opts.shared;
    this.#shared = want === 'always' || (want !== 'never' && canShareMemory() && (isNode ? consent.threads > 1 : true));
    if (want === 'always' && !canShareMemory()) {
      throw this.#fail('not-enough-memory', 'a shared cache needs SharedArrayBuffer (a cross-origin isolated page)', true);
    }
    if (!this.#shared) {
      // Without shared memory each worker holds a whole cache. Browsers say roughly how
      // much memory the device has (Chrome: navigator.deviceMemory, in GiB): run as
      // many workers as fit in three quarters of it; each worker also checks its own.
      const gib = typeof navigator === 'object' && navigator.deviceMemory;
      if (gib) {
        const fit = Math.floor((gib * 0.75) / CACHE_GIB);
        if (fit < 1) throw this.#fail('not-enough-memory', `RandomX needs ${Math.round(CACHE_GIB * 1024)} MiB per worker; this device reports ${gib} GiB`, true);
        if (fit < this.#threads) {
          this.#emitError('not-enough-memory', `running ${fit} of ${this.#threads} threads: without cross-origin isolation each worker needs its own ${Math.round(CACHE_GIB * 1024)} MiB cache`, false);
          this.#threads = fit;
        }
      }
    }
    const jit = this.#opts.jit === 'never' ? { ok: false, why: "turned off by the page (jit: 'never')" }
      : isJavaScriptCore()
        ? { ok: false, why: 'JavaScriptCore: its JIT path gave wrong hashes in tests; the interpreter is used until that is understood' }
        : jitSupport();
    this.#engine = jit.ok ? { engine: 'jit' } : { engine: 'interpreter', engineReason: jit.why };
    this.#setState('starting');
    this.#urls = this.#resolveUrls();

    // Consent rule 1 holds up to here: nothing was loaded. The gateway sees the token
    // first; only a login it accepted is worth a wasm download and a worker.
    this.#armExpiry(run);
    try {
      if (this.#opts.gateway) {
        this.#session = this.#newSession(run);
        await this.#session.connect();
        if (run !== this.#run) throw Object.assign(new Error('stopped while starting'), { reason: 'stopped' });
      } else {
        this.#job = { ...this.#opts.job };
      }
      const compiled = compileWasm(this.#shared ? this.#urls.wasmMt : this.#urls.wasm).catch((e) => {
        throw Object.assign(new Error(`cannot load the miner's WebAssembly: ${e.message}`), { reason: e instanceof RangeError ? 'not-enough-memory' : 'init-failed' });
      });
      await compiled;
      if (run !== this.#run) throw Object.assign(new Error('stopped while starting'), { reason: 'stopped' });
      this.#module = await compiled;
      const n = this.#shared ? 1 : this.#threads;
      const started = [];
      for (let i = 0; i < n; i++) started.push(this.#addWorker(i, n));
      await Promise.all(started);
      if (run !== this.#run) throw Object.assign(new Error('stopped while starting'), { reason: 'stopped' });
    } catch (e) {
      if (run !== this.#run || e.reason === 'stopped') throw e;
      throw this.#fail(e.reason || 'init-failed', e.message, true);
    }
    this.#setState('initializing');
    if (this.#job) this.#postJob();
    this.#timers.push(setInterval(() => this.#tick(), this.#opts.statsIntervalMs));
    return this;
  }

  #newSession(run) {
    return new GatewaySession({
      url: this.#opts.gateway, WebSocket: this.#opts.WebSocket, origin: this.#opts.origin,
      token: this.#token, threads: this.#threads, throttle: this.#throttle, agent: this.#opts.agent,
      onJob: (job, nicehash) => this.#onJob(job, nicehash),
      onShareResult: (share, accepted, error) => this.#emit('share-result', { job_id: share.job_id, nonce: share.nonce, accepted, error }),
      onGone: (reason, message, code) => { if (run === this.#run) this.#onGone(reason, message, code); },
    });
  }

  // The gateway connection ended while mining. A gateway that refused the session (1008:
  // consent expired or revoked, too many invalid shares) ends mining; any other end (a
  // restart or deploy says 1001, a lost connection 1006) is followed by a new login under
  // the same session token, as long as the consent holds, so a visitor is not asked again
  // for a gateway's restart.
  #onGone(reason, message, code) {
    if (code === 1008) {
      this.#fail(reason, message, true);
      return;
    }
    this.#reconnect(message);
  }

  // Workers are held (their shares would have nowhere to go) while new logins are tried
  // after 1, 2, 4 ... 30 s, each delay jittered by +-50% so that the browsers of a
  // restarted gateway do not all come back at once.
  #reconnect(why) {
    const run = this.#run;
    const problem = checkConsent(this.#consent);
    if (problem) {
      this.#fail(problem.reason, problem.message, true);
      return;
    }
    if (this.#session) this.#session.close();
    this.#session = null;
    this.#reconnecting = true;
    this.#postAll({ type: 'pause' });
    this.#attempts++;
    const base = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** Math.min(this.#attempts - 1, 5));
    const delayMs = Math.round(base * (0.5 + Math.random()));
    this.#setState('reconnecting', { reason: why, attempt: this.#attempts, delayMs });
    const t = setTimeout(async () => {
      if (run !== this.#run) return;
      const session = this.#newSession(run);
      try {
        await session.connect();
      } catch (e) {
        if (run !== this.#run) return;
        // A gateway that answers and refuses the token will not change its mind.
        if (e.reason === 'gateway-refused') this.#fail(e.reason, e.message, true);
        else this.#reconnect(e.message);
        return;
      }
      if (run !== this.#run) {
        session.close();
        return;
      }
      this.#session = session;
      this.#reconnecting = false;
      this.#attempts = 0;
      if (this.#paused) {
        this.#setState('paused', { reason: this.#pauseReason });
        return;
      }
      this.#samples = [];
      this.#postAll({ type: 'resume' });
      this.#setState(this.#allMining() ? 'mining' : 'initializing', { reason: 'reconnected' });
    }, delayMs);
    this.#timers.push(t);
  }
  #reconnecting = false;
  #attempts = 0;

  stop() {
    this.#run++;
    this.#reconnecting = false;
    this.#attempts = 0;
    const was = this.#state;
    // Shared-memory threads are told through their memory first: a browser lets a
    // terminated worker's threads run on for a while (wasm/src/yield.c).
    for (const w of this.#workers) if (w.stopFlag) Atomics.store(w.stopFlag, 0, 1);
    for (const w of this.#workers) w.handle.terminate();
    this.#workers = [];
    if (this.#session) this.#session.close();
    this.#session = null;
    this.#timers.forEach((t) => { clearTimeout(t); clearInterval(t); });
    this.#timers = [];
    this.#module = null;
    for (const r of this.#readyWaiters.splice(0)) r.reject(Object.assign(new Error('stopped'), { reason: 'stopped' }));
    if (was !== 'stopped' && was !== 'idle') this.#setState('stopped');
  }

  // Carries on under a newer session token of the same grant (the frame renews before the
  // current one expires): the gateway checks it ("consent" message), then core gets the
  // new record. Rejects, and leaves the old expiry in force, when the gateway refuses.
  async renew(token) {
    if (this.#reconnecting) return this.#renewOffline(token);
    if (!this.#session || this.#state === 'stopped' || this.#state === 'idle') {
      throw Object.assign(new Error('renew() while not mining'), { reason: 'not-running' });
    }
    const read = this.#readRenewal(token);
    const run = this.#run;
    const session = this.#session;
    const result = await session.renew(token);
    if (run !== this.#run) return result;
    this.#adoptRenewal(read, token);
    this.#armExpiry(run);
    return result;
  }

  // A renewed session token must be well formed, of this grant and a valid consent.
  #readRenewal(token) {
    const read = readToken(token, 'session');
    if (read.reason) throw Object.assign(new Error(read.message), { reason: read.reason });
    if (read.payload.grant !== this.#grantId) {
      throw Object.assign(new Error('the renewed session token belongs to another grant'), { reason: 'consent-invalid' });
    }
    const problem = checkConsent(read.record);
    if (problem) throw Object.assign(new Error(problem.message), { reason: problem.reason });
    return read;
  }

  // Ceilings never rise mid-session: the lower of the old and new token holds. Core gets
  // the ceilings (it refuses a thread or throttle above them before every hash), so what
  // runs is lowered to them first.
  #adoptRenewal(read, token) {
    this.#ceiling = { threads: Math.min(this.#ceiling.threads, read.record.threads), throttle: Math.min(this.#ceiling.throttle, read.record.throttle) };
    this.#token = token;
    if (this.#throttle > this.#ceiling.throttle) this.setThrottle(this.#ceiling.throttle);
    if (this.#threads > this.#ceiling.threads) this.setThreads(this.#ceiling.threads);
    this.#consent = { ...read.record, ...this.#ceiling };
    this.#postAll({ type: 'consent', consent: this.#consent });
  }

  // While reconnecting there is no gateway to ask: the newer token of the same grant is
  // kept for the next login, which the gateway checks as it checks every login.
  #renewOffline(token) {
    const read = this.#readRenewal(token);
    this.#adoptRenewal(read, token);
    this.#armExpiry(this.#run);
    return { status: 'PENDING', expires_at: read.record.expires_at };
  }

  // Browsers: the runtime belongs to the consent frame, which the gateway serves on its own
  // origin. Anywhere else (a page script importing a copy) it stops here, before any fetch.
  #originProblem() {
    if (isNode || typeof location !== 'object' || !location.origin) return '';
    let expected;
    if (this.#opts.gateway) {
      try {
        const u = new URL(this.#opts.gateway, location.href);
        u.protocol = u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : u.protocol;
        expected = u.origin;
      } catch {
        return `gateway ${JSON.stringify(this.#opts.gateway)} is not a URL; expected ws(s)://host/ws`;
      }
    } else {
      expected = new URL(import.meta.url).origin;
    }
    if (location.origin === expected) return '';
    return `the miner runs only in the gateway's consent frame on ${expected}; this page is ${location.origin}. ` +
      'Embed <consent-miner> instead: consent is given in its frame and nowhere else';
  }

  pause(reason = 'paused') {
    if (this.#state === 'stopped' || this.#state === 'idle') return;
    this.#paused = true;
    this.#pauseReason = String(reason);
    this.#postAll({ type: 'pause' });
    this.#setState('paused', { reason: this.#pauseReason });
  }
  #pauseReason = '';

  resume() {
    if (!this.#paused || this.#state === 'stopped' || this.#state === 'idle') return;
    const problem = checkConsent(this.#consent);
    if (problem) {
      this.#fail(problem.reason, problem.message, true);
      return;
    }
    this.#paused = false;
    if (this.#reconnecting) {
      this.#setState('reconnecting', { reason: 'waiting for the gateway' });
      return;
    }
    this.#samples = [];
    this.#postAll({ type: 'resume' });
    this.#setState(this.#allMining() ? 'mining' : 'initializing');
  }

  setThrottle(pct) {
    const p = Math.round(Number(pct));
    if (!(p >= 1 && p <= 100)) {
      this.#emitError('bad-setting', `throttle is ${pct}; expected 1..100 percent`, false);
      return;
    }
    if (this.#ceiling && p > this.#ceiling.throttle) {
      this.#emitError('bad-setting', `throttle ${p}% is above the ${this.#ceiling.throttle}% the consent allows`, false);
      return;
    }
    this.#throttle = p;
    this.#postAll({ type: 'throttle', pct: p });
  }

  setThreads(n) {
    const t = Math.round(Number(n));
    if (!(t >= 1 && t <= 256)) {
      this.#emitError('bad-setting', `threads is ${n}; expected 1..256`, false);
      return;
    }
    if (this.#ceiling && t > this.#ceiling.threads) {
      this.#emitError('bad-setting', `${t} threads is above the ${this.#ceiling.threads} the consent allows`, false);
      return;
    }
    if (this.#state === 'idle' || this.#state === 'stopped' || this.#state === 'starting') {
      this.#threads = t;
      return;
    }
    this.#threads = t;
    if (this.#shared) {
      this.#postAll({ type: 'threads', n: t });
      return;
    }
    while (this.#workers.length > t) {
      const w = this.#workers.pop();
      this.#retire(w);
      w.handle.terminate();
    }
    const adding = [];
    for (let i = this.#workers.length; i < t; i++) adding.push(this.#addWorker(i, t));
    Promise.all(adding).then(() => this.#postJob(), (e) => this.#emitError(e.reason || 'worker-failed', e.message, false));
    this.#postJob();
  }

  // Resolves when every worker hashes (the cache is built); for benchmarks and tests.
  ready() {
    if (this.#allMining()) return Promise.resolve();
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  // Totals over all workers since start: { hashes, busyMs, time } (time: performance.now()).
  totals() {
    let hashes = this.#retired.hashes;
    let busyMs = this.#retired.busyMs;
    for (const w of this.#workers) {
      hashes += w.hashes;
      busyMs += w.busyMs;
    }
    return { hashes, busyMs, time: performance.now() };
  }

  info() {
    return {
      shared: this.#shared, threads: this.#threads, workers: this.#workers.length, ...this.#engine,
      memoryBytes: this.#workers.reduce((s, w) => s + (w.memoryBytes || 0), 0),
      jitStats: this.#workers.map((w) => w.jit).filter(Boolean),
    };
  }

  // ---- internals ----------------------------------------------------------------------

  // Stops mining when the consent expires (core would refuse the next hash anyway).
  // Timers cannot wait longer than 2^31 - 1 ms (24.8 days): a longer wait is re-armed.
  #armExpiry(run) {
    const left = this.#consent.expires_at - Date.now();
    this.#timers.push(setTimeout(() => {
      if (run !== this.#run) return;
      if (Date.now() < this.#consent.expires_at) this.#armExpiry(run);
      else this.#fail('consent-expired', 'the consent has expired; mining stopped', true);
    }, Math.max(0, Math.min(left, 2 ** 31 - 1))));
  }

  #resolveUrls() {
    const o = this.#opts;
    const base = o.wasmBase ? new URL(o.wasmBase, baseHref())
      : o.wasmUrl ? new URL('.', new URL(o.wasmUrl, baseHref()))
        : new URL('../../build/wasm/', import.meta.url);
    const at = (name) => new URL(name, base).href;
    return {
      wasm: o.wasmUrl ? new URL(o.wasmUrl, baseHref()).href : at('consentminer.wasm'),
      glue: o.glueUrl || at('consentminer.mjs'),
      wasmMt: o.wasmMtUrl || at('consentminer-mt.wasm'),
      glueMt: o.glueMtUrl || at('consentminer-mt.mjs'),
      worker: o.workerUrl ? new URL(o.workerUrl, baseHref()).href : new URL('./worker.mjs', import.meta.url).href,
    };
  }

  async #addWorker(index, count) {
    const run = this.#run;
    const handle = await spawnWorker(this.#urls.worker);
    const w = { handle, index, hashes: 0, busyMs: 0, memoryBytes: 0, state: 'loading', threads: [], alive: true };
    if (run !== this.#run) {
      handle.terminate();
      return;
    }
    this.#workers.push(w);
    this.#workers.sort((a, b) => a.index - b.index);
    const ready = new Promise((resolve, reject) => { w.ready = { resolve, reject }; });
    handle.onmessage = (m) => {
      try {
        this.#onWorkerMessage(w, m);
      } catch (e) {
        this.#emitError('worker-failed', e.message, false);
      }
    };
    handle.onerror = (message) => {
      w.ready.reject(Object.assign(new Error(`worker failed: ${message}`), { reason: 'worker-failed' }));
      this.#workerDied(w, 'worker-failed', `a mining worker failed: ${message}`);
    };
    handle.post({
      type: 'init', kind: this.#shared ? 'shared' : 'single',
      glueUrl: this.#shared ? this.#urls.glueMt : this.#urls.glue, module: this.#module,
      consent: this.#consent, index, count, threads: this.#threads, throttle: this.#throttle,
      jit: this.#engine.engine === 'jit',
    });
    return ready;
  }

  #onWorkerMessage(w, m) {
    if (!m || !w.alive) return;
    switch (m.type) {
      case 'ready':
        w.state = 'ready';
        if (m.buffer && typeof m.stopFlag === 'number') w.stopFlag = new Int32Array(m.buffer, m.stopFlag, 1);
        if (this.#engine.engine === 'jit' && m.jit === false) {
          this.#engine = { engine: 'interpreter', engineReason: m.jitReason || 'this wasm build has no JIT' };
        }
        w.ready.resolve();
        break;
      case 'state':
        w.state = m.state;
        if (this.#state === 'initializing' && this.#allMining()) this.#setState('mining');
        if (this.#state === 'mining' && m.state === 'initializing') this.#setState('initializing');
        if (this.#allMining()) for (const r of this.#readyWaiters.splice(0)) r.resolve();
        break;
      case 'stats':
        // The first hash is news at once (the panel and the page see mining has begun);
        // later figures come with the regular tick.
        if (!this.#hashedOnce && m.hashes > 0) queueMicrotask(() => { if (!this.#hashedOnce) { this.#hashedOnce = true; this.#tick(); } });
        w.hashes = m.hashes;
        w.busyMs = m.busyMs;
        w.memoryBytes = m.memoryBytes;
        w.threads = m.threads || [];
        w.jit = m.jit || null;
        break;
      case 'share': {
        const share = { job_id: m.job_id, nonce: m.nonce, result: m.result };
        this.#emit('share', share);
        if (this.#session) this.#session.submit(share);
        break;
      }
      case 'error':
        if (w.ready && w.state === 'loading') w.ready.reject(Object.assign(new Error(m.message), { reason: m.reason }));
        if (m.fatal) this.#workerDied(w, m.reason, m.message);
        else this.#emitError(m.reason, m.message, false);
        break;
      default:
        break;
    }
  }

  // A worker that cannot go on: the others carry on with its nonces re-split, unless
  // the reason concerns them all (consent) or none is left.
  #workerDied(w, reason, message) {
    if (!w.alive) return;
    w.alive = false;
    const global = /^consent|^no-consent/.test(reason) || this.#shared;
    this.#retire(w);
    w.handle.terminate();
    this.#workers = this.#workers.filter((x) => x !== w);
    if (global || this.#workers.length === 0) {
      this.#fail(reason, message, true);
      return;
    }
    this.#emitError(reason, `${message} (continuing with ${this.#workers.length} worker${this.#workers.length === 1 ? '' : 's'})`, false);
    this.#workers.forEach((x, i) => { x.index = i; });
    this.#threads = this.#workers.length;
    this.#postJob();
  }

  #retire(w) {
    this.#retired.hashes += w.hashes;
    this.#retired.busyMs += w.busyMs;
    w.hashes = 0;
    w.busyMs = 0;
  }

  #allMining() {
    return this.#workers.length > 0 && this.#workers.every((w) => w.state === 'mining' || w.state === 'paused' || w.state === 'waiting');
  }

  #onJob(job, nicehash) {
    if (!job || typeof job !== 'object' || typeof job.blob !== 'string' || typeof job.job_id !== 'string' ||
        typeof job.target !== 'string' || typeof job.seed_hash !== 'string') {
      this.#emitError('bad-job', 'the gateway sent a job without blob, job_id, target or seed_hash', false);
      return;
    }
    if (job.algo !== undefined && job.algo !== 'rx/0') {
      this.#emitError('bad-job', `the gateway sent a job for algorithm ${job.algo}; only rx/0 is mined`, false);
      return;
    }
    this.#job = job;
    this.#nicehash = !!nicehash;
    this.#postJob();
  }

  #postJob() {
    if (!this.#job) return;
    const count = this.#workers.length;
    this.#workers.forEach((w, i) => {
      if (w.state === 'loading') return; // it gets the job when it is ready (below)
      w.handle.post({ type: 'job', job: this.#job, nicehash: this.#nicehash, index: this.#shared ? 0 : i, count: this.#shared ? 1 : count });
    });
  }

  #postAll(msg) {
    for (const w of this.#workers) w.handle.post(msg);
  }

  #tick() {
    const now = performance.now();
    const t = this.totals();
    this.#samples.push({ time: now, hashes: t.hashes, busyMs: t.busyMs });
    while (this.#samples.length > 2 && now - this.#samples[1].time >= HASHRATE_WINDOW_MS) this.#samples.shift();
    const first = this.#samples[0];
    const dt = now - first.time;
    const hashrate = dt > 0 ? ((t.hashes - first.hashes) * 1000) / dt : 0;
    let c = first;
    for (const s of this.#samples) if (now - s.time >= CPU_WINDOW_MS) c = s;
    const cdt = now - c.time;
    const threads = this.#shared ? this.#threads : this.#workers.length;
    const fraction = cdt > 0 && threads > 0 ? Math.min(1, (t.busyMs - c.busyMs) / cdt / threads) : 0;
    const perThread = this.#shared && this.#workers[0]
      ? this.#workers[0].threads.slice(0, this.#threads).map((x) => x.busyMs) : this.#workers.map((w) => w.busyMs);
    this.#lastPerThread = this.#lastPerThread || [];
    const fractions = perThread.map((b, i) => {
      const prev = this.#lastPerThread[i];
      return prev && now > prev.time ? Math.max(0, Math.min(1, (b - prev.busyMs) / (now - prev.time))) : 0;
    });
    this.#lastPerThread = perThread.map((b) => ({ busyMs: b, time: now }));
    // While paused the figures are the paused ones (nothing hashes), not a decaying average
    // of the time before; resume() starts the averages afresh.
    const paused = this.#paused;
    this.#emit('hashrate', { hashrate: paused ? 0 : hashrate, hashes: t.hashes, threads: this.#threads, paused });
    this.#emit('cpu', { fraction: paused ? 0 : fraction, percent: paused ? 0 : fraction * 100, threads: paused ? fractions.map(() => 0) : fractions, paused });
  }
  #lastPerThread = null;
  #hashedOnce = false;

  #setState(state, extra = {}) {
    if (this.#state === state && !extra.reason) return;
    if (this.#paused && (state === 'mining' || state === 'initializing')) return;
    this.#state = state;
    this.#emit('state', { state, ...this.#engine, ...extra });
  }

  #emit(type, detail) {
    try {
      this.dispatchEvent(new CustomEvent(type, { detail }));
    } catch {
      // a listener's exception must not stop the miner (browsers report it themselves)
    }
  }

  #emitError(reason, message, fatal) {
    this.#emit('error', { reason, message, fatal });
  }

  // Reports a problem; a fatal one stops everything. Returns an Error for start() to throw.
  #fail(reason, message, fatal) {
    this.#emitError(reason, message, fatal);
    if (fatal) this.stop();
    return Object.assign(new Error(message), { reason });
  }
}

function baseHref() {
  if (typeof document === 'object' && document.baseURI) return document.baseURI;
  if (typeof location === 'object' && location.href) return location.href;
  return import.meta.url;
}
