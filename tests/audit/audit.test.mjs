// `consentminer audit` against fixture sites with known verdicts (tests/audit/server.mjs):
// consent-ui's element with the real gateway and consent frame, on a page that shows it,
// hides it, covers it or shrinks it; a consent frame whose runtime breaks its promise;
// miners that start at once, late, only while
// hidden, inside a frame of another site, in plain JavaScript; and heavy honest JavaScript.
// Each audit watches only a second or two per phase, so the suite stays short; the rules
// it checks are in audit/evidence.mjs.
//
//   node --test --test-concurrency=1 tests/audit/audit.test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runAudit, formatReport } from '../../audit/audit.mjs';
import { startFixtures, ROOT } from './server.mjs';

const SECONDS = 1.5;
let fx;
before(async () => { fx = await startFixtures(); });
// The element's fixtures need the real gateway and frame (build/native, build/wasm,
// monerod); without them they skip and say what is missing.
// scripts/test.sh sets CM_BROWSER_REQUIRE_REAL=1: there a missing part fails the test.
const required = process.env.CM_BROWSER_REQUIRE_REAL === '1';
const real = (name, fn) => test(name, async (t) => {
  if (fx.missing.length && required) throw new Error(`real parts missing: ${fx.missing.join('; ')}`);
  if (fx.missing.length) return t.skip(`real parts not built: ${fx.missing.join('; ')}`);
  return fn(t);
});
after(async () => { await fx?.close(); });

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-audit-test-'));
after(() => fs.rmSync(out, { recursive: true, force: true }));

async function audit(name, { query = '', seconds = SECONDS, ...rest } = {}) {
  const r = await runAudit({ url: fx.page(name, query), seconds, ...rest });
  const text = formatReport(r);
  // On failure, the report says what the audit saw.
  return { r, text, codes: r.mining.map((m) => m.code), why: `\n${text}` };
}

real('the element with the real gateway and frame: shows the disclosure, mines nothing, Accept/Stop keep their promises (exit 0)', async () => {
  const shot = path.join(out, 'disclosure.png');
  const { r, text, why } = await audit('element', { accept: true, screenshot: shot });
  assert.equal(r.exitCode, 0, why);
  assert.equal(r.verdict, 'pass', why);
  assert.deepEqual(r.mining, [], why);
  assert.equal(r.disclosure.found, true, why);
  // The answers are in the gateway's frame, not in the page.
  assert.equal(r.disclosure.where, 'iframe', why);
  assert.equal(new URL(r.disclosure.frameUrl).origin, fx.stack.origin, why);
  assert.deepEqual(r.disclosure.problems, [], why);
  assert.equal(r.decline.remembered, true, why);
  assert.equal(r.seen.workers.length + r.seen.wasm.length + r.seen.websockets.length, 0, why);
  // After Accept, the real runtime mined through the gateway, and stopped.
  const a = r.acceptCheck;
  assert.deepEqual(a.problems, [], why);
  assert.deepEqual(a.promise, { threads: 1, cores: a.promise.cores, throttle: 50 }, why);
  assert.ok(a.workers >= 1 && a.wasm >= 1, why);
  assert.ok(a.stop.ticks <= 1, why);
  assert.match(text, /PASS: nothing mined before the visitor consented/);
  // A PNG of the disclosure.
  assert.deepEqual([...fs.readFileSync(shot).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
});

real('the element inside a frame of another origin: found, checked, accepted and stopped there (exit 0)', async () => {
  const { r, why } = await audit('element-in-frame', { accept: true, lang: 'ja' });
  assert.equal(r.exitCode, 0, why);
  assert.equal(r.disclosure.where, 'iframe', why);
  assert.equal(new URL(r.disclosure.frameUrl).origin, fx.stack.origin, why);
  assert.deepEqual(r.disclosure.problems, [], why);
  assert.deepEqual(r.acceptCheck.problems, [], why);
  assert.match(why, /合格/);
});

test('a consent frame whose runtime spins beyond the promised load and stops late fails after Accept (exit 1)', async () => {
  const { r, why } = await audit('element-greedy', { accept: true });
  assert.equal(r.exitCode, 1, why);
  assert.deepEqual(r.mining, [], why); // nothing before consent
  assert.deepEqual(r.disclosure.problems, [], why);
  const codes = r.acceptCheck.problems.map((p) => p.code);
  assert.ok(codes.includes('over-promise'), why);
  assert.ok(codes.includes('stop-slow'), why);
});

// A page cannot style the buttons inside the gateway's frame; it can hide, cover or
// shrink the frame itself, and the audit looks at the frame's box in the page.
real('the consent frame made transparent by the site\'s CSS fails and says why (exit 1)', async () => {
  const { r, why } = await audit('element-decline-hidden', { seconds: 1 });
  assert.equal(r.exitCode, 1, why);
  assert.deepEqual(r.mining, [], why);
  const p = r.disclosure.problems.find((x) => x.control === 'decline');
  assert.equal(p?.code, 'transparent', why);
  assert.equal(p.frame, true, why);
  assert.match(why, /Decline is nearly transparent: opacity 0 \(with its frame\)/);
});

real('the consent frame covered by the site\'s own box fails and names the cover (exit 1)', async () => {
  const { r, why } = await audit('element-covered', { seconds: 1 });
  assert.equal(r.exitCode, 1, why);
  assert.deepEqual(r.mining, [], why);
  const p = r.disclosure.problems.find((x) => x.control === 'decline');
  assert.equal(p?.code, 'covered', why);
  assert.equal(p.by, 'div#cover', why);
  assert.equal(p.frame, true, why);
});

real('the consent frame shrunk by the site with a transform fails: its answers are too small to use (exit 1)', async () => {
  const { r, why } = await audit('element-tiny', { seconds: 1 });
  assert.equal(r.exitCode, 1, why);
  assert.deepEqual(r.mining, [], why);
  const p = r.disclosure.problems.find((x) => x.control === 'decline' && x.code === 'too-small');
  assert.ok(p, why);
  assert.ok(p.width < 24 || p.height < 24, why);
  assert.match(why, /Decline is \d+×\d+ px, under 24×24 px/);
});

test('a page whose script mines with no click fails, naming the script and the WebSocket login (exit 1)', async () => {
  const { r, codes, why } = await audit('miner-now');
  assert.equal(r.exitCode, 1, why);
  const login = r.mining.find((m) => m.code === 'stratum' && m.method === 'login');
  assert.ok(login, why);
  assert.equal(login.transport, 'WebSocket', why);
  assert.match(login.initiator, /\/fixtures\/miner\.js/, why);
  assert.equal(login.phase, 'load', why);
  assert.ok(codes.includes('wasm-workers-cpu'), why);
  assert.ok(r.seen.wasm.some((w) => /miner-worker\.js/.test(w.context)), why);
  assert.ok(fx.log.some((m) => m.transport === 'ws' && m.method === 'login'), 'the fixture pool saw no login');
});

test('a wasm miner with no stratum at all is caught by its shape: wasm + worker + sustained CPU (exit 1)', async () => {
  const { r, codes, why } = await audit('miner-now', { query: 'transport=none', seconds: 2 });
  assert.equal(r.exitCode, 1, why);
  assert.deepEqual(codes, ['wasm-workers-cpu'], why);
});

test('a miner that starts only later, speaking stratum over fetch, fails at the time it started (exit 1)', async () => {
  // The fixture waits 20 s by default; here 3 s, so that 1.5 s phases see it.
  const { r, why } = await audit('miner-late', { query: 'delay=3' });
  assert.equal(r.exitCode, 1, why);
  const login = r.mining.find((m) => m.code === 'stratum' && m.method === 'login');
  assert.ok(login, why);
  assert.match(login.transport, /^Fetch POST/, why);
  const script = r.seen.requests.find((q) => /\/fixtures\/miner\.js/.test(q.url));
  assert.ok(login.at - script.at >= 2900, `login at ${login.at} ms, script requested at ${script.at} ms${why}`);
});

test('a miner that starts only while the tab is hidden fails in the hidden phase (exit 1)', async () => {
  const { r, why } = await audit('miner-hidden');
  assert.equal(r.exitCode, 1, why);
  assert.equal(r.mining[0].phase, 'hidden', why);
  assert.ok(!r.seen.workers.some((w) => w.phase === 'load' || w.phase === 'scroll'), why);
});

test('a miner that starts on the first scroll fails in the scroll phase (exit 1)', async () => {
  const { r, why } = await audit('miner-scroll');
  assert.equal(r.exitCode, 1, why);
  assert.equal(r.mining[0].phase, 'scroll', why);
  assert.ok(!r.seen.workers.some((w) => w.phase === 'load'), why);
});

test('a miner that starts when the tab is shown again fails in the shown phase (exit 1)', async () => {
  const { r, why } = await audit('miner-shown');
  assert.equal(r.exitCode, 1, why);
  assert.equal(r.mining[0].phase, 'shown', why);
  assert.ok(!r.seen.workers.some((w) => ['load', 'scroll', 'hidden'].includes(w.phase)), why);
});

real('a page that mines after the visitor declined fails in the declined phase (exit 1)', async () => {
  const { r, why } = await audit('element-then-decline-mines');
  assert.equal(r.exitCode, 1, why);
  assert.equal(r.decline.tried, true, why);
  assert.equal(r.mining[0].phase, 'declined', why);
  const login = r.mining.find((m) => m.code === 'stratum' && m.method === 'login');
  assert.match(login?.initiator || '', /\/fixtures\/miner\.js/, why);
});

test('a miner inside a frame of another site (its own process) fails (exit 1)', async () => {
  const { r, codes, why } = await audit('miner-in-frame');
  assert.equal(r.exitCode, 1, why);
  const login = r.mining.find((m) => m.code === 'stratum' && m.method === 'login');
  assert.match(login?.initiator || '', /^http:\/\/localhost:\d+\/fixtures\/miner\.js/, why);
  assert.ok(codes.includes('wasm-workers-cpu'), why);
  assert.ok(r.seen.frames.some((f) => /^http:\/\/localhost:/.test(f.url)), why);
});

test('a plain-JavaScript miner with no WebAssembly fails on its stratum messages (exit 1)', async () => {
  const { r, codes, why } = await audit('miner-js');
  assert.equal(r.exitCode, 1, why);
  assert.ok(codes.includes('stratum'), why);
  assert.ok(!codes.includes('wasm-workers-cpu'), why);
  assert.equal(r.seen.wasm.length, 0, why);
  assert.ok(r.mining.some((m) => m.method === 'submit'), why);
});

test('heavy but honest JavaScript passes, its CPU reported and not called mining (exit 0)', async () => {
  const { r, text, why } = await audit('heavy', { seconds: 2 });
  assert.equal(r.exitCode, 0, why);
  assert.deepEqual(r.mining, [], why);
  assert.ok(r.seen.workers.length >= 1, why);
  assert.ok(r.cpu.some((s) => s.workerDemand >= 0.5), why);
  assert.ok(r.heavy.length >= 1, why);
  assert.match(text, /reported as CPU, not as mining/);
});

// The command line: usage errors and an unreachable page exit 2; --json and --lang ja.
const node = (args) => spawnSync(process.execPath, [path.join(ROOT, 'audit/audit.mjs'), ...args], { encoding: 'utf8', timeout: 180000 });

test('command line: no URL, a bad option or an unreachable page exit 2 and say what was wrong', async () => {
  let p = node([]);
  assert.equal(p.status, 2);
  assert.match(p.stderr, /URL is missing/);
  p = node(['http://127.0.0.1:1/', '--seconds', 'x']);
  assert.equal(p.status, 2);
  assert.match(p.stderr, /--seconds is 'x'; expected seconds/);
  p = node(['http://127.0.0.1:1/', '--seconds', '1']);
  assert.equal(p.status, 2, p.stdout + p.stderr);
  assert.match(p.stdout, /NOT AUDITED: could not load http:\/\/127\.0\.0\.1:1\//);
});

test('command line: --json gives the report with exit 1 for a miner; --lang ja gives Japanese text', async () => {
  // Spawned, so the fixture servers (in this process) must keep answering meanwhile.
  const { spawn } = await import('node:child_process');
  const run = (args) => new Promise((resolve) => {
    const c = spawn(process.execPath, [path.join(ROOT, 'audit/audit.mjs'), ...args]);
    let stdout = '';
    c.stdout.on('data', (d) => { stdout += d; });
    c.stderr.resume();
    c.on('exit', (status) => resolve({ status, stdout }));
  });
  let p = await run([fx.page('miner-js'), '--seconds', '1', '--json']);
  assert.equal(p.status, 1, p.stdout);
  const j = JSON.parse(p.stdout);
  assert.equal(j.verdict, 'fail');
  assert.ok(j.mining.some((m) => m.code === 'stratum' && m.method === 'login'));
  p = await run([fx.page(fx.missing.length ? 'heavy' : 'element'), '--seconds', '1', '--lang', 'ja']);
  assert.equal(p.status, 0, p.stdout);
  assert.match(p.stdout, /合格：訪問者が同意する前には何もマイニングしていません/);
});

const CLI = path.join(ROOT, 'build/native/consentminer');
test('consentminer audit forwards to audit/audit.mjs', { skip: !fs.existsSync(CLI) && `${CLI} is not built` }, () => {
  let p = spawnSync(CLI, ['audit', '--help'], { encoding: 'utf8' });
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /usage: consentminer audit URL/);
  p = spawnSync(CLI, ['audit'], { encoding: 'utf8' });
  assert.equal(p.status, 2);
  assert.match(p.stderr, /URL is missing/);
  p = spawnSync(CLI, ['--help'], { encoding: 'utf8' });
  assert.match(p.stdout, /audit/);
});
