#!/usr/bin/env python3
"""boot_bench.py - system-level benchmarks of nestlab beside QEMU TCG and Bochs.

  exceptions/s     INT3 -> 64-bit interrupt gate -> IRETQ, in a loop
  round trips/s    IRETQ to ring 3, SYSCALL back to ring 0, in a loop

Both loops are in the boot-test kernel (tests/boot, `test=bench`).  Each
machine boots it with N and with 2N iterations, and the rate is
N / (t(2N) - t(N)): boot time, QEMU/Bochs start-up and GRUB cancel out.
t is the CPU time (user + system) of the whole emulator process, the best
of --repeat runs: on a shared, loaded host that is steadier than wall time.

  python3 bench/boot_bench.py [--build build] [--n 2000000] [--repeat 3]
                              [--no-qemu] [--no-bochs]

QEMU: qemu-system-x86_64 -accel tcg -cpu qemu64 -kernel (Multiboot 1).
Bochs: a GRUB rescue ISO (grub-mkrescue, `multiboot` command) on the CD-ROM,
cpu model corei7_sandy_bridge_2600k, serial to a file; the kernel ends the
run through Bochs's shutdown port 0x8900 (Bochs then exits with status 1).  A machine that is not installed is
reported as such.  This is a program that prints figures, not a test.
"""
import argparse
import os
import shutil
import subprocess
import sys
import resource
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, timeout, check_file=None, stdin=None):
    t0 = cpu_seconds()
    r = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    dt = cpu_seconds() - t0
    out = r.stdout.decode("utf-8", "replace")
    if check_file:
        out = open(check_file, errors="replace").read()
    if "bench:" not in out:
        raise RuntimeError("the benchmark did not run to its end:\n" + out[-2000:])
    return dt


def rate(run, kind, n, repeat):
    t1 = min(run(f"test=bench arg={kind}:{n}") for _ in range(repeat))
    t2 = min(run(f"test=bench arg={kind}:{2 * n}") for _ in range(repeat))
    return n / (t2 - t1) if t2 > t1 else float("nan")


def nestlab_runner(nestlab, kernel):
    return lambda append: timed([nestlab, "run", "--append", append, kernel], 600)


def qemu_runner(kernel):
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        return None
    base = [qemu, "-accel", "tcg", "-cpu", "qemu64", "-m", "128M", "-kernel", kernel,
            "-serial", "stdio", "-display", "none", "-no-reboot", "-monitor", "none",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    return lambda append: timed(base + ["-append", append], 600)


def bochs_runner(kernel, tmp):
    bochs, mkrescue = shutil.which("bochs"), shutil.which("grub-mkrescue")
    if not bochs or not mkrescue or not os.path.isdir("/usr/lib/grub/i386-pc"):
        return None

    def run(append):
        iso_dir = os.path.join(tmp, "iso")
        shutil.rmtree(iso_dir, ignore_errors=True)
        os.makedirs(os.path.join(iso_dir, "boot/grub"))
        shutil.copy(kernel, os.path.join(iso_dir, "boot/kernel.elf"))
        with open(os.path.join(iso_dir, "boot/grub/grub.cfg"), "w") as f:
            f.write("set timeout=0\nmenuentry bench {\n"
                    f"  multiboot /boot/kernel.elf {append}\n  boot\n}}\n")
        iso = os.path.join(tmp, "boot.iso")
        subprocess.run([mkrescue, "-o", iso, iso_dir], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        serial = os.path.join(tmp, "serial.txt")
        rc = os.path.join(tmp, "bochsrc")
        with open(rc, "w") as f:
            f.write("megs: 128\ncpu: model=corei7_sandy_bridge_2600k, ips=100000000\n"
                    "romimage: file=/usr/share/bochs/BIOS-bochs-latest\n"
                    "vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest\n"
                    f"ata0-master: type=cdrom, path={iso}, status=inserted\n"
                    "boot: cdrom\nlog: /dev/null\n"
                    # Debian's Bochs has no `nogui`; rfb without waiting for
                    # a viewer, and no sound (its ALSA plugin aborts headless).
                    "display_library: rfb, options=\"timeout=0\"\n"
                    "speaker: enabled=0\nsound: driver=dummy\n"
                    f"com1: enabled=1, mode=file, dev={serial}\n"
                    "panic: action=fatal\nerror: action=ignore\n")
        # Debian builds Bochs with its debugger: "c" on stdin starts the run.
        return timed([bochs, "-q", "-f", rc], 900, check_file=serial, stdin=b"c\n")
    return run


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--n", type=int, default=2000000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-qemu", action="store_true")
    p.add_argument("--no-bochs", action="store_true")
    a = p.parse_args()
    nestlab = os.path.join(a.build, "nestlab")
    kernel = os.path.join(a.build, "images", "boottest.elf")
    for f in (nestlab, kernel):
        if not os.path.exists(f):
            sys.exit(f"boot_bench: {f} is missing; build first (cmake --build {a.build})")
    tmp = tempfile.mkdtemp(prefix="nestlab-bench-")
    machines = [("nestlab", nestlab_runner(nestlab, kernel))]
    machines.append(("QEMU TCG", None if a.no_qemu else qemu_runner(kernel)))
    machines.append(("Bochs", None if a.no_bochs else bochs_runner(kernel, tmp)))
    print(f"{'machine':<10} {'exceptions/s':>14} {'round trips/s':>14}   (N = {a.n})")
    for name, run in machines:
        if run is None:
            print(f"{name:<10} {'not run':>14} {'not run':>14}   (not installed or disabled)")
            continue
        try:
            e = rate(run, "int3", a.n, a.repeat)
            r = rate(run, "rt", a.n, a.repeat)
            print(f"{name:<10} {e / 1e6:>12.2f} M {r / 1e6:>12.2f} M", flush=True)
        except (RuntimeError, subprocess.SubprocessError) as err:
            print(f"{name:<10} failed: {err}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
