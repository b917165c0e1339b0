"""Lab 2: paravirtualization - hypercalls (hypervisor/pv_hcall.c and the
guest's side, pv/guest/ops_pv.c).

Graded by booting nesthv in `nestlab run --cpu novt` with the teaching guest
(its transcript must be the one recorded on QEMU, tests/native/expected/
guest-pv.txt) and with cases of the hostile PV guest (pv/hostile/) that
attack or exercise the hypercalls the student writes.
"""
import os

from lablib import INVARIANT, NESTHV_OK, Check, expect_lines, guest_pv_run, hostile_case

TITLE = "Paravirtualization: hypercalls (console, timer, event channels)"
DEPENDS = []
TARGETS = ["nesthv", "guest", "hostile"]


def guest_console(ctx):
    return expect_lines(guest_pv_run(ctx), [r"^guest: teaching kernel, pv mode$",
                                            r"^guest: trap table installed$"])


def guest_timer(ctx):
    return expect_lines(guest_pv_run(ctx), [r"^guest: timer started, running tasks$",
                                            r"^\[task 1\] preempted by the timer: yes$",
                                            r"^\[task 2\] preempted by the timer: yes$"])


def guest_transcript(ctx):
    r = guest_pv_run(ctx)
    path = os.path.join(ctx.tree, "tests", "native", "expected", "guest-pv.txt")
    with open(path) as f:
        want = [l.rstrip() for l in f if l.strip()]
    got = r.guest_lines()
    for i, w in enumerate(want):
        g = got[i] if i < len(got) else "<missing>"
        if g != w:
            return f"guest line {i + 1}: got {g!r}, want {w!r} ({path})"
    why = expect_lines(r, [r"^nesthv: guest requested shutdown, status 0$", INVARIANT])
    if why:
        return why
    return None if r.status == NESTHV_OK else f"{r.describe()}, expected {NESTHV_OK}"


CHECKS = [
    Check("console: the teaching guest's lines reach the serial console", guest_console,
          "task 1 (nesthv: hc_console_write copies the bytes with pv_copy_from_guest and "
          "hv_write) and task 2 (guest: pv_console_write issues PV_HC_console_write); "
          "run `build/nestlab --append hvtrace build/images/nesthv.elf "
          "build/images/guest.elf` to see which hypercalls arrive"),
    Check("console: bad buffers refused with -EFAULT (hostile case hc_bad_ptr)",
          hostile_case("hc_bad_ptr",
                       r"console_write buffer (0x)?ffffffff80100000: pointer into hypervisor memory",
                       r"console_write buffer (0x)?3ff00000: unmapped guest address"),
          "task 1: never touch a guest pointer directly: copy in chunks with "
          "pv_copy_from_guest, and on failure print 'nesthv: refused: console_write "
          "buffer ADDR: REASON' (pv_copy_error()) and return -PV_EFAULT"),
    Check("console: a flood is refused with -EBUSY, and the console answers after a tick "
          "(hostile case hc_flood)",
          hostile_case("hc_flood", r"refused: console_write flood",
                       r"after a tick the console answers again"),
          "task 1: count writes in d->console_writes_this_tick (pv.c resets it every tick); "
          "above CONSOLE_WRITES_PER_TICK return -PV_EBUSY and log the flood once"),
    Check("timer: set_timer starts a periodic timer; its upcall preempts both tasks",
          guest_timer,
          "task 3: hc_set_timer sets d->timer_period (10 ms ticks, rounded up) and "
          "d->timer_next; the guest's pv_timer_start calls it; task 4: pv_timer_ack clears "
          "upcall_pending and the pending bits (or the upcall repeats forever)"),
    Check("event channels: send, held while masked, bad port refused, block woken by the "
          "timer (hostile case evtchn)",
          hostile_case("evtchn", r"refused: event_channel_op: no such port \((0x)?40\)",
                       r"evtchn: send ok, held while masked yes, upcall yes, bad port "
                       r"refused, timer woke block"),
          "task 4: hc_event_channel_op accepts only PV_EVTCHN_send and ports 1..63, then "
          "pv_set_event(); task 3 too: sched_op block needs the timer"),
    Check("transcript: the whole guest run equals tests/native/expected/guest-pv.txt",
          guest_transcript,
          "compare `build/nestlab build/images/nesthv.elf build/images/guest.elf` with "
          "tests/native/expected/guest-pv.txt, recorded on QEMU"),
]
