// The demo page's live figures: the element's own events (this visitor's hash rate and
// shares) and the gateway's /stats (what it verified, blocks the local chain accepted).
// /stats is polled only after the visitor said yes: before that the page loads nothing.
const $ = (id) => document.getElementById(id);
const miner = document.querySelector('consent-miner');
let myShares = 0;
let polling = null;

function show(id, text) { $(id).textContent = text; }

async function poll() {
  try {
    const r = await fetch('/stats', { cache: 'no-store' });
    const s = await r.json();
    show('verified', String(s.shares.accepted ?? 0));
    show('blocks', String(s.blocks.accepted ?? 0));
    show('gw-rate', `${(s.hashrate.verified_60s ?? 0).toFixed(1)} H/s`);
    const up = (s.upstream.connections || [])[0];
    show('height', up && up.height ? String(up.height) : '–');
    show('stats-note', '');
  } catch (e) {
    show('stats-note', `The gateway's statistics are unavailable: ${e.message}`);
  }
}

function startPolling() {
  if (!polling) { poll(); polling = setInterval(poll, 2000); }
}

miner.addEventListener('consent', startPolling);
miner.addEventListener('start', startPolling);
miner.addEventListener('hashrate', (e) => {
  const d = e.detail || {};
  const rate = typeof d === 'number' ? d : d.hashrate;
  if (typeof rate === 'number') show('my-rate', `${rate.toFixed(2)} H/s`);
});
// The element's share event carries the gateway's verdict on one of this browser's shares.
miner.addEventListener('share', (e) => {
  if (e.detail && e.detail.accepted === false) return;
  myShares += 1;
  show('my-shares', String(myShares));
});
miner.addEventListener('stop', () => show('my-rate', 'stopped'));
miner.addEventListener('pause', () => show('my-rate', 'paused'));
miner.addEventListener('resume', () => show('my-rate', 'resuming'));
