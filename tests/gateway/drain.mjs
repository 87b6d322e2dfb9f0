// SIGTERM drains the gateway instead of dropping everyone: no new connections, each
// browser is closed with 1001 "going away" (its runtime then reconnects) rather than a
// vanished socket (1006), and a share already on its way to the pool is still answered.
//
//   node tests/gateway/drain.mjs CONSENTMINER RX_MINER [--log]
//
// A slow test pool (each answer 1.5 s late) and browsers whose every accepted share goes
// upstream (pool and browser difficulty both 8): SIGTERM lands while the pool holds a
// share; that share must be answered OK, then the socket closes with 1001 and the gateway
// exits 0 within the grace it states (10 s).
import { connect } from 'node:net';
import { TestMiner } from './lib/miner.mjs';
import { TestPool } from './lib/pool.mjs';
import { Gateway, TEST_WALLET, check, waitFor } from './lib/procs.mjs';

const [cli, rxMiner] = process.argv.slice(2);
const log = process.argv.includes('--log');
if (!cli || !rxMiner) {
  console.error('usage: drain.mjs CONSENTMINER RX_MINER [--log]');
  process.exit(2);
}
let gateway = null;

async function main() {
  const pool = new TestPool({ rxMiner, difficulty: 8, jobEveryMs: 60000, answerDelayMs: 1500 });
  const port = await pool.listen();
  const gw = new Gateway({ bin: cli, log, args: ['--pool', `127.0.0.1:${port}`, '--wallet', TEST_WALLET,
    '--start-diff', '8', '--min-diff', '8', '--max-diff', '8', '--submit-rate', '100'] });
  await gw.start();
  gateway = gw;
  const miner = new TestMiner({ url: gw.wsUrl, rxMiner, name: 'drain', chunk: 2 });
  const r = await miner.connect();
  check(r.result && r.result.status === 'OK', 'the browser logged in');
  miner.mine().catch((e) => { console.error(e); process.exit(1); });
  await waitFor('a share to reach the (slow) pool', () => pool.received >= 1, 120000, 20);
  miner.mining = false;
  const pendingAtSignal = miner.pending.size;
  const acceptedBefore = miner.accepted;
  const t0 = Date.now();
  gw.proc.kill('SIGTERM');
  // New connections are refused at once.
  await new Promise((r) => setTimeout(r, 200));
  const refused = await new Promise((resolve) => {
    const s = connect(gw.port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(false); });
    s.on('error', () => resolve(true));
  });
  check(refused, 'no new connections after SIGTERM');
  const closed = await miner.waitClosed(15000);
  const ex = await gw.exited;
  const took = Date.now() - t0;
  check(pendingAtSignal >= 1, `a share was on its way at the signal (${pendingAtSignal} pending)`);
  check(miner.pending.size === 0 && miner.accepted > acceptedBefore,
        `the share held by the pool was answered before the close (${miner.accepted - acceptedBefore} accepted, ${miner.pending.size} unanswered)`);
  check(closed && closed.code === 1001, `the browser was told "going away" (close code ${closed && closed.code}, "${closed && closed.reason}")`);
  check(ex.code === 0, `the gateway exited 0 (${JSON.stringify(ex)})`);
  check(took < 12000, `the gateway stopped ${took} ms after SIGTERM (grace 10 s)`);
  check(/told to go away \(1001\)/.test(gw.stderr), 'the drain is logged');
  miner.close();
  await pool.stop();
  pool.close();
}

main().then(() => process.exit(process.exitCode || 0), async (e) => {
  console.error(e);
  if (gateway) console.error(gateway.stderr.split('\n').slice(-30).join('\n'));
  process.exit(1);
});
