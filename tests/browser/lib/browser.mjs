// Debian's Chromium driven by playwright-core (never a downloaded browser), with the flags
// of docs/design.md, a fresh profile per launch, and ways to see from outside the page what the
// page costs: the CPU time of its worker threads read from /proc, and the main thread's
// task time from the DevTools Performance domain.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT } from './server.mjs';
import { pressureStandIn } from './emulate.mjs';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const AXE = path.join(ROOT, 'node_modules/axe-core/axe.min.js');
const HZ = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

// Runs in every page before its own scripts: counts Worker, WebSocket and WebAssembly use,
// and records the element's events, so tests can read both with page.evaluate.
function probe() {
  const p = (window.__cmProbe = { Worker: 0, SharedWorker: 0, WebSocket: 0, wasm: 0, events: [] });
  for (const name of ['Worker', 'SharedWorker', 'WebSocket']) {
    const Orig = window[name];
    if (!Orig) continue;
    window[name] = new Proxy(Orig, { construct(target, args, nt) { p[name]++; return Reflect.construct(target, args, nt); } });
  }
  for (const fn of ['compile', 'compileStreaming', 'instantiate', 'instantiateStreaming', 'validate']) {
    const orig = WebAssembly[fn];
    if (orig) WebAssembly[fn] = function (...a) { p.wasm++; return orig.apply(this, a); };
  }
  WebAssembly.Module = new Proxy(WebAssembly.Module, { construct(t, a, nt) { p.wasm++; return Reflect.construct(t, a, nt); } });
  for (const type of ['consent', 'decline', 'revoke', 'start', 'stop', 'pause', 'resume', 'hashrate', 'share', 'error', 'state']) {
    // Capture phase: the element's events do not bubble, but a document's capturing
    // listener still sees them on their way down.
    document.addEventListener(type, (e) => {
      if (e.target?.localName === 'consent-miner') p.events.push({ type, detail: JSON.parse(JSON.stringify(e.detail ?? null)), at: Date.now() });
    }, true);
  }
}

export async function launch({ viewport = { width: 800, height: 900 }, locale = 'en-US', keepRealPressure = false } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, viewport, locale,
  });
  await context.addInitScript(probe);
  // The machine running the tests is shared and often busy, and Chromium's real Compute
  // Pressure reading would pause mining at random; pages get a PressureObserver the
  // tests drive instead (lib/emulate.mjs). The element's use of it is tested there.
  if (!keepRealPressure) await context.addInitScript(pressureStandIn);
  const pid = findBrowserPid(profile);
  return {
    context, pid,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
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
  throw new Error(`no chromium process found for profile ${profile}`);
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
 * CPU seconds used so far by each of the browser's Web Worker threads (Chromium names
 * them "DedicatedWorker"), keyed by thread id, read from /proc: what the kernel measured,
 * not what the page says about itself. A terminated worker's thread may exit and vanish,
 * so compare samples with workerGrowth, never by their sums.
 */
export function workerThreads(browserPid) {
  const out = new Map();
  for (const pid of descendants(browserPid)) {
    let tids = [];
    try { tids = fs.readdirSync(`/proc/${pid}/task`); } catch { continue; }
    for (const tid of tids) {
      try {
        if (!fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').startsWith('DedicatedWorker')) continue;
        const st = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        out.set(`${pid}/${tid}`, (Number(f[11]) + Number(f[12])) / HZ); // utime + stime
      } catch {}
    }
  }
  return out;
}

/** Worker CPU seconds spent between two samples; a thread new in `b` counts in full. */
export function workerGrowth(a, b) {
  let s = 0;
  for (const [tid, secs] of b) s += secs - (a.get(tid) ?? 0);
  return s;
}

/** Worker CPU time during `ms` milliseconds, also as a fraction of one thread's time. */
export async function workerBusy(browserPid, ms) {
  const a = workerThreads(browserPid);
  const t0 = performance.now();
  await sleep(ms);
  const b = workerThreads(browserPid);
  const seconds = workerGrowth(a, b);
  return { seconds, fraction: seconds / ((performance.now() - t0) / 1000) };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Checks that the worker threads are idle `within` ms after t0 (a performance.now() taken
 * just before the stop was clicked): at most one /proc tick (10 ms) of worker CPU time
 * between `within` and `within` + 600 ms. Otherwise it keeps watching until they have
 * been quiet for 300 ms and says how long they went on. Rule 5 of docs/design.md: 100 ms.
 */
export async function assertIdleWithin(browserPid, t0, within, what = 'stop') {
  await sleep(Math.max(0, t0 + within - performance.now()));
  const a = workerThreads(browserPid);
  await sleep(600);
  let prev = workerThreads(browserPid);
  const grew = workerGrowth(a, prev);
  // Compared in whole ticks: 0.53 - 0.52 is 0.010000000000000009 in doubles, and one tick
  // is what the comment above allows.
  if (Math.round(grew * HZ) <= 1) return;
  let last = performance.now();
  while (performance.now() - t0 < within + 6000 && performance.now() - last < 300) {
    await sleep(50);
    const cur = workerThreads(browserPid);
    if (workerGrowth(prev, cur) > 0.005) last = performance.now();
    prev = cur;
  }
  throw new Error(`after ${what}, the worker threads used ${grew.toFixed(2)} s of CPU between ${within} and ` +
    `${within + 600} ms, and went idle only about ${Math.round(last - t0)} ms after it (docs/design.md rule 5: 100 ms)`);
}
export const assertIdleWithin100ms = (pid, t0, what) => assertIdleWithin(pid, t0, 100, what);

/** Main-thread task time (seconds) from the DevTools Performance domain. */
export async function taskSeconds(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return metrics.find((m) => m.name === 'TaskDuration').value;
}

export async function waitFor(fn, { timeout = 10000, interval = 100, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(interval);
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

// --- the element and its consent frame, seen from the test --------------------------
/** The consent frame (a Frame) inside the page's <consent-miner>, once it has loaded. */
export async function frameOf(page, timeout = 15000) {
  const handle = await page.locator('consent-miner iframe').elementHandle({ timeout });
  let frame = null;
  await waitFor(async () => (frame = await handle.contentFrame()) && frame.url().includes('/frame/') &&
    (await frame.locator('#cm > *').count().catch(() => 0)) > 0, { timeout, what: 'the consent frame to render' });
  return frame;
}

/** Waits until the consent frame has stayed where it is for `quiet` ms. Chromium drops
 * input aimed at a cross-origin frame that moved in the last 500 ms (its defence against
 * frames slid under the pointer), and a frame that was just created or resized to its
 * content counts as moved: a click sent sooner is lost, as a real visitor's would be. */
export async function frameSettled(page, { quiet = 700, timeout = 10000 } = {}) {
  const frame = page.locator('consent-miner iframe');
  const t0 = Date.now();
  let last = null, since = Date.now();
  for (;;) {
    const b = await frame.boundingBox();
    const key = b && `${b.x},${b.y},${b.width},${b.height}`;
    if (key !== last) { last = key; since = Date.now(); }
    else if (key && Date.now() - since >= quiet) return b;
    if (Date.now() - t0 > timeout) throw new Error(`the consent frame kept moving for ${timeout} ms (last box ${key})`);
    await sleep(100);
  }
}

export const el = (page) => {
  const inner = () => page.frameLocator('consent-miner iframe');
  return {
    frame: () => frameOf(page),
    state: () => page.evaluate(() => document.querySelector('consent-miner')?.state),
    button: (act) => inner().locator(`[data-act="${act}"]`),
    locator: (sel) => inner().locator(sel),
    status: () => inner().locator('[data-status]').textContent(),
    text: () => inner().locator('#cm').textContent(),
    events: (type) => page.evaluate((t) => window.__cmProbe.events.filter((e) => !t || e.type === t), type),
    probe: () => page.evaluate(() => { const { events, ...rest } = window.__cmProbe; return rest; }),
    async frameProbe() { const f = await frameOf(page); return f.evaluate(() => { const { events, ...rest } = window.__cmProbe; return rest; }); },
    /** Waits until the frame's visibility guard has seen the disclosure fully visible for
     * its minimum time (1 s), so that a real click on Accept counts. */
    async waitArmed(timeout = 15000) {
      const f = await frameOf(page);
      await waitFor(() => f.evaluate(() => document.documentElement.dataset.visible === 'yes'), { timeout, what: 'the frame to see itself fully visible' });
      await sleep(1300);
      await frameSettled(page);
    },
    async waitState(want, timeout = 15000) {
      const wanted = [].concat(want);
      let s;
      try {
        return await waitFor(async () => wanted.includes(s = await page.evaluate(() => document.querySelector('consent-miner')?.state)) && s,
          { timeout, what: `element state ${wanted}` });
      } catch {
        const text = await inner().locator('#cm').textContent().catch(() => '?');
        throw new Error(`element state is ${s}, not ${wanted}, after ${timeout} ms: ${text}`);
      }
    },
  };
};

/** axe-core violations inside the consent frame (evaluated through DevTools: the frame's
 * CSP rightly refuses script tags from elsewhere). */
export async function axeViolations(page) {
  const frame = await frameOf(page);
  await frame.evaluate(fs.readFileSync(AXE, 'utf8'));
  return frame.evaluate(async () => {
    const r = await window.axe.run({ include: [['#cm']] }, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
}

/** The stored choice, as the frame wrote it in its own storage. */
export async function storedRecord(page) {
  const frame = await frameOf(page);
  return frame.evaluate(() => {
    const k = Object.keys(localStorage).find((x) => x.startsWith('consent-miner:'));
    return k ? { key: k, value: JSON.parse(localStorage.getItem(k)) } : null;
  });
}
