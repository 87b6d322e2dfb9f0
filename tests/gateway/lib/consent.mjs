// Consent tokens for test clients, obtained the way the consent frame obtains them: POST
// /consent/grant on the gateway with the frame's Origin (node sets that header as any
// non-browser client can; a page script in a browser cannot). Plus the test's own
// signer, for tokens under a key file the test wrote (expired ones, other keys), written
// from the contract (docs/design.md, consent tokens) with node's crypto, not with the
// gateway's code, so the two check each other.
import { createHmac, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';

// ws://host:port/ws (or wss:) -> http://host:port: the frame origin of a gateway that
// serves the frame itself (no --public-origin).
export function frameOrigin(wsUrl) {
  const u = new URL(wsUrl);
  return `${u.protocol === 'wss:' ? 'https:' : 'http:'}//${u.host}`;
}

// POST /consent/<what> with the frame's Origin. Resolves { status, body }.
export async function consentPost(wsUrl, what, body, { origin = frameOrigin(wsUrl), fetchImpl = fetch } = {}) {
  const r = await fetchImpl(`${frameOrigin(wsUrl)}/consent/${what}`, {
    method: 'POST', headers: { Origin: origin, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* left null */ }
  return { status: r.status, headers: r.headers, body: json, text };
}

// A grant and its first session token: { grant, session, expires_at, session_expires_at }.
export async function grantConsent(wsUrl, { site = 'consentminer-test', threads = 1, throttle = 100,
                                            remember_s = 3600, ...rest } = {}) {
  const r = await consentPost(wsUrl, 'grant', { site, threads, throttle, remember_s }, rest);
  if (r.status !== 200) throw new Error(`POST /consent/grant: ${r.status} ${r.text}`);
  return r.body;
}

// Just the session token a login carries.
export async function sessionToken(wsUrl, opts) {
  return (await grantConsent(wsUrl, opts)).session;
}

// ---- the test's own signer ----

const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function newKey() {
  return randomBytes(32).toString('hex');
}

// Writes a --consent-keys file: keys is [[kid, hexkey], ...], the first signs.
export function writeKeyFile(path, keys) {
  writeFileSync(path, `# consentminer test keys\n${keys.map(([k, h]) => `${k} ${h}`).join('\n')}\n`);
  return path;
}

// A token as the contract defines it, signed with hexKey under kid. fields override the
// defaults (a session token valid for an hour).
export function mintToken(kid, hexKey, fields = {}) {
  const now = Date.now();
  const payload = {
    v: 1, kid, kind: 'session', site: 'consentminer-test', granted_at: now,
    expires_at: now + 3600_000, threads: 1, throttle: 100,
    id: randomBytes(16).toString('hex'), grant: randomBytes(16).toString('hex'), ...fields,
  };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  const p = b64url(JSON.stringify(payload));
  const sig = createHmac('sha256', Buffer.from(hexKey, 'hex')).update(p).digest();
  return `${p}.${b64url(sig)}`;
}

// The payload of a token (no check).
export function tokenPayload(token) {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
}
