#!/usr/bin/env bash
# Runs the libFuzzer targets: the gateway's (fuzz_http, fuzz_ws, fuzz_msg, and fuzz_session:
# sequences of session events through the share accounting, with its invariants) and the
# RandomX-to-WebAssembly translators' (fuzz_jit, modules checked by Binaryen's validator).
#   bash fuzz/run.sh --smoke        10 s each, 50 s in all: the CI run
#   bash fuzz/run.sh --long [SEC] [TARGET...]
#                                   SEC seconds each (default 3600), corpus kept between
#                                   runs; only the TARGETs named (http ws msg session jit)
# Builds the "fuzz" preset (clang, libFuzzer, ASan+UBSan). Seeds come from the malformed-
# input vectors (tests/vectors/gateway_*.txt; fuzz_jit needs none: any bytes are programs);
# the growing corpus stays in build/fuzz/fuzz-work/corpus/, crashes go to
# build/fuzz/fuzz-work/artifacts/ and fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(http ws msg session jit)
usage="usage: bash fuzz/run.sh [--smoke | --long [SECONDS] [TARGET...]]; targets: ${all_targets[*]}"
mode="${1:---smoke}"
targets=("${all_targets[@]}")
case "$mode" in
  --smoke) seconds=10 ;;
  --long)
    seconds="${2:-3600}"
    if [[ ! $seconds =~ ^[1-9][0-9]*$ ]]; then
      echo "fuzz/run.sh: --long $seconds: expected a whole number of seconds; $usage" >&2
      exit 2
    fi
    if (($# > 2)); then
      targets=("${@:3}")
      for t in "${targets[@]}"; do
        [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz/run.sh: no target '$t'; $usage" >&2; exit 2; }
      done
    fi
    ;;
  *) echo "$usage" >&2; exit 2 ;;
esac

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j 2 --target "${targets[@]/#/fuzz_}"
work=build/fuzz/fuzz-work
mkdir -p "$work/artifacts"
python3 fuzz/make_seeds.py tests/vectors "$work/seeds"

status=0
for target in "${targets[@]}"; do
  corpus="$work/corpus/$target"
  mkdir -p "$corpus"
  log="$work/$target.log"
  seeds=()
  if [[ -d "$work/seeds/$target" ]]; then seeds=("$work/seeds/$target"); fi
  echo "fuzz_$target: $seconds s"
  # Leak checking stays on: a parser that leaks per message would leak per browser.
  if ! ./build/fuzz/fuzz/fuzz_$target -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
      -artifact_prefix="$work/artifacts/$target-" "$corpus" "${seeds[@]}" \
      >"$log" 2>&1; then
    echo "fuzz_$target FAILED; last lines of $log:"
    tail -40 "$log"
    status=1
  else
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" | tr '\n' ' '
    echo "corpus $(ls "$corpus" | wc -l) inputs"
  fi
done
exit $status
