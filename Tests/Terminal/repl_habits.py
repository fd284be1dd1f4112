#!/usr/bin/env python3
"""Habits from other shells, in a real pseudo-terminal (issue 13), with a fresh HOME.

Checks: `.shell tty` runs the command on dq's terminal (its standard input is the terminal);
`halt.` warns that it does not quit and says how; psql's `\\q` leaves with status 0.
Usage: repl_habits.py PATH_TO_DQ   (exit status 0 when every check passes)
"""
import os, pty, re, select, sys, tempfile, time
from ptyharness import check, failures, plain, read_until, wait_exit

DQ = sys.argv[1]


def spawn(history, home):
    env = dict(os.environ, DQ_HISTORY=history, HOME=home, TERM="xterm", NO_COLOR="1")
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(DQ, [DQ], env)
    return pid, fd


with tempfile.TemporaryDirectory() as tmp:
    pid, fd = spawn(os.path.join(tmp, "history"), tmp)
    out = read_until(fd, "dq> ")
    check("welcome and prompt", "dq> " in out, out)

    os.write(fd, b".shell tty\r")
    out = read_until(fd, "/dev/", 10)
    check(".shell gives the command the terminal", "/dev/pts/" in out or "/dev/tty" in out, out)
    read_until(fd, "dq> ", 5)

    os.write(fd, b"halt.\r")
    out = read_until(fd, "Ctrl-D", 10)
    check("halt. says how to quit", "does not quit dq" in out and "type .quit" in out, out)
    read_until(fd, "dq> ", 5)

    os.write(fd, b"\\q\r")
    code = wait_exit(pid)
    check("\\q exits with status 0", code == 0, f"exit {code}")
    os.close(fd)

print(f"{len(failures)} failed" if failures else "all habit checks passed")
sys.exit(1 if failures else 0)
