// A site's colours, corner radius and font for the consent frame, from the element's CSS
// custom properties (--consent-miner-accent, -background, -color, -radius, -font), which
// the element passes as query parameters. None of them may make the disclosure or its
// answers harder to see or read (docs/design.md, consent rule 2): colours must be opaque
// and keep WCAG AA contrast (4.5:1) for the text and for the accent (the buttons' text and
// borders) against the background; the font is a generic family, never one that could
// draw symbols instead of letters; the radius is capped. A palette that fails is refused
// as a whole, the frame keeps its own, and the page is told why. Sizes, spacing, display
// and opacity are not offered: both answers keep one style and one size.

export const MIN_CONTRAST = 4.5; // WCAG 2.2 SC 1.4.3, normal text
const MAX_RADIUS_PX = 24;
// Generic families only: they always map to a readable system font of the visitor's.
const FONTS = new Set(['system-ui', 'sans-serif', 'serif', 'monospace', 'ui-sans-serif', 'ui-serif', 'ui-monospace', 'ui-rounded']);

/** An opaque CSS colour as [r, g, b] (0..255), or null when the text is not one. */
export function parseColor(text) {
  const value = String(text ?? '').trim();
  if (!value || value.length > 64 || !CSS.supports('color', value) || /\b(var|env|attr)\s*\(|currentcolor/i.test(value)) return null;
  // The browser resolves any colour syntax; reading it back as rgb() gives the numbers.
  const probe = document.createElement('span');
  probe.style.color = value;
  probe.hidden = true;
  document.body.append(probe);
  const rgb = getComputedStyle(probe).color;
  probe.remove();
  const m = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)$/.exec(rgb);
  if (!m) return null;
  if (m[4] !== undefined && (m[4].endsWith('%') ? parseFloat(m[4]) / 100 : Number(m[4])) < 1) return null;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

// WCAG 2.2 relative luminance and contrast ratio.
function luminance([r, g, b]) {
  const lin = (c) => { const s = c / 255; return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}
export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const css = (rgb) => `rgb(${rgb.join(' ')})`;
const current = (prop) => parseColor(getComputedStyle(document.documentElement).getPropertyValue(prop));

/**
 * Applies what the site asked for in `params` (accent, background, color, radius, font)
 * on top of the frame's light or dark scheme; returns the reasons for what it refused
 * (empty when nothing was refused). Runs again when the visitor's colour scheme changes,
 * since the contrast is checked against the background then in force.
 */
export function applyTheme(params, root = document.documentElement) {
  const refused = [];
  for (const p of ['--cm-bg', '--cm-fg', '--cm-muted', '--cm-accent', '--cm-radius', '--cm-font']) root.style.removeProperty(p);
  const asked = { accent: params.get('accent'), background: params.get('background'), color: params.get('color') };
  if (asked.accent || asked.background || asked.color) {
    const parsed = {};
    for (const [k, v] of Object.entries(asked)) {
      if (!v) continue;
      parsed[k] = parseColor(v);
      if (!parsed[k]) refused.push(`--consent-miner-${k} ${JSON.stringify(v)} is not an opaque colour`);
    }
    if (!refused.length) {
      const bg = parsed.background || current('--cm-bg');
      const fg = parsed.color || current('--cm-fg');
      const accent = parsed.accent || current('--cm-accent');
      const text = contrast(fg, bg), button = contrast(accent, bg);
      if (text < MIN_CONTRAST) refused.push(`text on background has contrast ${text.toFixed(2)}:1; at least ${MIN_CONTRAST}:1 is needed`);
      if (button < MIN_CONTRAST) refused.push(`accent on background has contrast ${button.toFixed(2)}:1; at least ${MIN_CONTRAST}:1 is needed`);
      if (!refused.length) {
        root.style.setProperty('--cm-bg', css(bg));
        root.style.setProperty('--cm-fg', css(fg));
        // The frame's grey notes were chosen for its own backgrounds; on the site's they
        // take the text colour, which is known to contrast.
        if (parsed.background || parsed.color) root.style.setProperty('--cm-muted', css(fg));
        root.style.setProperty('--cm-accent', css(accent));
      }
    }
  }
  const radius = params.get('radius');
  if (radius) {
    const m = /^\s*(\d+(?:\.\d+)?)(px|rem|em)?\s*$/.exec(radius);
    const px = m ? Number(m[1]) * (m[2] === 'rem' || m[2] === 'em' ? 16 : 1) : NaN;
    if (Number.isFinite(px)) root.style.setProperty('--cm-radius', `${Math.min(px, MAX_RADIUS_PX)}px`);
    else refused.push(`--consent-miner-radius ${JSON.stringify(radius)} is not a length in px or rem`);
  }
  const font = params.get('font');
  if (font) {
    const family = font.trim().replace(/^["']|["']$/g, '').toLowerCase();
    if (FONTS.has(family)) root.style.setProperty('--cm-font', family);
    else refused.push(`--consent-miner-font ${JSON.stringify(font)} is not one of ${[...FONTS].join(', ')}`);
  }
  return refused;
}
