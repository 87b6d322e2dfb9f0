// consentminer tests — the one consent rule in JavaScript: every case of
// tests/vectors/consent_records.txt through wasm/js/consent.mjs (checkConsent), the same
// cases tests/unit/test_consent_vectors.c runs through core/src/consent.c.
//
//   node --test tests/wasm/consent-vectors.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { checkConsent } from '../../wasm/js/consent.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const file = process.env.CM_CONSENT_VECTORS || path.join(root, 'tests/vectors/consent_records.txt');

// A field as JSON would carry it: "-" absent, nan and inf as the doubles they name.
function field(text) {
  if (text === '-') return undefined;
  if (/^[+-]?nan$/i.test(text)) return NaN;
  if (/^[+-]?inf(inity)?$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  const v = Number(text);
  if (Number.isNaN(v)) throw new Error(`${file}: "${text}" is not a number, nan, inf or -`);
  return v;
}

function cases() {
  const out = [];
  fs.readFileSync(file, 'utf8').split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(\S+) (\S+) (\S+) (\S+) (\S+) -> (ok|consent-invalid|consent-expired) (\S+)$/.exec(line);
    if (!m) throw new Error(`${file}:${i + 1}: expected "granted_at expires_at threads throttle now -> result word", got "${line}"`);
    const [g, e, threads, throttle, now] = m.slice(1, 6).map(field);
    const record = {};
    if (g !== undefined) record.granted_at = g;
    if (e !== undefined) record.expires_at = e;
    if (threads !== undefined) record.threads = threads;
    if (throttle !== undefined) record.throttle = throttle;
    out.push({ line: i + 1, text: line, record, now, result: m[6], word: m[7] });
  });
  return out;
}

test('wasm/js/consent.mjs gives every case of consent_records.txt its result', () => {
  const all = cases();
  assert.ok(all.length >= 30, `${all.length} cases in ${file}`);
  const wrong = [];
  for (const c of all) {
    const problem = checkConsent(c.record, c.now);
    const got = problem ? problem.reason : 'ok';
    if (got !== c.result) wrong.push(`line ${c.line} (${c.text}): got ${got}${problem ? ` (${problem.message})` : ''}`);
    else if (c.word !== '-' && !problem.message.includes(c.word)) wrong.push(`line ${c.line} (${c.text}): message "${problem.message}" does not name ${c.word}`);
  }
  assert.deepEqual(wrong, [], `${wrong.length} of ${all.length} cases differ from the rule`);
});
