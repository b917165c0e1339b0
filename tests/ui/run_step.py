#!/usr/bin/env python3
"""run_step.py - run a `nestlab step --batch SCRIPT` session and check its
transcript against SCRIPT's expected text.

The expected file (NAME.expect) holds one regular expression a line; each
must match a whole line of the transcript, in order (other lines may come in
between).  Addresses and instruction counts are written as patterns where a
rebuild of nesthv or the guest may move them; the text around them - the
world names, the explanations of crossings, the error messages - is exact.
A line "!status N" requires exit status N (default 0); "!absent RE" that no
line matches RE; "!same" requires a second run to print the very same
transcript (determinism).

  run_step.py --nestlab PATH --script NAME.cmd --expect NAME.expect [--stdin] [-- ARGS]

With --stdin the commands go to `nestlab step --no-tui` on its stdin
(no echo), and EOF must end the session cleanly.

Exit 0 on success, 1 on failure (printing the transcript), 77 (ctest
SKIP_RETURN_CODE) when nestlab was built without its built-in images.
"""
import argparse
import re
import subprocess
import sys


def run(nestlab, script, extra, stdin=False):
    if stdin:     # commands on stdin, no terminal: read until EOF
        cmd = [nestlab, "step", "--no-tui"] + extra
        p = subprocess.run(cmd, stdin=open(script), capture_output=True, text=True, timeout=240)
    else:
        cmd = [nestlab, "step", "--batch", script] + extra
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=240)
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nestlab", required=True)
    ap.add_argument("--script", required=True)
    ap.add_argument("--expect", required=True)
    ap.add_argument("--stdin", action="store_true", help="commands on stdin, not --batch")
    ap.add_argument("extra", nargs="*")
    a = ap.parse_args()
    status, same, patterns, absent = 0, False, [], []
    for line in open(a.expect):
        line = line.rstrip("\n")
        if line.startswith("!status "):
            status = int(line.split()[1])
        elif line.startswith("!absent "):
            absent.append(line[len("!absent "):])
        elif line == "!same":
            same = True
        elif line and not line.startswith("#!"):
            patterns.append(line)
    rc, out, err = run(a.nestlab, a.script, a.extra, a.stdin)
    if "no built-in image" in err:
        print("SKIP: nestlab has no built-in nesthv/guest images")
        return 77
    lines = out.splitlines()
    k = 0
    for pat in patterns:
        r = re.compile(pat)
        while k < len(lines) and not r.fullmatch(lines[k]):
            k += 1
        if k == len(lines):
            print(out)
            print(err, file=sys.stderr)
            print(f"FAIL: no line matching /{pat}/ (in order) in the transcript above")
            return 1
        k += 1
    for pat in absent:
        r = re.compile(pat)
        bad = [l for l in lines if r.fullmatch(l)]
        if bad:
            print(out)
            print(f"FAIL: a line matches /{pat}/, which must not appear: {bad[0]}")
            return 1
    if rc != status:
        print(out)
        print(err, file=sys.stderr)
        print(f"FAIL: exit status {rc}, expected {status}")
        return 1
    if "runtime error" in err or "AddressSanitizer" in err:
        print(err)
        print("FAIL: sanitizer report")
        return 1
    if same:
        rc2, out2, _ = run(a.nestlab, a.script, a.extra, a.stdin)
        if (rc2, out2) != (rc, out):
            print("FAIL: a second run printed something else (not deterministic)")
            return 1
    print(f"ok: {len(patterns)} expected lines found, status {rc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
