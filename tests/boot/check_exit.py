#!/usr/bin/env python3
"""check_exit.py - run a nestlab command and check its exit status and the
message it leaves on stderr (the documented statuses of `nestlab run`).

  check_exit.py STATUS REGEX [--stdin-file F] -- COMMAND...

Passes when COMMAND exits with STATUS and some stderr line matches REGEX.
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
    if errors:
        print("FAIL: " + "; ".join(errors))
        return 1
    print(f"PASS (exit status {r.returncode})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
