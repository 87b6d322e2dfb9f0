// consentminer tests — random (key, input) pairs for the wasm/native hash comparison.
//
//   node tests/wasm/gen-pairs.mjs COUNT SEED [KEYS]   -> lines "KEY_HEX INPUT_HEX", grouped by key
//
// Few keys, many inputs: a key costs a cache initialisation (about a second in wasm), a
// hash about 0.4 s. KEYS keys (default one per 100 pairs, at least 2): a 32-byte seed
// hash as Monero uses, then keys of 1..64 bytes. Inputs of 0..1024 bytes, half of them
// 43..127 bytes like hashing blobs. Deterministic for a given SEED (and KEYS).
const [count = '1000', seedArg = '1', keysArg] = process.argv.slice(2);
const n = Number(count);
let s = BigInt(seedArg) & 0xffffffffffffffffn;
function next() { // splitmix64
  s = (s + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
  let z = s;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
  return z ^ (z >> 31n);
}
const int = (m) => Number(next() % BigInt(m));
const hex = (len) => Array.from({ length: len }, () => int(256).toString(16).padStart(2, '0')).join('');
const keys = keysArg !== undefined ? Math.max(1, Math.min(n, Number(keysArg))) : Math.max(n >= 2 ? 2 : 1, Math.ceil(n / 100));
const out = [];
for (let k = 0; k < keys; k++) {
  const key = hex(k === 0 ? 32 : 1 + int(64));
  const per = Math.floor(n / keys) + (k < n % keys ? 1 : 0);
  for (let i = 0; i < per; i++) {
    const r = int(4);
    const len = r < 2 ? 43 + int(85) : r === 2 ? int(43) : int(1025);
    out.push(`${key} ${hex(len)}`);
  }
}
process.stdout.write(out.join('\n') + '\n');
