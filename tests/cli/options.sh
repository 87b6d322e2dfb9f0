#!/usr/bin/env bash
# Option errors of every command (native/src/cli_args.c and each cmd_*.c's table and
# check), from tests/vectors/cli_options.txt: each case's exit status and text.
# usage: options.sh CONSENTMINER VECTORS_DIR
set -uo pipefail
CLI="$1"
VECTORS="$2"
GOOD=49UeoKgmn6qhAZ5RKAjBd82ZFpe546QehMmZr66afY3XG5rsGAqjay2TJtLPoTU8VobsP8N9GcLSEUmRPUQFTuyk7UYvZPY
. "$(dirname "$0")/expect.bash"
cases=0
while IFS=$'\t' read -r want text line; do
  [[ -z $want || $want == \#* ]] && continue
  read -ra words <<<"$line"
  for i in "${!words[@]}"; do
    case "${words[$i]}" in
      "~") words[$i]="" ;;
      GOOD) words[$i]="$GOOD" ;;
    esac
  done
  cases=$((cases + 1))
  expect "consentminer $line" "$want" "$text" "$CLI" "${words[@]}"
done <"$VECTORS/cli_options.txt"
echo "$pass passed, $fail failed"
((cases > 0 && fail == 0))
