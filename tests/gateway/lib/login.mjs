// The one place the gateway tests build a browser's login message. Its consent is a
// session token the gateway signed (lib/consent.mjs gets one the way the consent frame
// does); a made-up record is refused (docs/design.md, consent rule 8).
export function loginMessage({ id = 1, consent, agent = 'consentminer-test',
                               login = 'ignored-by-the-gateway' } = {}) {
  return { id, jsonrpc: '2.0', method: 'login',
           params: { login, pass: 'x', agent, algo: ['rx/0'], consent } };
}
