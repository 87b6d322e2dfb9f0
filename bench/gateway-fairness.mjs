// Honest visitors first, the benchmark (bench/gateway-fairness.sh is the usual way in):
//
//   node bench/gateway-fairness.mjs [--cli PATH] [--rx-miner PATH] [--attackers N]
//        [--addresses A] [--seconds S] [--threads T] [--difficulty D] [--before PATH]
//        [--out FILE]
//
// One round of tests/gateway/lib/fairness.mjs at the gateway's default limits (submit
// rate 2/s, burst 20, --max-invalid 10): N attacking sockets spread over A loopback
// addresses, an honest browser mining real shares at difficulty 32, T verification
// threads. With --before, the same round against that build first. At difficulty 32 the
// honest browser (about 25 H/s on one thread here) sends under one share a second, within
// the submit rate as a real one is (vardiff aims at one share in 30 s); at difficulty 8 on
// a quiet machine it sent 3 a second and the gateway rightly rate-limited it (-107).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fairnessRound } from '../tests/gateway/lib/fairness.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const cli = resolve(arg('--cli', `${root}/build/native/consentminer`));
const rxMiner = resolve(arg('--rx-miner', `${root}/build/native/tests/gateway/rx_miner`));
const before = arg('--before', null);
const OUT = arg('--out', `${root}/bench/results/gateway-fairness.json`);
const opts = {
  rxMiner,
  attackers: Number(arg('--attackers', 50)),
  addresses: Number(arg('--addresses', 5)),
  seconds: Number(arg('--seconds', 60)),
  difficulty: Number(arg('--difficulty', 32)),
  gatewayArgs: ['--verify-threads', String(Number(arg('--threads', 2)))],
};

function line(label, r) {
  const l = r.honest.latency_ms;
  console.log(`${label}: honest shares ${r.honest.shares} ${JSON.stringify(r.honest.answers)}, ` +
    `answer latency p50 ${l.p50.toFixed(0)} ms, p99 ${l.p99.toFixed(0)} ms, max ${l.max.toFixed(0)} ms; ` +
    `forged sent ${r.attack.sent}, hashed ${r.gateway.shares.invalid}, verify queue peak ${r.gateway.max_verify_queued}`);
}

const out = { date: new Date().toISOString(), goal: 'honest p99 < 2000 ms', cli };
if (before) {
  out.before = { cli: resolve(before), ...(await fairnessRound({ ...opts, cli: resolve(before) })) };
  line('before', out.before);
}
out.after = await fairnessRound({ ...opts, cli });
line(before ? 'after' : 'result', out.after);
out.pass = out.after.honest.latency_ms.p99 < 2000 && out.after.honest.answers.ok === out.after.honest.shares;
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify(out, null, 1) + '\n');
console.log(`${out.pass ? 'PASS' : 'FAIL'}: wrote ${OUT}`);
process.exit(out.pass ? 0 : 1);
