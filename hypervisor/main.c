/* main.c - nesthv from the first C instruction to the first guest instruction.
 *
 *   boot.S (long mode) -> hv_main:
 *     console -> boot information and frames -> own page tables
 *     -> GDT/TSS/IDT -> local APIC timer -> choose backend (CPUID, hv=)
 *     -> create the guest from the first Multiboot module -> vCPU loop
 *
 * Each step prints one line, so a serial log shows how far a boot got.
 */
#include "hv_vcpu.h"

#define HV_TICK_US 10000            /* 10 ms between timer interrupts */

/* Which way will nesthv run its guest?
 *
 * The hardware decides what is possible (CPUID), the command line may ask
 * for one path (hv=auto|pv|vmx|svm), and this nesthv decides what is built:
 *
 *   VMX  CPUID.1:ECX[bit 5]            (Intel SDM Vol. 3C 24.6 "Discovering
 *                                       Support for VMX")
 *   SVM  CPUID.80000001h:ECX[bit 2]    (AMD APM Vol. 2 15.4 "Enabling SVM")
 *   PV   always possible: it needs nothing but rings 0 and 3 and paging.
 *
 * hv=auto takes the best backend that is both supported and built; asking
 * by name for one the CPU lacks, or one not built yet, is a clear error,
 * never a silent fallback: a student who asked for VMX must know they did
 * not get it.
 */
bool hv_cpu_has_vmx(void)
{
    uint32_t r[4];
    hv_cpuid(1, 0, r);
    return r[2] >> 5 & 1;
}

bool hv_cpu_has_svm(void)
{
    uint32_t r[4];
    hv_cpuid(0x80000000, 0, r);
    if (r[0] < 0x80000001)
        return false;
    hv_cpuid(0x80000001, 0, r);
    return r[2] >> 2 & 1;
}

static const struct hv_backend *const backends[] = {
    &hv_backend_vmx, &hv_backend_svm, &hv_backend_pv,  /* auto preference order */
};

static const char *const hw_bit[] = {
    "CPUID.1:ECX.VMX[bit 5] = 0", "CPUID.80000001h:ECX.SVM[bit 2] = 0", "",
};

/* Beyond the CPUID bit, what the vmx and svm backends need (their
 * cpu_has() checks it): second-level paging, and for VMX a guest that may
 * run with paging off, as a Multiboot kernel starts. */
static const char *const hw_needs[] = {
    "EPT and unrestricted guest (IA32_VMX_PROCBASED_CTLS2 bits 33 and 39)",
    "nested paging (CPUID.8000000Ah:EDX.NP[bit 0])", "",
};

static bool hw_extension(unsigned i)
{
    return i == 0 ? hv_cpu_has_vmx() : i == 1 ? hv_cpu_has_svm() : false;
}

/* Find "hv=" in the command line; copy its value into out. */
static void option_hv(const char *cmdline, char *out, size_t n)
{
    const char *p = cmdline;
    out[0] = 0;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!fs_strncmp(p, "hv=", 3)) {
            p += 3;
            size_t i = 0;
            while (*p && *p != ' ' && i + 1 < n)
                out[i++] = *p++;
            out[i] = 0;
        }
        while (*p && *p != ' ')
            p++;
    }
}

bool hv_cmdline_has(const char *cmdline, const char *word)
{
    return fs_cmdline_has(cmdline, word);
}

const struct hv_backend *hv_choose_backend(const char *cmdline)
{
    char want[16];
    option_hv(cmdline, want, sizeof want);
    if (!want[0])
        memcpy(want, "auto", 5);
    hv_printf("nesthv: cpu: vmx %s, svm %s; asked for hv=%s\n",
              hv_cpu_has_vmx() ? "yes" : "no", hv_cpu_has_svm() ? "yes" : "no", want);

    for (unsigned i = 0; i < 3; i++) {
        const struct hv_backend *b = backends[i];
        bool named = !fs_strncmp(want, b->name, 16);
        if (!named && fs_strncmp(want, "auto", 16))
            continue;
        if (!b->cpu_has(cmdline)) {
            if (named && hw_extension(i))
                hv_printf("nesthv: error: hv=%s asked for: this CPU has %s but not %s, "
                          "which the %s backend needs\n", b->name, b->name, hw_needs[i],
                          b->name);
            else if (named)
                hv_printf("nesthv: error: hv=%s asked for, but this CPU has no %s (%s)\n",
                          b->name, b->name, hw_bit[i]);
            else if (hw_extension(i))
                hv_printf("nesthv: note: the CPU has %s but not %s: not using it\n",
                          b->name, hw_needs[i]);
            if (named)
                return NULL;
            continue;
        }
        if (!b->built) {
            if (named) {
                hv_printf("nesthv: error: hv=%s: the CPU supports it, but the %s backend "
                          "is not built into this nesthv yet\n", b->name, b->name);
                return NULL;
            }
            hv_printf("nesthv: note: the CPU has %s, but that backend is not built yet\n",
                      b->name);
            continue;
        }
        return b;
    }
    if (fs_strncmp(want, "auto", 16))
        hv_printf("nesthv: error: unknown backend hv=%s (expected auto, pv, vmx or svm)\n",
                  want);
    return NULL;
}


void hv_main(uint32_t magic, uint64_t info_pa);

void hv_main(uint32_t magic, uint64_t info_pa)
{
    struct hv_bootinfo bi;

    hv_serial_init();
    hv_printf("nesthv: hello (teaching hypervisor, x86-64)\n");
    hv_multiboot_parse(magic, info_pa, &bi);
    hv_printf("nesthv: command line \"%s\", %u module(s)\n", bi.cmdline, bi.nr_mods);
    hv_paging_init();
    hv_cpu_init();
    hv_apic_init(HV_TICK_US);

    /* Test hook: "hvtest=ud2" runs an invalid instruction in nesthv, to prove
     * the panic path (register dump, exit through 0xF4) works. */
    if (hv_cmdline_has(bi.cmdline, "hvtest=ud2")) {
        hv_printf("nesthv: hvtest=ud2: executing ud2 in ring 0\n");
        __asm__ volatile("ud2");
    }
    const struct hv_backend *b = hv_choose_backend(bi.cmdline);
    if (!b)
        hv_exit(HV_EXIT_CONFIG);
    hv_printf("nesthv: backend %s\n", b->name);
    hv_options_check(bi.cmdline, b->name);
    if (bi.nr_mods == 0) {
        hv_printf("nesthv: error: no guest: pass the guest image as the first "
                  "Multiboot module (qemu -initrd guest.elf)\n");
        hv_exit(HV_EXIT_CONFIG);
    }
    struct hv_vcpu *v = hv_alloc(sizeof *v);
    v->backend = b;
    v->trace = hv_cmdline_has(bi.cmdline, "hvtrace");
    v->cmdline = bi.cmdline;
    v->more_mods = &bi.mods[1];
    v->nr_more_mods = bi.nr_mods - 1;
    b->create(v, &bi.mods[0]);
    hv_vcpu_loop(v);
}
