#!/usr/bin/env python3
"""Print a Markdown table of store/reference time ratios from criterion's last run."""
import json, pathlib, datetime, subprocess

root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"
rows = []
for group in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "report"):
    est = {}
    for side in ("maple", "reference"):
        f = group / side / "new" / "estimates.json"
        if f.exists():
            est[side] = json.loads(f.read_text())["median"]["point_estimate"]
    if len(est) == 2:
        rows.append((group.name, est["maple"], est["reference"]))

rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
print(f"\n### {datetime.date.today()} at {rev} (`just bench`: `cargo bench -p mmfuzz-harness --bench maple`)\n")
print("| benchmark | maple store | reference | store / reference |")
print("|---|---:|---:|---:|")
for name, m, r in rows:
    print(f"| {name} | {m/1e6:.3f} ms | {r/1e6:.3f} ms | {m/r:.2f} |")
