// The audited browser: Debian's Chromium launched by playwright-core (which clicks, scrolls
// and takes screenshots the way a visitor's input would arrive: trusted events through the
// DevTools protocol), plus a second DevTools connection of our own that attaches to every
// target the page creates (frames in and out of process, dedicated, shared and service
// workers, and their workers) before any of its code runs, and records what each does.
//
// Why a connection of our own: playwright's CDPSession talks to one target and does not
// hand over the sessions of targets attached under it, and a worker's WebSocket or fetch
// shows only in the worker's own session. Chromium writes the port of
// --remote-debugging-port=0 to <profile>/DevToolsActivePort; we connect there with `ws`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// playwright-core and ws come from npm (the repository's node_modules, or beside an
// installed audit/); loaded when a browser is needed, so --help works without them and a
// missing one is named with what to do.
let deps = null;
async function npmDeps() {
  if (deps) return deps;
  try {
    const [{ chromium }, { default: WebSocket }] = await Promise.all([import('playwright-core'), import('ws')]);
    deps = { chromium, WebSocket };
    return deps;
  } catch (err) {
    const here = path.dirname(new URL(import.meta.url).pathname);
    throw Object.assign(new Error(`consentminer audit needs the npm packages playwright-core and ws: ${err.message}. ` +
      `In the repository run scripts/setup.sh; for an installed audit, npm install --prefix ${here} playwright-core ws`), { exitCode: 2 });
  }
}

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// The flags every consentminer browser test uses (docs/design.md); the debugging port is ours.
export const FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--remote-debugging-port=0'];
const HZ = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A DevTools protocol connection in flattened mode: one socket, many sessions. */
class Devtools {
  #ws; #next = 1; #pending = new Map(); #handlers = [];
  static async connect(url) {
    const d = new Devtools();
    const { WebSocket } = await npmDeps();
    d.#ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    await new Promise((resolve, reject) => { d.#ws.once('open', resolve); d.#ws.once('error', reject); });
    d.#ws.on('message', (data) => d.#onMessage(JSON.parse(data)));
    d.#ws.on('close', () => { for (const p of d.#pending.values()) p.reject(new Error('DevTools connection closed')); d.#pending.clear(); });
    return d;
  }
  #onMessage(m) {
    if (m.id) {
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (m.error) p?.reject(new Error(`${p.method}: ${m.error.message}`)); else p?.resolve(m.result);
      return;
    }
    for (const h of this.#handlers) h(m.method, m.params || {}, m.sessionId);
  }
  send(method, params = {}, sessionId) {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, method });
      this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }
  on(handler) { this.#handlers.push(handler); }
  close() { this.#ws.close(); }
}

/**
 * Launches the browser with a fresh profile (a first-time visitor: no storage, no cache)
 * and starts recording into `rec` (see Recorder in audit.mjs): rec.target(info),
 * rec.request(...), rec.websocket(...), rec.frameSent(...), rec.wasmCompiled(...).
 */
export async function launchAudited({ rec, chromiumPath = CHROMIUM, locale = 'en-US', viewport = { width: 1000, height: 900 } }) {
  const { chromium } = await npmDeps();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-audit-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, headless: true, args: FLAGS, viewport, locale });
  } catch (err) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw new Error(`could not start Chromium at ${chromiumPath}: ${err.message.split('\n')[0]}`);
  }
  const [port, wsPath] = (await waitForFile(path.join(profile, 'DevToolsActivePort'))).split('\n');
  const devtools = await Devtools.connect(`ws://127.0.0.1:${port}${wsPath}`);
  const pid = findBrowserPid(profile);
  const sessions = new Map(); // sessionId -> target info
  const page = context.pages()[0] || (await context.newPage());
  const probe = await context.newCDPSession(page);
  const ours = { page: (await probe.send('Target.getTargetInfo')).targetInfo.targetId, pages: new Set() };
  await probe.detach();
  const trackers = new Map(); // sessionId -> Map(requestId -> websocket/request record)

  devtools.on((method, p, sessionId) => {
    if (method === 'Target.attachedToTarget') {
      // At the browser's level only the audited page, pages it opens and workers it may have
      // registered (service, shared) are ours; Chromium's own pages (its omnibox popup, say)
      // are not the site's doing.
      const t = p.targetInfo;
      const foreign = /^(chrome|chrome-untrusted|devtools):/.test(t.url) ||
        (!sessionId && t.type === 'page' && t.targetId !== ours.page && !ours.pages.has(t.openerId)) ||
        (!sessionId && !['page', 'service_worker', 'shared_worker'].includes(t.type));
      if (foreign) {
        devtools.send('Runtime.runIfWaitingForDebugger', {}, p.sessionId).catch(() => {})
          .then(() => devtools.send('Target.detachFromTarget', { sessionId: p.sessionId })).catch(() => {});
        return;
      }
      if (t.type === 'page') ours.pages.add(t.targetId);
      return attach(p.sessionId, t, p.waitingForDebugger);
    }
    if (method === 'Target.targetInfoChanged') {
      for (const [sid, info] of sessions) if (info.targetId === p.targetInfo.targetId) { sessions.set(sid, p.targetInfo); rec.targetChanged(p.targetInfo); }
      return;
    }
    if (method === 'Target.detachedFromTarget') { sessions.delete(p.sessionId); return; }
    const target = sessions.get(sessionId);
    if (!target) return;
    const open = trackers.get(sessionId);
    switch (method) {
      case 'Network.requestWillBeSent': {
        const r = p.request;
        open.set(p.requestId, rec.request({ target, url: r.url, method: r.method, type: p.type, initiator: p.initiator, body: bodyOf(r) }));
        // Large bodies are not sent with the event; ask for them (a stratum submit over
        // fetch can hide in a POST too).
        if (r.hasPostData && !bodyOf(r)) {
          devtools.send('Network.getRequestPostData', { requestId: p.requestId }, sessionId)
            .then((d) => rec.requestBody(open.get(p.requestId), d.postData)).catch(() => {});
        }
        break;
      }
      case 'Network.webSocketCreated':
        open.set('ws:' + p.requestId, rec.websocket({ target, url: p.url, initiator: p.initiator }));
        break;
      case 'Network.webSocketFrameSent':
        rec.frameSent(open.get('ws:' + p.requestId), p.response);
        break;
      case 'Network.webSocketFrameReceived': {
        const ws = open.get('ws:' + p.requestId);
        if (ws) ws.framesReceived++;
        break;
      }
      case 'Debugger.scriptParsed':
        if (process.env.CM_AUDIT_DEBUG) console.error('scriptParsed', target.type, p.url.slice(0, 60), p.scriptLanguage);
        if (p.scriptLanguage === 'WebAssembly') rec.wasmCompiled({ target, url: p.url, stackTrace: p.stackTrace, bytes: p.length });
        break;
    }
  });

  async function attach(sessionId, targetInfo, waiting) {
    sessions.set(sessionId, targetInfo);
    trackers.set(sessionId, new Map());
    rec.target(targetInfo);
    const send = (m, p) => devtools.send(m, p, sessionId).catch(() => {});
    // Everything is switched on before the target runs a line (it waits for us), so its
    // first request, worker or compile is seen. Pauses are skipped: enabling the debugger
    // must not let a page's `debugger;` statement stop it.
    await Promise.all([
      send('Network.enable', { maxPostDataSize: 65536 }),
      send('Debugger.enable').then(() => send('Debugger.setSkipAllPauses', { skip: true })),
      send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: true }),
      // The audit runs on machines busy with other work (CI), and the element pauses when
      // the Compute Pressure API says the processor is busy: the pages are told it is
      // not, so what is measured after Accept is the element's own load.
      ...(['page', 'iframe'].includes(targetInfo.type) ? [
        send('Emulation.setPressureSourceOverrideEnabled', { enabled: true, source: 'cpu' })
          .then(() => send('Emulation.setPressureStateOverride', { source: 'cpu', state: 'nominal' }))] : []),
    ]);
    if (waiting) await send('Runtime.runIfWaitingForDebugger');
  }

  await devtools.send('Target.setDiscoverTargets', { discover: true });
  await devtools.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: true });
  // The page existed before auto-attach was switched on, which attaches to targets that
  // exist already too; wait until it is.
  for (let i = 0; i < 100 && ![...sessions.values()].some((t) => t.targetId === ours.page); i++) await sleep(50);
  if (![...sessions.values()].some((t) => t.targetId === ours.page)) {
    await devtools.send('Target.attachToTarget', { targetId: ours.page, flatten: true });
  }
  return {
    context, page, pid, devtools,
    cpu: () => cpuSample(pid),
    async close() {
      try { devtools.close(); } catch {}
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

function bodyOf(r) {
  if (r.postData) return r.postData;
  if (Array.isArray(r.postDataEntries)) {
    return r.postDataEntries.map((e) => (e.bytes ? Buffer.from(e.bytes, 'base64').toString('utf8') : '')).join('');
  }
  return '';
}

async function waitForFile(file, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    try { const s = fs.readFileSync(file, 'utf8'); if (s.includes('\n')) return s; } catch {}
    if (Date.now() > end) throw new Error(`Chromium did not write ${file}`);
    await sleep(50);
  }
}

// The browser process is the one whose command line names our fresh profile and no --type.
function findBrowserPid(profile) {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const args = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (args.includes(`--user-data-dir=${profile}`) && !args.some((a) => a.startsWith('--type='))) return Number(d);
    } catch {}
  }
  throw new Error(`no Chromium process found for profile ${profile}`);
}

function descendants(pid) {
  const children = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch {}
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) || []));
  return out;
}

/**
 * CPU seconds used so far by every thread of the browser and its child processes, read
 * from /proc (what the kernel measured, not what the page says about itself), keyed by
 * "pid/tid", with the thread's name: Chromium names Web Worker threads "DedicatedWorker"
 * (and "SharedWorker", "ServiceWorker"), a renderer's main thread "CrRendererMain".
 */
export function cpuSample(browserPid) {
  const threads = new Map();
  for (const pid of descendants(browserPid)) {
    let tids = [];
    try { tids = fs.readdirSync(`/proc/${pid}/task`); } catch { continue; }
    for (const tid of tids) {
      try {
        const st = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        const t = { name, secs: (Number(f[11]) + Number(f[12])) / HZ, waited: 0 };
        // Time spent runnable but waiting for a processor (schedstat's second field, ns):
        // on a busy machine a spinning worker waits as long as it runs, and a page that
        // times its own busy spells by the clock counts both.
        if (isWorkerThread(name)) {
          try { t.waited = Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e9; } catch {}
        }
        threads.set(`${pid}/${tid}`, t);
      } catch {}
    }
  }
  return { at: performance.now(), threads };
}

const isWorkerThread = (name) => /^(DedicatedWorker|SharedWorker|ServiceWorker)/.test(name);

/**
 * CPU used between two samples, in cores (CPU seconds per wall second): all the browser's
 * processes, its worker threads, and its renderers' main threads. A thread new in `b`
 * counts in full; one gone from `b` (a terminated worker) is not counted after `a`.
 */
export function cpuBetween(a, b) {
  const wall = (b.at - a.at) / 1000;
  let total = 0, workers = 0, main = 0, workerThreads = 0, waited = 0;
  for (const [key, t] of b.threads) {
    const before = a.threads.get(key);
    const used = Math.max(0, t.secs - (before?.secs ?? 0));
    total += used;
    if (isWorkerThread(t.name)) {
      workers += used;
      waited += Math.max(0, t.waited - (before?.waited ?? 0));
      // A thread counts as busy from a twentieth of a core: a controller thread that
      // wakes now and then is not a mining thread.
      if (wall > 0 && used / wall >= 0.05) workerThreads++;
    }
    if (t.name === 'CrRendererMain') main += used;
  }
  const per = (s) => (wall > 0 ? s / wall : 0);
  return { seconds: wall, total: per(total), workers: per(workers), main: per(main), workerThreads, workerSeconds: workers,
    // Cores the worker threads wanted: ran or waited to run.
    workerDemand: per(workers + waited) };
}
