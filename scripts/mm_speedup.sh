#!/usr/bin/env bash
# Executions per second of `mmfuzz run` with --jobs 1 and --jobs 2 on the safe configs (which
# run for the whole budget), measured back to back; prints the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-5}"
bin=target/release/mmfuzz
cargo build --release -q
configs=(--config v4.17 --config v5.17 --config v6.1)
rate() { "$bin" run --json --seconds "$secs" --jobs "$1" "${configs[@]}" |
  python3 -c 'import sys,json; r=[json.loads(l) for l in sys.stdin]; print(sum(x["execs"] for x in r)/sum(x["seconds"] for x in r))'; }
one=$(rate 1); two=$(rate 2)
python3 -c "print(f'mmfuzz run: jobs 1 {float($one):.0f} execs/s, jobs 2 {float($two):.0f} execs/s, speed-up {float($two)/float($one):.2f}x')"
