// Running the gateway in production (issue 16): /metrics as Prometheus expects it, /healthz,
// the admin listener, and the log (dates, JSON, what it says about visitors).
//
//   node tests/gateway/ops.mjs CONSENTMINER RX_MINER PART [PROMTOOL] [--log]
//
// PART is one of:
//   metrics  a real share through the real gateway to a test pool that checks it with
//            RandomX; /metrics then passes `promtool check metrics` without a word, its
//            counters never go down between two scrapes, no metric's labels add up to
//            more than the whole, and build_info, process_* and the verification latency
//            histogram are there and plausible
//   health   /healthz: 200 "ok" with the pool up, 503 and why once it stops, 200 again
//            once it is back
//   admin    --admin-listen: /stats, /metrics and /healthz there (not counted as visitors,
//            not held to --max-per-ip), 404 for them on the public listener; without it,
//            /stats and /metrics on the public listener as before
//   logs     every line starts with its UTC time; --log-format json: one object per line
//            with time, level, msg and fields; --log-visitors full, hash (a keyed hash,
//            the same within a run, another in the next run) and none
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { Client } from './lib/client.mjs';
import { sessionToken } from './lib/consent.mjs';
import { TestMiner } from './lib/miner.mjs';
import { TestPool } from './lib/pool.mjs';
import { Gateway, TEST_WALLET, check, sleep, waitFor } from './lib/procs.mjs';

const args = process.argv.slice(2).filter((a) => a !== '--log');
const [cli, rxMiner, part, promtool] = args;
const log = process.argv.includes('--log');
if (!cli || !rxMiner || !['metrics', 'health', 'admin', 'logs'].includes(part) ||
    (part === 'metrics' && !promtool)) {
  console.error('usage: ops.mjs CONSENTMINER RX_MINER metrics|health|admin|logs [PROMTOOL] [--log]');
  process.exit(2);
}

const started = [];
async function gateway(extra, { pool } = {}) {
  const gw = new Gateway({ bin: cli, log, args: ['--pool', `127.0.0.1:${pool ? pool.port : 1}`,
    '--wallet', TEST_WALLET, '--verify-threads', '1', ...extra] });
  started.push(gw);
  await gw.start();
  return gw;
}

async function adminPort(gw) {
  // The admin listener's line comes on stdout before the public one's.
  return waitFor('the admin listener line', () => {
    const m = (gw.stdout || '').match(/gateway admin listening on [\d.]+:(\d+)/);
    return m && Number(m[1]);
  }, 10000, 50);
}

async function get(port, path) {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text() };
}

// Prometheus text: name{labels} -> value, and each metric family's TYPE.
function parseMetrics(text) {
  const samples = new Map();
  const types = new Map();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const t = line.match(/^# TYPE (\S+) (\S+)$/);
    if (t) { types.set(t[1], t[2]); continue; }
    if (line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/);
    if (!m) throw new Error(`not a sample line: ${line}`);
    samples.set(m[1] + (m[2] || ''), Number(m[3]));
  }
  return { samples, types };
}

function familyOf(name, types) {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix) && types.get(name.slice(0, -suffix.length)) === 'histogram')
      return name.slice(0, -suffix.length);
  }
  return null;
}

function promtoolCheck(text) {
  return new Promise((resolve) => {
    const p = spawn(promtool, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('exit', (code) => resolve({ code, out }));
    p.stdin.end(text);
  });
}

async function mineOneShare(gw, pool) {
  const miner = new TestMiner({ url: gw.wsUrl, rxMiner, name: 'ops', chunk: 2 });
  const r = await miner.connect();
  check(r.result && r.result.status === 'OK', 'the browser logged in');
  miner.mine().catch((e) => { console.error(e); process.exit(1); });
  await waitFor('a share accepted by the pool', () => pool.accepted >= 1 && miner.accepted >= 1,
                180000, 50);
  miner.mining = false;
  await miner.drain(30000);
  return miner;
}

async function metricsPart() {
  const pool = new TestPool({ rxMiner, difficulty: 8, jobEveryMs: 60000 });
  await pool.listen();
  const gw = await gateway(['--start-diff', '8', '--min-diff', '8', '--max-diff', '8',
                            '--submit-rate', '100'], { pool });
  const first = parseMetrics(await gw.metrics());
  const miner = await mineOneShare(gw, pool);
  const text = await gw.metrics();
  const st = await gw.stats();
  const lint = await promtoolCheck(text);
  check(lint.code === 0 && lint.out.trim() === '',
        `promtool check metrics has nothing to say (exit ${lint.code}${lint.out ? `: ${lint.out.trim()}` : ''})`);
  const { samples, types } = parseMetrics(text);
  const v = (k) => samples.get(k);
  check(v(`consentminer_build_info{version="${(await version()).trim()}"}`) === 1 &&
        types.get('consentminer_build_info') === 'gauge',
        'consentminer_build_info{version} is a gauge at 1 with the binary\'s version');
  check(v('consentminer_gateway_shares_total{outcome="accepted"}') >= 1,
        `the share is counted accepted (${v('consentminer_gateway_shares_total{outcome="accepted"}')})`);
  check(types.get('consentminer_gateway_verified_hashes_total') === 'counter' &&
        v('consentminer_gateway_verified_hashes_total') >= 8 &&
        v('consentminer_gateway_verified_hashes_total') === st.hashrate.verified_difficulty,
        `verified hashes are a counter: the accepted difficulty (${v('consentminer_gateway_verified_hashes_total')})`);
  check(![...samples.keys()].some((k) => /verified_hashrate|window=/.test(k)),
        'no windowed hash-rate gauge');
  // Each metric's labels partition it: no "kind" of connection that is also another kind,
  // no "sent" beside its answers.
  check(![...samples.keys()].some((k) => /kind="|result="sent"|result="submitted"/.test(k)),
        'no label value that counts what the others count already');
  let sumShares = 0;
  for (const [k, x] of samples) if (k.startsWith('consentminer_gateway_shares_total{')) sumShares += x;
  check(sumShares + v('consentminer_gateway_shares_pending') === st.shares.received,
        `shares by outcome + pending = shares received (${sumShares} + ${v('consentminer_gateway_shares_pending')} = ${st.shares.received})`);
  const answers = ['accepted', 'rejected', 'stale']
    .reduce((a, r) => a + v(`consentminer_gateway_upstream_answers_total{result="${r}"}`), 0);
  check(v('consentminer_gateway_upstream_submits_total') >= 1 &&
        answers <= v('consentminer_gateway_upstream_submits_total'),
        `upstream: ${v('consentminer_gateway_upstream_submits_total')} sent, ${answers} answered, in two metrics`);
  check(v('consentminer_gateway_connections_open') >= 1 && v('consentminer_gateway_websockets_open') >= 1 &&
        v('consentminer_gateway_sessions_open') >= 1,
        'open connections, WebSockets and sessions are three gauges');
  // The verification latency histogram: one observation per share hashed.
  const count = v('consentminer_gateway_verify_seconds_count');
  const sum = v('consentminer_gateway_verify_seconds_sum');
  const inf = v('consentminer_gateway_verify_seconds_bucket{le="+Inf"}');
  check(types.get('consentminer_gateway_verify_seconds') === 'histogram' && count >= 1 &&
        inf === count && count === v('consentminer_gateway_verifications_total'),
        `verify_seconds histogram: ${count} observations, one per verification`);
  check(sum > 0 && sum / count > 0.0005 && sum / count < 30,
        `mean verification ${(sum / count * 1000).toFixed(1)} ms: a RandomX light hash, measured`);
  let prev = 0;
  const buckets = [...samples].filter(([k]) => k.startsWith('consentminer_gateway_verify_seconds_bucket'));
  check(buckets.length >= 5 && buckets.every(([, x]) => { const ok = x >= prev; prev = x; return ok; }),
        `${buckets.length} cumulative buckets`);
  // Process metrics from /proc.
  const now = Date.now() / 1000;
  check(v('process_cpu_seconds_total') > 0 && types.get('process_cpu_seconds_total') === 'counter',
        `process_cpu_seconds_total ${v('process_cpu_seconds_total')}`);
  check(v('process_resident_memory_bytes') > 1 << 20,
        `process_resident_memory_bytes ${v('process_resident_memory_bytes')}`);
  check(v('process_open_fds') >= 5 && v('process_open_fds') < v('process_max_fds'),
        `process_open_fds ${v('process_open_fds')} of ${v('process_max_fds')}`);
  const startAt = v('process_start_time_seconds');
  check(startAt <= now + 1 && startAt > now - 600,
        `process_start_time_seconds ${startAt} is this run's start (now ${now.toFixed(0)})`);
  // Counters (and histogram series) never go down: the first scrape (before any share),
  // this one, and one more after more traffic.
  miner.close();
  await get(gw.port, '/no-such-file');
  const later = parseMetrics(await gw.metrics());
  let compared = 0;
  for (const [a, b] of [[first, { samples, types }], [{ samples, types }, later]]) {
    for (const [k, x] of a.samples) {
      const fam = familyOf(k.replace(/\{.*/, ''), a.types);
      const type = fam && a.types.get(fam);
      if (type !== 'counter' && type !== 'histogram') continue;
      compared++;
      check(b.samples.has(k) && b.samples.get(k) >= x || (console.error(k, x, b.samples.get(k)), false),
            `counter ${k} does not go down (${x} -> ${b.samples.get(k)})`);
    }
  }
  check(compared > 40, `${compared} counter samples compared across three scrapes`);
  await gw.stop();
  await pool.stop();
  pool.close();
}

function version() {
  return new Promise((resolve) => {
    const p = spawn(cli, ['--version']);
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('exit', () => resolve(out.replace(/^consentminer /, '')));
  });
}

async function healthPart() {
  const pool = new TestPool({ rxMiner, difficulty: 8, jobEveryMs: 60000 });
  const poolPort = await pool.listen();
  const gw = await gateway([], { pool });
  const up = await waitFor('/healthz 200', async () => {
    const r = await get(gw.port, '/healthz');
    return r.status === 200 && r;
  }, 30000, 100);
  check(up.body === 'ok\n', `/healthz says ok while the pool is up (${JSON.stringify(up.body)})`);
  await pool.stop();
  const down = await waitFor('/healthz 503', async () => {
    const r = await get(gw.port, '/healthz');
    return r.status === 503 && r;
  }, 30000, 100);
  check(/no upstream connection: pool: .*127\.0\.0\.1/.test(down.body),
        `/healthz 503 says why: ${JSON.stringify(down.body)}`);
  const st = await gw.stats();
  check(st.refused.bad_request === 0, '/healthz 503 answers are not counted as refusals');
  await pool.listen(poolPort);
  const back = await waitFor('/healthz 200 again', async () => {
    const r = await get(gw.port, '/healthz');
    return r.status === 200 && r;
  }, 60000, 200);
  check(back.body === 'ok\n', '/healthz is ok again once the pool is back');
  // No upstream at all from the start: 503 at once.
  const lone = await gateway([]);
  const r = await get(lone.port, '/healthz');
  check(r.status === 503 && /no upstream connection/.test(r.body),
        `/healthz of a gateway whose pool never answered: ${r.status} ${JSON.stringify(r.body)}`);
  await gw.stop();
  await lone.stop();
  await pool.stop();
  pool.close();
}

async function adminPart() {
  const pool = new TestPool({ rxMiner, difficulty: 8, jobEveryMs: 60000 });
  await pool.listen();
  const gw = await gateway(['--admin-listen', '127.0.0.1:0', '--max-per-ip', '1'], { pool });
  const admin = await adminPort(gw);
  check(admin && admin !== gw.port, `the admin listener has its own port (${admin})`);
  // One public connection at a time (--max-per-ip 1): each waits for the one before it
  // to be gone, as the admin listener's /stats tells.
  const publicIdle = () => waitFor('no open public connection', async () =>
    JSON.parse((await get(admin, '/stats')).body).connections.open === 0, 10000, 50);
  for (const path of ['/stats', '/metrics']) {
    await publicIdle();
    const pub = await get(gw.port, path);
    check(pub.status === 404, `${path} on the public listener: 404 with --admin-listen (${pub.status})`);
  }
  await publicIdle();
  // A visitor holds the one connection --max-per-ip allows from 127.0.0.1.
  const consent = await sessionToken(gw.wsUrl);
  await publicIdle();
  const visitor = new Client(gw.wsUrl, { consent, agent: 'consentminer-test/admin' });
  const login = await visitor.connect();
  check(login.result && login.result.status === 'OK', 'a visitor logged in');
  const stats = await get(admin, '/stats');
  check(stats.status === 200 && JSON.parse(stats.body).connections.sessions === 1,
        `/stats on the admin listener, beside a visitor at --max-per-ip 1 (${stats.status})`);
  const m1 = parseMetrics((await get(admin, '/metrics')).body).samples;
  const m2 = parseMetrics((await get(admin, '/metrics')).body).samples;
  check(m1.get('consentminer_gateway_connections_total') === m2.get('consentminer_gateway_connections_total') &&
        m2.get('consentminer_gateway_refused_total{reason="per_ip"}') === 0,
        'scrapes on the admin listener are neither visitors nor refused per IP');
  const health = await waitFor('admin /healthz 200', async () => {
    const r = await get(admin, '/healthz');
    return r.status === 200 && r;
  }, 30000, 100);
  check(health.body === 'ok\n', '/healthz on the admin listener');
  for (const path of ['/ws', '/', '/frame/index.html', '/nothing']) {
    const r = await get(admin, path);
    check(r.status === 404, `${path} on the admin listener: 404 (${r.status})`);
  }
  // A request never finished does not hold the admin listener.
  const stuck = connect(admin, '127.0.0.1');
  await new Promise((r) => stuck.on('connect', r));
  stuck.write('GET /stats HTTP/1.1\r\n');
  check((await get(admin, '/healthz')).status === 200, 'the admin listener answers beside a stuck request');
  stuck.destroy();
  visitor.close();
  await gw.stop();
  // Without --admin-listen: as before, on the public listener.
  const plain = await gateway([], { pool });
  check((await get(plain.port, '/stats')).status === 200 && (await get(plain.port, '/metrics')).status === 200,
        'without --admin-listen, /stats and /metrics are on the public listener');
  check(!/admin listening/.test(plain.stdout || ''), 'and there is no admin listener');
  await plain.stop();
  const bad = spawn(cli, ['gateway', '--listen', '127.0.0.1:0', '--pool', '127.0.0.1:1', '--wallet',
                          TEST_WALLET, '--admin-listen', 'nowhere'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  bad.stderr.on('data', (d) => { err += d; });
  const code = await new Promise((r) => bad.on('exit', r));
  check(code === 2 && /--admin-listen nowhere: expected HOST:PORT/.test(err),
        `--admin-listen without a port is refused at start (${code}: ${err.trim()})`);
  await pool.stop();
  pool.close();
}

const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z gateway: /;
const AGENT = 'consentminer-test/agent-7f3a';

// One run: a visitor from 127.0.0.3 logs in (with AGENT), two more connections from it are
// refused over --max-per-ip 1... and one from 127.0.0.4 sends a bad request.
async function visitorRun(extra, pool, agent = AGENT) {
  const gw = await gateway(['--max-per-ip', '1', ...extra], { pool });
  const c = new Client(gw.wsUrl, { localAddress: '127.0.0.3', agent });
  const login = await c.connect();
  check(login.result && login.result.status === 'OK', `a visitor from 127.0.0.3 logged in (${extra.join(' ')})`);
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve) => {
      const s = connect({ port: gw.port, host: '127.0.0.1', localAddress: '127.0.0.3' });
      s.on('data', () => {});
      s.on('close', resolve);
      s.on('error', resolve);
    });
  }
  await new Promise((resolve) => {
    const s = connect({ port: gw.port, host: '127.0.0.1', localAddress: '127.0.0.4' }, () => s.write('BAD\r\n\r\n'));
    s.on('data', () => {});
    s.on('close', resolve);
    s.on('error', resolve);
  });
  await waitFor('the refusals in the log', () => (gw.stderr.match(/refused/g) || []).length >= 3, 10000, 50);
  c.close();
  await gw.stop();
  return gw.stderr;
}

async function logsPart() {
  const pool = new TestPool({ rxMiner, difficulty: 8, jobEveryMs: 60000 });
  await pool.listen();

  // Text, every visitor detail as it is (the default).
  const full = await visitorRun([], pool);
  const lines = full.split('\n').filter(Boolean);
  const unstamped = lines.filter((l) => !STAMP.test(l));
  check(lines.length >= 8 && unstamped.length === 0,
        `all ${lines.length} text lines start with the UTC time to the millisecond (${unstamped[0] || 'none without'})`);
  const stamp = new Date(lines[0].slice(0, 24));
  check(Math.abs(stamp - Date.now()) < 120000, `the time is now, in UTC (${lines[0].slice(0, 24)})`);
  check(/refused 127\.0\.0\.3:\d+#\d+: per_ip \(2 connections from 127\.0\.0\.3/.test(full) &&
        full.includes(`agent "${AGENT}"`) && /refused 127\.0\.0\.4:\d+#\d+: bad_request/.test(full),
        '--log-visitors full (default): addresses and the agent as they are');

  // JSON, hashed visitors.
  const hashed = await visitorRun(['--log-format', 'json', '--log-visitors', 'hash'], pool);
  const objs = hashed.split('\n').filter(Boolean).map((l) => {
    try { return JSON.parse(l); } catch { return { unparsed: l }; }
  });
  const bad = objs.filter((o) => typeof o.time !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(o.time) ||
    !['info', 'warn', 'error'].includes(o.level) || typeof o.msg !== 'string');
  check(objs.length >= 8 && bad.length === 0,
        `--log-format json: all ${objs.length} lines are objects with time, level and msg (${JSON.stringify(bad[0] || null)})`);
  const refusals = objs.filter((o) => o.reason === 'per_ip');
  const login = objs.find((o) => /^login /.test(o.msg));
  const badreq = objs.find((o) => o.reason === 'bad_request');
  check(refusals.length === 2 && refusals.every((o) => o.level === 'warn' && Number.isInteger(o.conn) &&
        /^h:[0-9a-f]{16}$/.test(o.visitor)) && login && Number.isInteger(login.conn) && login.threads === 1,
        'refusals and the login carry their fields: conn, visitor, reason, detail, threads');
  check(!hashed.includes('127.0.0.3') && !hashed.includes('127.0.0.4') && !hashed.includes('agent-7f3a'),
        '--log-visitors hash: neither the visitors\' addresses nor the agent appear anywhere');
  check(refusals[0].visitor === refusals[1].visitor && login.visitor === refusals[0].visitor &&
        badreq && badreq.visitor !== refusals[0].visitor,
        `one address, one hash within a run (${refusals[0].visitor}); another address, another (${badreq && badreq.visitor})`);
  check(refusals[0].detail.includes(refusals[0].visitor) && /^h:[0-9a-f]{16}$/.test(login.agent),
        `the address in a refusal's detail and the agent are hashed too ("${refusals[0].detail}", ${login.agent})`);

  const again = await visitorRun(['--log-format', 'json', '--log-visitors', 'hash'], pool);
  const again1 = again.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((o) => o.reason === 'per_ip');
  check(again1 && again1.visitor !== refusals[0].visitor,
        `the key is new at each start: the same address hashes to ${again1 && again1.visitor} in the next run`);

  // Outside text in JSON: escaped as in text lines, never a raw control byte nor a line
  // break, and fields that would not be valid UTF-8 are still there.
  const escaped = await visitorRun(['--log-format', 'json'], pool, `${AGENT}\u001b[2J\u00e9\r\nforged`);
  const raw = Buffer.from(escaped);
  const ctl = [...raw].filter((b) => (b < 0x20 && b !== 0x0a) || b === 0x7f);
  const eobjs = escaped.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const elogin = eobjs.find((o) => /^login /.test(o.msg));
  check(ctl.length === 0 && elogin && elogin.agent.startsWith(`${AGENT}\\x1b[2J`) &&
        !eobjs.some((o) => o.msg.startsWith('forged')) && elogin.visitor === '127.0.0.3',
        `--log-format json with full visitors: the agent's escapes are escaped (${JSON.stringify(elogin && elogin.agent)})`);

  // Nothing about visitors.
  const none = await visitorRun(['--log-visitors', 'none'], pool);
  check(none.split('\n').filter(Boolean).every((l) => STAMP.test(l)), 'text lines with none are stamped too');
  check(!none.includes('127.0.0.3') && !none.includes('127.0.0.4') && !none.includes('agent-7f3a') &&
        !/h:[0-9a-f]{16}/.test(none) && /refused #\d+: per_ip/.test(none) && /login #\d+: agent "\(not logged\)"/.test(none),
        '--log-visitors none: connection numbers only, no address, hash or agent');

  for (const [flag, value, want] of [['--log-format', 'xml', 'expected text or json'],
    ['--log-visitors', 'some', 'expected full, hash or none']]) {
    const p = spawn(cli, ['gateway', '--listen', '127.0.0.1:0', '--pool', '127.0.0.1:1', '--wallet',
                          TEST_WALLET, flag, value], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    const code = await new Promise((r) => p.on('exit', r));
    check(code === 2 && err.includes(`${flag} ${value}: ${want}`), `${flag} ${value} is refused: ${err.trim()}`);
  }
  await pool.stop();
  pool.close();
}

const parts = { metrics: metricsPart, health: healthPart, admin: adminPart, logs: logsPart };
parts[part]().then(() => process.exit(process.exitCode || 0), async (e) => {
  console.error(e);
  for (const gw of started) console.error(gw.stderr.split('\n').slice(-30).join('\n'));
  process.exit(1);
});
await sleep(0);
