#!/usr/bin/env python3
"""The gateway's transport and resources under attack (issue 13), over real sockets.

    python3 tests/gateway/transport.py CONSENTMINER [--only NAME[,NAME...]]

NAMEs: fragments, utf8, perip, ipv6, nofile, logs, static, reconnect.
  fragments  sockets each holding an unfinished message of one-byte fragments: the
             gateway's RSS grows at most --max-message + 16 KiB a socket
  utf8       error replies and close reasons cut to fit stay valid UTF-8
  perip      a connection refused with 429 is closed at once, not held for the drain
  ipv6       IPv6 addresses count per /64 (--ipv6-prefix), in a network namespace of its
             own (unshare -rn) where lo carries a routed 2001:db8:7::/48
  nofile     RLIMIT_NOFILE raised to the hard limit; a warning naming both numbers when
             that is below what --max-conns needs
  logs       outside text (Origin, agent, method names, pool errors) escaped in the log
  static     slow downloads of a large static file: the loop keeps answering WebSocket
             pings quickly and memory stays bounded
  reconnect  client.reconnect followed only to the host given with --pool
Python standard library only; the WebSocket client and the gateway wrapper come from
corpus.py in this directory.
"""
import json
import os
import re
import resource
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus as C  # noqa: E402

ok = C.ok
SLACK = C.SLACK
WALLET = C.WALLET
KEYS = C.write_keys(os.path.join(tempfile.mkdtemp(prefix='cm-transport-'), 'consent.keys'))


def login_text():
    """The one login message every test here sends: a session token signed with the key
    file every gateway here is started with (C.KEYS, corpus.py's)."""
    return json.dumps({'id': 1, 'jsonrpc': '2.0', 'method': 'login',
                       'params': {'login': 'x', 'pass': 'x', 'agent': 'transport',
                                  'algo': ['rx/0'], 'consent': C.mint()}})


def login(ws):
    ws.send_text(login_text())
    return ws.next_message()


def dead_pool():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    addr = '127.0.0.1:%d' % s.getsockname()[1]
    s.close()
    return addr


def vmrss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def open_fds(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


class MeasuredMemory:
    """Around a gateway whose RSS is measured: AddressSanitizer (the native-asan build)
    keeps freed memory in quarantine, up to 256 MiB, which RSS would count as held. Its
    other checks stay on. No effect on a build without it."""

    def __enter__(self):
        self.saved = os.environ.get('ASAN_OPTIONS')
        opts = [self.saved] if self.saved else []
        os.environ['ASAN_OPTIONS'] = ':'.join(
            opts + ['quarantine_size_mb=0', 'thread_local_quarantine_size_kb=0'])

    def __exit__(self, *exc):
        if self.saved is None:
            del os.environ['ASAN_OPTIONS']
        else:
            os.environ['ASAN_OPTIONS'] = self.saved


def ping(ws, payload=b'p'):
    """Sends a ping and waits for its pong; returns the round trip in seconds or None."""
    t0 = time.time()
    ws.send_raw(C.frame(9, payload))
    while True:
        f = ws.recv_frame(10)
        if f is None or f[0] == 'eof':
            return None
        if f[0] == 0xA and f[1] == payload:
            return time.time() - t0


# ---- 1. unfinished fragmented messages ----

def run_fragments(binary):
    n_sockets, n_frags = 40, 4000
    with MeasuredMemory():
        gw = C.Gateway(binary, ['--pool', dead_pool(), '--wallet', WALLET, '--consent-keys', KEYS, '--max-per-ip', '0',
                                '--handshake-timeout', '120', '--quiet'], 'fragments')
    # A message sent one byte a fragment is put together as the one message it is.
    ws = C.WS(gw)
    text = login_text().encode()
    parts = [C.frame(1, text[:1], fin=False)]
    parts += [C.frame(0, text[i:i + 1], fin=(i == len(text) - 1)) for i in range(1, len(text))]
    ws.send_raw(b''.join(parts))
    r = ws.next_message()
    ok(isinstance(r, dict) and isinstance(r.get('result'), dict) and r['result'].get('id'),
       'fragments: a login sent one byte a fragment is answered (got %r)' % (r,))
    ws.close()
    # Fragments adding up to more than --max-message: closed 1009, whatever their size.
    ws = C.WS(gw)
    big = [C.frame(1, b'a' * 1000, fin=False)] + [C.frame(0, b'a', fin=False)] * 3200
    try:
        ws.send_raw(b''.join(big))
    except OSError:
        pass
    msg = ws.next_message()
    ok(isinstance(msg, tuple) and msg[0] == 'close' and msg[1] == 1009,
       'fragments: over --max-message in small fragments: close 1009 (got %r)' % (msg,))
    ws.close()
    time.sleep(0.5)

    # N sockets, each holding one unfinished message of n_frags one-byte fragments.
    warm = [C.WS(gw) for _ in range(n_sockets)]  # the allocator's first growth, not counted
    for w in warm:
        ping(w)
        w.close()
    time.sleep(0.5)
    before = vmrss_kib(gw.proc.pid)
    held = [C.WS(gw) for _ in range(n_sockets)]
    burst = C.frame(1, b'a', fin=False) + C.frame(0, b'a', fin=False) * (n_frags - 1)
    for w in held:
        w.send_raw(burst)
    rtts = [ping(w) for w in held]  # a pong after the fragments: they have all been read
    ok(all(r is not None for r in rtts), 'fragments: every socket holding a message answers a ping')
    after = vmrss_kib(gw.proc.pid)
    per = (after - before) / n_sockets
    limit = (4096 + 16384) / 1024
    print('fragments: RSS %d -> %d KiB with %d sockets each holding %d one-byte fragments: '
          '%.1f KiB a socket (limit %.0f)' % (before, after, n_sockets, n_frags, per, limit),
          flush=True)
    ok(per <= limit, 'fragments: %.1f KiB a socket for a %d-byte unfinished message (at most '
       '%.0f KiB: --max-message + 16 KiB)' % (per, n_frags, limit))
    # The held messages can still be finished: the gateway answers them (not JSON: -32700).
    held[0].send_raw(C.frame(0, b'a', fin=True))
    msg = held[0].next_message()
    ok(isinstance(msg, dict) and msg.get('error', {}).get('code') == -32700,
       'fragments: the finished message is read whole (got %r)' % (msg,))
    for w in held:
        w.close()
    ok(gw.alive(), 'fragments: gateway alive')
    gw.stop()


# ---- 2. texts cut to fit stay UTF-8 ----

def utf8_ok(b):
    try:
        b.decode('utf-8', 'strict')
        return True
    except UnicodeDecodeError:
        return False


def next_raw_close(ws, limit=5.0):
    """Skips text messages up to the close frame; returns (code, raw reason) or the frame."""
    texts = []
    while True:
        f = ws.recv_frame(limit)
        if f is None or f[0] == 'eof':
            return texts, f
        if f[0] == 0x1:
            texts.append(f[1])
            continue
        if f[0] == 0x8:
            return texts, (struct.unpack('>H', f[1][:2])[0] if len(f[1]) >= 2 else 1005, f[1][2:])


def run_utf8(binary):
    gw = C.Gateway(binary, ['--pool', dead_pool(), '--wallet', WALLET, '--consent-keys', KEYS, '--max-per-ip', '0',
                            '--quiet'], 'utf8')
    # An odd number of ASCII bytes before two-byte characters: any byte limit can fall
    # inside a character.
    for prefix in ('a', 'ab'):
        name = prefix + '\u00e9' * 150
        msg = json.dumps({'id': 7, 'jsonrpc': '2.0', 'method': name}, ensure_ascii=False)
        # Before login: an error reply, then close 1008 with the error as its reason.
        ws = C.WS(gw)
        ws.send_text(msg)
        texts, close = next_raw_close(ws)
        ok(len(texts) == 1 and utf8_ok(texts[0]) and b'unknown method' in texts[0],
           'utf8 %s: unknown non-ASCII method before login: an error reply (got %r)'
           % (prefix, texts))
        ok(isinstance(close, tuple) and close[0] == 1008 and utf8_ok(close[1]) and
           len(close[1]) <= 123, 'utf8 %s: before login: close 1008 with a valid UTF-8 reason '
           '(got %r)' % (prefix, close))
        ws.close()
        # After login: the error reply comes, and the session goes on.
        ws = C.WS(gw)
        r = login(ws)
        ok(isinstance(r, dict) and r.get('result'), 'utf8: login (%r)' % (r,))
        ws.send_text(msg)
        f = ws.recv_frame(3)
        ok(f is not None and f[0] == 0x1 and utf8_ok(f[1]) and
           json.loads(f[1]).get('error', {}).get('code') == -32601,
           'utf8 %s: unknown non-ASCII method after login: a -32601 reply (got %r)'
           % (prefix, f and f[1][:80]))
        ws.send_text(json.dumps({'id': 9, 'method': 'keepalived', 'params': {}}))
        r = ws.next_message()
        ok(isinstance(r, dict) and r.get('id') == 9, 'utf8 %s: session goes on (%r)' % (prefix, r))
        ws.close()
    # A parse error quoting non-ASCII input, before login.
    for prefix in ('', 'x'):
        ws = C.WS(gw)
        ws.send_text(('{"id":1,"method":"%s' % prefix + '\u20ac' * 80 + '" x').encode())
        texts, close = next_raw_close(ws)
        ok(len(texts) == 1 and utf8_ok(texts[0]),
           'utf8 parse error quoting non-ASCII: a reply (got %r)' % (texts,))
        ok(isinstance(close, tuple) and utf8_ok(close[1]),
           'utf8 parse error quoting non-ASCII: valid close reason (got %r)' % (close,))
        ws.close()
    ok(gw.alive(), 'utf8: gateway alive')
    gw.stop()
    # A pool refusing the login with a long non-ASCII reason: the upstream's state, cut
    # to fit, is still valid UTF-8 in /stats and in stale-share replies.
    def script(pool, req, send):
        send({'id': req['id'], 'jsonrpc': '2.0',
              'error': {'code': -1, 'message': '\u00e9' * 200}})
    pool = FakePool(script)
    gw = C.Gateway(binary, ['--pool', '127.0.0.1:%d' % pool.port, '--wallet', WALLET, '--consent-keys', KEYS,
                            '--max-per-ip', '0', '--quiet'], 'utf8-pool')
    end = time.time() + 10 * SLACK
    while pool.accepted < 1 and time.time() < end:
        time.sleep(0.1)
    time.sleep(0.5)
    s = gw.connect()
    s.sendall(b'GET /stats HTTP/1.1\r\nHost: x\r\n\r\n')
    status, _, body = C.read_response(s)
    s.close()
    ok(status == 200 and utf8_ok(body) and '\u00e9' in json.dumps(json.loads(body),
                                                                   ensure_ascii=False),
       'utf8: /stats with a pool non-ASCII refusal cut to fit (got %s %r)' % (status, body[:80]))
    ws = C.WS(gw)
    r = login(ws)
    sid = r['result']['id'] if isinstance(r, dict) and r.get('result') else ''
    ws.send_text(json.dumps({'id': 5, 'method': 'submit', 'params': {
        'id': sid, 'job_id': 'x', 'nonce': '00000000', 'result': '0' * 64}}))
    r = ws.next_message()
    ok(isinstance(r, dict) and r.get('error', {}).get('code') == -101,
       'utf8: a stale-share reply quoting the pool reason (got %r)' % (r,))
    ws.close()
    gw.stop()
    pool.close()


# ---- 3. per-IP limit: 429 closed at once; IPv6 by prefix ----

def run_perip(binary):
    gw = C.Gateway(binary, ['--pool', dead_pool(), '--wallet', WALLET, '--consent-keys', KEYS, '--max-per-ip', '2',
                            '--quiet'], 'perip')
    time.sleep(0.3)
    base = open_fds(gw.proc.pid)
    held = [gw.connect() for _ in range(2)]
    refused, statuses = [], []
    for _ in range(30):
        s = gw.connect()
        s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
        status, _, _ = C.read_response(s)
        statuses.append(status)
        refused.append(s)  # kept open by this side
    ok(all(st == 429 for st in statuses), 'perip: 30 connections over the limit answered 429 '
       '(got %s)' % sorted(set(statuses), key=str))
    time.sleep(0.3 * SLACK)
    extra = open_fds(gw.proc.pid) - base
    print('perip: %d descriptors held 0.3 s after 30 refusals (2 allowed connections)' % extra,
          flush=True)
    ok(extra <= 2 + 1, 'perip: refused connections closed at once: %d sockets held 0.3 s later, '
       'expected the 2 allowed' % extra)
    eofs = 0
    for s in refused:
        data, closed = C.read_until_closed(s, 0.2)
        eofs += closed
        s.close()
    ok(eofs == len(refused), 'perip: every refused socket ended (%d of %d)' % (eofs, len(refused)))
    for h in held:
        h.close()
    time.sleep(0.3)
    s = gw.connect()
    s.sendall(b'GET /stats HTTP/1.1\r\nHost: x\r\n\r\n')
    status, _, _ = C.read_response(s)
    s.close()
    ok(status == 200, 'perip: served again once the held ones closed (got %s)' % status)
    gw.stop()


NET = '2001:db8:7'


class Gateway6(C.Gateway):
    """The gateway on an IPv6 address of the namespace's lo."""

    def __init__(self, binary, args, name):
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix='cm-gw-%s-' % name, suffix='.log',
                                               delete=False)
        self.proc = subprocess.Popen([binary, 'gateway', '--listen', '[%s::1]:0' % NET] + args,
                                     stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline().decode()
        m = re.search(r'listening on .*:(\d+)$', line.strip())
        if not m:
            raise SystemExit('gateway %s did not start: %s\n%s' % (name, line, self.stderr()))
        self.port = int(m.group(1))

    def connect_from(self, src):
        s = socket.socket(socket.AF_INET6)
        s.setsockopt(socket.SOL_IP, 15, 1)  # IP_FREEBIND: any address of the routed /48
        s.bind((src, 0))
        s.settimeout(5 * SLACK)
        s.connect(('%s::1' % NET, self.port))
        return s

    def status_from(self, src):
        s = self.connect_from(src)
        s.sendall(b'GET /stats HTTP/1.1\r\nHost: x\r\n\r\n')
        status, _, _ = C.read_response(s)
        s.close()
        return status


def run_ipv6_inside(binary):
    """Runs in its own network namespace (see run_ipv6)."""
    for cmd in (['ip', 'link', 'set', 'lo', 'up'],
                ['ip', '-6', 'addr', 'add', '%s::1/48' % NET, 'dev', 'lo', 'nodad'],
                ['ip', '-6', 'route', 'add', 'local', '%s::/48' % NET, 'dev', 'lo', 'table',
                 'local']):
        subprocess.run(cmd, check=True)
    # 2001:db8:7:100::/64 and 2001:db8:7:101::/64 share a /56; 2001:db8:7:200:: does not.
    for prefix, same64, other64 in ((None, 429, 200), ('128', 200, 200), ('56', 429, 429)):
        args = ['--pool', dead_pool(), '--wallet', WALLET, '--consent-keys', KEYS, '--max-per-ip', '3', '--quiet']
        if prefix:
            args += ['--ipv6-prefix', prefix]
        gw = Gateway6(binary, args, 'ipv6')
        what = 'ipv6 (--ipv6-prefix %s)' % (prefix or 'default')
        held = [gw.connect_from('%s:100::%x' % (NET, 0x10 + i)) for i in range(3)]
        st = gw.status_from('%s:100::99' % NET)
        ok(st == same64, '%s: a 4th address of the same /64: %s (got %s)' % (what, same64, st))
        st = gw.status_from('%s:101::5' % NET)
        ok(st == other64, '%s: an address of another /64 in the /56: %s (got %s)'
           % (what, other64, st))
        st = gw.status_from('%s:200::5' % NET)
        ok(st == 200, '%s: an address of another /56: 200 (got %s)' % (what, st))
        for h in held:
            h.close()
        gw.stop()


def run_ipv6(binary):
    unshare = shutil.which('unshare')
    if not unshare or subprocess.run([unshare, '-rn', 'true']).returncode:
        print('ipv6: skipped: needs unshare -rn (a user and network namespace) to route a /48 '
              'on lo', flush=True)
        sys.exit(77)
    r = subprocess.run([unshare, '-rn', sys.executable, os.path.abspath(__file__), binary,
                        '--only', 'ipv6-inside'])
    ok(r.returncode == 0, 'ipv6: the checks inside the namespace passed (exit %s)' % r.returncode)


# ---- 4. RLIMIT_NOFILE ----

def run_nofile(binary):
    for max_conns, soft, hard, warn in ((20000, 256, 4096, True), (100, 256, 4096, False)):
        def lower():
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        log = tempfile.NamedTemporaryFile(prefix='cm-gw-nofile-', suffix='.log', delete=False)
        proc = subprocess.Popen([binary, 'gateway', '--listen', '127.0.0.1:0', '--pool',
                                 dead_pool(), '--wallet', WALLET, '--consent-keys', KEYS, '--max-conns', str(max_conns),
                                 '--quiet'], stdout=subprocess.PIPE, stderr=log,
                                preexec_fn=lower)
        proc.stdout.readline()
        limits = open('/proc/%d/limits' % proc.pid).read()
        m = re.search(r'Max open files\s+(\d+)\s+(\d+)', limits)
        proc.terminate()
        proc.wait(20)
        err = open(log.name, errors='replace').read()
        os.unlink(log.name)
        what = 'nofile (soft %d, hard %d, --max-conns %d)' % (soft, hard, max_conns)
        ok(m and int(m.group(1)) == hard, '%s: soft limit raised to the hard limit (got %s)'
           % (what, m and m.groups()))
        warned = [l for l in err.splitlines() if 'open files' in l or 'RLIMIT_NOFILE' in l]
        if warn:
            ok(warned and str(hard) in warned[0] and str(max_conns) in warned[0],
               '%s: a warning naming %d and %d (got %r)' % (what, hard, max_conns, warned))
            if warned:
                print('nofile: %s' % warned[0], flush=True)
        else:
            ok(not warned, '%s: no warning (got %r)' % (what, warned))


# ---- 5. outside text escaped in the log ----

class FakePool:
    """A stratum pool on 127.0.0.1 that logs the gateway in and then runs a script."""

    def __init__(self, script):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.script = script
        self.done = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        try:
            while True:
                c, _ = self.sock.accept()
                self.accepted += 1
                threading.Thread(target=self._serve, args=(c,), daemon=True).start()
        except OSError:
            pass

    def _serve(self, c):
        f = c.makefile('rwb')
        try:
            req = json.loads(f.readline())
            hang_up = self.script(self, req, lambda o: (f.write((json.dumps(o) + '\n').encode()),
                                                       f.flush()))
            while not hang_up and f.readline():
                pass
        except (OSError, ValueError):
            pass
        finally:
            c.close()

    def close(self):
        self.sock.close()


JOB = {'blob': '10109d97c3c20639e4a88de37e69f8af1235afa0f50a20a02d9ad6d0b979c642bc68aa746bebf4'
               '0000008fafef566106b728e059a9c4f304d99f81bd7a3804a5bdc2a63f088008f97c382a27',
       'job_id': 'J\u001b[2J', 'target': 'ffffff00', 'height': 7, 'algo': 'rx/0',
       'seed_hash': '27318467c624a537d02531b291e253a2a02a9dc194810178586f536e3391c66f'}


def run_logs(binary):
    def script(pool, req, send):
        send({'id': req['id'], 'jsonrpc': '2.0', 'error': None,
              'result': {'id': 's1', 'job': JOB, 'status': 'OK'}})
        send({'jsonrpc': '2.0', 'method': 'm\u001b]0;pool-title\u0007'})
    pool = FakePool(script)
    gw = C.Gateway(binary, ['--pool', '127.0.0.1:%d' % pool.port, '--wallet', WALLET, '--consent-keys', KEYS,
                            '--origin', 'http://good.example', '--max-per-ip', '0'], 'logs')
    time.sleep(1.0 * SLACK)
    # An Origin with 8-bit control bytes (http-parser refuses C0 controls in headers, not
    # these; 0x9b is CSI to an 8-bit terminal, U+009B in UTF-8 to a UTF-8 one): refused,
    # and the refusal quotes it.
    s = gw.connect()
    s.sendall((C.UPGRADE % (C.WS_KEY, 'Origin: http://evil\x9b31m.example\xc2\x9b2J\r\n'
                                      'User-Agent: agent\x9b7m\r\n')).encode('latin-1'))
    status, _, _ = C.read_response(s)
    s.close()
    ok(status == 403, 'logs: origin with 8-bit controls refused (got %s)' % status)
    # Agent and method names with escapes, after and before login.
    ws = C.WS(gw)
    ws.send_text(json.dumps({'id': 1, 'method': 'login', 'params': {
        'login': 'x', 'agent': 'A\u001b[2J\u0007\u00e9', 'algo': ['rx/0'],
        'consent': C.mint()}}))
    r = ws.next_message()
    ok(isinstance(r, dict) and r.get('result'), 'logs: login with an escaped agent (%r)' % (r,))
    ws.close()
    ws = C.WS(gw)
    ws.send_text(json.dumps({'id': 2, 'method': 'evil\u001b[1;1H\r\nforged'}))
    ws.next_message()
    ws.close()
    time.sleep(0.5)
    err = gw.stop()
    pool.close()
    raw = open(gw.log.name, 'rb').read()
    bad = sorted(set(b for b in raw if (b < 0x20 and b != 0x0a) or b >= 0x7f))
    lines = [l for l in raw.split(b'\n') if l]
    unstamped = [l for l in lines if not re.match(rb'\d{4}-\d\d-\d\dT', l)]
    ok(not bad, 'logs: no control or non-ASCII byte in the log (found %s)'
       % ', '.join('0x%02x' % b for b in bad))
    ok(not unstamped, 'logs: every log line is one of the gateway\'s (forged: %r)'
       % unstamped[:3])
    for needle in ('evil\\x9b31m.example\\xc2\\x9b2J', '\\x1b[2J', '\\x1b]0;pool-title\\x07'):
        ok(needle in err, 'logs: the escaped text %s is in the log' % needle)
    print('logs: %d lines, %d of them quoting escaped outside text'
          % (len(lines), sum(1 for l in lines if b'\\x' in l)), flush=True)


# ---- 6. static files off the loop ----

def read_big_response(s, limit):
    """One HTTP response with a large body, read to EOF: (status, headers, body)."""
    buf = bytearray()
    end = time.time() + limit
    while time.time() < end:
        r, _, _ = select.select([s], [], [], 1)
        if not r:
            continue
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
    head, _, body = bytes(buf).partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(':') for l in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def run_static(binary):
    root = tempfile.mkdtemp(prefix='cm-gw-static-big-')
    size = 48 << 20
    with open(os.path.join(root, 'big.bin'), 'wb') as f:
        block = os.urandom(1 << 20)
        for _ in range(size >> 20):
            f.write(block)
    with MeasuredMemory():
        gw = C.Gateway(binary, ['--pool', dead_pool(), '--wallet', WALLET, '--consent-keys', KEYS, '--static', root,
                                '--max-per-ip', '0', '--handshake-timeout', '120', '--quiet'],
                       'static')
    try:
        # Whole and intact first.
        s = gw.connect()
        s.sendall(b'GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n')
        status, headers, body = read_big_response(s, 120 * SLACK)
        s.close()
        ok(status == 200 and len(body) == size and body[:1 << 20] == block and
           body[-(1 << 20):] == block, 'static: the 48 MiB file arrives whole (%s, %d bytes)'
           % (status, len(body)))
        s = gw.connect()
        s.sendall(b'HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n')
        status, headers, body = C.read_response(s, 10)
        s.close()
        ok(status == 200 and headers.get('content-length') == str(size) and body == b'',
           'static: HEAD gives the length and no body (%s %r)' % (status, headers.get(
               'content-length')))
        del body
        time.sleep(0.5)
        rss0 = vmrss_kib(gw.proc.pid)
        ws = C.WS(gw)
        # The machine's own noise first (it is shared and may be busy): pings alone.
        base = []
        end = time.time() + 3
        while time.time() < end:
            r = ping(ws)
            base.append(r if r is not None else 10.0)
            time.sleep(0.02)
        base.sort()
        base_p99 = base[int(len(base) * 0.99)]
        stop = threading.Event()
        started = [0]

        def slow_reader():
            # Starts a download, takes a little of it slowly, gives up, starts again.
            while not stop.is_set():
                s = gw.connect()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
                s.sendall(b'GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n')
                started[0] += 1
                got = 0
                while got < (4 << 20) and not stop.is_set():
                    r, _, _ = select.select([s], [], [], 0.05)
                    if r:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        got += len(chunk)
                    time.sleep(0.01)
                s.close()
        readers = [threading.Thread(target=slow_reader, daemon=True) for _ in range(4)]
        for t in readers:
            t.start()
        rtts, peak = [], 0
        end = time.time() + 8
        while time.time() < end:
            r = ping(ws)
            rtts.append(r if r is not None else 10.0)
            peak = max(peak, vmrss_kib(gw.proc.pid))
            time.sleep(0.02)
        stop.set()
        for t in readers:
            t.join(10)
        ws.close()
        rtts.sort()
        p50, p99 = rtts[len(rtts) // 2], rtts[int(len(rtts) * 0.99)]
        grew = (peak - rss0) / 1024
        print('static: %d downloads started by 4 slow readers of a 48 MiB file; ping '
              'round trip p50 %.1f ms, p99 %.1f ms, max %.1f ms over %d pings (alone: p99 '
              '%.1f ms); RSS +%.1f MiB' % (started[0], p50 * 1000, p99 * 1000, rtts[-1] * 1000,
                                           len(rtts), base_p99 * 1000, grew), flush=True)
        # Reading a 48 MiB file whole stalled the loop about 60-100 ms a request.
        limit = (2 * base_p99 + 0.05) * SLACK
        ok(p99 < limit, 'static: ping p99 %.1f ms while large files download slowly (under '
           '%.0f ms: twice the p99 of pings alone, plus 50 ms)' % (p99 * 1000, limit * 1000))
        ok(grew < 32, 'static: RSS grew %.1f MiB with 4 slow downloads (under 32 MiB)' % grew)
        ok(gw.alive(), 'static: gateway alive')
    finally:
        gw.stop()
        shutil.rmtree(root, ignore_errors=True)


# ---- 7. client.reconnect only to the pool given ----

def run_reconnect(binary):
    other = socket.socket()
    other.bind(('127.0.0.2', 0))
    other.listen(8)
    other.settimeout(0.2)
    oport = other.getsockname()[1]

    def script(pool, req, send):
        send({'id': req['id'], 'jsonrpc': '2.0', 'error': None,
              'result': {'id': 's%d' % pool.accepted, 'job': dict(JOB, job_id='R'),
                         'status': 'OK'}})
        if pool.accepted == 1:
            time.sleep(0.3)
            send({'jsonrpc': '2.0', 'method': 'client.reconnect',
                  'params': ['127.0.0.2', oport, 0]})
            time.sleep(1.5)
            send({'jsonrpc': '2.0', 'method': 'client.reconnect',
                  'params': {'host': '127.0.0.1', 'port': pool.port, 'wait': 0}})
    pool = FakePool(script)
    gw = C.Gateway(binary, ['--pool', '127.0.0.1:%d' % pool.port, '--wallet', WALLET, '--consent-keys', KEYS,
                            '--max-per-ip', '0'], 'reconnect')
    strays = 0
    end = time.time() + 5 * SLACK
    while time.time() < end and pool.accepted < 2:
        try:
            c, _ = other.accept()
            strays += 1
            c.close()
        except socket.timeout:
            pass
    err = gw.stop()
    pool.close()
    other.close()
    ok(strays == 0, 'reconnect: no connection to 127.0.0.2, a host not given with --pool '
       '(got %d)' % strays)
    ok(re.search(r'client\.reconnect to 127\.0\.0\.2:%d.*ignored' % oport, err) is not None,
       'reconnect: the ignored redirect is logged')
    ok(pool.accepted == 2, 'reconnect: a redirect to the --pool host is followed (%d '
       'connections)' % pool.accepted)


TESTS = {
    'fragments': run_fragments, 'utf8': run_utf8, 'perip': run_perip, 'ipv6': run_ipv6,
    'ipv6-inside': run_ipv6_inside, 'nofile': run_nofile, 'logs': run_logs,
    'static': run_static, 'reconnect': run_reconnect,
}


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    binary = sys.argv[1]
    # ipv6 runs alone (its own ctest entry): it exits 77, skipped, without namespaces.
    only = sys.argv[sys.argv.index('--only') + 1].split(',') if '--only' in sys.argv else \
        [k for k in TESTS if k not in ('ipv6', 'ipv6-inside')]
    for name in only:
        t0 = time.time()
        TESTS[name](binary)
        print('-- %s: %.1f s' % (name, time.time() - t0), flush=True)
    print('%d checks passed, %d failed' % (C.passes, len(C.failures)))
    for f in C.failures:
        print('  - ' + f)
    return 1 if C.failures else 0


if __name__ == '__main__':
    sys.exit(main())
