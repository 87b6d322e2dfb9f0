// <consent-miner> in headless Chromium, against the TEST DOUBLE runtime
// (fixtures/fake-miner.mjs: same API as wasm/js/miner.mjs, burns CPU in real workers,
// hashes nothing, connects nowhere). These tests are fast and cover the element's own
// behaviour; e2e.test.mjs repeats the consent-critical ones with the real runtime, the
// real gateway and a regtest monerod.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, ROOT } from './lib/server.mjs';
import { launch, workerThreads, workerGrowth, workerBusy, assertIdleWithin100ms, taskSeconds, sleep, waitFor, el, axeViolations, storedRecord } from './lib/browser.mjs';
import { hideTab, showTab, batteryStandIn } from './lib/emulate.mjs';

const FAKE = '/tests/browser/fixtures/fake-miner.mjs';
const SHOTS = path.join(ROOT, 'docs/screenshots');
const OUT = path.join(ROOT, 'tests/browser/out');
const SITE = 'example.org';
const RUNTIME_FILES = /fake-miner\.mjs|fake-worker\.js|\.wasm$|\/wasm\/js\/|worker/i;

let server, browser;
before(async () => {
  server = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

// A fresh page per test on the same origin; each test starts from empty storage, and
// its pages are closed after it, passed or not (an open page would hold the mining lock).
const pages = new Set();
afterEach(async () => {
  for (const p of pages) await p.close().catch(() => {});
  pages.clear();
});
async function newPage() {
  const page = await browser.context.newPage();
  pages.add(page);
  return page;
}
async function open(attrs = {}, { init } = {}) {
  const page = await newPage();
  if (init) await page.addInitScript(init);
  await page.goto(server.page({ site: SITE, runtime: FAKE, ...attrs }));
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.locator('consent-miner h2, consent-miner p').first().waitFor();
  return page;
}
const since = (t0) => server.log.filter((r) => r.at >= t0).map((r) => r.path);

async function acceptByClick(page) {
  await el(page).button('accept').click();
  await el(page).waitState('running');
}

test('before a yes: only the element loads, no worker, socket or wasm, and the CPU stays idle', async () => {
  const t0 = Date.now();
  const page = await open();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await sleep(300);
  const task0 = await taskSeconds(cdp);
  const cpu0 = workerThreads(browser.pid);
  await sleep(2000);
  const task1 = await taskSeconds(cdp);
  const cpu1 = workerThreads(browser.pid);
  const fetched = since(t0);
  assert.deepEqual(fetched.filter((p) => RUNTIME_FILES.test(p)), [], 'runtime files fetched before consent');
  assert.ok(fetched.includes('/consent-ui/consent-miner.js') && fetched.includes('/consent-ui/texts.js'));
  assert.equal(server.log.filter((r) => r.upgrade && r.at >= t0).length, 0, 'WebSocket upgrade before consent');
  assert.deepEqual(await el(page).probe(), { Worker: 0, SharedWorker: 0, WebSocket: 0, wasm: 0 });
  assert.equal(workerGrowth(cpu0, cpu1), 0, 'worker threads used CPU before consent');
  assert.ok(task1 - task0 < 0.05, `main thread busy ${((task1 - task0) * 1000).toFixed(1)} ms in 2 s of idle`);
  assert.equal(await el(page).state(), 'ask');
  await page.close();
});

test('the disclosure names what, for whom, load, threads, how to stop and how long; accept and decline look alike', async () => {
  const page = await open({ threads: 1, throttle: 50 });
  const text = await el(page).text();
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  for (const words of ['Monero', 'processor (CPU) of this device', `reward goes to ${SITE}`, `1 of the ${cores} processor threads`,
    'about 50% of the time', `about ${Math.max(1, Math.round(50 / cores))}% of the whole processor`, 'Stop button',
    'remembered on this device for 24 hours']) {
    assert.ok(text.includes(words), `disclosure lacks "${words}": ${text}`);
  }
  const looks = await page.evaluate(() => {
    const root = document.querySelector('consent-miner').shadowRoot;
    const style = (b) => { const s = getComputedStyle(b); const r = b.getBoundingClientRect();
      return { color: s.color, bg: s.backgroundColor, border: s.borderTopColor + s.borderTopWidth, font: s.fontSize + s.fontWeight, h: r.height }; };
    return { accept: style(root.querySelector('[data-act=accept]')), decline: style(root.querySelector('[data-act=decline]')),
      active: document.activeElement?.localName, inner: root.activeElement?.localName ?? null,
      preselected: root.querySelectorAll('[autofocus],[aria-pressed=true],:checked').length };
  });
  assert.deepEqual(looks.accept, looks.decline, 'accept and decline must be equally visible');
  assert.equal(looks.inner, null, 'nothing focused or pre-selected inside the element');
  assert.equal(looks.preselected, 0);
  await page.close();
});

test('a scripted click, a dispatched click or key press does not start mining', async () => {
  const t0 = Date.now();
  const page = await open();
  await page.evaluate(() => {
    const b = document.querySelector('consent-miner').shadowRoot.querySelector('[data-act=accept]');
    b.click();
    b.dispatchEvent(new MouseEvent('click', { bubbles: true, composed: true }));
    b.focus();
    b.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    b.dispatchEvent(new KeyboardEvent('keyup', { key: 'Enter', bubbles: true }));
  });
  await sleep(1500);
  assert.equal(await el(page).state(), 'ask');
  assert.deepEqual(since(t0).filter((p) => RUNTIME_FILES.test(p)), []);
  assert.equal((await el(page).probe()).Worker, 0);
  assert.equal((await el(page).events('consent')).length, 0);
  const errors = await el(page).events('error');
  assert.ok(errors.length >= 2 && errors.every((e) => e.detail.reason === 'untrusted-gesture'));
  assert.equal(await storedRecord(page), null, 'nothing remembered from an untrusted click');
  await page.close();
});

test('the (fake) runtime refuses start() without a valid consent record', async () => {
  const page = await open();
  const results = await page.evaluate(async (url) => {
    const { createMiner } = await import(url);
    const now = Date.now();
    const tries = [undefined, {}, { granted_at: now - 2e3, expires_at: now - 1e3, threads: 1, throttle: 50 },
      { granted_at: now, expires_at: now + 31 * 864e5, threads: 1, throttle: 50 },
      { granted_at: now, expires_at: now + 1e5, threads: 0, throttle: 50 }];
    const out = [];
    for (const c of tries) {
      const m = createMiner({ gateway: 'ws://127.0.0.1:9/ws' });
      try { await m.start(c); out.push('started'); m.stop(); } catch (e) { out.push(e.message); }
    }
    return out;
  }, FAKE);
  assert.ok(results.every((r) => r !== 'started'), JSON.stringify(results));
  assert.equal((await el(page).probe()).Worker, 0);
  await page.close();
});

test('a real click starts mining; the panel shows measured CPU, hash rate and shares', async () => {
  const page = await open({ threads: 1, throttle: 50 });
  const t0 = Date.now();
  await acceptByClick(page);
  const [consent] = await el(page).events('consent');
  assert.ok(consent.detail.granted_at >= t0 - 1000);
  assert.equal(consent.detail.expires_at - consent.detail.granted_at, 24 * 3600e3);
  assert.equal(consent.detail.threads, 1);
  assert.equal(consent.detail.throttle, 50);
  await waitFor(async () => (await el(page).events('hashrate')).length > 0, { what: 'a hashrate event' });
  await waitFor(async () => (await el(page).events('share')).length > 0, { what: 'a share event' });
  const cpuText = await page.locator('consent-miner [data-stat=cpu]').textContent();
  assert.match(cpuText, /\d+% per thread/);
  assert.notEqual(await page.locator('consent-miner [data-stat=hashrate]').textContent(), '—');
  const busy = await workerBusy(browser.pid, 1500);
  assert.ok(busy.fraction > 0.1, `worker busy ${busy.fraction}`);
  const rec = await storedRecord(page);
  assert.equal(rec.value.decision, 'granted');
  await page.locator('consent-miner').screenshot({ path: path.join(OUT, 'panel-fake-en.png') });
  await page.close();
});

test('Enter on the focused accept button starts mining', async () => {
  const page = await open();
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.querySelector('consent-miner').shadowRoot.activeElement?.dataset.act) === 'accept') break;
  }
  const outline = await page.evaluate(() => {
    const b = document.querySelector('consent-miner').shadowRoot.activeElement;
    const s = getComputedStyle(b);
    return { act: b.dataset.act, style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
  });
  assert.equal(outline.act, 'accept', 'Tab reaches the accept button');
  assert.ok(outline.style !== 'none' && outline.width >= 2, `visible focus: ${JSON.stringify(outline)}`);
  await page.keyboard.press('Enter');
  await el(page).waitState('running');
  await page.close();
});

test('stop terminates the workers: their CPU time stops growing within 100 ms', async () => {
  const page = await open({ threads: 2, throttle: 100 });
  await acceptByClick(page);
  await sleep(800);
  const box = await el(page).button('stop').boundingBox();
  const running = await workerBusy(browser.pid, 300);
  assert.ok(running.seconds > 0, 'workers busy before stop');
  const t0 = performance.now();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await assertIdleWithin100ms(browser.pid, t0);
  assert.equal(await el(page).state(), 'stopped');
  assert.equal((await el(page).events('stop')).length, 1);
  // A stop is remembered: a reload shows the stopped panel and loads nothing.
  const reloaded = Date.now();
  await page.reload();
  await el(page).waitState('stopped');
  await sleep(500);
  assert.deepEqual(since(reloaded).filter((p) => RUNTIME_FILES.test(p)), []);
  await page.close();
});

test('throttle 50% from the keyboard: measured busy fraction within 10 points; scripts cannot raise it', async () => {
  const page = await open({ threads: 1, throttle: 100 });
  await acceptByClick(page);
  await page.locator('consent-miner input[type=range]').focus();
  for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowLeft');
  await waitFor(async () => (await storedRecord(page)).value.throttle === 50, { what: 'throttle 50 stored' });
  assert.equal(await page.locator('consent-miner output').textContent(), '50%');
  await sleep(1500);
  const busy = await workerBusy(browser.pid, 4000);
  const shown = Number((await page.locator('consent-miner [data-stat=cpu]').textContent()).match(/\d+/)[0]);
  // The panel shows the busy fraction the workers measured (rule 5): within 10 points.
  // The kernel's count can only be lower than that on a shared, busy machine (a spinning
  // worker waits for a core), so it is held to the upper bound, and must be above zero.
  assert.ok(Math.abs(shown - 50) <= 10, `panel shows ${shown}%`);
  assert.ok(busy.fraction <= 0.6 && busy.fraction > 0.1, `kernel-measured busy fraction ${busy.fraction.toFixed(3)}`);
  // A synthetic change event must not raise the cost.
  await page.evaluate(() => {
    const r = document.querySelector('consent-miner').shadowRoot.querySelector('input[type=range]');
    r.value = '100';
    r.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await sleep(300);
  assert.equal((await storedRecord(page)).value.throttle, 50);
  assert.equal(await page.locator('consent-miner input[type=range]').inputValue(), '50');
  await page.close();
});

test('a hidden tab pauses mining and says why; showing it resumes under the same consent', async () => {
  const page = await open({ threads: 1, throttle: 100 });
  await acceptByClick(page);
  await hideTab(page);
  await el(page).waitState('paused');
  assert.match(await el(page).status(), /this tab is hidden/);
  await sleep(300);
  const paused = await workerBusy(browser.pid, 1000);
  assert.ok(paused.fraction < 0.05, `busy ${paused.fraction} while hidden`);
  await showTab(page);
  await el(page).waitState('running');
  const resumed = await workerBusy(browser.pid, 1000);
  assert.ok(resumed.fraction > 0.1, `busy ${resumed.fraction} after showing`);
  assert.equal((await el(page).events('consent')).length, 1, 'no new consent needed');
  assert.deepEqual((await el(page).events('pause')).map((e) => e.detail.reason), ['hidden']);
  // A remembered yes in a tab that opens hidden loads nothing until it is shown.
  await page.addInitScript(() => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
  });
  const t0 = Date.now();
  await page.reload();
  await sleep(800);
  assert.equal(await el(page).state(), 'loading');
  assert.deepEqual(since(t0).filter((p) => RUNTIME_FILES.test(p)), [], 'nothing loaded while hidden');
  await showTab(page);
  await el(page).waitState('running');
  await page.close();
});

test('on battery and under CPU pressure mining pauses, with the reason on the panel', async () => {
  const page = await open({ threads: 1, throttle: 100 }, { init: batteryStandIn });
  await acceptByClick(page);
  await page.evaluate(() => window.__battery.set(false));
  await el(page).waitState('paused');
  assert.match(await el(page).status(), /on battery/);
  await page.evaluate(() => window.__pressure.emit('critical'));
  await waitFor(async () => /heavy load/.test(await el(page).status()), { what: 'pressure reason shown' });
  assert.match(await el(page).status(), /on battery, the processor is under heavy load/);
  await page.evaluate(() => window.__battery.set(true));
  await sleep(300);
  assert.equal(await el(page).state(), 'paused', 'still paused under pressure');
  const paused = await workerBusy(browser.pid, 800);
  assert.ok(paused.fraction < 0.05, `busy ${paused.fraction} while paused`);
  await page.evaluate(() => window.__pressure.emit('nominal'));
  await el(page).waitState('running', 6000);
  assert.deepEqual((await el(page).events('pause')).map((e) => e.detail.reason), ['battery', 'pressure']);
  await page.close();
});

test('a remembered yes restarts on reload; when it expires the visitor is asked again', async () => {
  const page = await open({ threads: 1, throttle: 50 });
  await acceptByClick(page);
  await page.reload();
  await el(page).waitState('running');
  assert.equal((await el(page).events('consent')).length, 0, 'no new consent event after reload');
  // Expiry while mining: shorten the stored record to 2.5 s from now and reload.
  await page.evaluate(() => {
    const k = Object.keys(localStorage).find((x) => x.startsWith('consent-miner:'));
    const r = JSON.parse(localStorage.getItem(k));
    r.granted_at = Date.now() - 3600e3;
    r.expires_at = Date.now() + 2500;
    localStorage.setItem(k, JSON.stringify(r));
  });
  await page.reload();
  await el(page).waitState('running');
  await el(page).waitState('ask', 6000);
  assert.match(await el(page).text(), /consent has expired/);
  await sleep(200);
  const busy = await workerBusy(browser.pid, 600);
  assert.ok(busy.fraction < 0.02, `busy ${busy.fraction} after expiry`);
  assert.equal(await storedRecord(page), null, 'the expired yes is forgotten');
  // An already expired record never loads the runtime.
  await page.evaluate(() => localStorage.setItem(`consent-miner:v1:${'example.org'}|ws://${location.host}/ws`,
    JSON.stringify({ v: 1, decision: 'granted', granted_at: Date.now() - 2 * 864e5, expires_at: Date.now() - 864e5, threads: 1, throttle: 50 })));
  const t0 = Date.now();
  await page.reload();
  await el(page).waitState('ask');
  await sleep(500);
  assert.deepEqual(since(t0).filter((p) => RUNTIME_FILES.test(p)), []);
  await page.close();
});

test('revoke stops mining, asks again, and is remembered', async () => {
  const page = await open({ threads: 1, throttle: 100 });
  await acceptByClick(page);
  await el(page).button('revoke').click();
  await el(page).waitState('ask');
  assert.match(await el(page).text(), /withdrew your consent/);
  assert.equal((await el(page).events('revoke')).length, 1);
  await sleep(150);
  const busy = await workerBusy(browser.pid, 600);
  assert.ok(busy.fraction < 0.02, `busy ${busy.fraction} after revoke`);
  const t0 = Date.now();
  await page.reload();
  await el(page).waitState('declined');
  assert.match(await el(page).text(), /withdrew consent/);
  await sleep(500);
  assert.deepEqual(since(t0).filter((p) => RUNTIME_FILES.test(p)), []);
  await el(page).button('review').click();
  await el(page).waitState('ask');
  await page.close();
});

test('decline is remembered until it expires, then the visitor is asked again', async () => {
  const page = await open({ remember: '2h' });
  await el(page).button('decline').click();
  await el(page).waitState('declined');
  assert.equal((await el(page).events('decline')).length, 1);
  const rec = await storedRecord(page);
  assert.equal(rec.value.decision, 'declined');
  assert.ok(Math.abs(rec.value.until - Date.now() - 2 * 3600e3) < 5000);
  await page.reload();
  await el(page).waitState('declined');
  await page.evaluate(({ key, value }) => localStorage.setItem(key, JSON.stringify({ ...value, until: Date.now() - 1 })), rec);
  await page.reload();
  await el(page).waitState('ask');
  await page.close();
});

test('remember is clamped to 30 days; language follows navigator.languages unless lang is set', async () => {
  let page = await open({ remember: '90d' });
  assert.match(await el(page).text(), /for 30 days/);
  await acceptByClick(page);
  const [c] = await el(page).events('consent');
  assert.equal(c.detail.expires_at - c.detail.granted_at, 30 * 864e5);
  await page.close();
  const ja = () => Object.defineProperty(Navigator.prototype, 'languages', { get: () => ['ja-JP', 'en-US'] });
  page = await open({}, { init: ja });
  assert.match(await el(page).text(), /Monero のマイニングで example\.org を支援しますか/);
  assert.equal(await page.locator('consent-miner section').getAttribute('lang'), 'ja');
  await page.close();
  page = await open({ lang: 'en' }, { init: ja });
  assert.match(await el(page).text(), /Support example\.org by mining Monero\?/);
  await page.close();
});

test('two tabs with one remembered yes: only one mines, the other waits and takes over', async () => {
  const a = await open({ threads: 1, throttle: 100 });
  await acceptByClick(a);
  const b = await newPage();
  await b.goto(server.page({ site: SITE, runtime: FAKE, threads: 1, throttle: 100 }));
  await el(b).waitState('waiting');
  assert.match(await el(b).status(), /another tab/);
  await sleep(500);
  assert.equal((await el(b).probe()).Worker, 0, 'the waiting tab started no worker');
  await a.close();
  await el(b).waitState('running');
  assert.equal((await el(b).probe()).Worker, 1);
  await b.close();
});

test('axe-core finds no violations in the disclosure (en, ja) and the panel', async () => {
  const page = await open();
  assert.deepEqual(await axeViolations(page), []);
  await page.close();
  const ja = await open({ lang: 'ja' });
  assert.deepEqual(await axeViolations(ja), []);
  await ja.close();
  const panel = await open();
  await acceptByClick(panel);
  await waitFor(async () => (await el(panel).events('hashrate')).length > 0, { what: 'a hashrate event' });
  assert.deepEqual(await axeViolations(panel), []);
  await el(panel).button('stop').click();
  assert.deepEqual(await axeViolations(panel), []);
  await panel.close();
});

test('readable on a 360 px screen and at 200% zoom (320 CSS px): nothing cut off, no sideways scroll', async () => {
  for (const width of [360, 320]) {
    const page = await open();
    await page.setViewportSize({ width, height: 800 });
    const check = () => page.evaluate(() => {
      const root = document.querySelector('consent-miner').shadowRoot;
      const doc = document.documentElement;
      const out = [...root.querySelectorAll('button, input, select, li, p, h2, dd')].filter((n) => {
        const r = n.getBoundingClientRect();
        return r.width && (r.left < 0 || r.right > doc.clientWidth || n.scrollWidth > n.clientWidth + 1);
      }).map((n) => n.dataset.act || n.textContent.slice(0, 30));
      return { overflow: doc.scrollWidth - doc.clientWidth, out };
    });
    assert.deepEqual(await check(), { overflow: 0, out: [] }, `disclosure at ${width}px`);
    if (width === 360) await page.screenshot({ path: path.join(SHOTS, 'disclosure-en-360.png'), fullPage: true });
    await acceptByClick(page);
    assert.deepEqual(await check(), { overflow: 0, out: [] }, `panel at ${width}px`);
    await page.close();
  }
});

test('screenshots of the disclosure in English and Japanese', async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const lang of ['en', 'ja']) {
    const page = await open({ lang, site: 'example.org', threads: 1, throttle: 50 });
    await page.setViewportSize({ width: 760, height: 800 });
    await page.locator('consent-miner').screenshot({ path: path.join(SHOTS, `disclosure-${lang}.png`) });
    await page.close();
  }
});
