/* bench.c - the guest's benchmark mode: N CPUID exits and N hypercalls.
 *
 * Booted with "bench=N" on its command line (the Multiboot module line:
 * GRUB `module2 /boot/guest.elf guest.elf bench=N`), the guest makes, before
 * anything else, N CPUID instructions - each a VM exit under VMX (always,
 * SDM Vol. 3C 25.1.2) and SVM (intercepted) - then N hypercalls
 * (sched_op yield, the cheapest round trip into nesthv), prints its report
 * with the console_write hypercall and ends with the shutdown hypercall.
 * "only=cpuid" or "only=hypercall" runs one half.  The runner measures the
 * wall-clock time of runs with N and 2N (tests/native/bench_exits.py), so
 * boot time cancels out; these rates are the anchors the emulator's own
 * VT-x/AMD-V models will be measured against.
 *
 * The hypercall instruction is the CPU vendor's: VMCALL (Intel, 0F 01 C1)
 * or VMMCALL (AMD, 0F 01 D9); nesthv's CPUID leaf 0x40000000
 * ("NesthvNesthv") says a hypervisor is there to answer it.  Natively, or
 * as a PV guest, the mode is refused: there is no one to call.
 */
#include "guest.h"
#include "nestpv.h"

const char *guest_cmdline;             /* set by ops->init when the loader gives one */

static void cpuid(uint32_t leaf, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

/* The value of "key=" in the command line as a number, or 0. */
static uint64_t option(const char *key)
{
    const char *v = fs_cmdline_value(guest_cmdline, key);
    return v ? fs_atou(v) : 0;
}

static bool has_word(const char *w)
{
    return guest_cmdline && fs_cmdline_has(guest_cmdline, w);
}

static int64_t hypercall(bool intel, uint64_t nr, uint64_t a1, uint64_t a2)
{
    int64_t ret;
    if (intel)
        __asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "D"(a1), "S"(a2) : "memory");
    else
        __asm__ volatile("vmmcall" : "=a"(ret) : "a"(nr), "D"(a1), "S"(a2) : "memory");
    return ret;
}

static void kformat(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fs_vsnprintf(buf, n, fmt, ap);
    va_end(ap);
}

void bench_maybe_run(void)
{
    uint64_t n = option("bench=");
    if (!n)
        return;
    uint32_t r[4];
    char vendor[13] = { 0 };
    cpuid(0x40000000, r);
    memcpy(vendor, &r[1], 4), memcpy(vendor + 4, &r[2], 4), memcpy(vendor + 8, &r[3], 4);
    if (ops->paravirt || memcmp(vendor, "NesthvNesthv", 12)) {
        kprintf("guest: bench: needs nesthv's VMX or SVM backend (no hypervisor leaf)\n");
        ops->shutdown(1);
    }
    cpuid(0, r);
    bool intel = r[1] == 0x756e6547;                 /* "Genu" */
    bool do_cpuid = !has_word("only=hypercall"), do_hc = !has_word("only=cpuid");
    for (uint64_t i = 0; do_cpuid && i < n; i++)
        cpuid(0, r);
    for (uint64_t i = 0; do_hc && i < n; i++)
        if (hypercall(intel, PV_HC_sched_op, 0, 0) != 0)
            panic("bench: hypercall %lu failed", i);
    /* The report and the end go through the other two HVM hypercalls. */
    char line[96];
    kformat(line, sizeof line, "guest: bench: %lu cpuid exits, %lu hypercalls (%s)\n",
            do_cpuid ? n : 0, do_hc ? n : 0, intel ? "vmcall" : "vmmcall");
    hypercall(intel, PV_HC_console_write, (uint64_t)line, strlen(line));
    hypercall(intel, PV_HC_shutdown, 0, 0);
    panic("bench: the shutdown hypercall returned");
}
