#!/usr/bin/env python3
"""The bug benchmark, every driver in one run (issue: `mmfuzz review` and the benchmark).

1. `mmfuzz bench-search` builds the cases (every mutant `review` proves to break a kernel
   invariant on a safe built-in config) and hunts them with the in-process drivers (run, pct,
   proptest), each case with a budget of SECONDS.
2. libFuzzer (`fuzz/` target `exit_vs_reaper`, `MMFUZZ_CONFIG` = the mutant's text, an empty
   corpus, `MMFUZZ_FAST_CRASH=1`) hunts the same cases with the model's coverage as extra
   counters and without it (`MMFUZZ_MODEL_COVERAGE=0`). Its seconds are the process's wall
   time, start-up included.
3. bolero (`harness/bolero/tests/bench_search.rs`: its `cargo test` engine, random bytes through
   the libFuzzer target's decoding, one case after another) hunts the same cases.
4. One markdown table: recall within 1 s and within SECONDS, executions and seconds to the
   first (median and 90th percentile; a miss counts as infinite), for every case and for the
   races (shortest counterexample of two numbered steps or more).

Usage: python3 scripts/bench_search.py [--seconds 10] [--seed 1] [--cases FILE] [--limit N]
Needs nightly and cargo-fuzz for the libFuzzer rows (`--no-libfuzzer` skips them; `--no-bolero`
skips bolero's).
"""
import argparse
import concurrent.futures as cf
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "bench-search")


def mmfuzz(*args):
    return ["cargo", "run", "-q", "--release", "--manifest-path", os.path.join(ROOT, "Cargo.toml"), "--", *args]


def libfuzzer(binary, case, mmp, seconds, seed, model_coverage, flags):
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        corpus = os.path.join(tmp, "corpus")
        os.mkdir(corpus)
        env = dict(os.environ, MMFUZZ_CONFIG=mmp, MMFUZZ_FAST_CRASH="1",
                   MMFUZZ_MODEL_COVERAGE="1" if model_coverage else "0", RUST_BACKTRACE="0")
        t0 = time.monotonic()
        p = subprocess.run([binary, f"-max_total_time={seconds}", f"-seed={seed}", "-print_final_stats=1",
                            f"-artifact_prefix={tmp}/", *flags, corpus],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           errors="replace")
        secs = time.monotonic() - t0
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", p.stderr)
    execs = int(m.group(1)) if m else 0
    found = p.returncode != 0 and ("violated" in p.stderr or "deadly signal" in p.stderr)
    if p.returncode != 0 and not found:
        sys.exit(f"libFuzzer failed on {case['id']}:\n{p.stderr[-2000:]}")
    return {"case": case["id"], "driver": "libfuzzer+model" if model_coverage else "libfuzzer",
            "found": found and secs <= seconds + 1.0, "execs": execs, "secs": secs}


def percentile(values, p):
    v = sorted(values, key=lambda x: (x is None, x or 0))
    if not v:
        return None
    k = min(max(math.ceil(p * len(v)), 1), len(v)) - 1
    return v[k]


def rows(hunts, seconds):
    out = []
    for d in dict.fromkeys(h["driver"] for h in hunts):
        hs = [h for h in hunts if h["driver"] == d]
        execs = [h["execs"] if h["found"] else None for h in hs]
        secs = [h["secs"] if h["found"] else None for h in hs]
        n = len(hs)
        pct = lambda k: f"{k} ({100 * k / max(n, 1):.0f}%)"
        fmt = lambda x, f="{}": "miss" if x is None else f.format(x)
        out.append([d, str(n), pct(sum(1 for h in hs if h["found"] and h["secs"] <= 1.0)),
                    pct(sum(1 for h in hs if h["found"] and h["secs"] <= seconds)),
                    fmt(percentile(execs, 0.5)), fmt(percentile(execs, 0.9)),
                    fmt(percentile(secs, 0.5), "{:.4f}"), fmt(percentile(secs, 0.9), "{:.4f}")])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", help="cases file (JSON lines) instead of building them")
    ap.add_argument("--limit", type=int, help="only the first N cases")
    ap.add_argument("--no-libfuzzer", action="store_true")
    ap.add_argument("--no-bolero", action="store_true")
    ap.add_argument("--races-only", action="store_true", help="only the cases of two numbered steps or more")
    ap.add_argument("--libfuzzer-flags", default="-len_control=0 -max_len=512",
                    help="libFuzzer's flags (default: full-length inputs from the start)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    cases_file = a.cases or os.path.join(OUT, "cases.jsonl")
    t0 = time.monotonic()
    if not a.cases:
        subprocess.run(mmfuzz("bench-search", "--cases-out", cases_file, "--only-cases", "--json"), check=True)
    cases = [json.loads(l) for l in open(cases_file) if l.strip()]
    if a.races_only:
        cases = [c for c in cases if c["numbered_steps"] >= 2]
    if a.limit or a.races_only:
        cases = cases[: a.limit or len(cases)]
        with open(os.path.join(OUT, "cases-limited.jsonl"), "w") as f:
            f.writelines(json.dumps(c) + "\n" for c in cases)
        cases_file = os.path.join(OUT, "cases-limited.jsonl")
    built = time.monotonic() - t0
    res = subprocess.run(mmfuzz("bench-search", "--cases", cases_file, "--seconds", str(a.seconds), "--seed",
                                str(a.seed), "--json"), check=True, capture_output=True, text=True)
    hunts = [h for h in map(json.loads, res.stdout.splitlines()) if "case" in h]
    if not a.no_bolero:
        out = os.path.join(OUT, "bolero.jsonl")
        env = dict(os.environ, MMFUZZ_BENCH_CASES=cases_file, MMFUZZ_BENCH_SECONDS=str(a.seconds),
                   MMFUZZ_BENCH_OUT=out)
        subprocess.run(["cargo", "test", "-q", "--release", "--manifest-path", os.path.join(ROOT, "Cargo.toml"),
                        "-p", "mmfuzz-bolero", "--test", "bench_search"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        hunts += [json.loads(l) for l in open(out) if l.strip()]
    if not a.no_libfuzzer:
        subprocess.run(["cargo", "+nightly", "fuzz", "build", "-s", "none", "-O", "exit_vs_reaper"],
                       cwd=os.path.join(ROOT, "fuzz"), check=True)
        binary = os.path.join(ROOT, "fuzz", "target", "x86_64-unknown-linux-gnu", "release", "exit_vs_reaper")
        mdir = os.path.join(OUT, "mutants")
        shutil.rmtree(mdir, ignore_errors=True)
        os.makedirs(mdir)
        work = []
        for i, c in enumerate(cases):
            mmp = os.path.join(mdir, f"{i}.mmp")
            with open(mmp, "w") as f:
                f.write(c["text"])
            for cov in (True, False):
                work.append((c, mmp, cov))
        with cf.ThreadPoolExecutor(max_workers=a.jobs) as ex:
            hunts += list(ex.map(lambda w: libfuzzer(binary, w[0], w[1], a.seconds, a.seed, w[2],
                                                     a.libfuzzer_flags.split()), work))
    with open(os.path.join(OUT, "hunts.jsonl"), "w") as f:
        f.writelines(json.dumps(h) + "\n" for h in hunts)
    races = {c["id"] for c in cases if c["numbered_steps"] >= 2}
    print(f"{len(cases)} cases ({len(races)} races: two numbered steps or more), built in {built:.0f} s; "
          f"budget {a.seconds:g} s per case and driver, seed {a.seed}, {a.jobs} jobs, libFuzzer flags "
          f"`{a.libfuzzer_flags}`")
    print()
    print(f"| cases | driver | n | recall ≤1 s | recall ≤{a.seconds:g} s | execs p50 | execs p90 | s p50 | s p90 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, hs in (("all", hunts), ("races", [h for h in hunts if h["case"] in races])):
        for r in rows(hs, a.seconds):
            print(f"| {label} | " + " | ".join(r) + " |")
    missed = [h for h in hunts if not h["found"]]
    for h in missed:
        print(f"missed by {h['driver']}: {h['case']}")


if __name__ == "__main__":
    main()
