// A tiny static server for the browser tests, on 127.0.0.1 and a random port. It sends
// the same isolation and content-security headers as the gateway (native/src/
// gateway_http.c), so a page that works here also works when the gateway serves it, and it
// logs every request so tests can prove what was, and was not, fetched.
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png',
};

export const SECURITY_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; " +
    "worker-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; " +
    "style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

// Only these trees are served; everything else is 404.
const SERVED = ['/consent-ui/', '/wasm/', '/build/wasm/', '/tests/browser/fixtures/', '/node_modules/axe-core/'];

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The test page: one <consent-miner> with the attributes given as ?a.NAME=VALUE. */
export function pageHtml(attrs, { title = 'Example site' } = {}) {
  const list = Object.entries(attrs).map(([k, v]) => ` ${esc(k)}="${esc(v)}"`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="stylesheet" href="/tests/browser/fixtures/page.css">
<script type="module" src="/consent-ui/consent-miner.js"></script>
</head><body><main>
<h1>${esc(title)}</h1>
<p>An article page that offers mining as an alternative to ads.</p>
<consent-miner${list}></consent-miner>
</main></body></html>`;
}

export async function startServer({ root = ROOT } = {}) {
  const log = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    log.push({ path: url.pathname, at: Date.now() });
    const send = (status, type, body) => {
      res.writeHead(status, { 'Content-Type': type, ...SECURITY_HEADERS });
      res.end(body);
    };
    if (url.pathname === '/' || url.pathname === '/page') {
      const attrs = {};
      for (const [k, v] of url.searchParams) if (k.startsWith('a.')) attrs[k.slice(2)] = v;
      return send(200, TYPES['.html'], pageHtml(attrs));
    }
    const rel = path.normalize(decodeURIComponent(url.pathname));
    if (!SERVED.some((p) => rel.startsWith(p)) || rel.includes('..')) return send(404, 'text/plain', 'not found');
    try {
      const body = await fs.readFile(path.join(root, rel));
      send(200, TYPES[path.extname(rel)] || 'application/octet-stream', body);
    } catch {
      send(404, 'text/plain', 'not found');
    }
  });
  server.on('upgrade', (req, socket) => { log.push({ path: req.url, upgrade: true, at: Date.now() }); socket.destroy(); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin, log,
    /** URL of the test page with these element attributes. */
    page(attrs = {}) {
      const q = new URLSearchParams(Object.entries(attrs).map(([k, v]) => [`a.${k}`, String(v)]));
      return `${origin}/page?${q}`;
    },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}
