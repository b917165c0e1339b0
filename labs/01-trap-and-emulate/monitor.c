/* monitor.c - lab 1's monitor: the ring-0 half of a trap-and-emulate
 * virtual machine monitor for a 32-bit guest kernel deprivileged to ring 3.
 *
 * This is the classic construction of Popek and Goldberg (1974): run the
 * guest kernel unprivileged, let every privileged instruction trap, and
 * emulate it against a virtual CPU (struct vcpu).  On x86 it is not enough:
 * some instructions are *sensitive* (they read or change state the monitor
 * virtualizes) but *unprivileged* (they do not trap in ring 3) - SGDT, SIDT,
 * SMSW, PUSHF, POPF, MOV from CS/SS, LAR, LSL and more (Robin and Irvine,
 * USENIX Security 2000).  Run unchanged, they show the guest the monitor's
 * state instead of its own.
 *
 * The fix here is the one Linux's paravirt patching and VMware's binary
 * translator apply, reduced to a table: the guest kernel lists the address
 * of every system instruction it contains (section lab1_sites, guest.c);
 * at boot the monitor classifies each (emulate.c, classify) and overwrites
 * the first byte of every sensitive one with INT3.  The #BP it then raises
 * in ring 3 comes here, and the original instruction is emulated
 * (emulate_sensitive) from a saved copy of its bytes.  Privileged
 * instructions need no patch: they raise #GP (emulate_privileged).
 *
 * Exit values on port 0xF4 (nestlab exits with them; QEMU with (v << 1) | 1):
 * 0x10 + n  the guest shut down with n checks wrong (0x10: all right)
 * 0x20      the guest stopped: a trap the monitor could not emulate
 * 0x31      the monitor itself faulted
 */
#include "monitor.h"

#define COM1 0x3f8
#define EXIT_GUEST(n) (0x10 + ((n) > 14 ? 14 : (n)))
#define EXIT_STOPPED 0x20
#define EXIT_PANIC   0x31
#define MAX_SITES 64

struct vcpu vcpu = { .vif = false, .cr0 = CR0_PE | CR0_ET,
                     .cs = GUEST_KERNEL_CS, .ss = GUEST_KERNEL_DS };

extern uint8_t monitor_stack_top[];             /* boot.S */

/* ---- the real machine: serial port, exit, descriptor tables ---------- */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void serial_putc(char c)
{
    while (!(inb(COM1 + 5) & 0x20))
        ;
    outb(COM1, (uint8_t)c);
}

void mprintf(const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    vformat(line, sizeof line, fmt, ap);
    va_end(ap);
    for (const char *s = line; *s; s++)
        serial_putc(*s);
}

static __attribute__((noreturn)) void monitor_exit(uint32_t value)
{
    __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"((uint16_t)0xf4));
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* The real GDT.  The guest's ring-3 segments end 4 MiB below 4 GiB: a
 * monitor reserves the top of the address space for itself this way
 * (VMware's segment truncation), and LSL shows the difference. */
static uint64_t gdt[6] = {
    0,
    0x00cf9a000000ffffULL,      /* 0x08 monitor code, ring 0, flat */
    0x00cf92000000ffffULL,      /* 0x10 monitor data, ring 0, flat */
    0x00cffa000000fbffULL,      /* 0x18 guest code, ring 3, limit 0xffbfffff */
    0x00cff2000000fbffULL,      /* 0x20 guest data, ring 3, limit 0xffbfffff */
    0,                          /* 0x28 the TSS */
};
static uint32_t tss[26];                        /* 32-bit TSS: esp0 at 4, ss0 at 8 */
static uint64_t idt[32];
extern char trap_stubs[];                       /* boot.S: 16 bytes per vector */

static void tables_init(void)
{
    uint32_t t = (uint32_t)tss;
    tss[1] = (uint32_t)monitor_stack_top;
    tss[2] = 0x10;
    tss[25] = sizeof tss << 16;                 /* I/O map base beyond the limit: no bitmap */
    gdt[5] = (sizeof tss - 1) | (uint64_t)(t & 0xffffff) << 16 | 0x89ULL << 40 |
             (uint64_t)(t >> 24) << 56;
    for (unsigned v = 0; v < 32; v++) {
        uint32_t h = (uint32_t)trap_stubs + 16 * v;
        /* interrupt gates, DPL 0 - except #BP: DPL 3, so that INT3 from
         * ring 3 (a patched site) arrives as #BP rather than as #GP */
        uint64_t type = v == 3 ? 0xee : 0x8e;
        idt[v] = (h & 0xffff) | 0x08ULL << 16 | type << 40 | (uint64_t)(h >> 16) << 48;
    }
    struct dtr g = { sizeof gdt - 1, (uint32_t)gdt }, i = { sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lgdt %0; lidt %1; ljmp $0x08, $1f; 1:" : : "m"(g), "m"(i));
    __asm__ volatile("movw %w0, %%ds; movw %w0, %%es; movw %w0, %%ss" : : "r"(0x10));
    __asm__ volatile("ltr %w0" : : "r"(0x28));
    /* No device interrupts: mask both 8259s (the firmware left IRQ 0 open). */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

/* ---- the sites: classify, patch with INT3 --------------------------- */

struct site {
    uint32_t addr;
    struct insn_class c;
    uint8_t orig[8];
};
static struct site sites[MAX_SITES];
static unsigned nr_sites;
extern const uint32_t __start_lab1_sites[], __stop_lab1_sites[];

static const char *const kind_text[] = {
    [INSN_UNKNOWN] = "unknown: left alone",
    [INSN_PRIVILEGED] = "privileged: traps (#GP), emulated",
    [INSN_SENSITIVE] = "sensitive, unprivileged: patched to int3",
};

static void sites_patch(void)
{
    unsigned counts[3] = { 0, 0, 0 };
    for (const uint32_t *a = __start_lab1_sites; a < __stop_lab1_sites && nr_sites < MAX_SITES; a++) {
        struct site *s = &sites[nr_sites++];
        uint8_t *p = (uint8_t *)*a;
        s->addr = *a;
        for (unsigned k = 0; k < sizeof s->orig; k++)
            s->orig[k] = p[k];
        s->c = classify(s->orig);
        if (s->c.kind > INSN_SENSITIVE || s->c.len == 0 || s->c.len > sizeof s->orig)
            s->c = (struct insn_class){ INSN_UNKNOWN, "?", 1 };
        mprintf("monitor: site 0x%08x: %02x %02x %02x  %s -> %s\n", s->addr, p[0], p[1], p[2],
                s->c.name ? s->c.name : "?", kind_text[s->c.kind]);
        counts[s->c.kind]++;
        if (s->c.kind == INSN_SENSITIVE)
            p[0] = 0xcc;                    /* INT3 */
    }
    mprintf("monitor: %u sites: %u privileged, %u sensitive (patched), %u unknown\n", nr_sites,
            counts[INSN_PRIVILEGED], counts[INSN_SENSITIVE], counts[INSN_UNKNOWN]);
}

static struct site *site_at(uint32_t addr)
{
    for (unsigned i = 0; i < nr_sites; i++)
        if (sites[i].addr == addr && sites[i].c.kind == INSN_SENSITIVE)
            return &sites[i];
    return NULL;
}

/* ---- traps ------------------------------------------------------------ */

static unsigned gp_emulated, bp_emulated;

static __attribute__((noreturn)) void guest_stop(struct frame *f, const char *why)
{
    const uint8_t *p = (const uint8_t *)f->eip;
    mprintf("monitor: guest stopped: %s at eip 0x%08x (bytes %02x %02x %02x)\n", why, f->eip,
            p[0], p[1], p[2]);
    monitor_exit(EXIT_STOPPED);
}

/* OUT from the guest: its console (COM1 data) and its shutdown (0xF4). */
void monitor_guest_out(struct frame *f, uint16_t port, uint8_t value)
{
    (void)f;
    if (port == COM1) {
        serial_putc((char)value);
    } else if (port == 0xf4) {
        mprintf("monitor: guest shutdown, %u checks wrong; emulated %u privileged "
                "instructions (#GP) and %u sensitive ones (#BP), %u hlt\n", value,
                gp_emulated, bp_emulated, vcpu.halts);
        mprintf("monitor: virtual cpu at exit: if %u, cr0 0x%08x, gdtr 0x%08x/0x%04x, "
                "idtr 0x%08x/0x%04x\n", vcpu.vif, vcpu.cr0, vcpu.gdtr.base, vcpu.gdtr.limit,
                vcpu.idtr.base, vcpu.idtr.limit);
        monitor_exit(EXIT_GUEST(value));
    }
}

void monitor_trap(struct frame *f);
void monitor_trap(struct frame *f)
{
    if ((f->cs & 3) == 0) {
        mprintf("monitor: PANIC: vector %u in ring 0 at eip 0x%08x, error 0x%x\n", f->vector,
                f->eip, f->error);
        monitor_exit(EXIT_PANIC);
    }
    if (f->vector == 13) {
        if (f->error != 0 || !emulate_privileged(f, (const uint8_t *)f->eip))
            guest_stop(f, "#GP not emulated");
        gp_emulated++;
        return;
    }
    if (f->vector == 3) {                      /* INT3: a patched site (trap: eip after it) */
        struct site *s = site_at(f->eip - 1);
        if (!s)
            guest_stop(f, "#BP at no patched site");
        f->eip = s->addr;
        if (!emulate_sensitive(f, s->orig))
            guest_stop(f, "patched sensitive instruction not emulated");
        bp_emulated++;
        return;
    }
    mprintf("monitor: guest exception %u, error 0x%x\n", f->vector, f->error);
    guest_stop(f, "exception");
}

void monitor_main(uint32_t magic, uint32_t mbi);
void monitor_main(uint32_t magic, uint32_t mbi)
{
    (void)mbi;
    mprintf("monitor: lab 1 trap-and-emulate monitor in ring 0 (multiboot magic 0x%08x)\n",
            magic);
    tables_init();
    sites_patch();
    mprintf("monitor: entering the guest kernel at 0x%08x in ring 3 (cs 0x1b, iopl 0)\n",
            (uint32_t)guest_main);
    extern void enter_guest(uint32_t eip, uint32_t esp);
    enter_guest((uint32_t)guest_main, (uint32_t)guest_stack + sizeof guest_stack);
}
