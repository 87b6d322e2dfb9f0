// The consent frame's own behaviour with the REAL parts on two origins (lib/real-stack.mjs):
// choices remembered in the frame's storage (decline, revoke, expiry of a grant), the
// languages, pauses on battery and CPU pressure and a disclosure that promises only the
// pauses this browser can do, a background tab, two tabs with one yes, small screens,
// accessibility and the README's screenshots. The honest mining path is e2e.test.mjs;
// the attacks are attacks.test.mjs.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib/server.mjs';
import { launch, workerBusy, sleep, waitFor, el, frameOf, frameSettled, axeViolations, storedRecord } from './lib/browser.mjs';
import { showTab, batteryStandIn } from './lib/emulate.mjs';
import { missingParts, startStack } from './lib/real-stack.mjs';

const SHOTS = path.join(ROOT, 'docs/screenshots');
const SITE = 'example.org';
const RUNTIME_FILES = /\/frame\/(miner|worker|gateway|instance|env|consent|bench)\.mjs|\.wasm$|consentminer[^/]*\.m?js$/;

const missing = missingParts();
const required = process.env.CM_BROWSER_REQUIRE_REAL === '1';
const skip = missing.length && !required ? `real parts not built: ${missing.join('; ')}` : false;
const real = (name, fn) => test(name, { skip }, async (t) => {
  if (missing.length) throw new Error(`real parts missing: ${missing.join('; ')}`);
  return fn(t);
});

let stack, browser;
const requests = [];
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
  if (stack) await waitFor(async () => (await stack.stats()).connections.websocket === 0, { timeout: 10000, what: 'no open sessions' }).catch(() => {});
});
async function newPage(init) {
  const page = await browser.context.newPage();
  pages.add(page);
  if (init) await page.addInitScript(init);
  return page;
}
async function open(attrs = {}, { init, clear = true } = {}) {
  const page = await newPage(init);
  await page.goto(stack.page({ site: SITE, ...attrs }));
  if (clear) {
    await (await frameOf(page)).evaluate(() => localStorage.clear());
    await page.reload();
  }
  await frameOf(page);
  return page;
}
const since = (t0) => requests.filter((r) => r.at >= t0).map((r) => new URL(r.url).pathname);
async function acceptByClick(page) {
  await el(page).waitArmed();
  const box = await el(page).button('accept').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await el(page).waitState('running', 30000);
}
async function clickIn(page, act) {
  // Once the frame has its size (the element resizes it to its content when it loads).
  const f = await frameOf(page);
  await waitFor(() => f.evaluate(() => document.documentElement.dataset.visible === 'yes' || !document.querySelector('[data-act=accept]')), { what: 'the frame laid out' });
  await frameSettled(page);
  const box = await el(page).button(act).boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
}

real('decline is remembered in the frame\'s storage; a revoke too; "change my choice" asks again', async () => {
  const page = await open({ remember: '2h' });
  await el(page).waitState('ask');
  await clickIn(page, 'decline');
  await el(page).waitState('declined');
  assert.equal((await el(page).events('decline')).length, 1);
  const rec = await storedRecord(page);
  assert.equal(rec.value.decision, 'declined');
  assert.ok(Math.abs(rec.value.until - Date.now() - 2 * 3600e3) < 5000);
  await page.reload();
  await frameOf(page);
  await el(page).waitState('declined');
  assert.equal(await page.evaluate(() => Object.keys(localStorage).length), 0, 'nothing of the choice in the page\'s own storage');
  await clickIn(page, 'review');
  await el(page).waitState('ask');
  await acceptByClick(page);
  await clickIn(page, 'revoke');
  await el(page).waitState('ask');
  const t0 = Date.now();
  await page.reload();
  await frameOf(page);
  await el(page).waitState('declined');
  assert.match(await el(page).text(), /withdrew consent/);
  await sleep(500);
  assert.deepEqual(since(t0).filter((p) => RUNTIME_FILES.test(p)), [], 'a revoke loads nothing on reload');
});

real('a grant the gateway no longer honours (its key is gone) is forgotten and the frame asks again', async () => {
  const page = await open({ threads: 1, throttle: 100 });
  await el(page).waitState('ask');
  // A grant signed with a key this gateway does not have: what a tampered or retired grant
  // looks like to it. The payload is well formed and current.
  await (await frameOf(page)).evaluate((site) => {
    const b64 = (o) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const now = Date.now();
    const grant = `${b64({ v: 1, kid: 'retired', kind: 'grant', site, granted_at: now, expires_at: now + 864e5, threads: 1, throttle: 100, id: 'd'.repeat(32) })}.c2lnbmF0dXJl`;
    localStorage.setItem(`consent-miner:v2:${site}`, JSON.stringify({ v: 2, decision: 'granted', grant }));
  }, SITE);
  const sessions0 = (await stack.stats()).connections.sessions_total;
  const t0 = Date.now();
  await page.reload();
  await frameOf(page);
  await el(page).waitState('ask', 15000);
  assert.match(await el(page).text(), /consent has expired/);
  assert.equal(await storedRecord(page), null, 'the refused grant is forgotten');
  assert.deepEqual(since(t0).filter((p) => /\.wasm$|worker/.test(p)), [], 'no wasm or worker for a refused grant');
  assert.equal((await stack.stats()).connections.sessions_total, sessions0, 'no login');
});

real('the disclosure promises only the pauses this browser can do', async () => {
  const none = () => { delete Navigator.prototype.getBattery; delete window.PressureObserver; };
  let page = await open({}, { init: none });
  await el(page).waitState('ask');
  let text = await el(page).text();
  assert.match(text, /Mining pauses while this tab is hidden\./);
  assert.doesNotMatch(text, /runs on battery|device is busy/);
  await page.close();
  page = await open({}, { init: batteryStandIn });
  await el(page).waitState('ask');
  text = await el(page).text();
  assert.match(text, /Mining pauses while this tab is hidden, the device runs on battery, or the device is busy\./);
  await page.close();
  page = await open({ lang: 'ja' }, { init: none });
  await el(page).waitState('ask');
  assert.match(await el(page).text(), /このタブが表示されていないときは一時停止します/);
  assert.doesNotMatch(await el(page).text(), /バッテリーで動いている|負荷が高い/);
});

real('on battery and under CPU pressure mining pauses, with the reason and paused figures on the panel', async () => {
  const page = await open({ threads: 1, throttle: 100 }, { init: batteryStandIn });
  await acceptByClick(page);
  const frame = await frameOf(page);
  await frame.evaluate(() => window.__battery.set(false));
  await el(page).waitState('paused');
  assert.match(await el(page).status(), /on battery/);
  assert.equal(await el(page).locator('[data-stat=hashrate]').textContent(), '0 (paused)');
  await frame.evaluate(() => window.__pressure.emit('critical'));
  await waitFor(async () => /heavy load/.test(await el(page).status()), { what: 'pressure reason shown' });
  await frame.evaluate(() => window.__battery.set(true));
  await sleep(300);
  assert.equal(await el(page).state(), 'paused', 'still paused under pressure');
  await sleep(800);
  const paused = await workerBusy(browser.pid, 800);
  assert.ok(paused.fraction < 0.05, `busy ${paused.fraction} while paused`);
  await frame.evaluate(() => window.__pressure.emit('nominal'));
  await el(page).waitState('running', 8000);
  assert.deepEqual((await el(page).events('pause')).map((e) => e.detail.reason), ['battery', 'pressure']);
});

real('pressure the miner causes itself: a short check, then mining on through it (pressure.js)', async () => {
  const page = await open({ threads: 1, throttle: 100 });
  await acceptByClick(page);
  const frame = await frameOf(page);
  await frame.evaluate(() => window.__pressure.emit('critical'));
  await el(page).waitState('paused');
  assert.match(await el(page).status(), /checking whether another program/);
  await frame.evaluate(() => window.__pressure.emit('fair')); // the pause lowered it: ours
  await el(page).waitState('running', 8000);
  await frame.evaluate(() => window.__pressure.emit('critical')); // mining raises it again
  await sleep(1500);
  assert.equal(await el(page).state(), 'running', 'the miner\'s own pressure does not pause it');
  assert.deepEqual((await el(page).events('pause')).map((e) => e.detail.reason), ['pressure']);
});

real('a remembered yes in a tab that opens hidden loads nothing until the tab is shown', async () => {
  const page = await open({ threads: 1, throttle: 100 });
  await acceptByClick(page);
  await page.addInitScript(() => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
  });
  const t0 = Date.now();
  await page.reload();
  const frame = await frameOf(page);
  await sleep(1000);
  assert.equal(await el(page).state(), 'loading');
  assert.deepEqual(since(t0).filter((p) => RUNTIME_FILES.test(p)), [], 'nothing loaded while hidden');
  await showTab(frame);
  await el(page).waitState('running', 30000);
});

real('remember is clamped to 30 days; the language follows the browser unless lang is set', async () => {
  let page = await open({ remember: '90d' });
  await el(page).waitState('ask');
  assert.match(await el(page).text(), /for 30 days/);
  await acceptByClick(page);
  const [c] = await el(page).events('consent');
  assert.equal(c.detail.expires_at - c.detail.granted_at, 30 * 864e5);
  await clickIn(page, 'stop');
  await page.close();
  const ja = () => Object.defineProperty(Navigator.prototype, 'languages', { get: () => ['ja-JP', 'en-US'] });
  page = await open({}, { init: ja });
  await el(page).waitState('ask');
  assert.match(await el(page).text(), /Monero のマイニングで example\.org を支援しますか/);
  assert.equal(await el(page).locator('section').getAttribute('lang'), 'ja');
  await page.close();
  page = await open({ lang: 'en' }, { init: ja });
  await el(page).waitState('ask');
  assert.match(await el(page).text(), /Support example\.org by mining Monero\?/);
});

real('two tabs with one remembered yes: only one mines, the other waits and takes over', async () => {
  const a = await open({ threads: 1, throttle: 100 });
  await acceptByClick(a);
  const b = await open({ threads: 1, throttle: 100 }, { clear: false });
  await el(b).waitState('waiting', 15000);
  assert.match(await el(b).status(), /another tab/);
  await sleep(500);
  assert.equal((await el(b).frameProbe()).Worker, 0, 'the waiting tab started no worker');
  await a.close();
  await el(b).waitState('running', 30000);
});

real('axe-core finds no violations in the disclosure (en, ja), the declined notice and the stopped panel', async () => {
  const page = await open();
  await el(page).waitState('ask');
  assert.deepEqual(await axeViolations(page), []);
  await page.close();
  const ja = await open({ lang: 'ja' });
  await el(ja).waitState('ask');
  assert.deepEqual(await axeViolations(ja), []);
  await clickIn(ja, 'decline');
  await el(ja).waitState('declined');
  assert.deepEqual(await axeViolations(ja), []);
});

real('readable on a 360 px screen and at 200% zoom (320 CSS px): nothing cut off, no sideways scroll', async () => {
  for (const width of [360, 320]) {
    const page = await open();
    await page.setViewportSize({ width, height: 900 });
    await el(page).waitState('ask');
    await sleep(300);
    const check = async () => {
      const frame = await frameOf(page);
      const inside = await frame.evaluate(() => {
        const doc = document.documentElement;
        const out = [...document.querySelectorAll('button, input, select, li, p, h2, dd')].filter((n) => {
          const r = n.getBoundingClientRect();
          return r.width && (r.left < 0 || r.right > doc.clientWidth || n.scrollWidth > n.clientWidth + 1);
        }).map((n) => n.dataset.act || n.textContent.slice(0, 30));
        return { overflow: doc.scrollWidth - doc.clientWidth, out, cut: doc.scrollHeight - innerHeight };
      });
      const page_ = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      return { ...inside, page: page_ };
    };
    // The element sizes the frame to its content: nothing inside is cut off or scrolls.
    await waitFor(async () => (await check()).cut <= 1, { what: `the frame sized to its content at ${width}px` });
    assert.deepEqual(await check(), { overflow: 0, out: [], cut: (await check()).cut, page: 0 }, `disclosure at ${width}px`);
    if (width === 360) await page.screenshot({ path: path.join(SHOTS, 'disclosure-en-360.png'), fullPage: true });
    await page.close();
  }
});

// Firefox and Safari have no IntersectionObserver v2: what the frame still checks there,
// and the limit the README states (covering the frame goes unseen).
real('without IntersectionObserver v2: a click counts only with the disclosure whole in view; a cover goes unseen', async () => {
  const noV2 = () => { delete IntersectionObserverEntry.prototype.isVisible; };
  let page = await open({ threads: 1, throttle: 100 }, { init: noV2 });
  await el(page).waitState('ask');
  assert.equal(await (await frameOf(page)).evaluate(() => 'isVisible' in IntersectionObserverEntry.prototype), false);
  // Pushed mostly above the viewport, only the buttons showing: refused.
  await page.addStyleTag({ content: 'consent-miner { position: fixed; left: 16px; top: -250px; width: 600px }' });
  await sleep(1500);
  await el(page).button('accept').click({ force: true, timeout: 10000 });
  await waitFor(async () => (await el(page).events('error')).some((e) => e.detail.reason === 'not-visible'), { what: 'the click refused' });
  assert.equal(await el(page).state(), 'ask');
  await page.close();
  // Covered by an opaque layer the pointer passes through: without v2 this click counts.
  page = await open({ threads: 1, throttle: 100 }, { init: noV2 });
  await el(page).waitArmed();
  await page.evaluate(() => {
    const r = document.querySelector('consent-miner').getBoundingClientRect();
    const cover = document.createElement('div');
    cover.textContent = 'Click to continue reading';
    Object.assign(cover.style, { position: 'absolute', left: `${r.x + scrollX}px`, top: `${r.y + scrollY}px`, width: `${r.width}px`,
      height: `${r.height}px`, background: '#fff', pointerEvents: 'none', zIndex: 10 });
    document.body.append(cover);
  });
  await sleep(1500);
  await el(page).button('accept').click({ force: true, timeout: 10000 });
  await el(page).waitState('running', 30000);
  await clickIn(page, 'stop');
});

real('screenshots of the running panel in English and Japanese', async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const lang of ['en', 'ja']) {
    const page = await open({ lang, site: 'example.org', threads: 1, throttle: 100 });
    await page.setViewportSize({ width: 760, height: 900 });
    await acceptByClick(page);
    await waitFor(async () => (await el(page).events('hashrate')).some((e) => e.detail.hashrate > 0), { timeout: 40000, what: 'a hash rate' });
    await sleep(1500);
    await page.locator('consent-miner').screenshot({ path: path.join(SHOTS, `panel-${lang}.png`) });
    await clickIn(page, 'stop');
    await page.close();
  }
});

real('screenshots of the disclosure in English and Japanese', async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const lang of ['en', 'ja']) {
    const page = await open({ lang, site: 'example.org', threads: 1, throttle: 50 });
    await page.setViewportSize({ width: 760, height: 900 });
    await el(page).waitState('ask');
    await sleep(500);
    await page.locator('consent-miner').screenshot({ path: path.join(SHOTS, `disclosure-${lang}.png`) });
    await page.close();
  }
});
