// A stratum test pool for the gateway's pool mode: Monero stratum as xmrig speaks it
// (login, job, submit, keepalived), one distinct blob per connection (as real pools give
// each connection its own extra nonce), a new job every few seconds, and every submitted
// share checked with RandomX (rx_miner's `hash`) against the blob, nonce and target.
// It is a test double for the far side of the gateway, not a pool for real use.
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

// A real pool job's header and seed (tests/vectors/jobs_malformed.txt); the bytes after
// the nonce are varied per connection and job.
const BLOB = '10109d97c3c20639e4a88de37e69f8af1235afa0f50a20a02d9ad6d0b979c642bc68aa746bebf40000008f' +
  'afef566106b728e059a9c4f304d99f81bd7a3804a5bdc2a63f088008f97c382a27';
const SEED = '27318467c624a537d02531b291e253a2a02a9dc194810178586f536e3391c66f';
const NONCE_OFFSET = 39;

function targetHex(difficulty) {
  // 4-byte form (docs/design.md): t = 0xFFFFFFFF / difficulty, little-endian.
  const b = Buffer.alloc(4);
  b.writeUInt32LE(Math.floor(0xFFFFFFFF / difficulty));
  return b.toString('hex');
}

function meets(hashHex, target4) {
  const t = BigInt(Buffer.from(target4, 'hex').readUInt32LE(0));
  const t64 = 0xFFFFFFFFFFFFFFFFn / (0xFFFFFFFFn / t);
  return Buffer.from(hashHex, 'hex').readBigUInt64LE(24) < t64;
}

export class TestPool {
  // answerDelayMs: how long each submit waits for its answer (a slow pool).
  constructor({ rxMiner, difficulty = 40, jobEveryMs = 8000, answerDelayMs = 0 }) {
    Object.assign(this, { rxMiner, difficulty, jobEveryMs, answerDelayMs });
    this.height = 3435647;
    this.block = 0;       // varies the previous block id: a new block on the chain
    this.conns = new Set();
    this.nextConn = 0;
    this.accepted = 0;
    this.rejected = [];   // reasons
    this.received = 0;
    this.byConn = new Map();
    this.logins = [];
    this.rx = spawn(rxMiner, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.rxWait = [];
    createInterface({ input: this.rx.stdout }).on('line', (l) => this.rxWait.shift()(l));
  }

  hash(blob) {
    return new Promise((r) => { this.rxWait.push(r); this.rx.stdin.write(`hash ${SEED} ${blob}\n`); });
  }

  listen(port = 0) {
    return new Promise((resolve) => {
      this.server = createServer((sock) => this.accept(sock));
      this.server.listen(port, '127.0.0.1', () => {
        this.port = this.server.address().port;
        this.timer = setInterval(() => { for (const c of this.conns) this.sendJob(c); }, this.jobEveryMs);
        resolve(this.port);
      });
    });
  }

  // Stops listening and drops every connection (a pool going away).
  stop() {
    clearInterval(this.timer);
    for (const c of this.conns) c.sock.destroy();
    this.conns.clear();
    return new Promise((r) => this.server.close(() => r()));
  }

  close() {
    this.rx.stdin.end();
    this.rx.kill();
  }

  accept(sock) {
    const c = { sock, index: this.nextConn++, jobs: new Map(), jobSeq: 0, seen: new Set() };
    this.conns.add(c);
    sock.on('close', () => this.conns.delete(c));
    sock.on('error', () => {});
    createInterface({ input: sock }).on('line', (line) => this.onLine(c, line));
  }

  send(c, obj) {
    if (!c.sock.destroyed) c.sock.write(JSON.stringify(obj) + '\n');
  }

  makeJob(c) {
    const blob = Buffer.from(BLOB, 'hex');
    // Vary the bytes after the nonce: this connection and this job.
    blob.writeUInt32LE(c.index, NONCE_OFFSET + 4);
    blob.writeUInt32LE(++c.jobSeq, NONCE_OFFSET + 8);
    // The last bytes of the previous block's id, just before the nonce.
    blob.writeUInt32LE(this.block, NONCE_OFFSET - 4);
    const job = { blob: blob.toString('hex'), job_id: `c${c.index}j${c.jobSeq}`,
                  target: targetHex(this.difficulty), algo: 'rx/0', height: this.height, seed_hash: SEED };
    c.jobs.set(job.job_id, job);
    c.lastJob = job;
    return job;
  }

  // A new job on every connection now: at the same height (new transactions), or with
  // newBlock a new height on a new previous block (what makes earlier jobs stale).
  // With again, each connection's last job is sent once more as it was.
  jobNow({ newBlock = false, again = false } = {}) {
    if (newBlock) {
      this.height++;
      this.block++;
    }
    for (const c of this.conns) {
      if (again && c.lastJob) this.send(c, { jsonrpc: '2.0', method: 'job', params: c.lastJob });
      else this.sendJob(c);
    }
  }

  sendJob(c) {
    if (!c.loggedIn) return;
    this.send(c, { jsonrpc: '2.0', method: 'job', params: this.makeJob(c) });
  }

  async onLine(c, line) {
    let msg;
    try { msg = JSON.parse(line); } catch { return; }
    if (msg.method === 'login') {
      this.logins.push(msg.params);
      c.loggedIn = true;
      this.send(c, { id: msg.id, jsonrpc: '2.0', error: null, result: {
        id: `pool-${c.index}`, job: this.makeJob(c), extensions: ['algo', 'keepalive'], status: 'OK' } });
    } else if (msg.method === 'keepalived') {
      this.send(c, { id: msg.id, jsonrpc: '2.0', error: null, result: { status: 'KEEPALIVED' } });
    } else if (msg.method === 'submit') {
      this.received++;
      const p = msg.params;
      const job = c.jobs.get(p.job_id);
      let why = null;
      if (!job) why = 'unknown job';
      else if (c.seen.has(p.job_id + p.nonce)) why = 'duplicate';
      else {
        c.seen.add(p.job_id + p.nonce);
        const blob = Buffer.from(job.blob, 'hex');
        Buffer.from(p.nonce, 'hex').copy(blob, NONCE_OFFSET);
        const line = await this.hash(blob.toString('hex'));
        const hash = line.split(' ')[1];
        if (hash !== p.result) why = 'hash mismatch';
        else if (!meets(hash, job.target)) why = 'low difficulty';
      }
      if (this.answerDelayMs) await new Promise((r) => setTimeout(r, this.answerDelayMs));
      if (why) {
        this.rejected.push(why);
        this.send(c, { id: msg.id, jsonrpc: '2.0', error: { code: -1, message: why } });
      } else {
        this.accepted++;
        this.byConn.set(c.index, (this.byConn.get(c.index) || 0) + 1);
        this.send(c, { id: msg.id, jsonrpc: '2.0', error: null, result: { status: 'OK' } });
      }
    }
  }
}
