// <consent-miner> in a site owner's framework (issue 20), on the real parts on two
// origins (lib/real-stack.mjs): a React 19 app and a Vue 3 app (react, react-dom and vue
// from npm, bundled here with esbuild; nothing from a CDN) render the element from their
// state and change it. React 19 and Vue set a custom element's prop as a property when
// the element has one, so
// site, gateway, threads, throttle and remember are properties that reflect to the
// attributes. Before a yes a changed prop makes a new disclosure; after it, a lower
// threads or throttle reaches the running miner and a higher one does not. Also the
// read-only figures for sites coming from Coinhive's API, fed by the real runtime. And
// theming: the visitor's dark scheme, and a site's CSS custom properties that the frame
// takes only when they keep the disclosure and both answers readable.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { ROOT } from './lib/server.mjs';
import { launch, sleep, waitFor, el, frameOf, frameSettled } from './lib/browser.mjs';
import { missingParts, startStack } from './lib/real-stack.mjs';

const missing = missingParts();
const required = process.env.CM_BROWSER_REQUIRE_REAL === '1';
const skip = missing.length && !required ? `real parts not built: ${missing.join('; ')}` : false;
const real = (name, fn) => test(name, { skip }, async (t) => {
  if (missing.length) throw new Error(`real parts missing: ${missing.join('; ')}`);
  return fn(t);
});

let stack, browser, app, vueApp;
before(async () => {
  if (missing.length) return;
  stack = await startStack();
  browser = await launch();
  const bundle = await esbuild.build({
    entryPoints: [path.join(ROOT, 'tests/browser/fixtures/react/app.jsx')], bundle: true, write: false,
    format: 'esm', jsx: 'automatic', define: { 'process.env.NODE_ENV': '"production"' }, logLevel: 'silent',
  });
  app = stack.serve('/react-app.js', bundle.outputFiles[0].text);
  const vue = await esbuild.build({
    entryPoints: [path.join(ROOT, 'tests/browser/fixtures/vue/app.js')], bundle: true, write: false, format: 'esm', logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"', __VUE_OPTIONS_API__: 'false', __VUE_PROD_DEVTOOLS__: 'false', __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false' },
  });
  vueApp = stack.serve('/vue-app.js', vue.outputFiles[0].text);
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

let pageCount = 0;
// A page of the site whose only content is the React app: the element exists only once
// React has rendered it.
async function openReact(props, script = app) {
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/'/g, '&#39;');
  const url = stack.serve(`/react${++pageCount}.html`, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A React site</title>
<script type="module" src="/consent-miner.js"></script>
<script type="module" src="${new URL(script).pathname}"></script>
</head><body><main><h1>A React site</h1>
<div id="app" data-props='${esc(JSON.stringify({ gateway: stack.wsUrl, ...props }))}'></div>
</main></body></html>`);
  const page = await browser.context.newPage();
  pages.add(page);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.errors = errors;
  await page.goto(url);
  await frameOf(page);
  await el(page).waitState('ask');
  return page;
}

const setProps = (page, props) => page.evaluate((p) => window.__setMinerProps(p), props);
const frameParams = (page) => page.evaluate(() => Object.fromEntries(new URL(document.querySelector('consent-miner').frame.src).searchParams));
const host = (page) => page.evaluate(() => {
  const e = document.querySelector('consent-miner');
  return { site: e.site, gateway: e.gateway, threads: e.threads, throttle: e.throttle, remember: e.remember,
    attrs: Object.fromEntries([...e.attributes].map((a) => [a.name, a.value])),
    own: ['site', 'gateway', 'threads', 'throttle', 'remember'].filter((k) => Object.hasOwn(e, k)) };
});

async function acceptByClick(page) {
  await el(page).waitArmed();
  const box = await el(page).button('accept').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await el(page).waitState('running', 30000);
}
const hashing = (page) => waitFor(async () => (await el(page).events('hashrate')).some((e) => e.detail.hashrate > 0),
  { timeout: 40000, what: 'a hash rate above zero from the real runtime' });

real('React 19 renders <consent-miner> from props set as properties; the frame shows them; a new prop is a new disclosure', async () => {
  const page = await openReact({ site: 'react.example', threads: 1, throttle: 50, remember: '2h' });
  // React set properties (the element has them), which reflect to the attributes.
  assert.deepEqual(await host(page), { site: 'react.example', gateway: stack.wsUrl, threads: 1, throttle: 50, remember: '2h',
    attrs: { gateway: stack.wsUrl, site: 'react.example', threads: '1', throttle: '50', remember: '2h' }, own: [] });
  assert.deepEqual(await frameParams(page), { site: 'react.example', threads: '1', throttle: '50', remember: '2h', origin: new URL(app).origin });
  let text = await el(page).text();
  for (const words of ['reward goes to react.example', 'about 50% of the time', 'for 2 hours']) assert.ok(text.includes(words), `disclosure lacks "${words}": ${text}`);

  await setProps(page, { site: 'other.example', throttle: 100, remember: '3h' });
  await waitFor(async () => (await frameParams(page)).site === 'other.example', { what: 'the new site in the frame' });
  await frameOf(page);
  await el(page).waitState('ask');
  text = await el(page).text();
  for (const words of ['reward goes to other.example', 'about 100% of the time', 'for 3 hours']) assert.ok(text.includes(words), `disclosure lacks "${words}": ${text}`);
  assert.equal((await host(page)).throttle, 100);
  // A removed prop removes the attribute, and the frame's default applies.
  await setProps(page, { remember: undefined });
  await waitFor(async () => (await frameParams(page)).remember === undefined, { what: 'remember gone from the frame' });
  assert.equal((await host(page)).remember, null);
  assert.deepEqual(page.errors, [], 'no error in the page');
});

real('Vue 3 renders <consent-miner> from reactive state set as properties; a change is a new disclosure', async () => {
  const page = await openReact({ site: 'vue.example', threads: 1, throttle: 50, remember: '2h' }, vueApp);
  assert.deepEqual(await host(page), { site: 'vue.example', gateway: stack.wsUrl, threads: 1, throttle: 50, remember: '2h',
    attrs: { gateway: stack.wsUrl, site: 'vue.example', threads: '1', throttle: '50', remember: '2h' }, own: [] });
  assert.deepEqual(await frameParams(page), { site: 'vue.example', threads: '1', throttle: '50', remember: '2h', origin: new URL(app).origin });
  await setProps(page, { site: 'vue2.example', throttle: 25 });
  await waitFor(async () => (await frameParams(page)).site === 'vue2.example', { what: 'the new site in the frame' });
  await frameOf(page);
  await el(page).waitState('ask');
  const text = await el(page).text();
  for (const words of ['reward goes to vue2.example', 'about 25% of the time']) assert.ok(text.includes(words), `disclosure lacks "${words}": ${text}`);
  assert.deepEqual(page.errors, [], 'no error in the page');
});

real('after a yes, a lower throttle from React reaches the running miner; a raised one, or more threads, do not', async () => {
  const page = await openReact({ site: 'react-limit.example', threads: 1, throttle: 100 });
  await acceptByClick(page);
  await hashing(page);
  await page.evaluate(() => { window.__frame0 = document.querySelector('consent-miner').frame; });
  const sameFrame = () => page.evaluate(() => document.querySelector('consent-miner').frame === window.__frame0);
  const shown = () => el(page).locator('[data-out=throttle]').textContent();

  await setProps(page, { throttle: 50 });
  await waitFor(async () => (await shown()) === '50%', { what: 'the panel to show the lower throttle' });
  await setProps(page, { throttle: 100, threads: 8 });
  await sleep(1500);
  assert.equal(await shown(), '50%', 'a raised throttle after the yes does not raise the miner');
  assert.equal(await el(page).locator('input[type=range]').getAttribute('max'), '50');
  assert.equal(await el(page).locator('[data-setting=threads] option').count(), 1, 'more threads than agreed are not offered');
  assert.ok(await sameFrame(), 'the running frame was kept: a new one would start from the full grant again');
  assert.equal((await el(page).events('start')).length, 1, 'the miner was not restarted');
  assert.equal(await el(page).state(), 'running');
  assert.equal((await host(page)).throttle, 100, 'the property says what the site asked');
  // The runtime reports the threads it runs; the grant's one stays one.
  const last = (await el(page).events('hashrate')).at(-1);
  assert.equal(last.detail.threads, 1);
  assert.deepEqual(page.errors, []);
});

real('Coinhive-style getters: hash rate, total hashes and accepted shares follow the real runtime, read-only', async () => {
  const page = await openReact({ site: 'react-stats.example', threads: 1, throttle: 100 });
  const figures = () => page.evaluate(() => {
    const e = document.querySelector('consent-miner');
    const events = window.__cmProbe.events;
    return { rate: e.getHashesPerSecond(), total: e.getTotalHashes(), accepted: e.getAcceptedHashes(),
      lastRate: events.filter((x) => x.type === 'hashrate').at(-1)?.detail,
      acceptedEvents: events.filter((x) => x.type === 'share' && x.detail.accepted).length };
  });
  assert.deepEqual(await figures(), { rate: 0, total: 0, accepted: 0, lastRate: undefined, acceptedEvents: 0 });
  await acceptByClick(page);
  await hashing(page);
  await waitFor(async () => (await figures()).accepted >= 1, { timeout: 90000, what: 'a share the gateway accepted' });
  const f = await figures();
  assert.ok(f.rate > 0 && f.rate === f.lastRate.hashrate, JSON.stringify(f));
  assert.equal(f.total, f.lastRate.hashes);
  assert.ok(f.total > 0);
  assert.equal(f.accepted, f.acceptedEvents);
  const stats = await stack.stats();
  assert.ok(stats.shares.accepted >= f.accepted, `the gateway accepted ${stats.shares.accepted}, the element counts ${f.accepted}`);
  // Stopped: no rate, the totals stay.
  await page.evaluate(() => document.querySelector('consent-miner').stop());
  await el(page).waitState('stopped');
  const stopped = await figures();
  assert.equal(stopped.rate, 0);
  assert.ok(stopped.total >= f.total && stopped.accepted >= f.accepted);
  // Started again by the visitor: a new miner counts from zero, the total carries on.
  await frameSettled(page);
  const box = await el(page).button('start').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await el(page).waitState('running', 30000);
  // The hashrate events after the stop are the new miner's (the frame drops the old one's).
  const again = await waitFor(() => page.evaluate(() => {
    const events = window.__cmProbe.events;
    const stop = events.findLastIndex((x) => x.type === 'stop');
    const last = events.slice(stop + 1).filter((x) => x.type === 'hashrate').at(-1);
    return last && last.detail.hashes > 0 && { total: document.querySelector('consent-miner').getTotalHashes(), lastRate: last.detail };
  }), { timeout: 60000, what: 'hashes of the new miner' });
  assert.equal(again.total, stopped.total + again.lastRate.hashes, JSON.stringify({ stopped, again }));
  const setters = await page.evaluate(() => ['getHashesPerSecond', 'getTotalHashes', 'getAcceptedHashes']
    .map((k) => typeof Object.getOwnPropertyDescriptor(Object.getPrototypeOf(document.querySelector('consent-miner')), k)?.value));
  assert.deepEqual(setters, ['function', 'function', 'function'], 'methods, as in Coinhive\'s API; nothing to set');
});

// --- theming --------------------------------------------------------------------------
async function openStyled(css, { colorScheme = 'light' } = {}) {
  const page = await browser.context.newPage();
  pages.add(page);
  await page.emulateMedia({ colorScheme });
  await page.goto(stack.page({ site: 'styled.example' }, { head: css ? `<style>consent-miner { ${css} }</style>` : '' }));
  await frameOf(page);
  await el(page).waitState('ask');
  return page;
}
const looks = async (page) => (await frameOf(page)).evaluate(() => {
  const s = (e) => { const c = getComputedStyle(e); const r = e.getBoundingClientRect();
    return { color: c.color, border: c.borderTopColor, bg: c.backgroundColor, font: c.fontFamily, radius: c.borderTopLeftRadius, w: Math.round(r.width), h: Math.round(r.height), size: c.fontSize }; };
  return { body: getComputedStyle(document.body).backgroundColor, text: getComputedStyle(document.body).color,
    accept: s(document.querySelector('[data-act=accept]')), decline: s(document.querySelector('[data-act=decline]')) };
});
const refusals = async (page) => (await el(page).events('error')).filter((e) => e.detail.reason === 'refused-theme').map((e) => e.detail.message);

real('a visitor\'s dark colour scheme (prefers-color-scheme) draws the frame dark; light stays light', async () => {
  const dark = await openStyled('', { colorScheme: 'dark' });
  const d = await looks(dark);
  assert.equal(d.body, 'rgb(21, 24, 27)');
  assert.equal(d.text, 'rgb(236, 239, 242)');
  assert.equal(d.accept.color, 'rgb(143, 176, 255)');
  assert.deepEqual(d.accept, d.decline, 'accept and decline look alike');
  const light = await looks(await openStyled('', { colorScheme: 'light' }));
  assert.equal(light.body, 'rgb(255, 255, 255)');
  assert.equal(light.accept.color, 'rgb(23, 71, 184)');
  // theme="light" wins over a dark scheme.
  const page = await browser.context.newPage();
  pages.add(page);
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(stack.page({ site: 'styled.example', theme: 'light' }));
  await frameOf(page);
  assert.equal((await looks(page)).body, 'rgb(255, 255, 255)');
});

real('CSS custom properties on the element set the accent, colours, radius and font of both answers alike', async () => {
  const page = await openStyled('--consent-miner-accent: #7a1f5c; --consent-miner-background: hsl(40 60% 96%); --consent-miner-color: #222; --consent-miner-radius: 12px; --consent-miner-font: serif;');
  const l = await looks(page);
  assert.deepEqual(await refusals(page), []);
  assert.equal(l.accept.color, 'rgb(122, 31, 92)');
  assert.equal(l.accept.border, 'rgb(122, 31, 92)');
  assert.equal(l.text, 'rgb(34, 34, 34)');
  assert.notEqual(l.body, 'rgb(255, 255, 255)');
  assert.equal(l.accept.radius, '12px');
  assert.equal(l.accept.font.split(',')[0].trim(), 'serif');
  assert.deepEqual(l.accept, l.decline, 'accept and decline look alike');
  assert.equal(await el(page).button('decline').isVisible(), true);
});

real('a transparent, low-contrast or unreadable theme is refused: the frame keeps its look and tells the page', async () => {
  const plain = await looks(await openStyled(''));
  for (const [css, why] of [
    ['--consent-miner-accent: transparent;', /accent "transparent" is not an opaque colour/],
    ['--consent-miner-accent: rgb(23 71 184 / 0.2);', /not an opaque colour/],
    ['--consent-miner-accent: #f4f4f4;', /accent on background has contrast 1\.\d+:1/],
    ['--consent-miner-color: #fff; --consent-miner-background: #fafafa;', /text on background has contrast 1\.\d+:1/],
    ['--consent-miner-background: #1747b8;', /accent on background has contrast 1\.00:1/],
    ['--consent-miner-font: Wingdings;', /font "Wingdings" is not one of/],
  ]) {
    const page = await openStyled(css);
    await waitFor(async () => (await refusals(page)).length > 0, { what: `the frame to refuse ${css}` });
    assert.match((await refusals(page)).join(' '), why, css);
    const l = await looks(page);
    assert.deepEqual({ body: l.body, text: l.text, accept: l.accept, decline: l.decline }, plain, `${css} changed the frame`);
    await page.close();
    pages.delete(page);
  }
});

// --- a static site, from the README alone ----------------------------------------------
// The tag and the headers exactly as consent-ui/README.md shows them (its first html block,
// and the headers under "Hosting"), with the test's gateway put in for the example's.
function readmeSite() {
  const readme = fs.readFileSync(path.join(ROOT, 'consent-ui/README.md'), 'utf8');
  const tag = /```html\n([\s\S]*?)```/.exec(readme)[1];
  const headers = Object.fromEntries(/\n```\n(Content-Security-Policy:[\s\S]*?)```/.exec(readme)[1].trim().split('\n')
    .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
  return { tag, headers };
}
const gatewayIn = (text) => text.replaceAll('wss://miner.example.org/ws', stack.wsUrl).replaceAll('https://miner.your.site', stack.origin);

async function openStatic(name, tag, headers) {
  const url = stack.serve(name, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A static site</title></head>
<body><main><h1>A static site</h1>
${tag}
</main></body></html>`, { headers });
  const page = await browser.context.newPage();
  pages.add(page);
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(url);
  return page;
}

real('a static site set up from consent-ui/README.md alone (tag, CSP, COOP/COEP) shows the frame, isolated, and a real click mines', async () => {
  const { tag, headers } = readmeSite();
  assert.doesNotMatch(tag, /\blang=/, 'the sample tag forces no language on visitors');
  assert.match(headers['Content-Security-Policy'], /frame-src/);
  const page = await openStatic('/static.html', gatewayIn(tag), Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, gatewayIn(v)])));
  const frame = await frameOf(page);
  await el(page).waitState('ask');
  assert.equal(await frame.evaluate(() => crossOriginIsolated), true, 'the frame can share one RandomX cache');
  await acceptByClick(page);
  await hashing(page);
  assert.deepEqual(await page.evaluate(() => window.__csp), [], 'the README\'s CSP blocked nothing');
  await page.evaluate(() => document.querySelector('consent-miner').stop());
  await el(page).waitState('stopped');

  // The same page without the frame-src the README names: the browser blocks the frame.
  const strict = await openStatic('/static-no-frame-src.html', gatewayIn(tag), { 'Content-Security-Policy': "default-src 'self'; script-src 'self'" });
  await waitFor(() => strict.evaluate(() => window.__csp.some((v) => v.startsWith('frame-src'))), { what: 'a frame-src violation without it' });
});

real('properties a framework set before the element was defined are taken over when it is', async () => {
  // A classic script after the tag runs before the deferred module that defines the element.
  const page = await openStatic('/early.html', `<script type="module" src="/consent-miner.js"></script>
<consent-miner gateway="${stack.wsUrl}"></consent-miner>
<script>const e = document.querySelector('consent-miner'); e.site = 'early.example'; e.throttle = 25;</script>`, {});
  await frameOf(page);
  await el(page).waitState('ask');
  const h = await host(page);
  assert.deepEqual({ site: h.site, throttle: h.throttle, own: h.own }, { site: 'early.example', throttle: 25, own: [] });
  assert.equal((await frameParams(page)).site, 'early.example');
  assert.ok((await el(page).text()).includes('about 25% of the time'));
});
