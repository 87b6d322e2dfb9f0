// Builds consent-ui/dist: the element, its texts, the wasm runtime, its worker and the wasm
// files in one flat folder a site can serve as is, plus TypeScript declarations and an
// example page. Needs the wasm build first (bash scripts/build.sh wasm).
//
//   node consent-ui/build.mjs [--out DIR]
//
// In the repository the element finds the runtime at ../wasm/js/miner.mjs and the runtime
// finds the wasm at ../../build/wasm/; in dist all are side by side, so those two defaults
// are rewritten (and the build fails if either is not found exactly once).
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(here, 'dist');

function fail(msg) {
  console.error(`consent-ui build: ${msg}`);
  process.exit(1);
}

function rewriteOnce(text, from, to, file) {
  const n = text.split(from).length - 1;
  if (n !== 1) fail(`${file}: expected "${from}" once, found it ${n} times`);
  return text.replace(from, to);
}

const wasmDir = join(root, 'build', 'wasm');
const wasmFiles = ['consentminer.mjs', 'consentminer.wasm', 'consentminer-mt.mjs',
  'consentminer-mt.wasm', 'consentminer-mt.worker.js'];
for (const f of wasmFiles.slice(0, 2)) {
  if (!existsSync(join(wasmDir, f))) fail(`${join(wasmDir, f)} is missing: run bash scripts/build.sh wasm first`);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// The element and its texts.
for (const f of readdirSync(here)) {
  if (!/\.(js|css)$/.test(f) || f === 'build.mjs') continue;
  let text = readFileSync(join(here, f), 'utf8');
  if (f === 'consent-miner.js') text = rewriteOnce(text, "'../wasm/js/miner.mjs'", "'./miner.mjs'", f);
  writeFileSync(join(out, f), text);
}
if (existsSync(join(here, 'i18n'))) {
  mkdirSync(join(out, 'i18n'), { recursive: true });
  for (const f of readdirSync(join(here, 'i18n'))) copyFileSync(join(here, 'i18n', f), join(out, 'i18n', f));
}

// The runtime and its worker.
const jsDir = join(root, 'wasm', 'js');
for (const f of readdirSync(jsDir)) {
  if (!f.endsWith('.mjs')) continue;
  let text = readFileSync(join(jsDir, f), 'utf8');
  if (f === 'miner.mjs') text = rewriteOnce(text, "'../../build/wasm/'", "'./'", f);
  writeFileSync(join(out, f), text);
}

// The wasm builds (the shared-memory one only when it was built).
for (const f of wasmFiles) if (existsSync(join(wasmDir, f))) copyFileSync(join(wasmDir, f), join(out, f));

// Declarations and the example page.
for (const f of readdirSync(join(here, 'types'))) copyFileSync(join(here, 'types', f), join(out, f));
copyFileSync(join(here, 'example', 'index.html'), join(out, 'index.html'));

console.log(`consent-ui build: wrote ${readdirSync(out).length} files to ${out}`);
