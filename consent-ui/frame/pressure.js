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
// 4. While it mines, the miner's own hash rate is watched: when another
//    program takes the CPU, the rate falls (the kernel shares the cores). A rate over the
//    last RATE_SPAN_MS under CONTENDED of the best one since mining resumed probes at
//    once, so a new load pauses mining within seconds rather than at the end of the hold.
//
// Pure logic with an injectable clock and timers, so node can test it (tests/wasm or
// tests/browser run it against a fake clock; the frame feeds it the real signal).

const LEVEL = { nominal: 0, fair: 1, serious: 2, critical: 3 };
export const PROBE_MS = 6000;
export const RECENT_MS = 20000;
export const OWN_HOLD_MS = 90000;
export const CALM_MS = 3000;
export const CONTENDED = 0.75;
export const BUSY_RETRY_MS = 30000;
export const RATE_SPAN_MS = 4000;
const WARMUP_MS = 3000; // the first seconds after a resume run below speed
const RATE_WINDOW_MS = 90000;

export class PressureRule {
  #now; #setTimer; #clearTimer; #onChange;
  #mode = 'mining'; // mining | probe | busy
  #level = 0;
  #probeAt = 0;
  #ownUntil = 0;
  #resumedAt = 0;
  #samples = [];
  #low = 0;
  #sawHigh = false;
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
    if (high) this.#sawHigh = true;
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

  /** The miner's total hashes so far (the runtime reports them about once a second),
   * while it mines. */
  hashes(total) {
    if (this.#mode !== 'mining' || !Number.isFinite(total)) return;
    const now = this.#now();
    if (now < this.#resumedAt + WARMUP_MS) return;
    this.#samples.push({ t: now, h: total });
    while (this.#samples.length && this.#samples[0].t < now - RATE_WINDOW_MS) this.#samples.shift();
    // Two low readings in a row: one is often a pause in the browser, not a new program.
    // Only on a device that has reported high pressure (the last report may be an old
    // "fair": browsers limit how often the state may change, and each probe changes it
    // twice). Where no pressure was ever reported, a slower miner is not a busy device.
    const watched = this.#level >= 2 || this.#sawHigh;
    this.#low = watched && this.#contended() ? this.#low + 1 : 0;
    if (this.#low >= 2) this.#probe('rate');
  }

  /** What the miner's rate is compared with starts again (fewer threads, a lower throttle,
   * a pause for another reason). */
  restart() {
    this.#samples = [];
    this.#low = 0;
    this.#resumedAt = this.#now();
  }

  stop() {
    this.#clearTimer(this.#timer);
    this.#clearTimer(this.#calm);
  }

  // Rates over RATE_SPAN_MS ending at each sample; the last against the best.
  #contended() {
    const rates = [];
    for (let i = 0, j = 0; i < this.#samples.length; i++) {
      const s = this.#samples[i];
      while (j < i && s.t - this.#samples[j + 1].t >= RATE_SPAN_MS) j++;
      const base = this.#samples[j];
      if (s.t - base.t >= RATE_SPAN_MS) rates.push(((s.h - base.h) * 1000) / (s.t - base.t));
    }
    if (rates.length < 2) return false;
    return rates[rates.length - 1] < CONTENDED * Math.max(...rates);
  }

  #set(mode) {
    if (mode === this.#mode) return;
    this.#mode = mode;
    this.#onChange(mode);
  }

  // cause 'rate': the miner's own rate fell, which only another program explains when
  // the pause brings no fall in pressure.
  #probe(cause = 'pressure') {
    this.#clearTimer(this.#timer);
    this.#probeAt = this.#now();
    this.#set('probe');
    this.#timer = this.#setTimer(() => {
      if (this.#level < 2 && cause !== 'rate') { this.#ours(); return; }
      this.#set('busy');
      // No report of a fall may ever come if the level said low already: look again.
      if (this.#level < 2) this.#timer = this.#setTimer(() => { if (this.#mode === 'busy') this.#resume(0); }, BUSY_RETRY_MS);
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
