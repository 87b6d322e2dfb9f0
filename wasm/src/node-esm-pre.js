// consentminer: prepended to Emscripten's ES-module glue (--extern-pre-js).
// Emscripten 3.1.6's node code calls require() and reads __dirname, which ES modules
// lack; give it both, in node only. Browsers never evaluate the dynamic imports.
const cmIsNode = typeof process === 'object' && typeof process.versions === 'object' &&
  typeof process.versions.node === 'string';
const require = cmIsNode ? (await import('node:module')).createRequire(import.meta.url) : undefined;
const __dirname = cmIsNode ? require('node:path').dirname(require('node:url').fileURLToPath(import.meta.url)) : '';
