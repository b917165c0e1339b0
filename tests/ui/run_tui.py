#!/usr/bin/env python3
"""run_tui.py - drive the `nestlab step` TUI in a real terminal (tmux) and
check what a user sees after each key.

  run_tui.py --nestlab PATH --size 80x24|160x50|60x15 [--no-color]

The script (below, per size) sends keys with `tmux send-keys` and reads the
screen with `tmux capture-pane`; each step waits (up to a timeout) until
every expected text is on the screen.  At the end `q` must end the program.
Exit 0 on success, 1 on failure (printing the screen), 77 (ctest
SKIP_RETURN_CODE) when tmux is not installed or nestlab has no TUI.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

SESSION = "nestlab-tui-%d" % os.getpid()
SOCKET = SESSION                           # a tmux server of our own, no user config


def tmux(*args, check=True):
    return subprocess.run(["tmux", "-L", SOCKET, "-f", "/dev/null", *args],
                          capture_output=True, text=True, check=check)


def screen():
    return tmux("capture-pane", "-p", "-t", SESSION).stdout


def alive():
    return tmux("has-session", "-t", SESSION, check=False).returncode == 0


def expect(texts, timeout=120.0, absent=()):
    end = time.time() + timeout
    while time.time() < end:
        s = screen() if alive() else ""
        if all(t in s for t in texts) and not any(a in s for a in absent):
            return s
        time.sleep(0.3)
    print(screen() if alive() else "(the program is gone)")
    print("FAIL: waited for %r%s" % (texts, " without %r" % (absent,) if absent else ""))
    sys.exit(1)


def keys(*k):
    tmux("send-keys", "-t", SESSION, *k)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nestlab", required=True)
    ap.add_argument("--size", default="80x24")
    ap.add_argument("--no-color", action="store_true")
    a = ap.parse_args()
    if not shutil.which("tmux"):
        print("SKIP: tmux is not installed (scripts/deps.sh installs it)")
        return 77
    w, h = a.size.split("x")
    env = "NO_COLOR=1 " if a.no_color else ""
    cmd = "%sTERM=xterm-256color %s step --tui; echo TUI-EXIT=$?; sleep 30" % (env, a.nestlab)
    tmux("new-session", "-d", "-s", SESSION, "-x", w, "-y", h, cmd)
    try:
        if int(w) < 80 or int(h) < 24:
            expect(["it needs 80x24 at least"])
            keys("s")                      # ignored while too small
            expect(["it needs 80x24 at least"])
            keys("q")
        else:
            run(int(w), int(h), a.no_color)
        expect(["TUI-EXIT=0"])             # q ended nestlab, with status 0
    finally:
        tmux("kill-server", check=False)
    print("ok: TUI at %s" % a.size)
    return 0


def colours():
    """Does the screen use colours (SGR 30-38, 40-48; 39/49 are the defaults)?"""
    import re
    s = tmux("capture-pane", "-p", "-e", "-t", SESSION).stdout
    return re.search(r"\x1b\[[0-9;]*(3[0-8]|4[0-8])(;[0-9]+)*m", s) is not None


def run(w, h, no_color):
    s = expect(["world: nesthv (host, ring 0)   icount 0", "=> 0x100048", "event log",
                "(nestlab)"])
    if "no TUI" in s:
        print("SKIP: nestlab built without ncurses")
        sys.exit(77)
    keys("s")
    expect(["icount 1", "(nestlab) stepi", "=> 0x100049"])
    end = time.time() + 10             # a capture may catch a screen half drawn
    while colours() == no_color and time.time() < end:
        time.sleep(0.3)
    if colours() == no_color:
        print(tmux("capture-pane", "-p", "-e", "-t", SESSION).stdout)
        print("FAIL: colours %s with%s NO_COLOR" % ("used" if no_color else "missing",
                                                    "" if no_color else "out"))
        sys.exit(1)
    keys("?")
    expect(["help", "until EVENT [FILTER]"])
    keys(":", "until hypercall", "Enter")
    expect(["hypercall console_write (0) at guest:pv_console_write",
            "=> 0xffffffff8", "<trap_0x82>"])
    keys("n")
    expect(["(nestlab) nexti", "<trap_0x82+0x2>"])
    keys("e")
    expect(["return from hypercall console_write", "world: guest kernel (PV, ring 3 under nesthv)"])
    keys("Tab")                            # output -> serial
    expect(["serial   (Tab:", "nesthv:"])
    keys(":", "frobnicate", "Enter")
    expect(["error: unknown command 'frobnicate' (try help)"])
    keys(":", "break guest:kmain", "Enter")
    expect(["breakpoint 1 at 0x"])
    if h >= 50:
        # the big terminal shows every register and the wide register pane
        expect(["r15 ", "cr3 ", "efer "])
    keys("q")


if __name__ == "__main__":
    sys.exit(main())
