#!/usr/bin/env bash
# --config FILE (native/src/cli_config.c) and --name=value (getopt_long, cli_args.c): a
# file's options reach the command as if typed, later options override it, and each kind
# of bad file is refused naming the file and what was expected.
# usage: config_file.sh CONSENTMINER VECTORS_DIR
set -uo pipefail
CLI="$1"
TMP=$(mktemp -d /tmp/cm-config.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/expect.bash"

# The file's values reach the command: bench reports the threads, mode and hashes it got.
cat >"$TMP/bench.json" <<'JSON'
{"mode": "light", "threads": 1, "hashes": 2, "json": true, "no-large-pages": true, "repeat": null}
JSON
expect "bench takes its options from --config" 0 '"threads":1' "$CLI" bench --config "$TMP/bench.json"
expect "--config=FILE is the same" 0 '"mode":"light"' "$CLI" bench --config="$TMP/bench.json"
expect "an option after --config overrides the file" 2 "--threads is '0'" \
  "$CLI" bench --config "$TMP/bench.json" --threads 0
expect "--name=value is --name value" 2 "--threads is '0'" "$CLI" bench --mode=light --threads=0
expect "--name=value keeps an = inside the value" 2 "'light=fast'" "$CLI" bench --mode=light=fast
expect "a value from the file is checked like a typed one, and the file is named" 2 \
  "options were read from --config $TMP/zero.json" \
  bash -c "echo '{\"threads\": 0}' >'$TMP/zero.json' && '$CLI' bench --config '$TMP/zero.json'"
expect "an unknown key fails as an unknown option, with the file named" 2 \
  "options were read from --config $TMP/unknown.json" \
  bash -c "echo '{\"thread\": 1}' >'$TMP/unknown.json' && '$CLI' bench --config '$TMP/unknown.json'"
# A list repeats its option: 17 pools are one more than mine takes.
python3 -c 'import json; print(json.dumps({"url": ["127.0.0.1:%d" % (9000 + i) for i in range(17)], "user": "x", "yes": True}))' >"$TMP/mine.json"
expect "a list repeats the option (17 pools for mine, which takes 16)" 2 "at most 16 pools" \
  "$CLI" mine --config "$TMP/mine.json"

# Bad files, each named with what was expected.
expect "a missing file" 2 "--config $TMP/none.json: unable to open" "$CLI" bench --config "$TMP/none.json"
printf '{"threads": 1,\n "mode": }' >"$TMP/broken.json"
expect "broken JSON names the line and column" 2 "--config $TMP/broken.json: line 2, column" \
  "$CLI" bench --config "$TMP/broken.json"
printf '[1, 2]' >"$TMP/list.json"
expect "a file that is no object" 2 "expected one JSON object of options" "$CLI" bench --config "$TMP/list.json"
printf '{"threads": {"n": 1}}' >"$TMP/obj.json"
expect "an object as a value" 2 '"threads" is an object; expected a string, a number' \
  "$CLI" bench --config "$TMP/obj.json"
printf '{"Threads": 1}' >"$TMP/upper.json"
expect "a key that is no option name" 2 '"Threads" is not an option name' "$CLI" bench --config "$TMP/upper.json"
printf '{"config": "other.json"}' >"$TMP/nested.json"
expect "a config naming another" 2 "a config file cannot name another" "$CLI" bench --config "$TMP/nested.json"
printf '{"threads": 1, "threads": 2}' >"$TMP/dup.json"
expect "a key given twice" 2 "duplicate object key" "$CLI" bench --config "$TMP/dup.json"
expect "--config twice" 2 "--config given twice" "$CLI" bench --config "$TMP/bench.json" --config "$TMP/bench.json"
expect "--config without a file" 2 "--config needs a file name" "$CLI" bench --config
echo "$pass passed, $fail failed"
((fail == 0))
