#!/usr/bin/env python3
"""Drives the dq REPL in a real pseudo-terminal, as a person would.

Checks: Tab completes a relation and a constant; a query answers; Ctrl-C stops a runaway
recursive query and the next query still answers; Ctrl-D exits with status 0 leaving the
terminal in canonical, echoing mode; Up recalls an entry from the previous session's history;
a Ctrl-D typed while dq answers does not swallow the next Ctrl-D.
Usage: repl_pty.py PATH_TO_DQ   (exit status 0 when every check passes)
"""
import os, pty, re, select, sys, tempfile, termios, time
from ptyharness import check, end_with_ctrl_d, failures, plain, read_until, wait_exit

DQ = sys.argv[1]


def spawn(history):
    env = dict(os.environ, DQ_HISTORY=history, DQRC="", TERM="xterm", NO_COLOR="1")
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(DQ, [DQ], env)
    return pid, fd


with tempfile.TemporaryDirectory() as tmp:
    history = os.path.join(tmp, "history")

    pid, fd = spawn(history)
    out = read_until(fd, "dq> ")
    check("welcome and prompt", "dq> " in out and "built-in dataset" in out, out)

    time.sleep(0.3)
    os.write(fd, b"?- met")
    out = read_until(fd, "?- met", 10)
    os.write(fd, b"\t")
    out += read_until(fd, "(", 10)
    check("Tab completes a relation name with its '('", "met(" in out, out)

    os.write(fd, b"erdo")
    out = read_until(fd, "erdo", 10)
    os.write(fd, b"\t")
    out += read_until(fd, "gan", 10)
    check("Tab completes a constant of the column", "erdogan" in out, out)

    os.write(fd, b", W, P, _, _).\r")
    out = read_until(fd, "st_petersburg")
    check("the completed query answers", "st_petersburg" in out, out)
    read_until(fd, "dq> ", 10)

    os.write(fd, b"n(0). n(Y) :- n(X), Y = X + 1.\r")
    read_until(fd, "dq> ", 10)
    os.write(fd, b"?- n(-1).\r")
    read_until(fd, "?- n(-1).", 10)
    time.sleep(1.0)
    start = time.time()
    os.write(fd, b"\x03")
    out = read_until(fd, "dq> ", 10)
    elapsed = time.time() - start
    # A fraction of a second on an idle machine; the bound leaves room for a loaded CI machine.
    print(f"     (Ctrl-C answered in {elapsed:.3f} s)")
    check("Ctrl-C stops a long recursive query", "Interrupted" in out and elapsed < 5.0, f"{elapsed:.2f}s\n{out}")

    os.write(fd, b"?- met(abe, W, _, _, _).\r")
    out = read_until(fd, "putin")
    check("the next query still answers", "putin" in out, out)
    if "dq> " not in out.split("putin", 1)[-1]:
        read_until(fd, "dq> ", 10)
    time.sleep(0.3)  # a person sees the prompt before pressing Ctrl-D

    code = end_with_ctrl_d(pid, fd)
    check("Ctrl-D exits with status 0", code == 0, f"exit {code}")
    try:
        attrs = termios.tcgetattr(fd)
        lflag = attrs[3]
        check("the terminal is left canonical and echoing", bool(lflag & termios.ICANON) and bool(lflag & termios.ECHO), str(lflag))
    except termios.error as e:
        check("the terminal is left canonical and echoing", False, str(e))
    os.close(fd)

    pid, fd = spawn(history)
    read_until(fd, "dq> ")
    os.write(fd, b"\x1b[A")
    out = read_until(fd, "met(abe", 10)
    check("Up recalls the previous session's last entry", "?- met(abe, W, _, _, _)." in out, out)
    end_with_ctrl_d(pid, fd, clear_line=True)
    os.close(fd)

    # Ctrl-D pressed while dq is still answering reaches the terminal in its cooked mode, and
    # libedit reads it at the next prompt as a NUL; that NUL must not swallow the key after it,
    # so one Ctrl-D at the prompt then ends dq.
    pid, fd = spawn("")
    read_until(fd, "dq> ")
    os.write(fd, b"n(0). n(Y) :- n(X), X < 1500000, Y = X + 1.\r")
    read_until(fd, "dq> ", 10)
    os.write(fd, b"?- C = count : { n(X) }.\r")
    time.sleep(0.5)
    os.write(fd, b"\x04")
    out = read_until(fd, "dq> ", 60)
    answered = "1500001" in out
    time.sleep(0.3)
    os.write(fd, b"\x04")
    code = wait_exit(pid, 10)
    check("a Ctrl-D typed while dq answers does not swallow the next one",
          answered and code == 0, f"answered {answered}, exit {code}: {out[-300:]}")
    os.close(fd)

print(f"{len(failures)} failed" if failures else "all terminal checks passed")
sys.exit(1 if failures else 0)
