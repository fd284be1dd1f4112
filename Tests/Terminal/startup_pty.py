#!/usr/bin/env python3
"""Starts dq as a new user would, in a real pseudo-terminal with a fresh HOME.

Checks: `dq -i FILE` on a terminal prints the welcome, runs ~/.dqrc (its settings hold; an error
in it is shown with the file's line and column) and the file (which starts with a `#!` line),
then prompts with the file's state; after the file is edited, `.reload` replaces its clauses;
`.unload` removes them; Ctrl-D exits with status 0.
Usage: startup_pty.py PATH_TO_DQ   (exit status 0 when every check passes)
"""
import os, pty, re, select, sys, tempfile, time
from ptyharness import check, end_with_ctrl_d, failures, plain, read_until, wait_exit

DQ = os.path.abspath(sys.argv[1])


with tempfile.TemporaryDirectory() as home:
    with open(os.path.join(home, ".dqrc"), "w") as f:
        f.write("% my settings\n.format tsv\n.frobnicate\n")
    family = os.path.join(home, "family.dq")
    with open(family, "w") as f:
        f.write("#!/usr/bin/env dq\nparent(alice, bob).\nparent(bob, carol).\nancestor(X, Y) :- parent(X, Y).\n")
    env = {"HOME": home, "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm", "NO_COLOR": "1",
           "DQ_TUTORIAL": ""}
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(home)
        os.execve(DQ, [DQ, "--no-dataset", "-i", "family.dq"], env)

    out = read_until(fd, "dq> ")
    check("welcome, then the prompt", "dq> " in out and "Type .help" in out, out)
    check("an error in ~/.dqrc has the file's line and column",
          f"{home}/.dqrc:3:1: error: Unknown command '.frobnicate'" in out, out)

    time.sleep(0.3)
    os.write(fd, b"?- ancestor(alice, X).\r")
    out = read_until(fd, "dq> ", 10)
    check("the file's rules answer, in the format ~/.dqrc chose", "X\nbob\n" in out, out)

    with open(family, "w") as f:
        f.write("#!/usr/bin/env dq\nparent(alice, bob).\nparent(bob, carol).\n"
                "ancestor(X, Y) :- parent(X, Y).\nancestor(X, Z) :- parent(X, Y), ancestor(Y, Z).\n")
    time.sleep(0.2)
    os.write(fd, b".reload\r")
    out = read_until(fd, "dq> ", 10)
    check(".reload says what it reloaded", "Reloaded family.dq." in out, out)
    os.write(fd, b"?- ancestor(alice, X).\r")
    out = read_until(fd, "dq> ", 10)
    check("the edited rules replace the old ones", "X\nbob\ncarol\n" in out, out)
    os.write(fd, b".rules\r")
    out = read_until(fd, "dq> ", 10)
    check(".rules lists them once, as dq source",
          out.count("ancestor(X, Y) :- parent(X, Y).") == 1 and "% family.dq" in out, out)
    os.write(fd, b".unload family.dq\r")
    read_until(fd, "dq> ", 10)
    os.write(fd, b"?- parent(X, Y).\r")
    out = read_until(fd, "dq> ", 10)
    check(".unload takes the file's facts out", "X\tY\n" in out and "alice" not in out.split("X\tY", 1)[-1], out)

    time.sleep(0.3)
    code = end_with_ctrl_d(pid, fd)
    check("Ctrl-D exits with status 0", code == 0, f"exit {code}")
    os.close(fd)

print(f"{len(failures)} failed" if failures else "all start-up checks passed")
sys.exit(1 if failures else 0)
