// consentminer tests — a browser's CPU use read from /proc, from outside the browser.
//
// Two clocks: /proc/PID/stat's utime+stime (1/100 s ticks, every thread of the process,
// exited ones included) for CPU over a few hundred ms, and each live thread's run time
// in ns (/proc/PID/task/TID/schedstat) for "back to idle within N ms", which ticks are
// too coarse to show.
import fs from 'node:fs';

// pid and all its descendants.
export function processTree(pid) {
  const kids = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(d));
    } catch { /* gone */ }
  }
  const out = [];
  const walk = (p) => { out.push(p); for (const k of kids.get(p) || []) walk(k); };
  walk(pid);
  return out;
}

// CPU seconds (user + system) these processes used so far, every thread of each.
export function cpuSeconds(pids) {
  let ticks = 0;
  for (const p of pids) {
    try {
      const st = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    } catch { /* gone */ }
  }
  return ticks / 100; // USER_HZ
}

// Nanoseconds on a CPU so far of each live thread of these processes: Map "pid/tid" -> ns.
export function threadRuntimes(pids) {
  const out = new Map();
  for (const p of pids) {
    let tids;
    try { tids = fs.readdirSync(`/proc/${p}/task`); } catch { continue; /* gone */ }
    for (const t of tids) {
      try { out.set(`${p}/${t}`, Number(fs.readFileSync(`/proc/${p}/task/${t}/schedstat`, 'utf8').split(' ')[0])); } catch { /* gone */ }
    }
  }
  return out;
}

// ns the threads ran between two threadRuntimes() readings: a thread that appeared in
// between counts from its start; one that exited counts up to the earlier reading.
export function ranBetween(a, b) {
  let ns = 0;
  for (const [k, v] of b) ns += v - (a.get(k) || 0);
  return ns;
}

// Bytes resident (VmRSS) of these processes together.
export function rssBytes(pids) {
  let kb = 0;
  for (const p of pids) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch { /* gone */ }
  }
  return kb * 1024;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Cores these processes used over the next `ms` milliseconds (pids: a function, read at
// both ends, so processes started meanwhile count).
export async function coresOver(pids, ms) {
  const c0 = cpuSeconds(pids());
  const t0 = performance.now();
  await sleep(ms);
  return (cpuSeconds(pids()) - c0) / ((performance.now() - t0) / 1000);
}

// The wall clock in ms since the epoch, fine-grained: the same clock as a page's
// performance.timeOrigin + performance.now(), so a page can say when it stopped.
export const epochMs = () => performance.timeOrigin + performance.now();

// Samples the run time of pids() every `everyMs` from now until stop() is called (and
// `tailMs` after), for settledAfter().
export function sampleRuntime(pids, { everyMs = 4 } = {}) {
  const samples = [];
  let on = true;
  const take = () => samples.push({ t: epochMs(), threads: threadRuntimes(pids()) });
  take();
  const loop = (async () => {
    while (on) {
      await sleep(everyMs);
      take();
    }
  })();
  return {
    samples,
    async stop() {
      on = false;
      await loop;
      return samples;
    },
  };
}

// From run-time samples: how long after `at` (epoch ms) the processes fell to idle for
// good, i.e. the end of the last window of `windowMs` after `at` in which they used more
// than `busyCores`; 0 when none. Also the cores they used before `at` (over the last
// 300 ms) and from the settle point to the last sample, so a caller can see
// that they were busy before and quiet after; and the CPU ms they used from `at` to the
// last sample, which a loaded machine stretches in time but does not add to.
//
// hashing: how many threads hashed (the busiest over the 300 ms before `at`): the most
// CPU ms any of them used after `at` is how long it ran on; on a free machine that is
// wall time, and a busy one stretches it in time without adding to it.
export function settledAfter(samples, at, { windowMs = 20, busyCores = 0.25, hashing = 1 } = {}) {
  const rate = (a, b) => ranBetween(a.threads, b.threads) / 1e6 / Math.max(1e-3, b.t - a.t);
  let settled = at;
  let j = 0;
  for (let i = 0; i < samples.length; i++) {
    while (j < samples.length && samples[j].t - samples[i].t < windowMs) j++;
    if (j >= samples.length) break;
    if (samples[i].t < at) continue; // a window that began before stop holds its hashing
    if (rate(samples[i], samples[j]) > busyCores) settled = Math.max(settled, samples[j].t);
  }
  const before = samples.filter((s) => s.t <= at && s.t >= at - 300);
  const afterS = samples.filter((s) => s.t >= settled);
  const last = samples[samples.length - 1];
  const stopSample = samples.filter((x) => x.t <= at).pop() || samples[0];
  const b0 = before[0] || samples[0];
  const busiest = [...stopSample.threads.keys()]
    .map((k) => [k, stopSample.threads.get(k) - (b0.threads.get(k) || 0)])
    .sort((x, y) => y[1] - x[1]).slice(0, hashing).map(([k]) => k);
  // A thread that exited stops counting at its last reading before it did.
  const lastOf = (k) => { for (let i = samples.length - 1; i >= 0; i--) if (samples[i].threads.has(k)) return samples[i].threads.get(k); return 0; };
  const hashingMsAfter = busiest.map((k) => (lastOf(k) - stopSample.threads.get(k)) / 1e6);
  return {
    hashingMsAfter: Math.max(0, ...hashingMsAfter),
    hashingCoresBefore: busiest.reduce((sum, k) => sum + stopSample.threads.get(k) - (b0.threads.get(k) || 0), 0) / 1e6 / Math.max(1e-3, stopSample.t - b0.t),
    cpuMsAfter: ranBetween(stopSample.threads, last.threads) / 1e6,
    settledMs: settled - at,
    coresBefore: before.length >= 2 ? rate(before[0], before[before.length - 1]) : NaN,
    coresAfter: afterS.length >= 2 ? rate(afterS[0], last) : NaN,
    observedMs: last.t - at,
  };
}
