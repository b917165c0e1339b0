/* ops_native.c - the guest's privileged operations on bare hardware (or under
 * VMX/SVM, which run it unmodified): ring 0, real instructions.
 *
 * GDT (SDM Vol. 3A 3.4.5), chosen so that the user selectors are the same
 * numbers nesthv's GDT gives a PV guest (0x2b code, 0x23 data):
 *   0x08 kernel code  0x10 kernel data  0x18 unused  0x20 user data (DPL 3)
 *   0x28 user code (DPL 3)  0x30 TSS
 * IDT: interrupt gates; INT 0x80 has DPL 3 so user code may use it.
 * Timer: local APIC, periodic (SDM 3A 11.5.4), vector VEC_TIMER.
 * Exit: QEMU's isa-debug-exit at port 0xF4: status s -> 0x10 + s.
 */
#include "guest.h"

#define COM1 0x3f8
#define APIC 0xfee00000ULL

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }

struct tss64 {
    uint32_t r0;
    uint64_t rsp[3], r1, ist[7], r2;
    uint16_t r3, iomap;
} __attribute__((packed));

static uint64_t gdt[8];
static struct tss64 tss;
static struct { uint16_t lo, sel; uint8_t ist, attr; uint16_t mid; uint32_t hi, z; }
    __attribute__((packed)) idt[256];
static uint64_t nr_pages;

static void load_gdt(void)
{
    gdt[1] = 0x00209A0000000000ULL;
    gdt[2] = 0x0000920000000000ULL;
    gdt[4] = 0x0000F20000000000ULL;
    gdt[5] = 0x0020FA0000000000ULL;
    uint64_t b = (uint64_t)&tss, l = sizeof tss - 1;
    gdt[6] = (l & 0xffff) | ((b & 0xffffff) << 16) | (0x89ULL << 40) | ((b >> 24 & 0xff) << 56);
    gdt[7] = b >> 32;
    tss.iomap = sizeof tss;
    struct { uint16_t lim; uint64_t base; } __attribute__((packed)) p = { sizeof gdt - 1, (uint64_t)gdt };
    __asm__ volatile("lgdt %0; ltr %w1" : : "m"(p), "r"(0x30) : "memory");
}

static char cmdline[256];

static void native_init(uint64_t mbi)
{
    const uint32_t *mb = (const uint32_t *)mbi;     /* flags, mem_lower, mem_upper */
    if (mb[0] & (1u << 2)) {                        /* Multiboot cmdline, copied while */
        const char *s = (const char *)(uint64_t)mb[4];  /* the boot map covers it */
        for (size_t i = 0; i + 1 < sizeof cmdline && s[i]; i++)
            cmdline[i] = s[i];
        guest_cmdline = cmdline;
    }
    outb(COM1 + 1, 0); outb(COM1 + 3, 0x80); outb(COM1, 1); outb(COM1 + 1, 0);
    outb(COM1 + 3, 3); outb(COM1 + 2, 0xc7); outb(COM1 + 4, 3);
    load_gdt();
    nr_pages = (mb[0] & 1) ? (mb[2] + 1024) / 4 : 1024;
    if (nr_pages > 1024)
        nr_pages = 1024;                            /* 4 MiB is all we use */
    uint64_t first_free = ((uint64_t)__bss_end + PAGE_SIZE - 1) >> 12;
    struct mm_info mi = { nr_pages, first_free, 0 };
    mm_init(&mi);
    /* The local APIC page, mapped before any task table copies the
     * kernel's entries (task.c). */
    mm_map(mm_kernel_l4(), APIC, APIC >> 12, PTE_P | PTE_RW | PTE_PCD);
}

static void native_console_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            native_console_write("\r", 1);
        while (!(inb(COM1 + 5) & 0x20))
            ;
        outb(COM1, (uint8_t)s[i]);
    }
}

static void native_set_trap_table(const struct trap_gate *g)
{
    for (; g->vector != (uint64_t)-1; g++) {
        uint64_t h = g->handler;
        idt[g->vector].lo = h & 0xffff;
        idt[g->vector].sel = 0x08;
        idt[g->vector].attr = (uint8_t)(0x8e | g->dpl << 5);
        idt[g->vector].mid = h >> 16 & 0xffff;
        idt[g->vector].hi = (uint32_t)(h >> 32);
    }
    struct { uint16_t lim; uint64_t base; } __attribute__((packed)) p = { sizeof idt - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" : : "m"(p));
}

static void native_set_kernel_stack(uint64_t top) { tss.rsp[0] = top; }
static uint64_t identity(uint64_t f) { return f; }
static void native_pt_prepare(uint64_t pfn, int level) { (void)pfn, (void)level; }

static void native_pt_set(uint64_t table_pfn, unsigned idx, uint64_t pte)
{
    ((volatile uint64_t *)pfn_va(table_pfn))[idx] = pte;
}

static void native_load_pt(uint64_t l4_pfn)
{
    __asm__ volatile("mov %0, %%cr3" : : "r"(l4_pfn << 12) : "memory");
}

static void apic_write(unsigned reg, uint32_t v) { *(volatile uint32_t *)(APIC + reg) = v; }

static void native_timer_start(unsigned ms)
{
    outb(0x21, 0xff);                   /* mask the 8259 PICs */
    outb(0xa1, 0xff);
    apic_write(0xf0, 0x1ff);            /* enable, spurious vector 0xff */
    apic_write(0x3e0, 0x3);             /* divide by 16 */
    apic_write(0x320, (1u << 17) | VEC_TIMER);
    apic_write(0x380, ms * 1000000u / 16);   /* QEMU: 1 GHz APIC clock */
}

static bool native_timer_ack(void) { apic_write(0xb0, 0); return true; }

static uint64_t native_read_cr2(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static void native_shutdown(int status)
{
    __asm__ volatile("outl %0, %1" : : "a"((uint32_t)(0x10 + status)), "Nd"((uint16_t)0xf4));
    for (;;)
        __asm__ volatile("cli; hlt");
}

const struct guest_ops native_ops = {
    .name = "native", .paravirt = false, .kernel_cs = 0x08,
    .iret_path = guest_iret_native,
    .init = native_init,
    .console_write = native_console_write,
    .set_trap_table = native_set_trap_table,
    .set_kernel_stack = native_set_kernel_stack,
    .pfn_to_mfn = identity, .mfn_to_pfn = identity,
    .pt_prepare = native_pt_prepare,
    .pt_set = native_pt_set,
    .load_kernel_pt = native_load_pt, .load_user_pt = native_load_pt,
    .timer_start = native_timer_start,
    .timer_ack = native_timer_ack,
    .read_cr2 = native_read_cr2,
    .shutdown = native_shutdown,
};
