// <consent-miner>: asks a visitor whether this site may mine Monero with their processor,
// and mines only after a yes, showing what it costs and stopping on one click.
//
// Like lite-youtube-embed, the element itself is small and loads nothing heavy: before the
// visitor says yes there is no import() of the runtime, no wasm fetch or compile, no
// worker, no WebSocket and no timer (DESIGN.md consent rule 1). The runtime module
// (wasm/js/miner.mjs) is loaded with a dynamic import() inside the click handler, so a
// visitor who declines, or never decides, pays for this file and its texts only.
//
// Attributes (all optional):
//   gateway   WebSocket URL of the consentminer gateway; default ws(s)://<this host>/ws
//   site      who receives the reward, shown in the disclosure; default location.hostname
//   threads   worker threads to propose; default 1, at most navigator.hardwareConcurrency
//   throttle  percent of each thread's time to use (5..100); default 50
//   remember  how long a yes (or no) is remembered: "30m", "24h", "7d" or hours as a
//             number; default 24h, clamped to 1 minute .. 30 days (DESIGN.md rule 7)
//   lang      "en" or "ja"; default the first of navigator.languages we have texts for
//   runtime   URL of the runtime module; default ../wasm/js/miner.mjs next to this file
//   wasm-url, worker-url   passed to the runtime's createMiner when set
// Events (bubbling, composed CustomEvents): consent, decline, revoke, start, stop, pause,
// resume, hashrate, share, error.

import { languages } from './texts.js';

const MINUTE = 60e3;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// DESIGN.md rule 7 and core/include/consentminer/consent.h: 24 h by default, 30 days at most.
const REMEMBER_DEFAULT = DAY;
const REMEMBER_MAX = 30 * DAY;
const REMEMBER_MIN = MINUTE;
// consent.h accepts a granted_at up to a minute ahead of the checker's clock.
const CLOCK_SKEW = MINUTE;
// Our own mining adds to the system's CPU pressure, so resume only after the pressure has
// stayed low this long; otherwise pause and resume would chase each other.
const PRESSURE_CALM_MS = 3000;
// setTimeout holds a signed 32-bit delay; a 30-day expiry needs re-arming.
const MAX_TIMER = 2 ** 31 - 1;
const STORAGE_PREFIX = 'consent-miner:v1:';

/** "30m", "24h", "7d" or a number of hours → milliseconds; NaN when unreadable. */
export function parseDuration(text) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([mhd]?)\s*$/i.exec(String(text ?? ''));
  if (!m) return NaN;
  const unit = { m: MINUTE, h: HOUR, d: DAY, '': HOUR }[m[2].toLowerCase()];
  return Number(m[1]) * unit;
}

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
const fill = (text, vars) => text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') el.textContent = v;
    else if (v !== false && v != null) el.setAttribute(k, v === true ? '' : v);
  }
  el.append(...children.filter((c) => c != null));
  return el;
}

const STYLE = `
:host { display: block; max-width: 40rem; color: #1a1d21; font: inherit; line-height: 1.5; }
:host([hidden]) { display: none; }
[lang=ja] { word-break: auto-phrase; line-break: strict; }
.box { border: 1px solid #69737d; border-radius: .5rem; padding: 1rem; background: #fff; }
h2 { font-size: 1.15em; margin: 0 0 .5rem; line-height: 1.3; }
h2:focus { outline: none; }
ul { margin: .25rem 0 .5rem; padding-inline-start: 1.25rem; }
li { margin: .3rem 0; }
p { margin: .4rem 0; }
.note, .fine { font-size: .9em; color: #3d454d; }
.note { font-weight: 600; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin-top: .75rem; }
.actions > button { flex: 1 1 12rem; }
button { font: inherit; min-height: 2.75rem; padding: .5rem 1rem; border-radius: .375rem;
  border: 2px solid #1747b8; background: #fff; color: #1747b8; cursor: pointer; }
button:hover { background: #eef2fc; }
button.quiet { border-color: #69737d; color: #1a1d21; }
:focus-visible { outline: 3px solid #b04a00; outline-offset: 2px; }
.stats { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; margin: .5rem 0; }
.stats div { min-width: 8rem; }
dt { font-size: .85em; color: #3d454d; }
dd { margin: 0; font-size: 1.25em; font-weight: 600; font-variant-numeric: tabular-nums; }
.bar { display: block; height: .4rem; background: #dde2e8; border-radius: .2rem; overflow: hidden; margin-top: .2rem; }
.bar > span { display: block; height: 100%; width: 0; background: #1747b8; }
.controls { display: flex; flex-wrap: wrap; gap: .75rem 1.5rem; align-items: end; margin: .5rem 0; }
.controls label { display: flex; flex-direction: column; gap: .25rem; font-size: .9em; }
input[type=range] { width: min(14rem, 100%); accent-color: #1747b8; }
select { font: inherit; min-height: 2.5rem; padding: .25rem .5rem; }
.controls > * { max-width: 100%; }
`;

let sheet = null;

export class ConsentMiner extends HTMLElement {
  static observedAttributes = ['lang', 'site', 'threads', 'throttle', 'remember'];

  #root;
  #view = 'ask'; // ask | declined | panel
  #note = ''; // key of a line shown above the disclosure: why we ask again
  #miner = null;
  #run = 0; // bumped on every start/stop so a slow start that was stopped meanwhile gives up
  #consent = null; // { granted_at, expires_at, threads, throttle } while it holds
  #phase = 'stopped'; // waiting | loading | running | stopped
  #reasons = new Set(); // why mining is paused: hidden | battery | pressure
  #stats = { cpu: NaN, hashrate: NaN, shares: 0 };
  #error = '';
  #cleanups = [];
  #expiryTimer = 0;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    this.#root.addEventListener('click', this.#onClick);
    this.#root.addEventListener('change', this.#onChange);
    this.#root.addEventListener('input', this.#onInput);
    // A constructed stylesheet, not a <style> element: the gateway's Content-Security-Policy
    // (style-src 'self') blocks inline styles, and a stylesheet file would be one more
    // request. Browsers without constructable sheets get a <style> element.
    try {
      sheet ??= new CSSStyleSheet();
      if (!sheet.cssRules.length) sheet.replaceSync(STYLE);
      this.#root.adoptedStyleSheets = [sheet];
    } catch {
      this.#fallbackStyle = h('style', { text: STYLE });
    }
  }
  #fallbackStyle = null;

  // --- configuration -------------------------------------------------------------------
  get language() {
    const wanted = [this.getAttribute('lang'), ...(navigator.languages || [navigator.language])];
    for (const tag of wanted) {
      const primary = String(tag || '').toLowerCase().split('-')[0];
      if (languages[primary]) return primary;
    }
    return 'en';
  }
  get #t() { return languages[this.language]; }
  get site() { return this.getAttribute('site') || location.hostname || 'this site'; }
  get gateway() {
    const url = new URL(this.getAttribute('gateway') || '/ws', location.href);
    if (url.protocol === 'http:') url.protocol = 'ws:';
    if (url.protocol === 'https:') url.protocol = 'wss:';
    return url.href;
  }
  get maxThreads() { return Math.max(1, navigator.hardwareConcurrency || 1); }
  get threads() { return clamp(Math.floor(Number(this.getAttribute('threads')) || 1), 1, this.maxThreads); }
  get throttle() {
    const raw = Number(this.getAttribute('throttle') ?? 50);
    // Range steps are 5; round down so the element never proposes more than the site asked.
    return clamp(Math.floor((Number.isFinite(raw) ? raw : 50) / 5) * 5, 5, 100);
  }
  get remember() {
    const ms = parseDuration(this.getAttribute('remember') ?? '24h');
    return Number.isFinite(ms) ? clamp(ms, REMEMBER_MIN, REMEMBER_MAX) : REMEMBER_DEFAULT;
  }
  get runtimeUrl() {
    const attr = this.getAttribute('runtime');
    return attr ? new URL(attr, document.baseURI).href : new URL('../wasm/js/miner.mjs', import.meta.url).href;
  }
  get #storageKey() { return STORAGE_PREFIX + this.site + '|' + this.gateway; }

  /** 'ask' | 'declined' | 'waiting' | 'loading' | 'running' | 'paused' | 'stopped' */
  get state() {
    if (this.#view !== 'panel') return this.#view;
    return this.#phase === 'running' && this.#reasons.size ? 'paused' : this.#phase;
  }

  // --- life cycle ----------------------------------------------------------------------
  connectedCallback() {
    const onStorage = (e) => { if (e.key === this.#storageKey) this.#restore(); };
    addEventListener('storage', onStorage);
    this.#cleanups.push(() => removeEventListener('storage', onStorage));
    this.#restore();
  }

  disconnectedCallback() {
    this.#halt();
    this.#phase = 'stopped';
    for (const undo of this.#cleanups.splice(0)) undo();
  }

  attributeChangedCallback() { if (this.isConnected) this.#render(); }

  /** Stops mining now; the consent stays, so the visitor can start again. */
  stop() { this.#stopMining('user'); }

  /** Withdraws the consent (remembered), stops mining and asks again. */
  revoke() {
    if (!this.#consent) return;
    this.#stopMining('revoked');
    this.#consent = null;
    this.#save({ decision: 'revoked', at: Date.now(), until: Date.now() + this.remember });
    this.#view = 'ask';
    this.#note = 'withdrawnNote';
    this.#render();
    this.#focusTitle();
    this.#emit('revoke', {});
  }

  // Reads the remembered choice: a valid yes starts mining (unless the visitor had stopped
  // it), a remembered no or revoke shows a one-line notice, anything else asks. Also runs
  // when another tab of this site changes the choice (storage event) and at expiry.
  #restore() {
    const rec = this.#load();
    const now = Date.now();
    // A site that shortens `remember` shortens yeses already given, never lengthens them.
    const consent = rec?.decision === 'granted' && { granted_at: rec.granted_at,
      expires_at: Math.min(rec.expires_at, rec.granted_at + this.remember),
      threads: Math.min(rec.threads, this.maxThreads), throttle: rec.throttle };
    if (consent && this.#validConsent(consent, now)) {
      this.#consent = consent;
      this.#view = 'panel';
      this.#note = '';
      if (rec.stopped) {
        if (this.#phase !== 'stopped') this.#stopMining('elsewhere');
        else this.#render();
      } else if (this.#phase === 'stopped') this.#startMining();
      return;
    }
    if (this.#consent) this.#stopMining(rec?.decision === 'granted' ? 'expired' : rec?.decision || 'forgotten');
    this.#consent = null;
    if (rec && (rec.decision === 'declined' || rec.decision === 'revoked') && rec.until > now) {
      this.#view = 'declined';
      this.#declinedKind = rec.decision;
    } else {
      if (rec?.decision === 'granted') this.#note = 'expiredNote';
      if (rec) this.#forget();
      this.#view = 'ask';
    }
    this.#render();
  }
  #declinedKind = 'declined';

  #validConsent(c, now) {
    return Number.isFinite(c.granted_at) && Number.isFinite(c.expires_at) &&
      c.granted_at <= now + CLOCK_SKEW && c.expires_at > now &&
      c.expires_at - c.granted_at <= REMEMBER_MAX &&
      Number.isInteger(c.threads) && c.threads >= 1 &&
      Number.isInteger(c.throttle) && c.throttle >= 1 && c.throttle <= 100;
  }

  // --- storage: the choice is remembered per site and gateway -------------------------
  #load() {
    try { return JSON.parse(localStorage.getItem(this.#storageKey)) || null; } catch { return null; }
  }
  // Storage can be unavailable (disabled, sandboxed frame); the choice then lasts for
  // this page only, which errs on the side of asking again.
  #save(rec) { try { localStorage.setItem(this.#storageKey, JSON.stringify({ v: 1, ...rec })); } catch {} }
  #forget() { try { localStorage.removeItem(this.#storageKey); } catch {} }

  // --- the visitor's decisions ----------------------------------------------------------
  // Starting, or raising what mining costs, needs a trusted event: one the browser made from
  // a real click, tap or key press. element.click(), dispatchEvent() and synthetic input
  // events all have isTrusted === false (DESIGN.md rule 2). Keyboard activation of a
  // <button> (Enter, Space) reaches us as a trusted click, so one check covers both.
  #onClick = (event) => {
    const act = event.target.closest?.('button')?.dataset.act;
    if (!act) return;
    if ((act === 'accept' || act === 'start') && !event.isTrusted) {
      this.#emit('error', { reason: 'untrusted-gesture', message: 'consent needs a real click or key press' });
      return;
    }
    if (act === 'accept') this.#accept();
    else if (act === 'decline') this.#decline();
    else if (act === 'review') { this.#view = 'ask'; this.#note = ''; this.#render(); this.#focusTitle(); }
    else if (act === 'stop') this.stop();
    else if (act === 'start') this.#startAgain();
    else if (act === 'revoke') this.revoke();
  };

  #accept() {
    const now = Date.now();
    this.#consent = { granted_at: now, expires_at: now + this.remember, threads: this.threads, throttle: this.throttle };
    this.#save({ decision: 'granted', ...this.#consent });
    this.#view = 'panel';
    this.#note = '';
    this.#emit('consent', { ...this.#consent });
    this.#startMining();
    this.#root.querySelector('[data-act=stop]')?.focus();
  }

  #decline() {
    this.#consent = null;
    this.#declinedKind = 'declined';
    this.#save({ decision: 'declined', at: Date.now(), until: Date.now() + this.remember });
    this.#view = 'declined';
    this.#note = '';
    this.#render();
    this.#root.querySelector('[data-act=review]')?.focus();
    this.#emit('decline', {});
  }

  #startAgain() {
    if (!this.#consent || !this.#validConsent(this.#consent, Date.now())) { this.#restore(); return; }
    this.#save({ decision: 'granted', ...this.#consent });
    this.#startMining();
    this.#root.querySelector('[data-act=stop]')?.focus();
  }

  #onChange = (event) => {
    const input = event.target;
    if (!input.dataset?.setting || !this.#consent) return;
    if (!event.isTrusted) { this.#render(); return; } // a script may not raise the cost
    const value = Number(input.value);
    const key = input.dataset.setting;
    this.#consent = { ...this.#consent, [key]: value };
    const rec = this.#load();
    this.#save({ decision: 'granted', ...this.#consent, stopped: rec?.stopped || undefined });
    try {
      if (key === 'throttle') this.#miner?.setThrottle(value);
      else this.#miner?.setThreads(value);
    } catch (err) { this.#fail(err); }
    this.#render();
  };

  // While the range is dragged, show the value it will take; the change event applies it.
  #onInput = (event) => {
    const out = this.#root.querySelector('[data-out=throttle]');
    if (!event.isTrusted || event.target.dataset?.setting !== 'throttle' || !out) return;
    out.textContent = `${event.target.value}%`;
    event.target.setAttribute('aria-valuetext', out.textContent);
  };

  // --- mining ---------------------------------------------------------------------------
  async #startMining() {
    const run = ++this.#run;
    const consent = { ...this.#consent };
    this.#phase = 'loading';
    this.#error = this.#warning = this.#runtimeState = '';
    this.#stats = { cpu: NaN, hashrate: NaN, shares: 0 };
    this.#render();
    this.#armExpiry(consent.expires_at);
    try {
      // A remembered yes in a tab opened in the background waits until the tab is seen.
      while (document.hidden && run === this.#run) {
        await new Promise((r) => document.addEventListener('visibilitychange', r, { once: true }));
      }
      if (run !== this.#run || !(await this.#takeTurn(run))) return;
      // The only place the runtime is loaded: after a yes (now or remembered), never before.
      const { createMiner } = await import(this.runtimeUrl);
      if (run !== this.#run) return;
      const options = { gateway: this.gateway };
      if (this.hasAttribute('wasm-url')) options.wasmUrl = new URL(this.getAttribute('wasm-url'), document.baseURI).href;
      if (this.hasAttribute('worker-url')) options.workerUrl = new URL(this.getAttribute('worker-url'), document.baseURI).href;
      const miner = this.#miner = createMiner(options);
      this.#listen(miner);
      this.#watchPauses();
      await miner.start(consent);
      if (run !== this.#run) return;
      this.#phase = 'running';
      if (this.#reasons.size) miner.pause([...this.#reasons][0]);
      this.#render();
      this.#emit('start', { ...consent });
    } catch (err) {
      if (run === this.#run) this.#fail(err);
    }
  }

  // The disclosed load is for one page. A remembered yes would otherwise start a miner in
  // every open tab of the site, so tabs take turns through a Web Lock: one mines, the
  // others wait and take over when it closes (if the yes still holds and was not stopped).
  async #takeTurn(run) {
    if (!navigator.locks) return true;
    if (await this.#lock(run, true)) return true;
    if (run !== this.#run) return false;
    this.#phase = 'waiting';
    this.#render();
    if (!(await this.#lock(run, false)) || run !== this.#run) return false;
    const rec = this.#load();
    if (rec?.decision === 'granted' && !rec.stopped && this.#validConsent(rec, Date.now())) {
      this.#phase = 'loading';
      this.#render();
      return true;
    }
    this.#halt();
    this.#phase = 'stopped';
    this.#render();
    return false;
  }

  #lock(run, ifAvailable) {
    return new Promise((resolve) => {
      const ctl = new AbortController();
      this.#unlock = () => { ctl.abort(); resolve(false); };
      navigator.locks.request(this.#storageKey, ifAvailable ? { ifAvailable } : { signal: ctl.signal }, (lock) => {
        if (!lock || run !== this.#run) return resolve(false);
        resolve(true);
        return new Promise((release) => { this.#unlock = release; });
      }).catch(() => resolve(false));
    });
  }
  #unlock = () => {};

  // Event details as wasm/js/miner.mjs documents them: hashrate { hashrate }, cpu
  // { fraction } (each thread's measured busy time, 0..1), share (a hash the worker found),
  // share-result { accepted, error } (the gateway's verdict), state { state }, error
  // { reason, message, fatal }.
  #listen(miner) {
    const on = (type, fn) => miner.addEventListener(type, (e) => { if (this.#miner === miner) fn(e.detail || {}); });
    on('hashrate', (d) => {
      this.#stats.hashrate = Number(d.hashrate);
      this.#paintStats();
      this.#emit('hashrate', d);
    });
    on('cpu', (d) => {
      // Measured by the workers (rule 5), not the throttle setting.
      this.#stats.cpu = Number(d.fraction);
      this.#paintStats();
    });
    // The panel counts shares the gateway verified, and the site hears of each verdict.
    on('share-result', (d) => {
      if (d.accepted) this.#stats.shares++;
      this.#paintStats();
      this.#emit('share', d);
    });
    on('state', (d) => {
      this.#runtimeState = d.state;
      if (d.state === 'stopped' && this.#phase !== 'stopped') this.#stopMining('runtime');
      else this.#paintStatus();
    });
    on('error', (d) => {
      if (d.fatal === false) {
        this.#warning = String(d.message || d.reason);
        this.#paintStatus();
        this.#emit('error', { reason: d.reason, message: this.#warning, fatal: false });
        return;
      }
      // The runtime keeps its own expiry timer: when it fires first, ask again as at expiry
      // (#restore finds the stored yes expired). Any other fatal error shows on the panel.
      if (d.reason === 'consent-expired') this.#restore();
      if (this.#phase === 'stopped' && this.#view !== 'panel') {
        this.#emit('error', { reason: d.reason, message: d.message, fatal: true });
      } else this.#fail(d);
    });
  }
  #runtimeState = '';
  #warning = '';

  // Pause reasons are watched only while mining: visibility always, battery and CPU
  // pressure where the browser reports them (Battery Status API, Compute Pressure API).
  #watchPauses() {
    const offs = [];
    const onVis = () => this.#setReason('hidden', document.hidden);
    document.addEventListener('visibilitychange', onVis);
    offs.push(() => document.removeEventListener('visibilitychange', onVis));
    onVis();
    let alive = true;
    offs.push(() => { alive = false; });
    navigator.getBattery?.().then((battery) => {
      if (!alive) return;
      const onBattery = () => this.#setReason('battery', battery.charging === false);
      battery.addEventListener('chargingchange', onBattery);
      offs.push(() => battery.removeEventListener('chargingchange', onBattery));
      onBattery();
    }, () => {});
    if (typeof PressureObserver === 'function') {
      let calm = 0, strikes = 0;
      const observer = new PressureObserver((records) => {
        const state = records[records.length - 1]?.state;
        clearTimeout(calm);
        if (state === 'serious' || state === 'critical') {
          if (!this.#reasons.has('pressure')) strikes++;
          this.#setReason('pressure', true);
        } else if (this.#reasons.has('pressure')) {
          // Each pressure pause in a row waits twice as long before resuming (3 s .. 48 s).
          calm = setTimeout(() => this.#setReason('pressure', false), PRESSURE_CALM_MS * 2 ** Math.min(strikes - 1, 4));
        }
      });
      Promise.resolve().then(() => observer.observe('cpu')).catch(() => {});
      offs.push(() => { clearTimeout(calm); observer.disconnect(); });
    }
    this.#unwatch = () => offs.splice(0).forEach((f) => f());
  }
  #unwatch = () => {};

  #setReason(reason, on) {
    const before = this.#reasons.size;
    if (on === this.#reasons.has(reason)) return;
    if (on) this.#reasons.add(reason); else this.#reasons.delete(reason);
    const running = this.#phase === 'running' && this.#miner;
    try {
      if (running && on && !before) this.#miner.pause(reason);
      if (running && !on && !this.#reasons.size) this.#miner.resume();
    } catch (err) { this.#fail(err); }
    if (on) this.#emit('pause', { reason, reasons: [...this.#reasons] });
    else if (!this.#reasons.size) this.#emit('resume', { reason });
    this.#paintStatus();
  }

  #armExpiry(expiresAt) {
    clearTimeout(this.#expiryTimer);
    const left = expiresAt - Date.now();
    this.#expiryTimer = setTimeout(() => {
      if (Date.now() < expiresAt) return this.#armExpiry(expiresAt);
      this.#restore(); // the stored yes has expired: stops mining and asks again
    }, clamp(left, 0, MAX_TIMER));
  }

  // Stop terminates the workers at once (the runtime's stop()); rule 5 wants the CPU back
  // to idle within 100 ms, so nothing here waits for the runtime to wind down.
  #halt() {
    this.#run++;
    const miner = this.#miner;
    this.#miner = null;
    this.#unwatch();
    this.#unwatch = () => {};
    this.#unlock();
    this.#unlock = () => {};
    this.#reasons.clear();
    clearTimeout(this.#expiryTimer);
    try { miner?.stop(); } catch {}
    return miner;
  }

  #stopMining(reason) {
    const was = this.#phase;
    const miner = this.#halt();
    this.#phase = 'stopped';
    if (reason === 'user' && this.#consent) this.#save({ decision: 'granted', ...this.#consent, stopped: true });
    this.#render();
    if (miner && was !== 'stopped') this.#emit('stop', { reason });
  }

  #fail(err) {
    const message = String(err?.message || err?.reason || err || 'unknown error');
    this.#halt();
    this.#phase = 'stopped';
    this.#error = message;
    this.#render();
    this.#emit('error', { reason: err?.reason || 'runtime', message, fatal: true });
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  // --- rendering ------------------------------------------------------------------------
  #render() {
    const t = this.#t;
    const content = this.#view === 'ask' ? this.#disclosure(t)
      : this.#view === 'declined' ? this.#declinedNotice(t) : this.#panel(t);
    const box = h('section', { class: 'box', part: 'box', lang: this.language, 'aria-labelledby': 'cm-title' }, ...[].concat(content));
    const old = this.#root.activeElement;
    const focusKey = old?.dataset?.act || old?.dataset?.setting;
    this.#root.replaceChildren(...[this.#fallbackStyle, box].filter(Boolean));
    if (focusKey) this.#root.querySelector(`[data-act="${focusKey}"],[data-setting="${focusKey}"]`)?.focus();
    this.#paintStats();
    this.#paintStatus();
  }

  #disclosure(t) {
    const threads = this.threads, throttle = this.throttle, cores = this.maxThreads;
    const vars = { site: this.site, threads, throttle, cores, total: Math.max(1, Math.round((threads * throttle) / cores)),
      duration: t.duration(this.remember) };
    return [
      h('h2', { id: 'cm-title', tabindex: '-1', text: fill(t.askTitle, vars) }),
      this.#note ? h('p', { class: 'note', role: 'status', text: t[this.#note] }) : null,
      h('ul', {}, ...['askWhat', 'askLoad', 'askStop', 'askRemember'].map((k) => h('li', { text: fill(t[k], vars) }))),
      h('p', { class: 'fine', text: t.askNothingYet }),
      // Same markup and style for both answers: neither is the "default" (rule 2).
      h('div', { class: 'actions' },
        h('button', { type: 'button', 'data-act': 'accept', part: 'accept', text: fill(t.accept, vars) }),
        h('button', { type: 'button', 'data-act': 'decline', part: 'decline', text: t.decline })),
    ];
  }

  #declinedNotice(t) {
    const vars = { site: this.site, duration: t.duration(this.remember) };
    return [
      h('p', { id: 'cm-title', text: fill(this.#declinedKind === 'revoked' ? t.revoked : t.declined, vars) }),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'quiet', 'data-act': 'review', text: t.review })),
    ];
  }

  #panel(t) {
    const site = this.site;
    const c = this.#consent || { threads: this.threads, throttle: this.throttle, expires_at: Date.now() };
    const stat = (key, label) => h('div', {}, h('dt', { text: label }), h('dd', {}, h('span', { 'data-stat': key, text: '—' }),
      key === 'cpu' ? h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span')) : null));
    const options = [];
    for (let n = 1; n <= Math.max(this.maxThreads, c.threads); n++) {
      options.push(h('option', { value: String(n), selected: n === c.threads, text: String(n) }));
    }
    const active = this.#phase !== 'stopped';
    const date = new Date(c.expires_at).toLocaleString(this.language === 'ja' ? 'ja-JP' : 'en', { dateStyle: 'medium', timeStyle: 'short' });
    return h('div', {},
      h('h2', { id: 'cm-title', tabindex: '-1', text: fill(t.panelTitle, { site }) }),
      h('p', { role: 'status', 'data-status': '' }),
      h('dl', { class: 'stats' }, stat('cpu', t.cpuLabel), stat('hashrate', t.hashrateLabel), stat('shares', t.sharesLabel)),
      h('p', { class: 'fine', 'data-note': 'cpu', text: t.cpuNote }),
      h('div', { class: 'controls' },
        h('label', {}, h('span', {}, t.throttleLabel + ' ', h('output', { 'data-out': 'throttle', text: `${c.throttle}%` })),
          h('input', { type: 'range', min: '5', max: '100', step: '5', value: String(c.throttle), 'data-setting': 'throttle',
            'aria-valuetext': `${c.throttle}%` })),
        h('label', {}, h('span', { text: t.threadsLabel }), h('select', { 'data-setting': 'threads' }, ...options))),
      h('div', { class: 'actions' },
        active ? h('button', { type: 'button', 'data-act': 'stop', part: 'stop', text: t.stop })
          : h('button', { type: 'button', 'data-act': 'start', part: 'start', text: t.startAgain }),
        h('button', { type: 'button', class: 'quiet', 'data-act': 'revoke', part: 'revoke', text: t.revoke })),
      h('p', { class: 'fine', text: fill(t.until, { date }) }));
  }

  #paintStats() {
    const t = this.#t;
    const set = (key, text) => { const el = this.#root.querySelector(`[data-stat=${key}]`); if (el) el.textContent = text; };
    const { cpu, hashrate, shares } = this.#stats;
    const live = this.#phase !== 'stopped';
    const pct = Math.round(clamp(cpu, 0, 1) * 100);
    set('cpu', live && Number.isFinite(cpu) ? fill(t.cpuValue, { pct }) : '—');
    set('hashrate', live && Number.isFinite(hashrate) ? fill(t.hashrateValue, { rate: hashrate.toFixed(hashrate < 100 ? 1 : 0) }) : '—');
    set('shares', String(shares));
    const bar = this.#root.querySelector('.bar > span');
    if (bar) bar.style.width = `${live && Number.isFinite(cpu) ? pct : 0}%`;
  }

  #paintStatus() {
    const el = this.#root.querySelector('[data-status]');
    if (!el) return;
    const t = this.#t;
    let text;
    if (this.#error) text = fill(t.error, { message: this.#error });
    else if (this.#phase === 'loading') text = t.loading;
    else if (this.#phase === 'waiting') text = t.waiting;
    else if (this.#phase === 'stopped') text = t.stopped;
    else if (this.#reasons.size) text = fill(t.pausedBecause, { reasons: [...this.#reasons].map((r) => t['reason_' + r]).join(t.reasonJoin) });
    else if (this.#runtimeState === 'starting' || this.#runtimeState === 'initializing') text = t.preparing;
    else text = t.running;
    if (this.#warning && !this.#error) text += ' ' + fill(t.warning, { message: this.#warning });
    // A live region: rewrite it only when the words change, or screen readers repeat it.
    if (el.textContent !== text) el.textContent = text;
    el.dataset.state = this.state;
  }

  #focusTitle() { this.#root.getElementById('cm-title')?.focus(); }
}

if (!customElements.get('consent-miner')) customElements.define('consent-miner', ConsentMiner);
