// Stand-ins for what headless Chromium cannot be made to report: a hidden tab (headless
// pages stay "visible" whatever is in front), a battery that is not charging, and CPU
// pressure. Each replaces the browser API the element reads, and fires the event the real
// browser would fire; the element's reaction is what the tests check.

export async function hideTab(page) { await setHidden(page, true); }
export async function showTab(page) { await setHidden(page, false); }

function setHidden(page, hidden) {
  return page.evaluate((h) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

/** An init script: navigator.getBattery() resolves to a battery the test drives with
 * window.__battery.set(charging). */
export function batteryStandIn() {
  const battery = new EventTarget();
  battery.charging = true;
  battery.level = 0.8;
  window.__battery = { set(charging) { battery.charging = charging; battery.dispatchEvent(new Event('chargingchange')); } };
  Object.defineProperty(Navigator.prototype, 'getBattery', { configurable: true, value: () => Promise.resolve(battery) });
}

/** A PressureObserver whose 'cpu' records the test sends with window.__pressure.emit(state). */
export function pressureStandIn() {
  const observers = new Set();
  window.PressureObserver = class {
    #cb;
    constructor(cb) { this.#cb = cb; }
    async observe(source) { if (source === 'cpu') observers.add(this); }
    disconnect() { observers.delete(this); }
    _emit(state) { this.#cb([{ source: 'cpu', state, time: performance.now() }], this); }
  };
  window.__pressure = { emit(state) { for (const o of observers) o._emit(state); }, get observers() { return observers.size; } };
}
