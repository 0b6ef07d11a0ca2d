# The everyday commands. `just --list` shows them.

# Run every test of the workspace (store proptest, bolero check, corpus and erase2 replay).
test:
    cargo test --release --workspace

# The main job: the default campaign.
run *ARGS:
    cargo run --release -- run {{ARGS}}

# libFuzzer on one target, e.g. `just fuzz maple_store 60` or
# `MMFUZZ_CONFIG=v5.17-rc3 just fuzz exit_vs_reaper 60` (needs nightly and cargo-fuzz).
# MMFUZZ_CONFIG may name a config file relative to here: it is made absolute for fuzz/.
fuzz TARGET SECONDS="60":
    #!/usr/bin/env bash
    set -euo pipefail
    if [ -f "${MMFUZZ_CONFIG:-}" ]; then export MMFUZZ_CONFIG="$(realpath "$MMFUZZ_CONFIG")"; fi
    cd fuzz && cargo +nightly fuzz run -s none -O {{TARGET}} -- -max_total_time={{SECONDS}} -len_control=0 -max_len=512

# Turn every libFuzzer artifact of TARGET into a shrunk, named corpus case
# (for exit_vs_reaper, MMFUZZ_CONFIG as it was when fuzzing: set or not).
triage TARGET="maple_store":
    #!/usr/bin/env bash
    set -euo pipefail
    shopt -s nullglob
    arts=(fuzz/artifacts/{{TARGET}}/*)
    if [ ${#arts[@]} -eq 0 ]; then echo "no artifacts in fuzz/artifacts/{{TARGET}}"; exit 0; fi
    case "{{TARGET}}" in
      maple_store) cargo run --release -q -- corpus add --target maple-store "${arts[@]}" ;;
      exit_vs_reaper) cargo run --release -q -- corpus add --target mm ${MMFUZZ_CONFIG:+--config "$MMFUZZ_CONFIG"} "${arts[@]}" ;;
      *) echo "unknown target {{TARGET}}"; exit 2 ;;
    esac

# Replay corpus cases (default: the whole corpus).
replay *PATHS="corpus":
    cargo run --release -q -- replay {{PATHS}}

# Replay the kernel's erase2 traces.
erase2 DIR="../shared/data/maple-erase2":
    cargo run --release -q -- erase2 {{DIR}}

# Benchmarks: the store against the reference (ratios appended to BENCHMARKS.md); scenario
# throughput; exhaustive mode with and without reduction and dedup, and loom on the v5.17-rc3
# race; the two-core speed-up of `mmfuzz run`.
bench:
    cargo bench -p mmfuzz-harness --bench maple
    python3 scripts/bench_ratios.py >> BENCHMARKS.md
    cargo bench -p mmfuzz-harness --bench mm
    cargo bench -p mmfuzz-harness --bench exhaustive
    bash scripts/mm_speedup.sh

# bolero over the mm scenarios (libFuzzer engine; `-e afl` for AFL). Needs nightly and
# `cargo install cargo-bolero`. Under plain `cargo test` the same checks take random inputs.
bolero TEST="mm_safe_configs_bolero" SECONDS="60":
    cargo +nightly bolero test -p mmfuzz-bolero {{TEST}} -s NONE -T {{SECONDS}}s

# Mutation testing of the model (the `mmfuzz` crate) against the harness's tests; prints the
# score. Needs `cargo install cargo-mutants`. Slow: each mutant runs the test binaries that
# judge the model (the unit tests beside it, verdict table, exhaustive, corpus replay, the
# CLI's reports).
mutants *ARGS:
    cargo mutants -p mmfuzz --profile release --timeout 300 {{ARGS}} -- --workspace --lib --test mm_configs --test replay --test exhaustive --test cli --test corpus || true
    python3 scripts/mutants_score.py

# A real address space as a set-up file, then a campaign from it, e.g. `just import-maps /proc/1/maps v6.1`.
import-maps MAPS CONFIG="v6.1":
    cargo run --release -q -- import-maps {{MAPS}} --out target/setup.json
    cargo run --release -q -- run --config {{CONFIG}} --setup target/setup.json

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Explain a corpus case: numbered steps per CPU, locks held, the broken invariant.
explain FILE *ARGS:
    cargo run --release -q -- explain {{FILE}} {{ARGS}}

# Model coverage: each step and branch direction of the paths, hit or never hit, e.g.
# `just coverage --config v6.1` or `just coverage --execs 20000 --jobs 1 --json`.
coverage *ARGS:
    cargo run --release -q -- coverage {{ARGS}}

# Exhaustive mode: e.g. `just check v6.1 --cpus 3 --vmas 2`
check CONFIG *ARGS:
    cargo run --release -q -- check --config {{CONFIG}} {{ARGS}}

# Soak every `safe` config over many seeds (round r: seed r*1000) for HOURS of wall clock;
# prints executions and findings per config, exit 1 on any finding.
soak HOURS="1" SECONDS="20":
    cargo build --release -q
    python3 scripts/soak.py {{HOURS}} --seconds {{SECONDS}}

# `mmfuzz review --path all` of every safe built-in config: the README's table.
review-all *ARGS:
    python3 scripts/review_all.py {{ARGS}}

# The bug benchmark: review's load-bearing mutants hunted by run, pct, swarm, proptest and
# libFuzzer with and without the model's coverage (needs nightly and cargo-fuzz).
bench-search *ARGS:
    python3 scripts/bench_search.py {{ARGS}}
