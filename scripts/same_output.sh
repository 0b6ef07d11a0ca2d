#!/usr/bin/env bash
# Behaviour unchanged, byte for byte: run two mmfuzz binaries over the same inputs and diff.
#
#   scripts/same_output.sh BEFORE_BIN AFTER_BIN [EXECS]
#   scripts/same_output.sh --snapshot BIN OUTDIR [EXECS]   # one side only
#
# Compared: `explain` (text, --json and the --svg picture) of every corpus case, `replay corpus --json`,
# `configs`, `configs --versions`, `configs --show` of every built-in config, `run --json
# --jobs 1 --seed 0 --execs EXECS` over every built-in config (and the counterexample files it
# saves), and `check --json` of three small bounds. The only normalisation: the wall-clock
# fields of JSON rows (`seconds`, `execs_per_sec`,
# `states_per_sec`, `peak_rss_kib`) are dropped, and the output folder's name is written OUT.
set -euo pipefail
cd "$(dirname "$0")/.."

snapshot() {
  local bin=$1 out=$2 execs=$3
  rm -rf "$out"; mkdir -p "$out/explain" "$out/show" "$out/findings"
  local strip='del(.seconds, .execs_per_sec, .states_per_sec, .peak_rss_kib)'
  for f in corpus/mm/*.json; do
    local n; n=$(basename "$f" .json)
    "$bin" explain "$f" >"$out/explain/$n.txt" 2>&1 || true
    "$bin" explain --json "$f" >"$out/explain/$n.json" 2>&1 || true
    "$bin" explain "$f" --svg "$out/explain/$n.svg" >/dev/null 2>&1 || true
  done
  "$bin" replay corpus --json 2>/dev/null | jq -cS "$strip" >"$out/replay.jsonl" || true
  "$bin" configs >"$out/configs.txt"
  "$bin" configs --versions >"$out/versions.txt"
  for c in $("$bin" configs | awk 'NR>1 {print $1}'); do
    "$bin" configs --show "$c" >"$out/show/$c.mmp"
  done
  "$bin" run --json --jobs 1 --seed 0 --execs "$execs" --seconds 100000 --out "$out/findings" \
    2>/dev/null | jq -cS "$strip" | sed "s#$out#OUT#g" >"$out/run.jsonl" || true
  # `--threads`, the old name of `--cpus`, so that older binaries compare too.
  for b in "v5.17-rc3 --threads 2 --vmas 1" "v6.1 --threads 2 --vmas 2" \
           "v4.7 --threads 3 --vmas 1 --menu anon --max-states 300000"; do
    # shellcheck disable=SC2086
    "$bin" check --json --out "$out/findings" --config $b 2>/dev/null | jq -cS "$strip" \
      | sed "s#$out#OUT#g" >>"$out/check.jsonl" || true
  done
}

if [[ ${1:-} == --snapshot ]]; then
  snapshot "$2" "$3" "${4:-3000}"
  exit 0
fi
before=${1:?usage: same_output.sh BEFORE_BIN AFTER_BIN [EXECS]}
after=${2:?usage: same_output.sh BEFORE_BIN AFTER_BIN [EXECS]}
execs=${3:-3000}
tmp=$(mktemp -d)
snapshot "$before" "$tmp/before" "$execs" &
snapshot "$after" "$tmp/after" "$execs" &
wait
if diff -r "$tmp/before" "$tmp/after" >"$tmp/diff"; then
  echo "same output: $(find "$tmp/before" -type f | wc -l) files compared ($tmp)"
else
  head -100 "$tmp/diff"
  echo "DIFFERENT: see $tmp/diff" >&2
  exit 1
fi
