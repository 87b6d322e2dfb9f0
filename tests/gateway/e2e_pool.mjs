// The gateway in pool mode: a stratum test pool (lib/pool.mjs, which checks every share
// with RandomX itself) <- consentminer gateway --pool <- several test browsers.
//
//   node tests/gateway/e2e_pool.mjs CONSENTMINER RX_MINER [--log]
//
// Checks: the gateway logs in to the pool with its own --wallet whatever the browsers
// send; more browsers than --per-upstream open more pool connections; only shares that
// meet the pool's target reach the pool and the pool finds every one of them valid;
// browsers' difficulty never exceeds the pool's; the pool stopped and started again
// mid-run: browsers stay connected, get stale answers meanwhile and new jobs after;
// every share is answered once and the gateway's counts match the browsers' and the
// pool's.
import { TestMiner } from './lib/miner.mjs';
import { TestPool } from './lib/pool.mjs';
import { Gateway, TEST_WALLET, check, sleep, waitFor } from './lib/procs.mjs';

const [cli, rxMiner] = process.argv.slice(2);
const log = process.argv.includes('--log');
if (!cli || !rxMiner) {
  console.error('usage: e2e_pool.mjs CONSENTMINER RX_MINER [--log]');
  process.exit(2);
}
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const POOL_DIFFICULTY = 60;
let gateway = null;

async function main() {
  const pool = new TestPool({ rxMiner, difficulty: POOL_DIFFICULTY, jobEveryMs: 8000 });
  const port = await pool.listen();
  const gw = new Gateway({ bin: cli, log, args: [
    '--pool', `127.0.0.1:${port}`, '--wallet', TEST_WALLET, '--start-diff', '8', '--min-diff', '4',
    '--share-interval', '3', '--per-upstream', '2', '--verify-threads', '2', '--submit-rate', '20'] });
  await gw.start();
  gateway = gw;
  await waitFor('the gateway to log in to the pool', () => pool.logins.length >= 1, 30000);
  check(pool.logins.every((p) => p.login === TEST_WALLET),
        'the gateway logs in to the pool with its --wallet');

  const miners = [];
  for (let i = 0; i < 4; i++) {
    const m = new TestMiner({ url: gw.wsUrl, rxMiner, name: `p${i}`, chunk: 4,
                              login: '4BrowserChosenAddressThatMustNotBePaid' });
    const r = await m.connect();
    check(r.result && r.result.status === 'OK', `browser ${i} logged in`);
    miners.push(m);
  }
  await waitFor('a job for every browser', () => miners.every((m) => m.job), 30000);
  check(pool.logins.length === 2 && pool.logins.every((p) => p.login === TEST_WALLET),
        `4 browsers at 2 per upstream: ${pool.logins.length} pool logins, all with the gateway's wallet`);
  for (const m of miners) m.mine().catch((e) => { console.error(e); process.exit(1); });

  await waitFor('shares accepted by the pool on both connections', () =>
    pool.accepted >= 4 && pool.byConn.size >= 2, 240000, 1000);
  check(pool.rejected.length === 0, `the pool found every forwarded share valid (${pool.accepted} accepted)`);
  const capped = miners.every((m) => !m.job || 0xFFFFFFFFn / BigInt(Buffer.from(m.job.target, 'hex').readUInt32LE(0)) <= BigInt(POOL_DIFFICULTY));
  check(capped, 'no browser is given a difficulty above the pool\'s');

  // The pool goes away and comes back on the same port.
  console.log('stopping the pool');
  await pool.stop();
  await waitFor('the gateway to see the pool down', async () => (await gw.stats()).upstream.up === 0, 30000);
  const staleBefore = (await gw.stats()).shares.stale;
  await sleep(6000);
  check(miners.every((m) => !m.closed), 'browsers stay connected while the pool is down');
  const stDown = await gw.stats();
  check(stDown.shares.stale > staleBefore,
        `shares found while the pool is down are answered stale (${stDown.shares.stale - staleBefore})`);
  const jobsBefore = miners.map((m) => m.jobs);
  const acceptedBefore = pool.accepted;
  console.log('starting the pool again');
  await pool.listen(port);
  await waitFor('new jobs for every browser', () => miners.every((m, i) => m.jobs > jobsBefore[i]), 90000);
  check(true, 'every browser got a new job after the pool returned');
  await waitFor('shares accepted after the return', () => pool.accepted > acceptedBefore, 240000, 1000);
  check(true, `the pool accepts shares again (${pool.accepted - acceptedBefore} since its return)`);

  const left = await Promise.all(miners.map((m) => m.drain()));
  check(left.every((n) => n === 0), 'every submitted share got an answer');
  await sleep(500);
  const st = await gw.stats();
  const outcomes = ['accepted', 'invalid', 'low_difficulty', 'bad_nonce', 'duplicate', 'stale',
                    'rejected', 'rate_limited', 'busy'];
  check(st.shares.pending === 0 && st.shares.received === sum(outcomes.map((o) => st.shares[o])),
        `gateway: ${st.shares.received} received = sum by outcome, 0 pending`);
  check(sum(miners.map((m) => m.submitted)) === st.shares.received, 'browsers sent what the gateway received');
  check(sum(miners.map((m) => m.accepted)) === st.shares.accepted, 'browsers were told what the gateway counts accepted');
  check(st.upstream.submitted === pool.received,
        `gateway forwarded ${st.upstream.submitted}, the pool received ${pool.received}`);
  // A share the pool accepted just as it was stopped can lose its answer with the socket:
  // the gateway then counts it stale (it cannot know), never accepted. So the pool's count
  // lies between the gateway's accepted and accepted + stale from upstream.
  check(st.upstream.accepted <= pool.accepted && pool.accepted <= st.upstream.accepted + st.upstream.stale &&
        pool.rejected.length === 0,
        `pool accepted ${pool.accepted}; the gateway counts ${st.upstream.accepted} accepted and ${st.upstream.stale} stale upstream; rejected ${pool.rejected.length}`);
  check(st.upstream.submitted < st.shares.accepted,
        `only shares meeting the pool's target went up (${st.upstream.submitted} of ${st.shares.accepted})`);
  console.log(`summary: ${JSON.stringify({ shares: st.shares, upstream: { submitted: st.upstream.submitted,
    accepted: st.upstream.accepted, stale: st.upstream.stale } })}`);
  for (const m of miners) m.close();
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
