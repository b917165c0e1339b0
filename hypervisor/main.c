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

static struct hv_vcpu vcpu0;

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
    if (bi.nr_mods == 0) {
        hv_printf("nesthv: error: no guest: pass the guest image as the first "
                  "Multiboot module (qemu -initrd guest.elf)\n");
        hv_exit(HV_EXIT_CONFIG);
    }
    vcpu0.backend = b;
    b->create(&vcpu0, &bi.mods[0]);
    hv_vcpu_loop(&vcpu0);
}
