#!/usr/bin/env python3
"""Print the mutation score of the last `cargo mutants` run (mutants.out/outcomes.json)."""
import json, pathlib, sys

root = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent
f = root / "mutants.out" / "outcomes.json"
if not f.exists():
    sys.exit(f"{f}: no cargo-mutants results (run `just mutants`)")
counts = {}
missed = []
for o in json.loads(f.read_text())["outcomes"]:
    if o["scenario"] == "Baseline":
        continue
    s = o["summary"]
    counts[s] = counts.get(s, 0) + 1
    if s == "MissedMutant":
        m = o["scenario"]["Mutant"]
        missed.append(f'{m["file"]}:{m["span"]["start"]["line"]}: {m.get("name", "")}')
caught, miss, timeout = (counts.get(k, 0) for k in ("CaughtMutant", "MissedMutant", "Timeout"))
judged = caught + miss + timeout
print(f"cargo-mutants over the model: {caught} caught, {miss} missed, {timeout} timed out, "
      f"{counts.get('Unviable', 0)} unviable")
if judged:
    print(f"mutation score: {100 * (caught + timeout) / judged:.1f}% ({caught + timeout}/{judged})")
for m in missed[:40]:
    print("  missed:", m)
