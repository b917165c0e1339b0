"""Lab 3: PV memory - validated direct paging (hypervisor/pv_mm.c).

Graded by booting nesthv in `nestlab run --cpu novt` with the teaching guest
(a well-behaved PV kernel) and with the hostile PV guest of pv/hostile/,
one attack per boot.  Every check needs nesthv to refuse the attack with
the log line that names the rule, the hostile guest to report "all refused",
nesthv to survive, and its final integrity check (pv_check_invariants:
no page table writable through any mapping) to hold.
"""
from lablib import INVARIANT, NESTHV_OK, Check, expect_lines, guest_pv_run, hostile_case

TITLE = "PV memory: validated direct paging (page types and reference counts)"
DEPENDS = []
TARGETS = ["nesthv", "guest", "hostile"]

hostile = hostile_case


def good_guest(ctx):
    r = guest_pv_run(ctx)
    why = expect_lines(r, [r"^guest: all tasks finished", r"^guest: shutdown: success",
                           INVARIANT])
    if why:
        return why
    refused = [l for l in r.lines if "refused" in l]
    if refused:
        return f"a well-behaved guest was refused: {refused[0]!r}"
    return None if r.status == NESTHV_OK else f"{r.describe()}, expected {NESTHV_OK}"


CHECKS = [
    Check("good guest: the teaching kernel boots, runs its tasks and shuts down", good_guest,
          "your rules refuse something a correct kernel does: run `build/nestlab "
          "build/images/nesthv.elf build/images/guest.elf` and read the first "
          "'nesthv: refused:' line", baseline=True),
    Check("pt_map_rw: no writable mapping of a page table (L4 and L1)",
          hostile("pt_map_rw", r"refused: mfn \w+ is in use as L4, cannot be writable",
                  r"refused: mfn \w+ is in use as L1, cannot be writable"),
          "task 1: pv_get_type must refuse a frame whose type count is not 0 and whose "
          "type differs (-PV_EBUSY); task 2: an L1 entry with RW takes the frame as "
          "PGT_WRITABLE"),
    Check("map_hv: no mapping of nesthv's frames, no write to its L4 slots or frames",
          hostile("map_hv", r"refused: mapping mfn (0x)?100: a hypervisor frame",
                  r"refused: mfn (0x)?100 is a hypervisor frame",
                  r"refused: mmu_update of L4 slot 256 \(hypervisor slot\)",
                  r"refused: mmu_update of mfn (0x)?100, not the guest's"),
          "task 1: check pg->owner in pv_get_type; task 2: a read-only L1 entry still "
          "needs a guest frame; task 3: mmu_update may only write a guest frame, and not "
          "L4 slots 256-511 (HV_GUEST_L4_SLOTS)"),
    Check("map_foreign: no mapping of frames outside the guest or beyond RAM",
          hostile("map_foreign", r"a hypervisor frame, not the guest's", r"beyond RAM"),
          "task 2: get_entry_ref must refuse, for read-only L1 entries too, a frame that "
          "pv_page() does not know (beyond RAM) or that another owner has"),
    Check("bad_cr3: new_baseptr only to a valid L4 table",
          hostile("bad_cr3", r"is in use as writable, cannot be L4",
                  r"new_baseptr: mfn \w+ is not a valid L4",
                  r"refused: L4 table at mfn \w+, entry 0"),
          "task 1: a page mapped writable has type 'writable' and cannot become an L4; "
          "task 2: the entries of a new L4 are validated through get_entry_ref"),
    Check("self_map: a table mapping itself is refused",
          hostile("self_map", r"refused: mfn \w+ is in use as L4, cannot be L3",
                  r"refused: mfn \w+ is in use as L2, cannot be L1"),
          "task 1: a page typed L4 cannot also be taken as L3 (type count not 0, type "
          "differs) - that is what stops self-maps and cycles"),
    Check("refcount: types are counted, and dropped when the last reference goes",
          hostile("refcount", r"refused: mfn \w+ is in use as writable, cannot be L1",
                  r"refused: mfn \w+ is in use as L1, cannot be writable",
                  r"pin while writable refused, pin after read-only ok, writable while "
                  r"pinned refused, writable after unpin ok, pin while writable refused, "
                  r"pin after unmap ok"),
          "task 2: put_entry_ref must drop exactly what get_entry_ref took - the "
          "PGT_WRITABLE reference of an RW L1 entry too - or the page stays 'writable' "
          "forever"),
]
