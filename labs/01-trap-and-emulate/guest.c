/* guest.c - lab 1's guest kernel.  It is written as if it ran in ring 0 on
 * a bare machine; the monitor (monitor.c) runs it in ring 3 instead.
 *
 * It does what a kernel does at boot - CLI, LGDT, LIDT, set CR0.TS and MP,
 * HLT - and then checks that the CPU tells it the truth: SGDT returns what
 * it loaded, SMSW its CR0, PUSHF its IF, MOV from CS its ring-0 selector,
 * LAR and LSL the descriptor in its own GDT.  Each check prints one line,
 * "guest: check NAME: ok" or "... WRONG (got X, want Y)"; at the end it
 * shuts down through port 0xF4 with the number of wrong checks.
 *
 * Every system instruction is written with SITE in front, which records its
 * address in the section lab1_sites: the list the monitor classifies and
 * patches at boot (paravirt patch sites, in Linux's words).  Nothing else
 * in this file may be a system instruction.
 */
#include "monitor.h"

#define SITE "661:\n\t.pushsection lab1_sites, \"a\"\n\t.long 661b\n\t.popsection\n\t"

uint8_t guest_stack[GUEST_STACK_SIZE] __attribute__((aligned(16)));

/* The guest's own descriptor tables: null, ring-0 code, ring-0 data. */
static const uint64_t guest_gdt[3] = { 0, 0x00cf9a000000ffffULL, 0x00cf92000000ffffULL };
static const uint64_t guest_idt[32];
static unsigned wrong, checks;

static __attribute__((noinline)) void out8(uint16_t port, uint8_t v)
{
    __asm__ volatile(SITE "outb %%al, %%dx" : : "a"(v), "d"(port));
}

static void say(const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    vformat(line, sizeof line, fmt, ap);
    va_end(ap);
    for (const char *s = line; *s; s++)
        out8(0x3f8, (uint8_t)*s);
}

static void check(const char *name, const char *what, uint32_t got, uint32_t want)
{
    checks++;
    if (got == want) {
        say("guest: check %s (%s): ok\n", name, what);
        return;
    }
    wrong++;
    say("guest: check %s (%s): WRONG (got 0x%x, want 0x%x)\n", name, what, got, want);
}

static __attribute__((noinline)) uint32_t eflags(void)
{
    uint32_t v;
    __asm__ volatile(SITE "pushfl\n\tpopl %0" : "=r"(v));
    return v;
}

static __attribute__((noinline)) uint32_t read_cs(void)
{
    uint32_t v;
    __asm__ volatile(SITE "movl %%cs, %%eax" : "=a"(v));
    return v & 0xffff;
}

static __attribute__((noinline)) uint32_t read_ss(void)
{
    uint32_t v;
    __asm__ volatile(SITE "movl %%ss, %%eax" : "=a"(v));
    return v & 0xffff;
}

static void boot(const struct dtr *gdtr, const struct dtr *idtr, uint32_t *cr0)
{
    __asm__ volatile(SITE "cli");
    __asm__ volatile(SITE "lgdt (%%eax)" : : "a"(gdtr) : "memory");
    __asm__ volatile(SITE "lidt (%%eax)" : : "a"(idtr) : "memory");
    __asm__ volatile(SITE "movl %%cr0, %%eax" : "=a"(*cr0));
    *cr0 |= CR0_TS | CR0_MP;
    __asm__ volatile(SITE "movl %%eax, %%cr0" : : "a"(*cr0));
    uint32_t back;
    __asm__ volatile(SITE "movl %%cr0, %%eax" : "=a"(back));
    check("cr0", "privileged: mov to cr0, then from cr0", back, *cr0);
    __asm__ volatile(SITE "hlt");
    check("hlt", "privileged: hlt returns", 1, 1);
}

static void descriptor_tables(const struct dtr *gdtr, const struct dtr *idtr, uint32_t cr0)
{
    struct dtr g = { 0, 0 }, i = { 0, 0 };
    uint32_t msw;
    __asm__ volatile(SITE "sgdt (%%eax)" : : "a"(&g) : "memory");
    check("sgdt", "sensitive: the GDTR the guest loaded", g.base, gdtr->base);
    __asm__ volatile(SITE "sidt (%%eax)" : : "a"(&i) : "memory");
    check("sidt", "sensitive: the IDTR the guest loaded", i.base, idtr->base);
    __asm__ volatile(SITE "smsw %%eax" : "=a"(msw));
    check("smsw", "sensitive: CR0 bits 0-15 as the guest set them", msw & 0xffff, cr0 & 0xffff);
}

static void flags(void)
{
    check("pushf", "sensitive: IF after cli is 0", eflags() & EFLAGS_IF, 0);
    __asm__ volatile(SITE "sti");
    uint32_t after_sti = eflags() & EFLAGS_IF;
    __asm__ volatile("pushl $0x002\n\t" SITE "popfl" : : : "cc");     /* IF = 0 */
    uint32_t after_popf = eflags() & EFLAGS_IF;
    check("pushf after sti", "sensitive: IF after sti is 1", after_sti, EFLAGS_IF);
    check("popf", "sensitive: IF after popf of a value with IF 0 is 0", after_popf, 0);
}

static void selectors(void)
{
    uint32_t cs = read_cs(), rights = 0, limit = 0;
    uint8_t zf_lar, zf_lsl;
    check("mov from cs", "sensitive: the kernel's code selector, RPL 0", cs, GUEST_KERNEL_CS);
    check("mov from ss", "sensitive: the kernel's stack selector, RPL 0", read_ss(),
          GUEST_KERNEL_DS);
    __asm__ volatile(SITE "larl %%ecx, %%eax\n\tsetz %1" : "=a"(rights), "=q"(zf_lar) : "c"(cs));
    check("lar", "sensitive: access rights of CS in the guest's GDT, DPL 0",
          zf_lar ? rights : 0xdead, (uint32_t)(guest_gdt[1] >> 32) & 0x00f0ff00);
    __asm__ volatile(SITE "lsll %%ecx, %%eax\n\tsetz %1" : "=a"(limit), "=q"(zf_lsl) : "c"(cs));
    check("lsl", "sensitive: limit of CS in the guest's GDT", zf_lsl ? limit : 0xdead,
          0xffffffff);
}

void guest_main(void)
{
    struct dtr gdtr = { sizeof guest_gdt - 1, (uint32_t)guest_gdt };
    struct dtr idtr = { sizeof guest_idt - 1, (uint32_t)guest_idt };
    uint32_t cr0;
    say("guest: hello from the guest kernel (it believes it runs in ring 0)\n");
    boot(&gdtr, &idtr, &cr0);
    say("guest: booted: interrupts off, own GDT and IDT, cr0 0x%08x\n", cr0);
    descriptor_tables(&gdtr, &idtr, cr0);
    flags();
    selectors();
    say("guest: done: %u of %u checks wrong\n", wrong, checks);
    out8(0xf4, (uint8_t)wrong);
    for (;;)
        ;
}
