// When CPU pressure pauses mining: only when the load is someone else's.
//
// The Compute Pressure API reports how busy the whole device is, the miner's own hashing
// included: on a 2-core machine two mining threads alone read "critical". Pausing on that
// pauses the miner because it mines, and the visitor's yes buys nothing. The rule here
// (docs/design.md, "Pauses") tells the two apart with the only test the signal allows:
//
// 1. Mining, the pressure turns serious or critical: pause for a probe (at most PROBE_MS).
// 2. The pressure falls while paused (within RECENT_MS of the probe's start, since browsers
//    may report a change seconds late): the load was ours. Mine again, and take serious or
//    critical as ours for OWN_HOLD_MS, then probe again.
// 3. It stays up through the probe: another program is busy. Stay paused ("busy") until it
//    has been calm for CALM_MS.
// 4. While the load counts as ours, the miner's own hash rate is watched: when another
//    program takes the CPU, the rate falls (the kernel shares the cores). A 10-second rate
//    under CONTENDED of the best one since mining resumed probes at once, so a new load
//    pauses mining within seconds rather than at the end of the hold.
//
// Pure logic with an injectable clock and timers, so node can test it (tests/wasm or
// tests/browser run it against a fake clock; the frame feeds it the real signal).

const LEVEL = { nominal: 0, fair: 1, serious: 2, critical: 3 };
export const PROBE_MS = 6000;
export const RECENT_MS = 20000;
export const OWN_HOLD_MS = 90000;
export const CALM_MS = 3000;
export const CONTENDED = 0.75;
const WARMUP_MS = 12000; // the 10-second rate still counts the pause before this
const RATE_WINDOW_MS = 90000;

export class PressureRule {
  #now; #setTimer; #clearTimer; #onChange;
  #mode = 'mining'; // mining | probe | busy
  #level = 0;
  #probeAt = 0;
  #ownUntil = 0;
  #resumedAt = 0;
  #samples = [];
  #timer = 0;
  #calm = 0;

  /** onChange(mode): 'mining' (mine), 'probe' (paused to check whose load it is) or
   * 'busy' (paused: another program loads the device). */
  constructor({ onChange, now = () => Date.now(), setTimer = (fn, ms) => setTimeout(fn, ms), clearTimer = (id) => clearTimeout(id) }) {
    this.#onChange = onChange;
    this.#now = now;
    this.#setTimer = setTimer;
    this.#clearTimer = clearTimer;
    this.#resumedAt = now();
  }

  get mode() { return this.#mode; }

  /** A PressureRecord's state, as the observer delivers it. */
  record(state) {
    const high = (this.#level = LEVEL[state] ?? 0) >= 2;
    const now = this.#now();
    if (this.#mode === 'probe' || (this.#mode === 'busy' && now - this.#probeAt < RECENT_MS)) {
      if (!high) this.#ours();
    } else if (this.#mode === 'busy') {
      this.#clearTimer(this.#calm);
      if (!high) this.#calm = this.#setTimer(() => this.#resume(0), CALM_MS);
    } else if (high && !(now < this.#ownUntil && !this.#contended())) {
      this.#probe();
    }
  }

  /** The miner's hash rate over its last 10 s, while it mines. */
  rate(hashrate) {
    if (this.#mode !== 'mining' || !Number.isFinite(hashrate)) return;
    const now = this.#now();
    this.#samples.push({ t: now, r: hashrate });
    while (this.#samples.length && this.#samples[0].t < now - RATE_WINDOW_MS) this.#samples.shift();
    if (this.#level >= 2 && this.#contended()) this.#probe();
  }

  /** What the miner's rate is compared with starts again (fewer threads, a lower throttle,
   * a pause for another reason). */
  restart() {
    this.#samples = [];
    this.#resumedAt = this.#now();
  }

  stop() {
    this.#clearTimer(this.#timer);
    this.#clearTimer(this.#calm);
  }

  #contended() {
    const from = this.#resumedAt + WARMUP_MS;
    const usable = this.#samples.filter((s) => s.t >= from);
    if (usable.length < 3) return false;
    const best = Math.max(...usable.map((s) => s.r));
    return usable[usable.length - 1].r < CONTENDED * best;
  }

  #set(mode) {
    if (mode === this.#mode) return;
    this.#mode = mode;
    this.#onChange(mode);
  }

  #probe() {
    this.#clearTimer(this.#timer);
    this.#probeAt = this.#now();
    this.#set('probe');
    this.#timer = this.#setTimer(() => {
      if (this.#level >= 2) this.#set('busy');
      else this.#ours();
    }, PROBE_MS);
  }

  #ours() {
    this.#clearTimer(this.#timer);
    this.#clearTimer(this.#calm);
    this.#resume(OWN_HOLD_MS);
    this.#timer = this.#setTimer(() => { if (this.#mode === 'mining' && this.#level >= 2) this.#probe(); }, OWN_HOLD_MS);
  }

  #resume(hold) {
    this.#ownUntil = hold ? this.#now() + hold : 0;
    this.restart();
    this.#set('mining');
    // Mining again into a pressure that no one has called ours: check it.
    if (!hold && this.#level >= 2) this.#probe();
  }
}
