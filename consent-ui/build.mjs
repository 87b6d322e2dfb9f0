// Builds consent-ui/dist: the host element a site includes (consent-miner.js, its
// declarations, a custom-elements manifest, an example page in dist/example/), and dist/frame/, the consent frame the gateway serves at
// /frame/ on its own origin (`consentminer gateway --frame-dir dist/frame`): its page,
// script, styles and texts, the wasm runtime, its worker and the wasm files, in one flat
// folder. Needs the wasm build first (bash scripts/build.sh wasm).
//
//   node consent-ui/build.mjs [--out DIR]
//
// In the repository the frame finds its texts at ../texts.js and the runtime at
// ../../wasm/js/miner.mjs, and the runtime finds the wasm at ../../build/wasm/; in
// dist/frame all are side by side, so those defaults are rewritten (and the build fails if
// one is not found exactly once).
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(here, 'dist');
const frameOut = join(out, 'frame');

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
mkdirSync(frameOut, { recursive: true });

// The host element: what the site serves (it imports nothing).
copyFileSync(join(here, 'consent-miner.js'), join(out, 'consent-miner.js'));

// The frame, its texts, the runtime and its worker.
for (const f of readdirSync(join(here, 'frame'))) {
  let text = readFileSync(join(here, 'frame', f), 'utf8');
  if (f === 'frame.js') {
    text = rewriteOnce(text, "'../texts.js'", "'./texts.js'", f);
    text = rewriteOnce(text, "'../../wasm/js/miner.mjs'", "'./miner.mjs'", f);
  }
  writeFileSync(join(frameOut, f), text);
}
copyFileSync(join(here, 'texts.js'), join(frameOut, 'texts.js'));
const jsDir = join(root, 'wasm', 'js');
for (const f of readdirSync(jsDir)) {
  if (!f.endsWith('.mjs')) continue;
  let text = readFileSync(join(jsDir, f), 'utf8');
  if (f === 'miner.mjs') text = rewriteOnce(text, "'../../build/wasm/'", "'./'", f);
  writeFileSync(join(frameOut, f), text);
}
// The wasm builds (the shared-memory one only when it was built).
for (const f of wasmFiles) if (existsSync(join(wasmDir, f))) copyFileSync(join(wasmDir, f), join(frameOut, f));

// Declarations, the custom-elements manifest, and the example page in a folder of its own
// (at dist/index.html it would overwrite a site's home page when dist/ is copied to a web
// root).
for (const f of readdirSync(join(here, 'types'))) copyFileSync(join(here, 'types', f), join(out, f));
copyFileSync(join(here, 'custom-elements.json'), join(out, 'custom-elements.json'));
mkdirSync(join(out, 'example'));
copyFileSync(join(here, 'example', 'index.html'), join(out, 'example', 'index.html'));

console.log(`consent-ui build: wrote ${readdirSync(out).length - 1} files and frame/ (${readdirSync(frameOut).length} files) to ${out}`);
