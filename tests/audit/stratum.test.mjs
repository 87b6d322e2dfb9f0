// The audit's stratum detection against tests/vectors/audit_stratum.txt: what is a
// stratum request (and so mining, whatever carries it) and what is not.
//   node --test tests/audit/stratum.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { stratumIn } from '../../audit/evidence.mjs';
import { ROOT } from './server.mjs';

const lines = fs.readFileSync(path.join(ROOT, 'tests/vectors/audit_stratum.txt'), 'utf8').split('\n');
const cases = lines.filter((l) => l && !l.startsWith('#')).map((l) => {
  const tab = l.indexOf('\t');
  return { expect: l.slice(0, tab), text: l.slice(tab + 1).replaceAll('\\n', '\n') };
});

test('the vectors file has cases of both kinds', () => {
  assert.ok(cases.some((c) => c.expect === 'none') && cases.some((c) => c.expect !== 'none'));
});

for (const [i, c] of cases.entries()) {
  test(`case ${i + 1}: ${c.expect} in ${c.text.slice(0, 60)}`, () => {
    const found = stratumIn(c.text);
    assert.deepEqual(found, c.expect === 'none' ? [] : c.expect.split(','));
  });
}
