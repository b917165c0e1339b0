"""Lab 1: trap-and-emulate and Popek-Goldberg (labs/01-trap-and-emulate).

Graded by booting images/lab1-trap.elf - the student's monitor and the
guest kernel it deprivileges - in `nestlab run --cpu novt`.  The guest's
own checks say whether each system instruction told it the truth; the
classification of every site is compared with the grader's own table of
encodings (SDM Vol. 2), so a wrong "detection" fails even if the guest's
checks pass.
"""
import re

from lablib import Check, expect_lines

TITLE = "Trap-and-emulate: the sensitive, unprivileged x86 instructions (Popek-Goldberg)"
DEPENDS = []
TARGETS = ["lab1"]
IMAGE = "lab1-trap.elf"
SITE_RE = re.compile(r"^monitor: site 0x([0-9a-f]{8}): ([0-9a-f]{2}) ([0-9a-f]{2}) "
                     r"([0-9a-f]{2})  (.*) -> (.*)$")


def run(ctx):
    return ctx.run(IMAGE, max_insns=50_000_000, timeout=60)


def expected_kind(b0, b1, b2):
    """The grader's own answer: 'privileged', 'sensitive' or None."""
    if b0 in (0xfa, 0xfb, 0xf4, 0xee):
        return "privileged"              # CLI STI HLT OUT: #GP at CPL 3, IOPL 0
    if b0 in (0x9c, 0x9d, 0x8c):
        return "sensitive"               # PUSHF POPF MOV r/m,Sreg
    if b0 == 0x0f:
        if b1 == 0x01:
            return "sensitive" if (b2 >> 3 & 7) in (0, 1, 4) else "privileged"
        if b1 in (0x02, 0x03):
            return "sensitive"           # LAR LSL
        if b1 in (0x20, 0x22):
            return "privileged"          # MOV from/to CRn
    return None


def stopped(r):
    bad = [l for l in r.lines if l.startswith("monitor: guest stopped") or "PANIC" in l]
    return f"{bad[0]!r}" if bad else None


def privileged(ctx):
    r = run(ctx)
    why = stopped(r) or expect_lines(r, [r"^guest: check cr0 \(.*\): ok$",
                                         r"^guest: check hlt \(.*\): ok$", r"^guest: booted:"])
    return why


def detection(ctx):
    r = run(ctx)
    sites = [SITE_RE.match(l) for l in r.lines if SITE_RE.match(l)]
    if not sites:
        return f"no 'monitor: site' lines in {r.describe()}"
    for m in sites:
        want = expected_kind(*(int(m.group(k), 16) for k in (2, 3, 4)))
        got = m.group(6)
        if want is None:
            continue
        if not got.startswith(want):
            return (f"site 0x{m.group(1)} ({m.group(2)} {m.group(3)} {m.group(4)}, you "
                    f"named it {m.group(5)!r}): classified {got!r}, but it is {want}")
    return None


def guest_checks(*names):
    def check(ctx):
        r = run(ctx)
        pats = [rf"^guest: check {re.escape(n)} \(.*\): ok$" for n in names]
        why = expect_lines(r, pats)
        if why:
            wrong = [l for l in r.lines if l.startswith(tuple(f"guest: check {n} " for n in names))
                     and "WRONG" in l]
            return wrong[0] if wrong else (stopped(r) or why)
        return None
    return check


def all_done(ctx):
    r = run(ctx)
    why = expect_lines(r, [r"^guest: done: 0 of 12 checks wrong$",
                           r"^monitor: guest shutdown, 0 checks wrong"])
    if why:
        return stopped(r) or why
    return None if r.status == 0x10 else f"{r.describe()}, expected 16 (0x10: all right)"


CHECKS = [
    Check("boot: the monitor starts the guest kernel in ring 3",
          lambda ctx: expect_lines(run(ctx), [r"^monitor: entering the guest kernel",
                                              r"^guest: hello from the guest kernel"]),
          "run `build/nestlab build/images/lab1-trap.elf`: if the monitor faults, its "
          "PANIC line names the vector and eip", baseline=True),
    Check("task 1: cli, lgdt, lidt, mov to/from cr0, hlt trap (#GP) and are emulated",
          privileged,
          "emulate_privileged: decode the byte(s) at p (FA cli, FB sti, F4 hlt, 0F 01 /2 lgdt, "
          "0F 01 /3 lidt, 0F 20/0F 22 mov from/to cr0), update struct vcpu, advance f->eip"),
    Check("task 2: detection: every site classified privileged or sensitive, as the SDM says",
          detection,
          "classify: an instruction is privileged if it faults at CPL 3 (SDM Vol. 2: '#GP(0) "
          "if the current privilege level is not 0' or IOPL-sensitive); sensitive if it "
          "reads or writes state the monitor virtualizes without faulting; give its length"),
    Check("task 3: sgdt and sidt return the guest's own GDTR and IDTR",
          guest_checks("sgdt", "sidt"),
          "emulate_sensitive: 0F 01 /0 and /1 with a memory operand (modrm_ea): store "
          "vcpu.gdtr / vcpu.idtr (limit, then base) at the guest's address"),
    Check("task 3: smsw returns the guest's CR0",
          guest_checks("smsw"),
          "emulate_sensitive: 0F 01 /4 with a register operand (mod 3): the register gets "
          "vcpu.cr0"),
    Check("task 3: pushf and popf carry the guest's virtual IF",
          guest_checks("pushf", "pushf after sti", "popf"),
          "emulate_sensitive: 9C pushes f->eflags with IF replaced by vcpu.vif onto the "
          "guest stack (f->esp); 9D pops, sets vcpu.vif from IF and only the arithmetic "
          "flags in f->eflags"),
    Check("task 3: mov from cs/ss, lar and lsl show the guest's ring-0 selectors and GDT",
          guest_checks("mov from cs", "mov from ss", "lar", "lsl"),
          "emulate_sensitive: 8C /r gives vcpu.cs or vcpu.ss; 0F 02 / 0F 03 look the "
          "selector up in the guest's GDT (vcpu.gdtr), set ZF, and return the access "
          "rights masked with 0x00f0ff00 or the limit scaled by G"),
    Check("end: all 12 guest checks right, exit value 0x10", all_done,
          "read the first 'WRONG' or 'monitor: guest stopped' line of the run"),
]
