// How a gateway answers a getjob flood (issue 13's figure: 5,000 getjob answered in
// 131 ms, 5,000 job ids minted). Prints answered, rate-limited and distinct job ids.
//
//   node bench/gateway-getjob-flood.mjs CONSENTMINER RX_MINER [N]
import { Client } from '../tests/gateway/lib/client.mjs';
import { TestPool } from '../tests/gateway/lib/pool.mjs';
import { Gateway, TEST_WALLET, sleep, waitFor } from '../tests/gateway/lib/procs.mjs';

const [cli, rxMiner, n = '5000'] = process.argv.slice(2);
const pool = new TestPool({ rxMiner, difficulty: 1e9, jobEveryMs: 3600_000 });
const port = await pool.listen();
const gw = new Gateway({ bin: cli, args: ['--pool', `127.0.0.1:${port}`, '--wallet', TEST_WALLET, '--quiet'] });
await gw.start();
await waitFor('a pool job', async () => (await gw.stats()).upstream.up >= 1 && pool.conns.size >= 1, 30000);
await sleep(300);
const c = new Client(gw.wsUrl);
await c.connect();
const t0 = performance.now();
const answers = await Promise.all(Array.from({ length: Number(n) }, () => c.request('getjob')));
const ms = performance.now() - t0;
const ok = answers.filter((a) => a.result);
const ids = new Set(ok.map((a) => a.result.job_id));
const limited = answers.filter((a) => a.error && a.error.code === -107).length;
const closed = answers.filter((a) => a.closed).length;
console.log(`${n} getjob in ${ms.toFixed(0)} ms: ${ok.length} answered with a job, ${limited} rate limited, ` +
            `${closed} unanswered (socket closed ${c.closed ? `${c.closed.code} "${c.closed.reason}"` : 'no'}); ` +
            `${ids.size} distinct job ids`);
c.close();
await gw.stop();
await pool.stop();
pool.close();
