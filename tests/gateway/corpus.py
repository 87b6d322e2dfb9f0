#!/usr/bin/env python3
"""Drives the gateway with the malformed-input corpus and the limits, over real sockets.

    python3 tests/gateway/corpus.py CONSENTMINER VECTORS_DIR [--only http|frames|messages|limits]

Runs every case of tests/vectors/gateway_http.txt, gateway_frames.txt and
gateway_messages.txt against a running `consentminer gateway` (each file says its format),
then the limits: logins only from the consent frame's origin, connections per IP, login and idle timeouts, submit
rate, malformed-message strikes, consent expiring mid-session. Each refusal must be logged
with its reason. The gateway must survive all of it: alive after every case, a clean exit
on SIGTERM, and (under the native-asan build) no sanitizer report.
Python standard library only: the WebSocket client below is written for this test, so it
can send what no well-behaved client library would.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

WALLET = ('47FCbfvNhnB1GKf8F9W4L7AGaR9ErsYsXbAhZuVT3cnRGDzByRnhMXtUc1yVWSN7S7Ubs1zCuKH4Scdk2pvz'
          'YXzdNQSqy45')
WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ=='
UPGRADE = ('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
           'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n')
# UPGRADE's Host is 127.0.0.1, so the consent frame's origin (the only one the gateway
# takes logins from) is this.
FRAME_ORIGIN = 'http://127.0.0.1'
# Consent tokens (docs/design.md, consent tokens): the gateways here run with a key file
# this test writes, and the test signs its own tokens with it (Python's hmac, not the
# gateway's code). OTHER_KEY is a key no gateway has.
CONSENT_KID = 'corpus'
CONSENT_KEY = os.urandom(32)
OTHER_KEY = os.urandom(32)


def clock():
    """Wall time in ms (fuzz/make_seeds.py fixes it to the fuzz target's clock)."""
    return int(time.time() * 1000)
# Under ASan everything is slower; the timeouts of the gateway under test are short on
# purpose, so waits here are generous around them.
SLACK = float(os.environ.get('CM_TEST_SLACK', '1'))

failures = []
passes = 0


def ok(cond, what):
    global passes
    if cond:
        passes += 1
    else:
        failures.append(what)
        print('FAIL: ' + what, flush=True)
    return cond


def repeat_macros(s):
    return re.sub(r'\{\{(\d+)\*([^}]*)\}\}', lambda m: m.group(2) * int(m.group(1)), s)


def unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == '\\' and i + 1 < len(s):
            n = s[i + 1]
            if n == 'x':
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            out += {'r': b'\r', 'n': b'\n', 't': b'\t', '\\': b'\\'}.get(n, ('\\' + n).encode())
            i += 2
            continue
        out += c.encode('latin-1')
        i += 1
    return bytes(out)


def cases(path, fields):
    with open(path, encoding='utf-8') as f:
        for no, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if not line or line.startswith('#'):
                continue
            parts = line.split('\t', fields - 1)
            if len(parts) != fields:
                raise SystemExit('%s:%d: expected %d tab-separated fields' % (path, no, fields))
            yield no, parts


class Gateway:
    def __init__(self, binary, args, name):
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix='cm-gw-%s-' % name, suffix='.log',
                                               delete=False)
        self.proc = subprocess.Popen([binary, 'gateway', '--listen', '127.0.0.1:0'] + args,
                                     stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline().decode()
        m = re.search(r'listening on [\d.]+:(\d+)', line)
        if not m:
            raise SystemExit('gateway %s did not start: %s\n%s' % (name, line, self.stderr()))
        self.port = int(m.group(1))

    def stderr(self):
        with open(self.log.name, errors='replace') as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def connect(self):
        s = socket.create_connection(('127.0.0.1', self.port), timeout=5 * SLACK)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def stats(self):
        s = self.connect()
        s.sendall(b'GET /stats HTTP/1.1\r\nHost: x\r\n\r\n')
        status, headers, body = read_response(s)
        s.close()
        return json.loads(body)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=20 * SLACK)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = 'hung'
        err = self.stderr()
        ok(code == 0, '%s gateway exits 0 on SIGTERM (got %s)' % (self.name, code))
        ok('AddressSanitizer' not in err and 'runtime error' not in err
           and 'LeakSanitizer' not in err,
           '%s gateway: no sanitizer report%s' % (self.name, '' if 'Sanitizer' not in err
                                                   and 'runtime error' not in err
                                                   else ':\n' + err[-3000:]))
        return err


def read_until_closed(s, limit):
    data = b''
    end = time.time() + limit
    while time.time() < end:
        r, _, _ = select.select([s], [], [], max(0.0, end - time.time()))
        if not r:
            break
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def read_response(s, limit=5.0):
    """Reads one HTTP response head and its Content-Length body."""
    data = b''
    end = time.time() + limit * SLACK
    while b'\r\n\r\n' not in data and time.time() < end:
        r, _, _ = select.select([s], [], [], max(0.0, end - time.time()))
        if not r:
            break
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    if b'\r\n\r\n' not in data:
        return None, {}, data
    head, body = data.split(b'\r\n\r\n', 1)
    lines = head.decode('latin-1').split('\r\n')
    status = int(lines[0].split()[1])
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(':')
        headers[k.strip().lower()] = v.strip()
    want = int(headers.get('content-length', '0'))
    while len(body) < want and time.time() < end:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


# ---- WebSocket, the client side, by hand ----

def frame(opcode, payload=b'', fin=True, mask=b'\x11\x22\x33\x44'):
    head = bytearray([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head.append(0x80 | n)
    elif n < 65536:
        head.append(0x80 | 126)
        head += struct.pack('>H', n)
    else:
        head.append(0x80 | 127)
        head += struct.pack('>Q', n)
    head += mask
    return bytes(head) + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class WS:
    def __init__(self, gw, origin=FRAME_ORIGIN):
        self.s = gw.connect()
        extra = 'Origin: %s\r\n' % origin if origin else ''
        self.s.sendall((UPGRADE % (WS_KEY, extra)).encode())
        self.status, self.headers, rest = read_response(self.s)
        self.buf = rest
        self.closed = False

    def send_text(self, text):
        self.s.sendall(frame(1, text.encode() if isinstance(text, str) else text))

    def send_raw(self, data):
        self.s.sendall(data)

    def recv_frame(self, limit=5.0):
        """(opcode, payload), or None on timeout, or ('eof', b'') when the socket closed."""
        end = time.time() + limit * SLACK
        while True:
            f = self._parse()
            if f:
                return f
            if self.closed:
                return ('eof', b'')
            r, _, _ = select.select([self.s], [], [], max(0.0, end - time.time()))
            if not r:
                return None
            try:
                chunk = self.s.recv(65536)
            except (ConnectionResetError, OSError):
                chunk = b''
            if not chunk:
                self.closed = True
            self.buf += chunk

    def _parse(self):
        b = self.buf
        if len(b) < 2:
            return None
        n = b[1] & 0x7f
        p = 2
        if n == 126:
            if len(b) < 4:
                return None
            n = struct.unpack('>H', b[2:4])[0]
            p = 4
        elif n == 127:
            if len(b) < 10:
                return None
            n = struct.unpack('>Q', b[2:10])[0]
            p = 10
        if len(b) < p + n:
            return None
        self.buf = b[p + n:]
        return (b[0] & 0x0f, b[p:p + n])

    def next_message(self, limit=5.0, skip_pongs=True):
        """The next text message as JSON, or ('close', code, reason), or None/'eof'."""
        while True:
            f = self.recv_frame(limit)
            if f is None:
                return None
            op, payload = f
            if op == 'eof':
                return 'eof'
            if op == 0xA and skip_pongs:
                continue
            if op == 0x8:
                code = struct.unpack('>H', payload[:2])[0] if len(payload) >= 2 else 1005
                try:
                    self.s.sendall(frame(8, payload[:2]))
                except OSError:
                    pass
                return ('close', code, payload[2:].decode('utf-8', 'replace'))
            if op == 0x1:
                return json.loads(payload)
            return ('op', op, payload)

    def expect_closed(self, limit=5.0):
        """After a close frame: the gateway ends the TCP connection."""
        end = time.time() + limit * SLACK
        while time.time() < end:
            f = self.recv_frame(end - time.time())
            if f is None:
                return False
            if f[0] == 'eof':
                return True
        return False

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def write_keys(path):
    with open(path, 'w') as f:
        f.write('# corpus.py consent key\n%s %s\n' % (CONSENT_KID, CONSENT_KEY.hex()))
    return path


def mint(key=None, tamper=False, **fields):
    """A session token signed with the test's key (fields override; None drops one)."""
    now = clock()
    p = {'v': 1, 'kid': CONSENT_KID, 'kind': 'session', 'site': 'corpus', 'granted_at': now,
         'expires_at': now + 3600000, 'threads': 1, 'throttle': 50,
         'id': os.urandom(16).hex(), 'grant': os.urandom(16).hex()}
    p.update(fields)
    p = {k: v for k, v in p.items() if v is not None}
    payload = b64url(json.dumps(p, separators=(',', ':')).encode())
    sig = hmac.new(key or CONSENT_KEY, payload.encode(), hashlib.sha256).digest()
    if tamper:
        sig = bytes([sig[0] ^ 1]) + sig[1:]
    return payload + '.' + b64url(sig)


def login(ws, life_ms=3600000, grant=None):
    now = clock()
    token = mint(expires_at=now + life_ms, **({'grant': grant} if grant else {}))
    ws.send_text(json.dumps({'id': 1, 'jsonrpc': '2.0', 'method': 'login',
                             'params': {'login': 'x', 'pass': 'x', 'agent': 'corpus',
                                        'algo': ['rx/0'], 'consent': token}}))
    return ws.next_message()


# ---- the three corpora ----

ISOLATION = {
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
    'cross-origin-resource-policy': 'same-origin',
}


def run_http(gw, vectors):
    for no, (expect, request) in cases(os.path.join(vectors, 'gateway_http.txt'), 2):
        what = 'gateway_http.txt:%d %s' % (no, expect)
        raw = unescape(repeat_macros(request))
        s = gw.connect()
        s.sendall(raw)
        checks = expect.split()
        if checks[0] == 'timeout':
            data, closed = read_until_closed(s, 2 + 4 * SLACK)
            ok(closed and not data, '%s: no answer, closed at the handshake timeout (got %r, closed=%s)'
               % (what, data[:60], closed))
            s.close()
            continue
        status, headers, body = read_response(s)
        s.close()
        if not ok(status == int(checks[0]), '%s: status %s' % (what, status)):
            continue
        for c in checks[1:]:
            if c.startswith('type='):
                ok(headers.get('content-type', '').startswith(c[5:]),
                   '%s: Content-Type %r' % (what, headers.get('content-type')))
            elif c == 'isolated':
                good = all(headers.get(k) == v for k, v in ISOLATION.items())
                csp = headers.get('content-security-policy', '')
                good = good and "'wasm-unsafe-eval'" in csp and "worker-src 'self'" in csp \
                    and 'ws:' in csp and 'wss:' in csp
                ok(good, '%s: isolation headers and CSP (%r)' % (what, headers))
            elif c == 'nobody':
                ok(body == b'', '%s: no body' % what)
            elif c.startswith('body='):
                ok(c[5:].encode() in body, '%s: body contains %s' % (what, c[5:]))
        ok(gw.alive(), '%s: gateway alive' % what)


def run_frames(gw, vectors):
    for no, (expect, spec) in cases(os.path.join(vectors, 'gateway_frames.txt'), 2):
        what = 'gateway_frames.txt:%d %s' % (no, expect)
        ws = WS(gw)
        if not ok(ws.status == 101, '%s: upgrade (%s)' % (what, ws.status)):
            continue
        for part in spec.split('|'):
            ws.send_raw(bytes.fromhex(repeat_macros(part).replace(' ', '')))
        if expect.startswith('close:'):
            msg = ws.next_message()
            ok(isinstance(msg, tuple) and msg[0] == 'close' and msg[1] == int(expect[6:]),
               '%s: got %r' % (what, msg))
            ok(ws.expect_closed(), '%s: connection ends' % what)
        elif expect == 'pong':
            f = ws.recv_frame()
            ok(f is not None and f[0] == 0xA, '%s: got %r' % (what, f))
        elif expect == 'ignore':
            f = ws.recv_frame(0.5)
            ok(f is None, '%s: nothing back (got %r)' % (what, f))
            ws.send_raw(frame(9, b'still-there'))
            f = ws.recv_frame()
            ok(f is not None and f[0] == 0xA and f[1] == b'still-there',
               '%s: connection goes on (ping answered: %r)' % (what, f))
        elif expect.startswith('error:'):
            code, _, close = expect[6:].partition('+close:')
            msg = ws.next_message()
            ok(isinstance(msg, dict) and msg.get('error', {}).get('code') == int(code),
               '%s: error reply (got %r)' % (what, msg))
            msg = ws.next_message()
            ok(isinstance(msg, tuple) and msg[0] == 'close' and msg[1] == int(close),
               '%s: then close %s (got %r)' % (what, close, msg))
        ws.close()
        ok(gw.alive(), '%s: gateway alive' % what)


def token_macro(m, now, grant):
    """${TOKEN field=value ...}: a token minted here. Values: NOW, NOW+MS, NOW-MS, an
    integer, none (the field left out), $GRANT (the login's grant id), or text; key=other
    signs with a key the gateway lacks, tamper=1 changes the signature."""
    fields, opts = {}, {}
    for part in m.group(1).split():
        k, _, v = part.partition('=')
        t = re.fullmatch(r'NOW([+-]\d+)?', v)
        if t:
            v = now + int(t.group(1) or 0)
        elif re.fullmatch(r'-?\d+', v):
            v = int(v)
        elif v == 'none':
            v = None
        elif v == '$GRANT':
            v = grant
        if k == 'key':
            opts['key'] = OTHER_KEY
        elif k == 'tamper':
            opts['tamper'] = True
        else:
            fields[k] = v
    return mint(**opts, **fields)


def substitute(text, sid, grant=None):
    now = clock()
    text = re.sub(r'\$\{NOW([+-]\d+)?\}', lambda m: str(now + int(m.group(1) or 0)), text)
    text = re.sub(r'\$\{TOKEN([^}]*)\}', lambda m: token_macro(m, now, grant), text)
    return repeat_macros(text).replace('$SID', sid or '')


def run_messages(gw, vectors):
    for no, (phase, expect, text) in cases(os.path.join(vectors, 'gateway_messages.txt'), 3):
        what = 'gateway_messages.txt:%d %s %s' % (no, phase, expect)
        ws = WS(gw)
        if not ok(ws.status == 101, '%s: upgrade' % what):
            continue
        sid = None
        grant = os.urandom(16).hex()
        if phase == 'post':
            r = login(ws, grant=grant)
            if not ok(isinstance(r, dict) and r.get('result'), '%s: login (%r)' % (what, r)):
                ws.close()
                continue
            sid = r['result']['id']
        ws.send_text(substitute(text, sid, grant))
        if expect == 'result':
            msg = ws.next_message()
            ok(isinstance(msg, dict) and 'result' in msg and msg.get('error') is None,
               '%s: result (got %r)' % (what, msg))
            if phase == 'pre' and isinstance(msg, dict) and msg.get('result'):
                r = msg['result']
                ok(r.get('status') == 'OK' and isinstance(r.get('id'), str) and
                   'nicehash' in r.get('extensions', []), '%s: login result shape %r' % (what, r))
        elif expect == 'ignore':
            msg = ws.next_message(0.5)
            ok(msg is None, '%s: no reply (got %r)' % (what, msg))
            ws.send_text(json.dumps({'id': 999, 'method': 'keepalived'}))
            msg = ws.next_message()
            ok(isinstance(msg, dict) and msg.get('id') == 999 and
               msg.get('result', {}).get('status') == 'KEEPALIVED',
               '%s: connection goes on (got %r)' % (what, msg))
        else:
            code, _, close = expect[6:].partition('+')
            msg = ws.next_message()
            ok(isinstance(msg, dict) and isinstance(msg.get('error'), dict) and
               msg['error'].get('code') == int(code) and msg['error'].get('message'),
               '%s: error %s (got %r)' % (what, code, msg))
            if close:
                msg2 = ws.next_message()
                ok(isinstance(msg2, tuple) and msg2[0] == 'close' and msg2[1] == 1008 and msg2[2],
                   '%s: then close 1008 with the reason (got %r)' % (what, msg2))
                ok(ws.expect_closed(), '%s: connection ends' % what)
            else:
                ws.send_text(json.dumps({'id': 999, 'method': 'keepalived'}))
                msg = ws.next_message()
                ok(isinstance(msg, dict) and msg.get('id') == 999,
                   '%s: connection goes on (got %r)' % (what, msg))
        ws.close()
        ok(gw.alive(), '%s: gateway alive' % what)


# ---- limits ----

def run_limits(binary, pool, keys):
    gw = Gateway(binary, ['--pool', pool, '--wallet', WALLET, '--origin', 'http://good.example',
                          '--origin', 'https://also.example:8443', '--consent-keys', keys,
                          '--max-per-ip', '4',
                          '--handshake-timeout', '1.5', '--idle-timeout', '2',
                          '--submit-rate', '1', '--submit-burst', '3', '--quiet'], 'limits')
    # Logins only from the consent frame's origin: the --origin sites may embed the frame,
    # not connect themselves.
    for origin, want in ((FRAME_ORIGIN, 101), ('HTTP://127.0.0.1', 101),
                         ('http://good.example', 403), ('https://also.example:8443', 403),
                         ('http://evil.example', 403), ('http://127.0.0.1:1', 403),
                         ('http://127.0.0.1.evil.example', 403), (None, 403), ('null', 403)):
        ws = WS(gw, origin)
        ok(ws.status == want, 'origin %s: %s (got %s)' % (origin, want, ws.status))
        ws.close()
    time.sleep(0.3)
    # Connections per IP: four held, the fifth refused with 429.
    held = [gw.connect() for _ in range(4)]
    s = gw.connect()
    s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    status, _, _ = read_response(s)
    ok(status == 429, 'fifth connection from one IP refused with 429 (got %s)' % status)
    s.close()
    for h in held:
        h.close()
    time.sleep(0.5)
    # Login timeout: upgraded, never logs in.
    ws = WS(gw)
    msg = ws.next_message(4)
    ok(isinstance(msg, dict) and msg.get('error', {}).get('code') == -100,
       'no login in time: error (got %r)' % (msg,))
    msg = ws.next_message(2)
    ok(isinstance(msg, tuple) and msg[1] == 1008, 'no login in time: close 1008 (got %r)' % (msg,))
    ws.close()
    # Idle timeout: logged in, then silent.
    ws = WS(gw)
    r = login(ws)
    ok(isinstance(r, dict) and r.get('result'), 'login on the limits gateway (%r)' % (r,))
    msg = ws.next_message(5)
    ok(isinstance(msg, tuple) and msg[1] == 1001, 'idle connection closed 1001 (got %r)' % (msg,))
    ws.close()
    # Submit rate: a burst of 3, then one a second; far beyond it, disconnected.
    ws = WS(gw)
    sid = login(ws)['result']['id']
    sub = lambda i: json.dumps({'id': 100 + i, 'method': 'submit', 'params': {
        'id': sid, 'job_id': 'x', 'nonce': '00000000', 'result': '0' * 64}})
    for i in range(6):
        ws.send_text(sub(i))
    codes = [ws.next_message()['error']['code'] for _ in range(6)]
    ok(codes.count(-107) >= 2 and codes[:3] == [-101] * 3,
       'submits over the rate answered -107, the burst goes through (got %s)' % codes)
    for i in range(20):
        ws.send_text(sub(10 + i))
    end, closed = time.time() + 5 * SLACK, None
    while time.time() < end:
        msg = ws.next_message(2)
        if not isinstance(msg, dict):
            closed = msg
            break
    ok(isinstance(closed, tuple) and closed[1] == 1008, 'submit flood disconnected (got %r)' % (closed,))
    ws.close()
    # Malformed messages after login: the eleventh ends the connection.
    ws = WS(gw)
    login(ws)
    for i in range(11):
        ws.send_text('{"id":%d,"method":' % i)
    got = []
    while len(got) < 20:
        got.append(ws.next_message())
        if not isinstance(got[-1], dict):
            break
    errors = [g for g in got if isinstance(g, dict)]
    ok(isinstance(got[-1], tuple) and got[-1][1] == 1008 and len(errors) == 12 and
       all(g['error']['code'] == -32700 for g in errors),
       'eleven malformed messages: eleven errors, then disconnected (got %r)' % (got[-3:],))
    ws.close()
    # Consent that expires during the session.
    ws = WS(gw)
    r = login(ws, life_ms=1500)
    ok(isinstance(r, dict) and r.get('result'), 'login with a consent valid 1.5 s')
    msg = ws.next_message(4)
    ok(isinstance(msg, dict) and msg.get('error', {}).get('code') == -11,
       'consent expiring mid-session: error -11 (got %r)' % (msg,))
    ws.close()
    time.sleep(0.5)
    st = gw.stats()
    err = gw.stop()
    for reason in ('origin', 'per_ip', 'handshake_timeout', 'idle_timeout', 'submit_rate',
                   'malformed_messages', 'consent_expired'):
        ok(st['refused'][reason] > 0, 'refusal counted in /stats: %s (%s)' % (reason, st['refused'][reason]))
        ok(re.search(r'refused 127\.0\.0\.1:\d+#\d+: %s \(' % reason, err) is not None,
           'refusal logged with its reason: %s' % reason)


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    binary, vectors = sys.argv[1], sys.argv[2]
    only = sys.argv[sys.argv.index('--only') + 1] if '--only' in sys.argv else None
    # A pool address where nothing listens: the gateway runs with its upstream down.
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    pool = '127.0.0.1:%d' % s.getsockname()[1]
    s.close()

    root = tempfile.mkdtemp(prefix='cm-gw-static-')
    site = os.path.join(root, 'site')
    os.makedirs(os.path.join(site, 'sub'))
    files = {'index.html': '<!doctype html><title>consentminer-test</title>\n',
             'app.mjs': 'export const x = 1;\n', 'worker.js': 'self.onmessage = () => {};\n',
             '.hidden': 'hidden\n'}
    for name, text in files.items():
        with open(os.path.join(site, name), 'w') as f:
            f.write(text)
    with open(os.path.join(site, 'miner.wasm'), 'wb') as f:
        f.write(b'\x00asm\x01\x00\x00\x00')
    with open(os.path.join(root, 'secret.txt'), 'w') as f:
        f.write('outside the static directory\n')
    os.symlink('index.html', os.path.join(site, 'inside.txt'))
    os.symlink('../secret.txt', os.path.join(site, 'escape.txt'))

    keys = write_keys(os.path.join(root, 'consent-keys'))

    try:
        if only in (None, 'http', 'frames', 'messages'):
            gw = Gateway(binary, ['--pool', pool, '--wallet', WALLET, '--static', site,
                                  '--consent-keys', keys,
                                  '--handshake-timeout', '2', '--max-per-ip', '0', '--quiet'],
                         'corpus')
            if only in (None, 'http'):
                run_http(gw, vectors)
            if only in (None, 'frames'):
                run_frames(gw, vectors)
            if only in (None, 'messages'):
                run_messages(gw, vectors)
            gw.stop()
        if only in (None, 'limits'):
            run_limits(binary, pool, keys)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print('%d checks passed, %d failed' % (passes, len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
