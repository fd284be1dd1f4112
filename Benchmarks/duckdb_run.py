#!/usr/bin/env python3
"""Fallback DuckDB runner when the DuckDB CLI (PyPI package duckdb-cli) is not installed.

    python3 duckdb_run.py FILE.sql      run the statements of FILE.sql
    python3 duckdb_run.py -c SQL        run SQL

Prints the last statement's rows as the CLI does in -list -noheader mode (columns joined by |).
"""
import sys

import duckdb

sql = sys.argv[2] if sys.argv[1] == "-c" else open(sys.argv[1]).read()
con = duckdb.connect(":memory:")
rows = con.execute(sql).fetchall()
for row in rows:
    print("|".join(str(v) for v in row))
