// <consent-miner>: asks a visitor whether this site may mine Monero with their processor,
// and mines only after a yes, showing what it costs and stopping on one click.
//
// This element is only a host. The disclosure, the buttons, the running panel, the
// remembered choice, the runtime, its workers and the WebSocket all live in the consent
// frame, a page the gateway serves at /frame/ on its own origin (docs/design.md, issue
// 14). No script or style of this page can read, style or click inside it, and the
// gateway accepts consent tokens and logins only from it. The element creates that iframe
// from its attributes, sizes it, and turns the frame's messages into its events. What
// the page can ask the frame is to stop, revoke or lower; never to start, accept or raise.
//
// Attributes (all optional; read when the element is attached and when they change;
// site, gateway, threads, throttle, remember and theme are also properties that reflect
// to them, so frameworks that set properties, React 19 and Vue, can drive the element):
//   gateway   URL of the consentminer gateway (ws(s):// or http(s)://; only its origin is
//             used); default this page's origin
//   site      who receives the reward, shown in the disclosure; default location.hostname
//   threads   worker threads to propose; default 1
//   throttle  percent of each thread's time to use (5..100); default 50
//   remember  how long a yes (or no) is remembered: "30m", "24h", "7d" or hours; default 24h
//   lang      "en" or "ja"; default the visitor's browser languages
//   theme     "light" or "dark"; default the visitor's prefers-color-scheme
// CSS custom properties on the element, read when the frame is made: --consent-miner-accent,
// -background, -color (opaque colours; the frame refuses a palette below 4.5:1 contrast),
// -radius (px or rem, at most 24px) and -font (a generic family such as serif). Nothing
// else of the page's CSS reaches the frame, so none of it can hide or shrink the
// disclosure or Decline.
// Events (CustomEvents that stay on the element: they do not bubble, so its "error" never
// reaches a site's window-level error reporter): consent, decline, revoke, start, stop,
// pause, resume, hashrate, share, error, state. Listen on the element.
// Read-only figures for sites coming from Coinhive's API: getHashesPerSecond(),
// getTotalHashes(), getAcceptedHashes(), from the frame's hashrate and share events.

const MIN_WIDTH = 280; // the frame's MIN_WIDTH: below it the disclosure does not fit
const MIN_HEIGHT = 240;
const MAX_HEIGHT = 2000;
const EVENTS = new Set(['consent', 'decline', 'revoke', 'start', 'stop', 'pause', 'resume', 'hashrate', 'share', 'error', 'state']);
const PARAMS = ['site', 'threads', 'throttle', 'remember', 'lang', 'theme'];
// Properties that reflect to attributes (lang is HTMLElement's own).
const TEXT_PROPS = ['site', 'gateway', 'remember', 'theme'];
const NUMBER_PROPS = { threads: 1, throttle: 50 }; // the frame's defaults
const THEME = ['accent', 'background', 'color', 'radius', 'font']; // --consent-miner-*
// The frame's states in which the visitor's yes is in force: its panel is shown.
const CONSENTED = new Set(['waiting', 'loading', 'running', 'paused', 'stopped']);

const STYLE = `:host { display: block; max-width: 40rem; min-width: ${MIN_WIDTH}px; }
:host([hidden]) { display: none; }
iframe { display: block; width: 100%; min-width: ${MIN_WIDTH}px; height: ${MIN_HEIGHT}px; border: 0; }`;

/** The gateway's HTTP origin for a gateway attribute (ws: → http:, wss: → https:). */
export function gatewayOrigin(attr, base = location.href) {
  const url = new URL(attr || '/', base);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  if (url.protocol === 'wss:') url.protocol = 'https:';
  return url.origin;
}

export class ConsentMiner extends HTMLElement {
  static observedAttributes = ['gateway', ...PARAMS];
  #root;
  #frame = null;
  #origin = '';
  #state = 'loading';
  #frameState = ''; // the last state the current frame reported; '' until it has
  #rate = 0;
  #hashes = { before: 0, now: 0 }; // before: of the miners that ended; now: the running one's
  #accepted = 0;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    // A constructed stylesheet: a style-src 'self' Content-Security-Policy blocks inline styles.
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLE);
      this.#root.adoptedStyleSheets = [sheet];
    } catch {
      const style = document.createElement('style');
      style.textContent = STYLE;
      this.#root.append(style);
    }
  }

  /** 'loading' (the frame is loading) or the frame's: 'ask' | 'declined' | 'waiting' | 'running' | 'paused' | 'stopped' */
  get state() { return this.#state; }
  get gatewayOrigin() { return gatewayOrigin(this.getAttribute('gateway')); }
  get frame() { return this.#frame; }

  // Reflected properties: null or undefined removes the attribute (the default applies).
  #reflect(name, value) {
    if (value == null) this.removeAttribute(name);
    else this.setAttribute(name, String(value));
  }
  #number(name) {
    const n = Number(this.getAttribute(name) ?? NaN);
    return this.hasAttribute(name) && Number.isFinite(n) ? n : NUMBER_PROPS[name];
  }
  /** Who receives the reward, as the attribute says (null: the page's host name). */
  get site() { return this.getAttribute('site'); }
  set site(value) { this.#reflect('site', value); }
  /** The gateway's URL, as the attribute says (null: this page's origin, which the frame refuses). */
  get gateway() { return this.getAttribute('gateway'); }
  set gateway(value) { this.#reflect('gateway', value); }
  /** How long a yes or no is remembered ("30m", "24h", "7d" or hours; null: 24h). */
  get remember() { return this.getAttribute('remember'); }
  set remember(value) { this.#reflect('remember', value); }
  /** "light" or "dark" (null: the visitor's prefers-color-scheme). */
  get theme() { return this.getAttribute('theme'); }
  set theme(value) { this.#reflect('theme', value); }
  /** Threads proposed (the attribute's number, else 1); after a yes, only a lower one counts. */
  get threads() { return this.#number('threads'); }
  set threads(value) { this.#reflect('threads', value); }
  /** Percent of each thread's time proposed (else 50); after a yes, only a lower one counts. */
  get throttle() { return this.#number('throttle'); }
  set throttle(value) { this.#reflect('throttle', value); }

  /** Hashes per second of the running miner (0 when paused or not mining). */
  getHashesPerSecond() { return this.#rate; }
  /** Hashes computed since this element was attached, over every start of the miner. */
  getTotalHashes() { return this.#hashes.before + this.#hashes.now; }
  /** Shares the gateway accepted since this element was attached. */
  getAcceptedHashes() { return this.#accepted; }

  connectedCallback() {
    // A framework may have set properties before the element was defined: they sit on
    // the instance and hide the accessors, so they are moved onto the attributes.
    for (const name of [...TEXT_PROPS, ...Object.keys(NUMBER_PROPS)]) {
      if (!Object.hasOwn(this, name)) continue;
      const value = this[name];
      delete this[name];
      this[name] = value;
    }
    addEventListener('message', this.#onMessage);
    this.#mount();
  }

  disconnectedCallback() {
    removeEventListener('message', this.#onMessage);
    // Removing the iframe ends its workers and socket with it.
    this.#frame?.remove();
    this.#frame = null;
  }

  // A changed attribute is a new disclosure: the frame is made again (it keeps the
  // visitor's remembered choice in its own storage). Once the visitor said yes, threads
  // and throttle go to the running frame as a limit instead: it lowers and ignores a
  // higher value, so a page cannot raise what the visitor agreed to, nor undo a lower
  // setting the visitor chose on the panel, by reloading the frame through an attribute.
  attributeChangedCallback(name, before, after) {
    if (!this.isConnected || !this.#frame || before === after) return;
    if (name in NUMBER_PROPS && CONSENTED.has(this.#frameState)) {
      const value = Math.floor(this[name]);
      if (value >= 1) this.limit({ [name]: value });
      return;
    }
    this.#mount();
  }

  /** Asks the frame to stop mining (the consent stays; the visitor can start again there). */
  stop() { this.#send({ command: 'stop' }); }

  /** Asks the frame to withdraw the consent: it stops, forgets the grant and asks again. */
  revoke() { this.#send({ command: 'revoke' }); }

  /** Lowers the threads and/or throttle (percent); the frame ignores anything higher. */
  limit({ threads, throttle } = {}) { this.#send({ command: 'limit', threads, throttle }); }

  #mount() {
    this.#origin = this.gatewayOrigin;
    const src = new URL('/frame/', this.#origin);
    for (const name of PARAMS) if (this.hasAttribute(name)) src.searchParams.set(name, this.getAttribute(name));
    const style = getComputedStyle(this);
    for (const name of THEME) {
      const value = style.getPropertyValue(`--consent-miner-${name}`).trim();
      if (value) src.searchParams.set(name, value.slice(0, 200));
    }
    src.searchParams.set('origin', location.origin);
    const frame = document.createElement('iframe');
    frame.src = src.href;
    frame.title = 'Consent to mine Monero';
    // The frame may be cross-origin isolated (shared RandomX cache) and read CPU pressure
    // when this page allows it; it needs nothing else from the page.
    frame.allow = 'cross-origin-isolated; compute-pressure';
    frame.setAttribute('referrerpolicy', 'origin');
    frame.setAttribute('loading', 'eager');
    this.#frame?.remove();
    this.#frame = frame;
    this.#state = 'loading';
    this.#frameState = '';
    this.#minerEnded();
    this.#root.append(frame);
  }

  #send(message) {
    this.#frame?.contentWindow?.postMessage({ type: 'consent-miner', ...message }, this.#origin);
  }

  // Only messages from our own frame, from the gateway's origin, become events.
  #onMessage = (event) => {
    if (!this.#frame || event.source !== this.#frame.contentWindow || event.origin !== this.#origin) return;
    const m = event.data;
    if (!m || m.type !== 'consent-miner' || typeof m.event !== 'string') return;
    if (m.event === 'resize') {
      const height = Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, Math.ceil(Number(m.detail?.height) || 0)));
      this.#frame.style.height = `${height}px`;
      return;
    }
    if (m.event === 'state') this.#state = this.#frameState = String(m.detail?.state || this.#state);
    this.#count(m.event, m.detail);
    if (!EVENTS.has(m.event)) return;
    this.dispatchEvent(new CustomEvent(m.event, { detail: m.detail ?? {}, bubbles: false, composed: false }));
  };

  // The runtime's hashes count from zero for each miner, and a miner ends with a stop, a
  // fatal error or its frame; the totals carry on over all of them.
  #count(event, detail) {
    if (event === 'hashrate') {
      const rate = Number(detail?.hashrate), hashes = Number(detail?.hashes);
      this.#rate = Number.isFinite(rate) && rate > 0 ? rate : 0;
      if (Number.isFinite(hashes) && hashes >= 0) this.#hashes.now = hashes;
    } else if (event === 'stop' || (event === 'error' && detail?.fatal === true)) {
      this.#minerEnded();
    } else if (event === 'pause') {
      this.#rate = 0;
    } else if (event === 'share' && detail?.accepted === true) {
      this.#accepted++;
    }
  }
  #minerEnded() {
    this.#rate = 0;
    this.#hashes = { before: this.#hashes.before + this.#hashes.now, now: 0 };
  }
}

if (!customElements.get('consent-miner')) customElements.define('consent-miner', ConsentMiner);
