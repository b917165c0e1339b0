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
  --ignore-prefix P         drop lines starting with P before comparing
                            (e.g. "nesthv:" for the hypervisor's own lines)
  --triple                  the kernel triple-faults on purpose: nestlab
                            must exit with 70 and a register dump on stderr,
                            QEMU (-no-reboot) with 0
  --multiboot2              boot by the Multiboot 2 header: nestlab run
                            --multiboot2; on QEMU a GRUB rescue ISO whose
                            grub.cfg says `multiboot2` / `module2` (GRUB's
                            own output stays on the VGA console, not COM1)

Exits 0 on success, 1 on failure (printing both transcripts' differences),
77 (CTest SKIP_RETURN_CODE) when QEMU is not installed.
"""
import argparse
import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile

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
    p.add_argument("--multiboot2", action="store_true")
    p.add_argument("--triple", action="store_true")
    p.add_argument("--ignore-prefix")
    p.add_argument("--stdin", help="file fed to the guest's serial input")
    return p.parse_args()


def command(args):
    if args.emulator == "nestlab":
        mb2 = ["--multiboot2"] if args.multiboot2 else []
        return [args.nestlab, "run", "--mem", "128"] + mb2 + ["--append", args.append,
                args.kernel] + args.module, 70 if args.triple else args.status
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        print("SKIP: qemu-system-x86_64 is not installed (apt install qemu-system-x86)")
        sys.exit(SKIP)
    cmd = [qemu, "-accel", "tcg", "-cpu", "qemu64", "-m", "128M", "-smp", "1",
           "-kernel", args.kernel, "-append", args.append, "-serial", "stdio",
           "-display", "none", "-no-reboot", "-monitor", "none",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    if args.multiboot2:
        i = cmd.index("-kernel")
        cmd[i:i + 4] = ["-cdrom", grub_iso(args)]
    elif args.module:
        cmd += ["-initrd", ",".join(args.module)]
    return cmd, 0 if args.triple else (args.status << 1) | 1


def grub_iso(args):
    """A GRUB rescue ISO that boots the kernel and modules with Multiboot 2."""
    mkrescue = shutil.which("grub-mkrescue")
    if not mkrescue or not os.path.isdir("/usr/lib/grub/i386-pc"):
        print("SKIP: grub-mkrescue (grub-pc-bin) is not installed")
        sys.exit(SKIP)
    tmp = tempfile.mkdtemp(prefix="nestlab-boot-")
    atexit.register(shutil.rmtree, tmp, True)
    os.makedirs(os.path.join(tmp, "iso/boot/grub"))
    shutil.copy(args.kernel, os.path.join(tmp, "iso/boot/kernel.elf"))
    lines = ["set timeout=0", "menuentry nestlab {",
             f"  multiboot2 /boot/kernel.elf {args.append}"]
    for m in args.module:
        path, _, margs = m.partition(" ")
        name = os.path.basename(path)
        shutil.copy(path, os.path.join(tmp, "iso/boot", name))
        lines.append(f"  module2 /boot/{name} {margs}".rstrip())
    lines += ["  boot", "}"]
    with open(os.path.join(tmp, "iso/boot/grub/grub.cfg"), "w") as f:
        f.write("\n".join(lines) + "\n")
    iso = os.path.join(tmp, "boot.iso")
    r = subprocess.run([mkrescue, "-o", iso, os.path.join(tmp, "iso")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode:
        sys.exit("grub-mkrescue failed:\n" + r.stdout.decode("utf-8", "replace"))
    return iso


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
    if args.ignore_prefix:
        got = [l for l in got if not l.startswith(args.ignore_prefix)]
    errors = []
    if status is None:
        errors.append(f"timed out after {args.timeout} s")
    elif status != want_status:
        errors.append(f"exit status {status}, expected {want_status}")
    if args.triple and args.emulator == "nestlab" and not re.search(
            r"triple fault.*\n.*rip 0x[0-9a-f]+ cs 0x8 .*cr3 0x", err):
        errors.append("no triple-fault message with a register dump on stderr")
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
