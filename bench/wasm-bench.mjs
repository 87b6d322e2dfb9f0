#!/usr/bin/env node
// consentminer — where the wasm build stands against native, in one invocation.
//
//   node bench/wasm-bench.mjs [--seconds S] [--short S] [--rounds R] [--skip-chromium]
//        [--skip-firefox] [--skip-webkit] [--chromium-js-flags FLAGS]
//        [--dataset-hashes K] [--dataset-items N] [--out FILE]
//
// 1-thread light-mode rows, each the same measurement as `consentminer bench` (initialise,
// then count hashes for S seconds; default 20), run in turn in each of R rounds (default
// 1; the median run stands for the row):
//   native            build/native/consentminer bench --mode light --threads 1 (its JIT)
//   node, JIT         node wasm/cli.mjs bench (one worker, programs translated to wasm)
//   node, JIT, V8 tier-up   the same with CM_V8_TIER_UP=1: V8's own tier-up budget, which
//                     has V8 optimize every program module in the background for nothing
//                     (wasm/src/jit/jit-lib.js); its CPU cores show the cost
//   node, interpreter node wasm/cli.mjs bench --no-jit (RandomX's interpreter)
//   chromium, JIT / interpreter   runBench({ jit: 'auto' / 'never' }) in a page of Debian's
//                     headless Chromium (playwright-core), 127.0.0.1 with COOP/COEP
//   firefox, JIT / interpreter    the same page in Debian's Firefox ESR (WebDriver BiDi)
//   webkit, JIT / interpreter     the same page in WebKitGTK's MiniBrowser (WebKitWebDriver,
//                     under Xvfb); tests/browser/lib/engines.mjs drives both. WebKitGTK has
//                     no SharedArrayBuffer even on the isolated page: its 2-thread row is
//                     one cache per worker, and its shared row says so
// with each wasm row's ratio to native; for the JIT rows, per program: translate (C) and
// compile + instantiate (JS) ms and module bytes, SuperscalarHash's translate + compile
// ms, and the share of the worker's busy time spent compiling. Then, in this process,
// where a JIT hash's time goes: K hashes (default 20) of the bench job, then N calls
// (default 20000) of the SuperscalarHash module's item() at random item numbers; the
// dataset share is 16384 items a hash (8 programs x 2048 iterations) x time per item /
// time per hash; the compile share, the JIT's counters over those hashes; the rest is
// program execution (and the hash's Blake2b/AES).
// For 2 threads (the JIT where it runs; hashing --short seconds, default 8): cache initialisation time and
// peak memory with one cache per worker (unshared) and one shared cache
// (SharedArrayBuffer), in node and in each browser, with its ratio to the same browser's
// 1-thread JIT row. Peak memory: node, the process's RSS
// (every thread); a browser, the RSS of all the browser's processes above the idle page's,
// sampled from /proc every 100 ms. CPU cores: what each row used, V8's background compiler
// threads included (node: the process; Chromium: all the browser's processes; beside H/s,
// what a hash costs). --chromium-js-flags FLAGS goes to Chromium as --js-flags (e.g.
// --wasm-tiering-budget=2000000000, to see what V8's tier-up costs there). The machine is shared and noisy: ratios within one
// invocation matter more than absolute numbers. Prints the tables and writes
// bench/results/wasm-bench.json.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { cpuOf, openBenchBrowser, processTree, rssOf, serveBenchPage } from './chromium-page.mjs';
import { launch, missing } from '../tests/browser/lib/engines.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
if (args.includes('-h') || args.includes('--help')) {
  process.stdout.write(helpText());
  process.exit(0);
}
const seconds = Number(opt('--seconds', 20));
const short = Number(opt('--short', 8));
const rounds = Number(opt('--rounds', 1));
const datasetHashes = Number(opt('--dataset-hashes', 20));
const datasetItems = Number(opt('--dataset-items', 20000));
for (const [k, v] of Object.entries({ '--seconds': seconds, '--short': short, '--rounds': rounds, '--dataset-hashes': datasetHashes, '--dataset-items': datasetItems })) {
  if (!(Number.isInteger(v) && v >= 1)) { console.error(`wasm-bench: ${k} is '${opt(k)}'; expected a positive integer`); process.exit(2); }
}
const skipChromium = args.includes('--skip-chromium');
const skipBrowser = { chromium: skipChromium, firefox: args.includes('--skip-firefox'), webkit: args.includes('--skip-webkit') };
const chromiumJsFlags = opt('--chromium-js-flags', '');
const outFile = opt('--out', path.join(root, 'bench', 'results', 'wasm-bench.json'));

function run(cmd, argv, env = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { cwd: root, maxBuffer: 1 << 20, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${argv.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

const lastJson = (out) => JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).pop());

async function native() {
  const cm = path.join(root, 'build', 'native', 'consentminer');
  if (!fs.existsSync(cm)) return { error: `${cm} not built` };
  return lastJson(await run(cm, ['bench', '--mode', 'light', '--threads', '1', '--seconds', String(seconds), '--json']));
}

async function nodeRow(threads, shared, secs, jit = true, env = {}) {
  return lastJson(await run(process.execPath, [path.join(root, 'wasm', 'cli.mjs'), 'bench', '--seconds', String(secs),
    '--threads', String(threads), shared ? '--shared' : '--no-shared', '--json', ...(jit ? [] : ['--no-jit'])], env));
}

// ---- Chromium --------------------------------------------------------------------------

// The CPU and RSS of a browser's processes every 100 ms over a row. On a loaded machine a
// row's H/s says as much about the other processes as about the engine; H per CPU
// second over its hashing interval (the last out.seconds of the row) does not.
function browserSampler(pids) {
  const samples = [];
  const take = () => { const p = pids(); samples.push({ t: performance.now(), cpu: cpuOf(p), rss: rssOf(p) }); };
  take();
  const timer = setInterval(take, 100);
  return {
    stop(out) {
      clearInterval(timer);
      take();
      const end = samples[samples.length - 1];
      const from = samples.filter((x) => x.t <= end.t - (out.seconds || 0) * 1000).pop() || samples[0];
      const cpu = end.cpu - from.cpu;
      return {
        peak: Math.max(...samples.map((x) => x.rss)),
        hashing_cpu_cores: round3(cpu / Math.max(1e-3, (end.t - from.t) / 1000)),
        hashes_per_cpu_second: typeof out.hashes === 'number' && cpu > 0 ? round3(out.hashes / cpu) : null,
      };
    },
  };
}

async function chromiumRows(rows) {
  const browser = await openBenchBrowser({ jsFlags: chromiumJsFlags });
  const { context, browserPid } = browser;
  const results = [];
  try {
    for (const r of rows) {
      const page = await context.newPage();
      await page.goto(browser.url);
      await page.waitForFunction(() => window.cmReady === true);
      const isolated = await page.evaluate(() => globalThis.crossOriginIsolated);
      await new Promise((res) => setTimeout(res, 500));
      const base = rssOf(processTree(browserPid));
      const sampler = browserSampler(() => processTree(browserPid));
      const cpu0 = cpuOf(processTree(browserPid));
      const wall0 = performance.now();
      const out = await page.evaluate((o) => window.cmBench(o), { seconds: r.seconds, threads: r.threads, shared: r.shared ? 'always' : 'never', jit: r.jit === false ? 'never' : 'auto' });
      const cpu = cpuOf(processTree(browserPid)) - cpu0;
      const wall = (performance.now() - wall0) / 1000;
      const { peak, ...perCpu } = sampler.stop(out);
      Object.assign(out, perCpu);
      // The CPU all of the browser's processes used over the row (initialisation included),
      // in cores, beside the busy time the runtime measures in its workers (what the
      // element shows a visitor): V8's background compiler threads are in the first only.
      out.browser_cpu_seconds = round1(cpu);
      out.browser_cpu_cores = round3(cpu / wall);
      await page.close();
      results.push({ ...out, cross_origin_isolated: isolated, peak_rss_mib: round1(peak / 1048576), peak_above_idle_mib: round1((peak - base) / 1048576) });
      await new Promise((res) => setTimeout(res, 500));
    }
  } finally {
    await browser.close();
  }
  return results;
}

// ---- Firefox and WebKit -----------------------------------------------------------------

// The same rows as chromiumRows, in one instance of `engine` (tests/browser/lib/engines.mjs),
// the page reloaded for each. A shared row where the engine has no SharedArrayBuffer on
// the isolated page is not run: it says why instead.
async function engineRows(engine, rows) {
  const why = missing(engine);
  if (why) return rows.map(() => ({ error: why }));
  const server = await serveBenchPage();
  const url = `http://127.0.0.1:${server.address().port}/bench.html`;
  const results = [];
  let b;
  try {
    b = await launch(engine);
    for (const r of rows) {
      await b.goto(url);
      for (let i = 0; !(await b.evaluate('window.cmReady === true')); i++) {
        if (i > 100) throw new Error(`${engine}: the bench page did not load`);
        await new Promise((res) => setTimeout(res, 100));
      }
      const env = await b.evaluate('({ isolated: globalThis.crossOriginIsolated === true, sab: typeof SharedArrayBuffer === "function", cores: navigator.hardwareConcurrency })');
      if (r.shared && !env.sab) {
        results.push({ error: 'no SharedArrayBuffer on the cross-origin isolated page', cross_origin_isolated: env.isolated });
        continue;
      }
      await new Promise((res) => setTimeout(res, 500));
      const base = rssOf(b.browserPids());
      const sampler = browserSampler(b.browserPids);
      const cpu0 = cpuOf(b.browserPids());
      const wall0 = performance.now();
      const out = await b.evaluate((o) => window.cmBench(o), { seconds: r.seconds, threads: r.threads, shared: r.shared ? 'always' : 'never', jit: r.jit === false ? 'never' : 'auto' });
      const cpu = cpuOf(b.browserPids()) - cpu0;
      const wall = (performance.now() - wall0) / 1000;
      const { peak, ...perCpu } = sampler.stop(out);
      results.push({ ...out, ...perCpu, browser: b.version, browser_cpu_seconds: round1(cpu), browser_cpu_cores: round3(cpu / wall),
        cross_origin_isolated: env.isolated, shared_array_buffer: env.sab, peak_rss_mib: round1(peak / 1048576), peak_above_idle_mib: round1((peak - base) / 1048576) });
      await b.goto('about:blank');
      await new Promise((res) => setTimeout(res, 500));
    }
  } catch (e) {
    while (results.length < rows.length) results.push({ error: e.message });
  } finally {
    await b?.close();
    server.close();
  }
  return results;
}

const round1 = (x) => Number(x.toFixed(1));
const round3 = (x) => Number(x.toFixed(3));

// ---- where a JIT hash's time goes (in this process) -------------------------------------

// RandomX light mode computes one dataset item per program iteration: 8 programs of 2048
// iterations a hash (RandomX's RANDOMX_PROGRAM_COUNT, RANDOMX_PROGRAM_ITERATIONS).
const ITEMS_PER_HASH = 8 * 2048;
// (RANDOMX_DATASET_BASE_SIZE + RANDOMX_DATASET_EXTRA_SIZE) / 64
const DATASET_ITEMS = (2147483648 + 33554368) / 64;

async function datasetShare() {
  const { loadInstance, benchSeedAndBlob } = await import('./wasm-instance.mjs');
  const { inst, jit, why } = await loadInstance({ jit: true });
  if (!jit) return { error: `no JIT path: ${why}` };
  const { seed, blob } = benchSeedAndBlob();
  inst.setSeed(seed);
  const view = new DataView(blob.buffer);
  for (let n = 0; n < 2; n++) { view.setUint32(39, 0xfff0 + n, true); inst.hash(blob); } // compile, warm up
  const j0 = inst.jitStats;
  let t = performance.now();
  for (let n = 0; n < datasetHashes; n++) { view.setUint32(39, n, true); inst.hash(blob); }
  const msPerHash = (performance.now() - t) / datasetHashes;
  const j1 = inst.jitStats;
  // Translating and compiling the hash's 8 programs is part of the hash's time too.
  const compileMsPerHash = (j1.programMs - j0.programMs + j1.programEmitMs - j0.programEmitMs) / datasetHashes;
  const item = inst.M.cmJitStats && inst.M.cmJitStats.item;
  if (typeof item !== 'function') return { error: 'the SuperscalarHash module exports no item()' };
  const scratch = inst.M._malloc(64);
  // Random item numbers drawn beforehand, so the timed loop holds only the calls.
  const numbers = new Uint32Array(datasetItems);
  let x = 0x9e3779b9;
  for (let n = 0; n < numbers.length; n++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; numbers[n] = (x >>> 0) % DATASET_ITEMS; }
  for (let n = 0; n < 1000; n++) item(numbers[n], scratch);
  t = performance.now();
  for (let n = 0; n < numbers.length; n++) item(numbers[n], scratch);
  const usPerItem = (performance.now() - t) * 1000 / numbers.length;
  inst.M._free(scratch);
  const share = (ITEMS_PER_HASH * usPerItem / 1000) / msPerHash;
  const compileShare = compileMsPerHash / msPerHash;
  return {
    hashes: datasetHashes, ms_per_hash: round3(msPerHash), items: datasetItems, us_per_item: round3(usPerItem),
    items_per_hash: ITEMS_PER_HASH, dataset_share: round3(share), compile_ms_per_hash: round3(compileMsPerHash),
    compile_share: round3(compileShare), program_share: round3(1 - share - compileShare),
  };
}

// ---- main -----------------------------------------------------------------------------

const load = () => os.loadavg()[0].toFixed(2);
const report = { date: new Date().toISOString(), cpu: os.cpus()[0].model, cores: os.cpus().length, seconds, short, load_before: load() };
console.error(`wasm-bench: ${seconds} s per 1-thread row, ${short} s per 2-thread row, ${rounds} round${rounds > 1 ? 's' : ''}; load average ${report.load_before}`);

// The 1-thread rows, in the order they run in each round.
const ROWS = [
  { key: 'native_light_1t', label: 'native light', run: () => native() },
  { key: 'node_light_1t_jit', label: 'wasm node, JIT', run: () => nodeRow(1, false, seconds, true) },
  { key: 'node_light_1t_jit_v8_tier_up', label: 'wasm node, JIT, V8 tier-up', run: () => nodeRow(1, false, seconds, true, { CM_V8_TIER_UP: '1' }) },
  { key: 'node_light_1t_interpreter', label: 'wasm node, interpreter', run: () => nodeRow(1, false, seconds, false) },
  { key: 'chromium_light_1t_jit', label: 'wasm chromium, JIT', chromium: { threads: 1, shared: false, seconds, jit: true } },
  { key: 'chromium_light_1t_interpreter', label: 'wasm chromium, interpreter', chromium: { threads: 1, shared: false, seconds, jit: false } },
  { key: 'firefox_light_1t_jit', label: 'wasm firefox, JIT', browser: 'firefox', spec: { threads: 1, shared: false, seconds, jit: true } },
  { key: 'firefox_light_1t_interpreter', label: 'wasm firefox, interpreter', browser: 'firefox', spec: { threads: 1, shared: false, seconds, jit: false } },
  { key: 'webkit_light_1t_jit', label: 'wasm webkit, JIT', browser: 'webkit', spec: { threads: 1, shared: false, seconds, jit: true } },
  { key: 'webkit_light_1t_interpreter', label: 'wasm webkit, interpreter', browser: 'webkit', spec: { threads: 1, shared: false, seconds, jit: false } },
].map((r) => (r.chromium ? { ...r, browser: 'chromium', spec: r.chromium } : r)).filter((r) => !(r.browser && skipBrowser[r.browser]));
const runs = Object.fromEntries(ROWS.map((r) => [r.key, []]));
const BROWSERS = ['chromium', 'firefox', 'webkit'];
const browser2t = {};
for (let round = 0; round < rounds; round++) {
  for (const row of ROWS.filter((r) => r.run)) {
    const out = await row.run().catch((e) => ({ error: e.message }));
    runs[row.key].push(out);
    console.error(`round ${round + 1} ${row.label} 1t:`, JSON.stringify(out));
  }
  for (const name of BROWSERS) {
    const brows = ROWS.filter((r) => r.browser === name);
    if (!brows.length) continue;
    // One browser a round: the 1-thread rows, then (first round) the 2-thread ones.
    const rows = brows.map((r) => r.spec);
    if (round === 0) rows.push({ threads: 2, shared: false, seconds: short }, { threads: 2, shared: true, seconds: short });
    const out = await (name === 'chromium' ? chromiumRows(rows) : engineRows(name, rows)).catch((e) => rows.map(() => ({ error: e.message })));
    brows.forEach((r, n) => {
      runs[r.key].push(out[n]);
      console.error(`round ${round + 1} ${r.label} 1t:`, JSON.stringify(out[n]));
    });
    if (round === 0) {
      browser2t[name] = out.slice(brows.length);
      console.error(`${name} 2t rows:`, JSON.stringify(browser2t[name]));
    }
  }
}
// The run with the median hash rate stands for the row.
const median = (list) => {
  const ok = list.filter((x) => typeof x.hashrate === 'number').sort((a, b) => a.hashrate - b.hashrate);
  return ok.length ? { ...ok[(ok.length - 1) >> 1], hashrates: ok.map((x) => x.hashrate) } : list[0];
};
report.rounds = rounds;
for (const row of ROWS) report[row.key] = median(runs[row.key]);
for (const [name, two] of Object.entries(browser2t)) [report[`${name}_light_2t_unshared`], report[`${name}_light_2t_shared`]] = two;
report.node_light_2t_unshared = await nodeRow(2, false, short).catch((e) => ({ error: e.message }));
console.error('node 2t unshared:', JSON.stringify(report.node_light_2t_unshared));
report.node_light_2t_shared = await nodeRow(2, true, short).catch((e) => ({ error: e.message }));
console.error('node 2t shared:', JSON.stringify(report.node_light_2t_shared));
report.jit_time_split = await datasetShare().catch((e) => ({ error: e.message }));
console.error('JIT time split:', JSON.stringify(report.jit_time_split));
report.load_after = load();

// Ratios to native: of the median rows, and round by round (the same round's native run).
const nat = report.native_light_1t.hashrate;
report.ratios = {};
for (const row of ROWS.slice(1)) {
  const r = report[row.key];
  report.ratios[row.key] = {
    median: nat && r && typeof r.hashrate === 'number' ? round3(r.hashrate / nat) : null,
    per_round: runs[row.key].map((x, n) => (typeof x.hashrate === 'number' && typeof runs.native_light_1t[n].hashrate === 'number'
      ? round3(x.hashrate / runs.native_light_1t[n].hashrate) : null)),
  };
}


const cell = (r, k, d = 2) => (r && typeof r[k] === 'number' ? r[k].toFixed(d) : r && r.error && !/no SharedArrayBuffer/.test(r.error) ? 'error' : '-');
const engineOf = (key, r) => (key.startsWith('native') ? 'native JIT' : r && r.engine ? r.engine
  : r && r.error ? (/no SharedArrayBuffer/.test(r.error) ? 'no SharedArrayBuffer' : 'error') : '-');
const table = (lines) => {
  const w = lines[0].map((_, i) => Math.max(...lines.map((l) => String(l[i]).length)));
  for (const l of lines) console.log(l.map((c, i) => (i ? String(c).padStart(w[i]) : String(c).padEnd(w[i]))).join('  '));
  console.log('');
};
const mem = (r) => (r && r.peak_above_idle_mib !== undefined ? cell(r, 'peak_above_idle_mib', 0) : cell(r, 'peak_rss_mib', 0));
// CPU the row used, in cores: every thread of the process (node), of all the browser's
// processes (Chromium), or `consentminer bench`'s own (native); beside H/s it shows what
// a hash costs, V8's background compilations included.
const cores = (r) => {
  if (!r || r.error) return '-';
  if (typeof r.process_cpu_cores === 'number') return r.process_cpu_cores.toFixed(2);
  if (typeof r.browser_cpu_cores === 'number') return r.browser_cpu_cores.toFixed(2);
  if (typeof r.cpu_seconds === 'number' && r.seconds > 0) return (r.cpu_seconds / r.seconds).toFixed(2);
  return '-';
};
// H/CPU s: hashes per CPU second over the hashing interval (native: its own figure; a
// browser: all its processes, from /proc); x native CPU: that over native's, which a
// loaded machine disturbs far less than H/s.
const natCpu = report.native_light_1t && report.native_light_1t.hashes_per_cpu_second;
const perCpu = (r) => (r && typeof r.hashes_per_cpu_second === 'number' ? r.hashes_per_cpu_second.toFixed(2) : '-');
const perCpuRatio = (r) => (r && typeof r.hashes_per_cpu_second === 'number' && natCpu ? (r.hashes_per_cpu_second / natCpu).toFixed(3) : '-');
const t1 = [['light mode, 1 thread', 'engine', 'H/s', 'runs H/s', 'x native', 'rounds x native', 'H/CPU s', 'x native CPU', 'CPU cores', 'init s', 'peak MiB', 'wasm MiB']];
for (const row of ROWS) {
  const r = report[row.key];
  if (row.key !== 'native_light_1t') report.ratios[row.key].per_cpu_second = Number(perCpuRatio(r)) || null;
  t1.push([row.label, engineOf(row.key, r), cell(r, 'hashrate'), r && r.hashrates ? r.hashrates.join(' ') : '-',
    row.key === 'native_light_1t' ? '1' : report.ratios[row.key].median ?? '-',
    row.key === 'native_light_1t' ? '-' : report.ratios[row.key].per_round.map((x) => x ?? '-').join(' '), perCpu(r),
    row.key === 'native_light_1t' ? '1' : perCpuRatio(r), cores(r), cell(r, 'init_seconds'),
    row.key === 'native_light_1t' ? '-' : mem(r), cell(r, 'wasm_memory_mib', 0)]);
}
table(t1);
const jitRows = ROWS.filter((r) => r.key.includes('_jit'));
const t2 = [['JIT, per program', 'programs', 'translate ms', 'compile+inst ms', 'total ms', 'bytes', 'superscalar ms', 'compile share']];
for (const row of jitRows) {
  const j = report[row.key] && report[row.key].jit;
  if (!j) { t2.push([row.label, report[row.key] && report[row.key].engine_reason ? `none (${report[row.key].engine_reason})` : 'none', '-', '-', '-', '-', '-', '-']); continue; }
  t2.push([row.label, j.programs, j.emit_ms_per_program.toFixed(3), j.compile_ms_per_program.toFixed(3),
    (j.emit_ms_per_program + j.compile_ms_per_program).toFixed(3), j.bytes_per_program,
    `${(j.superscalar_emit_ms + j.superscalar_compile_ms).toFixed(1)} (${j.superscalar_emit_ms.toFixed(1)}+${j.superscalar_compile_ms.toFixed(1)})`,
    `${(100 * j.compile_share).toFixed(2)}%`]);
}
table(t2);
// x 1t: the 2-thread H/s over the same runtime's 1-thread JIT row (2.0 is perfect scaling).
const t3 = [['2 threads', 'engine', 'H/s', 'x 1t', 'x native', 'H/CPU s', 'CPU cores', 'init s', 'peak MiB', 'wasm MiB']];
const twoT = [['wasm node, unshared', report.node_light_2t_unshared, 'node'], ['wasm node, shared', report.node_light_2t_shared, 'node']];
for (const name of Object.keys(browser2t)) {
  twoT.push([`wasm ${name}, unshared`, report[`${name}_light_2t_unshared`], name], [`wasm ${name}, shared`, report[`${name}_light_2t_shared`], name]);
}
const ratio = (a, b) => (a && b && typeof a.hashrate === 'number' && typeof b.hashrate === 'number' && b.hashrate > 0 ? (a.hashrate / b.hashrate).toFixed(2) : '-');
for (const [label, r, who] of twoT) {
  report.ratios[`${who}_${label.endsWith('unshared') ? 'unshared' : 'shared'}_2t`] = { x_1t: Number(ratio(r, report[`${who}_light_1t_jit`])) || null, x_native: Number(ratio(r, report.native_light_1t)) || null };
  t3.push([label, engineOf('', r), cell(r, 'hashrate'), ratio(r, report[`${who}_light_1t_jit`]), ratio(r, report.native_light_1t), perCpu(r), cores(r), cell(r, 'init_seconds'), mem(r), cell(r, 'wasm_memory_mib', 0)]);
}
table(t3);
const s = report.jit_time_split;
console.log(s && !s.error
  ? `JIT hash in node (in-process): ${s.ms_per_hash.toFixed(1)} ms a hash (${s.hashes} hashes); item() ${s.us_per_item.toFixed(2)} us (${s.items} random items); ` +
    `dataset items ${(100 * s.dataset_share).toFixed(1)}% of a hash (${s.items_per_hash} x ${s.us_per_item.toFixed(2)} us), ` +
    `compiling its 8 programs ${(100 * s.compile_share).toFixed(1)}% (${s.compile_ms_per_hash.toFixed(1)} ms), program execution and the rest ${(100 * s.program_share).toFixed(1)}%`
  : `JIT hash in node (in-process): ${s ? s.error : '-'}`);
fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, JSON.stringify(report, null, 1) + '\n');
const notes = Object.keys(browser2t).map((n) => [n, report[`${n}_light_1t_jit`]]).filter(([, r]) => r && r.browser).map(([n, r]) => `${n}: ${r.browser}`);
if (notes.length) console.log(`browsers: ${notes.join('; ')}`);
console.log(`load average ${report.load_before} before, ${report.load_after} after; a browser's peak MiB is above the idle page; ` +
  `x native: the median run's H/s / native's median (the lower middle run for an even number of rounds); rounds x native: ` +
  `each round's run / the same round's native; results in ${outFile.startsWith(root + path.sep) ? path.relative(root, outFile) : outFile}`);

// The comment at the top of this file, up to the first line that is not a comment.
function helpText() {
  const lines = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
  const n = lines.findIndex((l) => !l.startsWith('//'));
  return lines.slice(0, n).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n';
}
