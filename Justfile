# The everyday commands. `just --list` shows them.

# Run every test of the workspace (store proptest, bolero check, corpus and erase2 replay).
test:
    cargo test --release --workspace

# The main job: the default campaign.
run *ARGS:
    cargo run --release -- run {{ARGS}}

# libFuzzer on one target, e.g. `just fuzz maple_store 60` (needs nightly and cargo-fuzz).
fuzz TARGET SECONDS="60":
    cd fuzz && cargo +nightly fuzz run -s none -O {{TARGET}} -- -max_total_time={{SECONDS}}

# Turn every libFuzzer artifact of TARGET into a minimized, named corpus case.
triage TARGET="maple_store":
    #!/usr/bin/env bash
    set -euo pipefail
    shopt -s nullglob
    arts=(fuzz/artifacts/{{TARGET}}/*)
    if [ ${#arts[@]} -eq 0 ]; then echo "no artifacts in fuzz/artifacts/{{TARGET}}"; exit 0; fi
    cargo run --release -q -- corpus add --target "$(echo {{TARGET}} | tr _ -)" "${arts[@]}"

# Replay corpus cases (default: the whole corpus).
replay *PATHS="corpus":
    cargo run --release -q -- replay {{PATHS}}

# Replay the kernel's erase2 traces.
erase2 DIR="../shared/data/maple-erase2":
    cargo run --release -q -- erase2 {{DIR}}

# Benchmarks: the store against the reference; writes the ratios to BENCHMARKS.md.
bench:
    cargo bench -p mmfuzz-harness --bench maple
    python3 scripts/bench_ratios.py >> BENCHMARKS.md

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
