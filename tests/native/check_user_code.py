#!/usr/bin/env python3
"""check_user_code.py - prove the guest's user pages are self-contained.

The teaching guest copies [__user_start, __user_end) of guest.elf to
USER_BASE in each task (pv/guest/task.c), so code there must not reach
outside that range: no call or jump to a kernel function (for example a
memset gcc emitted), no RIP-relative reference to kernel data, no absolute
kernel address.  This disassembles every function in the range (objdump;
the strings that share the range are not code) and fails on any such
reference.  Exits 77 (skip) without binutils.
"""
import re
import shutil
import subprocess
import sys


def check(dis, lo, hi, bad):
    """Append to bad every instruction in dis that refers outside [lo, hi)."""
    n = 0
    for line in dis.split("\n"):
        if not re.match(r"\s*[0-9a-f]+:\t", line):
            continue
        n += 1
        targets = []
        b = re.search(r"\t(call|jmp|j[a-z]+)\s+([0-9a-f]+) <", line)
        r = re.search(r"# ([0-9a-f]+) <", line)
        imm = re.search(r"movabs\s+\$0x([0-9a-f]+),", line)
        if b:
            targets.append(int(b.group(2), 16))
        if r:
            targets.append(int(r.group(1), 16))
        if imm and 0x100000 <= int(imm.group(1), 16) < 0x40000000:
            targets.append(int(imm.group(1), 16))
        if any(not lo <= t < hi for t in targets):
            bad.append(line.strip())
    return n


def main():
    elf = sys.argv[1]
    if not shutil.which("objdump") or not shutil.which("nm"):
        print("SKIP: binutils (objdump, nm) not installed")
        return 77
    syms, funcs = {}, []
    out = subprocess.run(["nm", "-S", elf], capture_output=True, text=True).stdout
    for line in out.split("\n"):
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)
        elif len(parts) == 4:
            syms[parts[3]] = int(parts[0], 16)
            if parts[2] in ("t", "T"):
                funcs.append((int(parts[0], 16), int(parts[1], 16)))
    lo, hi = syms["__user_start"], syms["__user_end"]
    bad, n = [], 0
    for start, size in funcs:
        if lo <= start < hi:
            dis = subprocess.run(["objdump", "-d", f"--start-address={start:#x}",
                                  f"--stop-address={start + size:#x}", elf],
                                 capture_output=True, text=True).stdout
            n += check(dis, lo, hi, bad)
    print(f"user pages {lo:#x}..{hi:#x}: {n} instructions checked")
    if bad or n == 0:
        print("FAIL: references outside the user pages:\n  " + "\n  ".join(bad))
        return 1
    print("PASS: the user pages reference nothing outside themselves")
    return 0


if __name__ == "__main__":
    sys.exit(main())
