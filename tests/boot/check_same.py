#!/usr/bin/env python3
"""check_same.py - determinism: run one `nestlab run --stats` command twice
and require identical stdout, exit status and number of instructions
retired (virtual time advances with retired instructions only, so timer
interrupts land on the same instruction in every run).

  check_same.py -- NESTLAB run --stats ARGS...
"""
import re
import subprocess
import sys


def once(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    err = r.stderr.decode("utf-8", "replace")
    m = re.search(r"(\d+) instructions retired", err)
    return r.returncode, r.stdout, m.group(1) if m else None, err


def main():
    cmd = sys.argv[sys.argv.index("--") + 1:]
    print("$ " + " ".join(cmd) + "   (twice)")
    a, b = once(cmd), once(cmd)
    print(f"run 1: status {a[0]}, {a[2]} instructions; run 2: status {b[0]}, {b[2]} instructions")
    if a[2] is None:
        print("FAIL: no instruction count on stderr (--stats missing?)\n" + a[3])
        return 1
    if a[:3] != b[:3]:
        print("FAIL: the two runs differ")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
