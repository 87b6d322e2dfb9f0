// <consent-miner>: the host element of the consent frame (consent-ui/consent-miner.js).

/** The names of the events the element dispatches (CustomEvents on the element; they do not bubble). */
export type ConsentMinerEventName = keyof ConsentMinerEventMap;

/** 'loading' while the frame loads, then the frame's state. */
export type ConsentMinerState =
  | 'loading' | 'ask' | 'declined' | 'waiting' | 'running' | 'paused' | 'stopped';

/** Why mining paused: the tab is hidden, the device runs on battery, the CPU is under pressure. */
export type ConsentMinerPauseReason = 'hidden' | 'battery' | 'pressure';

/** Why mining stopped: the visitor (user), the page (stop()), a withdrawal, a remembered
 * no, the grant's end, another tab of the site, the runtime, or a choice forgotten. */
export type ConsentMinerStopReason =
  | 'user' | 'page' | 'revoked' | 'declined' | 'expired' | 'elsewhere' | 'runtime' | 'forgotten';

/** What the visitor agreed to, as in force now: times in ms since the Unix epoch, throttle in percent. */
export interface ConsentMinerGrantDetail {
  granted_at: number;
  expires_at: number;
  threads: number;
  throttle: number;
}

export interface ConsentMinerHashrateDetail {
  /** Hashes per second over the last 10 s; 0 while paused. */
  hashrate: number;
  /** Hashes since this miner started. */
  hashes: number;
  threads: number;
  paused: boolean;
}

/** The gateway's verdict on a share. */
export interface ConsentMinerShareDetail {
  job_id: string;
  nonce: string;
  accepted: boolean;
  error: string | null;
}

export interface ConsentMinerErrorDetail {
  /** e.g. 'untrusted-gesture', 'not-visible', 'refused-command', 'consent-refused', 'gateway-unreachable' */
  reason: string;
  message: string;
  /** false: mining goes on (a warning). */
  fatal?: boolean;
}

/** The element's events and their details. */
export interface ConsentMinerEventMap {
  consent: CustomEvent<ConsentMinerGrantDetail>;
  decline: CustomEvent<Record<string, never>>;
  revoke: CustomEvent<Record<string, never>>;
  start: CustomEvent<ConsentMinerGrantDetail>;
  stop: CustomEvent<{ reason: ConsentMinerStopReason }>;
  pause: CustomEvent<{ reason: ConsentMinerPauseReason; reasons: ConsentMinerPauseReason[] }>;
  resume: CustomEvent<{ reason: ConsentMinerPauseReason }>;
  hashrate: CustomEvent<ConsentMinerHashrateDetail>;
  share: CustomEvent<ConsentMinerShareDetail>;
  error: CustomEvent<ConsentMinerErrorDetail>;
  state: CustomEvent<{ state: ConsentMinerState }>;
}

/**
 * Attributes (all optional): gateway (the gateway's URL; only its origin is used, and it
 * must be another origin than the page's), site (who receives the reward), threads,
 * throttle (percent), remember ("30m", "24h", "7d"; at most 30 days), lang ("en" | "ja"),
 * theme ("light" | "dark"). site, gateway, threads, throttle, remember and theme are
 * also properties that reflect to the attributes; null or undefined removes one.
 */
export declare class ConsentMiner extends HTMLElement {
  static observedAttributes: string[];
  readonly state: ConsentMinerState;
  /** The gateway's HTTP origin (the frame's). */
  readonly gatewayOrigin: string;
  /** The consent frame (cross-origin: its document is out of the page's reach). */
  readonly frame: HTMLIFrameElement | null;

  /** Who receives the reward (null: the page's host name). */
  get site(): string | null;
  set site(value: string | null | undefined);
  /** The gateway's ws(s):// or http(s):// URL. */
  get gateway(): string | null;
  set gateway(value: string | null | undefined);
  /** Threads proposed (default 1). After the visitor's yes only a lower value takes effect. */
  get threads(): number;
  set threads(value: number | string | null | undefined);
  /** Percent of each thread's time (default 50). After the yes only a lower value takes effect. */
  get throttle(): number;
  set throttle(value: number | string | null | undefined);
  /** How long a yes or no is remembered: "30m", "24h", "7d" or hours (null: 24h). */
  get remember(): string | null;
  set remember(value: string | number | null | undefined);
  /** "light" or "dark" (null: the visitor's prefers-color-scheme). */
  get theme(): 'light' | 'dark' | string | null;
  set theme(value: 'light' | 'dark' | null | undefined);

  /** Asks the frame to stop mining; the consent stays. */
  stop(): void;
  /** Asks the frame to withdraw the consent (it stops, forgets the grant, asks again). */
  revoke(): void;
  /** Lowers threads and/or throttle (percent); the frame ignores anything higher. */
  limit(limits: { threads?: number; throttle?: number }): void;

  /** Hashes per second now (0 when paused or not mining), as Coinhive's getHashesPerSecond(). */
  getHashesPerSecond(): number;
  /** Hashes computed since the element was attached, as Coinhive's getTotalHashes(). */
  getTotalHashes(): number;
  /** Shares the gateway accepted since the element was attached, as Coinhive's getAcceptedHashes(). */
  getAcceptedHashes(): number;

  addEventListener<K extends keyof ConsentMinerEventMap>(type: K,
    listener: (this: ConsentMiner, event: ConsentMinerEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions): void;
  addEventListener<K extends keyof HTMLElementEventMap>(type: Exclude<K, keyof ConsentMinerEventMap>,
    listener: (this: ConsentMiner, event: HTMLElementEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof ConsentMinerEventMap>(type: K,
    listener: (this: ConsentMiner, event: ConsentMinerEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions): void;
  removeEventListener<K extends keyof HTMLElementEventMap>(type: Exclude<K, keyof ConsentMinerEventMap>,
    listener: (this: ConsentMiner, event: HTMLElementEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions): void;
}

/** The gateway's HTTP origin for a gateway attribute (ws: → http:, wss: → https:). */
export declare function gatewayOrigin(attr: string | null, base?: string): string;

/** The same class under the name earlier declarations used (a type only: the module
 * exports ConsentMiner). */
export type ConsentMinerElement = ConsentMiner;

declare global {
  interface HTMLElementTagNameMap { 'consent-miner': ConsentMiner; }
}
