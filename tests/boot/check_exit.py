#!/usr/bin/env python3
"""check_exit.py - run a nestlab command and check its exit status and the
message it leaves on stderr (the documented statuses of `nestlab run`).

  check_exit.py STATUS REGEX [--stdout RX]... [--stdin-file F] -- COMMAND...

Passes when COMMAND exits with STATUS, some stderr line matches REGEX and,
for each --stdout RX, some stdout line matches RX.
"""
import re
import subprocess
import sys


def main():
    status, rx = int(sys.argv[1]), sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    print("$ " + " ".join(cmd))
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    out = r.stdout.decode("utf-8", "replace")
    err = r.stderr.decode("utf-8", "replace")
    sys.stdout.write(out + ("--- stderr ---\n" + err if err else ""))
    errors = []
    if r.returncode != status:
        errors.append(f"exit status {r.returncode}, expected {status}")
    if not re.search(rx, err):
        errors.append(f"no stderr line matches {rx!r}")
    opts = sys.argv[3:sys.argv.index("--")]
    for k, a in enumerate(opts[:-1]):
        if a == "--stdout" and not re.search(opts[k + 1], out, re.M):
            errors.append(f"no stdout line matches {opts[k + 1]!r}")
    if errors:
        print("FAIL: " + "; ".join(errors))
        return 1
    print(f"PASS (exit status {r.returncode})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
