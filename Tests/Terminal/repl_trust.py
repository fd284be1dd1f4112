#!/usr/bin/env python3
"""Drives the dq REPL in a real pseudo-terminal to check it loses nothing (issue #11).

Checks: with no locale set, a typed non-ASCII string reaches the query intact; Ctrl-C stops
the printing of a long answer and the prompt comes back; two shells open at once both keep
their history entries, in a file libedit reads back; a history file that is not history is
moved to <file>.bad, not overwritten; .edit edits the entry before it.
Usage: repl_trust.py PATH_TO_DQ   (exit status 0 when every check passes)
"""
import os, pty, re, select, sys, tempfile, time
from ptyharness import check, end_with_ctrl_d, failures, plain, read_until, wait_exit

DQ = sys.argv[1]


def spawn(history, locale=True, extra=None):
    env = dict(os.environ, DQ_HISTORY=history, DQRC="", TERM="xterm", NO_COLOR="1", DQ_TUTORIAL="")
    if not locale:
        for k in ("LANG", "LC_ALL", "LC_CTYPE", "LANGUAGE"):
            env.pop(k, None)
    env.update(extra or {})
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(DQ, [DQ, "--no-dataset"], env)
    return pid, fd


def enter(fd, text, wait="dq> "):
    os.write(fd, text.encode() + b"\r")
    return read_until(fd, wait)


def quit(pid, fd):
    time.sleep(0.2)
    code = end_with_ctrl_d(pid, fd)
    os.close(fd)
    return code


with tempfile.TemporaryDirectory() as tmp:
    history = os.path.join(tmp, "history")

    # 1. No locale: the non-ASCII letters typed reach the query.
    pid, fd = spawn(history, locale=False)
    read_until(fd, "dq> ")
    out = enter(fd, '?- X = "Erdoğan".', "row")
    check("with no locale set, typed non-ASCII text is kept", "│ Erdoğan │" in out, out)
    quit(pid, fd)

    # 2. Ctrl-C while a long answer prints.
    pid, fd = spawn(history)
    read_until(fd, "dq> ")
    enter(fd, ".format tsv")
    enter(fd, "d(0). d(1). d(2). d(3). d(4). d(5). d(6). d(7). d(8). d(9).")
    os.write(fd, b"?- d(A), d(B), d(C), d(D), d(E), d(F).\r")
    read_until(fd, "0\t0\t0\t0\t1\t0", 60)
    start = time.time()
    os.write(fd, b"\x03")
    out = read_until(fd, "dq> ", 30)
    elapsed = time.time() - start
    print(f"     (printing stopped {elapsed:.3f} s after Ctrl-C)")
    check("Ctrl-C stops printing a long answer", "Interrupted" in out and "9\t9\t9\t9\t9\t9" not in out
          and elapsed < 3.0, f"{elapsed:.2f}s\n{out[-500:]}")
    out = enter(fd, "?- X = 41 + 1.", "42")
    check("the shell answers after an interrupted print", "42" in out, out)
    quit(pid, fd)

    # 3. Two shells at once: both keep their entries.
    a, fa = spawn(history)
    b, fb = spawn(history)
    read_until(fa, "dq> ")
    read_until(fb, "dq> ")
    enter(fa, "?- X = 1.")
    enter(fb, "?- X = 2.")
    enter(fa, "?- X = 3.")
    quit(a, fa)
    quit(b, fb)
    with open(history, "rb") as f:
        text = f.read().decode()
    lines = text.split("\n")
    check("the history file starts with libedit's header", lines[0] == "_HiStOrY_V2_", text)
    wanted = ["?-\\040X\\040=\\0401.", "?-\\040X\\040=\\0402.", "?-\\040X\\040=\\0403."]
    positions = [lines.index(w) if w in lines else -1 for w in wanted]
    check("two shells open at once both keep their entries, in order", -1 not in positions and positions == sorted(positions), text)

    pid, fd = spawn(history)
    read_until(fd, "dq> ")
    os.write(fd, b"\x1b[A")
    time.sleep(0.2)
    os.write(fd, b"\x1b[A")
    time.sleep(0.2)
    out = enter(fd, "", "row")
    check("libedit reads the appended history back (Up, Up, Enter)", "│ 2 │" in out, out)
    quit(pid, fd)

    # 4. A history file that is not history is moved aside, not overwritten.
    garbage = os.path.join(tmp, "garbage")
    with open(garbage, "w") as f:
        f.write("precious notes\nnot a history file\n")
    pid, fd = spawn(garbage)
    out = read_until(fd, "dq> ")
    check("a file that is not history is moved to .bad and said so", "moved it to " + garbage + ".bad" in out, out)
    enter(fd, "?- X = 5.")
    quit(pid, fd)
    def contents(path):
        try:
            with open(path) as f:
                return f.read()
        except OSError as e:
            return str(e)
    moved = contents(garbage + ".bad")
    check("the moved file keeps its contents", moved == "precious notes\nnot a history file\n", moved)
    started = contents(garbage)
    check("a new history file is started", started.startswith("_HiStOrY_V2_\n?-\\040X\\040=\\0405."), started)

    # 5. .edit edits the entry before it, and runs what the editor saved.
    editor = os.path.join(tmp, "editor.sh")
    with open(editor, "w") as f:
        f.write("#!/bin/sh\ncp \"$1\" " + os.path.join(tmp, "seen.txt") + "\nsed -i 's/7/8/' \"$1\"\n")
    os.chmod(editor, 0o755)
    pid, fd = spawn(os.path.join(tmp, "h2"), extra={"VISUAL": editor})
    read_until(fd, "dq> ")
    enter(fd, "?- X = 7.")
    out = enter(fd, ".edit", "row")
    with open(os.path.join(tmp, "seen.txt")) as f:
        seen = f.read()
    check(".edit opens the editor on the previous entry", seen == "?- X = 7.\n", seen)
    check(".edit runs the edited entry", "│ 8 │" in out, out)
    code = quit(pid, fd)
    check("Ctrl-D exits with status 0", code == 0, f"exit {code}")

print(f"{len(failures)} failed" if failures else "all terminal checks passed")
sys.exit(1 if failures else 0)
