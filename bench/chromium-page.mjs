// consentminer — headless Chromium with the wasm bench page, for bench/wasm-bench.mjs and
// bench/wasm-soak.mjs --chromium, and the /proc readings they take of its processes.
//
// openBenchBrowser({ jsFlags }) starts an HTTP server on 127.0.0.1 (a free port) serving
// /wasm/ and /build/wasm/ of the repository and a page whose window.cmBench(options) is
// runBench (wasm/js/bench.mjs), with the cross-origin isolation headers that let workers
// share memory; launches Debian's Chromium (or $CHROMIUM) headless with its own profile
// (playwright-core); and resolves with { context, browserPid, url, close }.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TYPES = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json' };
const PAGE = `<!doctype html><meta charset="utf-8"><title>consentminer wasm bench</title>
<script type="module">
import { runBench } from '/wasm/js/bench.mjs';
window.cmBench = (o) => runBench(o).catch((e) => ({ error: (e.reason || 'error') + ': ' + e.message }));
window.cmReady = true;
</script>`;

// The bench page and the repository's wasm files, for any engine (bench/wasm-bench.mjs
// drives Firefox and WebKit through tests/browser/lib/engines.mjs).
export function serveBenchPage() {
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

export async function openBenchBrowser({ jsFlags = '' } = {}) {
  const { chromium } = await import('playwright-core');
  const server = await serveBenchPage();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-wasm-bench-'));
  const cleanup = () => { server.close(); fs.rmSync(profile, { recursive: true, force: true }); };
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        ...(jsFlags ? [`--js-flags=${jsFlags}`] : [])],
    });
    const browserPid = findBrowser(profile);
    return {
      context, browserPid, url: `http://127.0.0.1:${server.address().port}/bench.html`,
      close: async () => { await context.close().catch(() => {}); cleanup(); },
    };
  } catch (e) {
    if (context) await context.close().catch(() => {});
    cleanup();
    throw e;
  }
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

// pid and all its descendants.
export function processTree(pid) {
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

// CPU seconds (user + system) of these processes so far, every thread of each, from
// /proc/PID/stat (clock ticks of 1/100 s): V8's background compiler threads included.
export function cpuOf(pids) {
  let ticks = 0;
  for (const p of pids) {
    try {
      const st = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* gone */ }
  }
  return ticks / 100;
}

// The renderer processes among pids (--type=renderer on the command line, which Chromium
// rewrites into one string): where pages' scripts, workers and wasm live.
export function renderers(pids) {
  return pids.filter((p) => {
    try {
      return /(^|[\s\0])--type=renderer(\s|\0|$)/.test(fs.readFileSync(`/proc/${p}/cmdline`, 'utf8'));
    } catch { return false; /* gone */ }
  });
}

// Bytes resident (VmRSS) of these processes together.
export function rssOf(pids) {
  let kb = 0;
  for (const p of pids) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch { /* gone */ }
  }
  return kb * 1024;
}
