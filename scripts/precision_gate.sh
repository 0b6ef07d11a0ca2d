#!/usr/bin/env bash
# The precision gate: no `safe` config may report a violation (a false alarm).
#
# 1. Exhaustive: `mmfuzz check` of every built-in `safe` config, deterministic, at bounds that
#    catch the v4.7 freeze_task false alarm (shared/audit/cases/v4.7-false-alarm-I12.json):
#    suspend configs at 4 CPUs, 1 anonymous VMA, at most 3 preemptions; mm configs at
#    3 CPUs and 2 VMAs (a failing fork's: 3 VMAs); a config whose roles make several families
#    of scenarios (today's v6.18) family by family (`check --family`), each at its bounds; cgroup-freezer configs (a multi-threaded victim) at 3 CPUs, 1 anonymous
#    VMA, at most 3 preemptions; and every one of them again on an empty mm (no VMA: dup_mmap()
#    failed before copying one) at 4 CPUs (suspend configs: at most 3 preemptions). A search that stops at --max-states fails the
#    gate too.
# 2. libFuzzer: the exit_vs_reaper target with MMFUZZ_CONFIG set to each `safe` config, for a
#    fixed number of runs from a fixed seed; any crash fails the gate.
#
# Usage: scripts/precision_gate.sh [check|fuzz|all] (default all). FUZZ_RUNS sets the runs per
# config (default 100000). Needs a release build; the fuzz half needs nightly and cargo-fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
BIN="${MMFUZZ_BIN:-target/release/mmfuzz}"
OUT="target/gate-findings"
FUZZ_RUNS="${FUZZ_RUNS:-100000}"
mkdir -p "$OUT"

safe=$("$BIN" configs | awk 'NR > 1 && $2 == "safe" { print $1 }')
[ -n "$safe" ] || { echo "gate: no safe configs listed" >&2; exit 1; }
fail=0

if [ "$what" = all ] || [ "$what" = check ]; then
  gate_check() { # CONFIG BOUNDS...
    local c=$1 start line verdict
    shift
    start=$(date +%s)
    line=$("$BIN" check --config "$c" "$@" --jobs 2 --json --out "$OUT" || true)
    verdict=$(printf '%s' "$line" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
print("ok" if d["found"] == "safe" and not d["truncated"] else "FAIL",
      d["states"], d["transitions"], d["found"], d["invariant"], d["truncated"],
      d["peak_rss_kib"] // 1024, d["counterexample"])')
    set -- $verdict
    printf 'gate check %-18s %s  %s states, %s transitions, peak %s MiB, %ss (%s)\n' \
      "$c" "$1" "$2" "$3" "$7" "$(( $(date +%s) - start ))" "${bounds[*]}"
    if [ "$1" != ok ]; then
      echo "  false alarm or incomplete on $c: found $4 $5, truncated $6, case $8" >&2
      fail=1
    fi
  }
  for c in $safe; do
    roles=$("$BIN" configs --show "$c" | grep -E '^  role ')
    has() { printf '%s\n' "$roles" | grep -Eq "\b$1\b"; }
    # The families of scenarios the config's roles make (a config of several, today's v6.18,
    # is checked family by family, each at its own bounds).
    fams=()
    if has fork; then fams+=(fork); fi
    if has pm; then fams+=(suspend); elif has user; then fams+=(cgroup); fi
    if has exit || [ ${#fams[@]} -eq 0 ]; then fams+=(teardown); fi
    for f in "${fams[@]}"; do
      case $f in
        suspend)
          bounds=(--cpus 4 --vmas 1 --menu anon --races coenabled --preemptions 3)
          empty=(--cpus 4 --vmas 0 --races coenabled --preemptions 3) ;;
        cgroup)
          # A multi-threaded victim in a frozen cgroup: two user threads, the allocator, the
          # reaper (four CPUs only on the empty mm).
          bounds=(--cpus 3 --vmas 1 --menu anon --races coenabled --preemptions 3)
          empty=(--cpus 4 --vmas 0 --races coenabled --preemptions 3) ;;
        fork)
          # A failing fork: the parent's three VMAs (the copies, the marker, the parent's VMAs
          # after it) against two swapoff walkers.
          bounds=(--cpus 3 --vmas 3 --races coenabled)
          empty=(--cpus 3 --vmas 0 --races coenabled) ;;
        teardown)
          bounds=(--cpus 3 --vmas 2 --races coenabled)
          empty=(--cpus 4 --vmas 0 --races coenabled) ;;
      esac
      if [ ${#fams[@]} -gt 1 ]; then
        bounds+=(--family "$f")
        empty+=(--family "$f")
      fi
      gate_check "$c" "${bounds[@]}"
      bounds=("${empty[@]}")
      gate_check "$c" "${bounds[@]}"
    done
  done
fi

if [ "$what" = all ] || [ "$what" = fuzz ]; then
  if ! rustup toolchain list | grep -q nightly || ! command -v cargo-fuzz >/dev/null; then
    echo "gate fuzz: needs a nightly toolchain and cargo-fuzz" >&2
    exit 1
  fi
  (cd fuzz && cargo +nightly fuzz build -s none -O exit_vs_reaper)
  for c in $safe; do
    start=$(date +%s)
    log="target/gate-fuzz-$c.log"
    if (cd fuzz && MMFUZZ_CONFIG="$c" cargo +nightly fuzz run -s none -O exit_vs_reaper \
          -- -runs="$FUZZ_RUNS" -seed=1 -artifact_prefix="../$OUT/fuzz-$c-") > "$log" 2>&1; then
      printf 'gate fuzz  %-18s ok    %s runs, %ss\n' "$c" "$FUZZ_RUNS" "$(( $(date +%s) - start ))"
    else
      echo "gate fuzz  $c FAIL: see $log" >&2
      tail -40 "$log" >&2
      fail=1
    fi
  done
fi

exit $fail
