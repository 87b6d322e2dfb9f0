// The demo site's own small web server: the page and the <consent-miner> host element on
// one origin, while the gateway (another port, so another origin) serves the consent
// frame, /consent/* and /ws. That way the demo has the isolation a real site has: no
// script of this page can reach into the frame (docs/design.md, issue 14).
//
//   node demo/serve.mjs --dir SITE --listen 127.0.0.1:PORT --gateway http://127.0.0.1:GPORT
//
// It sends COOP/COEP, so the page and its frame are cross-origin isolated (the frame's
// workers then share one RandomX cache), fills the gateway's address into index.html, and
// relays GET /stats to the gateway for the page's live figures (the gateway sends no CORS
// headers, rightly). Only 127.0.0.1; SIGINT/SIGTERM stop it.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

function arg(name) {
  const i = process.argv.indexOf(name);
  if (i < 0 || !process.argv[i + 1]) {
    console.error(`demo/serve.mjs: ${name} is required (see the header of this file)`);
    process.exit(2);
  }
  return process.argv[i + 1];
}
const dir = path.resolve(arg('--dir'));
const [host, port] = arg('--listen').split(':');
const gateway = new URL(arg('--gateway'));
const wsGateway = `${gateway.protocol === 'https:' ? 'wss:' : 'ws:'}//${gateway.host}/ws`;

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml' };
const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin', 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache',
  'Content-Security-Policy': `default-src 'self'; frame-src ${gateway.origin}; connect-src 'self'; object-src 'none'; base-uri 'none'`,
};

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, HEADERS); res.end(); return; }
  if (url.pathname === '/stats') {
    http.get(new URL('/stats', gateway), (up) => {
      res.writeHead(up.statusCode, { ...HEADERS, 'Content-Type': 'application/json' });
      up.pipe(res);
    }).on('error', (e) => { res.writeHead(502, { ...HEADERS, 'Content-Type': 'text/plain' }); res.end(`gateway: ${e.message}`); });
    return;
  }
  const rel = url.pathname === '/' ? 'index.html' : path.normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '');
  const file = path.join(dir, rel);
  if (!file.startsWith(dir + path.sep) || rel.startsWith('frame') || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404, { ...HEADERS, 'Content-Type': 'text/plain' });
    res.end('not found');
    return;
  }
  let body = fs.readFileSync(file);
  if (rel === 'index.html') body = body.toString('utf8').replaceAll('%GATEWAY%', wsGateway);
  res.writeHead(200, { ...HEADERS, 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
  res.end(req.method === 'HEAD' ? undefined : body);
});
server.listen(Number(port), host, () => console.log(`demo site listening on ${host}:${server.address().port}`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { server.closeAllConnections?.(); server.close(() => process.exit(0)); });
