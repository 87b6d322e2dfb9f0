// --trust-proxy on raw connections: the PROXY protocol v1 line (which nginx's http
// module cannot send, so tests/gateway/nginx.mjs does not cover it) and X-Forwarded-For
// from trusted and untrusted peers, with the per-IP limit at 1.
//
//   node tests/gateway/proxy.mjs CONSENTMINER [--log]
//
// 127.0.0.1/32 is trusted; 127.0.0.2 is not (Linux routes all of 127/8 to lo).
import { connect } from 'node:net';
import { Gateway, TEST_WALLET, check, freePort, sleep, waitFor } from './lib/procs.mjs';

const [cli] = process.argv.slice(2);
const log = process.argv.includes('--log');
if (!cli) {
  console.error('usage: proxy.mjs CONSENTMINER [--log]');
  process.exit(2);
}

// Opens a connection from `from`, sends `bytes`, and resolves { status, sock } with the
// status of the first answer, or status 0 when none came within `ms` (still open).
function send(port, from, bytes, ms = 1500) {
  return new Promise((resolve, reject) => {
    const sock = connect({ port, host: '127.0.0.1', localAddress: from });
    let got = '';
    const t = setTimeout(() => resolve({ status: 0, sock }), ms);
    sock.on('error', (e) => { clearTimeout(t); reject(e); });
    sock.on('data', (d) => {
      got += d;
      const m = got.match(/^HTTP\/1\.1 (\d+)/);
      if (m) { clearTimeout(t); resolve({ status: Number(m[1]), sock, text: got }); }
    });
    sock.on('connect', () => sock.write(bytes));
  });
}

const proxyLine = (src, family = 'TCP4') =>
  `PROXY ${family} ${src} ${family === 'TCP4' ? '127.0.0.1' : '::1'} 40000 443\r\n`;
const partial = 'GET /stats HTTP/1.1\r\nHost: x\r\n';     // a head still to be finished
const whole = (extra = '') => `GET /stats HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

async function main() {
  const gw = new Gateway({ bin: cli, log, args: ['--pool', `127.0.0.1:${await freePort()}`,
    '--wallet', TEST_WALLET, '--trust-proxy', '127.0.0.1/32', '--max-per-ip', '1',
    '--handshake-timeout', '30'] });
  await gw.start();
  const held = [];
  // The log line may reach us a moment after the answer.
  const logged = (re) => waitFor(`a log line ${re}`, () => re.test(gw.stderr), 5000, 50).then(() => true, () => false);

  // PROXY v1 from the trusted proxy: counted under the visitor it names.
  const a = await send(gw.port, '127.0.0.1', proxyLine('203.0.113.7') + partial);
  check(a.status === 0, 'a visitor named by a PROXY line is let in (its request still coming)');
  held.push(a.sock);
  const b = await send(gw.port, '127.0.0.1', proxyLine('203.0.113.7') + partial);
  check(b.status === 429, `the same visitor's second connection gets 429 (got ${b.status})`);
  check(await logged(/refused 203\.0\.113\.7 via 127\.0\.0\.1:\d+#\d+: per_ip \(2 connections from 203\.0\.113\.7 \(limit 1\)\)/),
        'the refusal names the visitor, via the proxy');
  const c = await send(gw.port, '127.0.0.1', proxyLine('203.0.113.8') + whole());
  check(c.status === 200, `another visitor through the same proxy gets its answer (got ${c.status})`);
  // Split across reads, as a slow proxy may send it.
  const slow = connect({ port: gw.port, host: '127.0.0.1' });
  const slowStatus = new Promise((resolve) => {
    let got = '';
    slow.on('data', (d) => { got += d; const m = got.match(/^HTTP\/1\.1 (\d+)/); if (m) resolve(Number(m[1])); });
  });
  await new Promise((r) => slow.on('connect', r));
  const text = proxyLine('203.0.113.9') + whole();
  for (const piece of [text.slice(0, 3), text.slice(3, 20), text.slice(20, 50), text.slice(50)]) {
    slow.write(piece);
    await sleep(100);
  }
  check(await slowStatus === 200, 'a PROXY line that arrives in pieces is read whole');
  slow.destroy();

  // IPv6 visitors count per /64.
  const v6a = await send(gw.port, '127.0.0.1', proxyLine('2001:db8:1:2::1', 'TCP6') + partial);
  check(v6a.status === 0, 'an IPv6 visitor is let in');
  held.push(v6a.sock);
  const v6b = await send(gw.port, '127.0.0.1', proxyLine('2001:db8:1:2::99', 'TCP6') + partial);
  check(v6b.status === 429 && await logged(/connections from 2001:db8:1:2::\/64/),
        `another address of the same /64 is counted with it (got ${v6b.status})`);

  // Malformed lines from the trusted proxy: refused, and the log says what was wrong.
  const bad = await send(gw.port, '127.0.0.1', 'PROXY TCP4 999.0.0.1 127.0.0.1 1 2\r\n' + whole());
  check(bad.status === 400 && await logged(/malformed PROXY line from trusted proxy: PROXY source address '999\.0\.0\.1' is not an IPv4 address/),
        `a malformed PROXY line is refused and logged (got ${bad.status})`);
  const badXff = await send(gw.port, '127.0.0.1', whole('X-Forwarded-For: 198.51.100.1, bogus\r\n'));
  check(badXff.status === 400 && await logged(/malformed header from trusted proxy: X-Forwarded-For entry 'bogus' is not an IP address/),
        `a malformed X-Forwarded-For is refused and logged (got ${badXff.status})`);

  // From a peer outside --trust-proxy: a PROXY line is refused, X-Forwarded-For ignored.
  const forged = await send(gw.port, '127.0.0.2', proxyLine('198.51.100.50') + whole());
  check(forged.status === 400 && await logged(/refused 127\.0\.0\.2:\d+#\d+: proxy \(PROXY protocol line from a peer no --trust-proxy network covers\)/),
        `an untrusted peer's PROXY line is refused (got ${forged.status})`);
  const own = await send(gw.port, '127.0.0.2', partial);
  check(own.status === 0, 'an untrusted peer is let in under its own address');
  held.push(own.sock);
  const spoof = await send(gw.port, '127.0.0.2', whole('X-Forwarded-For: 198.51.100.77\r\n'));
  check(spoof.status === 429, `its X-Forwarded-For does not make it someone else (got ${spoof.status})`);

  // A trusted peer's own request (a health check): counted under its own address.
  const health = await send(gw.port, '127.0.0.1', 'PROXY UNKNOWN\r\n' + whole());
  check(health.status === 200, `PROXY UNKNOWN: the proxy's own request is answered (got ${health.status})`);

  // The three proxy refusals above have a reason of their own in /stats and /metrics.
  const st = await gw.stats();
  check(st.refused.proxy === 3 && st.refused.bad_request === 0,
        `refused: proxy ${st.refused.proxy} (expected 3), bad_request ${st.refused.bad_request} (expected 0)`);
  const metrics = await gw.metrics();
  check(metrics.includes('consentminer_gateway_refused_total{reason="proxy"} 3'), '/metrics: refused_total{reason="proxy"} 3');

  for (const s of held) s.destroy();
  const ex = await gw.stop();
  check(ex.code === 0, `the gateway stopped cleanly (${JSON.stringify(ex)})`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
}).finally(() => setTimeout(() => process.exit(), 200));
