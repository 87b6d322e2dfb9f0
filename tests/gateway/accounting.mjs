// Share accounting under replay (issue 13), in pool mode against the scripted test pool:
//
//   node tests/gateway/accounting.mjs CONSENTMINER RX_MINER [--log]
//
// 1. The same nonce on the same upstream work is a duplicate whatever job id it comes
//    with (after getjob calls, and after the pool sends the same job again).
// 2. A later session on the same upstream work cannot replay an earlier session's share:
//    the earlier session's nonce byte is not handed out again while its shares are
//    remembered, and a replay is not credited.
// 3. A share for a job replaced by a new height is stale (-101), not credited; a job
//    replaced at the same height (new transactions) still takes shares.
// 4. getjob and keepalived are rate limited, and getjob does not mint a new job id when
//    nothing changed.
// Every share is real (rx_miner, RandomX light mode) at difficulty 1, and the pool's
// target is out of reach, so what is credited is the gateway's own decision.
import { Client, Rx, nonceByte } from './lib/client.mjs';
import { TestPool } from './lib/pool.mjs';
import { Gateway, TEST_WALLET, check, sleep, waitFor } from './lib/procs.mjs';

const [cli, rxMiner] = process.argv.slice(2);
const log = process.argv.includes('--log');
if (!cli || !rxMiner) {
  console.error('usage: accounting.mjs CONSENTMINER RX_MINER [--log]');
  process.exit(2);
}
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const OUTCOMES = ['accepted', 'invalid', 'low_difficulty', 'bad_nonce', 'duplicate', 'stale',
                  'rejected', 'rate_limited', 'busy'];
let gateway = null;
const clients = [];

async function open(gw) {
  const c = new Client(gw.wsUrl);
  clients.push(c);
  const r = await c.connect();
  check(r.result && r.result.status === 'OK', 'a browser logs in');
  return c;
}

async function main() {
  const pool = new TestPool({ rxMiner, difficulty: 1e9, jobEveryMs: 3600_000 });
  const port = await pool.listen();
  const rx = new Rx(rxMiner);
  const gw = new Gateway({ bin: cli, log, args: [
    '--pool', `127.0.0.1:${port}`, '--wallet', TEST_WALLET, '--start-diff', '1', '--min-diff', '1',
    '--verify-threads', '1', '--max-upstreams', '1', '--max-per-ip', '0',
    '--submit-rate', '5', '--submit-burst', '10'] });
  await gw.start();
  gateway = gw;
  await waitFor('the gateway to have a job from the pool', async () => (await gw.stats()).upstream.up >= 1 && pool.conns.size >= 1, 30000);
  await sleep(300);

  // 1. Same nonce, same upstream work, another job id.
  const a = await open(gw);
  const job0 = a.job;
  check(job0, 'the login carries a job');
  const byte = nonceByte(job0);
  const share = await rx.share(job0);
  const r0 = await a.submit(job0.job_id, share.nonce, share.result);
  check(r0.result && r0.result.status === 'OK', `a real share on job ${job0.job_id} is accepted`);
  let latest = job0;
  for (let i = 0; i < 4; i++) {
    const g = await a.request('getjob');
    check(g.result && g.result.blob === job0.blob, `getjob ${i + 1} answers the same upstream work`);
    latest = g.result;
  }
  const r1 = await a.submit(latest.job_id, share.nonce, share.result);
  check(r1.error && r1.error.code === -104,
        `the same nonce on job ${latest.job_id} (same blob) is a duplicate: ${JSON.stringify(r1.error || r1.result)}`);
  // The pool sends the same job again: a new job id for the browser over the same work.
  const again = a.nextJob();
  pool.jobNow({ again: true });
  const jobAgain = await again;
  check(jobAgain.blob === job0.blob && jobAgain.job_id !== job0.job_id,
        `the resent upstream job reaches the browser as job ${jobAgain.job_id}, same blob`);
  const r2 = await a.submit(jobAgain.job_id, share.nonce, share.result);
  check(r2.error && r2.error.code === -104,
        `the same nonce on job ${jobAgain.job_id} is a duplicate: ${JSON.stringify(r2.error || r2.result)}`);

  // 2. Replay from a later session given the same byte on the same upstream work.
  a.close();
  await sleep(300);
  let replayed = null;
  let sameByte = 0;
  for (let i = 0; i < 255; i++) {
    const c = new Client(gw.wsUrl);
    clients.push(c);
    const r = await c.connect();
    if (!r.result) break; // every byte that may be handed out is in use
    if (c.job && c.job.blob.slice(0, 78) === job0.blob.slice(0, 78) && nonceByte(c.job) === byte) {
      sameByte++;
      replayed = await c.submit(c.job.job_id, share.nonce, share.result);
      break;
    }
  }
  check(!replayed || !replayed.result,
        `a later session cannot replay the share (${replayed ? JSON.stringify(replayed.error) : 'no session got the byte'})`);
  check(sameByte === 0, 'the nonce byte of a session that left shares on this work is not handed out again');
  for (const c of clients) c.close();
  await sleep(500);

  // 3. A new height makes earlier jobs stale; a new job at the same height does not.
  const b = await open(gw);
  const sB = await rx.share(b.job);
  const oldB = b.job;
  const nextB = b.nextJob();
  pool.jobNow();
  await nextB;
  const rSame = await b.submit(oldB.job_id, sB.nonce, sB.result);
  check(rSame.result && rSame.result.status === 'OK',
        `a share for a job replaced at the same height is accepted: ${JSON.stringify(rSame.error || rSame.result)}`);
  const sB2 = await rx.share(b.job, 100);
  const oldB2 = b.job;
  const next2 = b.nextJob();
  pool.jobNow({ newBlock: true });
  await next2;
  const rStale = await b.submit(oldB2.job_id, sB2.nonce, sB2.result);
  check(rStale.error && rStale.error.code === -101,
        `a share for a job replaced by a new height is stale: ${JSON.stringify(rStale.error || rStale.result)}`);
  const sB3 = await rx.share(b.job, 200);
  const rNew = await b.submit(b.job.job_id, sB3.nonce, sB3.result);
  check(rNew.result && rNew.result.status === 'OK', 'a share on the new height is accepted');

  // 4. getjob and keepalived floods.
  const c = await open(gw);
  const gets = await Promise.all(Array.from({ length: 100 }, () => c.request('getjob')));
  const ok = gets.filter((g) => g.result);
  const limited = gets.filter((g) => g.error && g.error.code === -107);
  const ids = new Set(ok.map((g) => g.result.job_id));
  check(limited.length > 0, `100 getjob at once: ${ok.length} answered, ${limited.length} rate limited`);
  check(ids.size <= 2, `getjob without a change mints no new job ids (${ids.size} distinct)`);
  const c2 = await open(gw);
  const kas = await Promise.all(Array.from({ length: 100 }, () => c2.request('keepalived')));
  const kLimited = kas.filter((k) => k.error && k.error.code === -107).length;
  check(kLimited > 0, `100 keepalived at once: ${kLimited} rate limited`);

  await sleep(300);
  const st = await gw.stats();
  check(st.shares.pending === 0 && st.shares.received === sum(OUTCOMES.map((o) => st.shares[o])),
        `gateway: ${st.shares.received} received = sum by outcome, 0 pending`);
  check(st.shares.accepted === 3, `3 shares credited (${st.shares.accepted})`);
  for (const cl of clients) cl.close();
  rx.close();
  const ex = await gw.stop();
  check(ex.code === 0, 'gateway stops cleanly on SIGTERM');
  await pool.stop();
  pool.close();
}

main().then(() => process.exit(process.exitCode || 0), async (e) => {
  console.error(e);
  if (gateway) {
    try { console.error(JSON.stringify((await gateway.stats()).shares)); } catch {}
    console.error(gateway.stderr.split('\n').slice(-30).join('\n'));
  }
  process.exit(1);
});
