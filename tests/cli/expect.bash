# Shared by the CLI tests (tests/cli/*.sh): expect NAME EXIT TEXT COMMAND... runs COMMAND
# (no input, 60 s at most) and counts a pass when it exits with EXIT and its output holds
# TEXT; pass and fail hold the counts.
pass=0; fail=0
expect() {
  local name="$1" want="$2" text="$3"; shift 3
  local out rc
  out=$(timeout 60 "$@" </dev/null 2>&1); rc=$?
  if [[ $rc -eq $want && $out == *"$text"* ]]; then pass=$((pass + 1)); echo "ok - $name"
  else fail=$((fail + 1)); echo "not ok - $name (exit $rc, wanted $want and \"$text\")"; echo "$out" | head -5; fi
}
