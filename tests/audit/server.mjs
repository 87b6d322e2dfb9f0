// The audit's fixture sites: two HTTP servers on 127.0.0.1 with random ports (two origins;
// the miner's frame from the second is addressed as http://localhost:PORT, another site,
// so Chromium puts it in a process of its own), serving the fixture pages below,
// consent-ui's element, the fixtures in tests/audit/fixtures/, and a fixture "pool" that
// speaks just enough stratum over a WebSocket (/ws) and over HTTP POST (/stratum) and
// logs what it was sent.
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm' };
const SERVED = { '/consent-ui/': 'consent-ui/', '/fixtures/': 'tests/audit/fixtures/' };

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function html(title, body, head = '') {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">${head}</head>
<body><main><h1>${esc(title)}</h1><p>An article page.</p>${body}
<div style="height:1500px"></div><p>The end of the article.</p></main></body></html>`;
}

// consent-ui's element with no gateway behind it (nothing answers at /no-gateway), so it
// can only show its disclosure; with a test-double runtime (fixtures/fake-runtime.mjs)
// whose workers spin at the throttle, so the audit's checks after Accept have something
// to measure.
const element = (extra = '', runtime = '/fixtures/fake-runtime.mjs') => `<script type="module" src="/consent-ui/consent-miner.js"></script>
<consent-miner site="fixture.example" gateway="/no-gateway" runtime="${runtime}"
  threads="1" throttle="50"></consent-miner>${extra}`;

/** Fixture pages by name; `other` is the second server's origin as another site. */
function pages(q, other) {
  const miner = (params) => `<script src="/fixtures/miner.js?${params}"></script>`;
  return {
    element: () => html('A page with the consent element', element()),
    'element-decline-hidden': () => html('Decline hidden by the site', element(),
      '<style>consent-miner::part(decline) { display: none; }</style>'),
    'element-covered': () => html('Decline covered by the site', element('<div id="cover">Subscribe to our newsletter!</div>'),
      '<script src="/fixtures/cover.js"></script>'),
    'element-greedy': () => html('The element with a runtime that breaks its promises', element('', '/fixtures/greedy-miner.mjs')),
    // Another origin of the same site: Chromium denies a cross-site frame localStorage
    // and Web Locks, with which the element cannot remember a choice nor start.
    'element-in-frame': () => html('The consent element in a frame of another origin',
      `<iframe src="${other.replace('localhost', '127.0.0.1')}/page/element" title="consent" style="width:900px;height:700px;border:0"></iframe>`),
    'miner-now': () => html('A page that mines at once', miner(`transport=${q.get('transport') || 'ws'}&wasm=${q.get('wasm') || 1}`)),
    'miner-late': () => html('A page that mines later', miner(`delay=${q.get('delay') || 20}&transport=http`)),
    'miner-hidden': () => html('A page that mines while hidden', miner('when=hidden')),
    'miner-in-frame': () => html('A miner in a frame of another site',
      `<iframe src="${other}/page/miner-now" title="ad" style="width:600px;height:300px"></iframe>`),
    'miner-js': () => html('A plain-JavaScript miner', miner('wasm=0')),
    heavy: () => html('Heavy but honest JavaScript', '<p id="out"></p><p id="primes"></p><script src="/fixtures/heavy.js"></script>'),
  };
}

function stratumReply(msg) {
  if (msg.method === 'login') {
    return { id: msg.id, jsonrpc: '2.0', error: null, result: { id: 'session', status: 'OK', extensions: [],
      job: { blob: '00'.repeat(76), job_id: 'job1', target: 'b88d0600', algo: 'rx/0', height: 1, seed_hash: '11'.repeat(32) } } };
  }
  return { id: msg.id, jsonrpc: '2.0', error: null, result: { status: 'OK' } };
}

async function serve(log, otherOrigin) {
  const wss = new WebSocketServer({ noServer: true });
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const send = (status, type, body) => { res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' }); res.end(body); };
    if (url.pathname === '/stratum' && req.method === 'POST') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const replies = [];
      for (const line of body.split('\n').filter(Boolean)) {
        try { const m = JSON.parse(line); log.push({ transport: 'http', method: m.method }); replies.push(JSON.stringify(stratumReply(m))); } catch {}
      }
      return send(200, 'application/json', replies.join('\n'));
    }
    const name = url.pathname.startsWith('/page/') && url.pathname.slice(6);
    const page = name && pages(url.searchParams, otherOrigin())[name];
    if (page) return send(200, TYPES['.html'], page());
    const prefix = Object.keys(SERVED).find((p) => url.pathname.startsWith(p));
    const rel = prefix && path.normalize(url.pathname.slice(prefix.length));
    if (!rel || rel.startsWith('..')) return send(404, 'text/plain', 'not found');
    try {
      send(200, TYPES[path.extname(rel)] || 'application/octet-stream', await fs.readFile(path.join(ROOT, SERVED[prefix], rel)));
    } catch {
      send(404, 'text/plain', 'not found');
    }
  });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url, 'http://x').pathname !== '/ws') return socket.destroy(); // no gateway here
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data) => {
      try {
        const m = JSON.parse(String(data));
        log.push({ transport: 'ws', method: m.method });
        ws.send(JSON.stringify(stratumReply(m)));
      } catch {}
    }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, wss, port: server.address().port };
}

/** Starts both servers; page(name, query) is a fixture page's URL on the first. */
export async function startFixtures() {
  const log = [];
  let b = null;
  const a = await serve(log, () => `http://localhost:${b.port}`);
  b = await serve(log, () => `http://127.0.0.1:${a.port}`);
  return {
    log,
    origin: `http://127.0.0.1:${a.port}`,
    page: (name, query = '') => `http://127.0.0.1:${a.port}/page/${name}${query ? '?' + query : ''}`,
    async close() {
      for (const s of [a, b]) {
        for (const c of s.wss.clients) c.terminate();
        s.server.closeAllConnections?.();
        await new Promise((r) => s.server.close(r));
      }
    },
  };
}
