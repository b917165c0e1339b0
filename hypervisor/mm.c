/* mm.c - physical frames and nesthv's own page tables.
 *
 * The frame allocator is a bitmap, one bit per 4 KiB frame below 4 GiB, set
 * when the frame is free.  Multiboot's memory map adds the RAM ranges, then
 * everything already in use (first MiB, nesthv image, boot structures,
 * modules) is reserved.  Simple and easy to print - a teaching hypervisor
 * needs no buddy allocator.
 *
 * hv_paging_init() then builds nesthv's own tables from fresh frames and
 * switches CR3 to them (the boot.S tables only got us here):
 *
 *   L4[256] -> direct map, physical 0..4 GiB, 2 MiB pages (SDM 3A 5.5.4)
 *   L4[511] -> L3[510] -> the image: 0xffffffff80000000 -> physical 0..1 GiB
 *
 * Everything is supervisor-only (U/S = 0, SDM 3A 5.6), and the identity
 * mapping of boot.S (L4[0]) is gone: the lower half is the guest's.
 */
#include "hv_mm.h"

#define MAX_FRAMES (1ULL << 20)          /* 4 GiB of 4 KiB frames */

static uint64_t free_bitmap[MAX_FRAMES / 64];
static uint64_t max_pfn, nr_free;
static uint64_t root_pa;

static inline bool frame_free(uint64_t pfn)
{ return free_bitmap[pfn / 64] >> (pfn % 64) & 1; }

static void set_range(uint64_t base, uint64_t len, bool free)
{
    uint64_t first = HV_ALIGN_UP(base, 4096) >> 12;
    uint64_t end = (base + len) >> 12;
    if (!free) {                           /* reserve whole frames touched */
        first = base >> 12;
        end = HV_ALIGN_UP(base + len, 4096) >> 12;
    }
    if (end > MAX_FRAMES)
        end = MAX_FRAMES;
    for (uint64_t p = first; p < end; p++) {
        if (free)
            free_bitmap[p / 64] |= 1ULL << (p % 64);
        else
            free_bitmap[p / 64] &= ~(1ULL << (p % 64));
    }
    if (free && end > max_pfn)
        max_pfn = end;
}

void hv_frames_add_ram(uint64_t base, uint64_t len) { set_range(base, len, true); }
void hv_frames_reserve(uint64_t base, uint64_t len) { if (len) set_range(base, len, false); }

void hv_frames_done(void)
{
    nr_free = 0;
    for (uint64_t p = 0; p < max_pfn; p++)
        nr_free += frame_free(p);
    hv_printf("nesthv: memory: %lu MiB of RAM, %lu frames free\n",
              (max_pfn * 4096) >> 20, nr_free);
}

uint64_t hv_frames_max_pfn(void) { return max_pfn; }
uint64_t hv_frames_free_count(void) { return nr_free; }

uint64_t hv_frame_alloc_contig(uint64_t n)
{
    uint64_t run = 0;
    for (uint64_t p = 0; p < max_pfn; p++) {
        run = frame_free(p) ? run + 1 : 0;
        if (run == n) {
            uint64_t first = p + 1 - n;
            set_range(first << 12, n << 12, false);
            nr_free -= n;
            memset(hv_phys_to_virt(first << 12), 0, n << 12);
            return first;
        }
    }
    hv_panic("out of memory: no %lu contiguous free frames", n);
}

uint64_t hv_frame_alloc(void)
{
    return hv_frame_alloc_contig(1);
}

/* Fill a fresh table with 2 MiB mappings of phys [base, base + 512 * 2 MiB). */
static uint64_t new_pd(uint64_t base)
{
    uint64_t pfn = hv_frame_alloc();
    uint64_t *pd = hv_frame_table(pfn);
    for (int i = 0; i < 512; i++)
        pd[i] = (base + ((uint64_t)i << 21)) | PTE_P | PTE_RW | PTE_PS;
    return pfn;
}

void hv_paging_init(void)
{
    uint64_t l4 = hv_frame_alloc();
    uint64_t direct_l3 = hv_frame_alloc();
    uint64_t image_l3 = hv_frame_alloc();
    uint64_t *t;

    t = hv_frame_table(direct_l3);
    for (int i = 0; i < 4; i++)                 /* 4 x 1 GiB */
        t[i] = (new_pd((uint64_t)i << 30) << 12) | PTE_P | PTE_RW;
    t = hv_frame_table(image_l3);
    t[510] = (new_pd(0) << 12) | PTE_P | PTE_RW;
    t = hv_frame_table(l4);
    t[256] = (direct_l3 << 12) | PTE_P | PTE_RW;
    t[511] = (image_l3 << 12) | PTE_P | PTE_RW;

    root_pa = l4 << 12;
    hv_write_cr3(root_pa);
    hv_printf("nesthv: paging: own tables at %lx (direct map, image; lower half free)\n",
              root_pa);
}

uint64_t hv_root_table(void) { return root_pa; }
