#!/usr/bin/env python3
"""The layout rules of docs/architecture.md, checked: no two modules import each other (no
cycle in the `use` graph of either crate), and no function is longer than 150 lines unless it
is listed in ALLOWED with the reason. Exit 1 on a breach.

    python3 scripts/layout_check.py [--list N]   # --list: print every function over N lines
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CRATES = {"mmfuzz": "src", "mmfuzz_harness": "harness/src"}
LIMIT = 150
# Functions allowed over the limit, with the reason.
ALLOWED = {}


def modules(src):
    """Module path (a::b) -> file, for one crate's source folder."""
    out = {}
    for d, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs") or "/bin" in d.replace(src, ""):
                continue
            rel = os.path.relpath(os.path.join(d, f), src)[:-3].split(os.sep)
            if rel[-1] in ("mod", "lib", "main"):
                rel = rel[:-1]
            out["::".join(rel)] = os.path.join(d, f)
    return out


def strip_tests(text):
    i = text.find("#[cfg(test)]\nmod tests")
    return text if i < 0 else text[:i]


def edges(crate, mods):
    """Module -> modules it imports (`use crate::x`, `use super::x`, `crate::x::` paths)."""
    g = {m: set() for m in mods}
    for m, f in mods.items():
        text = strip_tests(open(f).read())
        text = "\n".join(l.split("//")[0] for l in text.split("\n"))
        for path in re.findall(r"\b((?:crate|super|self)(?:::\w+)+)", text):
            parts = path.split("::")
            if parts[0] == "crate":
                base, parts = [], parts[1:]
            else:
                # `self` is this module, each `super` its parent.
                base = m.split("::") if m else []
                while parts and parts[0] in ("super", "self"):
                    if parts[0] == "super":
                        base = base[:-1]
                    parts = parts[1:]
            target = None
            for k in range(len(parts), 0, -1):
                cand = "::".join(base + parts[:k])
                if cand in mods:
                    target = cand
                    break
            if target and target != m and not m.startswith(target + "::") and not target.startswith(m + "::"):
                g[m].add(target)
    return g


def cycles(g):
    """Pairs of modules that import each other, directly or through others (Tarjan SCCs)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in g:
        if v not in index:
            visit(v)
    return out


def functions(path):
    """(name, first line, length) of every fn body, by brace matching."""
    lines = open(path).read().split("\n")
    out = []
    for i, l in enumerate(lines):
        m = re.match(r"\s*(?:pub(?:\([\w:]+\))?\s+)?(?:const\s+)?fn\s+(\w+)", l)
        if not m:
            continue
        depth, started = 0, False
        for j in range(i, len(lines)):
            code = re.sub(r'"(?:\\.|[^"\\])*"', '""', lines[j].split("//")[0])
            depth += code.count("{") - code.count("}")
            if "{" in code:
                started = True
            if started and depth <= 0:
                out.append((m.group(1), i + 1, j - i + 1))
                break
            if not started and code.rstrip().endswith(";"):
                break
    return out


def main():
    bad = False
    for crate, src in CRATES.items():
        mods = modules(os.path.join(ROOT, src))
        for comp in cycles(edges(crate, mods)):
            print(f"{crate}: modules import each other: {', '.join(comp)}")
            bad = True
    show = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[1] == "--list" else None
    for src in ["src", "harness/src"]:
        for d, _, files in os.walk(os.path.join(ROOT, src)):
            for f in files:
                if not f.endswith(".rs"):
                    continue
                p = os.path.join(d, f)
                rel = os.path.relpath(p, ROOT)
                for name, line, n in functions(p):
                    if show is not None and n > show:
                        print(f"{n:5} {rel}:{line} {name}")
                    if n > LIMIT and f"{rel}::{name}" not in ALLOWED:
                        print(f"{rel}:{line}: fn {name} is {n} lines (limit {LIMIT})")
                        bad = True
    if not bad:
        print("layout: no module cycle, no function over", LIMIT, "lines")
    sys.exit(1 if bad else 0)


main()
