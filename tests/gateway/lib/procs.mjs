// Starting the real parts for gateway tests: monerod in regtest, the gateway; and small
// helpers (free ports, /stats, waiting for a condition). Everything binds to 127.0.0.1.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A mainnet address (regtest accepts them, docs/design.md): made once with monero-wallet-cli
// --generate-new-wallet for these tests; its keys were discarded, nothing is paid out.
export const TEST_WALLET =
  '47FCbfvNhnB1GKf8F9W4L7AGaR9ErsYsXbAhZuVT3cnRGDzByRnhMXtUc1yVWSN7S7Ubs1zCuKH4Scdk2pvzYXzdNQSqy45';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  process.on('exit', () => { try { rmSync(d, { recursive: true, force: true }); } catch {} });
  return d;
}

export async function waitFor(what, fn, ms = 60000, every = 250) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e; }
    await sleep(every);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
}

const children = new Set();
process.on('exit', () => { for (const c of children) try { c.kill('SIGKILL'); } catch {} });

function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export class Monerod {
  constructor({ dataDir, rpcPort, p2pPort, difficulty, log, extraArgs = [], env = {} }) {
    Object.assign(this, { dataDir, rpcPort, p2pPort, difficulty, log, extraArgs, env });
  }
  get url() { return `http://127.0.0.1:${this.rpcPort}`; }
  async start() {
    this.proc = track(spawn('monerod', [
      '--regtest', '--offline', '--fixed-difficulty', String(this.difficulty),
      '--data-dir', this.dataDir, '--rpc-bind-ip', '127.0.0.1',
      '--rpc-bind-port', String(this.rpcPort), '--p2p-bind-ip', '127.0.0.1',
      '--p2p-bind-port', String(this.p2pPort), '--no-zmq', '--non-interactive', '--no-igd',
      '--disable-dns-checkpoints', '--check-updates', 'disabled', '--log-level', '0',
      ...this.extraArgs,
    ], { stdio: ['ignore', this.log ? 'inherit' : 'ignore', 'inherit'],
         env: { ...process.env, ...this.env } }));
    this.exited = new Promise((r) => this.proc.on('exit', r));
    await waitFor('monerod RPC', () => this.height(), 60000, 300);
  }
  async rpc(method, params = {}) {
    const r = await fetch(`${this.url}/json_rpc`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: '0', method, params }),
    });
    return (await r.json()).result;
  }
  async height() {
    const r = await fetch(`${this.url}/get_height`);
    return (await r.json()).height;
  }
  async kill(signal = 'SIGKILL') {
    this.proc.kill(signal);
    await this.exited;
  }
}

export class Gateway {
  constructor({ bin, args, log = false }) {
    Object.assign(this, { bin, args, log });
    this.stderr = '';
  }
  async start() {
    this.proc = track(spawn(this.bin, ['gateway', '--listen', '127.0.0.1:0', ...this.args],
      { stdio: ['ignore', 'pipe', 'pipe'] }));
    this.exited = new Promise((r) => this.proc.on('exit', (code, sig) => r({ code, sig })));
    this.proc.stderr.on('data', (d) => {
      this.stderr += d;
      if (this.log) process.stderr.write(d);
    });
    this.port = await new Promise((resolve, reject) => {
      let out = '';
      this.stdout = '';
      this.proc.stdout.on('data', (d) => {
        out += d;
        this.stdout += d;
        const m = out.match(/gateway listening on [\d.]+:(\d+)/);
        if (m) resolve(Number(m[1]));
      });
      this.proc.on('exit', (code) => reject(new Error(`gateway exited ${code}:\n${this.stderr}`)));
    });
  }
  get wsUrl() { return `ws://127.0.0.1:${this.port}/ws`; }
  async stats() {
    const r = await fetch(`http://127.0.0.1:${this.port}/stats`);
    return r.json();
  }
  async metrics() {
    const r = await fetch(`http://127.0.0.1:${this.port}/metrics`);
    return r.text();
  }
  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return this.exited;
    this.proc.kill('SIGTERM');
    return this.exited;
  }
}

// Fails the test with a message when cond is false.
export function check(cond, message) {
  if (!cond) {
    console.error(`FAIL: ${message}`);
    process.exitCode = 1;
    throw new Error(message);
  }
  console.log(`ok - ${message}`);
}
