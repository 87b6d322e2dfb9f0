#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, from the malformed-input vectors of the tests.

    python3 fuzz/make_seeds.py VECTORS_DIR OUT_DIR

Writes OUT_DIR/http, OUT_DIR/ws and OUT_DIR/msg, one file per case: every request of
gateway_http.txt, every frame sequence of gateway_frames.txt (and every message of
gateway_messages.txt as a masked text frame), every message of gateway_messages.txt
(its ${TOKEN ...} consent tokens signed with fuzz_msg.c's key); and for http, every
PROXY line and X-Forwarded-For value of gateway_proxy.txt before a request.
The http and ws targets read their first byte as the read size, so seeds get one.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests',
                                'gateway'))
import corpus  # noqa: E402
from corpus import cases, frame, repeat_macros, substitute, unescape  # noqa: E402

# Tokens in the seeds are signed with fuzz_msg.c's key and dated by its fixed clock, so
# the target reaches the checks after a matching signature.
corpus.CONSENT_KID = 'fuzz'
corpus.CONSENT_KEY = bytes(range(32))
corpus.clock = lambda: 1795000000000


def main():
    vectors, out = sys.argv[1], sys.argv[2]
    for d in ('http', 'ws', 'msg'):
        os.makedirs(os.path.join(out, d), exist_ok=True)

    def put(kind, i, data):
        with open(os.path.join(out, kind, 'seed-%03d' % i), 'wb') as f:
            f.write(data)

    for no, (_, request) in cases(os.path.join(vectors, 'gateway_http.txt'), 2):
        put('http', no, bytes([no % 64]) + unescape(repeat_macros(request)))
    request = 'GET /ws HTTP/1.1\\r\\nHost: x\\r\\nX-Forwarded-For: %s\\r\\n\\r\\n'
    with open(os.path.join(vectors, 'gateway_proxy.txt'), encoding='utf-8') as f:
        for no, line in enumerate(f, 1):
            field = line.rstrip('\n').split(' | ')
            if field[0] == 'proxy':
                text = field[1] + request % '203.0.113.7'
            elif field[0] == 'xff':
                text = request % field[2]
            else:
                continue
            put('http', 2000 + no, bytes([no % 64]) + unescape(repeat_macros(text)))
    for no, (_, spec) in cases(os.path.join(vectors, 'gateway_frames.txt'), 2):
        raw = b''.join(bytes.fromhex(repeat_macros(p).replace(' ', '')) for p in spec.split('|'))
        put('ws', no, bytes([no % 200]) + raw)
    for no, (_, _, text) in cases(os.path.join(vectors, 'gateway_messages.txt'), 3):
        msg = substitute(text, '0123456789abcdef').encode()
        put('msg', no, msg)
        put('ws', 1000 + no, bytes([no]) + frame(1, msg))
    print('seeds written to %s (%s)' % (out, time.strftime('%H:%M:%S')))


if __name__ == '__main__':
    main()
