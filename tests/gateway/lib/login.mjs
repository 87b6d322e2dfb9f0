// The one place the gateway tests build a browser's login message: when the login's
// consent changes form (a record today; a gateway-signed token, issue 14), only this
// function changes.
import { consentRecord } from './miner.mjs';

export function loginMessage({ id = 1, consent = consentRecord(), agent = 'consentminer-test',
                               login = 'ignored-by-the-gateway' } = {}) {
  return { id, jsonrpc: '2.0', method: 'login',
           params: { login, pass: 'x', agent, algo: ['rx/0'], consent } };
}
