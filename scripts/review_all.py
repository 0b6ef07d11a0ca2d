#!/usr/bin/env python3
"""`mmfuzz review --path all` of every safe built-in config: one row per config (mutants,
distinct, load-bearing, redundant, lock balance only, incomplete, seconds) and the total, as a
markdown table for the README.

Usage: python3 scripts/review_all.py [--cpus 2] [--vmas 1] [--execs 2000] [--pairs]
       [--config C]... [--family F]...   (--family: one row per config and family offered)
(MMFUZZ_BIN=PATH runs that binary instead of `cargo run`.)
"""
import argparse
import json
import os
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mmfuzz(*args):
    if os.environ.get("MMFUZZ_BIN"):
        return [os.environ["MMFUZZ_BIN"], *args]
    return ["cargo", "run", "-q", "--release", "--manifest-path", os.path.join(ROOT, "Cargo.toml"), "--", *args]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpus", default="2")
    ap.add_argument("--vmas", default="1")
    ap.add_argument("--execs", default="2000")
    ap.add_argument("--pairs", action="store_true")
    ap.add_argument("--max-states", default="2000000", help="a mutant's search stops (incomplete) here")
    ap.add_argument("--preemptions", help="most preemptions per interleaving (default: unbounded)")
    ap.add_argument("--config", action="append", help="only these configs (default: every safe one)")
    ap.add_argument("--family", action="append",
                    help="review each config on these families of scenarios (teardown, suspend, cgroup, fork)")
    a = ap.parse_args()
    configs = subprocess.run(mmfuzz("configs"), check=True, capture_output=True, text=True).stdout
    safe = [l.split()[0] for l in configs.splitlines()[1:] if l.split()[1:2] == ["safe"]]
    safe = [c for c in safe if not a.config or c in a.config]
    flags = ["--path", "all", "--cpus", a.cpus, "--vmas", a.vmas, "--execs", a.execs, "--max-states", a.max_states]
    flags += ["--pairs"] if a.pairs else []
    flags += ["--preemptions", a.preemptions] if a.preemptions else []
    print(f"`mmfuzz review --config C {' '.join(flags)} --json`, every safe built-in config, "
          f"{os.cpu_count()} cores (`python3 scripts/review_all.py{' --pairs' if a.pairs else ''}`):")
    print()
    print("| config | paths | mutants | distinct | load-bearing | redundant | lock balance only | incomplete | random found (of load-bearing) | random found beyond the bounds | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    tot = [0] * 9
    t_all = time.monotonic()
    runs = [(c, f) for c in safe for f in (a.family or [None])]
    for c, f in runs:
        t0 = time.monotonic()
        fam = ["--family", f] if f else []
        res = subprocess.run(mmfuzz("review", "--config", c, *fam, *flags, "--json"), capture_output=True, text=True)
        if res.returncode == 2 and f:
            continue  # the config offers no scenario of that family
        res.check_returncode()
        out = res.stdout
        c_label = f"{c} ({f})" if f else c
        secs = time.monotonic() - t0
        rows = [json.loads(l) for l in out.splitlines()]
        distinct = [r for r in rows if not r["same_as"]]
        v = lambda k: sum(1 for r in distinct if r["verdict"] == k)
        lb = [r for r in distinct if r["verdict"] == "load_bearing"]
        found = sum(1 for r in lb if r["random"] and r["random"]["found"])
        beyond = sum(1 for r in distinct if r["verdict"] == "redundant" and r["random"] and r["random"]["found"])
        paths = len({r["path"] for r in rows})
        fig = [paths, len(rows), len(distinct), len(lb), v("redundant"), v("lock_balance"), v("incomplete"), found, beyond]
        tot = [x + y for x, y in zip(tot, fig)]
        print(f"| {c_label} | " + " | ".join(map(str, fig)) + f" | {secs:.0f} |", flush=True)
    print(f"| **all {len(runs)}** | " + " | ".join(map(str, tot)) + f" | {time.monotonic() - t_all:.0f} |")


if __name__ == "__main__":
    main()
