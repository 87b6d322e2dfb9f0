// Two pools behind one gateway (--pool A --pool B --failback 3): A stops, the gateway
// moves to B and the browser gets B's work without reconnecting; A comes back, the
// gateway returns to it within the failback time and closes B. Every share the browser
// finds on the way is checked by the pool it reaches (RandomX, lib/pool.mjs).
//
//   node tests/gateway/failover.mjs CONSENTMINER RX_MINER [--log]
import { Client, Rx } from './lib/client.mjs';
import { target64 } from './lib/miner.mjs';
import { TestPool } from './lib/pool.mjs';
import { Gateway, TEST_WALLET, check, waitFor } from './lib/procs.mjs';

const [cli, rxMiner] = process.argv.slice(2);
const log = process.argv.includes('--log');
if (!cli || !rxMiner) {
  console.error('usage: failover.mjs CONSENTMINER RX_MINER [--log]');
  process.exit(2);
}

// One share on the browser's current job, accepted by the gateway and then counted by
// `pool` (the pool's answer may come after the gateway's).
async function shareReaches(client, rx, pool) {
  const before = pool.accepted;
  const job = client.job;
  const s = await rx.share(job, 0, target64(job.target));
  const r = await client.submit(job.job_id, s.nonce, s.result);
  if (!(r.result && r.result.status === 'OK')) return `gateway answered ${JSON.stringify(r)}`;
  return waitFor('the pool to count it', () => pool.accepted > before, 10000, 50)
    .then(() => true, () => `pool accepted ${pool.accepted} (rejected: ${pool.rejected.join(', ')})`);
}

async function main() {
  // Difficulty 1 at the pools: every share the browser finds goes upstream.
  const a = new TestPool({ rxMiner, difficulty: 1, jobEveryMs: 600000 });
  const b = new TestPool({ rxMiner, difficulty: 1, jobEveryMs: 600000 });
  b.nextConn = 1000; // its blobs differ from A's, as two real pools' would
  const portA = await a.listen();
  const portB = await b.listen();
  const gw = new Gateway({ bin: cli, log, args: ['--pool', `127.0.0.1:${portA}`, '--pool', `127.0.0.1:${portB}`,
    '--failback', '3', '--wallet', TEST_WALLET, '--start-diff', '1', '--min-diff', '1', '--max-diff', '1',
    '--submit-rate', '50'] });
  await gw.start();
  const rx = new Rx(rxMiner);
  const client = new Client(gw.wsUrl);
  const login = await client.connect();
  check(login.result && login.result.status === 'OK', 'the browser logged in');
  await waitFor('the gateway on pool A', () => a.conns.size === 1, 30000);
  check(b.conns.size === 0, 'pool B is not used while A is up');
  let r = await shareReaches(client, rx, a);
  check(r === true, `a share reaches pool A (${r})`);

  // A goes away: the gateway moves to B, and the browser gets B's work.
  const moved = client.nextJob(60000);
  await a.stop();
  await waitFor('the gateway on pool B', () => b.conns.size === 1, 60000);
  const jobB = await moved;
  check(jobB && b.logins.length >= 1, `the browser got a job after the failover (${jobB && jobB.job_id})`);
  check(new RegExp(`connected to 127\\.0\\.0\\.1:${portB}`).test(gw.stderr), 'the gateway logs the move to B');
  r = await shareReaches(client, rx, b);
  check(r === true, `a share reaches pool B (${r})`);

  // A is back: within --failback the gateway logs in to A again and leaves B.
  const back = client.nextJob(60000);
  const t0 = Date.now();
  await a.listen(portA);
  await waitFor('the gateway back on pool A', () => a.conns.size === 1 && b.conns.size === 0, 60000, 100);
  const took = Date.now() - t0;
  const jobA = await back;
  check(jobA !== null, `the browser got A's job after the failback (${jobA && jobA.job_id}), ${took} ms after A came back`);
  check(took < 15000, `the failback came within the 3 s probe and a login (${took} ms)`);
  r = await shareReaches(client, rx, a);
  check(r === true, `a share reaches pool A again (${r})`);
  check(client.closed === null, 'the browser stayed connected throughout');

  client.close();
  rx.close();
  const ex = await gw.stop();
  check(ex.code === 0, `the gateway stopped cleanly (${JSON.stringify(ex)})`);
  await a.stop();
  await b.stop();
  a.close();
  b.close();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
}).finally(() => setTimeout(() => process.exit(), 200));
