// Honest visitors first, the small CI version of bench/gateway-fairness.sh: 10 sockets
// on 127.0.0.2 and 127.0.0.3 flood forged results (burst 100, 50 a second each) at a
// gateway with one verification thread while an honest browser on 127.0.0.1 submits
// real shares, for 25 s or until it has submitted 5 (a loaded machine). Every honest share must be accepted, within a generous 10 s at the 99th
// percentile (first come, first served made it wait for the whole flood: tens of
// seconds); /stats received = sum of outcomes + pending.
//
//   node tests/gateway/fairness.mjs CONSENTMINER RX_MINER [--log]
import { fairnessRound } from './lib/fairness.mjs';
import { check } from './lib/procs.mjs';

const [cli, rxMiner] = process.argv.slice(2);
if (!cli || !rxMiner) {
  console.error('usage: fairness.mjs CONSENTMINER RX_MINER [--log]');
  process.exit(2);
}
const OUTCOMES = ['accepted', 'invalid', 'low_difficulty', 'bad_nonce', 'duplicate', 'stale',
                  'rejected', 'rate_limited', 'busy'];

const r = await fairnessRound({ cli, rxMiner, attackers: 10, addresses: 2, seconds: 25, rate: 50,
                                burst: 100, difficulty: 4, minHonest: 5,
                                log: process.argv.includes('--log'),
                                gatewayArgs: ['--verify-threads', '1'] });
console.log(JSON.stringify(r));
const h = r.honest;
check(h.shares >= 5, `the honest browser submitted ${h.shares} shares`);
check(h.answers.ok === h.shares, `every honest share was accepted (${JSON.stringify(h.answers)})`);
check(h.latency_ms.p99 < 10000,
      `honest answers: p50 ${h.latency_ms.p50.toFixed(0)} ms, p99 ${h.latency_ms.p99.toFixed(0)} ms (< 10 s)`);
const s = r.gateway.shares;
check(s.received === OUTCOMES.reduce((a, o) => a + s[o], 0) + s.pending,
      `gateway: ${s.received} received = sum by outcome + ${s.pending} pending`);
process.exit(process.exitCode || 0);
