// consentminer engine tests — the page every engine loads, and a static server for it on
// 127.0.0.1 (a free port) with the cross-origin isolation headers of the gateway, so
// the shared-memory build runs wherever the engine offers SharedArrayBuffer.
// window.cmVectors(vectors, jit) hashes vectors in a worker (fixtures/vectors-worker.mjs);
// window.cmMine({ threads, shared, jit }) starts the runtime's miner on the bench job
// (no gateway) and resolves once every worker hashes (until: 'mining') or once the
// workers are building their caches (until: 'initializing'); window.cmStop() stops it as the
// element does and returns when, on the epoch clock, stop() was called.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { COLLECT_ERRORS } from '../browser/lib/engines.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TYPES = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm' };
const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store',
};
const SERVED = /^(wasm|build\/wasm|tests\/engines\/fixtures)\//;

const PAGE = `<!doctype html><meta charset="utf-8"><title>consentminer engine test</title>
<link rel="icon" href="data:,">
<script>${COLLECT_ERRORS}</script>
<script type="module">
import { benchJob, createMiner } from '/wasm/js/miner.mjs';
import { grantForRun } from '/wasm/js/consent.mjs';
window.cmVectors = (vectors, jit) => new Promise((resolve) => {
  const w = new Worker('/tests/engines/fixtures/vectors-worker.mjs', { type: 'module' });
  w.onmessage = (e) => { w.terminate(); resolve(e.data); };
  w.onerror = (e) => { w.terminate(); resolve({ error: 'worker failed: ' + e.message }); };
  w.postMessage({ glueUrl: '/build/wasm/consentminer.mjs', wasmUrl: new URL('/build/wasm/consentminer.wasm', location.href).href, jit, vectors });
});
window.cmMine = async ({ threads, shared, jit, until = 'mining' }) => {
  const m = window.cmMiner = createMiner({ job: benchJob(), shared, jit, statsIntervalMs: 250 });
  const errors = [];
  m.addEventListener('error', (e) => errors.push(e.detail.reason + ': ' + e.detail.message));
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(\`the miner did not reach '\${until}' within 120 s (state \${m.state}, info \${JSON.stringify(m.info())})\`));
      m.stop();
    }, 120000);
  });
  await Promise.race([late, (async () => {
    await m.start(grantForRun({ threads, throttle: 100 }));
    if (until === 'mining') await m.ready();
  })()]).finally(() => clearTimeout(timer));
  return { ...m.info(), errors, isolated: crossOriginIsolated, sab: typeof SharedArrayBuffer === 'function' };
};
window.cmStop = () => {
  const at = performance.timeOrigin + performance.now();
  window.cmMiner.stop();
  return at;
};
window.cmReady = true;
</script>`;

export function serve() {
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    if (p === '/') {
      res.writeHead(200, { ...HEADERS, 'Content-Type': 'text/html; charset=utf-8' });
      res.end(PAGE);
      return;
    }
    const rel = path.normalize(decodeURIComponent(p)).replace(/^\/+/, '');
    const file = path.join(ROOT, rel);
    if (!SERVED.test(rel) || !file.startsWith(ROOT + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, HEADERS);
      res.end();
      return;
    }
    res.writeHead(200, { ...HEADERS, 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
