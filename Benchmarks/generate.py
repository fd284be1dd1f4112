#!/usr/bin/env python3
"""Deterministic input generators for dq's benchmarks.

Writes, for every workload, one directory under Benchmarks/data/<workload>/ holding the same
facts in each engine's format:

    <rel>.dq   dq facts          edge(1, 2).
    <rel>.pl   Prolog facts      edge(1,2).     (SWI-Prolog)
    <rel>.lp   ASP facts         edge(1,2).     (clingo)
    <rel>.csv  CSV, no header    1,2            (SQLite, DuckDB)

and expected.json with the result counts computed here, independently of every engine, so the
harness can check each engine against them. Every random choice comes from random.Random(seed)
with a fixed seed: the files are byte-for-byte the same on every run and machine.

    python3 Benchmarks/generate.py            # every workload (skips those already current)
    python3 Benchmarks/generate.py --force    # regenerate all
    python3 Benchmarks/generate.py NAME ...   # only these workloads
"""

import argparse
import datetime
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")

# Bump when a generator changes, so stale data is regenerated.
GENERATOR_VERSION = 1


# ---------------------------------------------------------------------------------------------
# Writing facts


def write_relation(directory, name, rows):
    """Writes the rows (tuples of non-negative ints) of one relation in every format."""
    rows = list(rows)
    with open(os.path.join(directory, name + ".dq"), "w") as f:
        f.write("".join(f"{name}({', '.join(map(str, r))}).\n" for r in rows))
    prolog = "".join(f"{name}({','.join(map(str, r))}).\n" for r in rows)
    with open(os.path.join(directory, name + ".pl"), "w") as f:
        f.write(prolog)
    with open(os.path.join(directory, name + ".lp"), "w") as f:
        f.write(prolog)
    with open(os.path.join(directory, name + ".csv"), "w") as f:
        f.write("".join(",".join(map(str, r)) + "\n" for r in rows))
    return len(rows)


# ---------------------------------------------------------------------------------------------
# Reference answers


def transitive_closure_size(nodes, edges):
    """|TC| of a directed graph: reach sets as Python int bitsets, iterated to a fixpoint."""
    index = {v: i for i, v in enumerate(nodes)}
    succ = defaultdict(list)
    for x, y in edges:
        succ[index[x]].append(index[y])
    reach = [0] * len(nodes)
    for i in range(len(nodes)):
        for j in succ[i]:
            reach[i] |= 1 << j
    # Reverse topological order would need SCCs; plain iteration converges in about the graph's
    # diameter rounds, which is small for random graphs and 1 round per node for a chain (so
    # chains use the closed form instead).
    changed = True
    while changed:
        changed = False
        for i in range(len(nodes)):
            r = reach[i]
            acc = r
            for j in succ[i]:
                acc |= reach[j]
            if acc != r:
                reach[i] = acc
                changed = True
    return sum(bin(r).count("1") for r in reach)


def same_generation_size(parent_of):
    """|sg| on a tree: sg(X, Y) holds iff X != Y are non-root nodes at the same depth."""
    # Parents are numbered below their children, so one pass in node order sees each parent first.
    depth = {}
    for v in sorted(parent_of):
        depth[v] = depth.get(parent_of[v], 0) + 1
    per_level = Counter(depth.values())
    return sum(n * n - n for n in per_level.values()), max(per_level.values()), max(per_level)


# ---------------------------------------------------------------------------------------------
# Workloads


def chain(n):
    def build(d):
        edges = [(i, i + 1) for i in range(1, n + 1)]
        write_relation(d, "edge", edges)
        return {
            "results": n * (n + 1) // 2,
            "description": f"TC of a chain: {n} edges 1->2->...->{n + 1}",
        }

    return build


def random_edges(nodes, edges, seed):
    """`edges` distinct random edges between `nodes` nodes, no self-loops, sorted."""
    rng = random.Random(seed)
    chosen = set()
    while len(chosen) < edges:
        x, y = rng.randrange(nodes), rng.randrange(nodes)
        if x != y:
            chosen.add((x, y))
    return sorted(chosen)


def random_graph(nodes, edges, seed):
    def build(d):
        rows = random_edges(nodes, edges, seed)
        write_relation(d, "edge", rows)
        return {
            "results": transitive_closure_size(list(range(nodes)), rows),
            "description": f"TC of a random digraph: {nodes} nodes, {edges} distinct edges "
            f"(no self-loops), seed {seed}",
        }

    return build


# The edits of the "edit" workload, in order: (dq text of the edit, how it changes the edges).
# The count of the closure is asked before the first edit and after each one.
EDIT_NEW_NODE = 99999


def edit_steps(rows):
    removed = rows[len(rows) // 2]  # an edge of the graph itself, in its big component
    return [
        (f"edge(1, {EDIT_NEW_NODE}).", "insert one edge to a new node"),
        (f"edge(2, {EDIT_NEW_NODE - 1}).", "insert a second edge to a new node"),
        (f".retract edge(1, {EDIT_NEW_NODE})", "retract the first inserted edge"),
        (f".retract edge({removed[0]}, {removed[1]})", "retract an edge of the graph"),
    ], removed


def edit_random_graph(nodes, edges, seed):
    def build(d):
        rows = random_edges(nodes, edges, seed)
        write_relation(d, "edge", rows)
        steps, removed = edit_steps(rows)
        everything = list(range(nodes)) + [EDIT_NEW_NODE - 1, EDIT_NEW_NODE]
        states = [
            rows,
            rows + [(1, EDIT_NEW_NODE)],
            rows + [(1, EDIT_NEW_NODE), (2, EDIT_NEW_NODE - 1)],
            rows + [(2, EDIT_NEW_NODE - 1)],
            [r for r in rows if r != removed] + [(2, EDIT_NEW_NODE - 1)],
        ]
        counts = [transitive_closure_size(everything, s) for s in states]
        return {
            "results": counts[-1],
            "counts": counts,
            "edits": [text for text, _ in steps],
            "edit_descriptions": [what for _, what in steps],
            "description": f"dq only: the TC of the random digraph of tc-random-2000 ({nodes} nodes, {edges} edges, "
            f"seed {seed}) counted, then counted again after each of {len(steps)} edits in the same process "
            "(two inserted edges, the first retracted again, then an edge of the graph retracted); "
            f"counts {', '.join(f'{c:,}' for c in counts)}",
        }

    return build


def random_tree(nodes, seed):
    def build(d):
        # A random recursive tree: node i's parent is uniform among 0..i-1 (node 0 is the root).
        rng = random.Random(seed)
        parent_of = {i: rng.randrange(i) for i in range(1, nodes)}
        write_relation(d, "parent", sorted(parent_of.items()))
        size, widest, height = same_generation_size(parent_of)
        return {
            "results": size,
            "description": f"same generation on a random recursive tree: {nodes} nodes "
            f"(parent(C, P), parent of i uniform in 0..i-1), height {height}, "
            f"widest level {widest}, seed {seed}",
        }

    return build


def join(r_rows, s_rows, t_rows, b_domain, c_domain, groups, seed):
    def build(d):
        rng = random.Random(seed)
        # r(A, B): A is the row number (so r has exactly r_rows distinct rows), B random.
        r = [(a, rng.randrange(b_domain)) for a in range(r_rows)]

        def distinct_pairs(count, xs, ys):
            chosen = set()
            while len(chosen) < count:
                chosen.add((rng.randrange(xs), rng.randrange(ys)))
            return sorted(chosen)

        s = distinct_pairs(s_rows, b_domain, c_domain)  # s(B, C)
        t = distinct_pairs(t_rows, c_domain, groups)  # t(C, D)
        write_relation(d, "r", r)
        write_relation(d, "s", s)
        write_relation(d, "t", t)

        # Reference: per D, the number of distinct (A, B, C) with r(A,B), s(B,C), t(C,D).
        d_of_c = defaultdict(list)
        for c, dd in t:
            d_of_c[c].append(dd)
        d_count_of_b = defaultdict(Counter)
        for b, c in s:
            for dd in d_of_c.get(c, ()):
                d_count_of_b[b][dd] += 1
        per_group = Counter()
        for _, b in r:
            cnt = d_count_of_b.get(b)
            if cnt:
                per_group.update(cnt)
        return {
            "results": len(per_group),
            "checksum": sum(per_group.values()),
            "description": f"q(D, count of r(A,B), s(B,C), t(C,D)): |r| = {r_rows:,}, "
            f"|s| = {s_rows:,}, |t| = {t_rows:,}; B in 0..{b_domain - 1}, "
            f"C in 0..{c_domain - 1}, D in 0..{groups - 1}, seed {seed}",
        }

    return build


def load_rows(rows, seed):
    """One CSV of `rows` records and 8 columns, the kinds event data has: an id, a decimal, a
    date, a CAMEO-like code with leading zeros, a count, a word, a country code, a signed decimal.
    Only CSV is written: the workload is the engines' own CSV loaders."""
    def build(d):
        rng = random.Random(seed)
        words = ["talks", "summit", "visit", "sanctions", "trade", "protest", "aid", "treaty", "border",
                 "energy", "pipeline", "islands", "minister", "president", "forum", "exercise"]
        countries = ["RUS", "JPN", "USA", "CHN", "KOR", "PRK", "UKR", "DEU", "FRA", "GBR", "IND", "TUR"]
        codes = ["010", "020", "036", "040", "042", "043", "046", "057", "061", "071", "081", "0871",
                 "100", "112", "120", "130", "141", "172", "190", "195"]
        first = datetime.date(2000, 1, 1).toordinal()
        with open(os.path.join(d, "rows.csv"), "w") as f:
            out = []
            for i in range(rows):
                day = datetime.date.fromordinal(first + rng.randrange(9000)).isoformat()
                out.append(f"{i},{rng.randrange(100000) / 100},{day},{rng.choice(codes)},{rng.randrange(1000)},"
                           f"{rng.choice(words)},{rng.choice(countries)},{rng.randrange(-1000, 1000) / 100}\n")
                if len(out) == 10000:
                    f.write("".join(out))
                    out = []
            f.write("".join(out))
        return {
            "results": rows,
            "description": f"load a CSV of {rows:,} rows and 8 columns (id, decimal, date, code with leading "
            f"zeros such as 036, count, word, country code, signed decimal; no header), then count the rows; "
            f"seed {seed}",
        }

    return build


def non_linear_chain(n):
    def build(d):
        info = chain(n)(d)
        info["description"] = f"non-linear TC path(X, Z) :- path(X, Y), path(Y, Z) of a chain: {n} edges 1->2->...->{n + 1}"
        return info

    return build


def non_linear_random(nodes, edges, seed):
    def build(d):
        info = random_graph(nodes, edges, seed)(d)
        info["description"] = ("non-linear TC path(X, Z) :- path(X, Y), path(Y, Z) of the tc-random-2000 digraph: "
                               f"{nodes} nodes, {edges} distinct edges, seed {seed}")
        return info

    return build


def bits(x):
    """The positions of the set bits of the int x, lowest first."""
    out = []
    while x:
        low = x & -x
        out.append(low.bit_length() - 1)
        x ^= low
    return out


def andersen_size(variables, address_of, assign, load, store):
    """|pointsTo| of the Andersen rules, solved with points-to sets as int bitsets over heap
    objects, iterated to a fixpoint (independently of every engine)."""
    pts = [0] * variables
    for y, h in address_of:
        pts[y] |= 1 << h
    heap = defaultdict(int)
    changed = True
    while changed:
        changed = False
        for y, z in assign:
            new = pts[y] | pts[z]
            if new != pts[y]:
                pts[y], changed = new, True
        for y, x in store:
            px = pts[x]
            for h in bits(pts[y]):
                new = heap[h] | px
                if new != heap[h]:
                    heap[h], changed = new, True
        for y, x in load:
            acc = pts[y]
            for h in bits(pts[x]):
                acc |= heap.get(h, 0)
            if acc != pts[y]:
                pts[y], changed = acc, True
    return sum(bin(p).count("1") for p in pts), sum(bin(p).count("1") for p in heap.values())


def points_to(variables, per_function, seed):
    """A generated program for Andersen-style points-to: `variables` variables in functions of
    `per_function`; every second variable has an allocation site (the heap object numbered as the
    variable), 1.5 assignments per variable, a load and a store for every tenth variable; 98% of
    assignments, loads and stores stay inside the function of their target."""
    def build(d):
        rng = random.Random(seed)

        def partner(y):
            if rng.random() < 0.98:
                base = y - y % per_function
                return base + rng.randrange(min(per_function, variables - base))
            return rng.randrange(variables)

        def pairs(count):
            chosen = set()
            while len(chosen) < count:
                y = rng.randrange(variables)
                x = partner(y)
                if x != y:
                    chosen.add((y, x))
            return sorted(chosen)

        address_of = [(v, v) for v in range(0, variables, 2)]
        assign = pairs(variables * 3 // 2)
        load = pairs(variables // 10)
        store = pairs(variables // 10)
        write_relation(d, "addressOf", address_of)
        write_relation(d, "assign", assign)
        write_relation(d, "load", load)
        write_relation(d, "store", store)
        size, heap_size = andersen_size(variables, address_of, assign, load, store)
        return {
            "results": size,
            "heap_points_to": heap_size,
            "description": f"Andersen-style points-to over a generated program: {variables:,} variables in "
            f"functions of {per_function}, {len(address_of):,} allocation sites (every second variable), "
            f"{len(assign):,} assignments, {len(load):,} loads, {len(store):,} stores, 98% inside the "
            f"function; pointsTo has {size:,} tuples, heapPointsTo {heap_size:,}; seed {seed}",
        }

    return build


def negation(nodes, edges, seed):
    """Unreachable pairs: the TC of a sparse random digraph, then every pair of its nodes the TC
    lacks (an anti-join of nodes x nodes against the closure)."""
    def build(d):
        rows = random_edges(nodes, edges, seed)
        write_relation(d, "edge", rows)
        used = sorted({x for x, _ in rows} | {y for _, y in rows})
        reach = transitive_closure_size(used, rows)
        return {
            "results": len(used) * len(used) - reach,
            "description": f"negation: node(X) for every end of an edge, reach = TC, unreach(X, Y) :- node(X), "
            f"node(Y), not reach(X, Y); random digraph of {nodes} nodes ({len(used)} used), {edges} distinct "
            f"edges, {reach:,} reach tuples, seed {seed}",
        }

    return build


def aggregates(rows, stores, items, seed):
    """Aggregates over sales: per store and item the total quantity (sum), per store the number of
    items sold, the largest and the smallest total, and the items whose total is at least half the
    store's largest; the answer counts those and sums their totals."""
    def build(d):
        rng = random.Random(seed)
        sale = [(i, rng.randrange(stores), rng.randrange(items), 1 + rng.randrange(100)) for i in range(rows)]
        write_relation(d, "sale", sale)
        total = Counter()
        for _, s, i, q in sale:
            total[(s, i)] += q
        best = defaultdict(int)
        for (s, i), t in total.items():
            best[s] = max(best[s], t)
        top = [(s, i, t) for (s, i), t in total.items() if 2 * t >= best[s]]
        return {
            "results": len(top),
            "checksum": sum(t for _, _, t in top),
            "description": f"aggregates: sale(Id, Store, Item, Qty) with {rows:,} rows, {stores} stores, {items} "
            f"items, Qty in 1..100; total(S, I, T) = sum of Qty per store and item, best(S, M) = max T per store, "
            f"top(S, I, T) :- total(S, I, T), best(S, M), 2 * T >= M; results: |top|, checksum: the sum of "
            f"its T; seed {seed}",
        }

    return build


WORKLOADS = {
    "tc-chain-1000": chain(1000),
    "tc-chain-2000": chain(2000),
    "tc-random-2000": random_graph(2000, 6000, seed=20240601),
    "tc-random-4000": random_graph(4000, 12000, seed=20240606),
    "edit-random-2000": edit_random_graph(2000, 6000, seed=20240601),
    "sg-tree": random_tree(3100, seed=20240602),
    "join-100k": join(100_000, 10_000, 1_000, 10_000, 1_000, 400, seed=20240603),
    "join-1m": join(1_000_000, 100_000, 10_000, 100_000, 10_000, 400, seed=20240604),
    "load-1m": load_rows(1_000_000, seed=20240605),
    "points-to": points_to(5000, 50, seed=20240606),
    "nl-tc-chain-1000": non_linear_chain(1000),
    "nl-tc-random-2000": non_linear_random(2000, 6000, seed=20240601),
    "negation": negation(1000, 1300, seed=20240607),
    "aggregates": aggregates(300_000, 200, 2000, seed=20240608),
}


def generate(name, force=False):
    d = os.path.join(DATA, name)
    expected_path = os.path.join(d, "expected.json")
    if not force and os.path.exists(expected_path):
        with open(expected_path) as f:
            old = json.load(f)
        if old.get("generator_version") == GENERATOR_VERSION:
            return old, False
    os.makedirs(d, exist_ok=True)
    start = time.perf_counter()
    info = WORKLOADS[name](d)
    info["generator_version"] = GENERATOR_VERSION
    info["generated_in_s"] = round(time.perf_counter() - start, 2)
    with open(expected_path, "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    return info, True


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workloads", nargs="*", help="workloads to generate (default: all)")
    parser.add_argument("--force", action="store_true", help="regenerate even if current")
    args = parser.parse_args()
    names = args.workloads or list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        sys.exit(f"generate.py: unknown workload(s) {', '.join(unknown)}; known: {', '.join(WORKLOADS)}")
    for name in names:
        info, made = generate(name, args.force)
        extra = f", checksum {info['checksum']:,}" if "checksum" in info else ""
        how = f"generated in {info['generated_in_s']} s" if made else "up to date"
        print(f"{name:16} {info['results']:>11,} results{extra}  ({how}) - {info['description']}")


if __name__ == "__main__":
    main()
