// <consent-miner>: a disclosed, opt-in Monero miner element (consent-ui/consent-miner.js).

/** The names of the events the element dispatches (bubbling, composed CustomEvents). */
export type ConsentMinerEventName =
  | 'consent' | 'decline' | 'revoke' | 'start' | 'stop' | 'pause' | 'resume'
  | 'hashrate' | 'share' | 'error';

/**
 * Attributes (all optional): gateway (WebSocket URL of the gateway's /ws), site (who
 * receives the reward), threads, throttle (percent), remember ("30m", "24h", "7d"; at most
 * 30 days), lang ("en" | "ja"), runtime (URL of miner.mjs), wasm-url, worker-url.
 */
export declare class ConsentMinerElement extends HTMLElement {
  static observedAttributes: string[];
  /** 'ask' | 'declined' | 'waiting' | 'loading' | 'running' | 'paused' | 'stopped' */
  readonly state: string;
  readonly site: string;
  readonly threads: number;
  addEventListener(type: ConsentMinerEventName, listener: (e: CustomEvent) => void,
                   options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject,
                   options?: boolean | AddEventListenerOptions): void;
}

/** "30m", "24h", "7d" or a number of hours → milliseconds; NaN when unreadable. */
export declare function parseDuration(text: string): number;

declare global {
  interface HTMLElementTagNameMap { 'consent-miner': ConsentMinerElement; }
}
