// The element as a site owner's toolchain meets it (issue 20): `npm pack` from a clean
// checkout builds and ships dist/ (the host element, its declarations, the manifest, the
// consent frame with the runtime and the wasm) and no page that would overwrite a site's
// home; the declarations match what consent-miner.js exports, under tsc --strict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib/server.mjs';

const UI = path.join(ROOT, 'consent-ui');
const TSC = path.join(ROOT, 'node_modules/.bin/tsc');
const built = fs.existsSync(path.join(ROOT, 'build/wasm/consentminer.wasm'));

test('npm pack ships dist/ with the element, its types, the manifest and the frame', { skip: !built && 'no wasm build' }, () => {
  fs.rmSync(path.join(UI, 'dist'), { recursive: true, force: true });
  const r = spawnSync('npm', ['pack', '--dry-run', '--json'], { cwd: UI, encoding: 'utf8', timeout: 180000 });
  assert.equal(r.status, 0, r.stderr);
  // prepack's own line comes first; the JSON report follows.
  const report = JSON.parse(r.stdout.slice(r.stdout.search(/^\[/m)));
  const files = report[0].files.map((f) => f.path);
  for (const f of ['dist/consent-miner.js', 'dist/consent-miner.d.ts', 'dist/miner.d.ts', 'dist/custom-elements.json',
    'dist/example/index.html', 'dist/frame/index.html', 'dist/frame/frame.js', 'dist/frame/theme.js', 'dist/frame/miner.mjs',
    'dist/frame/worker.mjs', 'dist/frame/consentminer.wasm', 'package.json']) {
    assert.ok(files.includes(f), `${f} not in the package: ${files.join(' ')}`);
  }
  assert.ok(!files.includes('dist/index.html'), 'an index.html at the top of dist/ would replace a site\'s home page');
  const manifest = JSON.parse(fs.readFileSync(path.join(UI, 'dist/custom-elements.json'), 'utf8'));
  const decl = manifest.modules[0].declarations[0];
  assert.equal(decl.tagName, 'consent-miner');
  const src = fs.readFileSync(path.join(UI, 'consent-miner.js'), 'utf8');
  assert.match(src, new RegExp(`export class ${decl.name}\\b`), 'the manifest names the class the module exports');
  for (const a of decl.attributes) assert.ok(src.includes(`'${a.name}'`), `attribute ${a.name} unknown to the element`);
});

test('the declarations match the module: a TypeScript sample passes tsc --strict', () => {
  assert.ok(fs.existsSync(TSC), 'typescript missing from node_modules: run scripts/setup.sh');
  const r = spawnSync(TSC, ['-p', path.join(ROOT, 'tests/browser/fixtures/ts')], { encoding: 'utf8', timeout: 120000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
