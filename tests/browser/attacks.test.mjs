// Issue 14: every script and style of the embedding page is untrusted. Each test here is
// one way a page could try to start mining without the visitor's own click on a
// disclosure they could see, against the REAL parts on two origins (lib/real-stack.mjs:
// the site on one port, the gateway serving the consent frame on another, started with
// --origin <site>; regtest monerod). Each ends with the same check: no runtime module,
// worker script or wasm fetched, no Worker made in the page or the frame, no login at the
// gateway (/stats sessions_total unchanged), no CPU time in any worker thread.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { launch, workerThreads, workerGrowth, sleep, waitFor, el, frameOf, frameSettled } from './lib/browser.mjs';
import { missingParts, startStack } from './lib/real-stack.mjs';

const SITE = 'example.org';
const RUNTIME_FILES = /\/frame\/(miner|worker|gateway|instance|env|consent|bench)\.mjs|\.wasm$|consentminer[^/]*\.m?js$|\/copy\/.*\.wasm$/;

const missing = missingParts();
const required = process.env.CM_BROWSER_REQUIRE_REAL === '1';
const skip = missing.length && !required ? `real parts not built: ${missing.join('; ')}` : false;
const real = (name, fn) => test(name, { skip }, async (t) => {
  if (missing.length) throw new Error(`real parts missing: ${missing.join('; ')}`);
  return fn(t);
});

let stack, browser;
const requests = []; // every request the browser made, frames' and workers' included
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

async function open(attrs = {}, opts = {}) {
  const page = await browser.context.newPage();
  pages.add(page);
  page.on('pageerror', () => {});
  await page.goto(stack.page({ site: SITE, threads: 1, throttle: 100, ...attrs }, opts));
  const frame = await frameOf(page);
  await frame.evaluate(() => localStorage.clear());
  await page.reload();
  await frameOf(page);
  await el(page).waitState('ask');
  return page;
}

// What the attack may not have caused, measured from outside the page.
async function baseline() {
  return { at: Date.now(), sessions: (await stack.stats()).connections.sessions_total, cpu: workerThreads(browser.pid) };
}
async function assertNothingStarted(page, b, what) {
  await sleep(1500);
  const fetched = requests.filter((r) => r.at >= b.at).map((r) => new URL(r.url).pathname).filter((p) => RUNTIME_FILES.test(p));
  assert.deepEqual(fetched, [], `${what}: runtime files fetched`);
  const probe = await el(page).probe();
  assert.equal(probe.Worker + probe.SharedWorker, 0, `${what}: a worker in the page ${JSON.stringify(probe)}`);
  const fprobe = await el(page).frameProbe();
  assert.deepEqual({ Worker: fprobe.Worker, WebSocket: fprobe.WebSocket, wasm: fprobe.wasm }, { Worker: 0, WebSocket: 0, wasm: 0 }, `${what}: the frame started something`);
  const stats = await stack.stats();
  assert.equal(stats.connections.sessions_total, b.sessions, `${what}: a login at the gateway`);
  assert.equal(workerGrowth(b.cpu, workerThreads(browser.pid)), 0, `${what}: worker threads used CPU`);
  assert.notEqual(await el(page).state(), 'running', what);
  assert.equal((await el(page).events('consent')).length, 0, `${what}: a consent event`);
}

// A real click (DevTools input, isTrusted) at the centre of the frame's Accept button.
async function realClickAccept(page) {
  const box = await el(page).button('accept').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
}

real('1. a remembered yes written into the page\'s localStorage, then re-attaching the element, starts nothing', async () => {
  const page = await open();
  const b = await baseline();
  await page.evaluate((site) => {
    const now = Date.now();
    const fakeGrant = btoa(JSON.stringify({ v: 1, kid: 'x', kind: 'grant', site, granted_at: now, expires_at: now + 864e5, threads: 1, throttle: 100, id: 'a'.repeat(32) })).replace(/=+$/, '') + '.c2ln';
    for (const key of [`consent-miner:v1:${site}|ws://${location.host}/ws`, `consent-miner:v2:${site}`]) {
      localStorage.setItem(key, JSON.stringify({ v: 2, decision: 'granted', granted_at: now, expires_at: now + 864e5, threads: 1, throttle: 100, grant: fakeGrant }));
    }
    const e = document.querySelector('consent-miner');
    const parent = e.parentNode;
    e.remove();
    parent.append(e);
  }, SITE);
  await frameOf(page);
  await el(page).waitState('ask');
  await page.reload();
  await frameOf(page);
  await el(page).waitState('ask');
  await assertNothingStarted(page, b, 'remembered yes in the page\'s storage');
});

real('2. the same yes written from a same-origin iframe (storage event) starts nothing', async () => {
  const page = await open();
  const b = await baseline();
  await page.evaluate(async (site) => {
    const f = document.createElement('iframe');
    f.src = '/fixtures/page.css';
    document.body.append(f);
    await new Promise((r) => { f.onload = r; });
    const now = Date.now();
    f.contentWindow.localStorage.setItem(`consent-miner:v2:${site}`, JSON.stringify({ v: 2, decision: 'granted', grant: 'x.y', granted_at: now, expires_at: now + 864e5, threads: 1, throttle: 100 }));
    f.contentWindow.localStorage.setItem(`consent-miner:v1:${site}|ws://${location.host}/ws`, JSON.stringify({ v: 1, decision: 'granted', granted_at: now, expires_at: now + 864e5, threads: 1, throttle: 100 }));
  }, SITE);
  await assertNothingStarted(page, b, 'storage event from a same-origin iframe');
  assert.equal(await el(page).state(), 'ask');
});

real('3. import() of the runtime and start() with a home-made record or token, from the page, starts nothing', async () => {
  const page = await open();
  const b = await baseline();
  const results = await page.evaluate(async ({ gatewayOrigin, wsUrl }) => {
    const out = {};
    // The gateway's own copy: a cross-origin module without CORS headers does not load.
    try { await import(`${gatewayOrigin}/frame/miner.mjs`); out.gatewayCopy = 'imported'; } catch (e) { out.gatewayCopy = e.name; }
    // A copy the page hosts itself: the runtime refuses to run off the gateway's origin.
    const { createMiner } = await import('/copy/miner.mjs');
    const now = Date.now();
    const b64 = (o) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const forged = `${b64({ v: 1, kid: 'ephemeral', kind: 'session', site: 'x', granted_at: now, expires_at: now + 6e5, threads: 1, throttle: 100, id: 'b'.repeat(32), grant: 'c'.repeat(32) })}.c2ln`;
    for (const [name, consent, opts] of [
      ['record', { granted_at: now, expires_at: now + 3600e3, threads: 1, throttle: 100 }, { gateway: wsUrl }],
      ['forged token', forged, { gateway: wsUrl }],
    ]) {
      const m = createMiner(opts);
      try { await m.start(consent); out[name] = 'started'; m.stop(); } catch (e) { out[name] = e.reason; }
    }
    return out;
  }, { gatewayOrigin: stack.origin, wsUrl: stack.wsUrl });
  assert.equal(results.gatewayCopy, 'TypeError', 'the gateway\'s runtime is not importable cross-origin');
  assert.deepEqual({ record: results.record, forged: results['forged token'] }, { record: 'wrong-origin', forged: 'wrong-origin' });
  // The attempted import of the gateway's copy was a request, refused by CORS; nothing else.
  const b2 = { ...b, at: Date.now() };
  await assertNothingStarted(page, b2, 'import() and start() from the page');
  const tried = requests.filter((r) => r.at >= b.at).map((r) => new URL(r.url));
  assert.deepEqual(tried.filter((u) => /\.wasm$|worker/.test(u.pathname)).map((u) => u.href), [], 'no wasm or worker fetched');
});

real('4. the site\'s CSS cannot hide Decline or style inside the frame', async () => {
  const page = await open({}, { head: `<style>
    consent-miner::part(decline), consent-miner::part(accept) { display: none !important; }
    consent-miner [data-act=decline], [data-act=decline] { display: none !important; }
  </style>` });
  const b = await baseline();
  const frame = await frameOf(page);
  const looks = await frame.evaluate(() => {
    const s = (b) => { const c = getComputedStyle(b); const r = b.getBoundingClientRect(); return { display: c.display, visibility: c.visibility, w: Math.round(r.width), h: Math.round(r.height), color: c.color, border: c.borderTopColor }; };
    return { accept: s(document.querySelector('[data-act=accept]')), decline: s(document.querySelector('[data-act=decline]')) };
  });
  assert.notEqual(looks.decline.display, 'none');
  assert.ok(looks.decline.w > 50 && looks.decline.h > 30, JSON.stringify(looks));
  assert.deepEqual({ ...looks.accept, w: 0 }, { ...looks.decline, w: 0 }, 'accept and decline look alike');
  assert.equal(await el(page).button('decline').isVisible(), true);
  // The host element exposes no parts and no styles inside its iframe.
  assert.equal(await page.evaluate(() => document.querySelector('consent-miner').shadowRoot.querySelectorAll('[part]').length), 0);
  await assertNothingStarted(page, b, 'CSS');
});

real('5. clickjacking: a real click on Accept with the element at opacity 0 does not count', async () => {
  const page = await open();
  await el(page).waitArmed();
  const b = await baseline();
  await page.addStyleTag({ content: 'consent-miner { opacity: 0 }' });
  await sleep(1500);
  await realClickAccept(page);
  await waitFor(async () => (await el(page).events('error')).some((e) => e.detail.reason === 'not-visible'), { what: 'the frame to refuse the click' });
  await assertNothingStarted(page, b, 'opacity 0');
  assert.equal(await el(page).state(), 'ask');
  assert.match(await el(page).text(), /did not count/);
});

real('5b. clickjacking after a stop: a real click on Start again with the element at opacity 0 does not count', async () => {
  const page = await open();
  await el(page).waitArmed();
  await realClickAccept(page);
  await el(page).waitState('running', 30000);
  await page.evaluate(() => document.querySelector('consent-miner').stop());
  await el(page).waitState('stopped');
  await frameSettled(page);
  const sessions = (await stack.stats()).connections.sessions_total;
  const starts = (await el(page).events('start')).length;
  // The visitor stopped; the page hides the panel and catches a click on Start again.
  await page.addStyleTag({ content: 'consent-miner { opacity: 0 }' });
  await sleep(1500);
  const box = await el(page).button('start').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await waitFor(async () => (await el(page).events('error')).some((e) => e.detail.reason === 'not-visible'), { what: 'the frame to refuse the click' });
  await sleep(1500);
  assert.equal(await el(page).state(), 'stopped');
  assert.equal((await el(page).events('start')).length, starts, 'mining was started again');
  assert.equal((await stack.stats()).connections.sessions_total, sessions, 'a login at the gateway');
  // Shown again, whole, for long enough: a click on Start again counts (the note the
  // refusal added above the buttons moved them: look again).
  await page.addStyleTag({ content: 'consent-miner { opacity: 1 }' });
  await frameSettled(page);
  await sleep(1500);
  const again = await el(page).button('start').boundingBox();
  await page.mouse.click(again.x + again.width / 2, again.y + again.height / 2);
  await el(page).waitState('running', 30000);
});

real('postMessage from the page pretending to be the frame, or asking the frame to accept, starts nothing', async () => {
  const page = await open();
  await el(page).waitArmed();
  const b = await baseline();
  await page.evaluate(() => {
    // The element's events stay on it (issue 20): a site's window-level error reporter
    // must not see the element's refusals as the page's errors.
    window.__windowErrors = 0;
    window.addEventListener('error', () => { window.__windowErrors++; });
    const host = document.querySelector('consent-miner');
    // To the element, as if from the frame: wrong source, so no event comes of it.
    window.postMessage({ type: 'consent-miner', event: 'consent', detail: { granted_at: Date.now() } }, '*');
    window.postMessage({ type: 'consent-miner', event: 'start', detail: {} }, '*');
    // To the frame: commands it does not take, and a "click".
    const w = host.shadowRoot.querySelector('iframe').contentWindow;
    for (const command of ['accept', 'start', 'grant', 'click']) w.postMessage({ type: 'consent-miner', command }, '*');
    w.postMessage({ type: 'consent-miner', command: 'limit', threads: 64, throttle: 100 }, '*');
    w.postMessage({ type: 'click', act: 'accept' }, '*');
  });
  await waitFor(async () => (await el(page).events('error')).filter((e) => e.detail.reason === 'refused-command').length >= 4, { what: 'the frame to refuse the commands' });
  assert.equal(await page.evaluate(() => window.__windowErrors), 0, 'the element\'s error events reached window');
  await assertNothingStarted(page, b, 'postMessage');
  assert.deepEqual((await el(page).events()).filter((e) => e.type === 'start' || e.type === 'consent'), []);
});

real('pointer and keyboard events synthesized by page script at the frame\'s coordinates start nothing', async () => {
  const page = await open();
  await el(page).waitArmed();
  const box = await el(page).button('accept').boundingBox();
  const b = await baseline();
  await page.evaluate(({ x, y }) => {
    const target = document.elementFromPoint(x, y);
    const init = { bubbles: true, composed: true, cancelable: true, clientX: x, clientY: y, button: 0, view: window };
    for (const type of ['pointerover', 'pointerdown', 'mousedown', 'pointerup', 'mouseup', 'click']) {
      target.dispatchEvent(type.startsWith('pointer') ? new PointerEvent(type, { ...init, pointerType: 'mouse', isPrimary: true }) : new MouseEvent(type, init));
    }
    target.click?.();
    target.focus?.();
    for (const key of ['Tab', 'Enter', ' ']) {
      for (const type of ['keydown', 'keypress', 'keyup']) target.dispatchEvent(new KeyboardEvent(type, { key, bubbles: true, composed: true }));
    }
  }, { x: box.x + box.width / 2, y: box.y + box.height / 2 });
  await assertNothingStarted(page, b, 'synthesized events');
  assert.equal(await el(page).state(), 'ask');
});

for (const [name, css] of [
  ['an overlay with pointer-events: none', '.cover { background: #fff; pointer-events: none }'],
  ['a half-transparent overlay', '.cover { background: rgba(255,255,255,.6); pointer-events: none }'],
  ['an overlay over the Accept button only', '.cover { background: #fff; pointer-events: none } .cover.small { }'],
  ['opacity 0.2 on the element', 'consent-miner { opacity: .2 } .cover { display: none }'],
  ['a transform', 'consent-miner { transform: rotate(1deg) scale(1.02) } .cover { display: none }'],
  ['a filter', 'consent-miner { filter: blur(2px) } .cover { display: none }'],
  // Only the buttons left showing: the disclosure above them clipped away, or pushed out
  // of the viewport. The Accept button itself stays visible and under the pointer.
  ['clip-path leaving only the buttons', 'consent-miner { clip-path: inset(calc(100% - 90px) 0 0 0) } .cover { display: none }'],
  ['the disclosure pushed above the viewport', 'consent-miner { position: fixed; left: 16px; top: -250px; width: 600px } .cover { display: none }'],
]) {
  real(`a real click through ${name} does not count`, async () => {
    const page = await open({}, { extra: '' });
    await el(page).waitArmed();
    const box = await el(page).button('accept').boundingBox();
    const b = await baseline();
    await page.evaluate(({ style, small, accept }) => {
      const s = document.createElement('style');
      s.textContent = style;
      document.head.append(s);
      // Over the element (or only over its Accept button), in the page's own layer.
      const r = small ? accept : document.querySelector('consent-miner').getBoundingClientRect();
      const cover = document.createElement('div');
      cover.className = 'cover';
      cover.textContent = 'Click to continue reading';
      Object.assign(cover.style, { position: 'absolute', left: `${r.x + scrollX}px`, top: `${r.y + scrollY}px`, width: `${r.width}px`, height: `${r.height}px`, zIndex: 10 });
      document.body.append(cover);
    }, { style: css, small: /small/.test(css), accept: box });
    await sleep(1500);
    // A real click where the Accept button is now (Playwright finds it through the layout
    // and clicks there with the mouse, over whatever covers it).
    await el(page).button('accept').click({ force: true, timeout: 10000 });
    await sleep(500);
    await assertNothingStarted(page, b, name);
    assert.equal(await el(page).state(), 'ask');
  });
}

real('a page-side WebSocket login with a stolen or forged token is refused', async () => {
  const page = await open();
  // A real session token, as one could be stolen: issued to a client with the frame's origin.
  const res = await fetch(`${stack.origin}/consent/grant`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Origin: stack.origin },
    body: JSON.stringify({ site: SITE, threads: 1, throttle: 100, remember_s: 600 }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const { session } = await res.json();
  const b = await baseline();
  const results = await page.evaluate(async ({ wsUrl, session, origin }) => {
    const out = {};
    // The page cannot obtain tokens itself either: the endpoints check Origin.
    out.grant = await fetch(`${origin}/consent/grant`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"site":"x","threads":1,"throttle":100,"remember_s":600}', mode: 'no-cors' })
      .then((r) => r.type, (e) => e.name);
    const forged = session.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    for (const [name, token] of [['stolen', session], ['forged', forged]]) {
      out[name] = await new Promise((resolve) => {
        const ws = new WebSocket(wsUrl);
        const t = setTimeout(() => resolve('timeout'), 10000);
        ws.onopen = () => ws.send(JSON.stringify({ id: 1, jsonrpc: '2.0', method: 'login', params: { login: 'x', pass: 'x', agent: 'page', algo: ['rx/0'], consent: token } }));
        ws.onmessage = (e) => { clearTimeout(t); resolve(JSON.parse(e.data).error ? 'refused' : 'logged-in'); ws.close(); };
        ws.onerror = () => { clearTimeout(t); resolve('refused'); };
      });
    }
    return out;
  }, { wsUrl: stack.wsUrl, session, origin: stack.origin });
  assert.deepEqual({ stolen: results.stolen, forged: results.forged }, { stolen: 'refused', forged: 'refused' });
  await assertNothingStarted(page, b, 'page-side WebSocket login');
});
