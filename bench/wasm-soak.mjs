#!/usr/bin/env node
// consentminer — does memory stay flat while the wasm build hashes for a long time?
//
//   node bench/wasm-soak.mjs [--minutes M] [--no-jit] [--sample-seconds S] [--reseed-minutes R]
//                            [--no-gc] [--limit PCT] [--out FILE] [--chromium]
//
// Hashes continuously in this process (the JIT path unless --no-jit): one instance of the
// wasm build, the bench job's seed, inputs that change every hash (the nonce), and a turn
// of the event loop after each hash so the garbage collector can free the program modules
// the JIT drops. Every S seconds (default: M*60/60, 1..30) it samples and prints the
// process's RSS as it is, then forces a full garbage collection and samples RSS again
// (the memory still held), with the wasm memory's size and V8's heap. Why both: with the
// JIT, RSS swings between V8's own collections (8 new modules a hash freed in bulk;
// measured 2026-11-26: 40-80 MiB while V8 also optimized every program module, ~25 MiB
// since node raises its tier-up budget, wasm/src/jit/jit-lib.js), which would swamp a
// 5% test. --no-gc: no forced
// collections, the verdict on RSS as it is. M defaults to 60; CI runs `--minutes 2`.
// --reseed-minutes R also switches between two seeds every R minutes (a new cache and
// SuperscalarHash module each time).
// Verdict: samples in the warm-up (the first 10% of the run, at least 1 minute; for runs
// too short for that, the first 2 samples) are left out; of the rest, the median of the
// last quarter is compared with the median of the first quarter (the baseline). It fails
// (exit 1) when RSS after collection (or as it is, with --no-gc), or the wasm memory,
// grows by more than PCT % (default 5); the post-warm-up maxima (also of RSS as it is)
// are reported beside it. Writes bench/results/wasm-soak-<M>m.json
// (wasm-soak-<M>m-interpreter.json with --no-jit).
// --chromium: the same in headless Chromium (bench/chromium-page.mjs): runBench hashes the
// bench job on one worker for M minutes; the samples are the RSS of the page's renderer
// process (the largest: its worker holds the wasm memory; judged) and of all the browser's
// processes (reported; shared pages counted once per process), before and after a
// collection forced in the page and its workers (Chromium started with
// --js-flags=--expose-gc, which changes nothing else); the wasm memory is not sampled (it
// is inside the renderer's RSS), nor the hashes until the end; --reseed-minutes does not
// apply. Writes wasm-soak-<M>m-chromium[-interpreter].json. A page cannot set V8's
// flags as node does (wasm/src/jit/jit-lib.js): this is how the visitor's browser runs it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

import { openBenchBrowser, processTree, renderers, rssOf } from './chromium-page.mjs';
import { benchSeedAndBlob, loadInstance, root } from './wasm-instance.mjs';

const args = process.argv.slice(2);
if (args.includes('-h') || args.includes('--help')) {
  process.stdout.write(helpText());
  process.exit(0);
}
const known = new Set(['--minutes', '--sample-seconds', '--reseed-minutes', '--limit', '--out', '--no-jit', '--no-gc', '--chromium']);
const flagArgs = new Set(['--no-jit', '--no-gc', '--chromium']);
for (let i = 0; i < args.length; i++) {
  if (!known.has(args[i])) { console.error(`wasm-soak: unknown option '${args[i]}' (see --help)`); process.exit(2); }
  if (!flagArgs.has(args[i])) i++;
}
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const num = (name, dflt, min) => {
  const v = Number(opt(name, dflt));
  if (!(v >= min)) { console.error(`wasm-soak: ${name} is '${opt(name, dflt)}'; expected a number >= ${min}`); process.exit(2); }
  return v;
};
const minutes = num('--minutes', 60, 0.05);
const sampleSeconds = num('--sample-seconds', Math.min(30, Math.max(1, minutes)), 0.1);
const reseedMinutes = num('--reseed-minutes', 0, 0);
const limitPct = num('--limit', 5, 0);
const jitWanted = !args.includes('--no-jit');
const forceGc = !args.includes('--no-gc');
const inChromium = args.includes('--chromium');
if (inChromium && reseedMinutes > 0) { console.error('wasm-soak: --reseed-minutes does not apply with --chromium'); process.exit(2); }
let gc = null;
if (forceGc && !inChromium) {
  v8.setFlagsFromString('--expose-gc');
  gc = vm.runInNewContext('gc');
}
const tag = String(minutes).replace(/[^0-9.]/g, '');
const outFile = opt('--out', path.join(root, 'bench', 'results', `wasm-soak-${tag}m${inChromium ? '-chromium' : ''}${jitWanted ? '' : '-interpreter'}.json`));

const mib = (b) => Number((b / 1048576).toFixed(1));
const f = (x, w) => (x === null ? '-' : x.toFixed(1)).padStart(w);
const samples = [];
let hashes = 0;
let seeds = 1;
let jit;
let why;
let jitStats = null;
let start;
let hashrate = null; // Chromium: runBench's own figure

if (inChromium) await soakChromium();
else await soakNode();

async function soakNode() {
  const loaded = await loadInstance({ jit: jitWanted });
  const { inst } = loaded;
  ({ jit, why } = loaded);
  if (jitWanted && !jit) {
    console.error(`wasm-soak: the JIT path cannot run: ${why} (--no-jit soaks the interpreter)`);
    process.exit(1);
  }
  const { seed, blob } = benchSeedAndBlob();
  const seed2 = seed.map((b) => b ^ 0xff);
  const input = blob.slice();
  const view = new DataView(input.buffer);

  const t0 = Date.now();
  inst.setSeed(seed);
  console.log(`wasm-soak: ${minutes} min, engine ${jit ? 'jit' : 'interpreter'}${why && !jit ? ` (${why})` : ''}, ` +
    `a sample every ${sampleSeconds} s; cache ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  start = Date.now();
  const end = start + minutes * 60000;
  const sample = () => {
    const t = Number(((Date.now() - start) / 1000).toFixed(1));
    const rss = process.memoryUsage.rss();
    if (gc) gc();
    const m = process.memoryUsage();
    const js = inst.jitStats;
    const s = {
      t, hashes, rss_mib: mib(rss), rss_gc_mib: gc ? mib(m.rss) : null, wasm_mib: mib(inst.memoryBytes),
      heap_mib: mib(m.heapUsed), external_mib: mib(m.external), programs: js ? js.programs : 0,
    };
    samples.push(s);
    console.log(`  t ${String(s.t).padStart(7)} s  hashes ${String(hashes).padStart(7)}  rss ${f(s.rss_mib, 7)} MiB` +
      `  after gc ${f(s.rss_gc_mib, 7)} MiB  wasm ${f(s.wasm_mib, 6)} MiB  heap ${f(s.heap_mib, 6)} MiB  external ${f(s.external_mib, 6)} MiB`);
  };
  sample();
  let nextSample = start + sampleSeconds * 1000;
  let nextSeed = reseedMinutes > 0 ? start + reseedMinutes * 60000 : Infinity;
  let nonce = 0;
  const yieldToLoop = () => new Promise((r) => setImmediate(r));
  while (Date.now() < end) {
    view.setUint32(39, nonce++, true); // the nonce field of a Monero hashing blob
    inst.hash(input);
    hashes++;
    await yieldToLoop();
    const now = Date.now();
    if (now >= nextSeed) {
      inst.setSeed(seeds++ % 2 ? seed2 : seed);
      nextSeed += reseedMinutes * 60000;
    }
    if (now >= nextSample) {
      sample();
      nextSample += sampleSeconds * 1000;
    }
  }
  if (Date.now() - start - samples[samples.length - 1].t * 1000 > 1000) sample();
  jitStats = inst.jitStats;
}

async function soakChromium() {
  const browser = await openBenchBrowser({ jsFlags: forceGc ? '--expose-gc' : '' });
  let failure = null;
  try {
    const page = await browser.context.newPage();
    await page.goto(browser.url);
    await page.waitForFunction(() => window.cmReady === true);
    const tree = () => processTree(browser.browserPid);
    const pageRss = (pids) => Math.max(0, ...renderers(pids).map((p) => rssOf([p]))); // the largest renderer
    const collect = async () => {
      const run = () => { if (typeof gc === 'function') gc(); }; // eslint-disable-line no-undef
      await Promise.all([page, ...page.workers()].map((ctx) => ctx.evaluate(run).catch(() => {})));
      await new Promise((r) => setTimeout(r, 300));
    };
    const bench = page.evaluate((o) => window.cmBench(o),
      { seconds: minutes * 60, threads: 1, shared: 'never', jit: jitWanted ? 'auto' : 'never' });
    let result = null;
    bench.then((r) => { result = r; }, (e) => { result = { error: e.message }; });
    // The first sample once the hashing worker is there (it builds the cache first, and
    // the warm-up leaves the first minutes out anyway).
    while (!result && page.workers().length === 0) await new Promise((r) => setTimeout(r, 100));
    console.log(`wasm-soak: ${minutes} min in Chromium, ${jitWanted ? 'JIT wanted' : 'interpreter'}, a sample every ${sampleSeconds} s`);
    start = Date.now();
    const end = start + minutes * 60000;
    const sample = async () => {
      const t = Number(((Date.now() - start) / 1000).toFixed(1));
      const all = tree();
      const rss = pageRss(all);
      const browserRss = rssOf(all);
      if (forceGc) await collect();
      const after = tree();
      const s = {
        t, hashes: null, rss_mib: mib(rss), rss_gc_mib: forceGc ? mib(pageRss(after)) : null, wasm_mib: null,
        browser_rss_mib: mib(browserRss), browser_rss_gc_mib: forceGc ? mib(rssOf(after)) : null, workers: page.workers().length,
      };
      samples.push(s);
      console.log(`  t ${String(s.t).padStart(7)} s  renderer rss ${f(s.rss_mib, 7)} MiB  after gc ${f(s.rss_gc_mib, 7)} MiB` +
        `  browser rss ${f(s.browser_rss_mib, 7)} MiB  after gc ${f(s.browser_rss_gc_mib, 7)} MiB  workers ${s.workers}`);
    };
    while (!result && Date.now() < end) {
      await sample();
      const next = start + samples.length * sampleSeconds * 1000;
      while (!result && Date.now() < next) await new Promise((r) => setTimeout(r, 200));
    }
    await bench;
    if (result.error) throw new Error(result.error);
    if (jitWanted && result.engine !== 'jit') throw new Error(`the JIT path cannot run: ${result.engine_reason}`);
    jit = result.engine === 'jit';
    why = result.engine_reason;
    hashes = result.hashes;
    hashrate = result.hashrate;
    jitStats = result.jit;
  } catch (e) {
    failure = e;
  } finally {
    await browser.close(); // before exiting, or the browser would outlive this script
  }
  if (failure) {
    console.error(`wasm-soak: Chromium: ${failure.message}`);
    process.exit(1);
  }
}

// ---- verdict ---------------------------------------------------------------------------
const runSeconds = (Date.now() - start) / 1000;
const warmSeconds = Math.max(0.1 * minutes * 60, 60);
let post = samples.filter((s) => s.t >= warmSeconds);
let warmup = `first ${warmSeconds.toFixed(0)} s`;
if (warmSeconds >= runSeconds / 2 || post.length < 4) {
  post = samples.slice(2);
  warmup = 'first 2 samples';
}
const median = (xs) => { const a = [...xs].sort((x, y) => x - y); return a.length ? (a[(a.length - 1) >> 1] + a[a.length >> 1]) / 2 : NaN; };
const q = Math.max(1, Math.floor(post.length / 4));
const growth = (key) => {
  const base = median(post.slice(0, q).map((s) => s[key]));
  const last = median(post.slice(-q).map((s) => s[key]));
  const max = Math.max(...post.map((s) => s[key]));
  return {
    baseline_mib: mib(base * 1048576), last_quarter_mib: mib(last * 1048576), max_mib: max,
    growth_pct: Number((100 * (last - base) / base).toFixed(2)), max_over_baseline_pct: Number((100 * (max - base) / base).toFixed(2)),
  };
};
const enough = post.length >= 2;
const rssKey = forceGc ? 'rss_gc_mib' : 'rss_mib';
const rss = enough ? growth(rssKey) : null;
const rssAsIs = enough ? growth('rss_mib') : null;
const wasm = enough && !inChromium ? growth('wasm_mib') : null;
const browserRss = enough && inChromium ? growth(forceGc ? 'browser_rss_gc_mib' : 'browser_rss_mib') : null;
const ok = enough && rss.growth_pct <= limitPct && (!wasm || wasm.growth_pct <= limitPct);
const report = {
  date: new Date().toISOString(), minutes, where: inChromium ? 'chromium' : 'node', engine: jit ? 'jit' : 'interpreter', engine_reason: why, sample_seconds: sampleSeconds,
  reseed_minutes: reseedMinutes, seeds, hashes, seconds: Number(runSeconds.toFixed(1)),
  hashrate: hashrate ?? Number((hashes / runSeconds).toFixed(2)), warmup, post_warmup_samples: post.length, quarter_samples: q,
  limit_pct: limitPct, forced_gc: forceGc, rss_judged: inChromium ? `renderer ${rssKey}` : rssKey, rss, rss_as_is: rssAsIs, wasm_memory: wasm, browser_rss: browserRss, jit: jitStats, ok, samples,
};
fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, JSON.stringify(report, null, 1) + '\n');
if (!enough) {
  console.log(`wasm-soak: FAIL: only ${post.length} samples after the warm-up (${warmup}); run longer or sample more often`);
  process.exit(1);
}
const shown = outFile.startsWith(root + path.sep) ? path.relative(root, outFile) : outFile;
const line = (name, g) => `${name} ${g.baseline_mib} -> ${g.last_quarter_mib} MiB (${g.growth_pct >= 0 ? '+' : ''}${g.growth_pct}%, max ${g.max_mib} MiB, ${g.max_over_baseline_pct >= 0 ? '+' : ''}${g.max_over_baseline_pct}%)`;
console.log(`wasm-soak: ${ok ? 'ok' : 'FAIL'}: ${inChromium ? 'chromium, ' : ''}${report.engine}, ${hashes} hashes in ${report.seconds} s (${report.hashrate} H/s); ` +
  `after the warm-up (${warmup}), median of the last quarter vs the first (${q} samples each): ` +
  `${line(`${inChromium ? 'renderer ' : ''}${forceGc ? 'RSS after gc' : 'RSS'}`, rss)}; ${wasm ? `${line('wasm memory', wasm)}; ` : ''}limit +${limitPct}%` +
  `${forceGc ? `; RSS as it is (not judged): ${line('', rssAsIs).trim()}` : ''}` +
  `${browserRss ? `; all the browser's processes (not judged): ${line('', browserRss).trim()}` : ''}; ${shown}`);
process.exit(ok ? 0 : 1);

// The comment at the top of this file, up to the first line that is not a comment.
function helpText() {
  const lines = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
  const n = lines.findIndex((l) => !l.startsWith('//'));
  return lines.slice(0, n).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n';
}
