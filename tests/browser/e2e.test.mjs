// <consent-miner> end to end with the REAL parts on two origins (lib/real-stack.mjs): the
// site's page with the host element on one port, the gateway serving the consent frame,
// the runtime and the wasm, /consent/* and /ws on another (--origin <site>), and monerod in
// regtest. The honest path: a real click on a visible disclosure mines, the panel tells
// the truth, stop and revoke end the CPU use, the session is renewed while mining, and
// the page can lower but not raise. When a part is not built yet each test is skipped
// and names it (CM_BROWSER_REQUIRE_REAL=1: fail instead). The attacks: attacks.test.mjs.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib/server.mjs';
import { launch, workerThreads, workerGrowth, workerBusy, assertIdleWithin, assertIdleWithin100ms, taskSeconds, sleep, waitFor, el, frameOf, axeViolations, storedRecord } from './lib/browser.mjs';
import { hideTab, showTab } from './lib/emulate.mjs';
import { missingParts, startStack } from './lib/real-stack.mjs';

const SITE = 'example.org';
// What the frame loads after a yes: the runtime's modules, its worker, the wasm and its glue.
const RUNTIME_FILES = /\/frame\/(miner|worker|gateway|instance|env|consent|bench)\.mjs|\.wasm$|consentminer[^/]*\.m?js$/;
// Short sessions, so that renewal happens within a test (the frame renews a third of the
// lifetime ahead for short sessions).
const SESSION_TTL_S = 30;

const missing = missingParts();
const required = process.env.CM_BROWSER_REQUIRE_REAL === '1';
const skip = missing.length && !required ? `real parts not built: ${missing.join('; ')}` : false;
const real = (name, fn) => test(name, { skip }, async (t) => {
  if (missing.length) throw new Error(`real parts missing: ${missing.join('; ')}`);
  return fn(t);
});

let stack, browser;
const requests = []; // every request the browser made, frames' and workers' included
const sockets = [];
before(async () => {
  if (missing.length) return;
  stack = await startStack({ gatewayArgs: ['--session-ttl', String(SESSION_TTL_S)] });
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
  // The next test starts with no mining left over (a closed page's socket may linger).
  if (stack) await waitFor(async () => (await stack.stats()).connections.websocket === 0, { timeout: 10000, what: 'no open sessions' }).catch(() => {});
});
async function open(attrs = {}, opts = {}) {
  const page = await browser.context.newPage();
  pages.add(page);
  page.on('websocket', (ws) => sockets.push({ url: ws.url(), at: Date.now() }));
  await page.goto(stack.page({ site: SITE, ...attrs }, opts));
  const frame = await frameOf(page);
  await frame.evaluate(() => localStorage.clear());
  await page.reload();
  await frameOf(page);
  await el(page).waitState('ask');
  return page;
}
const fetchedSince = (t0) => requests.filter((r) => r.at >= t0).map((r) => new URL(r.url).pathname);
const openSockets = async () => (await stack.stats()).connections.websocket;

async function acceptByClick(page) {
  await el(page).waitArmed();
  const box = await el(page).button('accept').boundingBox();
  const t0 = Date.now();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await el(page).waitState('running', 30000);
  return t0;
}
async function hashing(page) {
  await waitFor(async () => (await el(page).events('hashrate')).some((e) => e.detail.hashrate > 0),
    { timeout: 40000, what: 'a hash rate above zero from the real runtime' });
}

real('before a yes: only the disclosure loads (no runtime, wasm, worker or socket), no login, idle CPU', async () => {
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
  for (const f of ['/consent-miner.js', '/frame/', '/frame/frame.js', '/frame/texts.js']) assert.ok(fetched.includes(f), `${f} in ${fetched}`);
  assert.deepEqual(sockets.filter((s) => s.at >= t0), []);
  assert.deepEqual(await el(page).probe(), { Worker: 0, SharedWorker: 0, WebSocket: 0, wasm: 0 });
  assert.deepEqual(await el(page).frameProbe(), { Worker: 0, SharedWorker: 0, WebSocket: 0, wasm: 0 });
  assert.equal((await stack.stats()).connections.sessions_total, sessions0, 'no gateway login before consent');
});

real('the disclosure names what, for whom, load, how to stop and how long; the answers look alike; nothing pre-selected', async () => {
  const page = await open({ threads: 1, throttle: 50 });
  const text = await el(page).text();
  const frame = await frameOf(page);
  const cores = await frame.evaluate(() => navigator.hardwareConcurrency);
  for (const words of ['Monero', 'processor (CPU) of this device', `reward goes to ${SITE}`, `1 of the ${cores} processor threads`,
    'about 50% of the time', 'Stop button', 'while this tab is hidden', 'remembered on this device for 24 hours']) {
    assert.ok(text.includes(words), `disclosure lacks "${words}": ${text}`);
  }
  const looks = await frame.evaluate(() => {
    const style = (b) => { const s = getComputedStyle(b); const r = b.getBoundingClientRect();
      return { color: s.color, bg: s.backgroundColor, border: s.borderTopColor + s.borderTopWidth, font: s.fontSize + s.fontWeight, h: r.height }; };
    return { accept: style(document.querySelector('[data-act=accept]')), decline: style(document.querySelector('[data-act=decline]')),
      focused: document.activeElement?.localName, preselected: document.querySelectorAll('[autofocus],[aria-pressed=true],:checked').length };
  });
  assert.deepEqual(looks.accept, looks.decline, 'accept and decline must be equally visible');
  assert.equal(looks.focused, 'body', 'nothing focused inside the frame');
  assert.equal(looks.preselected, 0);
});

real('a real click mines: hash rate, shares verified by the gateway; click to first hash is measured', async () => {
  const page = await open({ threads: 1, throttle: 100 });
  const accepted0 = (await stack.stats()).shares.accepted;
  const t0 = await acceptByClick(page);
  const first = await waitFor(async () => (await el(page).events('hashrate')).find((e) => e.detail.hashes > 0),
    { timeout: 40000, what: 'the first hash' });
  const firstMs = first.at - t0;
  console.log(`# click to first hash: ${firstMs} ms (Chromium, 1 thread, real gateway, no cache)`);
  fs.mkdirSync(path.join(ROOT, 'tests/browser/out'), { recursive: true });
  fs.appendFileSync(path.join(ROOT, 'tests/browser/out/first-hash.txt'), `${new Date().toISOString()} ${firstMs}\n`);
  const share = await waitFor(async () => (await el(page).events('share')).find((e) => e.detail.accepted),
    { timeout: 60000, what: 'a share the gateway accepted' });
  assert.equal(share.detail.error, null);
  const stats = await stack.stats();
  assert.ok(stats.shares.accepted > accepted0, `gateway accepted ${stats.shares.accepted - accepted0} shares`);
  assert.equal(stats.shares.invalid, 0, 'the gateway found no invalid share');
  await hashing(page);
  assert.match(await el(page).locator('[data-stat=cpu]').textContent(), /\d+% per thread/);
  assert.match(await el(page).text(), /Mining threads busy \(measured\)/);
  assert.match(await el(page).text(), /higher than the real use/);
  assert.ok(Number(await el(page).locator('[data-stat=shares]').textContent()) >= 1);
  const busy = await workerBusy(browser.pid, 1000);
  assert.ok(busy.fraction > 0.1, `worker threads busy ${busy.fraction}`);
  const stored = await storedRecord(page);
  assert.equal(stored.value.decision, 'granted');
  assert.match(stored.value.grant, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'the remembered yes is the gateway\'s grant token');
});

real('Enter on the focused Accept button (a real key press) starts the real miner', async () => {
  const page = await open({ threads: 1, throttle: 50 });
  await el(page).waitArmed();
  await el(page).button('accept').focus();
  await page.keyboard.press('Enter');
  await el(page).waitState('running', 30000);
  await hashing(page);
});

// Chromium lets a terminated worker go on for 2 s unless it returns to its event loop;
// the runtime's workers do within a hash, so stop must end their CPU time within 100 ms.
real('stop in the frame: the workers\' CPU time stops growing within 100 ms, and the socket closes', async () => {
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

real('the page can stop and lower, never raise: element.limit() and element.stop()', async () => {
  const page = await open({ threads: 1, throttle: 100 });
  await acceptByClick(page);
  await hashing(page);
  await page.evaluate(() => document.querySelector('consent-miner').limit({ throttle: 50, threads: 64 }));
  await waitFor(async () => (await el(page).locator('[data-out=throttle]').textContent()) === '50%', { what: 'throttle lowered to 50%' });
  assert.equal(await el(page).locator('[data-setting=threads] option').count(), 1, 'the page cannot raise threads');
  await page.evaluate(() => document.querySelector('consent-miner').limit({ throttle: 100 }));
  await sleep(500);
  assert.equal(await el(page).locator('[data-out=throttle]').textContent(), '50%', 'the page cannot raise the throttle back');
  assert.equal(await el(page).locator('input[type=range]').getAttribute('max'), '50');
  const t0 = performance.now();
  await page.evaluate(() => document.querySelector('consent-miner').stop());
  await assertIdleWithin(browser.pid, t0, 500, 'element.stop()');
  await el(page).waitState('stopped');
  assert.equal((await storedRecord(page)).value.stopped, true, 'a stop is remembered');
});

real('a hidden tab pauses the real workers; the panel shows paused figures, then resumes under the same consent', async () => {
  const page = await open({ threads: 1, throttle: 100 });
  await acceptByClick(page);
  await hashing(page);
  const frame = await frameOf(page);
  await hideTab(frame);
  await el(page).waitState('paused');
  assert.match(await el(page).status(), /this tab is hidden/);
  assert.equal(await el(page).locator('[data-stat=hashrate]').textContent(), '0 (paused)');
  assert.equal(await el(page).locator('[data-stat=cpu]').textContent(), '0 (paused)');
  await sleep(1000);
  const paused = await workerBusy(browser.pid, 1500);
  assert.ok(paused.fraction < 0.05, `busy ${paused.fraction.toFixed(3)} while hidden`);
  assert.equal(await el(page).locator('[data-stat=hashrate]').textContent(), '0 (paused)', 'still the paused figure, not the last rate');
  await showTab(frame);
  await el(page).waitState('running');
  await sleep(500);
  const resumed = await workerBusy(browser.pid, 1500);
  assert.ok(resumed.fraction > 0.1, `busy ${resumed.fraction.toFixed(3)} after showing the tab`);
  assert.equal((await el(page).events('consent')).length, 1, 'resumed without a new consent');
});

real('revoke stops the miner, the gateway refuses the grant from then on, and the frame asks again', async () => {
  const page = await open({ threads: 1, throttle: 100 });
  await acceptByClick(page);
  await hashing(page);
  const grant = (await storedRecord(page)).value.grant;
  const box = await el(page).button('revoke').boundingBox();
  const t0 = performance.now();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await assertIdleWithin(browser.pid, t0, 100, 'revoke');
  await el(page).waitState('ask');
  await waitFor(async () => (await openSockets()) === 0, { timeout: 5000, what: 'the socket to close on revoke' });
  assert.match(await el(page).text(), /withdrew your consent/);
  assert.equal((await storedRecord(page)).value.decision, 'revoked', 'the grant is gone from the frame\'s storage');
  const res = await waitFor(async () => {
    const r = await fetch(`${stack.origin}/consent/session`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: stack.origin }, body: JSON.stringify({ grant }) });
    return r.status === 401 && r;
  }, { timeout: 5000, what: 'the gateway to refuse the revoked grant' });
  assert.match((await res.json()).error, /revoked/);
});

real('a remembered yes (the grant) resumes mining on reload with a fresh session; the session is renewed while mining', async () => {
  const page = await open({ threads: 1, throttle: 100 });
  await acceptByClick(page);
  await hashing(page);
  const sessions0 = (await stack.stats()).connections.sessions_total;
  await page.reload();
  await frameOf(page);
  await el(page).waitState('running', 30000);
  await hashing(page);
  assert.equal((await stack.stats()).connections.sessions_total, sessions0 + 1, 'one new login on reload');
  assert.equal((await el(page).events('consent')).length, 0, 'no new consent asked on reload');
  // Past the first session's lifetime the miner still runs on the same connection.
  await sleep((SESSION_TTL_S + 8) * 1000);
  assert.equal(await el(page).state(), 'running');
  const h0 = (await el(page).events('hashrate')).at(-1).detail.hashes;
  await waitFor(async () => (await el(page).events('hashrate')).at(-1).detail.hashes > h0, { timeout: 20000, what: 'hashes after the renewal' });
  assert.equal((await stack.stats()).connections.sessions_total, sessions0 + 1, 'renewed on the same session, no new login');
});

real('axe-core finds no violations in the disclosure and in the running panel', async () => {
  const page = await open({ threads: 1, throttle: 50 });
  assert.deepEqual(await axeViolations(page), []);
  await acceptByClick(page);
  await hashing(page);
  assert.deepEqual(await axeViolations(page), []);
});

real('a gateway restart: the frame reconnects and mines again within 30 s, with no click', async () => {
  const page = await open({ threads: 1, throttle: 100 });
  await acceptByClick(page);
  await hashing(page);
  const accepted0 = (await stack.stats()).shares.accepted;
  const t0 = Date.now();
  await stack.restartGateway(); // SIGTERM drains: the browser is told 1001 "going away"
  // The new gateway process has fresh counters: a session of this browser and a share
  // accepted there mean the runtime logged in again and mined on, with nobody clicking.
  await waitFor(async () => {
    const st = await stack.stats().catch(() => null);
    return st && st.connections.sessions >= 1 && st.shares.accepted >= 1;
  }, { timeout: 30000 + 15000, interval: 500, what: 'a login and an accepted share after the restart' });
  const took = (Date.now() - t0) / 1000;
  assert.ok(took <= 45, `mining again ${took.toFixed(1)} s after the restart`);
  assert.equal(await el(page).state(), 'running', 'the element still says running');
  console.log(`# mining again ${took.toFixed(1)} s after the gateway restart (shares before it: ${accepted0})`);
});
