// The gateway over TLS (--cert/--key): https for static files and /stats, wss for /ws.
//
//   node tests/gateway/wss.mjs CONSENTMINER
//
// Makes a self-signed certificate with openssl, starts the gateway with it (upstream: a
// pool address where nothing listens), then checks an https request, a session token
// from POST /consent/grant over https, a wss login with it, a keepalived, a wss upgrade
// from another origin refused, a refused login, plain HTTP on the TLS port being refused, and a
// clean stop.
import { execFileSync } from 'node:child_process';
import { request } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { Gateway, TEST_WALLET, check, freePort, tempDir } from './lib/procs.mjs';

const [cli] = process.argv.slice(2);
if (!cli) {
  console.error('usage: wss.mjs CONSENTMINER');
  process.exit(2);
}

function httpsGet(port, path, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// Over TLS the frame origin is https://<Host>.
const frameOrigin = (port) => `https://127.0.0.1:${port}`;

function wsSession(url, messages, origin) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { rejectUnauthorized: false, origin });
    const replies = [];
    ws.on('unexpected-response', (req, res) => resolve({ replies, status: res.statusCode }));
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify(messages[0])));
    ws.on('message', (d) => {
      replies.push(JSON.parse(d));
      if (replies.length < messages.length) ws.send(JSON.stringify(messages[replies.length]));
      else ws.close();
    });
    ws.on('close', (code, reason) => resolve({ replies, code, reason: reason.toString() }));
  });
}

async function main() {
  const dir = tempDir('cm-gw-wss-');
  const cert = join(dir, 'cert.pem'), key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  writeFileSync(join(dir, 'index.html'), '<title>over tls</title>\n');
  const gw = new Gateway({ bin: cli, args: ['--pool', `127.0.0.1:${await freePort()}`,
    '--wallet', TEST_WALLET, '--cert', cert, '--key', key, '--static', dir] });
  await gw.start();

  const page = await httpsGet(gw.port, '/index.html');
  check(page.status === 200 && page.body.includes('over tls') &&
        page.headers['cross-origin-embedder-policy'] === 'require-corp',
        `https static file with isolation headers (${page.status})`);
  const stats = await httpsGet(gw.port, '/stats');
  check(stats.status === 200 && JSON.parse(stats.body).connections, 'https /stats');

  const origin = frameOrigin(gw.port);
  const grant = await httpsGet(gw.port, '/consent/grant', { method: 'POST', headers: { Origin: origin },
    body: JSON.stringify({ site: 'tls', threads: 1, throttle: 50, remember_s: 600 }) });
  check(grant.status === 200, `a session token from POST /consent/grant over https (${grant.status})`);
  const plainOrigin = await httpsGet(gw.port, '/consent/grant', { method: 'POST',
    headers: { Origin: `http://127.0.0.1:${gw.port}` }, body: '{}' });
  check(plainOrigin.status === 403, `the http:// origin is not the frame's over TLS (${plainOrigin.status})`);
  const good = await wsSession(`wss://127.0.0.1:${gw.port}/ws`, [
    { id: 1, jsonrpc: '2.0', method: 'login', params: { login: 'x', algo: ['rx/0'],
      consent: JSON.parse(grant.body).session } },
    { id: 2, jsonrpc: '2.0', method: 'keepalived', params: {} }], origin);
  check(good.replies[0].result && good.replies[0].result.status === 'OK' &&
        good.replies[1].result.status === 'KEEPALIVED', 'wss login with consent and keepalived');
  const elsewhere = await wsSession(`wss://127.0.0.1:${gw.port}/ws`, [{}], 'https://evil.example');
  check(elsewhere.status === 403, `wss upgrade from another origin refused (${elsewhere.status})`);
  const bad = await wsSession(`wss://127.0.0.1:${gw.port}/ws`, [
    { id: 1, jsonrpc: '2.0', method: 'login', params: { login: 'x' } }], origin);
  check(bad.replies[0].error && bad.replies[0].error.code === -10 && bad.code === 1008,
        `wss login without consent refused and closed (${bad.code})`);

  // SIGHUP after a certificate renewal: the process stays, an open wss session goes on,
  // new connections get the new certificate; a renewal that does not parse keeps the old.
  const fingerprint = (file) => execFileSync('openssl', ['x509', '-in', file, '-noout', '-fingerprint', '-sha256'],
    { encoding: 'utf8' }).trim().split('=')[1];
  const peerFingerprint = () => new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.port, path: '/stats', rejectUnauthorized: false, agent: false }, (res) => {
      const fp = res.socket.getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve(fp));
    });
    req.on('error', reject);
    req.end();
  });
  const oldFp = fingerprint(cert);
  check(await peerFingerprint() === oldFp, 'https serves the first certificate');
  const open = new WebSocket(`wss://127.0.0.1:${gw.port}/ws`, { rejectUnauthorized: false, origin });
  const openReplies = [];
  open.on('message', (d) => openReplies.push(JSON.parse(d)));
  await new Promise((resolve, reject) => { open.on('open', resolve); open.on('error', reject); });
  const grant2 = await httpsGet(gw.port, '/consent/grant', { method: 'POST', headers: { Origin: origin },
    body: JSON.stringify({ site: 'tls', threads: 1, throttle: 50, remember_s: 600 }) });
  open.send(JSON.stringify({ id: 1, jsonrpc: '2.0', method: 'login', params: { login: 'x', algo: ['rx/0'],
    consent: JSON.parse(grant2.body).session } }));
  const waitReplies = async (n) => {
    for (let i = 0; i < 100 && openReplies.length < n; i++) await new Promise((r) => setTimeout(r, 50));
    return openReplies.length >= n;
  };
  await waitReplies(1);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-days', '3', '-subj', '/CN=renewed'], { stdio: 'ignore' });
  const newFp = fingerprint(cert);
  gw.proc.kill('SIGHUP');
  for (let i = 0; i < 50 && !gw.stderr.includes('reload (SIGHUP): certificate'); i++) await new Promise((r) => setTimeout(r, 100));
  check(gw.proc.exitCode === null && gw.proc.signalCode === null, 'SIGHUP keeps the gateway running');
  check(gw.stderr.includes('reload (SIGHUP): certificate'), 'the reload is logged');
  check(await peerFingerprint() === newFp && newFp !== oldFp, 'after SIGHUP new connections get the renewed certificate');
  open.send(JSON.stringify({ id: 2, jsonrpc: '2.0', method: 'keepalived', params: {} }));
  check(await waitReplies(2) && openReplies[1].result && openReplies[1].result.status === 'KEEPALIVED',
        'a wss session opened before SIGHUP goes on after it');
  writeFileSync(cert, 'not a certificate\n');
  gw.proc.kill('SIGHUP');
  for (let i = 0; i < 50 && !gw.stderr.includes('keeping the running certificate'); i++) await new Promise((r) => setTimeout(r, 100));
  check(gw.stderr.includes('keeping the running certificate') && gw.proc.exitCode === null,
        'a renewal that does not parse keeps the running certificate, and says so');
  check(await peerFingerprint() === newFp, 'still serving the renewed certificate');
  open.close();

  // Plain HTTP on the TLS port is not a TLS handshake: the connection ends, nothing served.
  const plain = await new Promise((resolve) => {
    const s = connect(gw.port, '127.0.0.1', () => s.write('GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n'));
    let data = '';
    s.on('data', (d) => { data += d; });
    s.on('close', () => resolve(data));
    s.on('error', () => resolve(data));
    setTimeout(() => s.destroy(), 5000);
  });
  check(!plain.includes('over tls'), 'plain HTTP on the TLS port gets no file');
  const ex = await gw.stop();
  check(ex.code === 0, 'gateway stops cleanly');
  check(/refused .*: tls/.test(gw.stderr), 'the TLS failure is logged as a refusal');
}

main().then(() => process.exit(process.exitCode || 0), (e) => { console.error(e); process.exit(1); });
