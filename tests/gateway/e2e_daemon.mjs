// End to end with real parts: monerod (regtest, started here) <- consentminer gateway
// <- several test browsers that log in with consent and hash with RandomX.
//
//   node tests/gateway/e2e_daemon.mjs CONSENTMINER RX_MINER [--restart] [--seed-switch]
//                                     [--wasm DIR] [--log]
//
// The browsers are test clients hashing natively through RX_MINER, or with --wasm DIR the
// real runtime (wasm/js/miner.mjs with DIR/consentminer.wasm, workers in worker_threads);
// a missing DIR/consentminer.wasm skips the test (exit 77).
//
// Checks: logins with consent get work, logins without or with an expired record are
// refused with the reason and closed; more browsers than --per-upstream open another
// upstream (with different work); blocks are found, verified, submitted and accepted by
// monerod; with --restart, monerod is killed mid-run and started again: browsers stay
// connected, shares meanwhile are answered stale, work resumes, more blocks follow. With
// --seed-switch, monerod changes the RandomX seed every 8 blocks (SEEDHASH_EPOCH_BLOCKS=8,
// SEEDHASH_EPOCH_LAG=4): shares are verified with the new seed's cache and blocks follow.
// Finally every share a browser sent has exactly one answer, and the gateway's counts
// by outcome equal what the browsers were told.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestMiner, consentRecord } from './lib/miner.mjs';
import { mintToken, newKey, writeKeyFile } from './lib/consent.mjs';
import { WasmMiner } from './lib/wasm_miner.mjs';
import { Gateway, Monerod, TEST_WALLET, check, freePort, sleep, tempDir, waitFor }
  from './lib/procs.mjs';

const [cli, rxMiner] = process.argv.slice(2);
const restart = process.argv.includes('--restart');
const log = process.argv.includes('--log');
const seedSwitch = process.argv.includes('--seed-switch');
const wasmAt = process.argv.indexOf('--wasm');
const wasmDir = wasmAt > 0 ? resolve(process.argv[wasmAt + 1] || '') : null;
const runtimeDir = join(dirname(fileURLToPath(import.meta.url)), '../../wasm/js');
if (wasmDir && !existsSync(join(wasmDir, 'consentminer.wasm'))) {
  console.log(`SKIP: no ${join(wasmDir, 'consentminer.wasm')} (build the wasm preset first)`);
  process.exit(77);
}
if (!cli || !rxMiner) {
  console.error('usage: e2e_daemon.mjs CONSENTMINER RX_MINER [--restart] [--log]');
  process.exit(2);
}

// wasm hashes at ~2.5 H/s a thread (docs/design.md): fewer, slower browsers, one per upstream.
const CLIENTS = wasmDir ? 2 : 4;
const PER_UPSTREAM = wasmDir ? 1 : 2;
// Low enough that a few light-mode hashers on a shared 2-core machine find blocks in
// seconds; the browsers' own difficulty is lower still.
const BLOCK_DIFFICULTY = wasmDir || seedSwitch ? 40 : 150;

const sum = (xs) => xs.reduce((a, b) => a + b, 0);
let gateway = null; // for the failure report

async function main() {
  const dir = tempDir('cm-gw-e2e-');
  const monerod = new Monerod({ dataDir: dir, rpcPort: await freePort(), p2pPort: await freePort(),
                                difficulty: BLOCK_DIFFICULTY, log,
                                env: seedSwitch ? { SEEDHASH_EPOCH_BLOCKS: '8', SEEDHASH_EPOCH_LAG: '4' } : {} });
  await monerod.start();
  const startHeight = await monerod.height();
  console.log(`monerod regtest at ${monerod.url}, height ${startHeight}`);

  // A key file the test wrote: browsers get tokens from POST /consent/grant as the consent
  // frame does, and the test can also mint its own (an expired one below).
  const key = newKey();
  const keyFile = writeKeyFile(join(dir, 'consent-keys'), [['e2e', key]]);
  const gw = new Gateway({ bin: cli, log, args: [
    '--consent-keys', keyFile, '--daemon', monerod.url, '--wallet', TEST_WALLET, '--start-diff', '8', '--min-diff', '4',
    '--share-interval', '3', '--per-upstream', String(PER_UPSTREAM), '--verify-threads', '2',
    '--submit-rate', '20', '--handshake-timeout', '30', '--max-invalid', '3'] });
  await gw.start();
  gateway = gw;
  console.log(`gateway at ${gw.wsUrl}`);

  // Consent is required at login (docs/design.md rule 8): a session token this gateway's
  // key signed, not a record a script could make up.
  const noConsent = new TestMiner({ url: gw.wsUrl, rxMiner, consent: null, name: 'no-consent' });
  const r1 = await noConsent.connect();
  const c1 = await noConsent.waitClosed();
  check(r1.error && r1.error.code === -10 && /no consent/.test(r1.error.message) && c1,
        `login without consent refused (${r1.error && r1.error.message}) and closed (${c1 && c1.code})`);
  const forged = new TestMiner({ url: gw.wsUrl, rxMiner, consent: consentRecord(), name: 'forged' });
  const r0 = await forged.connect();
  check(r0.error && r0.error.code === -13 && /issued by this gateway/.test(r0.error.message) &&
        await forged.waitClosed(), `login with a record made up by the client refused (${r0.error && r0.error.message})`);
  const now = Date.now();
  const expired = new TestMiner({ url: gw.wsUrl, rxMiner, name: 'expired',
                                  consent: mintToken('e2e', key, { granted_at: now - 7200_000, expires_at: now - 3600_000 }) });
  const r2 = await expired.connect();
  const c2 = await expired.waitClosed();
  check(r2.error && r2.error.code === -11 && /expired/.test(r2.error.message) && c2,
        `login with expired consent refused (${r2.error && r2.error.message}) and closed`);

  const miners = [];
  for (let i = 0; i < CLIENTS; i++) {
    const m = wasmDir
      ? new WasmMiner({ url: gw.wsUrl, wasmDir, runtimeDir, name: `wasm${i}` })
      : new TestMiner({ url: gw.wsUrl, rxMiner, name: `m${i}`, chunk: 4,
                        login: 'an-address-the-browser-would-like-paid' });
    const r = await m.connect();
    check(r.result && r.result.status === 'OK' && r.result.id,
          `browser ${i} logged in (session ${r.result && r.result.id})`);
    miners.push(m);
  }
  await waitFor('a job for every browser', () => miners.every((m) => m.job), 30000);
  const st0 = await gw.stats();
  check(st0.upstream.open === CLIENTS / PER_UPSTREAM,
        `${CLIENTS} browsers at ${PER_UPSTREAM} per upstream use ${st0.upstream.open} upstream connections`);
  // Same slot: same work except the browser's nonce byte. Other slot: other work.
  const diffBytes = (a, b) => {
    const x = Buffer.from(a, 'hex'), y = Buffer.from(b, 'hex');
    let n = 0;
    for (let i = 0; i < x.length; i++) n += x[i] !== y[i];
    return n;
  };
  const blobs = miners.map((m) => m.job.blob);
  if (PER_UPSTREAM === 2) {
    const sameSlot = diffBytes(blobs[0], blobs[1]) === 1 || diffBytes(blobs[2], blobs[3]) === 1;
    const otherSlot = diffBytes(blobs[0], blobs[2]) > 1 && diffBytes(blobs[1], blobs[3]) > 1;
    check(sameSlot && otherSlot,
          'browsers of one upstream differ only in their nonce byte; other upstream gives other work');
  } else {
    check(diffBytes(blobs[0], blobs[1]) > 1, 'browsers on different upstreams get different work');
  }

  for (const m of miners) m.mine().catch((e) => { console.error(e); process.exit(1); });
  // Two upstreams mine on two templates of the same height, so two blocks can be accepted
  // at one height (one becomes an alternative block): wait for the chain to grow by two.
  await waitFor('the chain to grow by two blocks', async () =>
    (await monerod.height()) >= startHeight + 2, 240000, 1000);
  const st1 = await gw.stats();
  const h1 = await monerod.height();
  check(st1.blocks.accepted >= h1 - startHeight,
        `monerod height ${startHeight} -> ${h1} with ${st1.blocks.accepted} blocks accepted from the gateway`);
  check(st1.hashrate.verified_60s > 0, `verified hash rate ${st1.hashrate.verified_60s.toFixed(1)} H/s`);

  // A browser that cheats: a nonce outside its byte, a result above its target, the
  // same nonce twice, and a made-up hash that meets the target (caught only by hashing
  // it). Each gets its own error; three invalid shares (--max-invalid 3) disconnect it.
  const cheat = new TestMiner({ url: gw.wsUrl, rxMiner, name: 'cheater' });
  await cheat.connect();
  await waitFor('a job for the cheater', () => cheat.job, 30000);
  const own = Buffer.from(cheat.job.blob, 'hex')[42]; // regtest: the nonce is bytes 39..42
  const nonce = (low, top) => Buffer.from([low, 0, 0, top]).toString('hex');
  const cheats = [
    [nonce(1, own ^ 1), '00'.repeat(32), -105],
    [nonce(2, own), 'ff'.repeat(32), -103],
    [nonce(2, own), 'ff'.repeat(32), -104],
    [nonce(3, own), '00'.repeat(32), -102],
  ];
  for (const [n, result, code] of cheats) {
    cheat.submit(cheat.job, n, result);
    await waitFor(`the answer to a cheat (${code})`, () => cheat.pending.size === 0, 30000, 50);
    check(cheat.errors[code] === 1, `cheating share answered ${code}: ${cheat.messages[cheat.messages.length - 1]}`);
  }
  const cheatClosed = await cheat.waitClosed(10000);
  check(cheatClosed && cheatClosed.code === 1008,
        `three invalid shares disconnect the browser (${cheatClosed && cheatClosed.code} ${cheatClosed && cheatClosed.reason})`);
  const stCheat = await gw.stats();
  check(stCheat.shares.invalid === 1 && stCheat.shares.low_difficulty === 1 &&
        stCheat.shares.bad_nonce === 1 && stCheat.shares.duplicate >= 1 &&
        stCheat.refused.invalid_shares === 1, 'the cheats are counted by outcome and the disconnect as a refusal' +
        (stCheat.shares.bad_nonce + stCheat.shares.invalid + stCheat.shares.low_difficulty === 3 ? ''
          : ` (honest browsers were told: ${miners.map((m) => m.messages.join('; ')).join(' | ')})`));

  if (seedSwitch) {
    const firstSeed = miners[0].job.seed_hash;
    await waitFor('a job with a new seed', () => miners.every((m) => m.job && m.job.seed_hash !== firstSeed),
                  600000, 1000);
    const switchedAt = await gw.stats();
    const h = await monerod.height();
    check(true, `the seed changed at height ${h} (${firstSeed.slice(0, 8)}... -> ${miners[0].job.seed_hash.slice(0, 8)}...)`);
    await waitFor('blocks with the new seed', async () =>
      (await monerod.height()) >= h + 2, 600000, 1000);
    const after = await gw.stats();
    check(after.shares.accepted > switchedAt.shares.accepted && after.shares.invalid === switchedAt.shares.invalid,
          `shares under the new seed verified with its cache (${after.shares.accepted - switchedAt.shares.accepted} more accepted, no new invalid)`);
  }

  if (restart) {
    console.log('killing monerod (SIGKILL)');
    await monerod.kill('SIGKILL');
    await waitFor('the gateway to see upstream down', async () => (await gw.stats()).upstream.up === 0,
                  30000);
    const staleBefore = (await gw.stats()).shares.stale;
    await sleep(8000);
    check(miners.every((m) => !m.closed), 'browsers stay connected while upstream is down');
    const stDown = await gw.stats();
    check(stDown.shares.stale > staleBefore,
          `shares found while upstream is down are answered stale (${stDown.shares.stale - staleBefore})`);
    const jobsBefore = miners.map((m) => m.jobs);
    const blocksBefore = stDown.blocks.accepted;
    console.log('restarting monerod');
    await monerod.start();
    const hRestart = await monerod.height();
    await waitFor('upstream back', async () => (await gw.stats()).upstream.up === st0.upstream.open,
                  60000);
    await waitFor('new jobs for every browser', () => miners.every((m, i) => m.jobs > jobsBefore[i]),
                  60000);
    check(true, 'every browser got a new job after upstream returned');
    await waitFor('a block after the restart', async () => (await gw.stats()).blocks.accepted > blocksBefore,
                  240000, 1000);
    check((await monerod.height()) > hRestart, 'monerod accepts blocks again after its restart');
  }

  // Every submit answered; counts agree between browsers (the cheater included) and the
  // gateway.
  const all = [...miners, cheat];
  const left = await Promise.all(all.map((m) => m.drain()));
  check(left.every((n) => n === 0), `every submitted share got an answer (waiting: ${left})`);
  const st = await gw.stats();
  const outcomes = ['accepted', 'invalid', 'low_difficulty', 'bad_nonce', 'duplicate', 'stale',
                    'rejected', 'rate_limited', 'busy'];
  const sumOutcomes = sum(outcomes.map((o) => st.shares[o]));
  check(st.shares.pending === 0 && st.shares.received === sumOutcomes,
        `gateway: ${st.shares.received} received = ${sumOutcomes} by outcome, 0 pending`);
  const submitted = sum(all.map((m) => m.submitted));
  check(submitted === st.shares.received, `browsers sent ${submitted} shares, gateway received ${st.shares.received}`);
  const accepted = sum(all.map((m) => m.accepted));
  check(accepted === st.shares.accepted, `browsers were told ${accepted} accepted, gateway counts ${st.shares.accepted}`);
  const stale = sum(all.map((m) => m.errors[-101] || 0));
  check(stale === st.shares.stale, `browsers were told ${stale} stale, gateway counts ${st.shares.stale}`);
  check(st.shares.invalid === 1 && st.shares.low_difficulty === 1 && st.shares.bad_nonce === 1,
        'honest browsers have no invalid share (the only ones are the cheater\'s)');
  check(st.blocks.accepted + st.blocks.rejected + st.blocks.stale === st.blocks.submitted,
        `blocks: ${st.blocks.submitted} submitted = ${st.blocks.accepted} accepted + ${st.blocks.rejected} rejected + ${st.blocks.stale} stale`);
  check(st.blocks.rejected === 0, `no block rejected by monerod (${st.blocks.rejected}); orphans count as stale (${st.blocks.stale})`);
  const metrics = await gw.metrics();
  for (const result of ['accepted', 'rejected', 'stale']) {
    check(metrics.includes(`consentminer_gateway_blocks_total{result="${result}"} ${st.blocks[result]}`),
          `/metrics reports the blocks ${result} as /stats does (${st.blocks[result]})`);
  }
  console.log(`summary: ${JSON.stringify({ shares: st.shares, blocks: st.blocks,
    hashrate: st.hashrate, verification: st.verification })}`);

  for (const m of miners) m.close();
  const ex = await gw.stop();
  check(ex.code === 0, `gateway stops cleanly on SIGTERM (exit ${ex.code}${ex.sig ? ' ' + ex.sig : ''})`);
  await monerod.kill('SIGTERM');
}

main().then(() => process.exit(process.exitCode || 0), async (e) => {
  console.error(e);
  if (gateway) {
    try {
      const st = await gateway.stats();
      console.error(`gateway /stats at failure: ${JSON.stringify({ shares: st.shares,
        blocks: st.blocks, upstream: st.upstream, hashrate: st.hashrate })}`);
    } catch {}
    console.error(`gateway log (last lines):\n${gateway.stderr.split('\n').slice(-30).join('\n')}`);
  }
  process.exit(1);
});
