// The audit's fixture sites: two HTTP servers on 127.0.0.1 with random ports (two origins;
// the miner's frame from the second is addressed as http://localhost:PORT, another site,
// so Chromium puts it in a process of its own), serving the fixture pages below, the
// fixtures in tests/audit/fixtures/, consent-ui's built element (/dist/, from a real
// `consentminer gateway` stack, tests/browser/lib/real-stack.mjs, whose gateway serves the
// consent frame), and a fixture "pool" that speaks just enough stratum over a WebSocket
// (/ws) and over HTTP POST (/stratum) and logs what it was sent.
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { missingParts, startStack } from '../browser/lib/real-stack.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm' };
const SERVED = { '/fixtures/': 'tests/audit/fixtures/' };

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function html(title, body, head = '') {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">${head}</head>
<body><main><h1>${esc(title)}</h1><p>An article page.</p>${body}
<div style="height:1500px"></div><p>The end of the article.</p></main></body></html>`;
}

// consent-ui's element, as a site puts it in its page: the host element from the build,
// pointed at the real gateway, which serves the consent frame (disclosure, answers,
// runtime) from its own origin. gw() is that gateway's origin, set once it runs.
const element = (gw, extra = '') => `<script type="module" src="/dist/consent-miner.js"></script>
<consent-miner site="fixture.example" gateway="${gw.replace(/^http/, 'ws')}/ws" threads="1" throttle="50"></consent-miner>${extra}`;

/** Fixture pages by name; `other` is the second server's origin as another site. */
function pages(q, other, gw) {
  const miner = (params) => `<script src="/fixtures/miner.js?${params}"></script>`;
  // The same site on its other origin: Chromium denies a cross-site frame localStorage,
  // with which the frame cannot remember a choice (see the element-in-frame fixture).
  const sameSite = other.replace('localhost', '127.0.0.1');
  return {
    element: () => html('A page with the consent element', element(gw)),
    // The page cannot reach into the consent frame, so it hides the whole frame: the
    // element at opacity 0 (clicks still land on it), as a hostile site can.
    'element-decline-hidden': () => html('The consent frame made transparent by the site', element(gw),
      '<style>consent-miner { opacity: 0; }</style>'),
    // Its own box laid over the frame's Decline (fixtures/cover.js).
    'element-covered': () => html('Decline covered by the site', element(gw, '<div id="cover">Subscribe to our newsletter!</div>'),
      '<script src="/fixtures/cover.js"></script>'),
    // The frame shrunk to a tenth of its size with a transform: its buttons are there, and
    // unclickable for a visitor.
    'element-tiny': () => html('The consent frame shrunk by the site', element(gw),
      '<style>consent-miner { transform: scale(0.1); transform-origin: 0 0; }</style>'),
    // A consent UI that is not consentminer's: its own frame on another origin, with a
    // runtime that breaks its promise (fixtures/fake-consent.html, greedy-miner.mjs).
    'element-greedy': () => html('A consent frame with a runtime that breaks its promises',
      `<iframe src="${sameSite}/fixtures/fake-consent.html" title="consent" style="width:640px;height:360px;border:0"></iframe>`),
    'element-in-frame': () => html('The consent element in a frame of another origin',
      `<iframe src="${sameSite}/page/element" title="consent" style="width:900px;height:700px;border:0"></iframe>`),
    'miner-now': () => html('A page that mines at once', miner(`transport=${q.get('transport') || 'ws'}&wasm=${q.get('wasm') || 1}`)),
    'miner-late': () => html('A page that mines later', miner(`delay=${q.get('delay') || 20}&transport=http`)),
    'miner-hidden': () => html('A page that mines while hidden', miner('when=hidden')),
    'miner-scroll': () => html('A page that mines once the visitor scrolls', miner('when=scroll')),
    'miner-shown': () => html('A page that mines when the tab is shown again', miner('when=shown')),
    // The element is there and the visitor declines; the page's own script then mines on
    // the next visit.
    'element-then-decline-mines': () => html('A page that mines after a Decline', element(gw, miner('when=declined'))),
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

async function serve(log, otherOrigin, site) {
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
    const page = name && pages(url.searchParams, otherOrigin(), site.gateway)[name];
    if (page) return send(200, TYPES['.html'], page());
    const dirs = { ...SERVED, '/dist/': site.dist };
    const prefix = Object.keys(dirs).find((p) => url.pathname.startsWith(p));
    const rel = prefix && dirs[prefix] && path.normalize(url.pathname.slice(prefix.length));
    if (!rel || rel.startsWith('..')) return send(404, 'text/plain', 'not found');
    try {
      send(200, TYPES[path.extname(rel)] || 'application/octet-stream', await fs.readFile(path.resolve(ROOT, dirs[prefix], rel)));
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

/**
 * Starts both servers, then the real stack (monerod in regtest, `consentminer gateway`
 * serving the built consent frame) with both fixture origins allowed to embed the frame.
 * page(name, query) is a fixture page's URL on the first server.
 */
export async function startFixtures() {
  const log = [];
  const site = { gateway: '', dist: '' };
  let b = null;
  const a = await serve(log, () => `http://localhost:${b.port}`, site);
  b = await serve(log, () => `http://127.0.0.1:${a.port}`, site);
  const closeServers = async () => {
    for (const s of [a, b]) {
      for (const c of s.wss.clients) c.terminate();
      s.server.closeAllConnections?.();
      await new Promise((r) => s.server.close(r));
    }
  };
  let stack = null;
  const missing = missingParts();
  if (!missing.length) {
    try {
      stack = await startStack({ gatewayArgs: ['--origin', `http://127.0.0.1:${a.port}`, '--origin', `http://127.0.0.1:${b.port}`] });
    } catch (err) {
      await closeServers();
      throw err;
    }
    Object.assign(site, { gateway: stack.origin, dist: stack.dist });
  }
  return {
    log,
    /** What is not built for the element fixtures (the real gateway and frame), or []. */
    missing,
    stack,
    origin: `http://127.0.0.1:${a.port}`,
    page: (name, query = '') => `http://127.0.0.1:${a.port}/page/${name}${query ? '?' + query : ''}`,
    async close() {
      await closeServers();
      await stack?.close();
    },
  };
}
