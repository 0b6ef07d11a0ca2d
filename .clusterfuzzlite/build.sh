#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: both fuzz targets of fuzz/ into $OUT, run from the
# repository root (the Dockerfile's WORKDIR). In the base-builder-rust image `cargo` is a
# nightly toolchain and $SANITIZER is set by the builder; elsewhere (CI does this, without
# Docker):
#   OUT=/tmp/out CARGO="cargo +nightly" SANITIZER=none bash .clusterfuzzlite/build.sh
# The model is safe Rust (#![forbid(unsafe_code)]): `none` is enough locally, and the
# builder's address sanitizer costs speed only.
: "${OUT:?set OUT to the folder the fuzz targets go to}"
CARGO=${CARGO:-cargo}
SANITIZER=${SANITIZER:-address}
case "$SANITIZER" in
  none | address | memory | thread | leak) san=(--sanitizer "$SANITIZER") ;;
  # coverage, undefined: the builder's RUSTFLAGS carry them
  *) san=(--sanitizer none) ;;
esac
targets=(exit_vs_reaper maple_store)
cd fuzz
$CARGO fuzz build -O "${san[@]}"
triple=$(rustc -vV | sed -n 's/^host: //p')
for t in "${targets[@]}"; do
  cp "target/$triple/release/$t" "$OUT/$t"
  # A seed corpus where one was grown locally (cargo fuzz run): <target>_seed_corpus.zip.
  if [ -d "corpus/$t" ] && command -v zip >/dev/null; then
    (cd "corpus/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
  fi
done
