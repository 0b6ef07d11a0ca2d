#!/usr/bin/env python3
"""Soak every `safe` built-in config over many seeds: `just soak [HOURS]`.

Each round runs `mmfuzz run --json` over every config whose expected verdict is `safe`, with a
new base seed (round r uses seed r * 1000; job j of a round draws from seed + j), and adds up
executions and findings per config. Prints the table at the end (and on Ctrl-C); exit status 1
if any safe config produced a finding, whose counterexample is kept in the findings folder.

`--shard I/N` (a job array of N machines): this machine takes the rounds I, I+N, I+2N, ...
(from `--first-round`), so the N shards run exactly the rounds, hence the seeds, one machine
would, each once.
"""

import argparse
import json
import subprocess
import sys
import time


def safe_configs(binary):
    out = subprocess.run([binary, "configs"], check=True, capture_output=True, text=True).stdout
    names = []
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[1] == "safe":
            names.append(parts[0])
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("hours", nargs="?", type=float, default=1.0, help="wall-clock budget")
    ap.add_argument("--seconds", type=float, default=20, help="seconds per config and round")
    ap.add_argument("--bin", default="target/release/mmfuzz")
    ap.add_argument("--out", default="target/soak-findings")
    ap.add_argument("--first-round", type=int, default=0)
    ap.add_argument("--shard", default="0/1", metavar="I/N",
                    help="take the rounds I, I+N, I+2N, ... of a job array of N")
    args = ap.parse_args()
    try:
        index, count = (int(x) for x in args.shard.split("/"))
        if not 0 <= index < count:
            raise ValueError
    except ValueError:
        sys.exit(f"soak: --shard {args.shard!r}: I/N with 0 <= I < N, e.g. 0/4")

    configs = safe_configs(args.bin)
    execs = {c: 0 for c in configs}
    found = {c: [] for c in configs}
    seeds = []
    deadline = time.time() + args.hours * 3600
    start = time.time()
    r = args.first_round + index
    try:
        while time.time() < deadline:
            seed = r * 1000
            cmd = [args.bin, "run", "--json", "--seed", str(seed), "--seconds", str(args.seconds),
                   "--out", args.out]
            for c in configs:
                cmd += ["--config", c]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode not in (0, 1):
                sys.exit(f"soak: {' '.join(cmd)} failed ({res.returncode}): {res.stderr.strip()}")
            for line in res.stdout.splitlines():
                d = json.loads(line)
                execs[d["config"]] += d["execs"]
                if d["found"] == "bug":
                    found[d["config"]].append((seed, d["invariant"], d["counterexample"]))
            seeds.append(seed)
            total = sum(execs.values())
            print(f"round {r} (seed {seed}): {total:,} executions so far, "
                  f"{sum(len(v) for v in found.values())} finding(s), "
                  f"{time.time() - start:.0f} s", flush=True)
            r += count
    except KeyboardInterrupt:
        print("interrupted", flush=True)

    print()
    print(f"{'config':<20} {'executions':>14}  findings")
    for c in configs:
        f = "; ".join(f"seed {s}: {i} {p}" for s, i, p in found[c]) or "0"
        print(f"{c:<20} {execs[c]:>14,}  {f}")
    total = sum(execs.values())
    n = sum(len(v) for v in found.values())
    print(f"{'total':<20} {total:>14,}  {n}")
    print(f"seeds: {', '.join(str(s) for s in seeds)} (job j of a round draws from seed + j); "
          f"{time.time() - start:.0f} s")
    sys.exit(1 if n else 0)


if __name__ == "__main__":
    main()
