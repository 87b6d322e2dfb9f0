// The main job end to end: scripts/demo.sh runs non-interactively (its own monerod regtest
// and gateway on free loopback ports), `consentminer audit` shows that the demo page mines
// nothing before consent (issue 19), Chromium consents on the demo page with a real
// click, and the test waits until a block mined by the browser is accepted by monerod.
// Then it stops the demo with SIGINT and checks nothing it started is left running.
//
//   node --test tests/demo/demo.test.mjs      (expects the native and wasm builds)
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { runAudit, formatReport } from '../../audit/audit.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BLOCK_TIMEOUT_MS = 8 * 60 * 1000;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function rpc(port, method, params = {}) {
  const r = await fetch(`http://127.0.0.1:${port}/json_rpc`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: '0', method, params }),
  });
  return (await r.json()).result;
}

// Processes whose command line names the demo's own folder: what the demo started.
function processesUsing(dir) {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(dir) && !l.includes('ps -eo'));
}

test('a visitor consents on the demo page and mines a block the daemon accepts', { timeout: BLOCK_TIMEOUT_MS + 180_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-demo-'));
  const [port, gwPort, rpcPort, p2pPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const demo = spawn('bash', [path.join(ROOT, 'scripts/demo.sh')], {
    cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CM_DEMO_PORT: String(port), CM_DEMO_GATEWAY_PORT: String(gwPort), CM_DEMO_RPC_PORT: String(rpcPort),
           CM_DEMO_P2P_PORT: String(p2pPort), CM_DEMO_DIR: dir, CM_DEMO_DIFFICULTY: '60' },
  });
  let output = '';
  demo.stdout.on('data', (d) => { output += d; });
  demo.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((r) => demo.on('exit', (code, signal) => r({ code, signal })));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-demo-chromium-'));
  let context;
  try {
    const t0 = Date.now();
    while (!output.includes('demo is running')) {
      if (demo.exitCode !== null) assert.fail(`demo exited early:\n${output}`);
      if (Date.now() - t0 > 15 * 60 * 1000) assert.fail(`demo did not start:\n${output}`);
      await sleep(500);
    }
    const height0 = (await rpc(rpcPort, 'get_info')).height;

    // The audit, as a first-time visitor in a browser profile of its own, before any
    // consent: no click on Accept (it clicks Decline, which only its own profile keeps).
    const audit = await runAudit({ url: `http://127.0.0.1:${port}/`, seconds: 5 });
    const report = formatReport(audit);
    assert.equal(audit.exitCode, 0, report);
    assert.equal(audit.disclosure?.found, true, report);
    assert.equal(new URL(audit.disclosure.frameUrl).origin, `http://127.0.0.1:${gwPort}`, report);
    assert.equal(audit.decline?.remembered, true, report);

    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync',
             // The test machine is kept busy by the tests themselves, and the element rightly
             // pauses under system CPU pressure (consent rule 6): without the Compute Pressure
             // API the element mines, as it does in browsers that lack it.
             '--disable-blink-features=ComputePressure'],
    });
    const page = context.pages()[0] || await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // Console errors from the page and its frame (a 404 for /favicon.ico was one): a
    // visitor's console should show none (issue 23).
    const consoleErrors = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${m.text()} (${m.location()?.url || '?'})`); });
    await page.goto(`http://127.0.0.1:${port}/`);
    assert.equal(await page.evaluate(() => typeof PressureObserver), 'undefined');
    // The consent form is a frame from the gateway's origin, not the page's.
    const frameEl = await page.locator('consent-miner iframe').elementHandle({ timeout: 30000 });
    assert.equal(new URL(await frameEl.getAttribute('src')).origin, `http://127.0.0.1:${gwPort}`);
    const frame = await frameEl.contentFrame();
    // The frame counts a click only on a notice it has seen whole: bring it into view, as a
    // visitor scrolls to it.
    await page.locator('consent-miner').scrollIntoViewIfNeeded();
    await frame.waitForFunction(() => document.documentElement.dataset.visible === 'yes', null, { timeout: 30000 });
    await sleep(1500); // the frame counts a click only after the notice was visible for 1 s
    // A real (trusted) click on the accept button inside the frame.
    await page.frameLocator('consent-miner iframe').getByRole('button', { name: /accept/i }).click();

    let stats;
    const tb = Date.now();
    for (;;) {
      stats = await (await fetch(`http://127.0.0.1:${gwPort}/stats`)).json();
      if (stats.blocks.accepted >= 1) break;
      if (Date.now() - tb > BLOCK_TIMEOUT_MS) {
        assert.fail(`no block accepted in ${BLOCK_TIMEOUT_MS / 1000} s; stats ${JSON.stringify(stats.shares)}; page errors ${pageErrors.join('; ')}`);
      }
      await sleep(2000);
    }
    const info = await rpc(rpcPort, 'get_info');
    assert.ok(info.height > height0, `chain grew from ${height0} to ${info.height}`);
    assert.equal(stats.blocks.rejected, 0, 'no block was rejected');
    assert.deepEqual(consoleErrors, [], 'console errors on the demo page or in its frame');
    assert.deepEqual(pageErrors, [], 'uncaught errors on the demo page or in its frame');
    assert.ok(stats.shares.accepted >= 1, 'the gateway verified the browser\'s shares');
    // The page shows it too.
    await page.waitForFunction(() => Number(document.getElementById('blocks').textContent) >= 1, null, { timeout: 10000 });
    console.log(`block accepted after ${((Date.now() - tb) / 1000).toFixed(0)} s; height ${height0} -> ${info.height}`);
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
    if (demo.exitCode === null) process.kill(-demo.pid, 'SIGINT');
    const end = await Promise.race([exited, sleep(30000).then(() => null)]);
    if (!end) process.kill(-demo.pid, 'SIGKILL');
    const left = processesUsing(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(left, [], `processes left running: ${left.join('\n')}`);
    assert.ok(end, 'the demo stopped within 30 s of Ctrl-C');
  }
});
