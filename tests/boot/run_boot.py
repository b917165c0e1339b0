#!/usr/bin/env python3
"""run_boot.py - boot the boot-test kernel in `nestlab run` or on QEMU TCG
and require its serial transcript to equal an expected file exactly.

Used by tests/boot/CMakeLists.txt: label `boot` for nestlab runs, `native`
for QEMU runs.  The same image, command line and modules go to both; the
expected files were recorded on QEMU (the reference PC), so a nestlab test
passing means nestlab printed what QEMU prints.

Exit status of the guest: the kernel writes 0x10 to port 0xF4 on success.
`nestlab run` exits with that value (16); QEMU's isa-debug-exit exits with
(0x10 << 1) | 1 = 33.  Anything else fails the test.

  --emulator nestlab|qemu   which machine
  --nestlab PATH            the nestlab binary (nestlab runs)
  --kernel FILE             the image
  --append TEXT             kernel command line
  --module "FILE ARGS"      a Multiboot module (repeatable)
  --expected FILE           the transcript both must print
  --status N                guest exit value (default 0x10)

Exits 0 on success, 1 on failure (printing both transcripts' differences),
77 (CTest SKIP_RETURN_CODE) when QEMU is not installed.
"""
import argparse
import shutil
import subprocess
import sys

SKIP = 77


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--emulator", choices=["nestlab", "qemu"], required=True)
    p.add_argument("--nestlab")
    p.add_argument("--kernel", required=True)
    p.add_argument("--append", default="")
    p.add_argument("--module", action="append", default=[])
    p.add_argument("--expected", required=True)
    p.add_argument("--status", type=lambda s: int(s, 0), default=0x10)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--stdin", help="file fed to the guest's serial input")
    return p.parse_args()


def command(args):
    if args.emulator == "nestlab":
        return [args.nestlab, "run", "--mem", "128", "--append", args.append,
                args.kernel] + args.module, args.status
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        print("SKIP: qemu-system-x86_64 is not installed (apt install qemu-system-x86)")
        sys.exit(SKIP)
    cmd = [qemu, "-accel", "tcg", "-cpu", "qemu64", "-m", "128M", "-smp", "1",
           "-kernel", args.kernel, "-append", args.append, "-serial", "stdio",
           "-display", "none", "-no-reboot", "-monitor", "none",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    if args.module:
        cmd += ["-initrd", ",".join(args.module)]
    return cmd, (args.status << 1) | 1


def lines_of(text):
    return [l.rstrip("\r") for l in text.replace("\r\n", "\n").split("\n") if l.strip()]


def main():
    args = parse_args()
    cmd, want_status = command(args)
    print("$ " + " ".join(repr(c) if " " in c or not c else c for c in cmd))
    try:
        stdin = open(args.stdin, "rb") if args.stdin else subprocess.DEVNULL
        r = subprocess.run(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=args.timeout)
        status, out, err = r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        status, out, err = None, e.stdout or b"", e.stderr or b""
    out = out.decode("utf-8", "replace")
    err = err.decode("utf-8", "replace")
    got, want = lines_of(out), lines_of(open(args.expected).read())
    errors = []
    if status is None:
        errors.append(f"timed out after {args.timeout} s")
    elif status != want_status:
        errors.append(f"exit status {status}, expected {want_status}")
    if got != want:
        errors.append("serial output differs from " + args.expected)
        for i in range(max(len(got), len(want))):
            g = got[i] if i < len(got) else "<missing>"
            w = want[i] if i < len(want) else "<missing>"
            if g != w:
                errors.append(f"  line {i + 1}: got  {g!r}\n           want {w!r}")
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    if err.strip():
        print("--- stderr ---\n" + err.rstrip())
    if errors:
        print("FAIL:\n" + "\n".join(errors))
        return 1
    print(f"PASS (exit status {status})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
