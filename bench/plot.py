#!/usr/bin/python3
"""Draws bench/results as SVG for the README (issue 18).

  hashrate.svg      hashes per second by mode and threads: consentminer native (with
                    transparent huge pages and without), RandomX's reference benchmark,
                    and the wasm build in node and Chromium (bench/native-vs-reference*.json,
                    bench/results/wasm-bench.json)
  dataset-init.svg  fast-mode memory initialisation in seconds by init threads:
                    reference against consentminer (bench/results/dataset-init.json)

Each bar is a median; the dots are the single runs behind it. A missing results file
leaves its bars out and says so.

usage: bench/plot.py [--results DIR] [--out DIR]   (Debian's python3 with python3-matplotlib;
       the shebang names /usr/bin/python3 because a python3 earlier on PATH may lack it)
"""
import argparse
import glob
import json
import os
import re
import sys

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

# SVG text stays text (searchable, small), and the same input gives the same bytes.
plt.rcParams["svg.fonttype"] = "none"
plt.rcParams["svg.hashsalt"] = "consentminer"

COLOURS = {
    "reference": "#7f7f7f",
    "native thp": "#1f77b4",
    "native none": "#aec7e8",
    "node": "#2ca02c",
    "chromium": "#ff7f0e",
}

LABELS = {
    "reference": "RandomX reference",
    "native thp": "consentminer native (THP)",
    "native none": "consentminer native (no huge pages)",
    "node": "consentminer wasm, node",
    "chromium": "consentminer wasm, Chromium",
}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        print(f"plot: {path} not found; its bars are left out", file=sys.stderr)
    except json.JSONDecodeError as e:
        print(f"plot: {path} is not JSON ({e}); its bars are left out", file=sys.stderr)
    return None


def native_rows(results):
    """(group label, series, median, runs) from native-vs-reference*.json: files of single
    rows (`--rows`, re-measurements made after the full run) first, then the full run for
    the rows they lack; a row and its reference always come from the same file. A new
    full run makes older single-row files stale: delete them with it."""
    rows, seen = [], set()
    # The full run's file last, whatever the names of the others sort as.
    files = sorted(glob.glob(os.path.join(results, "native-vs-reference*.json")),
                   key=lambda p: (os.path.basename(p) == "native-vs-reference.json", p))
    for path in files:
        data = load(path)
        for r in data or []:
            group = f"{r['mode']} {r['threads']}t"
            key = (group, r["pages"])
            if key in seen:
                continue
            seen.add(key)
            rows.append((group, f"native {r['pages']}", r["consentminer_hs"],
                         r.get("consentminer_runs", [])))
            if (group, "reference") not in seen:
                seen.add((group, "reference"))
                rows.append((group, "reference", r["reference_hs"], r.get("reference_runs", [])))
    # Tables printed by the script and kept as text (a run cut short and rerun by rows).
    for path in sorted(glob.glob(os.path.join(results, "native-vs-reference*.txt"))):
        with open(path) as f:
            for line in f:
                m = re.match(r"^(light|fast) (\d+)t\s+(thp|none)\s+([\d.]+)\s+([\d.]+)", line)
                if not m:
                    continue
                group = f"{m[1]} {m[2]}t"
                for series, value in ((f"native {m[3]}", m[5]), ("reference", m[4])):
                    if (group, series) not in seen:
                        seen.add((group, series))
                        rows.append((group, series, float(value), []))
    return rows


def wasm_rows(results):
    """(group, series, median, runs) from wasm-bench.json: its JIT rows in node and
    Chromium, two threads with the shared cache."""
    data = load(os.path.join(results, "wasm-bench.json"))
    if not data:
        return []
    wanted = {
        "node_light_1t_jit": ("light 1t", "node"),
        "chromium_light_1t_jit": ("light 1t", "chromium"),
        "node_light_2t_shared": ("light 2t", "node"),
        "chromium_light_2t_shared": ("light 2t", "chromium"),
    }
    rows = []
    native = data.get("native_light_1t")
    if isinstance(native, dict) and "hashrate" in native:
        rows.append(("light 1t", "native thp", native["hashrate"], native.get("hashrates", [])))
    for key, (group, series) in wanted.items():
        r = data.get(key)
        if isinstance(r, dict) and "hashrate" in r:
            rows.append((group, series, r["hashrate"], r.get("hashrates", [])))
    return rows


def grouped_bars(ax, rows, series_order, ylabel, fmt):
    groups = []
    for g, *_ in rows:
        if g not in groups:
            groups.append(g)
    # light before fast, then by threads: "light 1t", "light 2t", "fast 1t", ...
    order = {"light": 0, "fast": 1}
    groups.sort(key=lambda g: (order.get(g.split()[0], 2), g))
    present = [s for s in series_order if any(r[1] == s for r in rows)]
    width = 0.8 / max(len(present), 1)
    for k, s in enumerate(present):
        for gi, g in enumerate(groups):
            match = [r for r in rows if r[0] == g and r[1] == s]
            if not match:
                continue
            _, _, median, runs = match[0]
            x = gi - 0.4 + width * (k + 0.5)
            ax.bar(x, median, width, color=COLOURS.get(s, "#9467bd"),
                   label=LABELS.get(s, s) if gi == min(i for i, gg in enumerate(groups)
                                        if any(r[0] == gg and r[1] == s for r in rows)) else None)
            ax.text(x, median, fmt.format(median), ha="center", va="bottom", fontsize=7)
            if runs:
                ax.plot([x] * len(runs), runs, "k.", markersize=3)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)


def plot_hashrate(results, out):
    rows, seen = [], set()
    for r in native_rows(results) + wasm_rows(results):  # a row measured twice: the first
        if (r[0], r[1]) not in seen:
            seen.add((r[0], r[1]))
            rows.append(r)
    if not rows:
        print("plot: no hash-rate results; hashrate.svg not drawn", file=sys.stderr)
        return None
    fig, ax = plt.subplots(figsize=(8, 4.5))
    grouped_bars(ax, rows, ["reference", "native thp", "native none", "node", "chromium"],
                 "hashes per second", "{:.0f}")
    ax.set_yscale("log")
    ax.set_title("RandomX hash rate by mode and threads (median; dots: runs)")
    path = os.path.join(out, "hashrate.svg")
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)
    return path


def plot_dataset_init(results, out):
    data = load(os.path.join(results, "dataset-init.json"))
    if not data:
        return None
    rows = []
    for r in data["rows"]:
        g = f"{r['init_threads']} thread" + ("s" if r["init_threads"] != 1 else "")
        rows.append((g, "reference", r["reference_s"], r["reference_runs"]))
        rows.append((g, "native thp", r["consentminer_thp_s"], r["consentminer_thp_runs"]))
        rows.append((g, "native none", r["consentminer_none_s"], r["consentminer_none_runs"]))
    fig, ax = plt.subplots(figsize=(6, 4))
    grouped_bars(ax, rows, ["reference", "native thp", "native none"], "seconds", "{:.1f}")
    ax.set_title("Fast-mode memory initialisation (cache + dataset), lower is better",
                 fontsize=10)
    ax.set_xlabel(f"initialisation threads; load average {data.get('load_average_start', '?')}"
                  f" at the start")
    path = os.path.join(out, "dataset-init.svg")
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)
    return path


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", default=os.path.join(here, "results"))
    ap.add_argument("--out", default=os.path.join(here, "results"))
    a = ap.parse_args()
    if not os.path.isdir(a.results):
        ap.error(f"--results {a.results} is not a directory")
    os.makedirs(a.out, exist_ok=True)
    drawn = [p for p in (plot_hashrate(a.results, a.out), plot_dataset_init(a.results, a.out)) if p]
    for p in drawn:
        print(f"wrote {p}")
    return 0 if drawn else 1


if __name__ == "__main__":
    sys.exit(main())
