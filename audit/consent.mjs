// Finding the consent element's controls as a visitor finds them, by what they say (their
// role and accessible name), in the page or in any frame of it, in open shadow roots too;
// and checking that the visitor could see them: both answers visible, of comparable size,
// and not covered by something else (docs/design.md consent rule 2: Decline is as easy and
// as visible as Accept). This works for <consent-miner> in the page (its buttons are in its
// shadow root) and for a consent frame (its buttons are in an iframe of another origin).

// Labels of consentminer's element (consent-ui/texts.js) and the common words elsewhere.
export const ACCEPT = /\baccept\b|同意して|同意する/i;
const ACCEPT_MINING = /(\baccept\b.*\bmin(e|ing)\b)|(同意して.*マイニング)/i;
export const DECLINE = /\bdecline\b|\breject\b|同意しない|拒否/i;
export const STOP = /\bstop\b|停止/i;
// WCAG 2.2 "target size (minimum)": 24 by 24 CSS pixels.
const MIN_TARGET_PX = 24;
// "Comparable in size": the smaller answer has at least half the area of the larger.
const MIN_AREA_RATIO = 0.5;
// A control at under half opacity (its own and its ancestors' together) reads as disabled.
const MIN_OPACITY = 0.5;

/** The first frame holding an Accept button (one that names mining first), or null. */
export async function findConsent(page) {
  for (const re of [ACCEPT_MINING, ACCEPT]) {
    for (const frame of page.frames()) {
      const accept = frame.getByRole('button', { name: re, includeHidden: true }).first();
      if (!(await accept.count().catch(() => 0))) continue;
      const dec = frame.getByRole('button', { name: DECLINE, includeHidden: true }).first();
      const decline = (await dec.count().catch(() => 0)) ? dec : null;
      const inShadow = await accept.evaluate((el) => el.getRootNode() instanceof ShadowRoot).catch(() => false);
      return { frame, accept, decline, where: frame === page.mainFrame() ? 'page' : 'iframe', inShadow, frameUrl: frame.url() };
    }
  }
  return null;
}

// Runs in the page: what the visitor would see of one element at point (x, y) of its own
// frame's viewport (its centre by default): display and visibility through every ancestor
// and shadow host, combined opacity, and what elementFromPoint finds there (descending
// into open shadow roots, whose hosts are what the document sees).
function inspectInPage(el, at) {
  const describe = (n) => {
    if (!n || n.nodeType !== 1) return String(n);
    let s = n.localName;
    if (n.id) s += '#' + n.id;
    for (const c of [...n.classList].slice(0, 2)) s += '.' + c;
    const part = n.getAttribute('part');
    if (part) s += `[part=${part}]`;
    return s;
  };
  const up = (n) => n.parentElement || (n.getRootNode() instanceof ShadowRoot ? n.getRootNode().host : null);
  const problems = [];
  let opacity = 1;
  for (let n = el; n; n = up(n)) {
    const cs = getComputedStyle(n);
    if (cs.display === 'none') problems.push({ code: 'display-none', by: describe(n) });
    if (cs.contentVisibility === 'hidden' && n !== el) problems.push({ code: 'display-none', by: describe(n) });
    opacity *= Number(cs.opacity);
  }
  const cs = getComputedStyle(el);
  if (cs.visibility !== 'visible') problems.push({ code: 'visibility', value: cs.visibility });
  if (opacity < at.minOpacity) problems.push({ code: 'transparent', value: Math.round(opacity * 100) / 100 });
  const r = el.getBoundingClientRect();
  const x = at.x ?? r.left + r.width / 2;
  const y = at.y ?? r.top + r.height / 2;
  let hit = null;
  if (r.width > 0 && r.height > 0 && !problems.length) {
    hit = document.elementFromPoint(x, y);
    while (hit?.shadowRoot) {
      const inner = hit.shadowRoot.elementFromPoint(x, y);
      if (!inner || inner === hit) break;
      hit = inner;
    }
    if (!hit) problems.push({ code: 'offscreen' });
    else if (hit !== el && !el.contains(hit)) problems.push({ code: 'covered', by: describe(hit) });
  }
  return {
    box: { x: Math.round(r.left), y: Math.round(r.top), width: Math.round(r.width), height: Math.round(r.height) },
    // Where a point inside this element lands in the frame it shows (for iframes: the
    // content box's origin).
    inner: { x: r.left + el.clientLeft + (parseFloat(cs.paddingLeft) || 0), y: r.top + el.clientTop + (parseFloat(cs.paddingTop) || 0) },
    opacity, problems, label: (el.innerText || el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 120),
  };
}

/**
 * Scrolls a control into view as a visitor would: each frame around it into its parent's
 * view first (Chromium does not let a cross-origin frame scroll the page around it, so
 * scrolling the control alone can leave the frame out of view), then the control.
 */
export async function scrollToControl(frame, locator) {
  const hosts = [];
  for (let f = frame; f.parentFrame(); f = f.parentFrame()) hosts.unshift(await f.frameElement().catch(() => null));
  for (const h of hosts) await h?.scrollIntoViewIfNeeded({ timeout: 3000 }).catch(() => {});
  await locator.scrollIntoViewIfNeeded({ timeout: 3000 }).catch(() => {});
}

/**
 * What the visitor sees of one control, checked up through every frame it sits in. Its
 * box is as the visitor sees it in the top page: a page may shrink the frame around the
 * control with a transform, which the control's own document cannot see.
 */
async function inspectControl(frame, locator) {
  await scrollToControl(frame, locator);
  const own = await locator.evaluate(inspectInPage, { minOpacity: MIN_OPACITY });
  const result = { ...own, problems: [...own.problems] };
  // Up through the frames: the iframe element must itself be shown, and be what the
  // parent document finds at the control's centre.
  let x = own.box.x + own.box.width / 2, y = own.box.y + own.box.height / 2;
  let scaleX = 1, scaleY = 1;
  for (let f = frame; f.parentFrame(); f = f.parentFrame()) {
    const fe = await f.frameElement();
    const outer = await fe.evaluate((el) => {
      const r = el.getBoundingClientRect();
      const cs = getComputedStyle(el);
      // Rendered size over layout size: below 1 when a transform shrinks the frame.
      const sx = el.offsetWidth ? r.width / el.offsetWidth : 1, sy = el.offsetHeight ? r.height / el.offsetHeight : 1;
      return { x: r.left + (el.clientLeft + (parseFloat(cs.paddingLeft) || 0)) * sx,
        y: r.top + (el.clientTop + (parseFloat(cs.paddingTop) || 0)) * sy, sx, sy };
    });
    x = outer.x + x * outer.sx; y = outer.y + y * outer.sy; // now in the parent's viewport
    scaleX *= outer.sx; scaleY *= outer.sy;
    const seen = await fe.evaluate(inspectInPage, { x, y, minOpacity: MIN_OPACITY });
    for (const p of seen.problems) result.problems.push({ ...p, frame: true });
    result.opacity *= seen.opacity;
  }
  const width = Math.round(own.box.width * scaleX), height = Math.round(own.box.height * scaleY);
  result.box = { x: Math.round(x - width / 2), y: Math.round(y - height / 2), width, height };
  return result;
}

/**
 * The disclosure as the visitor sees it: both answers found, visible, comparable in size,
 * not covered. Returns { accept, decline, problems: [{ code, control, ... }] }.
 */
export async function checkDisclosure(found) {
  const problems = [];
  const accept = await inspectControl(found.frame, found.accept);
  for (const p of accept.problems) problems.push({ control: 'accept', ...p });
  let decline = null;
  if (!found.decline) problems.push({ control: 'decline', code: 'missing' });
  else {
    decline = await inspectControl(found.frame, found.decline);
    for (const p of decline.problems) problems.push({ control: 'decline', ...p });
  }
  for (const [name, c] of [['accept', accept], ['decline', decline]]) {
    if (!c || c.problems.some((p) => p.code === 'display-none')) continue;
    if (c.box.width < MIN_TARGET_PX || c.box.height < MIN_TARGET_PX) {
      problems.push({ control: name, code: 'too-small', width: c.box.width, height: c.box.height, min: MIN_TARGET_PX });
    }
  }
  if (decline && !decline.problems.some((p) => p.code === 'display-none')) {
    const a = accept.box.width * accept.box.height, d = decline.box.width * decline.box.height;
    if (Math.min(a, d) < MIN_AREA_RATIO * Math.max(a, d)) {
      problems.push({ control: d < a ? 'decline' : 'accept', code: 'smaller', ratio: Math.round((Math.min(a, d) / Math.max(a, d)) * 100) / 100,
        accept: accept.box, decline: decline.box });
    }
  }
  return { accept, decline, problems };
}

/** The element hosting the disclosure in the top document: an <iframe> or a shadow host. */
export async function disclosureHost(page, found) {
  let f = found.frame;
  if (f !== page.mainFrame()) {
    while (f.parentFrame() !== page.mainFrame()) f = f.parentFrame();
    return f.frameElement();
  }
  return found.accept.evaluateHandle((el) => {
    let host = el;
    while (host.getRootNode() instanceof ShadowRoot) host = host.getRootNode().host;
    if (host === el) host = el.closest('section, form, dialog, [role=dialog], aside, div') || el;
    return host;
  });
}

/**
 * The nearest text around a control that matches `re` (walking up through shadow hosts):
 * the disclosure's promised load, the panel's CPU figure.
 */
export function textNear(locator, re) {
  return locator.evaluate((el, src) => {
    const rx = new RegExp(src, 'i');
    for (let n = el; n; n = n.parentElement || (n.getRootNode() instanceof ShadowRoot ? n.getRootNode().host : null)) {
      const root = n.shadowRoot || n;
      const text = (root.textContent || '').replace(/\s+/g, ' ');
      if (rx.test(text)) return text;
    }
    return '';
  }, re.source);
}

/**
 * The load the disclosure promises, read from its words (en or ja, consent-ui/texts.js):
 * { threads, cores, throttle } or null.
 */
export function promisedLoad(text) {
  let m = /(\d+) of the (\d+) processor threads[^%]*?about (\d+)%/i.exec(text);
  if (m) return { threads: +m[1], cores: +m[2], throttle: +m[3] };
  m = /(\d+) スレッドのうち (\d+) スレッドを、それぞれ約 ?(\d+)%/.exec(text);
  if (m) return { threads: +m[2], cores: +m[1], throttle: +m[3] };
  return null;
}
export const LOAD_TEXT = /processor threads|スレッドのうち/;

/** The CPU figure a running panel shows, as a percentage of one thread, or NaN. */
export function shownCpu(text) {
  const m = /(\d+)%\s*per thread/i.exec(text) || /1 スレッドあたり\s*(\d+)%/.exec(text);
  return m ? Number(m[1]) : NaN;
}
export const CPU_TEXT = /per thread|スレッドあたり/;
