// The gateway behind Debian's nginx, configured with the README's snippet
// (packaging/nginx-consentminer.conf: only its port, certificate, gateway address and
// proxy_read_timeout are replaced, and each of those must be found exactly once).
//
//   node tests/gateway/nginx.mjs CONSENTMINER RX_MINER [NGINX] [--log]
//
// The gateway runs with --trust-proxy 127.0.0.1/32 and --max-per-ip 2. Visitors connect
// to nginx from 127.0.0.2..5 (Linux routes all of 127/8 to lo), so nginx's
// X-Forwarded-For names each one:
//   - every visitor gets its own two connections (8 sessions in all, where one address
//     would get 2), and a third from one of them gets 429;
//   - with proxy_read_timeout 4 s, a session of the runtime (wasm/js/gateway.mjs, with its
//     keepalived every 2 s here) is still open after 12 s, while a client that sends
//     nothing after its login is cut by nginx;
//   - consent (POST /consent/grant) and the /ws login work through nginx over TLS.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { GatewaySession } from '../../wasm/js/gateway.mjs';
import { Client } from './lib/client.mjs';
import { frameOrigin, sessionToken } from './lib/consent.mjs';
import { TestPool } from './lib/pool.mjs';
import { Gateway, TEST_WALLET, check, freePort, sleep, tempDir, waitFor } from './lib/procs.mjs';

const [cli, rxMiner, nginxBin = '/usr/sbin/nginx'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const log = process.argv.includes('--log');
if (!cli || !rxMiner) {
  console.error('usage: nginx.mjs CONSENTMINER RX_MINER [NGINX] [--log]');
  process.exit(2);
}
// nginx's certificate is one the test makes; the clients do not check it.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

const SNIPPET = join(dirname(fileURLToPath(import.meta.url)), '../../packaging/nginx-consentminer.conf');
const READ_TIMEOUT_S = 4;
const MAX_PER_IP = 2;

// The README's server block, made to run here.
function serverBlock({ port, cert, key, gatewayPort }) {
  let text = readFileSync(SNIPPET, 'utf8');
  const readme = readFileSync(join(dirname(SNIPPET), '../README.md'), 'utf8');
  check(readme.includes(text.slice(text.indexOf('server {'))),
        'the README quotes packaging/nginx-consentminer.conf\'s server block as it is');
  const swap = (re, by, what) => {
    const n = (text.match(new RegExp(re.source, re.flags + 'g')) || []).length;
    if (n !== 1) throw new Error(`${SNIPPET}: expected one ${what}, found ${n}`);
    text = text.replace(re, by);
  };
  swap(/^ *listen 443 ssl;$/m, `    listen 127.0.0.1:${port} ssl;`, 'listen 443 ssl');
  swap(/^ *listen \[::\]:443 ssl;\n/m, '', 'listen [::]:443 ssl');
  swap(/ssl_certificate \S+;/, `ssl_certificate ${cert};`, 'ssl_certificate');
  swap(/ssl_certificate_key \S+;/, `ssl_certificate_key ${key};`, 'ssl_certificate_key');
  swap(/proxy_pass http:\/\/127\.0\.0\.1:8081;/, `proxy_pass http://127.0.0.1:${gatewayPort};`, 'proxy_pass');
  swap(/proxy_read_timeout \d+s;/, `proxy_read_timeout ${READ_TIMEOUT_S}s;`, 'proxy_read_timeout');
  return text;
}

let nginx = null;
// SIGTERM: nginx's master stops its worker too (a SIGKILL would leave the worker behind).
const stopNginx = () => { if (nginx && nginx.exitCode === null) nginx.kill('SIGTERM'); };
process.on('exit', stopNginx);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stopNginx(); process.exit(1); });

async function startNginx(dir, block, port) {
  writeFileSync(join(dir, 'consentminer.conf'), block);
  for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, 'tmp', t), { recursive: true });
  writeFileSync(join(dir, 'nginx.conf'), `
${process.getuid && process.getuid() === 0 ? 'user root;' : ''}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  include ${dir}/consentminer.conf;
}
`);
  nginx = spawn(nginxBin, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf'),
    '-g', 'daemon off;'], { stdio: 'ignore' });
  nginx.on('exit', (code) => { if (log) console.error(`nginx exited ${code}`); });
  await waitFor('nginx to listen', () => new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }), 20000, 100);
}

async function main() {
  const dir = tempDir('cm-nginx-');
  dirForLog = dir;
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });

  // No new job for the whole test: only the keepalived answers cross nginx.
  const pool = new TestPool({ rxMiner, jobEveryMs: 600000 });
  const poolPort = await pool.listen();
  const port = await freePort();
  const url = `wss://127.0.0.1:${port}/ws`;
  const gw = new Gateway({ bin: cli, log, args: ['--pool', `127.0.0.1:${poolPort}`, '--wallet', TEST_WALLET,
    '--trust-proxy', '127.0.0.1/32', '--max-per-ip', String(MAX_PER_IP),
    '--public-origin', frameOrigin(url)] });
  await gw.start();
  await startNginx(dir, serverBlock({ port, cert, key, gatewayPort: gw.port }), port);

  // ---- per-visitor limits through nginx ----
  const visitors = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
  const clients = [];
  for (const ip of visitors) {
    for (let i = 0; i < MAX_PER_IP; i++) {
      const c = new Client(url, { localAddress: ip });
      const r = await c.connect();
      check(r.result && r.result.status === 'OK', `visitor ${ip} session ${i + 1} logged in through nginx`);
      clients.push(c);
    }
  }
  const st = await gw.stats();
  check(st.connections.sessions === visitors.length * MAX_PER_IP,
        `${st.connections.sessions} sessions open through one proxy address (cap ${MAX_PER_IP} per visitor)`);
  const extra = new Client(url, { localAddress: visitors[0] });
  const refused = await extra.connect().then((r) => `logged in: ${JSON.stringify(r)}`, (e) => e.message);
  check(/429/.test(refused), `a third connection from ${visitors[0]} is refused with 429 (${refused})`);
  const refusedLine = new RegExp(`refused ${visitors[0].replace(/\./g, '\\.')} via 127\\.0\\.0\\.1:\\d+#\\d+: per_ip`);
  check(await waitFor('the refusal in the log', () => refusedLine.test(gw.stderr), 5000, 50).then(() => true, () => false),
        'the gateway logs the refused visitor by its own address, via the proxy');
  for (const c of clients) c.close();
  await waitFor('the sessions to close', async () => (await gw.stats()).connections.sessions === 0, 20000);

  // ---- WebSockets and nginx's proxy_read_timeout ----
  let gone = null;
  const session = new GatewaySession({
    url, WebSocket, origin: frameOrigin(url), token: await sessionToken(url), threads: 1, throttle: 100,
    agent: 'consentminer-test/nginx', keepaliveMs: 2000,
    onJob() {}, onShareResult() {}, onGone: (reason, message, code) => { gone = { reason, message, code }; },
  });
  const login = await session.connect();
  check(typeof login.id === 'string', 'the runtime logged in through nginx');
  const silent = new Client(url, { localAddress: '127.0.0.6' });
  const r = await silent.connect();
  check(r.result && r.result.status === 'OK', 'a client that then stays silent logged in');
  const t0 = Date.now();
  await sleep(3 * READ_TIMEOUT_S * 1000);
  check(silent.closed !== null, `nginx closed the silent client's WebSocket after its ${READ_TIMEOUT_S} s proxy_read_timeout (${JSON.stringify(silent.closed)})`);
  check(gone === null, `the runtime's session with keepalived every 2 s is open after ${Date.now() - t0} ms (${JSON.stringify(gone)})`);
  const ka = await session.request('keepalived', { id: session.sessionId });
  check(ka && ka.status === 'KEEPALIVED', 'and it still gets answers');
  session.close();

  nginx.kill('SIGTERM');
  await new Promise((res) => (nginx.exitCode !== null ? res() : nginx.on('exit', res)));
  const ex = await gw.stop();
  check(ex.code === 0, `the gateway stopped cleanly (${JSON.stringify(ex)})`);
  await pool.stop();
  pool.close();
}

let dirForLog = null;
main().catch((e) => {
  console.error(e);
  if (dirForLog) {
    try { console.error(`nginx's error log:\n${readFileSync(join(dirForLog, 'error.log'), 'utf8').slice(-4000)}`); } catch {}
  }
  process.exitCode = 1;
}).finally(() => {
  stopNginx();
  setTimeout(() => process.exit(), 500);
});
