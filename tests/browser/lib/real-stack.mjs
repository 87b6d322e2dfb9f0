// The real parts for the browser tests, on two origins as a site would deploy them:
//   the SITE  (http://127.0.0.1:P): a small node server here, serving the test pages with
//             the <consent-miner> host element (dist/consent-miner.js), COOP/COEP headers,
//             and, for the attack tests, a copy of the runtime a page script could bring;
//   the GATEWAY (http://127.0.0.1:G): `consentminer gateway` with --frame-dir dist/frame
//             (the consent frame, the runtime, the wasm), /consent/*, /ws, /stats, started
//             with --origin <the site> so only the site may embed the frame;
// and monerod in regtest (offline, low fixed difficulty). missingParts() says what is not
// built yet, so the tests can skip with a reason instead of failing.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { ROOT } from './server.mjs';
import { sleep, waitFor } from './browser.mjs';

export const CLI = process.env.CONSENTMINER || path.join(ROOT, 'build/native/consentminer');
export const WASM_DIR = process.env.CM_WASM_DIR || path.join(ROOT, 'build/wasm');
// A mainnet address (regtest accepts them, docs/design.md), made once with monero-wallet-cli
// --generate-new-wallet for these tests; its keys were discarded, nothing is ever paid.
export const WALLET = '4ALoxpyGchpHdtRjyx8gjZ788W4VVwnBmT5H3doH5oX7af9gF8g8u1rNompfLMNt5jTwH5BCgMtijiVTvK97wVL3CpudJz7';
// Regtest blocks are not what these tests are about; a difficulty the browser rarely
// meets keeps the job steady. Browser shares come from the gateway's own low difficulty.
const BLOCK_DIFFICULTY = 20000;

const shown = (p) => (p.startsWith(ROOT + path.sep) ? path.relative(ROOT, p) : p);

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** What is missing for the real tests; empty when all parts are there. */
export function missingParts() {
  const missing = [];
  if (!fs.existsSync(CLI)) missing.push(`${shown(CLI)} (build the native preset)`);
  else {
    const help = spawnSync(CLI, ['gateway', '--help'], { timeout: 10000, encoding: 'utf8' });
    if (help.status !== 0) missing.push('the `consentminer gateway` subcommand');
    else if (!/--frame-dir/.test(help.stdout + help.stderr)) missing.push('`consentminer gateway --frame-dir` (the consent frame)');
  }
  if (!fs.existsSync(path.join(WASM_DIR, 'consentminer.wasm'))) missing.push(`${shown(WASM_DIR)}/consentminer.wasm (build the wasm preset)`);
  if (!which('monerod')) missing.push('monerod (Debian package monero)');
  return missing;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
};
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A site page: one <consent-miner> with these attributes, and `extra` HTML after it. */
export function sitePage(attrs, { title = 'Example site', head = '', extra = '' } = {}) {
  const list = Object.entries(attrs).map(([k, v]) => ` ${esc(k)}="${esc(v)}"`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="stylesheet" href="/fixtures/page.css">
<script type="module" src="/consent-miner.js"></script>${head}
</head><body><main>
<h1>${esc(title)}</h1>
<p>An article page that offers mining as an alternative to ads.</p>
<consent-miner${list}></consent-miner>${extra}
</main></body></html>`;
}

// The site's server: pages written with page(), the element, the test fixtures, and
// /copy/ — the runtime and wasm as a page could host them itself (attack tests).
function startSite(dist) {
  const log = [];
  const pages = new Map();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    log.push({ path: url.pathname, at: Date.now() });
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
    const send = (status, type, body, extra = {}) => { res.writeHead(status, { 'Content-Type': type, ...headers, ...extra }); res.end(body); };
    if (pages.has(url.pathname)) {
      const page = pages.get(url.pathname);
      return typeof page === 'string' ? send(200, TYPES['.html'], page) : send(200, page.type, page.body, page.headers);
    }
    let file = null;
    if (url.pathname === '/consent-miner.js') file = path.join(dist, 'consent-miner.js');
    else if (url.pathname.startsWith('/copy/')) file = path.join(dist, 'frame', path.basename(url.pathname));
    else if (url.pathname === '/fixtures/page.css') file = path.join(ROOT, 'tests/browser/fixtures/page.css');
    else if (url.pathname === '/axe.min.js') file = path.join(ROOT, 'node_modules/axe-core/axe.min.js');
    if (!file || !fs.existsSync(file)) return send(404, 'text/plain', 'not found');
    send(200, TYPES[path.extname(file)] || 'application/octet-stream', fs.readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    server, log, pages, origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  })));
}

export async function startStack({ log = !!process.env.CM_TEST_LOG, gatewayArgs = [] } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-browser-e2e-'));
  const dist = path.join(dir, 'dist');
  const built = spawnSync(process.execPath, [path.join(ROOT, 'consent-ui/build.mjs'), '--out', dist], { encoding: 'utf8', env: { ...process.env } });
  if (built.status !== 0) throw new Error(`consent-ui/build.mjs failed: ${built.stderr}`);
  const procs = [];
  const stderr = { monerod: '', gateway: '' };
  let site = null;
  const run = (name, cmd, args) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stderr.on('data', (d) => { stderr[name] = (stderr[name] + d).slice(-4000); if (log) process.stderr.write(d); });
    if (log) p.stdout.on('data', (d) => process.stderr.write(d));
    procs.push(p);
    return p;
  };
  const close = async () => {
    for (const p of procs.reverse()) {
      if (p.exitCode !== null || p.signalCode) continue;
      p.kill('SIGTERM');
      const done = new Promise((r) => p.once('exit', r));
      if (await Promise.race([done.then(() => true), sleep(5000).then(() => false)]) === false) p.kill('SIGKILL');
    }
    await site?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    site = await startSite(dist);
    const rpcPort = await freePort();
    const monerod = run('monerod', 'monerod', ['--regtest', '--offline', '--fixed-difficulty', String(BLOCK_DIFFICULTY),
      '--data-dir', path.join(dir, 'chain'), '--rpc-bind-ip', '127.0.0.1', '--rpc-bind-port', String(rpcPort),
      '--p2p-bind-ip', '127.0.0.1', '--p2p-bind-port', String(await freePort()), '--no-zmq', '--non-interactive',
      '--no-igd', '--disable-dns-checkpoints', '--check-updates', 'disabled', '--log-level', '0']);
    const daemon = `http://127.0.0.1:${rpcPort}`;
    await waitFor(async () => {
      if (monerod.exitCode !== null) throw new Error(`monerod exited ${monerod.exitCode}: ${stderr.monerod}`);
      return fetch(`${daemon}/get_height`).then((r) => r.ok, () => false);
    }, { timeout: 60000, interval: 300, what: 'monerod RPC' });

    // A low, quickly adjusted difficulty per browser: wasm light mode hashes at about
    // 3 H/s a thread, so a share comes every few seconds. A key file of the stack's own, as
    // a site would have: tokens then outlive a restart of the gateway.
    const keys = path.join(dir, 'consent-keys');
    fs.writeFileSync(keys, `stack ${[...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, '0')).join('')}\n`);
    const gatewayArgv = (listen) => ['gateway', '--listen', listen, '--daemon', daemon, '--wallet', WALLET,
      '--frame-dir', path.join(dist, 'frame'), '--origin', site.origin, '--consent-keys', keys,
      '--start-diff', '4', '--min-diff', '2', '--share-interval', '4', '--verify-threads', '1',
      '--submit-rate', '20', '--handshake-timeout', '60', ...gatewayArgs];
    const startGateway = async (listen) => {
      const gateway = run('gateway', CLI, gatewayArgv(listen));
      const port = await new Promise((resolve, reject) => {
        let out = '';
        gateway.stdout.on('data', (d) => {
          out += d;
          const m = out.match(/gateway listening on [\d.]+:(\d+)/);
          if (m) resolve(Number(m[1]));
        });
        gateway.on('exit', (code) => reject(new Error(`gateway exited ${code}: ${stderr.gateway}`)));
      });
      await waitFor(async () => {
        const s = await fetch(`http://127.0.0.1:${port}/stats`).then((r) => r.json(), () => null);
        return s?.upstream?.up > 0 && s;
      }, { timeout: 30000, what: 'the gateway to get work from monerod' });
      return { gateway, port };
    };
    let { gateway, port } = await startGateway('127.0.0.1:0');
    const origin = `http://127.0.0.1:${port}`;

    let pages = 0;
    return {
      /** the gateway's origin (the frame's) and the site's */
      origin, siteOrigin: site.origin, siteLog: site.log, dist, stderr, close,
      wsUrl: `ws://127.0.0.1:${port}/ws`,
      /** Writes a site page with these element attributes and returns its URL. */
      page(attrs = {}, opts = {}) {
        const name = `/p${++pages}.html`;
        site.pages.set(name, sitePage({ gateway: `ws://127.0.0.1:${port}/ws`, ...attrs }, opts));
        return `${site.origin}${name}`;
      },
      /** Serves `body` at `pathname` on the site's origin (a test's own page or script),
       * with these headers besides the site's own (COOP, COEP, ...). */
      serve(pathname, body, { type = TYPES[path.extname(pathname)] || 'application/octet-stream', headers = {} } = {}) {
        site.pages.set(pathname, { type, body, headers });
        return `${site.origin}${pathname}`;
      },
      stats: () => fetch(`${origin}/stats`).then((r) => r.json()),
      /** Stops the gateway (SIGTERM: it drains) and starts it again on the same port. */
      async restartGateway() {
        const gone = new Promise((r) => gateway.once('exit', r));
        gateway.kill('SIGTERM');
        await gone;
        ({ gateway } = await startGateway(`127.0.0.1:${port}`));
      },
      height: () => fetch(`${daemon}/get_height`).then((r) => r.json()).then((j) => j.height),
    };
  } catch (e) {
    await close();
    throw e;
  }
}
