// The real parts for the end-to-end browser tests: monerod in regtest (offline, low fixed
// difficulty), `consentminer gateway` serving a static copy of the site (element, runtime,
// wasm) and /ws, all on 127.0.0.1. missingParts() says what is not built yet, so the tests
// can skip with a reason instead of failing on a machine without a build.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { ROOT, pageHtml } from './server.mjs';
import { sleep, waitFor } from './browser.mjs';

export const CLI = process.env.CONSENTMINER || path.join(ROOT, 'build/native/consentminer');
export const WASM_DIR = process.env.CM_WASM_DIR || path.join(ROOT, 'build/wasm');
// A mainnet address (regtest accepts them, DESIGN.md), made once with monero-wallet-cli
// --generate-new-wallet for these tests; its keys were discarded, nothing is ever paid.
export const WALLET = '4ALoxpyGchpHdtRjyx8gjZ788W4VVwnBmT5H3doH5oX7af9gF8g8u1rNompfLMNt5jTwH5BCgMtijiVTvK97wVL3CpudJz7';
// Regtest blocks are not what these tests are about; a difficulty the browser rarely
// meets keeps the job steady. Browser shares come from the gateway's own low difficulty.
const BLOCK_DIFFICULTY = 20000;

const WASM_FILES = ['consentminer.wasm', 'consentminer.mjs', 'consentminer-mt.wasm', 'consentminer-mt.mjs', 'consentminer-mt.worker.js'];

const shown = (p) => (p.startsWith(ROOT + path.sep) ? path.relative(ROOT, p) : p);

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** What is missing for the real end-to-end tests; empty when all parts are there. */
export function missingParts() {
  const missing = [];
  if (!fs.existsSync(CLI)) missing.push(`${shown(CLI)} (build the native preset)`);
  else if (spawnSync(CLI, ['gateway', '--help'], { timeout: 10000 }).status !== 0) missing.push('the `consentminer gateway` subcommand');
  if (!fs.existsSync(path.join(ROOT, 'wasm/js/miner.mjs'))) missing.push('wasm/js/miner.mjs (the runtime)');
  if (!fs.existsSync(path.join(WASM_DIR, 'consentminer.wasm'))) missing.push(`${shown(WASM_DIR)}/consentminer.wasm (build the wasm preset)`);
  if (!which('monerod')) missing.push('monerod (Debian package monero)');
  return missing;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function copy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
}

// The site as a site owner would deploy it from this repo: the element under consent-ui/,
// the runtime under wasm/js/, the build under build/wasm/ (the runtime's default place).
function buildSite(dir) {
  for (const f of fs.readdirSync(path.join(ROOT, 'consent-ui'))) {
    if (/\.(m?js|css)$/.test(f)) copy(path.join(ROOT, 'consent-ui', f), path.join(dir, 'consent-ui', f));
  }
  for (const f of fs.readdirSync(path.join(ROOT, 'wasm/js'))) {
    if (f.endsWith('.mjs')) copy(path.join(ROOT, 'wasm/js', f), path.join(dir, 'wasm/js', f));
  }
  for (const f of WASM_FILES) {
    if (fs.existsSync(path.join(WASM_DIR, f))) copy(path.join(WASM_DIR, f), path.join(dir, 'build/wasm', f));
  }
  copy(path.join(ROOT, 'tests/browser/fixtures/page.css'), path.join(dir, 'tests/browser/fixtures/page.css'));
  copy(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), path.join(dir, 'node_modules/axe-core/axe.min.js'));
}

export async function startStack({ log = !!process.env.CM_TEST_LOG } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-browser-e2e-'));
  const site = path.join(dir, 'site');
  buildSite(site);
  const procs = [];
  const stderr = { monerod: '', gateway: '' };
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
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
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
    // 3 H/s a thread (DESIGN.md), so a share comes every few seconds.
    const gateway = run('gateway', CLI, ['gateway', '--listen', '127.0.0.1:0', '--daemon', daemon, '--wallet', WALLET,
      '--static', site, '--start-diff', '4', '--min-diff', '2', '--share-interval', '4', '--verify-threads', '1',
      '--submit-rate', '20', '--handshake-timeout', '60']);
    const port = await new Promise((resolve, reject) => {
      let out = '';
      gateway.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/gateway listening on [\d.]+:(\d+)/);
        if (m) resolve(Number(m[1]));
      });
      gateway.on('exit', (code) => reject(new Error(`gateway exited ${code}: ${stderr.gateway}`)));
    });
    const origin = `http://127.0.0.1:${port}`;
    await waitFor(async () => {
      const s = await fetch(`${origin}/stats`).then((r) => r.json(), () => null);
      return s?.upstream?.up > 0 && s;
    }, { timeout: 30000, what: 'the gateway to get work from monerod' });

    let pages = 0;
    return {
      origin, site, stderr, close,
      /** Writes a page with these element attributes into the site and returns its URL. */
      page(attrs = {}) {
        const name = `p${++pages}.html`;
        fs.writeFileSync(path.join(site, name), pageHtml(attrs));
        return `${origin}/${name}`;
      },
      stats: () => fetch(`${origin}/stats`).then((r) => r.json()),
      height: () => fetch(`${daemon}/get_height`).then((r) => r.json()).then((j) => j.height),
    };
  } catch (e) {
    await close();
    throw e;
  }
}
