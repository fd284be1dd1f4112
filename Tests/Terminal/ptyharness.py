"""What every pseudo-terminal test of the dq REPL shares: reading the screen until some text
shows, plain text without terminal control sequences, recording checks, waiting for dq to exit.

The scripts beside this one import it (Python puts a script's own folder on the module path).
"""
import os, re, select, time

failures = []


def plain(raw):
    """The text with terminal control sequences (cursor moves, colours) removed."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\x07|\r", "", raw.decode(errors="replace"))


def read_until(fd, needle, timeout=30.0):
    """Reads until `needle` appears in the output; returns everything read, as plain text."""
    out = b""
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if needle in plain(out):
                return plain(out)
    return plain(out)


def check(name, ok, detail=""):
    """Prints the check's outcome; a failure is remembered for the exit status."""
    print(("ok   " if ok else "FAIL ") + name)
    if not ok:
        failures.append(name)
        print("     " + detail.replace("\n", "\n     ")[-1500:])


def end_with_ctrl_d(pid, fd, clear_line=False, timeout=30.0):
    """Presses Ctrl-D (after Ctrl-U when `clear_line`) and returns dq's exit status, or None when
    it had not exited after `timeout` seconds (it is killed).

    A Ctrl-D that reaches the terminal while dq is still answering, in the terminal's cooked mode,
    becomes an empty end-of-file mark that the line editor later reads as a NUL character, not as
    Ctrl-D; so under load one press can be lost, and Ctrl-D is pressed again every 2 s (at the
    prompt, on an empty line, one press ends dq). The output is drained meanwhile.
    """
    os.write(fd, (b"\x15" if clear_line else b"") + b"\x04")
    end = time.time() + timeout
    again = time.time() + 2
    while time.time() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        read_until(fd, "\x00", timeout=0.1)
        if time.time() > again:
            try:
                os.write(fd, b"\x04")
            except OSError:
                pass
            again = time.time() + 2
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return None


def wait_exit(pid, timeout=30.0):
    """dq's exit status, or None when it had not exited after `timeout` seconds (it is killed)."""
    end = time.time() + timeout
    while time.time() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return None
