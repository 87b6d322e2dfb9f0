// The consentminer runtime (miner.mjs): WebAssembly RandomX in Web Workers.

/** A consent record: times in milliseconds since the Unix epoch, throttle in percent. */
export interface ConsentRecord {
  granted_at: number;
  expires_at: number;
  threads: number;
  throttle: number;
}

export interface MinerOptions {
  /** ws:// or wss:// URL of the gateway's /ws endpoint. */
  gateway?: string;
  /** A WebSocket constructor, for node 20 which has none (the `ws` package). */
  WebSocket?: unknown;
  wasmUrl?: string;
  wasmBase?: string;
  workerUrl?: string;
  shared?: 'auto' | 'always' | 'never';
  agent?: string;
  statsIntervalMs?: number;
  /** A fixed stratum job instead of a gateway (benchmarks and tests). */
  job?: Record<string, unknown>;
}

export type MinerEventName = 'state' | 'hashrate' | 'cpu' | 'share' | 'share-result' | 'error';

export interface Miner extends EventTarget {
  /** Rejects (an Error with .reason) when mining cannot begin; nothing is loaded before. */
  start(consent: ConsentRecord): Promise<void>;
  /** Terminates the workers at once. */
  stop(): void;
  setThrottle(percent: number): void;
  setThreads(threads: number): void;
  pause(reason?: string): void;
  resume(): void;
}

export declare function createMiner(options?: MinerOptions): Miner;
