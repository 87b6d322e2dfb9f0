// What the audited page did, as the DevTools protocol and /proc saw it, and the rules that
// turn it into a verdict. The rules (also in audit/README.md):
//
//  Mining is called mining only on mining evidence:
//   1. a stratum request sent by the page on any transport: a JSON-RPC object whose method
//      is `login` or `submit` (Monero pools, xmrig, docs/design.md "Protocols") or
//      `mining.subscribe` / `mining.authorize` / `mining.submit` (the Bitcoin-style
//      dialect), in a WebSocket message or in the body of any request (fetch, XHR,
//      sendBeacon, a form); or
//   2. the shape of a wasm miner: WebAssembly compiled, a Web Worker running, and the
//      browser's worker threads busy for at least SUSTAINED_SECONDS in a row at
//      SUSTAINED_CORES or more, as the kernel measured it (/proc): running or waiting
//      to run, so that a miner on a machine busy with other work is still seen busy.
//  Busy JavaScript without either is reported as CPU use, never as mining: a page may be
//  heavy and honest. A plain-JavaScript miner that speaks stratum is caught by rule 1.

// A throttled miner at 20% of one thread is still a miner; honest pages that use a worker
// and wasm (image decoding, a parser) use it in bursts shorter than three seconds.
export const SUSTAINED_CORES = 0.2;
export const SUSTAINED_SECONDS = 3;
// A phase whose browser CPU averages this much is called heavy in the report.
export const HEAVY_CORES = 0.3;

const STRATUM_METHODS = new Set(['login', 'submit', 'mining.subscribe', 'mining.authorize', 'mining.submit']);
const EXCERPT = 160;

function initiatorUrl(initiator) {
  if (!initiator) return '';
  for (let s = initiator.stack; s; s = s.parent) {
    const f = s.callFrames?.find((c) => c.url);
    if (f) return f.url;
  }
  return initiator.url || '';
}

/** Stratum requests in a message or body: one JSON value, or newline-separated lines. */
export function stratumIn(text) {
  if (typeof text !== 'string' || !text.includes('method')) return [];
  const found = [];
  const look = (v) => {
    if (Array.isArray(v)) return v.forEach(look);
    if (v && typeof v === 'object' && STRATUM_METHODS.has(v.method) && v.params && typeof v.params === 'object') found.push(v.method);
  };
  const tryParse = (s) => { try { look(JSON.parse(s)); return true; } catch { return false; } };
  if (!tryParse(text.trim())) for (const line of text.split('\n')) if (line.trim()) tryParse(line.trim());
  return found;
}

export class Recorder {
  phase = 'start';
  consentAt = Infinity; // ms since start at which the audit clicked Accept (never by default)
  requests = [];
  websockets = [];
  workers = [];
  frames = [];
  wasm = [];
  stratum = [];
  cpu = []; // { at, phase, seconds, total, workers, main }
  #t0 = performance.now();
  #targets = new Map();

  /** Times are in ms since this call: the audit makes it just before it loads the page. */
  restart() {
    this.#t0 = performance.now();
    this.cpu.length = 0; // the browser's own start-up, before the page
  }

  now() { return Math.round(performance.now() - this.#t0); }

  #stamp() { return { at: this.now(), phase: this.phase }; }

  target(info) {
    const kind = { worker: 'worker', shared_worker: 'shared worker', service_worker: 'service worker', iframe: 'frame' }[info.type];
    if (!kind || this.#targets.has(info.targetId)) return;
    const t = { ...this.#stamp(), kind, url: info.url };
    this.#targets.set(info.targetId, t);
    (kind === 'frame' ? this.frames : this.workers).push(t);
  }

  targetChanged(info) {
    const t = this.#targets.get(info.targetId);
    if (t && info.url && info.url !== 'about:blank') t.url = info.url;
  }

  request({ target, url, method, type, initiator, body }) {
    const r = { ...this.#stamp(), url, method, type, initiator: initiatorUrl(initiator) || target.url, context: target.url };
    this.requests.push(r);
    if (body) this.requestBody(r, body);
    return r;
  }

  requestBody(r, body) {
    if (!r) return;
    for (const method of stratumIn(body)) {
      this.stratum.push({ at: r.at, phase: r.phase, method, transport: `${r.type || 'request'} ${r.method}`, url: r.url,
        initiator: r.initiator, context: r.context, excerpt: body.slice(0, EXCERPT) });
    }
  }

  websocket({ target, url, initiator }) {
    const ws = { ...this.#stamp(), url, initiator: initiatorUrl(initiator) || target.url, context: target.url, framesSent: 0, framesReceived: 0 };
    this.websockets.push(ws);
    return ws;
  }

  frameSent(ws, response) {
    if (!ws) return;
    ws.framesSent++;
    // Opcode 2 (binary) payloads arrive base64-encoded.
    const text = response.opcode === 2 ? Buffer.from(response.payloadData || '', 'base64').toString('utf8') : response.payloadData;
    for (const method of stratumIn(text)) {
      this.stratum.push({ ...this.#stamp(), method, transport: 'WebSocket', url: ws.url, initiator: ws.initiator, context: ws.context,
        excerpt: String(text).slice(0, EXCERPT) });
    }
  }

  wasmCompiled({ target, url, stackTrace, bytes }) {
    this.wasm.push({ ...this.#stamp(), url, bytes, context: target.url, contextKind: target.type,
      initiator: initiatorUrl({ stack: stackTrace }) || target.url });
  }
}

/** Consecutive CPU samples with busy worker threads, as runs { at, phase, seconds, cores }. */
function workerRuns(samples) {
  const runs = [];
  let cur = null;
  for (const s of samples) {
    if (s.workerDemand >= SUSTAINED_CORES) {
      if (!cur) runs.push(cur = { at: Math.max(0, s.at - Math.round(s.seconds * 1000)), phase: s.phase, seconds: 0, cpuSeconds: 0 });
      cur.seconds += s.seconds;
      cur.cpuSeconds += s.workerDemand * s.seconds;
    } else cur = null;
  }
  for (const r of runs) r.cores = r.cpuSeconds / r.seconds;
  return runs;
}

/**
 * Mining findings before `consentAt` (ms since start): each { code, at, phase, ... }.
 * Only evidence recorded before the audit clicked Accept counts.
 */
export function miningBefore(rec) {
  const before = (x) => x.at < rec.consentAt;
  const findings = [];
  // One finding per kind of message and channel: its first time, and how many followed.
  const groups = new Map();
  for (const s of rec.stratum.filter(before)) {
    const key = [s.method, s.transport, s.url, s.initiator].join('\n');
    const g = groups.get(key);
    if (g) { g.count++; g.lastAt = s.at; } else groups.set(key, { code: 'stratum', ...s, count: 1, lastAt: s.at });
  }
  findings.push(...groups.values());
  const wasm = rec.wasm.filter(before);
  const workers = rec.workers.filter(before);
  const runs = workerRuns(rec.cpu.filter((s) => s.at <= rec.consentAt)).filter((r) => r.seconds >= SUSTAINED_SECONDS - 0.25);
  if (wasm.length && workers.length && runs.length) {
    const run = runs[0];
    findings.push({ code: 'wasm-workers-cpu', at: wasm[0].at, phase: wasm[0].phase,
      wasm: wasm.length, wasmContext: wasm[0].context, wasmInitiator: wasm[0].initiator,
      // CPU is sampled each second: the run starts no earlier than the first worker.
      workers: [...new Set(workers.map((w) => w.url))], cores: run.cores, seconds: run.seconds, runAt: Math.max(run.at, workers[0].at) });
  }
  return findings.sort((a, b) => a.at - b.at);
}

/** CPU per phase: mean and peak cores of all the browser's processes, workers, main threads. */
export function cpuByPhase(rec) {
  const out = [];
  for (const s of rec.cpu) {
    let p = out.find((x) => x.phase === s.phase);
    if (!p) out.push(p = { phase: s.phase, seconds: 0, total: 0, workers: 0, workerDemand: 0, main: 0, peak: 0 });
    p.seconds += s.seconds;
    p.total += s.total * s.seconds;
    p.workers += s.workers * s.seconds;
    p.workerDemand += s.workerDemand * s.seconds;
    p.main += s.main * s.seconds;
    p.peak = Math.max(p.peak, s.total);
  }
  for (const p of out) for (const k of ['total', 'workers', 'workerDemand', 'main']) p[k] = p.seconds ? p[k] / p.seconds : 0;
  return out;
}
