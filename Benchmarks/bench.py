#!/usr/bin/env python3
"""Runs dq and its peers on the benchmark workloads and writes Benchmarks/RESULTS.md.

Normally started by Benchmarks/run, which builds dq, installs the peers and generates the data
first. Every engine run is one fresh process, started as

    timeout -k 5 LIMIT /usr/bin/time -f "%e %M" -o FILE  ENGINE ARGS...

in the workload's data directory, with standard input from /dev/null. Wall time is measured
around that with time.perf_counter() (GNU time's %e has only 10 ms resolution), peak RSS is
GNU time's %M. Loading the input is part of every measured run.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")
PROGRAMS = os.path.join(HERE, "programs")

sys.path.insert(0, HERE)
import generate  # noqa: E402  (the workload descriptions and expected counts)

# ---------------------------------------------------------------------------------------------
# Workloads: name -> (program kind, input relations). "startup-*" run no program file.

WORKLOADS = {
    "startup-dataset": ("startup-dataset", []),
    "startup-empty": ("startup", []),
    "tc-chain-1000": ("tc", ["edge"]),
    "tc-chain-2000": ("tc", ["edge"]),
    "tc-random-2000": ("tc", ["edge"]),
    "tc-random-4000": ("tc", ["edge"]),
    "sg-tree": ("sg", ["parent"]),
    "join-100k": ("join", ["r", "s", "t"]),
    "join-1m": ("join", ["r", "s", "t"]),
    "load-1m": ("load", ["rows"]),
    # dq only (no peer keeps a computed closure across edits): counts after each edit.
    "edit-random-2000": ("edit", ["edge"]),
    # Harder workloads (issue 16): mutually recursive non-linear rules, non-linear TC, negation
    # and aggregates.
    "points-to": ("pointsto", ["addressOf", "assign", "load", "store"]),
    "nl-tc-chain-1000": ("nltc", ["edge"]),
    "nl-tc-random-2000": ("nltc", ["edge"]),
    "negation": ("negation", ["edge"]),
    "aggregates": ("aggregates", ["sale"]),
}
# Workloads that take minutes: run only with --slow (or when named in --workloads).
SLOW = {"nl-tc-random-2000"}
# (program kind, engine) pairs the engine's language cannot state: shown as such in the table.
# SQL's WITH RECURSIVE allows one reference to the recursive table in the recursive step (linear
# recursion) and one recursive table per query; points-to joins pointsTo with itself and with a
# second recursive relation, non-linear TC joins path with itself. SQLite rejects a second
# reference; DuckDB accepts it but both references read only the last iteration's rows, which
# is not the closure (720 tuples instead of 7,260 on a chain of 120 edges).
NOT_EXPRESSIBLE = {
    ("pointsto", "sqlite"), ("pointsto", "duckdb"),
    ("nltc", "sqlite"), ("nltc", "duckdb"),
}
# Workloads that only load their input (dq, SQLite and DuckDB, each with its own CSV loader):
# reported in rows per second too.
LOAD_WORKLOADS = {"load-1m"}
QUICK = ["startup-dataset", "startup-empty", "tc-chain-1000", "join-100k"]

STARTUP_DESCRIPTIONS = {
    "startup-dataset": "dq only: `dq -e '?- 1 = 1.'`, start-up with the built-in dataset to the first answer",
    "startup-empty": "start-up to a first trivial answer with nothing loaded: `dq --no-dataset -e '?- 1 = 1.'`; "
    "peers: `SELECT 1`, `X is 1`, the fact `result(1).`",
}

ENGINE_TITLES = {"dq": "dq", "dq-1t": "dq 1 thread", "dq-postgres": "dq --engine postgres",
                 "postgres": "PostgreSQL (hand-written SQL)", "sqlite": "SQLite", "duckdb": "DuckDB",
                 "duckdb-2t": "DuckDB 2 threads", "swipl": "SWI-Prolog", "clingo": "clingo", "souffle": "Souffle",
                 "souffle-compiled": "Souffle compiled"}
# "dq" uses every core (its default); "dq-1t" is dq with --threads 1. "duckdb" runs one thread
# (SET threads = 1), "duckdb-2t" two. "souffle" interprets programs/KIND.dl, "souffle-compiled"
# runs the binary `souffle -o` made of it before the timed runs; both on one thread (-j 1).
# dq's own columns: `--peer-runs` may run the other engines fewer times than these.
OWN_ENGINES = ("dq", "dq-1t")
ALL_ENGINES = ["dq", "dq-1t", "dq-postgres", "postgres", "sqlite", "duckdb", "duckdb-2t", "swipl", "clingo",
               "souffle", "souffle-compiled"]
# Where the compiled Souffle programs are kept between runs (git-ignored, like the inputs).
SOUFFLE_BUILDS = os.path.join(DATA, "souffle-compiled")
# Program kinds Souffle could not compile: their souffle-compiled cells say so.
SOUFFLE_COMPILE_FAILED = set()
TIMEOUT = 300  # seconds per engine run; set from --timeout


class Engines:
    """How to start each engine on a workload, and how to read its answer."""

    def __init__(self, args):
        self.dq = os.path.abspath(args.dq)
        self.python = args.python
        self.sqlite = shutil.which("sqlite3")
        self.swipl = shutil.which("swipl")
        self.duckdb = args.duckdb  # the DuckDB CLI binary, or None to use the Python module
        self.swipl_limits = ["--stack-limit=16g", "--table-space=16g"]
        # The PostgreSQL server of dq-postgres and postgres (started by `run`): a libpq conninfo.
        self.pg = os.environ.get("DQ_BENCH_PG")
        self.psql = os.environ.get("DQ_BENCH_PSQL") or shutil.which("psql")
        # Souffle when installed (PATH, or the SOUFFLE environment variable); it runs the
        # workloads with a programs/KIND.dl on one thread, interpreted and compiled.
        self.souffle = os.environ.get("SOUFFLE") or shutil.which("souffle")
        # Per program kind: the compiled binary (None when compiling failed), and what compiling
        # took (seconds, and whether a binary of an earlier run was reused) or why it failed.
        self.souffle_binaries = {}
        self.souffle_compiles = {}

    def command(self, engine, workload):
        kind, relations = WORKLOADS[workload]
        if engine == "dq-1t":
            # dq on one thread: only where the work is evaluation (not start-up or edits).
            if kind.startswith("startup") or kind == "edit":
                return None
            cmd = self.command("dq", workload)
            return cmd and cmd[:1] + ["--threads", "1"] + cmd[1:]
        if engine == "duckdb-2t":
            if kind.startswith("startup"):
                return None
            path = os.path.join(PROGRAMS, f"{kind}.duckdb.sql")
            if not os.path.exists(path):
                return None
            sql = open(path).read().replace("SET threads = 1;", "SET threads = 2;")
            return self.duckdb_command(sql=sql)
        prog = lambda ext: os.path.join(PROGRAMS, f"{kind}.{ext}")  # noqa: E731
        files = lambda ext: [f"{r}.{ext}" for r in relations]  # noqa: E731
        dq_limits = ["--max-tuples", "0", "--timeout", "0"]
        # The server columns cover the workloads with a hand-written PostgreSQL query to compare
        # with (TC, same generation, the joins).
        if engine in ("dq-postgres", "postgres") and (not self.pg or not os.path.exists(prog("postgres.sql"))):
            return None
        if kind == "startup-dataset":
            return [self.dq, *dq_limits, "--format", "tsv", "-e", "?- 1 = 1."] if engine == "dq" else None
        if kind == "load" and engine in ("swipl", "clingo"):
            return None  # no CSV loader to compare
        if (kind, engine) in NOT_EXPRESSIBLE:
            return None
        if engine in ("souffle", "souffle-compiled"):
            if not self.souffle or not os.path.exists(prog("dl")) or kind.startswith("startup"):
                return None
            # Facts from the workload's CSV files (-F .). The programs print to standard output
            # only (`.printsize`, `IO=stdout`), so no -D: with `-D -` a compiled Souffle 2.5
            # program prints every tuple of a `.printsize` relation instead of its size.
            if engine == "souffle":
                return [self.souffle, "-j", "1", "-F", ".", prog("dl")]
            binary = self.souffle_binary(kind)
            return binary and [binary, "-j", "1", "-F", "."]
        if kind == "edit":
            if engine != "dq":
                return None
            with open(os.path.join(DATA, workload, "expected.json")) as f:
                edits = json.load(f)["edits"]
            count = "?- N = count : { path(X, Y) }.\n"
            rules = "path(X, Y) :- edge(X, Y).\npath(X, Z) :- path(X, Y), edge(Y, Z).\n"
            script = ".timing on\n.import edge.csv edge\n" + rules + count + "".join(e + "\n" + count for e in edits)
            return [self.dq, "--no-dataset", "--format", "tsv", *dq_limits, "-e", script]
        if kind == "startup":
            return {
                "dq": [self.dq, "--no-dataset", *dq_limits, "--format", "tsv", "-e", "?- 1 = 1."],
                "sqlite": [self.sqlite, "-batch", ":memory:", "SELECT 1;"],
                "duckdb": self.duckdb_command(sql="SELECT 1;"),
                "swipl": [self.swipl, "--no-threads", "-q", "-g", "X is 1, format('~d~n', [X])", "-t", "halt"],
                "clingo": [self.python, "-m", "clingo", "-V0", os.path.join(PROGRAMS, "startup.lp")],
            }[engine]
        return {
            # dq reads the same CSV files as SQLite and DuckDB, through `.import`.
            "dq": [self.dq, "--no-dataset", "--format", "tsv", *dq_limits, "-e",
                   "".join(f".import {r}.csv {r}\n" for r in relations) + open(prog("dq")).read()],
            # The same program computed in the server: facts loaded with COPY, strata as PL/pgSQL.
            "dq-postgres": [self.dq, "--no-dataset", "--format", "tsv", *dq_limits, "--engine", "postgres",
                            "--db", self.pg or "", "-e",
                            "".join(f".import {r}.csv {r}\n" for r in relations) + open(prog("dq")).read()],
            "postgres": [self.psql or "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.pg or "",
                         "-f", prog("postgres.sql")],
            "sqlite": [self.sqlite, "-batch", "-bail", ":memory:", "-init", prog("sqlite.sql")],
            "duckdb": self.duckdb_command(path=prog("duckdb.sql")),
            "swipl": [self.swipl, "--no-threads", *self.swipl_limits, "-q", "-g", "main", "-t", "halt",
                      *files("pl"), prog("pl")],
            "clingo": [self.python, "-m", "clingo", "-V0", *files("lp"), prog("lp")],
        }[engine]

    def souffle_binary(self, kind):
        """The program programs/KIND.dl compiled by Souffle (`souffle -j 1 -o BIN`: C++ generated and
        built with the compiler Souffle was configured with), made once, before any timed run, and
        kept in data/souffle-compiled/ for later runs while the program and the Souffle binary are
        the same. None (and the reason in souffle_compiles) when it cannot be compiled."""
        if kind in self.souffle_binaries:
            return self.souffle_binaries[kind]
        source = os.path.join(PROGRAMS, f"{kind}.dl")
        souffle = os.path.realpath(self.souffle)
        digest = hashlib.sha256()
        for part in (open(source, "rb").read(), souffle.encode(), str(os.stat(souffle).st_mtime_ns).encode()):
            digest.update(part + b"\0")
        os.makedirs(SOUFFLE_BUILDS, exist_ok=True)
        binary = os.path.join(SOUFFLE_BUILDS, kind)
        stamp = binary + ".stamp"
        try:
            with open(stamp) as f:
                old = json.load(f)
        except (OSError, ValueError):
            old = {}
        if old.get("key") == digest.hexdigest() and os.access(binary, os.X_OK):
            self.souffle_compiles[kind] = {"seconds": old.get("seconds"), "reused": True}
            self.souffle_binaries[kind] = binary
            return binary
        for stale in (binary, stamp):
            if os.path.exists(stale):
                os.remove(stale)
        log(f"   compiling {kind}.dl with Souffle (not timed)")
        start = time.perf_counter()
        try:
            proc = subprocess.run([self.souffle, "-j", "1", "-o", binary, source], cwd=SOUFFLE_BUILDS,
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1800)
            failed = None if proc.returncode == 0 and os.access(binary, os.X_OK) else (
                f"exit status {proc.returncode}: "
                + " ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])[:300])
        except (OSError, subprocess.TimeoutExpired) as e:
            failed = str(e)
        seconds = round(time.perf_counter() - start, 1)
        if failed:
            log(f"   Souffle could not compile {kind}.dl ({failed}): souffle-compiled skipped for it")
            self.souffle_compiles[kind] = {"error": failed}
            SOUFFLE_COMPILE_FAILED.add(kind)
            self.souffle_binaries[kind] = None
            return None
        log(f"   compiled {kind}.dl in {seconds} s")
        with open(stamp, "w") as f:
            json.dump({"key": digest.hexdigest(), "seconds": seconds}, f)
        self.souffle_compiles[kind] = {"seconds": seconds, "reused": False}
        self.souffle_binaries[kind] = binary
        return binary

    def souffle_compile_note(self):
        """One sentence on the compile step of souffle-compiled, for RESULTS.md."""
        parts = []
        for kind, c in sorted(self.souffle_compiles.items()):
            if "error" in c:
                parts.append(f"`{kind}.dl` failed ({c['error']})")
            else:
                took = f"{c['seconds']} s" if c.get("seconds") is not None else "time unknown"
                parts.append(f"`{kind}.dl` {took}" + (" (an earlier run's binary, reused)" if c["reused"] else ""))
        return ("each program compiled once before the timed runs with `souffle -j 1 -o BIN KIND.dl` "
                "(Souffle generates C++ and builds it); compiling is not timed"
                + (": " + ", ".join(parts) if parts else "") + ". The binary runs as `BIN -j 1 -F .`, "
                "timed as a whole process, loading the facts included")

    def duckdb_command(self, path=None, sql=None):
        if self.duckdb:
            base = [self.duckdb, "-batch", "-bail", "-noheader", "-list", "-no-init", ":memory:"]
            return base + (["-f", path] if path else ["-c", sql])
        runner = os.path.join(HERE, "duckdb_run.py")
        return [self.python, runner] + ([path] if path else ["-c", sql])

    @staticmethod
    def answer(engine, stdout):
        """(results, checksum) read from an engine's output; checksum is None when not printed."""
        if engine == "clingo":
            found = dict(re.findall(r"\b(result|checksum)\((-?\d+)\)", stdout))
            numbers = [int(found[k]) for k in ("result", "checksum") if k in found]
        elif engine.startswith("souffle"):
            # `.printsize REL` prints "REL<TAB>N"; a checksum relation output to stdout follows.
            numbers = [int(n) for n in re.findall(r"(?<![\w.])-?\d+(?![\w.])", stdout)]
        elif engine.startswith("dq") and stdout.strip() == "true":
            numbers = [1]
        else:
            numbers = [int(n) for n in re.findall(r"(?<![\w.])-?\d+(?![\w.])", stdout)]
        if not numbers:
            return None, None
        return numbers[0], (numbers[1] if len(numbers) > 1 else None)

    def versions(self):
        def first_line(cmd):
            try:
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
                text = (out.stdout or out.stderr).strip()
                return text.splitlines()[0] if text else "?"
            except Exception as e:  # noqa: BLE001
                return f"unavailable ({e})"

        commit = first_line(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "Sources", "Package.swift"],
                               capture_output=True, text=True).stdout.strip()
        duck = (first_line([self.duckdb, "-version"]) + " (CLI, PyPI package duckdb-cli)" if self.duckdb
                else first_line([self.python, "-c", "import duckdb; print('DuckDB', duckdb.__version__)"])
                + " (Python module)")
        pg = first_line([self.psql or "psql", "-X", "-A", "-t", "-d", self.pg or "", "-c", "SHOW server_version"])
        souffle_version = ""
        if self.souffle:
            # `souffle --version` prints a rule of dashes, then "Version: 2.5 (2.5)", "Word size: 32 bits".
            try:
                text = subprocess.run([self.souffle, "--version"], capture_output=True, text=True, timeout=60).stdout
            except (OSError, subprocess.TimeoutExpired) as e:
                text = f"unavailable ({e})"
            found = dict(re.findall(r"^(Version|Word size): *(.+)$", text, re.M))
            souffle_version = (f"Souffle {found['Version']}" + (", " + re.sub(r"(\d+) bits?", r"\1-bit", found["Word size"]) + " values" if "Word size" in found else "")
                               if "Version" in found else text.strip().splitlines()[0] if text.strip() else "?")
        return {
            "dq-postgres": f"the same dq, PostgreSQL {pg} (a throwaway server on a Unix socket, fsync off)",
            "postgres": f"PostgreSQL {pg} through psql, the same server",
            "dq": f"{first_line([self.dq, '--version'])}, release build of commit {commit}"
            + (" plus uncommitted changes in Sources/" if dirty else ""),
            "dq-1t": "the same dq with `--threads 1`",
            "duckdb-2t": f"the same DuckDB with `SET threads = 2`",
            "sqlite": "SQLite " + first_line([self.sqlite, "--version"]).split(" ")[0] + " (Debian sqlite3 CLI)",
            "duckdb": duck,
            "swipl": first_line([self.swipl, "--version"]) + " (Debian swi-prolog-nox)",
            "clingo": first_line([self.python, "-m", "clingo", "--version"]).replace("pyclingo", "clingo")
            + f" (PyPI package clingo, run as `python3 -m clingo`, Python {platform.python_version()})",
            "souffle": (souffle_version + f" ({self.souffle}), interpreted: `souffle -j 1 -F . KIND.dl`"
                        if self.souffle else "not installed (no `souffle` on PATH and no SOUFFLE variable)"),
            "souffle-compiled": (f"the same Souffle, {self.souffle_compile_note()}" if self.souffle
                                 else "not installed"),
        }


# ---------------------------------------------------------------------------------------------
# Running


def steal_seconds():
    """CPU time the hypervisor gave other guests while this one wanted it, all CPUs together
    (the `steal` column of /proc/stat's `cpu` line), or None where there is no such count."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK") if fields[0] == "cpu" and len(fields) > 8 else None
    except (OSError, ValueError):
        return None


def run_once(cmd, cwd, limit):
    """One measured run: dict with status ok/timeout/error, wall, rss_mib, stdout, stderr, and
    steal (seconds stolen from the machine's CPUs during the run; None if unknown)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        full = ["timeout", "-k", "5", str(limit), "/usr/bin/time", "-f", "%e %M", "-o", tf.name, *cmd]
        steal_before = steal_seconds()
        start = time.perf_counter()
        try:
            proc = subprocess.run(full, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=limit + 60)
            rc = proc.returncode
            stdout, stderr = proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as e:
            rc, stdout, stderr = 124, e.stdout or "", e.stderr or ""
        wall = time.perf_counter() - start
        steal_after = steal_seconds()
        tf.seek(0)
        timing = tf.read().strip().splitlines()
    rss = None
    if timing:
        parts = timing[-1].split()
        if len(parts) == 2 and parts[1].isdigit():
            rss = int(parts[1]) / 1024
    if rc in (124, 137) or (rc == -9):
        status = "timeout"
    elif rc != 0:
        status = "error"
    else:
        status = "ok"
    if isinstance(stdout, bytes):
        stdout = stdout.decode(errors="replace")
    if isinstance(stderr, bytes):
        stderr = stderr.decode(errors="replace")
    steal = steal_after - steal_before if steal_before is not None and steal_after is not None else None
    return {"status": status, "rc": rc, "wall": wall, "rss_mib": rss, "stdout": stdout, "stderr": stderr,
            "steal": steal}


def expected_for(workload):
    if workload.startswith("startup"):
        return {"results": 1, "description": STARTUP_DESCRIPTIONS[workload]}
    with open(os.path.join(DATA, workload, "expected.json")) as f:
        return json.load(f)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run_all(args, engines, workloads, chosen):
    results = {}
    mismatches = []
    for w in workloads:
        expected = expected_for(w)
        cwd = os.path.join(DATA, w) if not w.startswith("startup") else HERE
        log(f"== {w}: expect {expected['results']:,} results"
            + (f", checksum {expected['checksum']:,}" if "checksum" in expected else ""))
        # (Asking for each engine's command also compiles the Souffle program, before any timed run.)
        order = [e for e in chosen if engines.command(e, w) is not None]
        per = {e: [] for e in order}
        gave_up = set()
        for i in range(args.runs):
            rotated = order[i % len(order):] + order[:i % len(order)]  # alternate who goes first
            for e in rotated:
                if e in gave_up or (i >= args.peer_runs and e not in OWN_ENGINES):
                    continue
                r = run_once(engines.command(e, w), cwd, args.timeout)
                r["results"], r["checksum"] = Engines.answer(e, r["stdout"]) if r["status"] == "ok" else (None, None)
                if "counts" in expected and r["status"] == "ok":
                    # An edit workload: every count must be right; the last is the result.
                    counts = [int(n) for n in re.findall(r"^\d+$", r["stdout"], re.M)]
                    r["results"] = counts[-1] if counts == expected["counts"] else f"counts {counts}"
                    r["checksum"] = None
                    r["edit_ms"] = [float(m) for m in re.findall(r"evaluate ([0-9.]+) ms", r["stderr"])]
                per[e].append(r)
                line = f"   run {i + 1}/{args.runs} {e:16} {r['status']:7} {r['wall']:8.3f} s"
                if r["rss_mib"] is not None:
                    line += f" {r['rss_mib']:8.1f} MiB"
                if r["steal"]:
                    line += f"  steal {r['steal']:.2f} s"
                if r["status"] == "ok":
                    line += f"  results {r['results']}" + (f" checksum {r['checksum']}" if r["checksum"] is not None else "")
                log(line)
                if r["status"] == "timeout":
                    gave_up.add(e)  # another run would only time out again
                    log(f"   {e} timed out after {args.timeout} s; skipping its remaining runs of {w}")
                elif r["status"] == "error":
                    gave_up.add(e)
                    tail = "\n".join((r["stderr"] or r["stdout"]).strip().splitlines()[-5:])
                    log(f"   {e} FAILED with exit status {r['rc']}:\n      " + tail.replace("\n", "\n      "))
                elif r["results"] != expected["results"] or (
                        "checksum" in expected and r["checksum"] != expected["checksum"]):
                    msg = (f"MISMATCH on {w}: {e} returned {r['results']} results"
                           + (f" (checksum {r['checksum']})" if "checksum" in expected else "")
                           + f", expected {expected['results']}"
                           + (f" (checksum {expected['checksum']})" if "checksum" in expected else ""))
                    mismatches.append(msg)
                    log("   !!!!!!!! " + msg)
        results[w] = {"expected": expected, "runs": per}
    return results, mismatches


def dq_memory(engines, workloads):
    """Per workload, what dq's `.memory` reports after the program ran (one more, untimed run):
    the relations' tuples, bytes (rows, indexes built, a deduplication table if one is held) and
    bytes per tuple."""
    found = {}
    for w in workloads:
        cmd = engines.command("dq", w) if "dq" in ALL_ENGINES else None
        if w.startswith("startup") or cmd is None:
            continue
        cmd = cmd[:-1] + [cmd[-1] + "\n.memory\n"]
        r = run_once(cmd, os.path.join(DATA, w), TIMEOUT)
        if r["status"] != "ok":
            continue
        rows = []
        for line in r["stdout"].splitlines():
            cells = [c.strip() for c in line.strip().strip("│").split("│")]
            if len(cells) == 7 and cells[2].isdigit():
                rows.append({"relation": cells[0], "tuples": int(cells[2]), "bytes": int(cells[3]),
                             "indexes": cells[5], "facts_bytes": int(cells[6])})
        if rows:
            found[w] = rows
    return found


def load_section(results, loads, chosen):
    """Rows per second and peak memory of the load workloads, engine by engine."""
    out = ["## Loading a CSV\n",
           "`load-1m`: each engine loads the same CSV with its own loader (dq `.import`, SQLite `.import "
           "--csv` into a declared table, DuckDB `read_csv` with declared column types and `SET threads = 1`) "
           "and counts the rows; the counts must agree. Rows per second: rows / median wall time "
           "(process start-up included).\n",
           "| Workload | engine | median wall | rows/s | peak RSS |",
           "|---|---|---:|---:|---:|"]
    for w in loads:
        rows = results[w]["expected"]["results"]
        for e in chosen:
            sm = summarize(results[w]["runs"].get(e, []))
            if not sm or sm["status"] != "ok" or not sm["wall"]:
                continue
            rss = f"{sm['rss']:.0f} MiB" if sm["rss"] is not None else "?"
            out.append(f"| {w} | {ENGINE_TITLES[e]} | {fmt_time(sm['wall'])} s | {rows / sm['wall']:,.0f} | {rss} |")
    out.append("")
    return "\n".join(out)


def edit_section(results):
    """The time each count of an edit workload took (dq's `.timing`: evaluation of the query,
    which brings the closure up to date first), median over the runs."""
    out = []
    for w, data in results.items():
        exp = data["expected"]
        if "counts" not in exp:
            continue
        runs = [r for r in data["runs"].get("dq", []) if r["status"] == "ok" and len(r.get("edit_ms", [])) == len(exp["counts"])]
        if not runs:
            continue
        if not out:
            out = ["## dq after edits\n",
                   "The closure is counted, then counted again after each edit in the same process; each row is "
                   "the median over the runs of the time `.timing` reports for that count's evaluation (which "
                   "first brings `path` up to date: an insert continues semi-naive evaluation from the "
                   "computed closure; a retraction deletes and re-derives by derivation rank, touching only the "
                   "pairs whose every shortest path used the edge, or computes the closure again when that "
                   "passes a quarter of it). Since edits follow it in the script, the first evaluation "
                   "also readies `path` for them (keeps its deduplication table and builds the index by its "
                   "second column that an inserted edge is joined with), so the first edit costs what it "
                   "adds. No peer keeps a computed result "
                   "across edits (each would evaluate from scratch, as in the first row), so the workload is "
                   "dq's alone.\n",
                   "| Workload | step | count | evaluate (ms) | of the first |",
                   "|---|---|---:|---:|---:|"]
        steps = ["first evaluation"] + [f"after `{e}` ({d})" for e, d in zip(exp["edits"], exp["edit_descriptions"])]
        first = statistics.median(r["edit_ms"][0] for r in runs)
        for i, (step, count) in enumerate(zip(steps, exp["counts"])):
            ms = statistics.median(r["edit_ms"][i] for r in runs)
            out.append(f"| {w} | {step} | {count:,} | {ms:.1f} | {100 * ms / first:.1f}% |")
    if out:
        out.append("")
    return "\n".join(out)


def memory_section(memory):
    out = ["## dq memory per stored tuple\n",
           "From `.memory` after each program ran (a separate, untimed run): the bytes a relation holds "
           "at rest for its tuples (rows of 32-bit values, every index built, and a deduplication table "
           "if one is held), divided by its tuples. A relation holds its deduplication table only while "
           "it is written (a relation of facts until a lookup sorts it by its key, a derived one until "
           "its stratum is computed), so the peak resident memory above also counts those tables, the "
           "process, the input being read and each round's derived tuples before deduplication. "
           "\"sorted\": the relation's rows are sorted by that index's key, which is then a directory "
           "of where each key's rows start.\n",
           "| Workload | relation | tuples | bytes | bytes/tuple | indexes |",
           "|---|---|---:|---:|---:|---|"]
    for w, rows in memory.items():
        for r in sorted(rows, key=lambda r: -r["tuples"]):
            if r["tuples"] < 1000:
                continue
            per = r["bytes"] / r["tuples"]
            indexes = "none" if r["indexes"] == "-" else f"on {r['indexes']}"
            out.append(f"| {w} | {r['relation']} | {r['tuples']:,} | {r['bytes']:,} | {per:.1f} | {indexes} |")
    out.append("")
    return "\n".join(out)


def peak_per_tuple_section(results, chosen):
    """Bytes per result tuple at peak (peak resident memory / results) on the closures, where
    the results are nearly all the tuples held; 8 bytes a tuple is a binary relation's rows at
    rest in dq (two 32-bit values), so peak / (8 x results) is the peak's multiple of them."""
    engines = [e for e in chosen if e in ("dq", "dq-1t", "souffle", "souffle-compiled")]
    rows = []
    for w, data in results.items():
        if WORKLOADS[w][0] not in ("tc", "nltc"):
            continue
        tuples = data["expected"]["results"]
        for e in engines:
            sm = summarize(data["runs"].get(e, []))
            if sm and sm["status"] == "ok" and sm["rss"] and tuples:
                per = sm["rss"] * 1048576 / tuples
                rows.append(f"| {w} | {ENGINE_TITLES[e]} | {tuples:,} | {sm['rss']:.0f} MiB | {per:.1f} | {per / 8:.2f} |")
    if not rows:
        return ""
    return "\n".join(["## Bytes per tuple at peak (closures)\n",
                      "Peak resident memory of the whole process divided by the result tuples; \"x rows at rest\" "
                      "divides it by 8 bytes a tuple (the closure's rows in dq: two 32-bit values).\n",
                      "| Workload | engine | tuples | peak | bytes/tuple | x rows at rest |",
                      "|---|---|---:|---:|---:|---:|", *rows, ""])


# ---------------------------------------------------------------------------------------------
# Reporting


def summarize(runs):
    """(status, median wall, peak rss, results) of one engine's runs of one workload."""
    if not runs:
        return None
    oks = [r for r in runs if r["status"] == "ok"]
    if len(oks) < len(runs) or not oks:
        bad = next(r for r in runs if r["status"] != "ok")
        return {"status": bad["status"], "wall": None, "rss": bad["rss_mib"], "results": None}
    rss = [r["rss_mib"] for r in oks if r["rss_mib"] is not None]
    answers = {(r["results"], r["checksum"]) for r in oks}
    return {
        "status": "ok",
        "wall": statistics.median(r["wall"] for r in oks),
        "rss": max(rss) if rss else None,
        "results": answers.pop() if len(answers) == 1 else "varies",
        "n": len(oks),
    }


def fmt_time(s):
    return f"{s:.3f}" if s < 10 else f"{s:.2f}" if s < 100 else f"{s:.1f}"


def fmt_cell(sm, expected, workload=None, engine=None):
    if sm is None:
        if workload and (WORKLOADS[workload][0], engine) in NOT_EXPRESSIBLE:
            return "not expressible"
        if workload and engine == "souffle-compiled" and WORKLOADS[workload][0] in SOUFFLE_COMPILE_FAILED:
            return "compile failed"
        return "–"
    if sm["status"] == "timeout":
        return f"timeout (>{TIMEOUT} s)"
    if sm["status"] != "ok":
        return sm["status"]
    cell = f"{fmt_time(sm['wall'])} s / {sm['rss']:.0f} MiB" if sm["rss"] is not None else f"{fmt_time(sm['wall'])} s"
    want = (expected["results"], expected.get("checksum"))
    if sm["results"] != want:
        got = sm["results"]
        cell += f" **≠ {got[0] if isinstance(got, tuple) else got}**"
    return cell


def fmt_ratio(peer, base):
    if not peer or not base or peer["status"] != "ok" or base["status"] != "ok" or not base["wall"]:
        return "–"
    return f"{peer['wall'] / base['wall']:.2f}"


def table(results, chosen):
    peers = [e for e in chosen if e != "dq"]
    head = ["Workload", "Results"]
    if "dq" in chosen:
        head.append("dq")
    for p in peers:
        head.append(ENGINE_TITLES[p])
        if "dq" in chosen:
            head.append(f"{ENGINE_TITLES[p]}/dq")
    head.append("Counts")
    seps = ["---"] + ["---:"] * (len(head) - 2) + [":---:"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(seps) + "|"]
    for w, data in results.items():
        exp = data["expected"]
        sums = {e: summarize(data["runs"].get(e, [])) for e in chosen}
        res = f"{exp['results']:,}" + (f" (Σ {exp['checksum']:,})" if "checksum" in exp else "")
        row = [w, res]
        if "dq" in chosen:
            row.append(fmt_cell(sums["dq"], exp))
        for p in peers:
            row.append(fmt_cell(sums[p], exp, w, p))
            if "dq" in chosen:
                row.append(fmt_ratio(sums[p], sums["dq"]))
        want = (exp["results"], exp.get("checksum"))
        answered = [s for s in sums.values() if s and s["status"] == "ok"]
        if any(s["results"] != want for s in answered):
            row.append("**MISMATCH**")
        elif any(s and s["status"] != "ok" for s in sums.values()):
            row.append("ok (of those that finished)")
        else:
            row.append("ok")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def machine():
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
        except Exception:  # noqa: BLE001
            return "?"

    model = sh("lscpu | sed -n 's/^Model name: *//p' | head -1") or platform.processor() or "?"
    mem_kib = sh("sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo")
    mem = f"{int(mem_kib) / 1024 / 1024:.1f} GiB" if mem_kib.isdigit() else "?"
    os_name = sh(". /etc/os-release && echo \"$PRETTY_NAME\"")
    return f"{sh('nproc')} CPUs (`nproc`), {model}; {mem} RAM; {os_name}, Linux {platform.release()}"


def threads_section(results, chosen):
    """dq's runs on every core and on one, run by run, with the CPU time stolen meanwhile: on a
    virtual machine two threads need two host cores at once, and a wave's threads wait for the
    slower one, so stolen time slows them more than one thread."""
    if "dq" not in chosen or "dq-1t" not in chosen:
        return None
    rows = []
    for w, d in results.items():
        runs = d["runs"]
        two = [r for r in runs.get("dq", []) if r["status"] == "ok"]
        one = [r for r in runs.get("dq-1t", []) if r["status"] == "ok"]
        if len(two) < 2 or len(one) < 2 or statistics.median(r["wall"] for r in one) < 1:
            continue

        def cells(rs):
            return ", ".join(f"{r['wall']:.2f}" + (f" ({r['steal']:.2f})" if r.get("steal") is not None else "")
                             for r in rs)
        ratio = statistics.median(r["wall"] for r in one) / statistics.median(r["wall"] for r in two)
        rows.append(f"| {w} | {cells(two)} | {cells(one)} | {ratio:.2f} |")
    if not rows:
        return None
    return "\n".join([
        "## Threads, run by run\n",
        "dq on every core and on one (`--threads 1`), each run's wall time in seconds in the order run, "
        "and in parentheses the CPU time the hypervisor stole from this machine's CPUs during it "
        "(/proc/stat; 0 on bare metal): two threads need two host cores at once, and the threads of a "
        "wave wait for the slower one, so stolen time slows them more than one thread. Workloads of a "
        "second or more with two runs or more.\n",
        "| Workload | dq (every core) | dq 1 thread | 1 thread/dq (medians) |",
        "|---|---|---|---:|",
        *rows, ""])


def load_average():
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


LOAD_AT_START = load_average()


def write_results(path, args, engines, results, chosen, mismatches, started, elapsed, memory=None):
    versions = engines.versions()
    out = []
    out.append("# dq benchmark results\n")
    out.append(f"Written by `Benchmarks/run` on {started.strftime('%Y-%m-%d %H:%M UTC')}: "
               + (f"{args.runs} run{'s' if args.runs != 1 else ''} per engine and workload, "
                  if args.peer_runs == args.runs else
                  f"{args.runs} runs of dq (both columns) and {args.peer_runs} of every other engine per workload, ")
               + "engines alternating, "
               f"limit {args.timeout} s per run; the harness took {elapsed / 60:.1f} min in all. "
               "See `Benchmarks/README.md` for what each workload is.\n")
    out.append("Each cell: median wall time / peak resident memory (the largest over the runs), one process "
               "per run, loading the input included. `PEER/dq` is the peer's median time divided by dq's "
               "(above 1: dq is faster). Results: the tuple count every engine must return (for the joins, "
               "the number of groups, and Σ the sum of the per-group counts, checked too).\n")
    out.append(table(results, chosen) + "\n")
    if mismatches:
        out.append("**Count mismatches:**\n")
        out.extend(f"- {m}" for m in mismatches)
        out.append("")
    failures = []
    for w, data in results.items():
        for e, runs in data["runs"].items():
            for r in runs:
                if r["status"] == "error":
                    tail = " ".join((r["stderr"] or r["stdout"]).strip().splitlines()[-2:])[:300] or "(no output)"
                    failures.append(f"- {w}, {e}: exit status {r['rc']}: `{tail}`")
                elif r["status"] == "timeout":
                    failures.append(f"- {w}, {e}: no answer within {args.timeout} s")
    if failures:
        out.append("**Runs that did not finish:**\n")
        out.extend(failures)
        out.append("")
    loads = [w for w in results if w in LOAD_WORKLOADS]
    if loads:
        out.append(load_section(results, loads, chosen))
    edits = edit_section(results)
    if edits:
        out.append(edits)
    if memory:
        out.append(memory_section(memory))
    peaks = peak_per_tuple_section(results, chosen)
    if peaks:
        out.append(peaks)
    threads = threads_section(results, chosen)
    if threads:
        out.append(threads)
    out.append("## Engines\n")
    for e in chosen:
        out.append(f"- {ENGINE_TITLES[e]}: {versions[e]}")
    out.append("")
    out.append("Threads: dq uses every core (its default; `dq 1 thread` is `--threads 1`), DuckDB one "
               "(`SET threads = 1`; `DuckDB 2 threads` two), clingo its default (one solver thread), "
               "SWI-Prolog `--no-threads`, Souffle one (`-j 1`, interpreted, and compiled ahead of the timed runs "
               "in `Souffle compiled`); SQLite is "
               "single-threaded. \"not expressible\": SQL's `WITH RECURSIVE` takes linear recursion through one "
               "recursive table only, so it cannot state points-to or non-linear TC (SQLite rejects a second "
               "reference to the recursive table; DuckDB accepts it but reads only the last iteration's rows "
               "through both, which is not the closure).\n")
    out.append("## Machine\n")
    out.append(f"- {machine()}")
    out.append(f"- date: {started.strftime('%Y-%m-%d %H:%M:%S UTC')}")
    out.append(f"- load average (1 min) at the start and at the end: {LOAD_AT_START} and {load_average()} "
               "(other work on the machine slows the runs down and makes them vary)\n")
    out.append("## Workloads\n")
    for w in results:
        exp = results[w]["expected"]
        out.append(f"- `{w}`: {exp['description']}")
    out.append("")
    with open(path, "w") as f:
        f.write("\n".join(out))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--peer-runs", type=int, help="runs of the engines other than dq and dq-1t (default: --runs)")
    p.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    p.add_argument("--slow", action="store_true", help=f"also the slow workloads ({', '.join(sorted(SLOW))})")
    p.add_argument("--workloads", help="comma-separated workloads (default: all)")
    p.add_argument("--engines", default=",".join(ALL_ENGINES), help="comma-separated engines")
    p.add_argument("--timeout", type=int, default=300, help="seconds per engine run")
    p.add_argument("--dq", default=os.path.join(ROOT, ".build-bench", "release", "dq"))
    p.add_argument("--duckdb", help="DuckDB CLI binary (default: the Python module via duckdb_run.py)")
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--output", default=os.path.join(HERE, "RESULTS.md"))
    args = p.parse_args()

    workloads = args.workloads.split(",") if args.workloads else (
        QUICK if args.quick else [w for w in WORKLOADS if args.slow or w not in SLOW])
    chosen = [e for e in ALL_ENGINES if e in args.engines.split(",")]
    bad = [w for w in workloads if w not in WORKLOADS] + [e for e in args.engines.split(",") if e not in ALL_ENGINES]
    if bad:
        sys.exit(f"bench.py: unknown workload or engine: {', '.join(bad)}")
    if args.runs < 1:
        sys.exit("bench.py: --runs must be at least 1")
    args.peer_runs = min(args.runs, args.peer_runs or args.runs)
    if args.peer_runs < 1:
        sys.exit("bench.py: --peer-runs must be at least 1")

    global TIMEOUT
    TIMEOUT = args.timeout
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.perf_counter()
    engines = Engines(args)
    for w in workloads:
        if not w.startswith("startup"):
            info, made = generate.generate(w)
            if made:
                log(f"generated {w} in {info['generated_in_s']} s: {info['results']:,} results expected")
    if os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        log(f"note: the machine is busy (load average {LOAD_AT_START} on {os.cpu_count()} CPUs); "
            "times will be slower and vary more than on an idle machine")
    souffles = [e for e in chosen if e.startswith("souffle")]
    if souffles and not engines.souffle:
        log(f"Souffle: not found (no `souffle` on PATH, no SOUFFLE variable): {' and '.join(souffles)} skipped. "
            "It builds from its source with cmake (about 11 minutes on two cores; see Benchmarks/README.md); "
            "then put it on PATH or set SOUFFLE.")
        chosen = [e for e in chosen if e not in souffles]
    results, mismatches = run_all(args, engines, workloads, chosen)
    elapsed = time.perf_counter() - t0 + float(os.environ.get("BENCH_SETUP_SECONDS", "0"))
    memory = dq_memory(engines, workloads) if "dq" in chosen else {}
    write_results(args.output, args, engines, results, chosen, mismatches, started, elapsed, memory)
    with open(os.path.join(DATA, "last-run.json"), "w") as f:
        json.dump({w: {e: [{k: v for k, v in r.items() if k not in ("stdout", "stderr")} for r in runs]
                       for e, runs in d["runs"].items()} for w, d in results.items()}, f, indent=1)
    print(table(results, chosen))
    print(f"\nwrote {os.path.relpath(args.output)}; bench took {(time.perf_counter() - t0) / 60:.1f} min")
    if mismatches:
        print("\n!!! COUNT MISMATCHES:\n" + "\n".join("  " + m for m in mismatches), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
