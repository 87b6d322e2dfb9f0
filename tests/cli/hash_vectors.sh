#!/usr/bin/env bash
# `consentminer hash` against the official RandomX vectors (tests/vectors/randomx.txt),
# with the JIT and with the interpreter, plus the errors its bad inputs must give.
set -u
cli="$1"; vectors="$2"
pass=0; fail=0
check() { # name expected actual
  if [[ "$2" == "$3" ]]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $1: expected '$2', got '$3'"; fi
}
while IFS='|' read -r kind key input want; do
  [[ -z "$kind" || "$kind" == \#* ]] && continue
  for jit in "" "--no-jit"; do
    got=$("$cli" hash --key-$kind "$key" --input-$kind "$input" $jit 2>&1)
    check "$kind '$key' '$input' $jit" "$want" "$got"
  done
  # the same vector given as hex
  if [[ "$kind" == text ]]; then
    kh=$(printf '%s' "$key" | od -An -tx1 -v | tr -d ' \n'); ih=$(printf '%s' "$input" | od -An -tx1 -v | tr -d ' \n')
    got=$("$cli" hash --key-hex "$kh" --input-hex "$ih" 2>&1)
    check "hex of '$key' '$input'" "$want" "$got"
  fi
done < "$vectors/randomx.txt"

# Bad inputs: exit status 2 and a message naming the input.
err=$("$cli" hash --key-hex abc --input-text x 2>&1); rc=$?
check "odd key hex status" 2 "$rc"; [[ "$err" == *key* ]] || { fail=$((fail+1)); echo "FAIL odd key hex message: $err"; }
err=$("$cli" hash --key-text k --input-hex zz 2>&1); rc=$?
check "bad input hex status" 2 "$rc"; [[ "$err" == *input* ]] || { fail=$((fail+1)); echo "FAIL bad input hex message: $err"; }
err=$("$cli" hash --key-text k 2>&1); rc=$?
check "missing input status" 2 "$rc"; [[ "$err" == *input* ]] || { fail=$((fail+1)); echo "FAIL missing input message: $err"; }
"$cli" hash --help | grep -q -- --key-hex; check "help names --key-hex" 0 $?

echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
