#!/usr/bin/env python3
"""Output that fits a person, checked in a real pseudo-terminal 60 columns wide.

Checks: a wide dataset row (`event/7`) is fitted to the terminal, long cells cut with `…`; the
shell shows a screenful of rows and says how many more there are; `.maxrows 3` shows three;
`.format line` prints one `column = value` line per cell; `.width 0` never cuts; the same query
written to a pipe (`dq -e`) is not cut.
Usage: repl_output.py PATH_TO_DQ   (exit status 0 when every check passes)
"""
import fcntl, os, pty, re, select, struct, subprocess, sys, tempfile, termios, time
from ptyharness import check, end_with_ctrl_d, failures, plain, read_until

DQ = sys.argv[1]
WIDTH = 60


def table_lines(text):
    return [l for l in text.split("\n") if l[:1] in ("┌", "│", "├", "└")]


with tempfile.TemporaryDirectory() as home:
    env = dict(os.environ, HOME=home, DQ_HISTORY="", TERM="xterm", NO_COLOR="1")
    env.pop("COLUMNS", None)
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(DQ, [DQ], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, WIDTH, 0, 0))
    read_until(fd, "dq> ")

    def ask(line, needle):
        os.write(fd, (line + "\r").encode())
        return read_until(fd, needle)

    out = ask("?- event(E, A, B, C, P, F, L).", "30 rows")
    lines = table_lines(out)
    check("a wide row is fitted to the terminal",
          lines and all(len(l) <= WIDTH for l in lines) and any("…" in l for l in lines), out)
    out = ask(".maxrows 3", "dq> ") and ask("?- event(E, A, B, C, P, F, L).", "30 rows")
    check(".maxrows 3 shows three rows and says how many more",
          "… 27 more rows (use .maxrows 0 or .output FILE)" in out and len(table_lines(out)) == 3 + 4, out)
    out = ask(".maxrows", "\n3\n")
    check(".maxrows with no argument shows the setting", "\n3\n" in out, out)
    ask(".format line", "dq> ")
    out = ask("?- event(e001, A, B, C, P, F, L).", "L = ")
    out += read_until(fd, "dq> ")
    check(".format line prints one column = value per line", "A = russia" in out and "F = 2014-01-01" in out, out)
    ask(".format table", "dq> ")
    ask(".width 0", "dq> ")
    ask(".maxrows 0", "dq> ")
    out = ask("?- event(E, A, B, C, P, F, L).", "30 rows")
    check(".width 0 never cuts", "…" not in out and "coup_suspects" in out, out)
    # Ctrl-D ends the shell. The commands above are typed as soon as an answer's last line shows,
    # before its prompt, so under load a line can still hold typed-ahead text: Ctrl-U clears it
    # first (Ctrl-D on a non-empty line deletes a character).
    if "dq> " not in out.split("30 rows", 1)[-1]:
        read_until(fd, "dq> ")
    code = end_with_ctrl_d(pid, fd, clear_line=True)
    check("Ctrl-D ends the shell", code == 0, f"exit {code} (None: did not exit within 30 s)")

piped = subprocess.run([DQ, "-e", "?- event(E, A, B, C, P, F, L)."], capture_output=True, text=True, env=env)
check("a pipe gets the whole rows", "…" not in piped.stdout and "coup_suspects" in piped.stdout, piped.stdout[-500:])

sys.exit(1 if failures else 0)
