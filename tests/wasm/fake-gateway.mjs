// consentminer tests — a stand-in for the gateway's /ws endpoint, for the runtime tests.
//
// Speaks the browser side of docs/design.md's protocol (one JSON object per text message):
// answers login with a session id, a job and the extensions list, records every
// message, answers submit with OK, and lets a test push jobs, refuse logins or drop the
// connection. The real gateway's end-to-end tests are the gateway's own.
import { WebSocketServer } from 'ws';

// A Monero-shaped hashing blob (major 16, minor 16, 5-byte timestamp, previous id; nonce
// at 39), seeded like regtest's genesis would be: any 32 bytes do for the tests.
export function testJob({ jobId = 'j1', target = 'ffffffff', nonceByte = null, seed = '3a'.repeat(32) } = {}) {
  const blob = new Uint8Array(76);
  blob.set([16, 16, 0xa0, 0xb5, 0xd3, 0xa6, 0x06]);
  for (let i = 7; i < 76; i++) blob[i] = (i * 13 + 5) & 0xff;
  blob.fill(0, 39, 43);
  if (nonceByte !== null) blob[42] = nonceByte;
  const hex = Array.from(blob, (b) => b.toString(16).padStart(2, '0')).join('');
  return { blob: hex, job_id: jobId, target, seed_hash: seed, height: 1, algo: 'rx/0' };
}

// server: an http.Server to share (the runtime in a browser talks only to the origin
// that served it), else a port of its own.
export async function startFakeGateway({ job = testJob(), nicehash = false, refuse = null, server = null } = {}) {
  const wss = server ? new WebSocketServer({ server, path: '/ws' }) : new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws' });
  if (!server) await new Promise((resolve) => wss.on('listening', resolve));
  const gw = {
    refuse, // a login refusal message, or null; a test may change it meanwhile
    url: `ws://127.0.0.1:${(server || wss).address().port}/ws`,
    messages: [],
    logins: [],
    renewals: [],
    submits: [],
    sockets: new Set(),
    waiters: [],
    send(obj) {
      for (const ws of gw.sockets) ws.send(JSON.stringify(obj));
    },
    pushJob(j) {
      gw.send({ jsonrpc: '2.0', method: 'job', params: j });
    },
    dropAll() {
      for (const ws of gw.sockets) ws.terminate();
    },
    // Closes every socket with a WebSocket close code, as the gateway does (1001: going away,
    // 1008: a refusal).
    closeAll(code, reason = '') {
      for (const ws of gw.sockets) ws.close(code, reason);
    },
    // Resolves when pred() holds, checked after every message (or rejects after ms).
    until(pred, ms = 60000) {
      if (pred()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        gw.waiters.push(w);
        setTimeout(() => {
          gw.waiters = gw.waiters.filter((x) => x !== w);
          reject(new Error(`fake gateway: condition not met within ${ms} ms`));
        }, ms).unref();
      });
    },
    close() {
      for (const ws of gw.sockets) ws.terminate();
      return new Promise((resolve) => wss.close(() => resolve()));
    },
  };
  wss.on('connection', (ws) => {
    gw.sockets.add(ws);
    ws.on('close', () => gw.sockets.delete(ws));
    ws.on('message', (data, isBinary) => {
      let msg;
      try {
        msg = JSON.parse(isBinary ? '' : data.toString());
      } catch {
        return;
      }
      gw.messages.push(msg);
      if (msg.method === 'login') {
        gw.logins.push(msg.params);
        if (gw.refuse) {
          ws.send(JSON.stringify({ id: msg.id, jsonrpc: '2.0', error: { code: -1, message: gw.refuse } }));
          ws.close();
        } else {
          const extensions = ['algo', 'keepalive'].concat(nicehash ? ['nicehash'] : []);
          ws.send(JSON.stringify({ id: msg.id, jsonrpc: '2.0', result: { id: 'session-1', job, extensions, status: 'OK' } }));
        }
      } else if (msg.method === 'submit') {
        gw.submits.push(msg.params);
        ws.send(JSON.stringify({ id: msg.id, jsonrpc: '2.0', result: { status: 'OK' } }));
      } else if (msg.method === 'consent') {
        gw.renewals.push(msg.params);
        ws.send(JSON.stringify({ id: msg.id, jsonrpc: '2.0', result: { status: 'OK', expires_at: 0 } }));
      } else if (msg.method === 'keepalived') {
        ws.send(JSON.stringify({ id: msg.id, jsonrpc: '2.0', result: { status: 'KEEPALIVED' } }));
      }
      for (const w of gw.waiters.slice()) {
        if (w.pred()) {
          gw.waiters = gw.waiters.filter((x) => x !== w);
          w.resolve();
        }
      }
    });
  });
  return gw;
}
