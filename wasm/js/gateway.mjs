// consentminer runtime — the WebSocket session with a consentminer gateway.
//
// Stratum as docs/design.md describes it, one JSON object per text message at /ws: login
// (carrying the gateway's session token as params.consent: the gateway accepts no record
// a script could make up; the `login` field is ignored by the gateway, which pays its own
// address), job notifications, submit, keepalived, and `consent` to renew the session
// token before it expires. Callbacks, not events, so the miner decides what the visitor
// sees.

// Under the gateway's idle timeout (300 s by default) and, with room, under the 60 s
// nginx closes a proxied WebSocket after by default (proxy_read_timeout): the gateway's
// answer is what nginx sees (tests/gateway/nginx.mjs).
const KEEPALIVE_MS = 30 * 1000;
const CONNECT_TIMEOUT_MS = 15 * 1000;

export class GatewaySession {
  // opts: { url, WebSocket, origin (node's `ws` only), token (the session token string),
  //         threads, throttle (asked for; at most the token's ceilings), agent,
  //         onJob(job, nicehash), onShareResult(share, accepted, error),
  //         onGone(reason, message, closeCode), keepaliveMs (tests; default 30 s) }
  constructor(opts) {
    this.opts = opts;
    this.ws = null;
    this.nextId = 1;
    this.pending = new Map(); // id -> { resolve, reject, share }
    this.sessionId = null;
    this.nicehash = false;
    this.closed = false;
    this.keepalive = null;
  }

  // Opens the socket and logs in. Resolves with the login result; rejects with an Error
  // whose .reason is 'gateway-unreachable', 'gateway-refused' or 'gateway-gone'.
  connect() {
    const { url, token, threads, throttle, agent, origin } = this.opts;
    const WS = this.opts.WebSocket || globalThis.WebSocket;
    if (typeof WS !== 'function') {
      return Promise.reject(withReason(new Error('no WebSocket here: pass the WebSocket option (node 20: the ws package)'), 'no-websocket'));
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (reason, message) => {
        if (settled) return;
        settled = true;
        this.close();
        reject(withReason(new Error(message), reason));
      };
      let ws;
      try {
        // Browsers set Origin themselves (page scripts cannot); node's ws package takes it.
        ws = this.ws = origin && !globalThis.document ? new WS(url, { origin }) : new WS(url);
      } catch (e) {
        fail('gateway-unreachable', `cannot open ${url}: ${e.message}`);
        return;
      }
      const timer = setTimeout(() => fail('gateway-unreachable', `no login reply from ${url} within ${CONNECT_TIMEOUT_MS / 1000} s`), CONNECT_TIMEOUT_MS);
      ws.onopen = () => {
        const params = {
          login: 'consentminer', pass: 'x', agent: agent || 'consentminer-wasm/0.1', algo: ['rx/0'],
          consent: token, threads, throttle,
        };
        this.request('login', params).then((result) => {
          clearTimeout(timer);
          if (settled) return;
          if (!result || typeof result.id !== 'string') {
            fail('gateway-refused', 'the gateway\'s login reply has no session id');
            return;
          }
          settled = true;
          this.sessionId = result.id;
          const ext = Array.isArray(result.extensions) ? result.extensions.map(String) : [];
          this.nicehash = ext.some((e) => e.toLowerCase() === 'nicehash') || result.nicehash === true;
          this.keepalive = setInterval(() => this.request('keepalived', { id: this.sessionId }).catch(() => {}), this.opts.keepaliveMs || KEEPALIVE_MS);
          resolve(result);
          if (result.job) this.opts.onJob(result.job, this.nicehash);
          // A job notification can arrive in the same read as the login reply and so be
          // handled before this continuation runs; it was held until nicehash was known.
          const early = this.earlyJob;
          this.earlyJob = null;
          if (early) this.opts.onJob(early, this.nicehash);
        }, (err) => {
          clearTimeout(timer);
          fail('gateway-refused', `the gateway refused the login: ${err.message}`);
        });
      };
      ws.onerror = () => {
        if (!settled) { clearTimeout(timer); fail('gateway-unreachable', `cannot connect to ${url}`); }
      };
      ws.onclose = (e) => {
        clearTimeout(timer);
        const why = e && e.reason ? `: ${e.reason}` : '';
        if (!settled) { fail('gateway-unreachable', `the gateway closed the connection before login${why}`); return; }
        if (!this.closed) {
          this.close();
          // The close code tells the miner whether to come back: 1008 is the gateway's
          // refusal (consent expired or revoked, too many invalid shares); 1001 a gateway
          // going away (a restart, a deploy), 1006 a connection lost.
          this.opts.onGone('gateway-gone', `the gateway connection closed${why}`, e ? e.code : 1006);
        }
      };
      ws.onmessage = (e) => this.receive(e.data);
    });
  }

  receive(data) {
    let msg;
    try {
      msg = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data));
    } catch {
      return; // not JSON: ignored, as a pool client would
    }
    if (!msg || typeof msg !== 'object') return;
    if (msg.method === 'job' && msg.params) {
      // Before the login reply is processed, whether the gateway fixes the top nonce byte
      // (nicehash) is not known yet: hashing the job now could use nonces of other browsers.
      if (!this.sessionId) this.earlyJob = msg.params;
      else this.opts.onJob(msg.params, this.nicehash);
      return;
    }
    if (msg.id !== undefined && msg.id !== null && this.pending.has(msg.id)) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.message || JSON.stringify(msg.error)));
      else p.resolve(msg.result);
    }
  }

  request(method, params) {
    return new Promise((resolve, reject) => {
      if (!this.ws || this.closed) {
        reject(new Error('not connected'));
        return;
      }
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      try {
        this.ws.send(JSON.stringify({ id, jsonrpc: '2.0', method, params }));
      } catch (e) {
        this.pending.delete(id);
        reject(e);
      }
    });
  }

  // A new session token from the same grant, before the current one expires (the gateway
  // closes the session with "consent expired" otherwise). Resolves with { status,
  // expires_at }; rejects with the gateway's reason.
  renew(token) {
    return this.request('consent', { id: this.sessionId, consent: token });
  }

  submit(share) {
    const params = { id: this.sessionId, job_id: share.job_id, nonce: share.nonce, result: share.result };
    this.request('submit', params).then(
      (result) => this.opts.onShareResult(share, true, null, result),
      (err) => this.opts.onShareResult(share, false, err.message));
  }

  close() {
    this.closed = true;
    clearInterval(this.keepalive);
    for (const p of this.pending.values()) p.reject(new Error('connection closed'));
    this.pending.clear();
    if (this.ws) {
      const ws = this.ws;
      ws.onclose = ws.onmessage = ws.onerror = ws.onopen = null;
      try { ws.close(); } catch { /* already closed */ }
    }
  }
}

function withReason(err, reason) {
  err.reason = reason;
  return err;
}

// For a client that is not a browser (node programs, tests): asks the gateway for a grant
// and a session token over HTTP, as the consent frame does after the visitor's click, so
// the caller can start() the runtime with the session token. `origin` is the Origin header
// the gateway accepts (its frame origin: its own http(s) origin unless --public-origin).
// Resolves with the gateway's JSON reply { grant, session, expires_at, session_expires_at };
// rejects with an Error naming the gateway's reason.
export async function requestGrant(gateway, { site, threads, throttle, remember_s: rememberS = 3600 }, { origin } = {}) {
  const http = new URL(gateway);
  http.protocol = http.protocol === 'wss:' ? 'https:' : http.protocol === 'ws:' ? 'http:' : http.protocol;
  const res = await fetch(new URL('/consent/grant', http.origin), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: origin || http.origin },
    body: JSON.stringify({ site, threads, throttle, remember_s: rememberS }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw withReason(new Error(`POST /consent/grant: ${body.error || `HTTP ${res.status}`}`), 'gateway-refused');
  return body;
}
