// Where the repository is, for the browser tests. The site and the gateway they test
// against are started by real-stack.mjs (two origins, as a site deploys them).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
