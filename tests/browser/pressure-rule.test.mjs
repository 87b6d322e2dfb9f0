// The CPU-pressure pause rule (consent-ui/frame/pressure.js) on a fake clock: the miner's
// own load never keeps it paused, another program's load does, and a new load during a
// hold is caught by the miner's own falling hash rate. The frame feeds the same class the
// real PressureObserver; frame.test.mjs drives it in Chromium with a stand-in signal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PressureRule, PROBE_MS, RECENT_MS, OWN_HOLD_MS, CALM_MS, BUSY_RETRY_MS } from '../../consent-ui/frame/pressure.js';

function clock() {
  let now = 0, seq = 0;
  const timers = new Map();
  return {
    now: () => now,
    setTimer: (fn, ms) => { const id = ++seq; timers.set(id, { at: now + ms, fn }); return id; },
    clearTimer: (id) => timers.delete(id),
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = end;
    },
  };
}
function setup() {
  const c = clock();
  const modes = [];
  const rule = new PressureRule({ now: c.now, setTimer: c.setTimer, clearTimer: c.clearTimer, onChange: (m) => modes.push(m) });
  return { c, rule, modes };
}

test('the miner\'s own load: a probe, then mining on; the next probe only after the hold', () => {
  const { c, rule, modes } = setup();
  rule.record('critical');
  assert.equal(rule.mode, 'probe');
  c.advance(2000);
  rule.record('fair'); // the pause lowered it: the load was ours
  assert.equal(rule.mode, 'mining');
  c.advance(2000);
  rule.record('critical'); // mining again raises it: still ours
  assert.equal(rule.mode, 'mining');
  c.advance(OWN_HOLD_MS - 2000 - 1); // the hold began at the fall, 2 s in
  assert.equal(rule.mode, 'mining');
  c.advance(2);
  assert.equal(rule.mode, 'probe', 'checked again when the hold ends');
  assert.deepEqual(modes, ['probe', 'mining', 'probe']);
});

test('another program\'s load: paused through the probe and after, until calm', () => {
  const { c, rule, modes } = setup();
  rule.record('serious');
  c.advance(PROBE_MS);
  assert.equal(rule.mode, 'busy');
  c.advance(RECENT_MS);
  rule.record('critical');
  c.advance(60000);
  assert.equal(rule.mode, 'busy', 'stays paused while the load stays');
  rule.record('nominal');
  c.advance(CALM_MS - 1);
  assert.equal(rule.mode, 'busy');
  c.advance(1);
  assert.equal(rule.mode, 'mining');
  rule.record('critical'); // now ours again (mining resumed): a new probe decides
  assert.equal(rule.mode, 'probe');
  assert.deepEqual(modes, ['probe', 'busy', 'mining', 'probe']);
});

test('a signal that comes late (after the probe ended) still counts as the miner\'s own', () => {
  const { c, rule } = setup();
  rule.record('critical');
  c.advance(PROBE_MS + 3000);
  assert.equal(rule.mode, 'busy');
  rule.record('fair');
  assert.equal(rule.mode, 'mining', 'a fall soon after the pause was the pause\'s doing');
  rule.record('critical');
  assert.equal(rule.mode, 'mining', 'and the hold applies');
});

test('a new load during the hold: the miner\'s own rate falls, and it probes at once', () => {
  const { c, rule } = setup();
  rule.record('critical');
  rule.record('fair');
  rule.record('critical');
  let total = 0;
  for (let i = 0; i < 30; i++) { c.advance(1000); total += 14 + (i % 3); rule.hashes(total); }
  assert.equal(rule.mode, 'mining', 'steady rates: no probe');
  c.advance(1000); total += 12; rule.hashes(total); // noise, not a new load
  assert.equal(rule.mode, 'mining');
  let seconds = 0;
  while (rule.mode === 'mining' && seconds < 10) { c.advance(1000); total += 7.5; rule.hashes(total); seconds++; }
  assert.equal(rule.mode, 'probe', 'a program took half the CPU');
  assert.ok(seconds <= 4, `noticed after ${seconds} s`);
  c.advance(PROBE_MS);
  assert.equal(rule.mode, 'busy');
});

test('rates from before the warm-up or after restart() are not compared', () => {
  const { c, rule } = setup();
  rule.record('critical');
  rule.record('fair');
  rule.record('critical');
  let total = 0;
  for (let i = 0; i < 3; i++) { c.advance(1000); total += 16; rule.hashes(total); }
  rule.restart(); // e.g. the visitor lowered the throttle to a quarter
  for (let i = 0; i < 20; i++) { c.advance(1000); total += 4; rule.hashes(total); }
  assert.equal(rule.mode, 'mining');
});

test('two minutes of only the miner\'s own load: mining at least 90% of the time', () => {
  // A browser like Chromium: "critical" about 1 s after mining starts, "fair" about 2 s
  // after it stops, nothing else on the machine.
  const { c, rule } = setup();
  let mined = 0;
  const tick = 100;
  let signal = 'nominal', mining = true, changedAt = 0;
  for (let t = 0; t < 120000; t += tick) {
    c.advance(tick);
    const nowMining = rule.mode === 'mining';
    if (nowMining !== mining) { mining = nowMining; changedAt = t; }
    if (nowMining) mined += tick;
    const want = mining ? (t - changedAt >= 1000 ? 'critical' : signal) : (t - changedAt >= 2000 ? 'fair' : signal);
    if (want !== signal) { signal = want; rule.record(signal); }
  }
  assert.ok(mined / 120000 >= 0.9, `mined ${(100 * mined / 120000).toFixed(1)}% of the time`);
});

test('a falling rate with no pressure report (the browser held it back): paused, then looked at again', () => {
  const { c, rule } = setup();
  rule.record('critical');
  rule.record('fair'); // the last report: mining again raised nothing the browser told
  let total = 0;
  for (let i = 0; i < 20; i++) { c.advance(1000); total += 15; rule.hashes(total); }
  for (let i = 0; i < 6 && rule.mode === 'mining'; i++) { c.advance(1000); total += 7; rule.hashes(total); }
  assert.equal(rule.mode, 'probe');
  c.advance(PROBE_MS);
  assert.equal(rule.mode, 'busy', 'no fall during the probe: another program');
  c.advance(BUSY_RETRY_MS);
  assert.equal(rule.mode, 'mining', 'with nothing reported, mining is tried again');
});

test('no pressure reported at all: a slower miner is not a busy device', () => {
  const { c, rule } = setup();
  let total = 0;
  for (let i = 0; i < 20; i++) { c.advance(1000); total += 15; rule.hashes(total); }
  for (let i = 0; i < 20; i++) { c.advance(1000); total += 5; rule.hashes(total); }
  assert.equal(rule.mode, 'mining');
});

test('after the hold, with an old "fair" as the last report, a new load is still caught', () => {
  const { c, rule } = setup();
  rule.record('critical');
  rule.record('fair');
  let total = 0;
  for (let i = 0; i < 120; i++) { c.advance(1000); total += 15; rule.hashes(total); }
  assert.equal(rule.mode, 'mining', 'the hold ended with nothing new reported');
  for (let i = 0; i < 6 && rule.mode === 'mining'; i++) { c.advance(1000); total += 7; rule.hashes(total); }
  assert.equal(rule.mode, 'probe');
});
