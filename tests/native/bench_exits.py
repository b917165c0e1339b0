#!/usr/bin/env python3
"""bench_exits.py - VM exits per second of nesthv's VMX and SVM backends on
nestlab's own VT-x (--cpu vmx), Bochs and QEMU TCG, side by side in one run.

The teaching guest's benchmark mode (pv/guest/bench.c, "bench=N") makes N
CPUID exits and N VMCALL/VMMCALL hypercalls and shuts down.  Each machine
boots it twice, with N and with 2N; the difference of the wall-clock times
is the time of N more of each, so boot, BIOS and GRUB cancel out:

    exits/s = 2N / (t(2N) - t(N))        (N CPUIDs + N hypercalls)

t is measured twice: wall-clock, and the CPU time (user + system) of the
child processes, which stays meaningful on a loaded shared machine.

A program that prints figures, not a test (its numbers depend on the host):

    python3 tests/native/bench_exits.py [--build build] [--n 100000]
            [--only cpuid|hypercall] [--no-bochs] [--no-qemu] [--no-nestlab]

The last rows are nestlab's own VT-x and AMD-V (`nestlab run --cpu vmx`,
`--cpu svm`), on the same nesthv.elf and guest.elf.
"""
import argparse
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_bochs  # noqa: E402
import run_qemu   # noqa: E402


def bochs_secs(build, model, n, only):
    args = run_bochs.parse_args(["--iso", os.path.join(build, "images", "nesthv.iso"),
                                 "--cpu-model", model, "--status", "33", "--append", "hv=auto",
                                 "--module-args", f"bench={n}" + (f" only={only}" if only else ""),
                                 "--ips", "20000000", "--timeout", "900"])
    status, out, secs = run_bochs.run(args)
    return status, out, secs


def qemu_secs(build, n, only):
    img = os.path.join(build, "images")
    # run_qemu.parse_args() reads sys.argv
    sys.argv = ["run_qemu", "--kernel", os.path.join(img, "nesthv.elf"),
                "--initrd", os.path.join(img, "guest.elf") + f" bench={n}" +
                (f" only={only}" if only else ""),
                "--cpu", "qemu64,+svm,+npt", "--append", "hv=svm", "--status", "33",
                "--timeout", "900"]
    args = run_qemu.parse_args()
    t0 = time.time()
    status, out = run_qemu.run(args)
    return status, out, time.time() - t0


def nestlab_secs(build, n, only, model="svm"):
    """nesthv's backend on nestlab's own AMD-V (issue 9: at least 2x the
    faster of QEMU TCG and Bochs on the same image)."""
    img = os.path.join(build, "images")
    cmd = [os.path.join(build, "nestlab"), "run", "--cpu", model, "--append", "hv=auto",
           os.path.join(img, "nesthv.elf"),
           os.path.join(img, "guest.elf") + f" bench={n}" + (f" only={only}" if only else "")]
    t0 = time.time()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
    out = r.stdout.decode("utf-8", "replace")
    # nestlab exits with the value written to port 0xF4; QEMU's status is (v << 1) | 1.
    return (r.returncode << 1) | 1, out, time.time() - t0


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measure(name, run, n):
    wall, cpu = [], []
    for k in (n, 2 * n):
        c0 = child_cpu()
        status, out, secs = run(k)
        if status != 33 or "guest: bench:" not in out:
            print(f"{name}: run with bench={k} failed (status {status}):\n{out}")
            return
        wall.append(secs)
        cpu.append(child_cpu() - c0)
    exits = n * (1 if run.only else 2)

    def rate(t):
        return exits / (t[1] - t[0]) if t[1] > t[0] else float("inf")
    print(f"{name:<22} wall {wall[0]:6.1f} s / {wall[1]:6.1f} s: {rate(wall):9,.0f} exits/s   "
          f"cpu {cpu[0]:6.1f} s / {cpu[1]:6.1f} s: {rate(cpu):9,.0f} exits/s", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default="build")
    p.add_argument("--n", type=int, default=100000)
    p.add_argument("--only", choices=["cpuid", "hypercall"])
    p.add_argument("--no-bochs", action="store_true")
    p.add_argument("--no-qemu", action="store_true")
    p.add_argument("--no-nestlab", action="store_true")
    a = p.parse_args()
    what = {"cpuid": "N CPUID exits", "hypercall": "N hypercalls"}.get(a.only,
                                                                        "N CPUID + N hypercalls")
    print(f"N = {a.n}; {what} per run; rate = exits / (t(2N) - t(N)), t(N) / t(2N) shown")
    runs = []
    if not a.no_bochs:
        for name, model in (("Bochs VT-x (vmx)", "corei7_sandy_bridge_2600k"),
                            ("Bochs AMD-V (svm)", "phenom_8650_toliman")):
            def r(k, model=model):
                return bochs_secs(a.build, model, k, a.only)
            runs.append((name, r))
    if not a.no_qemu:
        def q(k):
            return qemu_secs(a.build, k, a.only)
        runs.append(("QEMU TCG AMD-V (svm)", q))
    if not a.no_nestlab:
        for name, model in (("nestlab VT-x (vmx)", "vmx"), ("nestlab AMD-V (svm)", "svm")):
            def nl(k, model=model):
                return nestlab_secs(a.build, k, a.only, model)
            runs.append((name, nl))
    for name, r in runs:
        r.only = a.only
        measure(name, r, a.n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
