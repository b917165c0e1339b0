/* hv_mm.h - nesthv's view of memory: physical frames and its address space.
 *
 * Address space (4-level paging, Intel SDM Vol. 3A 5.5):
 *
 *   0x0000000000000000 .. 0x00007fffffffffff   PML4 slots 0..255: the guest's
 *   0xffff800000000000 .. +4 GiB                slot 256: direct map of
 *                                               physical memory (phys + base)
 *   0xffffffff80000000 .. +1 GiB                slot 511: the nesthv image
 *
 * Slots 256..511 are copied into every guest L4 table, supervisor-only (U/S=0),
 * so nesthv is present whichever guest table CR3 holds but a ring-3 guest can
 * never touch it - the layout of Xen's x86-64 PV (xen/include/asm-x86/config.h,
 * "Xen-reserved" PML4 slots 256..271).
 *
 * Frames are 4 KiB physical pages.  The allocator (mm.c) is a bitmap built
 * from the Multiboot memory map; struct hv_page (pv_mm.c) records who owns a
 * frame and, for guest frames, the page type and reference counts.
 */
#ifndef HV_MM_H
#define HV_MM_H

#include "hv.h"

#define HV_DIRECT_MAP_BASE 0xffff800000000000ULL
#define HV_KERNEL_VMA      0xffffffff80000000ULL
#define HV_GUEST_L4_SLOTS  256           /* slots 0..255 belong to the guest */

#define PTE_P   (1ULL << 0)
#define PTE_RW  (1ULL << 1)
#define PTE_US  (1ULL << 2)
#define PTE_PWT (1ULL << 3)
#define PTE_PCD (1ULL << 4)
#define PTE_A   (1ULL << 5)
#define PTE_D   (1ULL << 6)
#define PTE_PS  (1ULL << 7)
#define PTE_G   (1ULL << 8)
#define PTE_NX  (1ULL << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ULL

static inline void *hv_phys_to_virt(uint64_t pa)
{ return (void *)(HV_DIRECT_MAP_BASE + pa); }
static inline uint64_t hv_virt_to_phys(const void *va)
{
    uint64_t v = (uint64_t)va;
    return v >= HV_KERNEL_VMA ? v - HV_KERNEL_VMA : v - HV_DIRECT_MAP_BASE;
}
static inline uint64_t *hv_frame_table(uint64_t pfn)
{ return hv_phys_to_virt(pfn << 12); }

struct hv_module {              /* a Multiboot module (the guest image) */
    uint64_t start, end;        /* physical */
    const char *cmdline;
};

struct hv_bootinfo {
    const char *cmdline;
    struct hv_module mods[4];
    unsigned nr_mods;
};

/* mm.c: boot information */
void hv_multiboot_parse(uint32_t magic, uint64_t info_pa, struct hv_bootinfo *bi);

/* mm.c */
void hv_frames_add_ram(uint64_t base, uint64_t len);
void hv_frames_reserve(uint64_t base, uint64_t len);
void hv_frames_done(void);
uint64_t hv_frame_alloc(void);               /* pfn of a zeroed frame, or panic */
uint64_t hv_frame_alloc_contig(uint64_t n);  /* first pfn of n zeroed frames */
/* Zeroed memory for a structure nesthv keeps per guest or per level (a vCPU,
 * a VMCB's companion state): whole frames, never freed. */
void *hv_alloc(size_t bytes);
uint64_t hv_frames_max_pfn(void);
uint64_t hv_frames_free_count(void);
void hv_paging_init(void);
uint64_t hv_root_table(void);                 /* physical address of nesthv's L4 */

#endif
