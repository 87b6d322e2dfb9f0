// A test browser for the gateway: logs in over WebSocket with a session token it gets
// from the gateway as the consent frame would (lib/consent.mjs), takes jobs, finds shares with rx_miner (RandomX light mode, native) and submits them, and
// keeps count of every submit and its answer so a test can check that none goes missing.
//
// It stands in for the wasm runtime (wasm/js/) until that exists; the protocol it speaks
// is the one in docs/design.md, "Browser <-> gateway".
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { frameOrigin, sessionToken } from './consent.mjs';
import { loginMessage } from './login.mjs';

// A consent record as the runtime made them before issue 14: what a page script can
// forge. The gateway must refuse it at login; tests use it to check that.
export function consentRecord({ ageMs = 0, lifeMs = 3600_000, threads = 1, throttle = 100 } = {}) {
  const granted = Date.now() - ageMs;
  return { granted_at: granted, expires_at: granted + lifeMs, threads, throttle };
}

// Stratum target hex -> 64-bit target (docs/design.md, Protocols).
export function target64(hex) {
  const b = Buffer.from(hex, 'hex');
  if (b.length === 4) {
    const t = BigInt(b.readUInt32LE(0));
    return 0xFFFFFFFFFFFFFFFFn / (0xFFFFFFFFn / t);
  }
  return b.readBigUInt64LE(0);
}

class RxPipe {
  constructor(bin) {
    this.proc = spawn(bin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.waiting = [];
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const w = this.waiting.shift();
      if (w) w(line);
    });
  }
  ask(line) {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.proc.stdin.write(line + '\n');
    });
  }
  close() {
    this.proc.stdin.end();
    this.proc.kill();
  }
}

export class TestMiner {
  // consent: undefined gets a session token from the gateway at connect(); null sends
  // none; anything else is sent as it is. origin: the frame's origin by default (the
  // only one the gateway takes logins from); false sends no Origin header.
  constructor({ url, rxMiner, consent, origin, name = 'miner', chunk = 8,
                login = 'ignored-by-the-gateway', threads, throttle }) {
    Object.assign(this, { url, rxMiner, consent, name, chunk, login, threads, throttle });
    this.origin = origin === undefined ? frameOrigin(url) : origin;
    this.job = null;
    this.jobs = 0;
    this.nextId = 1;
    this.pending = new Map();      // id -> submit params
    this.submitted = 0;
    this.accepted = 0;
    this.errors = {};               // code -> count
    this.messages = [];             // error messages seen (last 50)
    this.closed = null;             // { code, reason } once closed
    this.loginReply = null;
    this.mining = false;
    this.hashes = 0;
  }

  async connect() {
    if (this.consent === undefined) {
      this.consent = await sessionToken(this.url, { threads: this.threads || 1, throttle: this.throttle || 100 });
    }
    return new Promise((resolve, reject) => {
      const opts = this.origin ? { origin: this.origin } : {};
      this.ws = new WebSocket(this.url, opts);
      this.ws.on('error', (e) => reject(e));
      this.ws.on('close', (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        for (const w of this.closeWaiters || []) w();
      });
      this.ws.on('message', (data) => this.onMessage(JSON.parse(data.toString())));
      this.ws.on('open', () => {
        this.loginWaiter = resolve;
        this.send(loginMessage({ id: this.nextId++, consent: this.consent, login: this.login,
                                 agent: `consentminer-test/${this.name}` }));
      });
    });
  }

  waitClosed(ms = 5000) {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(this.closed), ms);
      (this.closeWaiters ||= []).push(() => { clearTimeout(t); resolve(this.closed); });
    });
  }

  send(obj) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  }

  onMessage(msg) {
    if (msg.method === 'job') {
      this.setJob(msg.params);
      return;
    }
    if (this.loginWaiter) {
      const w = this.loginWaiter;
      this.loginWaiter = null;
      this.loginReply = msg;
      if (msg.result) {
        this.sessionId = msg.result.id;
        if (msg.result.job) this.setJob(msg.result.job);
      }
      w(msg);
      return;
    }
    const sub = this.pending.get(msg.id);
    if (!sub) return;
    this.pending.delete(msg.id);
    if (msg.error) {
      this.errors[msg.error.code] = (this.errors[msg.error.code] || 0) + 1;
      this.messages.push(msg.error.message);
      if (this.messages.length > 50) this.messages.shift();
    } else if (msg.result && msg.result.status === 'OK') {
      this.accepted++;
    }
    for (const w of this.drainWaiters || []) w();
  }

  setJob(job) {
    this.job = job;
    this.jobs++;
    this.counter = 0;
    this.target = target64(job.target);
  }

  async mine() {
    if (!this.rx) this.rx = new RxPipe(this.rxMiner);
    this.mining = true;
    while (this.mining && !this.closed) {
      const job = this.job;
      if (!job) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      const start = this.counter;
      const line = await this.rx.ask(
        `mine ${job.seed_hash} ${job.blob} ${this.target} ${start} ${this.chunk}`);
      const parts = line.split(' ');
      if (parts[0] === 'error') throw new Error(`rx_miner: ${line}`);
      const done = Number(parts[parts.length - 1]);
      this.hashes += done;
      if (this.job !== job) continue; // a new job came meanwhile: its counter restarted
      this.counter = start + done;
      if (parts[0] === 'found' && this.mining) this.submit(job, parts[1], parts[2]);
    }
  }

  submit(job, nonce, result) {
    const id = this.nextId++;
    const params = { id: this.sessionId, job_id: job.job_id, nonce, result };
    this.pending.set(id, params);
    this.submitted++;
    this.send({ id, jsonrpc: '2.0', method: 'submit', params });
  }

  // Stops mining and waits until every submit has its answer (or the socket closed).
  async drain(ms = 30000) {
    this.mining = false;
    const end = Date.now() + ms;
    while (this.pending.size && !this.closed && Date.now() < end)
      await new Promise((r) => { (this.drainWaiters ||= []).push(r); setTimeout(r, 200); });
    return this.pending.size;
  }

  close() {
    this.mining = false;
    if (this.rx) this.rx.close();
    if (this.ws) this.ws.close();
  }
}
