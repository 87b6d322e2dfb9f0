// consentminer runtime — the consent record, checked before anything is loaded.
//
// The one consent rule of core/src/consent.c, which checks the record again inside every
// worker before each hash; tests/vectors/consent_records.txt holds its cases and
// tests/wasm/consent-vectors.test.mjs runs them here. Times in whole milliseconds since
// the epoch, a duration of at most 30 days, 1..256 threads, 1..100 percent throttle,
// granted at most a minute in the future (clock skew), not yet expired. The runtime checks first so that an invalid
// record costs the visitor nothing: no wasm fetched, no worker, no WebSocket.

export const CONSENT_MAX_MS = 30 * 24 * 60 * 60 * 1000;
export const CONSENT_MAX_THREADS = 256;
const SKEW_MS = 60 * 1000;

// Returns null when the record holds a yes at now, else { reason, message } with reason
// one of 'no-consent', 'consent-invalid', 'consent-expired'.
export function checkConsent(consent, now = Date.now()) {
  if (consent === null || typeof consent !== 'object') {
    return { reason: 'no-consent', message: 'no consent record: mining starts only after the person says yes' };
  }
  const { granted_at: g, expires_at: e, threads, throttle } = consent;
  const whole = (v) => typeof v === 'number' && Number.isInteger(v);
  // Times up to 2^53: beyond it a double no longer holds every whole millisecond.
  const time = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!time(g)) return bad(`consent granted_at is ${g}; expected a whole number of ms since the epoch`);
  if (!time(e)) return bad(`consent expires_at is ${e}; expected a whole number of ms since the epoch`);
  if (e <= g) return bad(`consent expires_at (${e}) is not after granted_at (${g})`);
  if (e - g > CONSENT_MAX_MS) return bad(`consent lasts ${e - g} ms; at most 30 days (${CONSENT_MAX_MS} ms)`);
  if (!whole(threads) || threads < 1 || threads > CONSENT_MAX_THREADS) {
    return bad(`consent threads is ${threads}; expected 1..${CONSENT_MAX_THREADS}`);
  }
  if (!whole(throttle) || throttle < 1 || throttle > 100) {
    return bad(`consent throttle is ${throttle} percent; expected 1..100`);
  }
  if (g - now > SKEW_MS) return bad(`consent granted_at is ${g - now} ms in the future`);
  if (now >= e) return { reason: 'consent-expired', message: 'the consent has expired; ask again' };
  return null;
}

function bad(message) {
  return { reason: 'consent-invalid', message };
}

// A record for a command-line run: the person typing the command consents to that run.
export function grantForRun({ threads = 1, throttle = 100, durationMs = 24 * 60 * 60 * 1000 } = {}) {
  const now = Date.now();
  return { granted_at: now, expires_at: now + durationMs, threads, throttle };
}

// ---- consent tokens (docs/design.md; the gateway issues them) ---------------------------
// "<payload>.<sig>", both base64url without padding. The runtime cannot check the
// signature (only the gateway holds the key, and checks it again at login and renewal);
// it reads the payload to hand core the record it checks before every hash, and refuses
// anything that is not a well-formed session token before it loads or connects anything.

const B64URL = /^[A-Za-z0-9_-]+$/;

function base64urlDecode(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

// Returns { payload, record } for a token of the wanted kind ('session' or 'grant'), or
// { reason, message } naming what is wrong with it.
export function readToken(token, kind = 'session') {
  if (typeof token !== 'string') {
    return { reason: 'no-consent', message: `consent must be a ${kind} token issued by the gateway; got ${token === null ? 'null' : typeof token}` };
  }
  const parts = token.split('.');
  if (parts.length !== 2 || !B64URL.test(parts[0]) || !B64URL.test(parts[1])) {
    return bad('consent token is not "<payload>.<signature>" in base64url');
  }
  let payload;
  try {
    payload = JSON.parse(base64urlDecode(parts[0]));
  } catch {
    return bad('consent token payload is not base64url JSON');
  }
  if (!payload || typeof payload !== 'object' || payload.v !== 1) return bad('consent token payload is not version 1');
  if (payload.kind !== kind) return bad(`consent token is a ${JSON.stringify(payload.kind)} token; expected a ${kind} token`);
  if (typeof payload.id !== 'string' || !/^[0-9a-f]{32}$/.test(payload.id)) return bad('consent token id is not 32 hex digits');
  const record = { granted_at: payload.granted_at, expires_at: payload.expires_at, threads: payload.threads, throttle: payload.throttle };
  return { payload, record };
}
