// consentminer — differential test of the SuperscalarHash translator, node half.
//   node run_ss.mjs DIR
// DIR holds what ss_gen wrote: ss_params.json, ss_<k>.wasm, ss_<k>.items. Each module's
// "item" runs against a memory holding the same cache image as ss_gen's, at the same base,
// and every item must equal RandomX's initDatasetItem bit for bit. Odd sets import a
// shared memory (jit.h's shared_memory), even ones a plain one.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
const params = JSON.parse(readFileSync(join(dir, "ss_params.json"), "utf8"));
const CACHE_SIZE = 256 * 1024 * 1024; // randomx::CacheSize (RANDOMX_ARGON_MEMORY KiB)
const base = params.cacheBase;
const outAt = base + CACHE_SIZE; // 64 bytes for the item, after the cache
const pages = Math.ceil((outAt + 64) / 65536);

// ss_gen's ss_fill: word i of the cache image.
function fill(words, seed) {
  for (let i = 0; i < words.length; i++) {
    let h = (Math.imul(i, 0x9e3779b9) + seed) | 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    words[i] = h;
  }
}

function makeMemory(shared) {
  const memory = shared
    ? new WebAssembly.Memory({ initial: pages, maximum: 65536, shared: true })
    : new WebAssembly.Memory({ initial: pages });
  fill(new Uint32Array(memory.buffer, base, CACHE_SIZE / 4), params.fillSeed >>> 0);
  return memory;
}
const memories = [makeMemory(false)];
if (params.sets > 1) memories.push(makeMemory(true));

let checked = 0;
let failures = 0;
for (let k = 0; k < params.sets; k++) {
  const memory = memories[k % 2];
  const bytes = readFileSync(join(dir, `ss_${k}.wasm`));
  const { instance } = await WebAssembly.instantiate(bytes, { env: { memory } });
  const item = instance.exports.item;
  const out = new Uint8Array(memory.buffer, outAt, 64);
  const recs = readFileSync(join(dir, `ss_${k}.items`));
  for (let off = 0; off < recs.length; off += 68) {
    const number = recs.readUInt32LE(off);
    item(number | 0, outAt);
    const want = recs.subarray(off + 4, off + 68);
    if (Buffer.compare(Buffer.from(out), want) !== 0) {
      if (failures++ < 5) {
        console.error(
          `set ${k} item ${number}: got ${Buffer.from(out).toString("hex")}\n` +
            `  want ${want.toString("hex")}`,
        );
      }
    }
    checked++;
  }
}
if (failures) {
  console.error(`run_ss: ${failures} of ${checked} items differ`);
  process.exit(1);
}
console.log(`run_ss: ${checked} items in ${params.sets} sets equal RandomX's`);
