#!/usr/bin/env python3
"""run_qemu.py - boot an image on QEMU (TCG), capture the serial console and
check it: the exit status, the guest transcript, and expected log lines.

Used by the CTest tests in tests/native/CMakeLists.txt (labels boot, native).

Exit status of QEMU with `-device isa-debug-exit,iobase=0xf4,iosize=4` is
(v << 1) | 1 for a value v written to port 0xF4.  The images use
(hypervisor/include/hv.h):

    v = 0x10 + s  guest shut down with status s  -> 33 + 2s   (33 = success)
    v = 0x20      guest crashed (nesthv)          -> 65
    v = 0x30      nesthv configuration error      -> 97
    v = 0x31      nesthv panic                    -> 99
    a triple fault with -no-reboot                -> 0, never expected

Checks:
  --status N         QEMU must exit with N
  --transcript FILE  the guest's lines (every line not starting "nesthv:")
                     must equal FILE exactly
  --tasks FILE       the "[task" lines must equal those of FILE
  --expect REGEX     some line must match (repeatable; matched in order)
  --forbid REGEX     no line may match (repeatable)

Exits 0 on success, 1 on failure (printing the whole console and why), 77
(CTest SKIP_RETURN_CODE) if qemu-system-x86_64 is not installed.
"""
import argparse
import re
import shutil
import subprocess
import sys

SKIP = 77


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--kernel", required=True)
    p.add_argument("--initrd")
    p.add_argument("--append")
    p.add_argument("--cpu", default="qemu64")
    p.add_argument("--status", type=int, required=True)
    p.add_argument("--transcript")
    p.add_argument("--tasks")
    p.add_argument("--expect", action="append", default=[])
    p.add_argument("--forbid", action="append", default=[])
    p.add_argument("--timeout", type=float, default=30)
    return p.parse_args()


def run(args):
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        print("SKIP: qemu-system-x86_64 is not installed (apt install qemu-system-x86)")
        sys.exit(SKIP)
    cmd = [qemu, "-accel", "tcg", "-cpu", args.cpu, "-m", "128M", "-smp", "1",
           "-kernel", args.kernel, "-serial", "stdio", "-display", "none",
           "-no-reboot", "-monitor", "none",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    if args.initrd:
        cmd += ["-initrd", args.initrd]
    if args.append:
        cmd += ["-append", args.append]
    print("$ " + " ".join(repr(c) if " " in c else c for c in cmd))
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=args.timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        return None, out
    return r.returncode, r.stdout.decode("utf-8", "replace")


def lines_of(text):
    return [l.rstrip("\r") for l in text.replace("\r\n", "\n").split("\n") if l.strip()]


def check(args, status, out):
    errors = []
    lines = lines_of(out)
    if status is None:
        errors.append(f"timed out after {args.timeout} s")
    elif status != args.status:
        errors.append(f"exit status {status}, expected {args.status}")
    guest = [l for l in lines if not l.startswith("nesthv:") and not l.startswith("qemu-system")]
    if args.transcript:
        want = lines_of(open(args.transcript).read())
        if guest != want:
            errors.append("guest transcript differs from " + args.transcript)
            for i in range(max(len(guest), len(want))):
                g = guest[i] if i < len(guest) else "<missing>"
                w = want[i] if i < len(want) else "<missing>"
                if g != w:
                    errors.append(f"  line {i + 1}: got  {g!r}\n           want {w!r}")
    if args.tasks:
        want = [l for l in lines_of(open(args.tasks).read()) if l.startswith("[task")]
        got = [l for l in lines if l.startswith("[task")]
        if got != want or not want:
            errors.append("task output differs from the task lines of " + args.tasks)
    pos = 0
    for rx in args.expect:
        r = re.compile(rx)
        while pos < len(lines) and not r.search(lines[pos]):
            pos += 1
        if pos == len(lines):
            errors.append(f"no line (in order) matches {rx!r}")
            break
        pos += 1
    for rx in args.forbid:
        bad = [l for l in lines if re.search(rx, l)]
        if bad:
            errors.append(f"forbidden {rx!r} matched: {bad[0]!r}")
    return errors


def main():
    args = parse_args()
    status, out = run(args)
    errors = check(args, status, out)
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    if errors:
        print("FAIL:\n" + "\n".join(errors))
        return 1
    print(f"PASS (exit status {status})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
