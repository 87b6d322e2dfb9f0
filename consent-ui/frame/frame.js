// The consent frame: what <consent-miner> shows, served by the gateway at /frame/ on the
// gateway's own origin and embedded by the element as a cross-origin iframe.
//
// Everything that decides or costs anything lives here, out of reach of the embedding
// page (docs/design.md, issue 14): the disclosure and its two answers, the visibility
// check that makes a click count, the remembered yes (a grant token the gateway signed,
// in this origin's storage), the session tokens, the runtime, its workers and the
// WebSocket. The page can only lower: stop, revoke, fewer threads, a lower throttle.
//
// Before the visitor says yes, this page has loaded itself, frame.css and texts.js, and
// nothing else: no runtime module, no wasm, no worker, no WebSocket, no timer (consent
// rule 1). The runtime is imported after the gateway issued the grant.
//
// Query parameters (set by the element from its attributes): site, threads, throttle,
// remember ("30m", "24h", "7d", or hours), lang, theme (light | dark; else the visitor's
// prefers-color-scheme), origin (the embedding page's origin, where browsers cannot tell
// it: location.ancestorOrigins); and from the element's CSS custom properties accent,
// background, color, radius, font (theme.js checks them).

import { languages } from '../texts.js';
import { applyTheme } from './theme.js';
import { PressureRule } from './pressure.js';

const RUNTIME_URL = new URL('../../wasm/js/miner.mjs', import.meta.url).href;
const MINUTE = 60e3;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// docs/design.md rule 7 and core/include/consentminer/consent.h: 24 h by default, 30 days at most.
const REMEMBER_DEFAULT = DAY;
const REMEMBER_MAX = 30 * DAY;
const REMEMBER_MIN = MINUTE;
// A click counts only after the whole disclosure was visible, unobscured and unaltered
// this long: long enough that a page cannot slide it under the pointer just before a
// click it provoked, short compared to reading it.
export const MIN_VISIBLE_MS = 1000;
// Below this the disclosure does not fit; the element never makes the frame smaller.
export const MIN_WIDTH = 280;
// Renew the session this long before it expires (the gateway's default TTL is 600 s).
const RENEW_AHEAD_MS = 60e3;
const RENEW_RETRY_MS = 10e3;
const MAX_TIMER = 2 ** 31 - 1;
const STORAGE_PREFIX = 'consent-miner:v2:';

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

// The payload of a token the gateway signed (the signature is the gateway's to check).
function tokenPayload(token) {
  try {
    const b64 = token.split('.')[0].replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  } catch {
    return null;
  }
}

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    credentials: 'omit', cache: 'no-store',
  });
  let json = null;
  try { json = await res.json(); } catch {}
  if (!res.ok) {
    throw Object.assign(new Error(`${path}: ${json?.error || `HTTP ${res.status}`}`), { status: res.status, reason: res.status === 401 ? 'consent-refused' : 'gateway-refused' });
  }
  return json;
}

// Whether the disclosure has been fully visible long enough for a click on it to count.
// Chromium's IntersectionObserver v2 (trackVisibility) reports isVisible false when the
// frame or anything around it is covered, transparent, transformed or filtered; browsers
// without it only tell whether it is inside the viewport (README: what that leaves open).
export class VisibilityGuard {
  static get tracksOcclusion() {
    return typeof IntersectionObserverEntry === 'function' && 'isVisible' in IntersectionObserverEntry.prototype;
  }
  #since = 0;
  #observer = null;
  #why = 'not-shown';
  constructor(onChange = () => {}) { this.onChange = onChange; }
  observe(target) {
    this.#observer?.disconnect();
    this.#since = 0;
    this.#why = 'not-shown';
    if (typeof IntersectionObserver !== 'function') return;
    const options = { threshold: [0, 0.5, 0.99, 1] };
    if (VisibilityGuard.tracksOcclusion) Object.assign(options, { trackVisibility: true, delay: 100 });
    this.#observer = new IntersectionObserver((entries) => this.#update(entries[entries.length - 1]), options);
    this.#observer.observe(target);
  }
  disconnect() { this.#observer?.disconnect(); this.#observer = null; this.#since = 0; }
  #update(e) {
    let why = '';
    if (!e.isIntersecting || e.intersectionRatio < 0.99) why = 'not-fully-in-view';
    else if (VisibilityGuard.tracksOcclusion && !e.isVisible) why = 'covered-or-altered';
    else if (e.boundingClientRect.width < MIN_WIDTH - 1 || innerWidth < MIN_WIDTH - 1) why = 'too-small';
    this.#why = why;
    if (why) this.#since = 0;
    else if (!this.#since) this.#since = e.time || performance.now();
    document.documentElement.dataset.visible = why ? 'no' : 'yes';
    this.onChange();
  }
  /** '' when a click now may count, else why not. */
  check(now = performance.now()) {
    if (!this.#observer) return 'no-intersection-observer';
    if (this.#why) return this.#why;
    return now - this.#since >= MIN_VISIBLE_MS ? '' : 'shown-too-briefly';
  }
}

class ConsentFrame {
  #root;
  #params = new URLSearchParams(location.search);
  #parentOrigin = '';
  #view = 'ask'; // ask | declined | panel
  #note = ''; // key of a line shown above the disclosure: why we ask again
  #miner = null;
  #run = 0; // bumped on every start/stop so a slow start that was stopped meanwhile gives up
  #grant = null; // { token, id, granted_at, expires_at, threads, throttle } while it holds
  #session = null; // { token, expires_at }
  #limits = { threads: Infinity, throttle: Infinity }; // lowered by the page, never raised
  #setting = null; // { threads, throttle } the visitor chose on the panel
  #phase = 'stopped'; // waiting | loading | running | stopped
  #reasons = new Set(); // why mining is paused: hidden | battery | pressure
  #pressureRule = null;
  #pressureMode = 'mining'; // pressure.js: mining | probe | busy
  #stats = { cpu: NaN, hashrate: NaN, shares: 0 };
  #error = '';
  #warning = '';
  #runtimeState = '';
  #declinedKind = 'declined';
  #expiryTimer = 0;
  #renewTimer = 0;
  #battery = null;
  #guard;
  #lastState = '';

  constructor(root) {
    this.#root = root;
    this.#guard = new VisibilityGuard();
    const ancestors = location.ancestorOrigins;
    this.#parentOrigin = window.parent === window ? '' : (ancestors && ancestors.length ? ancestors[0] : this.#params.get('origin') || '');
    const theme = this.#params.get('theme');
    if (theme === 'dark' || theme === 'light') document.documentElement.dataset.theme = theme;
    this.#theme();
    matchMedia('(prefers-color-scheme: dark)').addEventListener?.('change', () => this.#theme());
    root.addEventListener('click', this.#onClick);
    root.addEventListener('change', this.#onChange);
    root.addEventListener('input', this.#onInput);
    addEventListener('message', this.#onMessage);
    addEventListener('storage', (e) => { if (e.key === this.#storageKey) this.#restore(); });
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver(() => this.#emit('resize', { height: Math.ceil(document.documentElement.scrollHeight), minWidth: MIN_WIDTH }))
        .observe(document.documentElement);
    }
  }

  // Battery and pressure pauses are promised only where this browser can do them.
  async init() {
    try {
      this.#battery = navigator.getBattery ? await Promise.race([navigator.getBattery(), new Promise((r) => setTimeout(r, 500, null))]) : null;
    } catch { this.#battery = null; }
    this.#restore();
  }

  // --- configuration -------------------------------------------------------------------
  // The site's palette is checked against the background in force, so again when the
  // visitor's colour scheme changes; what fails is refused and the page is told why.
  #theme() {
    const refused = applyTheme(this.#params);
    if (refused.length) this.#emit('error', { reason: 'refused-theme', message: `the consent frame keeps its own look: ${refused.join('; ')}`, fatal: false });
  }

  get language() {
    const wanted = [this.#params.get('lang'), ...(navigator.languages || [navigator.language])];
    for (const tag of wanted) {
      const primary = String(tag || '').toLowerCase().split('-')[0];
      if (languages[primary]) return primary;
    }
    return 'en';
  }
  get #t() { return languages[this.language]; }
  get site() {
    const s = (this.#params.get('site') || '').trim().slice(0, 100);
    if (s) return s;
    try { return new URL(this.#parentOrigin).hostname || 'this site'; } catch { return 'this site'; }
  }
  get maxThreads() { return Math.max(1, Math.min(256, navigator.hardwareConcurrency || 1)); }
  get threads() { return clamp(Math.floor(Number(this.#params.get('threads')) || 1), 1, this.maxThreads); }
  get throttle() {
    const raw = Number(this.#params.get('throttle') ?? 50);
    return clamp(Math.floor((Number.isFinite(raw) ? raw : 50) / 5) * 5, 5, 100);
  }
  get remember() {
    const ms = parseDuration(this.#params.get('remember') ?? '24h');
    return Number.isFinite(ms) ? clamp(ms, REMEMBER_MIN, REMEMBER_MAX) : REMEMBER_DEFAULT;
  }
  get gateway() { return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`; }
  get #storageKey() { return STORAGE_PREFIX + this.site; }
  get #pauseKinds() {
    const kinds = ['hidden'];
    if (this.#battery) kinds.push('battery');
    const policy = document.featurePolicy || document.permissionsPolicy;
    if (typeof PressureObserver === 'function' && (!policy?.allowsFeature || policy.allowsFeature('compute-pressure'))) kinds.push('pressure');
    return kinds;
  }
  // What mining may use now: the grant's ceilings, lowered by the page's limits.
  get #ceiling() {
    const g = this.#grant || { threads: this.threads, throttle: this.throttle };
    return { threads: Math.max(1, Math.min(g.threads, this.#limits.threads)), throttle: Math.max(1, Math.min(g.throttle, this.#limits.throttle)) };
  }
  get #effective() {
    const c = this.#ceiling;
    const s = this.#setting || c;
    return { threads: Math.min(s.threads, c.threads), throttle: Math.min(s.throttle, c.throttle) };
  }

  /** 'ask' | 'declined' | 'waiting' | 'loading' | 'running' | 'paused' | 'stopped' */
  get state() {
    if (this.#view !== 'panel') return this.#view;
    return this.#phase === 'running' && this.#reasons.size ? 'paused' : this.#phase;
  }

  // --- storage: the grant token (a remembered yes), or a remembered no ------------------
  #load() {
    try { return JSON.parse(localStorage.getItem(this.#storageKey)) || null; } catch { return null; }
  }
  #save(rec) { try { localStorage.setItem(this.#storageKey, JSON.stringify({ v: 2, ...rec })); } catch {} }
  #forget() { try { localStorage.removeItem(this.#storageKey); } catch {} }

  // A stored yes is only a grant token the gateway signed for this site; the payload is
  // read here for the panel, and the gateway checks the signature when it makes a session.
  #grantFrom(rec, now = Date.now()) {
    if (rec?.decision !== 'granted' || typeof rec.grant !== 'string') return null;
    const p = tokenPayload(rec.grant);
    if (!p || p.v !== 1 || p.kind !== 'grant' || p.site !== this.site) return null;
    if (!Number.isInteger(p.granted_at) || !Number.isInteger(p.expires_at) || !Number.isInteger(p.threads) || !Number.isInteger(p.throttle)) return null;
    // A site that shortens `remember` or lowers `threads`/`throttle` lowers a yes already
    // given; it never raises it.
    const expires = Math.min(p.expires_at, p.granted_at + this.remember);
    if (expires <= now) return null;
    return { token: rec.grant, id: p.id, granted_at: p.granted_at, expires_at: expires,
      threads: Math.min(p.threads, this.maxThreads, this.threads), throttle: Math.min(p.throttle, this.throttle) };
  }

  // Reads the remembered choice: a valid grant starts mining (unless the visitor had
  // stopped it), a remembered no or revoke shows a one-line notice, anything else asks.
  // Also runs when another frame of this site changes the choice and at expiry.
  #restore() {
    const rec = this.#load();
    const now = Date.now();
    const grant = this.#grantFrom(rec, now);
    if (grant) {
      if (this.#grant?.id !== grant.id) { this.#session = null; this.#setting = null; }
      this.#grant = grant;
      this.#view = 'panel';
      this.#note = '';
      if (rec.stopped) {
        if (this.#phase !== 'stopped') this.#stopMining('elsewhere');
        else this.#render();
      } else if (this.#phase === 'stopped') this.#startMining();
      else this.#render();
      return;
    }
    if (this.#grant) this.#stopMining(rec?.decision === 'granted' ? 'expired' : rec?.decision || 'forgotten');
    this.#grant = this.#session = null;
    if (rec && (rec.decision === 'declined' || rec.decision === 'revoked') && rec.until > now) {
      this.#view = 'declined';
      this.#declinedKind = rec.decision;
    } else {
      if (rec?.decision === 'granted' && !this.#note) this.#note = 'expiredNote';
      if (rec) this.#forget();
      this.#view = 'ask';
    }
    this.#render();
  }

  // --- the visitor's decisions ----------------------------------------------------------
  // Starting, or raising what mining costs, needs a trusted event: one the browser made
  // from a real click, tap or key press. Script-made events have isTrusted === false, and
  // the page's scripts cannot reach into this frame at all. Accept, and Start again after a
  // stop, also need what is shown to have been fully visible for MIN_VISIBLE_MS
  // (VisibilityGuard): a page must not clickjack either of the two buttons that start mining.
  #onClick = (event) => {
    const act = event.target.closest?.('button')?.dataset.act;
    if (!act) return;
    if ((act === 'accept' || act === 'start') && !event.isTrusted) {
      this.#emit('error', { reason: 'untrusted-gesture', message: 'consent needs a real click or key press' });
      return;
    }
    if (act === 'accept' || act === 'start') {
      const why = this.#guard.check();
      if (why) {
        this.#note = 'notVisibleNote';
        this.#render();
        const what = act === 'accept' ? 'the consent form' : 'the mining panel';
        this.#emit('error', { reason: 'not-visible', message: `${what} was not fully visible long enough (${why}); the click did not count` });
        return;
      }
      this.#note = '';
      if (act === 'accept') this.#accept(); else this.#startAgain();
    } else if (act === 'decline') this.#decline();
    else if (act === 'review') { this.#view = 'ask'; this.#note = ''; this.#render(); this.#focusTitle(); }
    else if (act === 'stop') this.#userStop();
    else if (act === 'revoke') this.revoke();
  };

  async #accept() {
    const run = ++this.#run;
    const threads = this.threads, throttle = this.throttle;
    this.#view = 'panel';
    this.#note = this.#error = '';
    this.#phase = 'loading';
    this.#grant = { token: '', id: '', granted_at: Date.now(), expires_at: Date.now() + this.remember, threads, throttle };
    this.#render();
    this.#root.querySelector('[data-act=stop]')?.focus();
    // The yes is given: the runtime's modules load while the gateway signs the grant (the
    // wasm and the workers still wait for the gateway to accept the login).
    this.#loadRuntime().catch(() => {});
    let reply;
    try {
      reply = await post('/consent/grant', { site: this.site, threads, throttle, remember_s: Math.round(this.remember / 1000) });
    } catch (err) {
      if (run === this.#run) this.#fail(err);
      return;
    }
    if (run !== this.#run) return;
    this.#save({ decision: 'granted', grant: reply.grant });
    const grant = this.#grantFrom(this.#load()) || this.#grantFrom({ decision: 'granted', grant: reply.grant });
    if (!grant) { this.#fail(new Error('the gateway\'s grant does not match this consent form')); return; }
    this.#grant = grant;
    this.#session = { token: reply.session, expires_at: reply.session_expires_at };
    this.#emit('consent', this.#record());
    this.#startMining(run);
  }

  #decline() {
    this.#grant = this.#session = null;
    this.#declinedKind = 'declined';
    this.#save({ decision: 'declined', at: Date.now(), until: Date.now() + this.remember });
    this.#view = 'declined';
    this.#note = '';
    this.#render();
    this.#root.querySelector('[data-act=review]')?.focus();
    this.#emit('decline', {});
  }

  #userStop(reason = 'user') {
    this.#stopMining(reason);
    const rec = this.#load();
    if (this.#grantFrom(rec)) this.#save({ ...rec, stopped: true });
  }

  #startAgain() {
    const rec = this.#load();
    if (!this.#grantFrom(rec)) { this.#restore(); return; }
    this.#save({ decision: 'granted', grant: rec.grant });
    this.#startMining();
    this.#root.querySelector('[data-act=stop]')?.focus();
  }

  /** Withdraws the consent: stops at once, tells the gateway, forgets the grant, asks again. */
  revoke() {
    const grant = this.#grant;
    if (!grant) return;
    this.#stopMining('revoked');
    this.#grant = this.#session = null;
    this.#save({ decision: 'revoked', at: Date.now(), until: Date.now() + this.remember });
    if (grant.token) {
      post('/consent/revoke', { grant: grant.token }).catch((err) =>
        this.#emit('error', { reason: 'revoke-unconfirmed', message: `${err.message}; the grant is deleted here and its session expires by itself`, fatal: false }));
    }
    this.#view = 'ask';
    this.#note = 'withdrawnNote';
    this.#render();
    this.#focusTitle();
    this.#emit('revoke', {});
  }

  #onChange = (event) => {
    const input = event.target;
    if (!input.dataset?.setting || !this.#grant) return;
    if (!event.isTrusted) { this.#render(); return; }
    const key = input.dataset.setting;
    const value = Math.min(Number(input.value), this.#ceiling[key]);
    this.#setting = { ...this.#effective, [key]: value };
    this.#apply();
    this.#render();
  };

  #onInput = (event) => {
    const out = this.#root.querySelector('[data-out=throttle]');
    if (!event.isTrusted || event.target.dataset?.setting !== 'throttle' || !out) return;
    out.textContent = `${event.target.value}%`;
    event.target.setAttribute('aria-valuetext', out.textContent);
  };

  // The page may stop, revoke or lower; anything else it sends is refused.
  #onMessage = (event) => {
    if (event.source !== window.parent || window.parent === window) return;
    if (this.#parentOrigin && event.origin !== this.#parentOrigin) return;
    const m = event.data;
    if (!m || m.type !== 'consent-miner') return;
    if (m.command === 'stop') this.#userStop('page');
    else if (m.command === 'revoke') this.revoke();
    else if (m.command === 'limit') {
      const lower = (v, cur) => (Number.isInteger(v) && v >= 1 ? Math.min(v, cur) : cur);
      this.#limits = { threads: lower(m.threads, this.#limits.threads), throttle: lower(m.throttle, this.#limits.throttle) };
      this.#apply();
      this.#render();
    } else {
      this.#emit('error', { reason: 'refused-command', message: `the page cannot ${JSON.stringify(String(m.command))} here: it may only stop, revoke or lower`, fatal: false });
    }
  };

  #apply() {
    const { threads, throttle } = this.#effective;
    try {
      this.#miner?.setThrottle(throttle);
      this.#pressureRule?.restart();
      this.#miner?.setThreads(threads);
    } catch (err) { this.#fail(err); }
  }

  #record() {
    const g = this.#grant;
    return { granted_at: g.granted_at, expires_at: g.expires_at, ...this.#effective };
  }

  // --- mining ---------------------------------------------------------------------------
  // The only place the runtime is loaded: after a yes (now or remembered), never before.
  #loadRuntime() {
    this.#runtime ??= import(RUNTIME_URL).catch((err) => { this.#runtime = null; throw err; });
    return this.#runtime;
  }
  #runtime = null;

  async #freshSession() {
    const s = this.#session;
    if (s && s.expires_at - Date.now() > 10e3) return s;
    const reply = await post('/consent/session', { grant: this.#grant.token });
    return (this.#session = { token: reply.session, expires_at: reply.expires_at });
  }

  async #startMining(run = ++this.#run) {
    this.#phase = 'loading';
    this.#error = this.#warning = this.#runtimeState = '';
    this.#stats = { cpu: NaN, hashrate: NaN, shares: 0 };
    this.#render();
    this.#armExpiry(this.#grant.expires_at);
    try {
      // A remembered yes in a tab opened in the background waits until the tab is seen.
      while (document.hidden && run === this.#run) {
        await new Promise((r) => document.addEventListener('visibilitychange', r, { once: true }));
      }
      if (run !== this.#run || !(await this.#takeTurn(run))) return;
      const session = await this.#freshSession();
      if (run !== this.#run) return;
      const { createMiner } = await this.#loadRuntime();
      if (run !== this.#run) return;
      // One thread gains nothing from a shared cache, and its own cache saves starting a
      // pthread after the cache is built: the first hash comes about 0.3-0.5 s sooner.
      const miner = this.#miner = createMiner({ gateway: this.gateway, shared: this.#ceiling.threads > 1 ? 'auto' : 'never' });
      this.#listen(miner);
      this.#watchPauses();
      await miner.start(session.token);
      if (run !== this.#run) return;
      this.#apply();
      this.#phase = 'running';
      if (this.#reasons.size) miner.pause([...this.#reasons][0]);
      this.#armRenewal(run);
      this.#render();
      this.#emit('start', this.#record());
    } catch (err) {
      if (run !== this.#run) return;
      if (err.reason === 'consent-refused') { this.#refused(); return; }
      this.#fail(err);
    }
  }

  // The gateway no longer honours the grant (revoked elsewhere, expired, or its key was
  // retired): forget it and ask again.
  #refused() {
    this.#halt();
    this.#phase = 'stopped';
    this.#grant = this.#session = null;
    this.#forget();
    this.#note = 'expiredNote';
    this.#view = 'ask';
    this.#render();
    this.#emit('stop', { reason: 'expired' });
  }

  // Keeps mining under a fresh session token before the current one expires; the runtime
  // stops by itself at the old expiry if the gateway cannot be reached meanwhile.
  #armRenewal(run) {
    clearTimeout(this.#renewTimer);
    // A minute ahead, or a third of what is left for a short session (--session-ttl).
    const left = this.#session.expires_at - Date.now();
    const wait = clamp(left - Math.min(RENEW_AHEAD_MS, left / 3), 0, MAX_TIMER);
    this.#renewTimer = setTimeout(async () => {
      if (run !== this.#run || !this.#miner) return;
      try {
        this.#session = null;
        const s = await this.#freshSession();
        if (run !== this.#run || !this.#miner) return;
        await this.#miner.renew(s.token);
        this.#armRenewal(run);
      } catch (err) {
        if (run !== this.#run) return;
        if (err.reason === 'consent-refused') { this.#refused(); return; }
        this.#warning = err.message;
        this.#paintStatus();
        this.#session = this.#session || { token: '', expires_at: 0 };
        this.#renewTimer = setTimeout(() => this.#armRenewal(run), RENEW_RETRY_MS);
      }
    }, wait);
  }

  // The disclosed load is for one page. A remembered yes would otherwise start a miner in
  // every open tab of the site, so tabs take turns through a Web Lock.
  async #takeTurn(run) {
    if (!navigator.locks) return true;
    if (await this.#lock(run, true)) return true;
    if (run !== this.#run) return false;
    this.#phase = 'waiting';
    this.#render();
    if (!(await this.#lock(run, false)) || run !== this.#run) return false;
    const rec = this.#load();
    if (this.#grantFrom(rec) && !rec.stopped) {
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

  #listen(miner) {
    const on = (type, fn) => miner.addEventListener(type, (e) => { if (this.#miner === miner) fn(e.detail || {}); });
    on('hashrate', (d) => {
      this.#stats.hashrate = Number(d.hashrate);
      if (!d.paused && !this.#reasons.size) this.#pressureRule?.hashes(Number(d.hashes));
      this.#paintStats();
      this.#emit('hashrate', d);
    });
    on('cpu', (d) => {
      this.#stats.cpu = Number(d.fraction);
      this.#paintStats();
    });
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
      if (d.reason === 'consent-expired') { this.#session = null; this.#restore(); }
      if (this.#phase === 'stopped' && this.#view !== 'panel') {
        this.#emit('error', { reason: d.reason, message: d.message, fatal: true });
      } else this.#fail(d);
    });
  }

  // Pause reasons are watched only while mining: visibility always, battery and CPU
  // pressure where the browser reports them (the disclosure promises only those).
  #watchPauses() {
    const offs = [];
    const onVis = () => this.#setReason('hidden', document.hidden);
    document.addEventListener('visibilitychange', onVis);
    offs.push(() => document.removeEventListener('visibilitychange', onVis));
    onVis();
    const battery = this.#battery;
    if (battery) {
      const onBattery = () => this.#setReason('battery', battery.charging === false);
      battery.addEventListener('chargingchange', onBattery);
      offs.push(() => battery.removeEventListener('chargingchange', onBattery));
      onBattery();
    }
    if (this.#pauseKinds.includes('pressure')) {
      // Pauses only for other programs' load, never for the miner's own (pressure.js).
      const rule = new PressureRule({
        onChange: (mode) => {
          this.#pressureMode = mode;
          this.#setReason('pressure', mode !== 'mining');
          this.#paintStatus();
        },
      });
      this.#pressureRule = rule;
      const observer = new PressureObserver((records) => rule.record(records[records.length - 1]?.state));
      Promise.resolve().then(() => observer.observe('cpu', { sampleInterval: 1000 })).catch(() => {});
      offs.push(() => { rule.stop(); observer.disconnect(); this.#pressureRule = null; this.#pressureMode = 'mining'; });
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
      if (running && !on && !this.#reasons.size) { this.#miner.resume(); this.#pressureRule?.restart(); }
    } catch (err) { this.#fail(err); }
    if (on) this.#emit('pause', { reason, reasons: [...this.#reasons] });
    else if (!this.#reasons.size) this.#emit('resume', { reason });
    this.#paintStats();
    this.#paintStatus();
  }

  #armExpiry(expiresAt) {
    clearTimeout(this.#expiryTimer);
    const left = expiresAt - Date.now();
    this.#expiryTimer = setTimeout(() => {
      if (Date.now() < expiresAt) return this.#armExpiry(expiresAt);
      this.#restore();
    }, clamp(left, 0, MAX_TIMER));
  }

  // Stop terminates the workers at once (the runtime's stop()); rule 5 wants the CPU back
  // to idle within 100 ms, so nothing here waits for the runtime or the gateway.
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
    clearTimeout(this.#renewTimer);
    try { miner?.stop(); } catch {}
    return miner;
  }

  #stopMining(reason) {
    const was = this.#phase;
    const miner = this.#halt();
    this.#phase = 'stopped';
    this.#render();
    if ((miner || was === 'loading' || was === 'waiting') && was !== 'stopped') this.#emit('stop', { reason });
  }

  #fail(err) {
    const message = String(err?.message || err?.reason || err || 'unknown error');
    this.#halt();
    this.#phase = 'stopped';
    this.#error = message;
    this.#render();
    this.#emit('error', { reason: err?.reason || 'runtime', message, fatal: true });
  }

  // Messages to the embedding page go to its origin only; it learns what the visitor sees.
  #emit(event, detail) {
    if (window.parent === window || !this.#parentOrigin) return;
    try { window.parent.postMessage({ type: 'consent-miner', event, detail }, this.#parentOrigin); } catch {}
  }

  // --- rendering ------------------------------------------------------------------------
  #render() {
    const t = this.#t;
    const content = this.#view === 'ask' ? this.#disclosure(t)
      : this.#view === 'declined' ? this.#declinedNotice(t) : this.#panel(t);
    const box = h('section', { class: 'box', lang: this.language, 'aria-labelledby': 'cm-title' }, ...[].concat(content));
    document.documentElement.lang = this.language;
    const old = document.activeElement;
    const focusKey = old?.dataset?.act || old?.dataset?.setting;
    this.#root.replaceChildren(box);
    if (focusKey) this.#root.querySelector(`[data-act="${focusKey}"],[data-setting="${focusKey}"]`)?.focus();
    // The guard watches what is shown (the disclosure, or the panel with its Start again);
    // its clock restarts whenever the view changes, so a click counts only on a view the
    // visitor has seen whole for MIN_VISIBLE_MS.
    if (this.#guarding !== this.#view) { this.#guard.observe(this.#root); this.#guarding = this.#view; }
    this.#paintStats();
    this.#paintStatus();
  }
  #guarding = '';

  #disclosure(t) {
    const threads = this.threads, throttle = this.throttle, cores = this.maxThreads;
    const pauses = this.#pauseKinds.map((k) => t['pause_' + k]);
    const vars = { site: this.site, threads, throttle, cores, total: Math.max(1, Math.round((threads * throttle) / cores)),
      duration: t.duration(this.remember), pauses: t.list(pauses) };
    return [
      h('h2', { id: 'cm-title', tabindex: '-1', text: fill(t.askTitle, vars) }),
      this.#note ? h('p', { class: 'note', role: 'status', text: t[this.#note] }) : null,
      h('ul', {}, ...['askWhat', 'askLoad', 'askStop', 'askRemember'].map((k) => h('li', { text: fill(t[k], vars) }))),
      h('p', { class: 'fine', text: t.askNothingYet }),
      // Same markup and style for both answers, neither focused nor pre-selected (rule 2).
      h('div', { class: 'actions' },
        h('button', { type: 'button', 'data-act': 'accept', text: fill(t.accept, vars) }),
        h('button', { type: 'button', 'data-act': 'decline', text: t.decline })),
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
    const c = this.#effective;
    const ceiling = this.#ceiling;
    const expires = this.#grant?.expires_at ?? Date.now();
    const stat = (key, label) => h('div', {}, h('dt', { text: label }), h('dd', {}, h('span', { 'data-stat': key, text: '—' }),
      key === 'cpu' ? h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span')) : null));
    const options = [];
    for (let n = 1; n <= ceiling.threads; n++) options.push(h('option', { value: String(n), selected: n === c.threads, text: String(n) }));
    const active = this.#phase !== 'stopped';
    const date = new Date(expires).toLocaleString(this.language === 'ja' ? 'ja-JP' : 'en', { dateStyle: 'medium', timeStyle: 'short' });
    const maxThrottle = Math.max(5, Math.floor(ceiling.throttle / 5) * 5);
    return h('div', {},
      h('h2', { id: 'cm-title', tabindex: '-1', text: fill(t.panelTitle, { site }) }),
      this.#note ? h('p', { class: 'note', role: 'status', text: t[this.#note] }) : null,
      h('p', { role: 'status', 'data-status': '' }),
      h('dl', { class: 'stats' }, stat('cpu', t.cpuLabel), stat('hashrate', t.hashrateLabel), stat('shares', t.sharesLabel)),
      h('p', { class: 'fine', 'data-note': 'cpu', text: t.cpuNote }),
      h('div', { class: 'controls' },
        h('label', {}, h('span', {}, t.throttleLabel + ' ', h('output', { 'data-out': 'throttle', text: `${c.throttle}%` })),
          h('input', { type: 'range', min: '5', max: String(maxThrottle), step: '5', value: String(c.throttle), 'data-setting': 'throttle',
            'aria-valuetext': `${c.throttle}%` })),
        h('label', {}, h('span', { text: t.threadsLabel }), h('select', { 'data-setting': 'threads' }, ...options))),
      h('div', { class: 'actions' },
        active ? h('button', { type: 'button', 'data-act': 'stop', text: t.stop })
          : h('button', { type: 'button', 'data-act': 'start', text: t.startAgain }),
        h('button', { type: 'button', class: 'quiet', 'data-act': 'revoke', text: t.revoke })),
      h('p', { class: 'fine', text: fill(t.until, { date }) }));
  }

  #paintStats() {
    const t = this.#t;
    const set = (key, text) => { const el = this.#root.querySelector(`[data-stat=${key}]`); if (el) el.textContent = text; };
    const { cpu, hashrate, shares } = this.#stats;
    const live = this.#phase === 'running' || this.#phase === 'loading';
    // While paused nothing hashes: the panel says so instead of the last rate.
    const paused = this.state === 'paused';
    const pct = paused ? 0 : Math.round(clamp(cpu, 0, 1) * 100);
    set('cpu', paused ? t.pausedFigure : live && Number.isFinite(cpu) ? fill(t.cpuValue, { pct }) : '—');
    set('hashrate', paused ? t.pausedFigure : live && Number.isFinite(hashrate) ? fill(t.hashrateValue, { rate: hashrate.toFixed(hashrate < 100 ? 1 : 0) }) : '—');
    set('shares', String(shares));
    const bar = this.#root.querySelector('.bar > span');
    if (bar) bar.style.width = `${live && !paused && Number.isFinite(cpu) ? pct : 0}%`;
  }

  #paintStatus() {
    const state = this.state;
    if (state !== this.#lastState) {
      this.#lastState = state;
      document.documentElement.dataset.state = state;
      this.#emit('state', { state });
    }
    const el = this.#root.querySelector('[data-status]');
    if (!el) return;
    const t = this.#t;
    let text;
    if (this.#error) text = fill(t.error, { message: this.#error });
    else if (this.#phase === 'loading') text = t.loading;
    else if (this.#phase === 'waiting') text = t.waiting;
    else if (this.#phase === 'stopped') text = t.stopped;
    else if (this.#reasons.size) text = fill(t.pausedBecause, { reasons: [...this.#reasons].map((r) => t[r === 'pressure' && this.#pressureMode === 'probe' ? 'reason_pressure_check' : 'reason_' + r]).join(t.reasonJoin) });
    else if (this.#runtimeState === 'starting' || this.#runtimeState === 'initializing') text = t.preparing;
    else if (this.#runtimeState === 'reconnecting') text = t.reconnecting;
    else text = t.running;
    if (this.#warning && !this.#error) text += ' ' + fill(t.warning, { message: this.#warning });
    if (el.textContent !== text) el.textContent = text;
    el.dataset.state = state;
  }

  #focusTitle() { document.getElementById('cm-title')?.focus(); }
}

// A frame embedded by a page of its own origin is not sealed: that page's scripts could
// reach in, click and write its storage. It then offers no consent at all.
function sameOriginParent() {
  if (window.parent === window) return false;
  try { return window.parent.location.origin === location.origin; } catch { return false; }
}

const root = document.getElementById('cm');
if (root && sameOriginParent()) {
  root.replaceChildren(h('p', { role: 'alert', text: 'This consent form works only when the page embedding it is on another origin than the gateway (see consent-ui/README.md). Nothing runs.' }));
  window.parent.postMessage({ type: 'consent-miner', event: 'error', detail: { reason: 'same-origin-frame', message: 'the consent frame must come from the gateway\'s own origin, not the page\'s', fatal: true } }, location.origin);
} else if (root) {
  new ConsentFrame(root).init();
}
