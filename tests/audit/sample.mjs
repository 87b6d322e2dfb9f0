// Prints the README's sample audit reports: `consentminer audit` of the audit's element
// fixture (consent-ui's element, the real gateway and consent frame, regtest monerod), in
// English and Japanese, each with the command line that made it and its exit status, and
// saves the disclosure screenshots under docs/screenshots/. Needs the native and wasm
// builds and monerod, as tests/audit/run.sh does.
//
//   node tests/audit/sample.mjs [--seconds 5]
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startFixtures, ROOT } from './server.mjs';

const i = process.argv.indexOf('--seconds');
const seconds = i > 0 ? process.argv[i + 1] : '5';
const cli = process.env.CONSENTMINER || path.join(ROOT, 'build/native/consentminer');

function run(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(cli, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out }));
  });
}

const fx = await startFixtures();
let failed = false;
try {
  if (fx.missing.length) throw new Error(`real parts missing: ${fx.missing.join('; ')}`);
  for (const lang of ['en', 'ja']) {
    const args = ['audit', fx.page('element'), '--seconds', seconds, '--accept',
      ...(lang === 'ja' ? ['--lang', 'ja'] : []), '--screenshot', `docs/screenshots/audit-disclosure-${lang}.png`];
    const r = await run(args);
    console.log(`$ consentminer ${args.join(' ')}\n${r.out.trimEnd()}\n(exit ${r.code})\n`);
    if (r.code !== 0) failed = true;
  }
} finally {
  await fx.close();
}
process.exit(failed ? 1 : 0);
