// Which engines the runtime keeps off the JIT by default: JavaScriptCore, told by a user
// agent that names AppleWebKit and no Chrome (Safari, WebKitGTK, every iOS browser).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isJavaScriptCore } from '../../wasm/js/env.mjs';

test('JavaScriptCore is told apart from Blink and Gecko by the user agent', () => {
  const cases = [
    [true, 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15'],
    [true, 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15'],
    [true, 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/130.0 Mobile/15E148 Safari/604.1'],
    [false, 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36'],
    [false, 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36'],
    [false, 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0'],
    [false, 'Node.js/20'],
    [false, ''],
  ];
  for (const [want, ua] of cases) assert.equal(isJavaScriptCore(ua), want, ua);
});
