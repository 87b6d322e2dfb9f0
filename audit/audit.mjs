#!/usr/bin/env node
// consentminer audit URL: shows that a page mines nothing before the visitor says yes.
//
// It loads the page in Debian's Chromium as a first-time visitor (fresh profile) and,
// without a click, watches every request, worker, WebAssembly compile and WebSocket
// message of the page and of every frame and worker in it (audit/browser.mjs), and the
// CPU time of the browser's processes (/proc): on load, after scrolling, while the tab
// is hidden, after it is shown again, and after a remembered Decline. With --accept it
// then clicks Accept as a visitor would and checks that what the element shows and
// promises is what the browser measures, and that Stop stops. The rules that make a
// verdict are in audit/evidence.mjs and audit/README.md.
//
// As a module: `import { runAudit, formatReport } from './audit/audit.mjs'`;
// runAudit({ url, seconds, accept, lang, screenshot }) resolves to the JSON report
// (report.exitCode is 0, 1 or 2, as the command's exit status).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchAudited, cpuBetween, CHROMIUM } from './browser.mjs';
import { Recorder, miningBefore, cpuByPhase, SUSTAINED_CORES, HEAVY_CORES } from './evidence.mjs';
import { findConsent, scrollToControl, checkDisclosure, disclosureHost, textNear, promisedLoad, shownCpu, LOAD_TEXT, CPU_TEXT, STOP } from './consent.mjs';
import { languages } from './texts.mjs';

// How far the figure the element shows may be from what /proc measured, and how far the
// measured load may exceed the promise, in percentage points of one thread: the element
// averages its workers' own busy time over about a second, /proc counts in 10 ms ticks,
// and on a busy machine a spinning worker is preempted inside the time it counts as busy.
export const FIGURE_TOLERANCE = 20;
export const OVER_TOLERANCE = 15;
// docs/design.md consent rule 5: CPU back to idle within 100 ms of Stop. Measured as at
// most one /proc tick of worker CPU between 100 and 700 ms after the click.
const STOP_MS = 100;
const SETTLE_MS = 2000;
// How long the audit looks at the disclosure before it clicks, as a visitor reading it.
const READ_MS = 1500;
const HZ = 100;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class UsageError extends Error {}

const USAGE = `usage: consentminer audit URL [--seconds N] [--accept] [--lang en|ja] [--json]
                          [--screenshot FILE] [--start-timeout S] [--chromium PATH]

Loads URL in Chromium as a first-time visitor and, without clicking anything, watches
for N seconds (default 30) in each of five phases: on load, after scrolling, while the
tab is hidden, after it is shown again, and after clicking Decline and reloading. It
records every request, worker, WebAssembly compile, WebSocket and message sent, and the
CPU of the browser's processes, and says whether anything mined before consent.

  --seconds N        seconds to watch in each phase (default 30; a fraction is fine)
  --accept           then click Accept as a visitor would, check that mining starts, that
                     the CPU figure shown matches the measured CPU within the load the
                     disclosure promises, and that Stop ends the CPU use within 100 ms
  --start-timeout S  how long to wait for mining to start after Accept (default 60)
  --lang en|ja       language of the report and of the visiting browser (default en)
  --json             print the report as JSON instead of text
  --screenshot FILE  save a PNG of the consent disclosure as the visitor saw it
  --chromium PATH    the browser to drive (default $CHROMIUM or /usr/bin/chromium)

Exit status: 0 nothing mined before consent (and, with --accept, the checks passed);
1 something did, or the disclosure or the checks after Accept failed (the report says
what and when); 2 bad usage, or the page could not be loaded.`;

export function parseArgs(argv) {
  const o = { url: '', seconds: 30, accept: false, lang: 'en', json: false, screenshot: '', startTimeout: 60, chromium: CHROMIUM };
  const value = (i, name) => {
    if (i + 1 >= argv.length) throw new UsageError(`${name} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return { help: true };
    else if (a === '--accept') o.accept = true;
    else if (a === '--json') o.json = true;
    else if (a === '--seconds' || a === '--start-timeout') {
      const n = Number(value(i++, a));
      if (!(n > 0 && n <= 3600)) throw new UsageError(`${a} is '${argv[i]}'; expected seconds between 0 and 3600`);
      if (a === '--seconds') o.seconds = n; else o.startTimeout = n;
    } else if (a === '--lang') {
      o.lang = value(i++, a);
      if (!languages[o.lang]) throw new UsageError(`--lang is '${o.lang}'; expected one of ${Object.keys(languages).join(', ')}`);
    } else if (a === '--screenshot') o.screenshot = value(i++, a);
    else if (a === '--chromium') o.chromium = value(i++, a);
    else if (a.startsWith('-')) throw new UsageError(`unknown option '${a}'`);
    else if (o.url) throw new UsageError(`one URL only; got '${o.url}' and '${a}'`);
    else o.url = a;
  }
  if (!o.url) throw new UsageError('URL is missing');
  checkUrl(o.url);
  return o;
}

function checkUrl(url) {
  let u;
  try { u = new URL(url); } catch { throw new UsageError(`URL '${url}' is not an absolute URL (e.g. https://example.org/)`); }
  if (!['http:', 'https:', 'file:'].includes(u.protocol)) throw new UsageError(`URL '${url}' is ${u.protocol}; expected http:, https: or file:`);
}

// Headless Chromium never hides a tab (its pages stay visible behind another tab, and
// DevTools has no command for it), so the audit tells every frame what a hidden tab's
// documents see: document.hidden, visibilityState and a visibilitychange event.
async function setHidden(page, hidden) {
  await Promise.all(page.frames().map((f) => f.evaluate((h) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden).catch(() => {})));
}

async function waitForConsent(page, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const f = await findConsent(page);
    if (f || Date.now() > end) return f;
    await sleep(250);
  }
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };

/**
 * Audits one page. Options: url (required), seconds per phase (30), accept (false),
 * lang ('en'), screenshot (a PNG path or ''), startTimeout (60 s), chromium (path),
 * progress (a function given one line per phase). Resolves to the report; its exitCode
 * is 0, 1 or 2. Throws UsageError for bad options.
 */
export async function runAudit(options) {
  const o = { seconds: 30, accept: false, lang: 'en', screenshot: '', startTimeout: 60, chromium: CHROMIUM, progress: () => {}, ...options };
  checkUrl(o.url);
  if (!languages[o.lang]) throw new UsageError(`lang is '${o.lang}'; expected one of ${Object.keys(languages).join(', ')}`);
  const rec = new Recorder();
  const report = { tool: 'consentminer audit', url: o.url, lang: o.lang, seconds: o.seconds, accept: o.accept,
    startedAt: new Date().toISOString(), browser: '', verdict: 'error', exitCode: 2 };
  let b;
  let sampler;
  try {
    b = await launchAudited({ rec, chromiumPath: o.chromium, locale: o.lang === 'ja' ? 'ja-JP' : 'en-US' });
    report.browser = (await b.devtools.send('Browser.getVersion')).product.replace(/^(Headless)?Chrome\//, 'Chromium ');
    let last = b.cpu();
    sampler = setInterval(() => {
      const s = b.cpu();
      rec.cpu.push({ at: rec.now(), phase: rec.phase, ...cpuBetween(last, s) });
      last = s;
    }, 1000);
    const page = b.page;
    const watch = async (phase, what) => {
      rec.phase = phase;
      o.progress(`${(rec.now() / 1000).toFixed(1)} s: ${what}, watching ${o.seconds} s`);
      await sleep(o.seconds * 1000);
    };

    // 1. On load, as a first-time visitor.
    rec.phase = 'load';
    rec.restart();
    let response;
    try {
      response = await page.goto(o.url, { waitUntil: 'load', timeout: 60000 });
    } catch (err) {
      report.error = `could not load ${o.url}: ${err.message.split('\n')[0]}`;
      return report;
    }
    if (response && response.status() >= 400) {
      report.error = `could not load ${o.url}: HTTP ${response.status()}`;
      return report;
    }
    report.finalUrl = page.url();
    await watch('load', 'loaded');

    // The disclosure as it first appears, before anything else is done to the page.
    const found = await findConsent(page);
    if (found) {
      const d = await checkDisclosure(found);
      report.disclosure = { found: true, where: found.where, inShadow: found.inShadow, frameUrl: found.frameUrl, ...d };
    } else report.disclosure = { found: false, problems: [] };
    if (o.screenshot) {
      const host = found && (await disclosureHost(page, found).catch(() => null));
      const shot = host ? host.screenshot({ path: o.screenshot, timeout: 10000 }) : null;
      await (shot || Promise.reject(new Error('no element'))).catch(() => page.screenshot({ path: o.screenshot }));
      report.screenshot = path.resolve(o.screenshot);
    }

    // 2. After scrolling through the page with the wheel (trusted input, not a click).
    // Each phase begins before its action, so what the action sets off is counted in it.
    rec.phase = 'scroll';
    await page.mouse.move(400, 400);
    for (let i = 0; i < 10; i++) { await page.mouse.wheel(0, 600); await sleep(100); }
    await watch('scroll', 'scrolled');

    // 3. Hidden, then 4. shown again.
    rec.phase = 'hidden';
    await setHidden(page, true);
    await watch('hidden', 'tab hidden');
    rec.phase = 'shown';
    await setHidden(page, false);
    await watch('shown', 'tab shown');

    // 5. After a remembered Decline: click it as a visitor would, reload.
    report.decline = { tried: false };
    const again = found && (await findConsent(page));
    if (again?.decline) {
      report.decline.tried = true;
      report.decline.at = rec.now();
      try {
        await scrollToControl(again.frame, again.decline);
        await sleep(READ_MS);
        rec.phase = 'declined';
        await again.decline.click({ timeout: 5000 });
        await sleep(300);
        await page.reload({ waitUntil: 'load', timeout: 60000 });
        // Remembered when the page no longer asks (Accept gone or not shown).
        const after = await waitForConsent(page, 3000);
        report.decline.remembered = !after || !(await after.accept.isVisible().catch(() => false));
        await watch('declined', 'declined and reloaded');
      } catch (err) {
        const why = report.disclosure.problems.find((p) => p.control === 'decline');
        report.decline.error = why ? languages[o.lang].problem[why.code](why) : err.message.split('\n')[0];
      }
    }

    // 6. With --accept: consent as a visitor would, then check what mining costs.
    if (o.accept) report.acceptCheck = await acceptAndCheck(b, rec, o);

    clearInterval(sampler);
    finish(report, rec);
    return report;
  } catch (err) {
    report.error = err instanceof UsageError ? err.message : `the audit failed: ${err.message.split('\n')[0]}`;
    if (err instanceof UsageError) throw err;
    return report;
  } finally {
    clearInterval(sampler);
    if (report.verdict === 'error') finish(report, rec, true);
    await b?.close();
  }
}

async function acceptAndCheck(b, rec, o) {
  const page = b.page;
  const a = { problems: [] };
  // A first-time visitor again: forget the decline the audit just gave (every origin of
  // the page's frames), then reload.
  await page.context().clearCookies().catch(() => {});
  await Promise.all(page.frames().map((f) => f.evaluate(() => { localStorage.clear(); sessionStorage.clear(); }).catch(() => {})));
  rec.phase = 'accept';
  await page.reload({ waitUntil: 'load', timeout: 60000 });
  const found = await waitForConsent(page, 10000);
  if (!found) { a.problems.push({ code: 'no-element' }); return a; }
  a.promise = promisedLoad(await textNear(found.accept, LOAD_TEXT).catch(() => ''));
  if (!a.promise) a.problems.push({ code: 'no-promise' });
  // A visitor reads before choosing, and a consent frame may rightly ignore a click on a
  // disclosure that was not in view for a moment (consent-ui's frame wants a second).
  await scrollToControl(found.frame, found.accept);
  await sleep(READ_MS);
  a.clickedAt = rec.consentAt = rec.now();
  o.progress(`${(rec.now() / 1000).toFixed(1)} s: clicking Accept`);
  try {
    await found.accept.click({ timeout: 10000 });
  } catch (err) {
    a.problems.push({ code: 'accept-click', message: err.message.split('\n')[0] });
    return a;
  }
  // Started: the worker threads busy in two samples in a row.
  const end = Date.now() + o.startTimeout * 1000;
  while (Date.now() < end) {
    const after = rec.cpu.filter((s) => s.at > a.clickedAt);
    const n = after.length;
    if (n >= 2 && after[n - 1].workerDemand >= SUSTAINED_CORES && after[n - 2].workerDemand >= SUSTAINED_CORES) {
      a.startedAt = Math.max(a.clickedAt, after[n - 2].at - Math.round(after[n - 2].seconds * 1000));
      break;
    }
    await sleep(250);
  }
  const since = (x) => x.at >= a.clickedAt;
  a.workers = rec.workers.filter(since).length;
  a.wasm = rec.wasm.filter(since).length;
  a.stratum = rec.stratum.filter(since).length;
  if (a.startedAt === undefined) { a.problems.push({ code: 'not-started', seconds: o.startTimeout }); return a; }

  // What the element shows against what the kernel measures, over a few seconds, from
  // SETTLE_MS after the element first shows a figure: a runtime's start-up (fetching and
  // compiling, a RandomX cache) is not the steady load the disclosure describes.
  const stopButton = () => found.frame.getByRole('button', { name: STOP }).first();
  while (Date.now() < end && !Number.isFinite(shownCpu(await textNear(stopButton(), CPU_TEXT).catch(() => '')))) await sleep(250);
  await sleep(SETTLE_MS);
  const windowMs = Math.min(10, Math.max(4, o.seconds)) * 1000;
  const s0 = b.cpu();
  const shown = [];
  const t0 = performance.now();
  while (performance.now() - t0 < windowMs) {
    await sleep(500);
    const v = shownCpu(await textNear(stopButton(), CPU_TEXT).catch(() => ''));
    if (Number.isFinite(v)) shown.push(v);
  }
  const m = cpuBetween(s0, b.cpu());
  const threads = a.promise?.threads || 1;
  Object.assign(a, { window: m.seconds, measuredCores: m.workers, measuredPerThread: (100 * m.workers) / threads,
    demandCores: m.workerDemand, demandPerThread: (100 * m.workerDemand) / threads,
    busyThreads: m.workerThreads, browserCores: m.total, shownPerThread: median(shown) });
  if (a.promise) {
    if (a.demandPerThread > a.promise.throttle + OVER_TOLERANCE) {
      a.problems.push({ code: 'over-promise', perThread: a.demandPerThread, throttle: a.promise.throttle, tolerance: OVER_TOLERANCE });
    }
    if (m.workerThreads > a.promise.threads) a.problems.push({ code: 'too-many-threads', busy: m.workerThreads, threads: a.promise.threads });
  }
  if (!Number.isFinite(a.shownPerThread)) a.problems.push({ code: 'no-figure' });
  else if (Math.abs(a.shownPerThread - a.demandPerThread) > FIGURE_TOLERANCE) {
    a.problems.push({ code: 'figure-mismatch', shown: a.shownPerThread, measured: a.demandPerThread, tolerance: FIGURE_TOLERANCE });
  }

  // Stop: idle within 100 ms (rule 5).
  if (!(await stopButton().count().catch(() => 0))) { a.problems.push({ code: 'no-stop' }); return a; }
  o.progress(`${(rec.now() / 1000).toFixed(1)} s: clicking Stop`);
  await scrollToControl(found.frame, stopButton());
  const c0 = performance.now();
  await stopButton().click({ timeout: 5000 });
  await sleep(Math.max(0, c0 + STOP_MS - performance.now()));
  const p0 = b.cpu();
  await sleep(600);
  let prev = b.cpu();
  const ticks = Math.round(cpuBetween(p0, prev).workerSeconds * HZ);
  a.stop = { ticks };
  if (ticks > 1) {
    let lastBusy = performance.now();
    while (performance.now() - c0 < 6000 && performance.now() - lastBusy < 300) {
      await sleep(50);
      const cur = b.cpu();
      if (cpuBetween(prev, cur).workerSeconds > 0.005) lastBusy = performance.now();
      prev = cur;
    }
    a.stop.idleAfter = Math.round(lastBusy - c0);
    a.problems.push({ code: 'stop-slow', ticks, idleAfter: a.stop.idleAfter });
  }
  return a;
}

function finish(report, rec, failed = false) {
  report.mining = miningBefore(rec);
  report.phases = cpuByPhase(rec);
  // Heavy by what the page used, or by what its workers wanted on a machine busy with
  // other work.
  report.heavy = report.phases.filter((p) => Math.max(p.total, p.workerDemand) >= HEAVY_CORES && p.phase !== 'accept');
  const before = (x) => x.at < rec.consentAt;
  report.seen = {
    requestCount: rec.requests.filter(before).length,
    requests: rec.requests.filter(before).slice(0, 500),
    workers: rec.workers.filter(before), frames: rec.frames.filter(before), wasm: rec.wasm.filter(before),
    websockets: rec.websockets.filter(before), stratum: rec.stratum.filter(before),
  };
  report.cpu = rec.cpu;
  report.durationMs = rec.now();
  if (failed) return;
  const bad = report.mining.length || report.disclosure?.problems.length || report.acceptCheck?.problems.length ||
    (report.accept && !report.acceptCheck);
  report.verdict = bad ? 'fail' : 'pass';
  report.exitCode = bad ? 1 : 0;
}

/** The report as text, in `lang` (default the report's). */
export function formatReport(r, lang = r.lang) {
  const t = languages[lang] || languages.en;
  const ph = (p) => t.phase[p] || p;
  const out = [t.title(r.url)];
  if (r.verdict === 'error') {
    out.push(t.error(r.error), t.exit(r.exitCode));
    return out.join('\n') + '\n';
  }
  out.push(t.how(r), '', r.verdict === 'pass' ? t.pass : t.fail, '');
  if (r.mining.length) {
    out.push(t.miningHead);
    for (const f of r.mining) out.push('  - ' + (f.code === 'stratum' ? t.stratum(f, ph(f.phase)) : t.wasmPattern(f, ph(f.phase))));
  } else out.push(t.noMining);
  if (!r.mining.length) for (const p of r.heavy) out.push(t.heavy(p, ph(p.phase)));
  out.push('');
  if (r.disclosure.found) {
    out.push(t.element(r.disclosure));
    if (!r.disclosure.problems.length) out.push('  ' + t.disclosureOk);
    for (const p of r.disclosure.problems) out.push('  - ' + t.problem[p.code](p));
  } else out.push(t.noElement);
  if (!r.decline?.tried) out.push(r.disclosure.found ? t.noDeclineButton : t.noDecline);
  else if (r.decline.error) out.push(t.declineFailed(r.decline));
  else out.push(t.declined(r.decline));
  if (r.acceptCheck) {
    const a = r.acceptCheck;
    out.push('', t.acceptHead);
    if (a.promise) out.push('  ' + t.promised(a.promise));
    if (a.startedAt !== undefined) out.push('  ' + t.started(a));
    if (a.window) out.push('  ' + t.measured(a));
    if (a.stop && !a.problems.some((p) => p.code === 'stop-slow')) out.push('  ' + t.stopOk(a));
    for (const p of a.problems) out.push('  - ' + t.acceptProblem[p.code](p));
  }
  out.push('', t.cpuHead);
  for (const p of r.phases) out.push(t.cpuRow(p, ph(p.phase)));
  out.push('', t.seen(r));
  if (r.seen.workers.length) out.push('  ' + t.workersSeen(r.seen.workers.map((w) => `${w.url} (${ph(w.phase)}, ${(w.at / 1000).toFixed(1)} s)`).join(', ')));
  if (r.seen.websockets.length) out.push('  ' + t.wsSeen(r.seen.websockets.map((w) => `${w.url} (${ph(w.phase)}, ${(w.at / 1000).toFixed(1)} s)`).join(', ')));
  if (r.screenshot) out.push(t.screenshot(r.screenshot));
  out.push(t.exit(r.exitCode));
  return out.join('\n') + '\n';
}

async function main(argv) {
  let o;
  try {
    o = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`consentminer audit: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (o.help) { process.stdout.write(USAGE + '\n'); return 0; }
  const report = await runAudit({ ...o, progress: (line) => process.stderr.write(`audit: ${line}\n`) });
  process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
  return report.exitCode;
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
    process.stderr.write(`consentminer audit: ${err.stack || err}\n`);
    process.exit(2);
  });
}
