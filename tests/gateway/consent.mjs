// Consent only from the consent frame (issue 14), against a running gateway: the
// /consent/ endpoints and their Origin checks, /ws refused from any other origin, every
// login refusal of the contract with its own message, revocation closing sessions,
// replay beyond the thread ceiling, renewal, expiry without renewal, key rotation and
// files, and the /frame/ headers. No upstream is needed for any of it (logins succeed
// before the first job), so the pool address is a closed port.
//
// usage: node consent.mjs CONSENTMINER
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Gateway, TEST_WALLET, freePort, tempDir, sleep, waitFor } from './lib/procs.mjs';
import { consentPost, frameOrigin, grantConsent, mintToken, newKey, tokenPayload,
         writeKeyFile } from './lib/consent.mjs';
import { consentRecord } from './lib/miner.mjs';

const cli = process.argv[2];
if (!cli) {
  console.error('usage: consent.mjs CONSENTMINER');
  process.exit(2);
}

const dir = tempDir('cm-consent-');
const frameDir = join(dir, 'frame');
mkdirSync(frameDir);
writeFileSync(join(frameDir, 'index.html'), '<!doctype html><title>consent frame</title>\n');
writeFileSync(join(frameDir, 'frame.js'), 'export {};\n');
writeFileSync(join(frameDir, 'consentminer.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
const OLD_KEY = newKey(), NEW_KEY = newKey(), OTHER_KEY = newKey();
// Rotation as the contract says: the new key first (it signs), the old one still verifies.
const keyFile = writeKeyFile(join(dir, 'keys'), [['new', NEW_KEY], ['old', OLD_KEY]]);
const EMBEDDER = 'https://shop.example';

let gw, url, origin;

async function startGateway(extra) {
  const g = new Gateway({ bin: cli, args: ['--pool', `127.0.0.1:${await freePort()}`, '--wallet', TEST_WALLET,
    '--verify-threads', '1', '--handshake-timeout', '30', ...extra] });
  await g.start();
  return g;
}

before(async () => {
  gw = await startGateway(['--consent-keys', keyFile, '--frame-dir', frameDir, '--origin', EMBEDDER,
    '--max-threads', '4', '--session-ttl', '10']);
  url = gw.wsUrl;
  origin = frameOrigin(url);
});
// Stops a gateway and checks it ended cleanly, with no sanitizer report (native-asan).
async function stopClean(g) {
  const ex = await g.stop();
  assert.equal(ex.code, 0, `gateway exit ${JSON.stringify(ex)}`);
  assert.doesNotMatch(g.stderr, /AddressSanitizer|LeakSanitizer|runtime error/, g.stderr.slice(-3000));
}

after(async () => { await stopClean(gw); });

// Opens /ws with an Origin and sends a login; resolves { reply, ws, closed } or
// { status } when the upgrade was refused.
function login(consent, { o = origin, params = {}, wsUrl = url } = {}) {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl, o ? { origin: o } : {});
    const out = { ws, closed: null };
    out.closedP = new Promise((r) => ws.on('close', (code, reason) => { out.closed = { code, reason: reason.toString() }; r(out.closed); }));
    ws.on('unexpected-response', (req, res) => resolve({ status: res.statusCode }));
    ws.on('error', () => {});
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, jsonrpc: '2.0', method: 'login',
      params: { agent: 'consent-test', algo: ['rx/0'], consent, ...params } })));
    ws.once('message', (d) => { out.reply = JSON.parse(d); resolve(out); });
  });
}

function send(ws, obj) {
  return new Promise((resolve) => {
    ws.once('message', (d) => resolve(JSON.parse(d)));
    ws.send(JSON.stringify(obj));
  });
}

async function refused(consent, code, pattern, opts) {
  const r = await login(consent, opts);
  assert.ok(r.reply && r.reply.error, `refused: ${JSON.stringify(r.reply)}`);
  assert.equal(r.reply.error.code, code, r.reply.error.message);
  assert.match(r.reply.error.message, pattern);
  const closed = await r.closedP;
  assert.equal(closed.code, 1008, 'closed as a policy violation');
  return r.reply.error.message;
}

test('POST /consent/* from any origin but the frame\'s is 403, with no CORS header', async () => {
  for (const what of ['grant', 'session', 'revoke']) {
    for (const o of [EMBEDDER, 'https://evil.example', 'null', `${origin}.evil.example`]) {
      const r = await consentPost(url, what, { site: 's', threads: 1, throttle: 50, remember_s: 600 }, { origin: o });
      assert.equal(r.status, 403, `${what} from ${o}`);
      assert.match(r.body.error, /not the consent frame's origin/);
      assert.equal(r.headers.get('access-control-allow-origin'), null);
    }
  }
  // No Origin at all (node's fetch sends none unless told).
  const r = await fetch(`${origin}/consent/grant`, { method: 'POST', body: '{}' });
  assert.equal(r.status, 403);
  const ok = await consentPost(url, 'grant', { site: 's', threads: 1, throttle: 50, remember_s: 600 });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('access-control-allow-origin'), null, 'no CORS header on success either');
  assert.match(ok.headers.get('content-type'), /^application\/json/);
  // GET and OPTIONS (a CORS preflight) get no answer a page could use.
  assert.equal((await fetch(`${origin}/consent/grant`, { headers: { Origin: origin } })).status, 405);
  assert.equal((await fetch(`${origin}/consent/grant`, { method: 'OPTIONS', headers: { Origin: EMBEDDER } })).status, 405);
});

test('/ws from any origin but the frame\'s is refused with 403, --origin or not', async () => {
  for (const o of [EMBEDDER, 'https://evil.example', 'null', null]) {
    const r = await login('x', { o });
    assert.equal(r.status, 403, `upgrade from ${o}`);
  }
  assert.match(gw.stderr, /refused .*origin https:\/\/shop\.example is not the consent frame's origin/);
});

test('POST /consent/grant: each bad field gets 400 naming it', async () => {
  const good = { site: 'shop.example', threads: 2, throttle: 50, remember_s: 600 };
  const cases = [
    [{ ...good, site: '' }, /site/], [{ ...good, site: 'x'.repeat(101) }, /site/], [{ ...good, site: 5 }, /site/],
    [{ ...good, threads: 0 }, /threads/], [{ ...good, threads: 5 }, /threads.*--max-threads/],
    [{ ...good, threads: 1.5 }, /threads/], [{ ...good, threads: '2' }, /threads/],
    [{ ...good, throttle: 0 }, /throttle/], [{ ...good, throttle: 101 }, /throttle/],
    [{ ...good, remember_s: 59 }, /remember_s/], [{ ...good, remember_s: 2592001 }, /remember_s/],
    ['not json', /not a JSON object/], ['[1]', /not a JSON object/],
  ];
  for (const [body, pattern] of cases) {
    const r = await consentPost(url, 'grant', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.body.error, pattern);
  }
  const r = await consentPost(url, 'grant', { ...good, remember_s: 2592000 });
  assert.equal(r.status, 200);
  const g = tokenPayload(r.body.grant), s = tokenPayload(r.body.session);
  assert.equal(g.kind, 'grant');
  assert.equal(g.kid, 'new', 'the first key of the file signs');
  assert.equal(g.expires_at - g.granted_at, 2592000 * 1000);
  assert.equal(r.body.expires_at, g.expires_at);
  assert.equal(s.kind, 'session');
  assert.equal(s.grant, g.id);
  assert.equal(s.expires_at - s.granted_at, 10_000, '--session-ttl 10');
  assert.equal(r.body.session_expires_at, s.expires_at);
  assert.match(g.id, /^[0-9a-f]{32}$/);
  assert.notEqual(g.id, s.id);
});

test('every refused login names its reason and closes', async () => {
  const messages = new Set();
  const add = (m) => { assert.ok(!messages.has(m), `distinct message: ${m}`); messages.add(m); };
  add(await refused(null, -10, /no consent/));
  add(await refused(consentRecord(), -13, /consent must be a token issued by this gateway$/));
  add(await refused('not-a-token', -13, /consent must be a token issued by this gateway \(/));
  add(await refused(mintToken('nope', NEW_KEY), -13, /under key "nope", which this gateway does not have/));
  add(await refused(mintToken('new', OTHER_KEY), -13, /signature does not match/));
  const good = mintToken('new', NEW_KEY);
  const [p, sig] = good.split('.');
  const forged = Buffer.from(JSON.stringify({ ...tokenPayload(good), threads: 4 })).toString('base64url');
  assert.match(await refused(`${forged}.${sig}`, -13, /signature does not match/), /forged or altered/);
  const flipped = sig[0] === 'A' ? `B${sig.slice(1)}` : `A${sig.slice(1)}`;
  await refused(`${p}.${flipped}`, -13, /signature does not match/);
  const now = Date.now();
  add(await refused(mintToken('new', NEW_KEY, { granted_at: now - 7200_000, expires_at: now - 3600_000 }), -11, /expired at/));
  add(await refused(mintToken('new', NEW_KEY, { kind: 'grant', grant: undefined }), -13, /a grant, not a session token/));
  add(await refused(mintToken('new', NEW_KEY, { threads: 257 }), -13, /out of range: .*threads/));
  add(await refused(mintToken('new', NEW_KEY, { threads: 2 }), -32602, /params\.threads 3 is above the consent's ceiling of 2/,
    { params: { threads: 3 } }));
  add(await refused(mintToken('new', NEW_KEY, { throttle: 40 }), -32602, /params\.throttle 50 is above the consent's ceiling of 40/,
    { params: { throttle: 50 } }));
  // Logged with reasons the operator can count.
  const st = await gw.stats();
  assert.ok(st.refused.no_consent >= 1 && st.refused.consent_invalid >= 6 && st.refused.consent_expired >= 1,
            JSON.stringify(st.refused));
});

test('tokens the test minted from its own key file are accepted, under the old key too', async () => {
  for (const kid of ['new', 'old']) {
    const r = await login(mintToken(kid, kid === 'new' ? NEW_KEY : OLD_KEY, { threads: 2, throttle: 50 }),
                          { params: { threads: 2, throttle: 25 } });
    assert.equal(r.reply.result && r.reply.result.status, 'OK', JSON.stringify(r.reply));
    r.ws.close();
    await r.closedP;
  }
});

test('a grant is used by no more sessions than its threads', async () => {
  const g = await grantConsent(url, { threads: 2, throttle: 50 });
  const more = await consentPost(url, 'session', { grant: g.grant });
  assert.equal(more.status, 200);
  const a = await login(g.session);
  const b = await login(more.body.session);
  assert.equal(a.reply.result.status, 'OK');
  assert.equal(b.reply.result.status, 'OK');
  // The same session token replayed a third time, and a fresh one from the same grant.
  await refused(g.session, -109, /already has 2 sessions open, its ceiling of 2 threads/);
  await refused(more.body.session, -109, /already has 2 sessions open/);
  assert.ok((await gw.stats()).refused.consent_replay >= 2);
  // One ends: its place is free again (once the gateway has seen the close).
  const open = (await gw.stats()).connections.sessions;
  a.ws.close();
  await a.closedP;
  await waitFor('the gateway to end the session', async () => (await gw.stats()).connections.sessions < open, 10000, 50);
  const c = await login(g.session);
  assert.equal(c.reply.result.status, 'OK');
  b.ws.close();
  c.ws.close();
  await Promise.all([b.closedP, c.closedP]);
});

test('revoking a grant closes its sessions and refuses its tokens', async () => {
  const g = await grantConsent(url, { threads: 2 });
  const other = await grantConsent(url, { threads: 1 });
  const a = await login(g.session);
  const b = await login(other.session);
  assert.equal(a.reply.result.status, 'OK');
  assert.equal(b.reply.result.status, 'OK');
  const closing = a.closedP;
  const r = await consentPost(url, 'revoke', { grant: g.grant });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { revoked: true });
  const closed = await closing;
  assert.equal(closed.code, 1008);
  assert.match(closed.reason, /consent revoked/);
  assert.equal(b.closed, null, 'another grant\'s session stays open');
  // Its session tokens, its grant, and a new session from it: all refused.
  await refused(g.session, -12, /consent revoked/);
  const s = await consentPost(url, 'session', { grant: g.grant });
  assert.equal(s.status, 401);
  assert.match(s.body.error, /revoked/);
  // The endpoint takes grants only, signed by this gateway's keys.
  const wrong = await consentPost(url, 'revoke', { grant: g.session });
  assert.equal(wrong.status, 401);
  assert.match(wrong.body.error, /session token is not a grant/);
  const forged = await consentPost(url, 'session', { grant: mintToken('new', OTHER_KEY, { kind: 'grant', grant: undefined }) });
  assert.equal(forged.status, 401);
  assert.match(forged.body.error, /signature does not match/);
  const expired = await consentPost(url, 'session', { grant: mintToken('new', NEW_KEY,
    { kind: 'grant', grant: undefined, granted_at: Date.now() - 7200_000, expires_at: Date.now() - 3600_000 }) });
  assert.equal(expired.status, 401);
  assert.match(expired.body.error, /expired/);
  assert.ok((await gw.stats()).refused.consent_revoked >= 2);
  b.ws.close();
  await b.closedP;
});

test('renewal with a session token of the same grant, and expiry without one', async () => {
  const g = await grantConsent(url, { threads: 1 });
  const a = await login(g.session);
  const sid = a.reply.result.id;
  const t0 = Date.now();
  // Renewed twice before the 10 s --session-ttl runs out: the session outlives it.
  for (let i = 0; i < 2; i++) {
    await sleep(6000);
    const fresh = await consentPost(url, 'session', { grant: g.grant });
    const r = await send(a.ws, { id: 10 + i, jsonrpc: '2.0', method: 'consent', params: { id: sid, consent: fresh.body.session } });
    assert.equal(r.result && r.result.status, 'OK', JSON.stringify(r));
    assert.equal(r.result.expires_at, fresh.body.expires_at);
  }
  assert.equal(a.closed, null, `still open after ${Date.now() - t0} ms, past the first token's expiry`);
  // A token of another grant does not renew this session: refused and closed.
  const other = await grantConsent(url, { threads: 1 });
  const r = await send(a.ws, { id: 20, jsonrpc: '2.0', method: 'consent', params: { id: sid, consent: other.session } });
  assert.match(r.error.message, /from another grant/);
  await a.closedP;
  // Not renewed: closed with "consent expired" within about a second of expires_at.
  const b = await login(other.session);
  const exp = tokenPayload(other.session).expires_at;
  const closed = await b.closedP;
  assert.match(closed.reason, /^consent expired/);
  // The sweep runs once a second; a loaded machine (or ASan) adds some.
  assert.ok(Date.now() >= exp && Date.now() < exp + 5000, `closed ${Date.now() - exp} ms after expiry`);
});

test('/frame/ is served with the frame headers', async () => {
  const r = await fetch(`${origin}/frame/`);
  assert.equal(r.status, 200);
  const h = r.headers;
  assert.match(h.get('content-type'), /^text\/html/);
  assert.match(h.get('content-security-policy'), /frame-ancestors https:\/\/shop\.example(;|$)/);
  assert.equal(h.get('cross-origin-embedder-policy'), 'require-corp');
  assert.equal(h.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(h.get('cross-origin-resource-policy'), 'cross-origin');
  assert.equal(h.get('cache-control'), 'no-cache');
  assert.equal(h.get('access-control-allow-origin'), null);
  assert.match((await fetch(`${origin}/frame/frame.js`)).headers.get('content-type'), /^text\/javascript/);
  assert.equal((await fetch(`${origin}/frame/consentminer.wasm`)).headers.get('content-type'), 'application/wasm');
  assert.equal((await fetch(`${origin}/frame/../keys`)).status, 404);
  assert.equal((await fetch(`${origin}/frame/%2e%2e/keys`)).status, 404);
  assert.equal((await fetch(`${origin}/frame/missing.js`)).status, 404);
});

test('defaults: an ephemeral key said at start, frames embeddable by the gateway only', async () => {
  const g = await startGateway(['--frame-dir', frameDir]);
  try {
    // stderr arrives on its own pipe, maybe after the listening line on stdout.
    await waitFor('the start-up lines', () => /embedded by/.test(g.stderr), 10000, 50);
    assert.match(g.stderr, /ephemeral key .*will not survive a restart/);
    assert.match(g.stderr, /may be embedded by this gateway's own origin only/);
    const o = frameOrigin(g.wsUrl);
    const csp = (await fetch(`${o}/frame/`)).headers.get('content-security-policy');
    assert.match(csp, /frame-ancestors 'self'(;|$)/);
    // Its tokens are its own: a token of the first gateway is under a key it lacks.
    const r = await login(mintToken('new', NEW_KEY), { o, wsUrl: g.wsUrl });
    assert.match(r.reply.error.message, /does not have/);
    const own = await grantConsent(g.wsUrl);
    const ok = await login(own.session, { o, wsUrl: g.wsUrl });
    assert.equal(ok.reply.result.status, 'OK');
    ok.ws.close();
    await ok.closedP;
  } finally {
    await stopClean(g);
  }
});

test('SIGHUP reads --consent-keys again: rotation in two steps without a restart', async () => {
  // Step 1 of a rotation on every gateway: the new key added second (verifies, does not
  // sign), so a gateway not yet reloaded still accepts everything the others sign.
  const file = writeKeyFile(join(dir, 'keys-rotating'), [['k1', OLD_KEY]]);
  const g = await startGateway(['--consent-keys', file, '--frame-dir', frameDir]);
  const o = frameOrigin(g.wsUrl);
  const ok = async (token, what) => {
    const r = await login(token, { o, wsUrl: g.wsUrl });
    assert.equal(r.reply.result && r.reply.result.status, 'OK', `${what}: ${JSON.stringify(r.reply)}`);
    r.ws.close();
    await r.closedP;
  };
  const reload = async (want) => {
    const before = g.stderr.length;
    g.proc.kill('SIGHUP');
    await waitFor('the reload line', () => want.test(g.stderr.slice(before)), 10000, 50);
    assert.equal(g.proc.exitCode, null, 'SIGHUP keeps the gateway running');
  };
  try {
    const old = await grantConsent(g.wsUrl, { threads: 2 });
    assert.equal(tokenPayload(old.grant).kid, 'k1');
    const held = await login(old.session, { o, wsUrl: g.wsUrl });
    assert.equal(held.reply.result.status, 'OK');
    await refused(mintToken('k2', NEW_KEY), -13, /under key "k2", which this gateway does not have/, { o, wsUrl: g.wsUrl });
    writeKeyFile(file, [['k1', OLD_KEY], ['k2', NEW_KEY]]);
    await reload(/consent keys from .*: 2 keys, signing with "k1"/);
    await ok(mintToken('k2', NEW_KEY), 'a token under the added key');
    assert.equal(tokenPayload((await grantConsent(g.wsUrl)).grant).kid, 'k1', 'the added key does not sign yet');
    // Step 2, once every gateway has the new key: it moves first and signs.
    writeKeyFile(file, [['k2', NEW_KEY], ['k1', OLD_KEY]]);
    await reload(/signing with "k2"/);
    assert.equal(tokenPayload((await grantConsent(g.wsUrl)).grant).kid, 'k2');
    const renewed = await consentPost(g.wsUrl, 'session', { grant: old.grant });
    assert.equal(renewed.status, 200, 'a grant under the old key still gives sessions');
    await ok(renewed.body.session, 'a session from the old grant');
    // A key file that no longer parses keeps the keys in use, and says so.
    writeFileSync(file, 'not a key file\n');
    await reload(/keeping the running consent keys: --consent-keys: /);
    await ok(mintToken('k2', NEW_KEY), 'after a bad reload');
    // Sessions opened before the reloads go on.
    const alive = await send(held.ws, { id: 2, jsonrpc: '2.0', method: 'keepalived', params: {} });
    assert.equal(alive.result && alive.result.status, 'KEEPALIVED', JSON.stringify(alive));
    held.ws.close();
    await held.closedP;
  } finally {
    await stopClean(g);
  }
});

test('--public-origin: the frame origin is that, not the Host', async () => {
  const pub = 'https://miner.example';
  const g = await startGateway(['--public-origin', pub]);
  try {
    const host = frameOrigin(g.wsUrl);
    assert.equal((await consentPost(g.wsUrl, 'grant', { site: 's', threads: 1, throttle: 9, remember_s: 60 })).status, 403);
    const r = await consentPost(g.wsUrl, 'grant', { site: 's', threads: 1, throttle: 9, remember_s: 60 }, { origin: pub });
    assert.equal(r.status, 200);
    assert.equal((await login(r.body.session, { o: host, wsUrl: g.wsUrl })).status, 403);
    const ok = await login(r.body.session, { o: pub, wsUrl: g.wsUrl });
    assert.equal(ok.reply.result.status, 'OK');
    ok.ws.close();
    await ok.closedP;
  } finally {
    await stopClean(g);
  }
});

test('bad key files and origins stop the gateway at start, naming the problem', () => {
  const run = (...args) => spawnSync(cli, ['gateway', '--listen', '127.0.0.1:0', '--pool', '127.0.0.1:1',
    '--wallet', TEST_WALLET, ...args], { encoding: 'utf8', timeout: 20000 });
  const bad = join(dir, 'bad-keys');
  writeFileSync(bad, `# ok\nk1 ${NEW_KEY}\nk2 00ff\n`);
  let r = run('--consent-keys', bad);
  assert.equal(r.status, 2);
  assert.match(r.stderr, new RegExp(`${bad}:3: key of 4 hex characters`));
  r = run('--consent-keys', join(dir, 'missing'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /missing: No such file/);
  r = run('--origin', 'https://shop.example/path');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--origin https:\/\/shop\.example\/path: expected .*no path/);
  r = run('--public-origin', 'miner.example');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--public-origin miner\.example: expected/);
  // A wildcard would let every site embed the frame.
  for (const o of ['https://*', 'https://*.example']) {
    r = run('--origin', o);
    assert.equal(r.status, 2, o);
    assert.match(r.stderr, /expected .*no wildcard/, o);
  }
  r = run('--origin', `https://${'a'.repeat(263)}`);
  assert.equal(r.status, 2);
});

test('frame-ancestors carries every --origin, however long the list', async () => {
  // 32 origins of 262-character hosts: about 8.7 KB of header, never cut short.
  const origins = Array.from({ length: 32 }, (_, i) => `https://${`${i}`.padStart(2, '0')}${'x'.repeat(252)}.example`);
  const g = await startGateway(['--frame-dir', frameDir, ...origins.flatMap((o) => ['--origin', o])]);
  try {
    const r = await fetch(`${frameOrigin(g.wsUrl)}/frame/`);
    assert.equal(r.status, 200);
    const csp = r.headers.get('content-security-policy');
    assert.equal(csp.split('frame-ancestors ')[1], origins.join(' '));
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer', 'the headers after it are whole too');
  } finally {
    await stopClean(g);
  }
});
