#!/usr/bin/env bash
# A native-only check (the main job is scripts/demo.sh): builds the CLI, checks it
# against an official RandomX vector and runs a short native benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh native
cli=build/native/consentminer
echo "RandomX vector check:"
want=639183aae1bf4c9a35884cb46b09cad9175f04efd7684e7262a0ac1c2f0b4e3f
got=$("$cli" hash --key-text "test key 000" --input-text "This is a test")
if [[ "$got" != "$want" ]]; then echo "  wrong hash: $got (expected $want)"; exit 1; fi
echo "  test key 000 / This is a test -> $got (matches)"
echo "Benchmark (light mode, 1 thread, 10 s):"
"$cli" bench --mode light --threads 1 --seconds 10
threads=$(nproc)
avail_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
if (( avail_kb > 3 * 1024 * 1024 )); then
  echo "Benchmark (fast mode, $threads threads, 20 s; the 2 GiB dataset is built first):"
  "$cli" bench --mode fast --threads "$threads" --seconds 20
else
  echo "Fast mode skipped: it needs about 2.3 GiB of free memory."
fi
