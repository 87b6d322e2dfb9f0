// <consent-miner> end to end with the REAL parts: the wasm runtime (wasm/js/miner.mjs and
// build/wasm), `consentminer gateway` serving the page and /ws, and monerod in regtest,
// all started here on 127.0.0.1. The consent-critical checks of issue 6 run here against
// real workers hashing RandomX and a gateway verifying every share. When a part is not
// built yet each test is skipped and names it (CM_BROWSER_REQUIRE_REAL=1: fail instead).
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib/server.mjs';
import { launch, workerThreads, workerGrowth, workerBusy, assertIdleWithin, assertIdleWithin100ms, taskSeconds, sleep, waitFor, el, axeViolations, storedRecord } from './lib/browser.mjs';
import { hideTab, showTab } from './lib/emulate.mjs';
import { missingParts, startStack } from './lib/real-stack.mjs';

const SHOTS = path.join(ROOT, 'docs/screenshots');
const SITE = 'example.org';
// What the runtime loads after a yes: its modules, its worker, the wasm and Emscripten's glue.
const RUNTIME_FILES = /\/wasm\/js\/|\/build\/wasm\/|\.wasm$|worker/i;

const missing = missingParts();
const required = process.env.CM_BROWSER_REQUIRE_REAL === '1';
const skip = missing.length && !required ? `real parts not built: ${missing.join('; ')}` : false;
const real = (name, fn) => test(name, { skip }, async (t) => {
  if (missing.length) throw new Error(`real parts missing: ${missing.join('; ')}`);
  return fn(t);
});

let stack, browser;
const requests = []; // every request the browser made, workers' included: { url, at }
const sockets = []; // every WebSocket a page opened
before(async () => {
  if (missing.length) return;
  stack = await startStack();
  browser = await launch();
  browser.context.on('request', (r) => requests.push({ url: r.url(), at: Date.now() }));
});
after(async () => {
  await browser?.close();
  await stack?.close();
});

const pages = new Set();
afterEach(async () => {
  for (const p of pages) await p.close().catch(() => {});
  pages.clear();
});
async function open(attrs = {}) {
  const page = await browser.context.newPage();
  pages.add(page);
  page.on('websocket', (ws) => sockets.push({ url: ws.url(), at: Date.now() }));
  await page.goto(stack.page({ site: SITE, ...attrs }));
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.locator('consent-miner h2').waitFor();
  return page;
}
const fetchedSince = (t0) => requests.filter((r) => r.at >= t0).map((r) => new URL(r.url).pathname);
const openSockets = async () => (await stack.stats()).connections.websocket;

async function acceptByClick(page) {
  await el(page).button('accept').click();
  await el(page).waitState('running', 30000);
}
async function hashing(page) {
  await waitFor(async () => (await el(page).events('hashrate')).some((e) => e.detail.hashrate > 0),
    { timeout: 40000, what: 'a hash rate above zero from the real runtime' });
}

real('before a yes: no wasm, worker script or WebSocket is fetched, and the CPU stays idle', async () => {
  const t0 = Date.now();
  const sessions0 = (await stack.stats()).connections.sessions_total;
  const page = await open();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await sleep(300);
  const task0 = await taskSeconds(cdp);
  const cpu0 = workerThreads(browser.pid);
  await sleep(2500);
  const task1 = await taskSeconds(cdp);
  assert.equal(workerGrowth(cpu0, workerThreads(browser.pid)), 0, 'worker threads used CPU before consent');
  assert.ok(task1 - task0 < 0.05, `main thread busy ${((task1 - task0) * 1000).toFixed(1)} ms in 2.5 s of idle`);
  const fetched = fetchedSince(t0);
  assert.deepEqual(fetched.filter((p) => RUNTIME_FILES.test(p)), [], 'runtime files fetched before consent');
  assert.ok(fetched.includes('/consent-ui/consent-miner.js'));
  assert.deepEqual(sockets.filter((s) => s.at >= t0), []);
  assert.deepEqual(await el(page).probe(), { Worker: 0, SharedWorker: 0, WebSocket: 0, wasm: 0 });
  assert.equal((await stack.stats()).connections.sessions_total, sessions0, 'no gateway login before consent');
});

real('a scripted click and a direct runtime start without consent both fail to start mining', async () => {
  const page = await open();
  const t0 = Date.now();
  const sessions0 = (await stack.stats()).connections.sessions_total;
  await page.evaluate(() => {
    const b = document.querySelector('consent-miner').shadowRoot.querySelector('[data-act=accept]');
    b.click();
    b.dispatchEvent(new MouseEvent('click', { bubbles: true, composed: true }));
  });
  // The real runtime, imported and started by a page script, bypassing the element.
  const results = await page.evaluate(async () => {
    const { createMiner } = await import('/wasm/js/miner.mjs');
    const now = Date.now();
    const records = [undefined, null, {}, { granted_at: now - 2e3, expires_at: now - 1e3, threads: 1, throttle: 50 },
      { granted_at: now, expires_at: now + 31 * 864e5, threads: 1, throttle: 50 },
      { granted_at: now + 3600e3, expires_at: now + 7200e3, threads: 1, throttle: 50 },
      { granted_at: now, expires_at: now + 1e5, threads: 1, throttle: 0 }];
    const out = [];
    for (const r of records) {
      const m = createMiner({ gateway: `ws://${location.host}/ws` });
      try { await m.start(r); out.push('started'); m.stop(); } catch (e) { out.push(e.reason || e.message); }
    }
    return out;
  });
  assert.deepEqual(results, ['no-consent', 'no-consent', 'consent-invalid', 'consent-expired', 'consent-invalid',
    'consent-invalid', 'consent-invalid']);
  await sleep(1500);
  assert.equal(await el(page).state(), 'ask');
  const fetched = fetchedSince(t0);
  assert.deepEqual(fetched.filter((p) => /\.wasm$|worker|\/build\/wasm\//.test(p)), [], 'wasm or worker fetched without consent');
  const probe = await el(page).probe();
  assert.equal(probe.Worker + probe.WebSocket + probe.wasm, 0, JSON.stringify(probe));
  assert.equal((await stack.stats()).connections.sessions_total, sessions0, 'no gateway login without consent');
  assert.equal(workerThreads(browser.pid).size === 0 || (await workerBusy(browser.pid, 500)).seconds === 0, true);
});

real('a real click mines: hash rate above zero and shares verified by the gateway', async () => {
  const page = await open({ threads: 1, throttle: 100 });
  const accepted0 = (await stack.stats()).shares.accepted;
  await acceptByClick(page);
  await hashing(page);
  const share = await waitFor(async () => (await el(page).events('share')).find((e) => e.detail.accepted),
    { timeout: 60000, what: 'a share the gateway accepted' });
  assert.equal(share.detail.error, null);
  const stats = await stack.stats();
  assert.ok(stats.shares.accepted > accepted0, `gateway accepted ${stats.shares.accepted - accepted0} shares`);
  assert.equal(stats.shares.invalid, 0, 'the gateway found no invalid share');
  assert.ok(stats.hashrate.verified_60s > 0);
  assert.match(await page.locator('consent-miner [data-stat=cpu]').textContent(), /\d+% per thread/);
  assert.ok(Number(await page.locator('consent-miner [data-stat=shares]').textContent()) >= 1);
  const busy = await workerBusy(browser.pid, 1000);
  assert.ok(busy.fraction > 0.1, `worker threads busy ${busy.fraction}`);
  // The running panel, for the README: English, then the same panel in Japanese.
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.setViewportSize({ width: 760, height: 800 });
  await waitFor(async () => (await el(page).events('hashrate')).at(-1).detail.hashrate > 1.5, { timeout: 15000, what: 'a steady hash rate' })
    .catch(() => {}); // a slower machine still gets its screenshot
  await page.locator('consent-miner').screenshot({ path: path.join(SHOTS, 'panel-en.png') });
  await page.evaluate(() => document.querySelector('consent-miner').setAttribute('lang', 'ja'));
  assert.match(await el(page).text(), /のために Monero をマイニング中/);
  await page.locator('consent-miner').screenshot({ path: path.join(SHOTS, 'panel-ja.png') });
  assert.equal(await el(page).state(), 'running', 'changing the language does not interrupt mining');
});

real('Enter on the focused accept button starts the real miner', async () => {
  const page = await open({ threads: 1, throttle: 50 });
  await el(page).button('accept').focus();
  await page.keyboard.press('Enter');
  await el(page).waitState('running', 30000);
  await hashing(page);
});

// Chromium lets a terminated worker that is still running script go on for 2 s before it
// forces it to stop (Blink's worker_thread.cc, kForcibleTerminationDelay; whatwg/html#6210),
// so terminate() alone cannot meet rule 5 while a worker is inside a RandomX hash (about
// 0.4 s in wasm): the workers must get back to their event loop well within 100 ms.
real('stop: the real workers\' CPU time stops growing within 100 ms, and the socket closes', async () => {
  const page = await open({ threads: 2, throttle: 100 });
  await acceptByClick(page);
  await hashing(page);
  const running = await workerBusy(browser.pid, 500);
  assert.ok(running.seconds > 0, 'workers busy before stop');
  const box = await el(page).button('stop').boundingBox();
  const t0 = performance.now();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await assertIdleWithin100ms(browser.pid, t0);
  assert.equal(await el(page).state(), 'stopped');
  await waitFor(async () => (await openSockets()) === 0, { timeout: 5000, what: 'the gateway to see the socket close' });
});

real('throttle 50% set from the keyboard: the measured busy fraction stays within 10 points of 50', async () => {
  const page = await open({ threads: 1, throttle: 100 });
  await acceptByClick(page);
  await hashing(page);
  await page.locator('consent-miner input[type=range]').focus();
  for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowLeft');
  await waitFor(async () => (await storedRecord(page)).value.throttle === 50, { what: 'throttle 50 stored' });
  await sleep(4000); // the runtime's CPU window is 3 s
  const shown = [];
  const kernel = workerBusy(browser.pid, 5000);
  for (let i = 0; i < 5; i++) {
    await sleep(1000);
    shown.push(Number((await page.locator('consent-miner [data-stat=cpu]').textContent()).match(/\d+/)[0]));
  }
  const busy = await kernel;
  const mean = shown.reduce((a, b) => a + b, 0) / shown.length;
  // The panel shows what the workers measured (rule 5); the kernel's count can only be
  // lower on a busy shared machine (a worker waits for a core), so it gets the upper bound.
  assert.ok(Math.abs(mean - 50) <= 10, `panel showed ${shown.join(', ')}%`);
  assert.ok(busy.fraction <= 0.6 && busy.fraction > 0.1, `kernel-measured busy fraction ${busy.fraction.toFixed(3)}`);
});

real('a hidden tab pauses the real workers and resumes them under the same consent', async () => {
  const page = await open({ threads: 1, throttle: 100 });
  await acceptByClick(page);
  await hashing(page);
  await hideTab(page);
  await el(page).waitState('paused');
  assert.match(await el(page).status(), /this tab is hidden/);
  await sleep(1000); // a hash already under way finishes (about 0.4 s in wasm)
  const paused = await workerBusy(browser.pid, 1500);
  assert.ok(paused.fraction < 0.05, `busy ${paused.fraction.toFixed(3)} while hidden`);
  await showTab(page);
  await el(page).waitState('running');
  await sleep(500);
  const resumed = await workerBusy(browser.pid, 1500);
  assert.ok(resumed.fraction > 0.1, `busy ${resumed.fraction.toFixed(3)} after showing the tab`);
  assert.equal((await el(page).events('consent')).length, 1, 'resumed without a new consent');
});

real('revocation stops the real miner and asks again', async () => {
  const page = await open({ threads: 1, throttle: 100 });
  await acceptByClick(page);
  await hashing(page);
  const box = await el(page).button('revoke').boundingBox();
  const t0 = performance.now();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  // That the workers end (revoke is a stop); the 100 ms of rule 5 is the stop test's.
  await assertIdleWithin(browser.pid, t0, 2500, 'revoke');
  await el(page).waitState('ask');
  await waitFor(async () => (await openSockets()) === 0, { timeout: 5000, what: 'the socket to close on revoke' });
  assert.match(await el(page).text(), /withdrew your consent/);
});

real('a remembered yes resumes the real miner on load; at expiry it stops and asks again', async () => {
  const page = await open({ threads: 1, throttle: 100 });
  await page.evaluate(({ site }) => {
    const key = `consent-miner:v1:${site}|ws://${location.host}/ws`;
    const now = Date.now();
    localStorage.setItem(key, JSON.stringify({ v: 1, decision: 'granted', granted_at: now - 3600e3, expires_at: now + 6000, threads: 1, throttle: 100 }));
  }, { site: SITE });
  await page.reload();
  await el(page).waitState('running', 30000);
  await el(page).waitState('ask', 20000);
  await assertIdleWithin(browser.pid, performance.now(), 2500, 'expiry');
  assert.match(await el(page).text(), /consent has expired/);
});

real('axe-core finds no violations in the running panel', async () => {
  const page = await open({ threads: 1, throttle: 50 });
  assert.deepEqual(await axeViolations(page), []);
  await acceptByClick(page);
  await hashing(page);
  assert.deepEqual(await axeViolations(page), []);
});
