#!/usr/bin/env python3
"""Ctrl-C in the dq REPL while `--engine postgres` computes a query in the server.

Checks: Ctrl-C stops a runaway recursive query computed in the server and dq says
"Interrupted", as the native engine does; the server is no longer running the statement; the
next query (on the same connection) answers; Ctrl-D exits with status 0.
Usage: repl_postgres_pty.py PATH_TO_DQ CONNINFO   (exit status 0 when every check passes)
"""
import os, pty, subprocess, sys, time
from ptyharness import check, end_with_ctrl_d, failures, read_until

DQ, CONNINFO = sys.argv[1], sys.argv[2]
APP = f"dqpty{os.getpid()}"
PSQL = next((p for p in ["/usr/bin/psql"] + [f"/usr/lib/postgresql/{v}/bin/psql" for v in sorted(os.listdir("/usr/lib/postgresql"))]
             if os.access(p, os.X_OK)), "psql")


def active():
    """How many statements the REPL's connection is running in the server."""
    sql = f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{APP}' AND state = 'active'"
    r = subprocess.run([PSQL, "-X", "-A", "-t", "-d", CONNINFO, "-c", sql], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "psql failed: " + r.stderr


env = dict(os.environ, DQ_HISTORY=os.devnull, DQRC="", TERM="xterm", NO_COLOR="1")
pid, fd = pty.fork()
if pid == 0:
    os.execve(DQ, [DQ, "--no-dataset", "--engine", "postgres", "--db", f"{CONNINFO} application_name={APP}"], env)

out = read_until(fd, "dq> ")
check("prompt", "dq> " in out, out)
os.write(fd, b"n(0). n(Y) :- n(X), Y = X + 1.\r")
read_until(fd, "dq> ", 10)
os.write(fd, b"?- n(-1).\r")
read_until(fd, "?- n(-1).", 10)
# Wait until the server is computing it.
end = time.time() + 20
while time.time() < end and active() != "1":
    time.sleep(0.2)
check("the query runs in the server", active() == "1", active())
start = time.time()
os.write(fd, b"\x03")
out = read_until(fd, "dq> ", 10)
elapsed = time.time() - start
print(f"     (Ctrl-C answered in {elapsed:.3f} s)")
check("Ctrl-C stops the server's query; dq says Interrupted", "Interrupted" in out and elapsed < 5.0, f"{elapsed:.2f}s\n{out}")
check("the server no longer runs it", active() == "0", active())

os.write(fd, b"m(7). m(8). ?- m(X), Y = X + 1.\r")
out = read_until(fd, "rows", 30)
check("the next query answers", "│ 7 │ 8 │" in out and "2 rows" in out, out)
out = read_until(fd, "dq> ", 10)
time.sleep(0.3)
code = end_with_ctrl_d(pid, fd)
check("Ctrl-D exits with status 0", code == 0, f"exit {code}")
os.close(fd)
sys.exit(1 if failures else 0)
