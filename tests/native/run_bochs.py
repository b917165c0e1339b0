#!/usr/bin/env python3
"""run_bochs.py - boot nesthv.iso on Bochs, capture COM1 and check it like
run_qemu.py does (same --status/--transcript/--tasks/--expect/--forbid).

Bochs is the second x86 machine nobody here wrote: Debian's Bochs 2.7
emulates VT-x (EPT, VPID, unrestricted guest) on its Intel models and
AMD-V (NPT) on its AMD models, so nesthv's vmx.c and svm.c run on it.

How a headless Bochs run works (found the hard way, see docs/nesthv.md):
  * Debian's Bochs has no `nogui` or `term` display plugin and its rfb
    display must not wait for a viewer: `display_library: rfb,
    options="timeout=0"`; no sound (its ALSA plugin aborts headless).
  * Debian builds Bochs with its debugger: "c" on stdin starts the run.
  * COM1 goes to a file (`com1: mode=file`).
  * Bochs has no isa-debug-exit.  nesthv prints "nesthv: exit value V" and
    then writes "Shutdown" to Bochs's port 0x8900, which ends the
    simulation (Bochs itself then exits with status 1).  This script turns V
    into QEMU's convention, (V << 1) | 1, so both runners share --status.
  * GRUB's menu is on COM1 too; everything before nesthv's first line is
    dropped.

--cpu-model picks the Bochs CPU (`bochs --help cpu` lists them), e.g.
corei7_sandy_bridge_2600k (VT-x) or phenom_8650_toliman (AMD-V).
--menu N boots GRUB menu entry N of the ISO; --append/--module-args build a
private ISO instead, with a one-entry grub.cfg (used by the benchmark).
Exits 0 on success, 1 on failure, 77 (skip) without bochs.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_qemu  # noqa: E402  (check(), lines_of())

SKIP = 77
BOCHS_SHARE = "/usr/share/bochs"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iso", required=True)
    p.add_argument("--cpu-model", required=True)
    p.add_argument("--ips", type=int, default=200000000)
    p.add_argument("--append", help="nesthv command line: build a private ISO")
    p.add_argument("--module-args", default="")
    p.add_argument("--status", type=int, required=True)
    p.add_argument("--transcript")
    p.add_argument("--tasks")
    p.add_argument("--expect", action="append", default=[])
    p.add_argument("--forbid", action="append", default=[])
    p.add_argument("--block", action="append", default=[])
    p.add_argument("--block-skip")
    p.add_argument("--timeout", type=float, default=80)
    return p.parse_args(argv)


def private_iso(args, tmp):
    """An ISO like nesthv.iso, whose only entry uses args.append."""
    src = os.path.join(os.path.dirname(args.iso), "iso", "boot")
    d = os.path.join(tmp, "iso", "boot")
    os.makedirs(os.path.join(d, "grub"))
    for f in ("nesthv.elf", "guest.elf"):
        shutil.copy(os.path.join(src, f), d)
    with open(os.path.join(d, "grub", "grub.cfg"), "w") as f:
        f.write("set timeout=0\nmenuentry nesthv {\n"
                f"  multiboot2 /boot/nesthv.elf {args.append}\n"
                f"  module2 /boot/guest.elf guest.elf {args.module_args}\n  boot\n}}\n")
    iso = os.path.join(tmp, "nesthv.iso")
    subprocess.run(["grub-mkrescue", "-o", iso, os.path.join(tmp, "iso")], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return iso


def run(args):
    bochs = shutil.which("bochs")
    if not bochs or not os.path.exists(os.path.join(BOCHS_SHARE, "BIOS-bochs-latest")):
        print("SKIP: bochs is not installed (apt install bochs bochsbios vgabios)")
        sys.exit(SKIP)
    if not os.path.exists(args.iso):
        print(f"SKIP: {args.iso} was not built (grub-mkrescue missing)")
        sys.exit(SKIP)
    tmp = tempfile.mkdtemp(prefix="nestlab-bochs-")
    try:
        iso = private_iso(args, tmp) if args.append is not None else args.iso
        serial, rc = os.path.join(tmp, "com1.txt"), os.path.join(tmp, "bochsrc")
        with open(rc, "w") as f:
            f.write(f"megs: 128\ncpu: model={args.cpu_model}, ips={args.ips}\n"
                    f"romimage: file={BOCHS_SHARE}/BIOS-bochs-latest\n"
                    f"vgaromimage: file={BOCHS_SHARE}/VGABIOS-lgpl-latest\n"
                    f"ata0-master: type=cdrom, path={iso}, status=inserted\n"
                    "boot: cdrom\nlog: /dev/null\n"
                    "display_library: rfb, options=\"timeout=0\"\n"
                    "speaker: enabled=0\nsound: driver=dummy\n"
                    f"com1: enabled=1, mode=file, dev={serial}\n"
                    "panic: action=fatal\nerror: action=ignore\n")
        cmd = [bochs, "-q", "-f", rc]
        print("$ " + " ".join(cmd) + f"   # cpu: model={args.cpu_model}, iso {iso}")
        t0 = time.time()
        errlog = open(os.path.join(tmp, "stderr.txt"), "w+")
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=errlog)
        p.stdin.write(b"c\n")
        p.stdin.flush()
        try:
            p.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        secs = time.time() - t0
        out = open(serial, encoding="utf-8", errors="replace").read() if os.path.exists(serial) else ""
        if "nesthv: exit value" not in out:
            # Say why: Bochs that quits at once (a second Bochs holding the
            # rfb display's port, a bad option) leaves its reason on stderr.
            errlog.seek(0)
            tail = errlog.read()[-1500:]
            out += f"\n(no exit marker: Bochs exit code {p.returncode} after {secs:.1f} s; " \
                   f"its stderr ends:\n{tail})\n"
        errlog.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    start = out.find("nesthv: hello")
    out = out[start:] if start >= 0 else out
    m = re.search(r"^nesthv: exit value ([0-9a-f]+)", out, re.M)
    status = (int(m.group(1), 16) << 1) | 1 if m else None
    return status, out, secs


def main(argv=None):
    args = parse_args(argv)
    status, out, secs = run(args)
    errors = run_qemu.check(args, status, out)
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    print(f"(Bochs ran {secs:.1f} s)")
    if errors:
        print("FAIL:\n" + "\n".join(errors))
        return 1
    print(f"PASS (exit value -> status {status})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
