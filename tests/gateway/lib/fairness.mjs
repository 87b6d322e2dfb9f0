// Honest visitors first (issue 13): forged results from many sockets on a few loopback
// addresses, as fast as the gateway's limits allow, while one honest browser on
// 127.0.0.1 mines real shares (rx_miner, RandomX light mode) and times each answer.
// Shared by tests/gateway/fairness.mjs (small, in CI) and bench/gateway-fairness.mjs.
//
// An attacker logs in (lib/login.mjs), sends its submit burst at once and then the
// submit rate, every share on its own nonce byte with a claimed hash of zeros (it meets
// any target, so only hashing can refuse it); when the gateway closes it, it logs in
// again, and when a login is refused it retries a second later. All of 127/8 is
// loopback on Linux, so attackers bind 127.0.0.2, 127.0.0.3, ... as their addresses.
import { Client, Rx, nonceByte } from './client.mjs';
import { target64 } from './miner.mjs';
import { TestPool } from './pool.mjs';
import { Gateway, TEST_WALLET, sleep, waitFor } from './procs.mjs';

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] : NaN;
};

function nonceHex(byte, counter) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(((byte << 24) | (counter & 0xFFFFFF)) >>> 0);
  return b.toString('hex');
}

class Attacker {
  constructor(url, address, rate, burst, stats) {
    Object.assign(this, { url, address, rate, burst, stats });
    this.counter = 0;
  }
  async run(round) {
    while (!round.over) {
      const c = new Client(this.url, { localAddress: this.address, agent: 'attacker' });
      let r;
      try { r = await c.connect(); } catch { await sleep(500); continue; }
      this.stats.logins++;
      if (!r.result || !c.job) {
        this.stats.loginsRefused++;
        c.close();
        await sleep(1000);
        continue;
      }
      const byte = nonceByte(c.job);
      let tokens = this.burst;
      let last = Date.now();
      while (!c.closed && !round.over) {
        const now = Date.now();
        tokens = Math.min(this.burst, tokens + (now - last) * this.rate / 1000);
        last = now;
        while (tokens >= 1 && !c.closed) {
          tokens--;
          this.stats.sent++;
          c.submit(c.job.job_id, nonceHex(byte, ++this.counter), '00'.repeat(32)).then((a) => {
            const k = a.closed ? 'closed' : a.error ? String(a.error.code) : 'ok';
            this.stats.answers[k] = (this.stats.answers[k] || 0) + 1;
          });
        }
        await sleep(Math.max(5, 1000 / this.rate));
      }
      c.close();
      await sleep(200);
    }
  }
}

// Mines and submits until `until` and at least minShares answers, or until hardUntil.
async function honest(url, rxMiner, until, minShares, hardUntil, out) {
  const rx = new Rx(rxMiner);
  const c = new Client(url, { agent: 'honest' });
  const r = await c.connect();
  if (!r.result || !c.job) throw new Error(`honest login failed: ${JSON.stringify(r)}`);
  let start = 0;
  let job = c.job;
  const more = () => (Date.now() < until || out.latencies.length < minShares) && Date.now() < hardUntil;
  while (more() && !c.closed) {
    if (c.job !== job) { job = c.job; start = 0; }
    const share = await rx.share(job, start, target64(job.target));
    start = (parseInt(share.nonce.slice(0, 6).match(/../g).reverse().join(''), 16) + 1);
    if (c.job !== job) continue;
    const t0 = performance.now();
    // An answer that has not come by the end of the round plus a minute counts as that long.
    const a = await Promise.race([c.submit(job.job_id, share.nonce, share.result),
      sleep(Math.max(until, Date.now()) + 60000 - Date.now()).then(() => ({ error: { code: 'no answer' } }))]);
    const ms = performance.now() - t0;
    out.latencies.push(ms);
    const k = a.closed ? 'closed' : a.error ? String(a.error.code) : 'ok';
    out.answers[k] = (out.answers[k] || 0) + 1;
  }
  c.close();
  rx.close();
}

// Runs one round; returns the figures. gatewayArgs are added to the gateway's.
export async function fairnessRound({ cli, rxMiner, attackers = 50, addresses = 5, seconds = 60,
                                      rate = 2, burst = 20, difficulty = 16, gatewayArgs = [],
                                      minHonest = 0, log = false }) {
  const pool = new TestPool({ rxMiner, difficulty: 1e9, jobEveryMs: 3600_000 });
  const port = await pool.listen();
  const gw = new Gateway({ bin: cli, log, args: [
    '--pool', `127.0.0.1:${port}`, '--wallet', TEST_WALLET, '--quiet',
    '--start-diff', String(difficulty), '--min-diff', String(difficulty), '--max-diff', String(difficulty),
    '--submit-rate', String(rate), '--submit-burst', String(burst), ...gatewayArgs] });
  await gw.start();
  try {
    await waitFor('the gateway to have a job from the pool',
                  async () => (await gw.stats()).upstream.up >= 1 && pool.conns.size >= 1, 30000);
    await sleep(300);
    // The round lasts `seconds`, longer if the honest browser has found fewer than
    // minHonest shares by then (a loaded machine), at most 5 minutes more.
    const until = Date.now() + seconds * 1000;
    const round = { over: false };
    const astats = { logins: 0, loginsRefused: 0, sent: 0, answers: {} };
    const runs = [];
    for (let i = 0; i < attackers; i++) {
      const a = new Attacker(gw.wsUrl, `127.0.0.${2 + (i % addresses)}`, rate, burst, astats);
      runs.push(a.run(round));
    }
    let maxQueued = 0;
    const poll = (async () => {
      while (!round.over) {
        try { maxQueued = Math.max(maxQueued, (await gw.stats()).verification.queued); } catch {}
        await sleep(250);
      }
    })();
    await sleep(1000); // the flood first
    const h = { latencies: [], answers: {} };
    try {
      await honest(gw.wsUrl, rxMiner, until, minHonest, until + 300_000, h);
    } finally {
      round.over = true;
    }
    const lasted = (Date.now() - (until - seconds * 1000)) / 1000;
    await Promise.all([...runs, poll]);
    await sleep(500);
    const st = await gw.stats();
    return {
      attackers, addresses, seconds: Math.round(lasted), submit_rate: rate, submit_burst: burst, difficulty,
      gateway_args: gatewayArgs,
      honest: { shares: h.latencies.length, answers: h.answers,
                latency_ms: { p50: pct(h.latencies, 0.5), p99: pct(h.latencies, 0.99),
                              max: h.latencies.length ? Math.max(...h.latencies) : NaN } },
      attack: astats,
      gateway: { shares: st.shares, refused: st.refused, verify_hashes: st.verification.hashes,
                 max_verify_queued: maxQueued },
    };
  } finally {
    await gw.stop();
    await pool.stop();
    pool.close();
  }
}
