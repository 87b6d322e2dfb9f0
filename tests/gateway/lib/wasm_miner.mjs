// A test browser that is the real runtime: wasm/js/miner.mjs (RandomX in WebAssembly,
// workers in worker_threads), connected to the gateway through a WebSocket that keeps
// count of what crosses it. Same counters as TestMiner (lib/miner.mjs), so the end-to-end
// checks read the same for both.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import WebSocket from 'ws';
import { frameOrigin, grantConsent } from './consent.mjs';

export class WasmMiner {
  // consent: a session token the gateway issued (else connect() gets one);
  // origin: the Origin header its WebSocket sends (default the gateway's frame origin).
  constructor({ url, wasmDir, runtimeDir, consent, origin, name = 'wasm' }) {
    Object.assign(this, { url, wasmDir, runtimeDir, consent, origin, name });
    this.job = null;
    this.jobs = 0;
    this.pending = new Set();  // submit ids waiting for their answer
    this.submitted = 0;
    this.accepted = 0;
    this.errors = {};
    this.messages = [];
    this.closed = null;
    this.failures = [];
  }

  // Without a consent given, it gets one as the consent frame does: a session token from
  // POST /consent/grant. The runtime reads the record core checks from its payload.
  async connect() {
    if (!this.consent) ({ session: this.consent } = await grantConsent(this.url, { threads: 1, throttle: 100 }));
    const origin = this.origin || frameOrigin(this.url);
    const { createMiner } = await import(pathToFileURL(resolve(this.runtimeDir, 'miner.mjs')).href);
    const self = this;
    // The runtime's GatewaySession sets onopen/onmessage/onclose; listeners added here see
    // the same traffic without changing it.
    class CountingWebSocket extends WebSocket {
      // The runtime passes { origin } (the frame's: a browser would send it, and the gateway
      // takes logins from no other).
      constructor(url, options) {
        super(url, options);
        self.ws = this;
        this.addEventListener('message', (e) => self.onMessage(JSON.parse(e.data.toString())));
        this.addEventListener('close', (e) => { self.closed = { code: e.code, reason: e.reason }; });
      }
      send(data, ...rest) {
        const msg = JSON.parse(data);
        if (msg.method === 'submit') {
          self.submitted++;
          self.pending.add(msg.id);
        }
        return super.send(data, ...rest);
      }
    }
    this.miner = createMiner({
      gateway: this.url, WebSocket: CountingWebSocket, origin, shared: 'never',
      wasmUrl: pathToFileURL(resolve(this.wasmDir, 'consentminer.wasm')).href,
      agent: `consentminer-test/${this.name}`,
    });
    this.miner.addEventListener('error', (e) => this.failures.push(e.detail));
    await this.miner.start(this.consent);
    return this.loginReply;
  }

  onMessage(msg) {
    if (msg.method === 'job') {
      this.job = msg.params;
      this.jobs++;
      return;
    }
    if (!this.loginReply) {
      this.loginReply = msg;
      if (msg.result && msg.result.job) {
        this.job = msg.result.job;
        this.jobs++;
      }
      return;
    }
    if (!this.pending.has(msg.id)) return;
    this.pending.delete(msg.id);
    if (msg.error) {
      this.errors[msg.error.code] = (this.errors[msg.error.code] || 0) + 1;
      this.messages.push(msg.error.message);
    } else if (msg.result && msg.result.status === 'OK') {
      this.accepted++;
    }
  }

  async mine() {} // the runtime mines from start()

  async drain(ms = 30000) {
    this.miner.pause('test draining');
    const end = Date.now() + ms;
    while (this.pending.size && !this.closed && Date.now() < end)
      await new Promise((r) => setTimeout(r, 200));
    return this.pending.size;
  }

  close() {
    if (this.miner) this.miner.stop();
  }
}
