// consentminer tests — the JS runtime (wasm/js/miner.mjs) in node, with worker_threads,
// against a stand-in gateway. Run by tests/wasm/run.sh (node --test).
//
// RandomX light mode in wasm hashes a few times a second and needs a second or more to
// build each worker's cache, so these tests use easy targets (every hash is a share) and
// short waits.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';

import { compileWasm } from '../../wasm/js/env.mjs';
import { fromHex, instantiate, toHex } from '../../wasm/js/instance.mjs';
import { createMiner } from '../../wasm/js/miner.mjs';
import { startFakeGateway, testJob } from './fake-gateway.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const buildDir = process.env.CM_WASM_BUILD || path.join(here, '..', '..', 'build', 'wasm');
const wasmUrl = pathToFileURL(path.join(buildDir, 'consentminer.wasm')).href;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A session token as the gateway issues them (docs/design.md): the runtime reads its
// payload for core's record; the signature is the gateway's to check, and this stand-in
// gateway checks none, so any will do here.
const b64url = (s) => Buffer.from(s).toString('base64url');
function token(payload, kind = 'session') {
  const now = Date.now();
  const p = { v: 1, kid: 'test', kind, site: 'example.org', granted_at: now, expires_at: now + 3600e3, threads: 1,
    throttle: 100, id: 'ab'.repeat(16), grant: 'cd'.repeat(16), ...payload };
  return `${b64url(JSON.stringify(p))}.${b64url('not-a-real-signature')}`;
}
function consent({ threads = 1, throttle = 100, ms = 60 * 60 * 1000, id } = {}) {
  const now = Date.now();
  return token({ granted_at: now, expires_at: now + ms, threads, throttle, ...(id ? { id } : {}) });
}
// The record core gets from a token made by consent().
const recordOf = (t) => { const p = JSON.parse(Buffer.from(t.split('.')[0], 'base64url')); return { granted_at: p.granted_at, expires_at: p.expires_at, threads: p.threads, throttle: p.throttle }; };

function record(miner) {
  const seen = { state: [], error: [], share: [], 'share-result': [], cpu: [], hashrate: [] };
  for (const type of Object.keys(seen)) miner.addEventListener(type, (e) => seen[type].push(e.detail));
  return seen;
}

async function until(pred, ms, what) {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

// Process CPU time (all threads) per wall millisecond over `ms`.
async function cpuFraction(ms) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(ms);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / (performance.now() - t0);
}

// An independent wasm instance to recompute shares' hashes.
let verifier = null;
// The verifier hashes with RandomX's interpreter (setJit is never called on it), which
// tests/wasm/diff-hashes.sh checks against native RandomX; the miners under test use the
// JIT path unless a test says otherwise, so every verified share compares the two paths.
async function verify(job, share) {
  if (!verifier) {
    verifier = await instantiate(pathToFileURL(path.join(buildDir, 'consentminer.mjs')).href, await compileWasm(wasmUrl));
    verifier.consent(recordOf(consent()));
  }
  verifier.setSeed(fromHex(job.seed_hash));
  const blob = fromHex(job.blob);
  blob.set(fromHex(share.nonce), 39);
  return toHex(verifier.hash(blob));
}

describe('consent comes first', () => {
  test('nothing is compiled, started or connected without a valid consent', async () => {
    let compiles = 0;
    let sockets = 0;
    const origCompile = WebAssembly.compile;
    WebAssembly.compile = (...a) => { compiles++; return origCompile(...a); };
    class CountingWebSocket extends WebSocket {
      constructor(...a) { sockets++; super(...a); }
    }
    try {
      const now = Date.now();
      const cases = [
        [undefined, 'no-consent'],
        [null, 'no-consent'],
        // A record made by the caller is not a consent the gateway issued.
        [{ granted_at: now, expires_at: now + 3600e3, threads: 1, throttle: 50 }, 'no-consent'],
        ['not a token', 'consent-invalid'],
        [`${b64url('{"v":1')}.${b64url('x')}`, 'consent-invalid'],
        [token({}, 'grant'), 'consent-invalid'],
        [token({ id: 'short' }), 'consent-invalid'],
        [token({ granted_at: now - 7200e3, expires_at: now - 3600e3, threads: 1, throttle: 50 }), 'consent-expired'],
        [token({ threads: 0 }), 'consent-invalid'],
        [token({ throttle: 101 }), 'consent-invalid'],
        [token({ expires_at: now + 31 * 86400e3 }), 'consent-invalid'],
        [token({ granted_at: now + 3600e3, expires_at: now + 7200e3 }), 'consent-invalid'],
        [token({ granted_at: String(now) }), 'consent-invalid'],
        [token({ granted_at: now + 0.5 }), 'consent-invalid'],
        [token({ threads: 257 }), 'consent-invalid'],
      ];
      for (const [c, reason] of cases) {
        const miner = createMiner({ gateway: 'ws://127.0.0.1:9/ws', WebSocket: CountingWebSocket, wasmUrl });
        const seen = record(miner);
        await assert.rejects(miner.start(c), (e) => e.reason === reason, `consent ${JSON.stringify(c)}`);
        assert.equal(seen.error[0].reason, reason);
        assert.equal(miner.info().workers, 0);
      }
      assert.equal(compiles, 0, 'no wasm compiled');
      assert.equal(sockets, 0, 'no WebSocket opened');
    } finally {
      WebAssembly.compile = origCompile;
    }
  });

  test('no WebAssembly is an error event with its reason', async () => {
    const wasm = globalThis.WebAssembly;
    delete globalThis.WebAssembly;
    try {
      const miner = createMiner({ gateway: 'ws://127.0.0.1:9/ws', WebSocket, wasmUrl });
      const seen = record(miner);
      await assert.rejects(miner.start(consent()), (e) => e.reason === 'no-webassembly');
      assert.equal(seen.error[0].reason, 'no-webassembly');
    } finally {
      globalThis.WebAssembly = wasm;
    }
  });

  test('core refuses to hash without consent, and a failed allocation is an error', async () => {
    const inst = await instantiate(pathToFileURL(path.join(buildDir, 'consentminer.mjs')).href, await compileWasm(wasmUrl));
    assert.throws(() => inst.setSeed(new Uint8Array(32)), (e) => e.name === 'CM_E_NO_CONSENT');
    const c = recordOf(consent());
    inst.consent(c);
    // More than the 2 GiB this build may grow to: malloc says no, nothing aborts.
    assert.throws(() => inst.check(inst.M._cm_wasm_memory_check(3.5 * 2 ** 30)), (e) => e.name === 'CM_E_NOMEM' && /not enough memory/.test(e.message));
    inst.revoke();
    assert.throws(() => inst.setSeed(new Uint8Array(32)), (e) => e.name === 'CM_E_CONSENT_REVOKED');
  });

  test('core refuses a thread or throttle above the consent\'s ceilings before every hash', async () => {
    // What a host that bypassed the runtime's own checks would get: no hash from core.
    const inst = await instantiate(pathToFileURL(path.join(buildDir, 'consentminer.mjs')).href, await compileWasm(wasmUrl));
    inst.consent(recordOf(consent({ threads: 2, throttle: 50 })));
    const job = testJob();
    inst.setSeed(fromHex(job.seed_hash));
    inst.job(job);
    const refused = (what) => {
      const r = inst.mine(1);
      assert.equal(r.hashes, 0, what);
      assert.equal(r.name, 'CM_E_CONSENT_EXCEEDED', `${what}: ${r.rc} ${r.message}`);
    };
    refused('the default 100% throttle, above the 50% ceiling');
    inst.setThrottle(50);
    inst.setThreadIndex(2);
    refused('a third thread under a two-thread consent');
    inst.setThreadIndex(1);
    const ok = inst.mine(1);
    assert.equal(ok.hashes, 1, `${ok.rc} ${ok.message}`);
    inst.setThrottle(51);
    refused('throttle raised to 51%');
  });
});

describe('mining through a gateway', () => {
  let gw;
  const job = testJob({ nonceByte: 0x7b });
  before(async () => { gw = await startFakeGateway({ job, nicehash: true }); });
  after(async () => { await gw.close(); });

  test('logs in with the consent, finds shares the gateway can verify, stops at once', async () => {
    const miner = createMiner({ gateway: gw.url, WebSocket, wasmUrl, shared: 'never', statsIntervalMs: 250 });
    const seen = record(miner);
    const c = consent({ threads: 1, throttle: 100 });
    await miner.start(c);
    assert.equal(gw.logins[0].consent, c, 'login carries the gateway\'s session token, as it was');
    assert.equal(gw.logins[0].threads, 1);
    assert.equal(gw.logins[0].throttle, 100);
    await gw.until(() => gw.submits.length >= 2, 60000);
    for (const s of gw.submits.slice(0, 2)) {
      assert.equal(s.id, 'session-1');
      assert.equal(s.job_id, 'j1');
      assert.match(s.nonce, /^[0-9a-f]{6}7b$/, 'NiceHash: the gateway\'s nonce byte is kept');
      assert.equal(s.result, await verify(job, s), 'the share hash is RandomX of the blob with that nonce');
    }
    await until(() => seen['share-result'].length >= 1, 10000, 'a share verdict');
    assert.equal(seen['share-result'][0].accepted, true);
    assert.ok(seen.share.length >= 2);
    await until(() => seen.hashrate.some((h) => h.hashrate > 0), 10000, 'a hash rate');
    await until(() => seen.cpu.some((x) => x.fraction > 0.5), 10000, 'measured CPU');
    assert.ok(seen.state.some((s) => s.state === 'mining'));
    assert.ok(seen.state.every((s) => s.engine === 'jit'), `node 20 has SIMD128: the JIT path (${JSON.stringify(seen.state)})`);

    miner.stop();
    await sleep(100);
    const idle = await cpuFraction(500);
    assert.ok(idle < 0.1, `after stop, process CPU is ${idle.toFixed(3)} of a core`);
    assert.equal(miner.state, 'stopped');
    assert.deepEqual(seen.error, []);
  });

  test('a bad job is an error event and mining goes on; a lost gateway is reconnected', async () => {
    const miner = createMiner({ gateway: gw.url, WebSocket, wasmUrl, shared: 'never' });
    let m2 = null;
    try {
      const seen = record(miner);
      const before = gw.submits.length;
      const firstLogin = gw.logins.length; // the fake gateway's log is shared by every test
      await miner.start(consent());
      const token = gw.logins[firstLogin].consent;
      gw.pushJob({ ...testJob({ jobId: 'bad' }), blob: '0000' });
      await until(() => seen.error.length > 0, 30000, 'an error event');
      assert.equal(seen.error[0].reason, 'bad-job');
      assert.equal(seen.error[0].fatal, false);
      assert.match(seen.error[0].message, /blob/);
      await gw.until(() => gw.submits.length > before, 60000);
      // A lost connection (1006) and a gateway going away (1001): each time the miner holds
      // its workers, says 'reconnecting', logs in again with the same token and mines on.
      for (const drop of [() => gw.dropAll(), () => gw.closeAll(1001, 'gateway going away: reconnect')]) {
        const logins = gw.logins.length;
        drop();
        await until(() => seen.state.some((s) => s.state === 'reconnecting'), 10000, 'reconnecting');
        await gw.until(() => gw.logins.length > logins, 30000);
        assert.equal(gw.logins.at(-1).consent, token, 'the same session token');
        const submits = gw.submits.length;
        await gw.until(() => gw.submits.length > submits, 60000);
        assert.notEqual(miner.state, 'stopped');
        seen.state.length = 0;
      }
      assert.ok(!seen.error.some((e) => e.fatal), JSON.stringify(seen.error));
      // A refusal (1008) ends mining; so does a gateway that refuses the new login.
      gw.closeAll(1008, 'consent revoked');
      await until(() => miner.state === 'stopped', 10000, 'stopped after 1008');
      assert.ok(seen.error.some((e) => e.reason === 'gateway-gone' && e.fatal));
      m2 = createMiner({ gateway: gw.url, WebSocket, wasmUrl, shared: 'never' });
      const seen2 = record(m2);
      await m2.start(consent());
      gw.refuse = 'consent token expired';
      gw.dropAll();
      await until(() => m2.state === 'stopped', 30000, 'stopped after a refused login');
      assert.ok(seen2.error.some((e) => e.reason === 'gateway-refused' && e.fatal), JSON.stringify(seen2.error));
    } finally {
      // A failure above must not leave a miner hashing into the next test's CPU readings.
      gw.refuse = null;
      miner.stop();
      m2?.stop();
    }
  });

  test('an expiring consent stops mining', async () => {
    const miner = createMiner({ gateway: gw.url, WebSocket, wasmUrl, shared: 'never' });
    const seen = record(miner);
    await miner.start(consent({ ms: 6000 }));
    await until(() => miner.state === 'stopped', 30000, 'stopped at expiry');
    assert.ok(seen.error.some((e) => e.reason === 'consent-expired' && e.fatal), JSON.stringify(seen.error));
  });

  test('pause holds the workers idle; resume goes on', async () => {
    const miner = createMiner({ gateway: gw.url, WebSocket, wasmUrl, shared: 'never', statsIntervalMs: 250 });
    const seen = record(miner);
    await miner.start(consent());
    await miner.ready();
    miner.pause('hidden');
    assert.equal(miner.state, 'paused');
    await sleep(2000); // the hash under way finishes
    const h0 = miner.totals().hashes;
    const busy = await cpuFraction(1500);
    assert.equal(miner.totals().hashes, h0, 'no hash while paused');
    assert.ok(busy < 0.1, `paused, process CPU is ${busy.toFixed(3)} of a core`);
    miner.resume();
    await until(() => miner.totals().hashes > h0, 20000, 'hashing after resume');
    assert.deepEqual(seen.state.filter((s) => s.state === 'paused').map((s) => s.reason), ['hidden']);
    miner.stop();
  });
});

describe('the gateway first', () => {
  test('a login the gateway refuses fetches and compiles no wasm and starts no worker', async () => {
    const gw = await startFakeGateway({ refuse: 'consent must be a token issued by this gateway' });
    let compiles = 0;
    const origCompile = WebAssembly.compile;
    WebAssembly.compile = (...a) => { compiles++; return origCompile(...a); };
    try {
      const miner = createMiner({ gateway: gw.url, WebSocket, wasmUrl });
      await assert.rejects(miner.start(consent()), (e) => e.reason === 'gateway-refused');
      assert.equal(gw.logins.length, 1, 'the login was tried');
      assert.equal(compiles, 0, 'no wasm compiled before the gateway accepted the login');
      assert.equal(miner.info().workers, 0);
    } finally {
      WebAssembly.compile = origCompile;
      await gw.close();
    }
  });

  test('renew() sends the new session token and moves core\'s expiry; ceilings never rise', async () => {
    const gw = await startFakeGateway({ job: testJob({ nonceByte: 0x11 }), nicehash: true });
    const miner = createMiner({ gateway: gw.url, WebSocket, wasmUrl, shared: 'never', statsIntervalMs: 250 });
    const seen = record(miner);
    try {
      await miner.start(consent({ ms: 5000, threads: 1, throttle: 60 }));
      const renewed = consent({ ms: 3600e3, threads: 1, throttle: 100 });
      await miner.renew(renewed);
      assert.equal(gw.renewals.length, 1);
      assert.deepEqual(gw.renewals[0], { id: 'session-1', consent: renewed });
      // Another grant's token is refused without asking the gateway.
      await assert.rejects(miner.renew(token({ grant: 'ef'.repeat(16) })), (e) => e.reason === 'consent-invalid');
      assert.equal(gw.renewals.length, 1);
      // Past the first token's expiry, core still hashes under the renewed record.
      await sleep(6500);
      const h0 = miner.totals().hashes;
      await until(() => miner.totals().hashes > h0, 20000, 'hashing after the first token expired');
      assert.notEqual(miner.state, 'stopped');
      miner.setThrottle(100); // above the 60% ceiling of the token it started with
      assert.ok(seen.error.some((e) => e.reason === 'bad-setting' && /60%/.test(e.message)), JSON.stringify(seen.error));
      assert.ok(!seen.error.some((e) => e.fatal), JSON.stringify(seen.error));
    } finally {
      miner.stop();
      await gw.close();
    }
  });
});

describe('the interpreter path', () => {
  test('a misspelt jit or shared choice is an error naming the option and the choices', () => {
    assert.throws(() => createMiner({ jit: 'off' }), { name: 'TypeError', message: /jit is "off"; expected 'auto', 'never'/ });
    assert.throws(() => createMiner({ jit: false }), { name: 'TypeError', message: /jit is false; expected/ });
    assert.throws(() => createMiner({ shared: 'yes' }), { name: 'TypeError', message: /shared is "yes"; expected 'auto', 'always', 'never'/ });
    assert.equal(createMiner({ jit: undefined, shared: undefined }).state, 'idle');
  });

  test("jit: 'never' hashes with RandomX's interpreter and says so in its state events", async () => {
    const job = testJob({ nonceByte: 0x3c });
    const gw = await startFakeGateway({ job, nicehash: true });
    const miner = createMiner({ gateway: gw.url, WebSocket, wasmUrl, shared: 'never', jit: 'never', statsIntervalMs: 250 });
    const seen = record(miner);
    try {
      await miner.start(consent());
      await gw.until(() => gw.submits.length >= 1, 60000);
      assert.equal(gw.submits[0].result, await verify(job, gw.submits[0]));
      assert.ok(seen.state.length > 0 && seen.state.every((s) => s.engine === 'interpreter' && /never/.test(s.engineReason)),
        JSON.stringify(seen.state));
      assert.equal(miner.info().engine, 'interpreter');
    } finally {
      miner.stop();
      await gw.close();
    }
  });
});

describe('errors at start', () => {
  test('a refused login rejects start with the gateway\'s reason', async () => {
    const gw = await startFakeGateway({ refuse: 'login refused: consent expired' });
    try {
      const miner = createMiner({ gateway: gw.url, WebSocket, wasmUrl });
      await assert.rejects(miner.start(consent()), (e) => e.reason === 'gateway-refused' && /consent expired/.test(e.message));
      assert.equal(miner.info().workers, 0);
    } finally {
      await gw.close();
    }
  });

  test('no gateway listening, and no WebSocket at all', async () => {
    const miner = createMiner({ gateway: 'ws://127.0.0.1:9/ws', WebSocket, wasmUrl });
    await assert.rejects(miner.start(consent()), (e) => e.reason === 'gateway-unreachable');
    if (typeof globalThis.WebSocket !== 'function') {
      const m2 = createMiner({ gateway: 'ws://127.0.0.1:9/ws', wasmUrl });
      await assert.rejects(m2.start(consent()), (e) => e.reason === 'no-websocket');
    }
  });
});

describe('threads sharing one cache', () => {
  test('two pthreads hash from one cache; throttle and stop reach them', async () => {
    const job = testJob({ target: 'ffffff00' });
    const gw = await startFakeGateway({ job });
    const miner = createMiner({ gateway: gw.url, WebSocket, wasmUrl, shared: 'always', statsIntervalMs: 250 });
    const seen = record(miner);
    try {
      await miner.start(consent({ threads: 2 }));
      await miner.ready();
      await until(() => seen.cpu.length && seen.cpu[seen.cpu.length - 1].threads.length === 2 &&
        miner.totals().hashes >= 4, 60000, 'both threads hashing');
      const info = miner.info();
      assert.equal(info.shared, true);
      assert.equal(info.engine, 'jit', 'pthreads use the JIT path too');
      await gw.until(() => gw.submits.length >= 2, 30000);
      for (const s of gw.submits.slice(0, 2)) assert.equal(s.result, await verify(job, s), 'a pthread\'s JIT share');
      assert.equal(info.workers, 1, 'one controller worker');
      // One 256 MiB cache: two would need more than 512 MiB of wasm memory.
      assert.ok(info.memoryBytes < 400 * 2 ** 20, `wasm memory ${info.memoryBytes}`);
      miner.setThreads(1);
      miner.setThrottle(50);
      await sleep(500);
      miner.stop();
      await sleep(100);
      const idle = await cpuFraction(500);
      assert.ok(idle < 0.1, `after stop, process CPU is ${idle.toFixed(3)} of a core`);
      assert.deepEqual(seen.error, []);
    } finally {
      miner.stop();
      await gw.close();
    }
  });
});

describe('throttle', { skip: process.env.CM_SKIP_THROTTLE ? 'CM_SKIP_THROTTLE set' : false }, () => {
  test('at 50% the measured busy fraction stays within 10 points of 50', async () => {
    const gw = await startFakeGateway({ job: testJob({ target: '00000001' }) });
    const miner = createMiner({ gateway: gw.url, WebSocket, wasmUrl, shared: 'never', statsIntervalMs: 500 });
    try {
      await miner.start(consent({ threads: 1, throttle: 50 }));
      await miner.ready();
      await sleep(6000); // let the throttle's 5 s window settle
      const a = miner.totals();
      await sleep(12000);
      const b = miner.totals();
      const busy = (b.busyMs - a.busyMs) / (b.time - a.time);
      assert.ok(Math.abs(busy - 0.5) <= 0.1, `busy fraction ${busy.toFixed(3)}`);
    } finally {
      miner.stop();
      await gw.close();
    }
  });
});
