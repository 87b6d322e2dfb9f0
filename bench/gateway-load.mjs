// Load on `consentminer gateway` over loopback: N WebSocket browsers log in (with consent)
// and stay, some of them submit shares, and we measure what the gateway holds.
//
//   node bench/gateway-load.mjs [--cli PATH] [--clients N] [--hold S] [--submitters K]
//                               [--verify-seconds S] [--threads T] [--out FILE]
// (bench/gateway-load.sh raises RLIMIT_NOFILE first and is the usual way in.)
//
// Reports: the largest N held (logged in and still answering keepalived after the hold),
// the gateway's memory per connection (RSS growth over its idle RSS, divided by N),
// keepalived round trips while all are connected, and share-verification throughput:
// K browsers submit shares faster than the verification threads can hash, for S seconds,
// and the gateway's own counters give RandomX light-mode hashes per second. The submitted
// results are not real hashes (finding real ones would need the same CPU the gateway is
// measured on), so the gateway hashes each one and finds a mismatch: the work per share is
// exactly a valid share's. That rate, per verification thread, is compared with
// `consentminer bench --mode light --threads 1` on the same machine (the goal is >= 0.9).
// Upstream is a real monerod in regtest at a block difficulty no share reaches.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { frameOrigin, mintToken, newKey, writeKeyFile } from '../tests/gateway/lib/consent.mjs';
import { Gateway, Monerod, TEST_WALLET, freePort, sleep, tempDir, waitFor }
  from '../tests/gateway/lib/procs.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const cli = resolve(arg('--cli', `${root}/build/native/consentminer`));
const N = Number(arg('--clients', 10000));
const HOLD_S = Number(arg('--hold', 30));
const SUBMITTERS = Number(arg('--submitters', 100));
const VERIFY_S = Number(arg('--verify-seconds', 30));
const THREADS = Number(arg('--threads', 2));
const OUT = arg('--out', `${root}/bench/results/gateway-load.json`);
const BATCH = 250;

const rssKiB = (pid) => {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) : NaN;
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
};

// Every browser logs in with its own session token (one grant each, one thread), signed
// here with a key file the bench writes: N POSTs to /consent/grant first would measure
// the endpoint instead of the sessions. The gateway checks each token at login as it
// would the frame's.
const CONSENT_KEY = newKey();

class Browser {
  constructor(url, i) {
    this.url = url;
    this.i = i;
    this.nextId = 1;
    this.waiters = new Map();
    this.job = null;
    this.open = false;
    this.closedWhy = null;
  }
  start() {
    return new Promise((resolveLogin) => {
      const ws = this.ws = new WebSocket(this.url, { perMessageDeflate: false, origin: frameOrigin(this.url) });
      const done = (ok, why) => { if (this.pendingLogin) { this.pendingLogin = null; resolveLogin({ ok, why }); } };
      this.pendingLogin = true;
      ws.on('error', (e) => done(false, e.code || e.message));
      ws.on('close', (code, reason) => {
        this.open = false;
        this.closedWhy = `${code} ${reason}`;
        done(false, `closed ${code} ${reason}`);
      });
      ws.on('message', (data) => {
        const msg = JSON.parse(data);
        if (msg.method === 'job') { this.job = msg.params; return; }
        const w = this.waiters.get(msg.id);
        if (w) { this.waiters.delete(msg.id); w(msg); }
      });
      ws.on('open', () => {
        this.request('login', { login: 'x', pass: 'x', agent: 'gateway-load', algo: ['rx/0'],
          consent: mintToken('bench', CONSENT_KEY) })
          .then((r) => {
            if (r.result) {
              this.open = true;
              this.sid = r.result.id;
              if (r.result.job) this.job = r.result.job;
              done(true);
            } else done(false, r.error && r.error.message);
          });
      });
    });
  }
  request(method, params) {
    const id = this.nextId++;
    return new Promise((res) => {
      this.waiters.set(id, res);
      this.ws.send(JSON.stringify({ id, jsonrpc: '2.0', method, params }));
    });
  }
  // A share that passes the cheap checks (its claimed result meets any target) and must
  // be hashed to be judged; the nonce walks the browser's own 24 bits.
  submit() {
    this.n = (this.n || 0) + 1;
    const byte = Buffer.from(this.job.blob, 'hex')[42]; // regtest blob: nonce at 39..42
    const nonce = Buffer.alloc(4);
    nonce.writeUInt32LE(((byte << 24) | (this.n & 0xffffff)) >>> 0);
    return this.request('submit', { id: this.sid, job_id: this.job.job_id, nonce: nonce.toString('hex'),
                                    result: '00'.repeat(32) });
  }
}

// `consentminer bench --mode light --threads 1`, twice (short and long) under bash's
// `time`: the wall rate it reports, and hashes per CPU second from the difference of the
// two runs (which cancels the cache initialisation). On a shared machine the CPU rate is
// the fair one to compare with the verification threads' own CPU time.
function benchOnce(seconds) {
  const out = execFileSync('bash', ['-c',
    `TIMEFORMAT="%U %S"; { time "$0" bench --mode light --threads 1 --seconds ${seconds} --json 2>/dev/null; } 2>&1`,
    cli], { encoding: 'utf8' });
  const lines = out.trim().split('\n');
  const j = JSON.parse(lines.find((l) => l.startsWith('{')));
  const [u, sys] = lines[lines.length - 1].split(' ').map(Number);
  return { hashes: j.hashes, rate: j.hashrate, cpu: u + sys };
}

async function nativeLightRate() {
  const a = benchOnce(5), b = benchOnce(20);
  return { wall: b.rate, cpu: (b.hashes - a.hashes) / (b.cpu - a.cpu) };
}

async function main() {
  const report = { date: new Date().toISOString(), clients_target: N, machine: {
    cpus: Number(execFileSync('nproc', { encoding: 'utf8' })),
    nofile: execFileSync('bash', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim() } };
  console.log(`gateway-load: ${N} browsers, hold ${HOLD_S} s, ${SUBMITTERS} submitting for ${VERIFY_S} s`);

  console.log('native light-mode rate, 1 thread (consentminer bench, 5 s and 20 s) ...');
  const native = await nativeLightRate();
  report.native_light_hs_per_core = native.wall;
  report.native_light_hashes_per_cpu_s = native.cpu;
  console.log(`  ${native.wall.toFixed(1)} H/s wall, ${native.cpu.toFixed(1)} hashes per CPU second`);

  const dir = tempDir('cm-gw-load-');
  // One monerod client per 256 browsers (their coinbases differ): 40 at 10,000. monerod
  // allows 25 RPC connections per private address by default, which a gateway this
  // large outgrows (seen: reconnects from 64 upstreams on); raised here so the gateway is
  // what is measured. An operator of a gateway this size raises it the same way.
  const monerod = new Monerod({ dataDir: dir, rpcPort: await freePort(), p2pPort: await freePort(),
                                difficulty: 1e12, extraArgs: ['--rpc-max-connections-per-private-ip', '400',
                                                               '--rpc-max-connections', '500'] });
  await monerod.start();
  const keys = writeKeyFile(`${dir}/consent-keys`, [['bench', CONSENT_KEY]]);
  const gw = new Gateway({ bin: cli, args: ['--consent-keys', keys, '--daemon', monerod.url, '--wallet', TEST_WALLET,
    '--quiet', '--max-conns', String(N + 1000), '--max-upstreams', String(Math.ceil(N / 256) + 1), '--max-per-ip', '0', '--handshake-timeout', '600',
    '--idle-timeout', '900', '--submit-rate', '1000', '--submit-burst', '1000',
    '--max-invalid', '1000000', '--verify-threads', String(THREADS), '--start-diff', '1000000'] });
  await gw.start();
  const url = gw.wsUrl;
  // The first upstream must have its job (and the verify cache its seed) before measuring.
  await waitFor('the first job', async () => (await gw.stats()).upstream.up >= 1, 60000);
  await sleep(3000);
  const idleRss = rssKiB(gw.proc.pid);
  report.gateway_idle_rss_kib = idleRss;

  // Connect in batches.
  const browsers = [];
  const failures = {};
  const t0 = Date.now();
  for (let i = 0; i < N; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) {
      const b = new Browser(url, j);
      browsers.push(b);
      batch.push(b.start().then((r) => { if (!r.ok) failures[r.why] = (failures[r.why] || 0) + 1; }));
    }
    await Promise.all(batch);
    if ((i / BATCH) % 8 === 0) process.stdout.write(`  ${browsers.filter((b) => b.open).length} logged in\r`);
  }
  const connectS = (Date.now() - t0) / 1000;
  const loggedIn = browsers.filter((b) => b.open);
  console.log(`  ${loggedIn.length}/${N} logged in in ${connectS.toFixed(1)} s; failures ${JSON.stringify(failures)}`);
  report.logged_in = loggedIn.length;
  report.connect_seconds = connectS;
  report.login_failures = failures;
  await sleep(2000);
  report.gateway_rss_kib = rssKiB(gw.proc.pid);
  report.memory_per_connection_kib = (report.gateway_rss_kib - idleRss) / Math.max(1, loggedIn.length);
  const st = await gw.stats();
  report.upstream_connections = st.upstream.open;
  console.log(`  gateway RSS ${idleRss} -> ${report.gateway_rss_kib} KiB: ` +
              `${report.memory_per_connection_kib.toFixed(1)} KiB per connection; ${st.upstream.open} upstream connections`);

  // Hold: keepalived round trips from everyone, a few rounds.
  const rtts = [];
  const holdEnd = Date.now() + HOLD_S * 1000;
  while (Date.now() < holdEnd) {
    await Promise.all(loggedIn.filter((b) => b.open).map(async (b) => {
      const s = process.hrtime.bigint();
      await b.request('keepalived', { id: b.sid });
      rtts.push(Number(process.hrtime.bigint() - s) / 1e6);
    }));
    await sleep(Math.min(5000, Math.max(0, holdEnd - Date.now())));
  }
  const held = loggedIn.filter((b) => b.open).length;
  report.held = held;
  report.keepalive_rtt_ms = { p50: pct(rtts, 0.5), p99: pct(rtts, 0.99), max: pct(rtts, 1) };
  console.log(`  held ${held} for ${HOLD_S} s; keepalived RTT p50 ${report.keepalive_rtt_ms.p50.toFixed(1)} ms, ` +
              `p99 ${report.keepalive_rtt_ms.p99.toFixed(1)} ms`);

  // Verification throughput, with everyone still connected.
  const subs = loggedIn.filter((b) => b.open && b.job).slice(0, SUBMITTERS);
  const v0 = (await gw.stats()).verification;
  const tv0 = Date.now();
  const rttsDuring = [];
  let answered = 0;
  const outcomes = {};
  const vEnd = Date.now() + VERIFY_S * 1000;
  // Each submitter keeps 4 shares in flight: the queue stays full, the threads busy.
  await Promise.all(subs.map(async (b) => {
    const lane = async () => {
      while (Date.now() < vEnd && b.open) {
        const r = await b.submit();
        answered++;
        const k = r.error ? String(r.error.code) : 'ok';
        outcomes[k] = (outcomes[k] || 0) + 1;
        // Anything but "verified and found invalid" (stale while an upstream reconnects,
        // rate limited) is answered without hashing: back off as a browser would.
        if (k !== '-102') await sleep(250);
      }
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
  }).concat([(async () => {
    // The loop must stay responsive meanwhile: keepalived from idle browsers.
    const idle = loggedIn.slice(SUBMITTERS, SUBMITTERS + 200);
    while (Date.now() < vEnd) {
      await Promise.all(idle.filter((b) => b.open).map(async (b) => {
        const s = process.hrtime.bigint();
        await b.request('keepalived', { id: b.sid });
        rttsDuring.push(Number(process.hrtime.bigint() - s) / 1e6);
      }));
      await sleep(1000);
    }
  })()]));
  const v1 = (await gw.stats()).verification;
  const dt = (Date.now() - tv0) / 1000;
  const vh = (v1.hashes - v0.hashes) / dt;
  report.verification = {
    threads: THREADS, seconds: dt, hashes: v1.hashes - v0.hashes, hashes_per_second: vh,
    per_thread: vh / THREADS, hashes_per_busy_second: (v1.hashes - v0.hashes) / (v1.busy_s - v0.busy_s),
    hashes_per_cpu_second: (v1.hashes - v0.hashes) / (v1.cpu_s - v0.cpu_s),
    ratio_to_native_light: vh / THREADS / report.native_light_hs_per_core,
    cpu_ratio_to_native_light: (v1.hashes - v0.hashes) / (v1.cpu_s - v0.cpu_s) / report.native_light_hashes_per_cpu_s,
    answered_submits: answered, outcomes,
    keepalive_rtt_ms_while_verifying: { p50: pct(rttsDuring, 0.5), p99: pct(rttsDuring, 0.99) },
  };
  console.log(`  verification: ${vh.toFixed(1)} hashes/s on ${THREADS} threads = ${(vh / THREADS).toFixed(1)} per thread; ` +
              `native light ${report.native_light_hs_per_core.toFixed(1)} H/s per core: ratio ` +
              `${report.verification.ratio_to_native_light.toFixed(2)}; per CPU second ` +
              `${report.verification.hashes_per_cpu_second.toFixed(1)} vs native ` +
              `${report.native_light_hashes_per_cpu_s.toFixed(1)}: ratio ${report.verification.cpu_ratio_to_native_light.toFixed(2)}`);
  report.machine.loadavg_during = readFileSync('/proc/loadavg', 'utf8').trim();
  console.log(`  keepalived RTT while verifying: p50 ${report.verification.keepalive_rtt_ms_while_verifying.p50.toFixed(1)} ms, ` +
              `p99 ${report.verification.keepalive_rtt_ms_while_verifying.p99.toFixed(1)} ms; outcomes ${JSON.stringify(outcomes)}`);
  report.still_open_at_end = loggedIn.filter((b) => b.open).length;
  report.upstream_down_events = (gw.stderr.match(/: down \(/g) || []).length;
  report.upstream_down_reasons = [...new Set((gw.stderr.match(/: down \(([^)]*)\)/g) || []))].slice(0, 5);

  for (const b of browsers) try { b.ws.terminate(); } catch {}
  const ex = await gw.stop();
  report.gateway_exit = ex.code;
  await monerod.kill('SIGTERM');
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');
  console.log(`written ${OUT}`);
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
