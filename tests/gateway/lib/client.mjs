// A bare stratum-over-WebSocket client for gateway tests that send exactly the messages
// they mean to (replays, floods, forged results), and a RandomX pipe to make real shares.
// The login message comes from lib/login.mjs.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { frameOrigin, sessionToken } from './consent.mjs';
import { loginMessage } from './login.mjs';

export class Client {
  constructor(url, { localAddress, consent, agent = 'consentminer-test/client' } = {}) {
    Object.assign(this, { url, localAddress, consent, agent });
    this.nextId = 1;
    this.waiters = new Map();
    this.jobs = [];        // every job received, in order (login's first)
    this.jobWaiters = [];
    this.closed = null;
  }

  get job() { return this.jobs[this.jobs.length - 1] || null; }

  // Opens the socket and logs in; resolves with the login reply. Without a consent given,
  // it first gets a session token of its own grant from the gateway, as the frame would,
  // and it always connects with the frame's Origin.
  async connect() {
    if (this.consent === undefined) this.consent = await sessionToken(this.url);
    return new Promise((resolve, reject) => {
      const opts = { origin: frameOrigin(this.url),
                     ...(this.localAddress ? { localAddress: this.localAddress } : {}) };
      this.ws = new WebSocket(this.url, opts);
      this.ws.on('error', (e) => { if (!this.opened) reject(e); });
      this.ws.on('close', (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        for (const [, w] of this.waiters) w({ closed: this.closed });
        this.waiters.clear();
        for (const w of this.jobWaiters) w(null);
      });
      this.ws.on('message', (data) => this.onMessage(JSON.parse(data.toString())));
      this.ws.on('open', () => {
        this.opened = true;
        const msg = loginMessage({ id: this.nextId++, consent: this.consent, agent: this.agent });
        this.waiters.set(msg.id, (reply) => {
          if (reply.result) {
            this.sessionId = reply.result.id;
            if (reply.result.job) this.addJob(reply.result.job);
          }
          resolve(reply);
        });
        this.ws.send(JSON.stringify(msg));
      });
    });
  }

  addJob(job) {
    this.jobs.push(job);
    const ws = this.jobWaiters;
    this.jobWaiters = [];
    for (const w of ws) w(job);
  }

  onMessage(msg) {
    if (msg.method === 'job') {
      this.addJob(msg.params);
      return;
    }
    const w = this.waiters.get(msg.id);
    if (w) {
      this.waiters.delete(msg.id);
      w(msg);
    }
  }

  // A request; resolves with the reply ({closed} if the socket closes first).
  request(method, params = {}) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (this.closed || this.ws.readyState !== WebSocket.OPEN) {
        resolve({ closed: this.closed || { code: 0, reason: 'not open' } });
        return;
      }
      this.waiters.set(id, resolve);
      this.ws.send(JSON.stringify({ id, jsonrpc: '2.0', method, params: { id: this.sessionId, ...params } }));
    });
  }

  submit(jobId, nonce, result) {
    return this.request('submit', { job_id: jobId, nonce, result });
  }

  // Resolves with the next job notification after this call (null if the socket closes).
  nextJob(ms = 30000) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no job notification within ${ms} ms`)), ms);
      this.jobWaiters.push((j) => { clearTimeout(t); resolve(j); });
    });
  }

  close() {
    if (this.ws) this.ws.close();
  }
}

// The top nonce byte the gateway gave a browser: it is written into its job's blob.
export function nonceByte(job) {
  const blob = Buffer.from(job.blob, 'hex');
  // Monero hashing blob: major, minor and timestamp varints, 32-byte previous id, nonce.
  let o = 0;
  for (let v = 0; v < 3; v++) while (blob[o++] & 0x80);
  return blob[o + 32 + 3];
}

// rx_miner (tests/gateway/rx_miner.c) over a pipe: real RandomX light-mode hashes.
export class Rx {
  constructor(bin) {
    this.proc = spawn(bin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.waiting = [];
    createInterface({ input: this.proc.stdout }).on('line', (l) => this.waiting.shift()(l));
  }
  ask(line) {
    return new Promise((r) => { this.waiting.push(r); this.proc.stdin.write(line + '\n'); });
  }
  // The first share at or after nonce `start` that meets the job's target (the low 24
  // bits vary; the top byte is the browser's): { nonce, result }.
  async share(job, start = 0, target64 = 0xFFFFFFFFFFFFFFFFn) {
    for (;;) {
      const line = await this.ask(`mine ${job.seed_hash} ${job.blob} ${target64} ${start} 64`);
      const p = line.split(' ');
      if (p[0] === 'found') return { nonce: p[1], result: p[2] };
      if (p[0] !== 'none') throw new Error(`rx_miner: ${line}`);
      start += Number(p[1]);
    }
  }
  close() {
    this.proc.stdin.end();
    this.proc.kill();
  }
}
