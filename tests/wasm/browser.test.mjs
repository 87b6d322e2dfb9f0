// consentminer tests — the JS runtime in headless Chromium (Debian's, via playwright-core):
// module workers, the shared-memory build on a cross-origin isolated page, stop.
// The <consent-miner> element's own browser tests are in tests/browser/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startFakeGateway, testJob } from './fake-gateway.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const skip = !fs.existsSync(CHROMIUM) ? `${CHROMIUM} not installed` : false;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The page counts what it constructs and compiles, so the test can see that nothing is
// loaded before a valid consent.
const PAGE = `<!doctype html><meta charset="utf-8"><title>runtime test</title>
<script>
  window.probe = { Worker: 0, wasm: 0 };
  const W = window.Worker;
  window.Worker = new Proxy(W, { construct(t, a, nt) { probe.Worker++; return Reflect.construct(t, a, nt); } });
  for (const fn of ['compile', 'compileStreaming', 'instantiate', 'instantiateStreaming']) {
    const orig = WebAssembly[fn];
    WebAssembly[fn] = function (...a) { probe.wasm++; return orig.apply(this, a); };
  }
</script>
<script type="module">
  import { createMiner } from '/wasm/js/miner.mjs';
  window.createMiner = createMiner;
  window.ready = true;
</script>`;

// A session token as the gateway issues them; the stand-in gateway checks no signature.
function token(payload = {}) {
  const now = Date.now();
  const p = { v: 1, kid: 'test', kind: 'session', site: 'test', granted_at: now, expires_at: now + 3600e3, threads: 1,
    throttle: 100, id: 'ab'.repeat(16), grant: 'cd'.repeat(16), ...payload };
  const b64 = (x) => Buffer.from(x).toString('base64url');
  return `${b64(JSON.stringify(p))}.${b64('unsigned')}`;
}

function serve() {
  const types = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  const server = http.createServer((req, res) => {
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' };
    const p = new URL(req.url, 'http://x').pathname;
    if (p === '/') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/html' });
      res.end(PAGE);
      return;
    }
    const rel = path.normalize(p).replace(/^\/+/, '');
    const file = path.join(root, rel);
    if (!/^(wasm|build\/wasm)\//.test(rel) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// CPU time (ms) of every process the browser started, threads included.
function browserCpuMs(profile) {
  const pids = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // renderers rewrite their command line into one string: search, don't split
      if (fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(`--user-data-dir=${profile}`)) pids.push(d);
    } catch { /* gone */ }
  }
  let ticks = 0;
  for (const p of pids) {
    try {
      const st = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    } catch { /* gone */ }
  }
  return ticks * 10; // USER_HZ = 100
}

describe('runtime in Chromium', { skip }, () => {
  let server;
  let gw;
  let context;
  let profile;
  let page;
  before(async () => {
    const { chromium } = await import('playwright-core');
    server = await serve();
    // On the page's own origin: in a browser the runtime runs only on its gateway's origin.
    gw = await startFakeGateway({ job: testJob(), server });
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-wasm-test-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await context.newPage();
    page.on('pageerror', (e) => { throw e; });
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => window.ready === true);
  });
  after(async () => {
    await context?.close().catch(() => {});
    await gw?.close();
    server?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  test('nothing loads without consent; one worker (own cache) mines and is gone at stop', async () => {
    const r = await page.evaluate(async ({ gateway, tokens }) => {
      const m = window.miner = createMiner({ gateway, shared: 'never' });
      window.seen = { share: 0, accepted: 0, errors: [] };
      m.addEventListener('share', () => seen.share++);
      m.addEventListener('share-result', (e) => { if (e.detail.accepted) seen.accepted++; });
      m.addEventListener('error', (e) => seen.errors.push(e.detail.reason));
      const refused = await m.start(tokens.expired).then(() => 'started', (e) => e.reason);
      const record = await m.start({ granted_at: Date.now(), expires_at: Date.now() + 3600e3, threads: 1, throttle: 100 }).then(() => 'started', (e) => e.reason);
      const before = { ...probe };
      await m.start(tokens.ok);
      return { refused, record, before, isolated: crossOriginIsolated };
    }, { gateway: gw.url, tokens: { ok: token(), expired: token({ granted_at: Date.now() - 7200e3, expires_at: Date.now() - 3600e3 }) } });
    assert.equal(r.refused, 'consent-expired');
    assert.equal(r.record, 'no-consent', 'a record made by the page is not a consent');
    assert.deepEqual(r.before, { Worker: 0, wasm: 0 }, 'no worker and no wasm before a valid consent');
    assert.equal(r.isolated, true);
    assert.equal(await page.evaluate(() => miner.info().shared), false);
    await page.waitForFunction(() => seen.accepted >= 1, null, { timeout: 60000 });
    const cpu = await stopAndMeasure();
    assert.ok(cpu < 0.15, `browser CPU after stop: ${cpu.toFixed(3)} of a core`);
    assert.deepEqual(await page.evaluate(() => seen.errors), ['consent-expired', 'no-consent'], 'only the refused starts');
  });

  test('two threads share one cache on an isolated page, and stop at once', async () => {
    const r = await page.evaluate(async ([gateway, t]) => {
      const m = window.miner = createMiner({ gateway });
      window.seen = { errors: [] };
      m.addEventListener('error', (e) => seen.errors.push(e.detail.reason));
      await m.start(t);
      await m.ready();
      return m.info();
    }, [gw.url, token({ threads: 2 })]);
    assert.equal(r.shared, true);
    assert.equal(r.workers, 1);
    await page.waitForFunction(() => miner.totals().hashes >= 3, null, { timeout: 60000 });
    const info = await page.evaluate(() => miner.info());
    assert.ok(info.memoryBytes < 400 * 2 ** 20, `one cache: wasm memory ${info.memoryBytes}`);
    const cpu = await stopAndMeasure();
    assert.ok(cpu < 0.15, `browser CPU after stop: ${cpu.toFixed(3)} of a core`);
    assert.deepEqual(await page.evaluate(() => seen.errors), []);
  });

  test('stop during the cache initialisation is just as quick', async () => {
    for (const shared of ['never', 'always']) {
      await page.evaluate(async ([gateway, sh, t]) => {
        const m = window.miner = createMiner({ gateway, shared: sh });
        window.seen = { states: [] };
        m.addEventListener('state', (e) => seen.states.push(e.detail.state));
        await m.start(t);
      }, [gw.url, shared, token()]);
      await page.waitForFunction(() => seen.states.includes('initializing'));
      const cpu = await stopAndMeasure();
      assert.ok(cpu < 0.15, `${shared}: browser CPU after stop: ${cpu.toFixed(3)} of a core`);
      assert.ok(!(await page.evaluate(() => seen.states.includes('mining'))), `${shared}: stopped before mining began`);
    }
  });

  // Stops the page's miner; the browser's CPU use from 100 ms after stop, over 600 ms.
  async function stopAndMeasure() {
    const busy0 = browserCpuMs(profile);
    await sleep(300);
    assert.ok(browserCpuMs(profile) - busy0 > 100, 'the browser was hashing before stop');
    await page.evaluate(() => miner.stop());
    await sleep(100);
    const c0 = browserCpuMs(profile);
    const t0 = Date.now();
    await sleep(600);
    return (browserCpuMs(profile) - c0) / (Date.now() - t0);
  }
});
