#!/usr/bin/env node
// consentminer — where the wasm build stands against native, in one invocation.
//
//   node bench/wasm-bench.mjs [--seconds S] [--short S] [--rounds R] [--skip-chromium] [--out FILE]
//
// Rows, each the same measurement as `consentminer bench` (initialise, then count hashes
// for S seconds; default 20):
//   native  light, 1 thread     build/native/consentminer bench --mode light --threads 1
//   node    light, 1 thread     node wasm/cli.mjs bench (one worker, its own cache)
//   chromium light, 1 thread   the runtime in a page of Debian's headless Chromium
//                              (playwright-core), served from 127.0.0.1 with COOP/COEP
// then the wasm/native ratios, and, for 2 threads, cache initialisation time and peak
// memory with one cache per worker (unshared) and one shared cache (SharedArrayBuffer),
// in node and in Chromium (these rows hash for --short seconds, default 8).
// Peak memory: node, the process's RSS (every thread); Chromium, the RSS of all the
// browser's processes above the idle page's, sampled from /proc every 100 ms.
// The machine is shared and noisy: the three 1-thread rows run in turn R times (default
// 1) and the medians are reported; ratios matter more than absolute numbers. Writes the
// table and bench/results/wasm-bench.json.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
if (args.includes('-h') || args.includes('--help')) {
  process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 21).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
  process.exit(0);
}
const seconds = Number(opt('--seconds', 20));
const short = Number(opt('--short', 8));
const rounds = Number(opt('--rounds', 1));
const skipChromium = args.includes('--skip-chromium');
const outFile = opt('--out', path.join(root, 'bench', 'results', 'wasm-bench.json'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

function run(cmd, argv) {
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { cwd: root, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
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

async function nodeRow(threads, shared, secs) {
  return lastJson(await run(process.execPath, [path.join(root, 'wasm', 'cli.mjs'), 'bench', '--seconds', String(secs),
    '--threads', String(threads), shared ? '--shared' : '--no-shared', '--json']));
}

// ---- Chromium --------------------------------------------------------------------------

const TYPES = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json' };
const PAGE = `<!doctype html><meta charset="utf-8"><title>consentminer wasm bench</title>
<script type="module">
import { runBench } from '/wasm/js/bench.mjs';
window.cmBench = (o) => runBench(o).catch((e) => ({ error: (e.reason || 'error') + ': ' + e.message }));
window.cmReady = true;
</script>`;

// Serves /wasm/ and /build/wasm/ of the repository, and the bench page, with the
// cross-origin isolation headers that let workers share memory.
function serve() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store',
    };
    if (url.pathname === '/' || url.pathname === '/bench.html') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/html' });
      res.end(PAGE);
      return;
    }
    const rel = path.normalize(decodeURIComponent(url.pathname)).replace(/^\/+/, '');
    const file = path.join(root, rel);
    if (!(rel.startsWith('wasm/') || rel.startsWith('build/wasm/')) || !file.startsWith(root + path.sep) ||
        !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function processTree(pid) {
  const kids = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(d));
    } catch { /* gone */ }
  }
  const out = [];
  const walk = (p) => { out.push(p); for (const k of kids.get(p) || []) walk(k); };
  walk(pid);
  return out;
}

function rssOf(pids) {
  let kb = 0;
  for (const p of pids) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch { /* gone */ }
  }
  return kb * 1024;
}

async function chromiumRows(rows) {
  const { chromium } = await import('playwright-core');
  const server = await serve();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-wasm-bench-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const results = [];
  try {
    const browserPid = findBrowser(profile);
    for (const r of rows) {
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${server.address().port}/bench.html`);
      await page.waitForFunction(() => window.cmReady === true);
      const isolated = await page.evaluate(() => globalThis.crossOriginIsolated);
      await new Promise((res) => setTimeout(res, 500));
      const base = rssOf(processTree(browserPid));
      let peak = base;
      const timer = setInterval(() => { peak = Math.max(peak, rssOf(processTree(browserPid))); }, 100);
      const out = await page.evaluate((o) => window.cmBench(o), { seconds: r.seconds, threads: r.threads, shared: r.shared ? 'always' : 'never' });
      clearInterval(timer);
      await page.close();
      results.push({ ...out, cross_origin_isolated: isolated, peak_rss_mib: round1(peak / 1048576), peak_above_idle_mib: round1((peak - base) / 1048576) });
      await new Promise((res) => setTimeout(res, 500));
    }
  } finally {
    await context.close().catch(() => {});
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  return results;
}

function findBrowser(profile) {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const a = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (a.includes(`--user-data-dir=${profile}`) && !a.some((x) => x.startsWith('--type='))) return Number(d);
    } catch { /* gone */ }
  }
  throw new Error('the Chromium browser process was not found');
}

const round1 = (x) => Number(x.toFixed(1));
const round3 = (x) => Number(x.toFixed(3));

// ---- main -----------------------------------------------------------------------------

const load = () => os.loadavg()[0].toFixed(2);
const report = { date: new Date().toISOString(), cpu: os.cpus()[0].model, cores: os.cpus().length, seconds, short, load_before: load() };
console.error(`wasm-bench: ${seconds} s per 1-thread row, ${short} s per 2-thread row; load average ${report.load_before}`);

const runs = { native: [], node: [], chromium: [] };
let chromium2t = null;
for (let r = 0; r < rounds; r++) {
  runs.native.push(await native().catch((e) => ({ error: e.message })));
  console.error(`round ${r + 1} native light 1t:`, JSON.stringify(runs.native[r]));
  runs.node.push(await nodeRow(1, false, seconds).catch((e) => ({ error: e.message })));
  console.error(`round ${r + 1} node light 1t:`, JSON.stringify(runs.node[r]));
  if (!skipChromium) {
    const rows = [{ threads: 1, shared: false, seconds }];
    if (r === 0) rows.push({ threads: 2, shared: false, seconds: short }, { threads: 2, shared: true, seconds: short });
    const out = await chromiumRows(rows).catch((e) => rows.map(() => ({ error: e.message })));
    runs.chromium.push(out[0]);
    if (r === 0) chromium2t = out.slice(1);
    console.error(`round ${r + 1} chromium rows:`, JSON.stringify(out));
  }
}
// The run with the median hash rate stands for the row.
const median = (list) => {
  const ok = list.filter((x) => typeof x.hashrate === 'number').sort((a, b) => a.hashrate - b.hashrate);
  return ok.length ? { ...ok[(ok.length - 1) >> 1], hashrates: ok.map((x) => x.hashrate) } : list[0];
};
report.rounds = rounds;
report.native_light_1t = median(runs.native);
report.node_light_1t = median(runs.node);
if (!skipChromium) {
  report.chromium_light_1t = median(runs.chromium);
  [report.chromium_light_2t_unshared, report.chromium_light_2t_shared] = chromium2t;
}
report.node_light_2t_unshared = await nodeRow(2, false, short).catch((e) => ({ error: e.message }));
report.node_light_2t_shared = await nodeRow(2, true, short).catch((e) => ({ error: e.message }));
report.load_after = load();

const nat = report.native_light_1t.hashrate;
report.ratio_node_native = nat ? round3(report.node_light_1t.hashrate / nat) : null;
report.ratio_chromium_native = nat && report.chromium_light_1t && report.chromium_light_1t.hashrate !== undefined
  ? round3(report.chromium_light_1t.hashrate / nat) : null;

fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, JSON.stringify(report, null, 1) + '\n');

const cell = (r, k, d = 2) => (r && typeof r[k] === 'number' ? r[k].toFixed(d) : r && r.error ? 'error' : '-');
const lines = [
  ['row', 'H/s', 'init s', 'peak MiB', 'wasm MiB'],
  ['native light 1 thread', cell(report.native_light_1t, 'hashrate'), cell(report.native_light_1t, 'init_seconds'), '-', '-'],
  ['wasm node 1 thread', cell(report.node_light_1t, 'hashrate'), cell(report.node_light_1t, 'init_seconds'), cell(report.node_light_1t, 'peak_rss_mib', 0), cell(report.node_light_1t, 'wasm_memory_mib', 0)],
];
if (!skipChromium) {
  lines.push(['wasm chromium 1 thread', cell(report.chromium_light_1t, 'hashrate'), cell(report.chromium_light_1t, 'init_seconds'), cell(report.chromium_light_1t, 'peak_above_idle_mib', 0), cell(report.chromium_light_1t, 'wasm_memory_mib', 0)]);
}
lines.push(['wasm node 2 threads, unshared', cell(report.node_light_2t_unshared, 'hashrate'), cell(report.node_light_2t_unshared, 'init_seconds'), cell(report.node_light_2t_unshared, 'peak_rss_mib', 0), cell(report.node_light_2t_unshared, 'wasm_memory_mib', 0)]);
lines.push(['wasm node 2 threads, shared', cell(report.node_light_2t_shared, 'hashrate'), cell(report.node_light_2t_shared, 'init_seconds'), cell(report.node_light_2t_shared, 'peak_rss_mib', 0), cell(report.node_light_2t_shared, 'wasm_memory_mib', 0)]);
if (!skipChromium) {
  lines.push(['wasm chromium 2 threads, unshared', cell(report.chromium_light_2t_unshared, 'hashrate'), cell(report.chromium_light_2t_unshared, 'init_seconds'), cell(report.chromium_light_2t_unshared, 'peak_above_idle_mib', 0), cell(report.chromium_light_2t_unshared, 'wasm_memory_mib', 0)]);
  lines.push(['wasm chromium 2 threads, shared', cell(report.chromium_light_2t_shared, 'hashrate'), cell(report.chromium_light_2t_shared, 'init_seconds'), cell(report.chromium_light_2t_shared, 'peak_above_idle_mib', 0), cell(report.chromium_light_2t_shared, 'wasm_memory_mib', 0)]);
}
const w = lines[0].map((_, i) => Math.max(...lines.map((l) => String(l[i]).length)));
for (const l of lines) console.log(l.map((c, i) => (i ? String(c).padStart(w[i]) : String(c).padEnd(w[i]))).join('  '));
console.log(`ratio wasm/native (light, 1 thread): node ${report.ratio_node_native ?? '-'}, chromium ${report.ratio_chromium_native ?? '-'}`);
console.log(`load average ${report.load_before} before, ${report.load_after} after; chromium peak MiB is above the idle page; results in ${path.relative(root, outFile)}`);
