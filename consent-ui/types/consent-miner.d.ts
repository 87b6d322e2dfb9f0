// <consent-miner>: the host element of the consent frame (consent-ui/consent-miner.js).

/** The names of the events the element dispatches (CustomEvents on the element; they do not bubble). */
export type ConsentMinerEventName =
  | 'consent' | 'decline' | 'revoke' | 'start' | 'stop' | 'pause' | 'resume'
  | 'hashrate' | 'share' | 'error' | 'state';

/** 'loading' while the frame loads, then the frame's state. */
export type ConsentMinerState =
  | 'loading' | 'ask' | 'declined' | 'waiting' | 'running' | 'paused' | 'stopped';

/**
 * Attributes (all optional): gateway (the gateway's URL; only its origin is used, and it
 * must be another origin than the page's), site (who receives the reward), threads,
 * throttle (percent), remember ("30m", "24h", "7d"; at most 30 days), lang ("en" | "ja"),
 * theme ("light" | "dark").
 */
export declare class ConsentMiner extends HTMLElement {
  static observedAttributes: string[];
  readonly state: ConsentMinerState;
  /** The gateway's HTTP origin (the frame's). */
  readonly gatewayOrigin: string;
  /** The consent frame (cross-origin: its document is out of the page's reach). */
  readonly frame: HTMLIFrameElement | null;
  /** Asks the frame to stop mining; the consent stays. */
  stop(): void;
  /** Asks the frame to withdraw the consent (it stops, forgets the grant, asks again). */
  revoke(): void;
  /** Lowers threads and/or throttle (percent); the frame ignores anything higher. */
  limit(limits: { threads?: number; throttle?: number }): void;
  addEventListener(type: ConsentMinerEventName, listener: (e: CustomEvent) => void,
                   options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject,
                   options?: boolean | AddEventListenerOptions): void;
}

/** The gateway's HTTP origin for a gateway attribute (ws: → http:, wss: → https:). */
export declare function gatewayOrigin(attr: string | null, base?: string): string;

/** The same class under the name earlier declarations used (a type only: the module
 * exports ConsentMiner). */
export type ConsentMinerElement = ConsentMiner;

declare global {
  interface HTMLElementTagNameMap { 'consent-miner': ConsentMiner; }
}
