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
  --block REGEX      the --block patterns, in order, must match consecutive
                     lines somewhere (repeatable), ignoring lines that
                     match --block-skip (e.g. asynchronous timer exits)

With --iso FILE (and --uefi: OVMF firmware), QEMU boots a CD image instead
(images/nesthv.iso); what GRUB prints on the serial line before nesthv's
first line is dropped.

With --grub, the kernel (and --initrd module) are not given to QEMU's own
Multiboot 1 loader: a GRUB rescue ISO is built (grub-mkrescue) that loads
them with `multiboot2` / `module2`, to test the Multiboot 2 path.

With --emulator nestlab --nestlab PATH, the same boot runs in `nestlab run`
(our emulator; issue 4: "the same runs on nestlab run --cpu novt with
identical output"; issue 9: the same for --cpu svm) with the same checks.  The QEMU-style arguments are
mapped: --kernel is the image, --initrd "FILE ARGS,..." the modules (one
argument each, as QEMU splits -initrd at commas), --append the command line,
and the expected QEMU status s = (v << 1) | 1 becomes nestlab's v = (s - 1) / 2
(nestlab exits with the value written to port 0xF4 itself).  A run that
needs what only QEMU has - --iso, --uefi, --grub, or a --cpu that adds a
feature other than +svm/+npt - is not applicable: the script refuses it
(exit 2), and tests/native/CMakeLists.txt registers no nestlab variant for
it.  `--cpu qemu64` and `qemu64,-svm` mean novt, `qemu64,+svm,+npt` svm and
`qemu64,+svm` (TCG then has no NPT) svm,-npt.
nestlab's own messages (stderr) are printed but not checked.  With
--nestlab-cpu vmx the run uses nestlab's emulated VT-x instead (the
boot.nl_vmx_* tests: nesthv's VMX backend on our own CPU).

Exits 0 on success, 1 on failure (printing the whole console and why), 77
(CTest SKIP_RETURN_CODE) if qemu-system-x86_64 is not installed.
"""
import argparse
import re
import shutil
import os
import subprocess
import sys
import tempfile

SKIP = 77


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--kernel")
    p.add_argument("--iso")
    p.add_argument("--uefi", action="store_true")
    p.add_argument("--initrd")
    p.add_argument("--append")
    p.add_argument("--cpu", default="qemu64")
    p.add_argument("--status", type=int, required=True)
    p.add_argument("--transcript")
    p.add_argument("--tasks")
    p.add_argument("--expect", action="append", default=[])
    p.add_argument("--forbid", action="append", default=[])
    p.add_argument("--block", action="append", default=[])
    p.add_argument("--block-skip")
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--grub", action="store_true")
    p.add_argument("--emulator", choices=["qemu", "nestlab"], default="qemu")
    p.add_argument("--nestlab", help="the nestlab binary (--emulator nestlab)")
    p.add_argument("--nestlab-cpu", default=None,
                   help="nestlab's --cpu (vmx: the emulated VT-x, for hv=vmx runs)")
    return p.parse_args()


def nestlab_not_applicable(args):
    """Why this QEMU run has no nestlab --cpu novt equivalent (None: it has)."""
    if args.iso or args.uefi or args.grub:
        return "--iso/--uefi/--grub boot through firmware and GRUB (QEMU only)"
    if not args.kernel:
        return "no --kernel"
    if args.nestlab_cpu is None and any(f.startswith("+") and f not in ("+svm", "+npt")
                                        for f in args.cpu.split(",")[1:]):
        return f"--cpu {args.cpu} adds a CPU feature nestlab's models do not map"
    if args.status % 2 == 0:
        return f"--status {args.status} is not a QEMU isa-debug-exit status (v << 1) | 1"
    return None


def nestlab_cpu(qemu_cpu):
    """QEMU's -cpu as a nestlab model: qemu64 and qemu64,-svm are novt;
    qemu64,+svm is svm, without nested paging unless +npt (QEMU TCG lists
    SVM features only when asked) - nestlab's `svm,-npt`."""
    flags = qemu_cpu.split(",")[1:]
    if "+svm" not in flags:
        return "novt"
    return "svm" if "+npt" in flags else "svm,-npt"


def run_nestlab(args):
    """The same boot in `nestlab run --cpu M`: (status, console, stderr)."""
    why = nestlab_not_applicable(args)
    if why:
        sys.exit(f"run_qemu.py: not applicable to --emulator nestlab: {why}")
    if not args.nestlab:
        sys.exit("run_qemu.py: --emulator nestlab needs --nestlab PATH")
    cpu = args.nestlab_cpu or nestlab_cpu(args.cpu)
    cmd = [args.nestlab, "run", "--cpu", cpu, "--mem", "128"]
    if args.append:
        cmd += ["--append", args.append]
    cmd += [args.kernel] + (args.initrd.split(",") if args.initrd else [])
    print("$ " + " ".join(repr(c) if " " in c else c for c in cmd))
    try:
        # An ASan build on a loaded machine runs an SVM guest with its
        # 2000 exits in up to ~35 s: give nestlab until just under CTest's
        # 60 s for the boot.nl_* entry.
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=max(args.timeout, 55))
        status, out, err = r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        status, out, err = None, e.stdout or b"", e.stderr or b""
    return status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def run(args):
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        print("SKIP: qemu-system-x86_64 is not installed (apt install qemu-system-x86)")
        sys.exit(SKIP)
    cmd = [qemu, "-accel", "tcg", "-cpu", args.cpu, "-m", "128M", "-smp", "1",
           "-kernel", args.kernel, "-serial", "stdio", "-display", "none",
           "-no-reboot", "-monitor", "none",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    if args.iso:
        cmd = [c for c in cmd if c not in ("-kernel", args.kernel)] + ["-cdrom", args.iso]
        if args.uefi:
            ovmf = "/usr/share/ovmf/OVMF.fd"
            if not os.path.exists(ovmf):
                print("SKIP: no UEFI firmware " + ovmf + " (apt install ovmf)")
                sys.exit(SKIP)
            cmd += ["-bios", ovmf]
            cmd[cmd.index("128M")] = "256M"
        if not os.path.exists(args.iso):
            print(f"SKIP: {args.iso} was not built (grub-mkrescue missing)")
            sys.exit(SKIP)
    elif args.grub:
        cmd = [c for c in cmd if c not in ("-kernel", args.kernel)] + ["-cdrom", grub_iso(args)]
    else:
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
        return None, from_nesthv(args, out)
    return r.returncode, from_nesthv(args, r.stdout.decode("utf-8", "replace"))


def from_nesthv(args, out):
    """Booted from an ISO: keep the console from nesthv's first line on."""
    start = out.find("nesthv: hello") if args.iso else -1
    return out[start:] if start >= 0 else out


def grub_iso(args):
    """Build a GRUB ISO that boots args.kernel with Multiboot 2."""
    mkrescue = shutil.which("grub-mkrescue")
    if not mkrescue or not os.path.isdir("/usr/lib/grub/i386-pc"):
        print("SKIP: grub-mkrescue (grub-pc-bin) is not installed")
        sys.exit(SKIP)
    tmp = tempfile.mkdtemp(prefix="nestlab-grub-")
    os.makedirs(os.path.join(tmp, "iso/boot/grub"))
    shutil.copy(args.kernel, os.path.join(tmp, "iso/boot/kernel.elf"))
    module = ""
    if args.initrd:
        path, _, margs = args.initrd.partition(" ")
        shutil.copy(path, os.path.join(tmp, "iso/boot/module.elf"))
        module = f"  module2 /boot/module.elf {os.path.basename(path)} {margs}\n"
    with open(os.path.join(tmp, "iso/boot/grub/grub.cfg"), "w") as f:
        f.write("set timeout=0\nserial --unit=0 --speed=115200\nterminal_output serial\n"
                "menuentry nestlab {\n"
                f"  multiboot2 /boot/kernel.elf {args.append or ''}\n{module}  boot\n}}\n")
    iso = os.path.join(tmp, "boot.iso")
    r = subprocess.run([mkrescue, "-o", iso, os.path.join(tmp, "iso")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode:
        print(r.stdout.decode("utf-8", "replace"))
        sys.exit("grub-mkrescue failed")
    import atexit
    atexit.register(shutil.rmtree, tmp, True)
    return iso


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
    if args.block:
        pats = [re.compile(b) for b in args.block]
        bl = [l for l in lines if not (args.block_skip and re.search(args.block_skip, l))]
        if not any(all(i + k < len(bl) and pats[k].search(bl[i + k])
                       for k in range(len(pats))) for i in range(len(bl))):
            errors.append("no consecutive lines match the --block patterns " + repr(args.block))
    for rx in args.forbid:
        bad = [l for l in lines if re.search(rx, l)]
        if bad:
            errors.append(f"forbidden {rx!r} matched: {bad[0]!r}")
    return errors


def main():
    args = parse_args()
    err = ""
    if args.emulator == "nestlab":
        status, out, err = run_nestlab(args)
        args.status = (args.status - 1) // 2     # QEMU's (v << 1) | 1 -> v
    else:
        status, out = run(args)
    errors = check(args, status, out)
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    if err.strip():
        print("--- nestlab stderr ---\n" + err.rstrip())
    if errors:
        print("FAIL:\n" + "\n".join(errors))
        return 1
    print(f"PASS (exit status {status})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
