// consentminer tests — one small API over the three browser engines visitors run, each
// the build Debian ships (never a downloaded browser):
//   chromium  /usr/bin/chromium through playwright-core (DevTools protocol)
//   firefox   /usr/bin/firefox-esr through puppeteer-core over WebDriver BiDi
//   webkit    WebKitGTK's MiniBrowser through WebKitWebDriver (classic WebDriver, which
//             is all Debian's 2.50 offers: no BiDi) and selenium-webdriver, under an Xvfb
//             this module starts and stops (MiniBrowser has no headless mode)
//
//   const b = await launch('firefox');
//   await b.goto(url); await b.evaluate((x) => x + 1, 1); await b.click('#yes');
//   await b.click({ x: 10, y: 20 }, { frame: 0 }); await b.screenshot('/tmp/a.png');
//   b.consoleErrors; b.browserPids(); b.version; await b.close();
//
// Clicks are the driver's input actions (trusted: event.isTrusted is true), on the
// centre of the element or at a point of the page's viewport; { frame } names an iframe
// of the top page by index (document order) or CSS selector, and the selector or point
// is then inside that frame. evaluate(fn, arg) runs fn(arg) in the top page and resolves
// with its (awaited, JSON-like) value; a string is evaluated as an expression.
// consoleErrors collects console.error messages and uncaught exceptions of the pages;
// await b.errors() returns it brought up to date. WebKit's classic WebDriver has no log
// (and MiniBrowser ignores its console-to-stdout setting under automation): there the
// errors are those the top page gathered with COLLECT_ERRORS (below) in a <script> of
// its own before its other scripts, read at errors(), goto() and close(). browserPids() lists every process of this browser
// instance (for /proc readings: tests/browser/lib/proc.mjs), not the driver's.
// options: { width, height, initScript (a function run in every page before its own
// scripts; not in WebKit, whose WebDriver cannot: b.supports.initScript says) }.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { processTree } from './proc.mjs';

export const ENGINES = ['chromium', 'firefox', 'webkit'];

// A page's first script, for WebKit's consoleErrors (harmless elsewhere).
export const COLLECT_ERRORS = `(() => {
  const errs = (window.__cmConsoleErrors = []);
  const orig = console.error.bind(console);
  console.error = (...a) => { errs.push(a.map(String).join(' ')); orig(...a); };
  addEventListener('error', (e) => errs.push('uncaught: ' + (e.error && e.error.message || e.message)));
  addEventListener('unhandledrejection', (e) => errs.push('uncaught: ' + (e.reason && e.reason.message || e.reason)));
})();`;
export const BINARIES = {
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  firefox: process.env.FIREFOX || '/usr/bin/firefox-esr',
  webkit: process.env.MINIBROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
};
const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER || '/usr/bin/WebKitWebDriver';
const CHROMIUM_FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Why `engine` cannot run here, or '' when it can (for node:test's skip).
export function missing(engine) {
  const need = engine === 'webkit' ? [BINARIES.webkit, WEBKIT_DRIVER, '/usr/bin/Xvfb'] : [BINARIES[engine]];
  if (!need[0]) return `unknown engine '${engine}'; expected one of ${ENGINES.join(', ')}`;
  const gone = need.filter((f) => !fs.existsSync(f));
  return gone.length ? `${gone.join(', ')} not installed (bash scripts/setup.sh)` : '';
}

export async function launch(engine, opts = {}) {
  const why = missing(engine);
  if (why) throw new Error(`launch(${engine}): ${why}`);
  const o = { width: 1024, height: 768, ...opts };
  if (engine === 'chromium') return launchChromium(o);
  if (engine === 'firefox') return launchFirefox(o);
  return launchWebkit(o);
}

// ---- Chromium ----------------------------------------------------------------------------

async function launchChromium(o) {
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-engine-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: BINARIES.chromium, headless: true, args: CHROMIUM_FLAGS,
    viewport: { width: o.width, height: o.height },
  }).catch((e) => { fs.rmSync(profile, { recursive: true, force: true }); throw e; });
  if (o.initScript) await context.addInitScript(o.initScript);
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  const rootPid = findChromium(profile);
  const frame = (f) => (f === undefined ? page
    : page.frameLocator(typeof f === 'number' ? `iframe >> nth=${f}` : f));
  return {
    engine: 'chromium', version: chromiumVersion(), supports: { initScript: true },
    page, consoleErrors: errors, errors: async () => errors,
    goto: (url) => page.goto(url).then(() => {}),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    async click(target, { frame: f } = {}) {
      if (typeof target === 'string') return frame(f).locator(target).first().click();
      const at = await framePoint(this, target, f);
      return page.mouse.click(at.x, at.y);
    },
    screenshot: (file) => page.screenshot({ path: file }).then(() => {}),
    browserPids: () => processTree(rootPid),
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

function findChromium(profile) {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const a = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (a.includes(`--user-data-dir=${profile}`) && !a.some((x) => x.startsWith('--type='))) return Number(d);
    } catch { /* gone */ }
  }
  throw new Error(`no Chromium browser process runs with --user-data-dir=${profile}`);
}

function chromiumVersion() {
  try {
    return execFileSync(BINARIES.chromium, ['--version'], { encoding: 'utf8', timeout: 10000 }).trim();
  } catch {
    return 'chromium (version unknown)';
  }
}

// ---- Firefox -----------------------------------------------------------------------------

async function launchFirefox(o) {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox', executablePath: BINARIES.firefox, headless: true,
    protocolTimeout: 15 * 60 * 1000, // a cache build on a loaded machine, not a hang
    defaultViewport: { width: o.width, height: o.height },
    // The browser talks to nothing but the test's server.
    extraPrefsFirefox: { 'app.update.enabled': false, 'browser.safebrowsing.malware.enabled': false, 'browser.safebrowsing.phishing.enabled': false },
  });
  const page = (await browser.pages())[0] || await browser.newPage();
  if (o.initScript) await page.evaluateOnNewDocument(o.initScript);
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  const rootPid = browser.process().pid;
  const frameOf = async (f) => {
    const el = typeof f === 'number' ? (await page.$$('iframe'))[f] : await page.$(f);
    if (!el) throw new Error(`click: no iframe ${JSON.stringify(f)} on the page`);
    return el.contentFrame();
  };
  return {
    engine: 'firefox', version: await browser.version(), supports: { initScript: true },
    page, consoleErrors: errors, errors: async () => errors,
    goto: (url) => page.goto(url).then(() => {}),
    evaluate: (fn, arg) => (typeof fn === 'string' ? page.evaluate(fn) : page.evaluate(fn, arg)),
    async click(target, { frame: f } = {}) {
      if (typeof target === 'string') {
        const fr = f === undefined ? page.mainFrame() : await frameOf(f);
        await fr.waitForSelector(target);
        return fr.click(target);
      }
      const at = await framePoint(this, target, f);
      return page.mouse.click(at.x, at.y);
    },
    screenshot: (file) => page.screenshot({ path: file }).then(() => {}),
    browserPids: () => processTree(rootPid),
    close: () => browser.close().catch(() => {}),
  };
}

// ---- WebKit ------------------------------------------------------------------------------

async function launchWebkit(o) {
  const { Builder, By } = await import('selenium-webdriver');
  const stopAll = [];
  const cleanup = async () => { for (const f of stopAll.reverse()) await f().catch(() => {}); };
  try {
    const display = await startXvfb(o, stopAll);
    const port = await freePort();
    const errors = [];
    const driver = track(spawn(WEBKIT_DRIVER, [`--port=${port}`, '--host=127.0.0.1'], {
      env: { ...process.env, DISPLAY: display }, stdio: ['ignore', 'pipe', 'pipe'],
    }));
    stopAll.push(() => stopProcess(driver));
    let log = '';
    const keep = (d) => { log = (log + d).slice(-4000); };
    driver.stdout.setEncoding('utf8').on('data', keep);
    driver.stderr.setEncoding('utf8').on('data', keep);
    driver.log = () => log;
    await waitForPort(port, driver);
    const session = await new Builder().usingServer(`http://127.0.0.1:${port}`).withCapabilities({
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': { binary: BINARIES.webkit, args: ['--automation'] },
    }).build();
    stopAll.push(() => session.quit());
    await session.manage().setTimeouts({ script: 15 * 60 * 1000, pageLoad: 60 * 1000 });
    await session.manage().window().setRect({ width: o.width, height: o.height }).catch(() => {});
    const caps = await session.getCapabilities();
    const toFrame = async (f) => {
      await session.switchTo().defaultContent();
      if (f === undefined) return;
      const el = typeof f === 'number' ? (await session.findElements(By.css('iframe')))[f] : await session.findElement(By.css(f));
      if (!el) throw new Error(`click: no iframe ${JSON.stringify(f)} on the page`);
      await session.switchTo().frame(el);
    };
    const b = {
      engine: 'webkit', version: `MiniBrowser (WebKitGTK ${caps.get('browserVersion')})`, supports: { initScript: false },
      session, consoleErrors: errors,
      async goto(url) {
        await b.errors();
        await session.get(url);
      },
      // What the page's COLLECT_ERRORS script gathered since the last call.
      async errors() {
        await session.switchTo().defaultContent().catch(() => {});
        const got = await session.executeScript('const e = window.__cmConsoleErrors || []; window.__cmConsoleErrors = []; return e;').catch(() => []);
        errors.push(...got);
        return errors;
      },
      async evaluate(fn, arg) {
        await session.switchTo().defaultContent();
        const src = typeof fn === 'string' ? `() => (${fn})` : String(fn);
        const r = await session.executeAsyncScript(`const [src, arg, done] = arguments;
          try { Promise.resolve((0, eval)('(' + src + ')')(arg)).then((v) => done({ v: v === undefined ? null : v }), (e) => done({ e: String(e && e.stack || e) })); }
          catch (e) { done({ e: String(e && e.stack || e) }); }`, src, arg === undefined ? null : arg);
        if (r && r.e !== undefined) throw new Error(`evaluate in WebKit: ${r.e}`);
        return r ? r.v : undefined;
      },
      async click(target, { frame: f } = {}) {
        if (typeof target === 'string') {
          await toFrame(f);
          const el = await session.findElement(By.css(target));
          await session.actions().move({ origin: el }).click().perform();
          await session.switchTo().defaultContent();
          return;
        }
        const at = await framePoint(this, target, f);
        await session.switchTo().defaultContent();
        await session.actions().move({ x: Math.round(at.x), y: Math.round(at.y), origin: 'viewport' }).click().perform();
      },
      async screenshot(file) {
        await session.switchTo().defaultContent();
        fs.writeFileSync(file, Buffer.from(await session.takeScreenshot(), 'base64'));
      },
      browserPids: () => processTree(driver.pid).filter((p) => p !== driver.pid),
      async close() {
        await b.errors();
        await cleanup();
      },
    };
    return b;
  } catch (e) {
    await cleanup();
    throw e;
  }
}

// An Xvfb on a display number it picks itself (-displayfd), stopped by stopAll.
async function startXvfb(o, stopAll) {
  const x = track(spawn('Xvfb', ['-displayfd', '3', '-screen', '0', `${o.width + 200}x${o.height + 200}x24`, '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  }));
  stopAll.push(() => stopProcess(x));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    x.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
    x.stdio[3].setEncoding('utf8').on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
    x.on('exit', (code) => reject(new Error(`Xvfb exited (${code}) before giving its display: ${err.trim().slice(-300)}`)));
    setTimeout(() => reject(new Error('Xvfb gave no display within 20 s')), 20000);
  });
}

// Children (and MiniBrowser under the driver) left when node exits without close(), on
// an uncaught error, go with it.
const children = new Set();
process.on('exit', () => {
  for (const c of children) {
    for (const pid of processTree(c.pid).reverse()) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
});
function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(t); resolve(); });
    child.kill('SIGTERM');
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitForPort(port, child) {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${WEBKIT_DRIVER} exited (${child.exitCode}) before listening on ${port}: ${child.log().trim().slice(-300)}`);
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.end(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${WEBKIT_DRIVER} did not listen on 127.0.0.1:${port} within 10 s`);
}

// A point inside frame f (index or selector; undefined: the top page) in the top page's
// viewport: the iframe's box plus its border and padding.
async function framePoint(b, point, f) {
  if (f === undefined) return point;
  const off = await b.evaluate(([sel]) => {
    const el = typeof sel === 'number' ? document.querySelectorAll('iframe')[sel] : document.querySelector(sel);
    if (!el) return null;
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    return { x: r.left + el.clientLeft + parseFloat(cs.paddingLeft), y: r.top + el.clientTop + parseFloat(cs.paddingTop) };
  }, [f]);
  if (!off) throw new Error(`click: no iframe ${JSON.stringify(f)} on the page`);
  return { x: off.x + point.x, y: off.y + point.y };
}
