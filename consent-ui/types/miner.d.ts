// The consentminer runtime (miner.mjs): WebAssembly RandomX in Web Workers.

/** A consent record: times in milliseconds since the Unix epoch, throttle in percent. */
export interface ConsentRecord {
  granted_at: number;
  expires_at: number;
  threads: number;
  throttle: number;
}

/**
 * A consent token the gateway issued: "<payload>.<signature>", base64url. The runtime
 * starts only with a session token (POST /consent/grant or /consent/session).
 */
export type ConsentToken = string;

export interface MinerOptions {
  /** ws:// or wss:// URL of the gateway's /ws endpoint; in a browser the page must be on
   *  the gateway's origin (the consent frame), else start() rejects with 'wrong-origin'. */
  gateway?: string;
  /** A WebSocket constructor, for node 20 which has none (the `ws` package). */
  WebSocket?: unknown;
  /** node only: the Origin header to send (the gateway accepts only its frame origin). */
  origin?: string;
  wasmUrl?: string;
  wasmBase?: string;
  workerUrl?: string;
  shared?: 'auto' | 'always' | 'never';
  agent?: string;
  statsIntervalMs?: number;
  /** A fixed stratum job instead of a gateway (benchmarks and tests); start() then also
   *  takes a plain ConsentRecord, the consent of whoever runs the benchmark. */
  job?: Record<string, unknown>;
  jit?: 'auto' | 'never';
}

export type MinerEventName = 'state' | 'hashrate' | 'cpu' | 'share' | 'share-result' | 'error';

export interface Miner extends EventTarget {
  /** Logs in with the session token first; only after the gateway accepted it fetches
   *  the wasm and starts workers. Rejects (an Error with .reason) when mining cannot
   *  begin; nothing is loaded before. */
  start(consent: ConsentToken | ConsentRecord): Promise<Miner>;
  /** Carries on under a newer session token of the same grant (ceilings never rise). */
  renew(session: ConsentToken): Promise<unknown>;
  /** Terminates the workers at once. */
  stop(): void;
  setThrottle(percent: number): void;
  setThreads(threads: number): void;
  pause(reason?: string): void;
  resume(): void;
}

export declare function createMiner(options?: MinerOptions): Miner;

/** For non-browser clients: asks the gateway for a grant and a session token. */
export declare function requestGrant(gateway: string,
  consent: { site: string; threads: number; throttle: number; remember_s?: number },
  options?: { origin?: string }): Promise<{ grant: ConsentToken; session: ConsentToken; expires_at: number; session_expires_at: number }>;
