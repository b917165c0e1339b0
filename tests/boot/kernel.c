/*
 * kernel.c - the boot-test kernel's core: COM1 console, kprintf, the IDT
 * and TSS, trap dispatch, and kmain, which reads the Multiboot command line
 * ("test=NAME arg=VALUE") and runs one test from ktests.c.
 *
 * The console is a polled 16550 (THR empty in LSR bit 5), so output does not
 * depend on interrupts or timing.  The run ends by writing to port 0xF4
 * (QEMU isa-debug-exit; `nestlab run` exits with the value itself, QEMU with
 * (value << 1) | 1): 0x10 success, 0x11 a check failed, 0x12 an unexpected
 * trap.
 */
#include <stdarg.h>

#include "kernel.h"

#define COM1 0x3f8

volatile uint64_t irq_ticks[256];
volatile struct fault_rec last_fault;
volatile uint64_t fault_resume;

static struct { uint16_t lo, sel; uint8_t ist, type; uint16_t mid; uint32_t hi, zero; }
	idt[256] __attribute__((aligned(16)));
static struct __attribute__((packed)) {
	uint32_t rsv0;
	uint64_t rsp[3], rsv1, ist[7], rsv2;
	uint16_t rsv3, iomap;
} tss __attribute__((aligned(16)));
static uint8_t trap_stack[16384] __attribute__((aligned(16)));
static uint8_t df_stack[8192] __attribute__((aligned(16)));

void pic_init(uint8_t mask_master)
{
	outb(0x20, 0x11); outb(0xa0, 0x11);            /* ICW1: edge, cascade, ICW4 */
	outb(0x21, 0x20); outb(0xa1, 0x28);            /* ICW2: vectors 0x20, 0x28 */
	outb(0x21, 0x04); outb(0xa1, 0x02);            /* ICW3: slave on IRQ2 */
	outb(0x21, 0x01); outb(0xa1, 0x01);            /* ICW4: 8086 mode */
	outb(0x21, mask_master); outb(0xa1, 0xff);
}

static void serial_init(void)
{
	outb(COM1 + 1, 0x00);    /* no interrupts */
	outb(COM1 + 3, 0x80);    /* DLAB */
	outb(COM1 + 0, 0x01);    /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);    /* 8N1 */
	outb(COM1 + 2, 0x07);    /* FIFO on, cleared */
	outb(COM1 + 4, 0x03);    /* DTR, RTS */
}

static void kputc(char ch)
{
	if (ch == '\n')
		kputc('\r');
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)ch);
}

static void kputc_sink(void *ctx, char ch)
{
	(void)ctx;
	kputc(ch);
}

/* The freestanding library's formatter (fs_lib.h), one character at a time
 * to COM1. */
void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fs_vformat(kputc_sink, NULL, fmt, ap);
	va_end(ap);
}

void kexit(uint32_t v)
{
	outl(0xf4, v);
	/* Bochs has no isa-debug-exit; its shutdown port 0x8900 ends the run. */
	for (const char *p = "Shutdown"; *p; p++)
		outb(0x8900, (uint8_t)*p);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void set_gate(int vec, void *handler, int dpl, int ist)
{
	uint64_t h = (uint64_t)handler;
	idt[vec].lo = (uint16_t)h;
	idt[vec].sel = KCODE;
	idt[vec].ist = (uint8_t)ist;
	idt[vec].type = (uint8_t)(0x8e | dpl << 5);     /* P, 64-bit interrupt gate */
	idt[vec].mid = (uint16_t)(h >> 16);
	idt[vec].hi = (uint32_t)(h >> 32);
	idt[vec].zero = 0;
}

static void idt_tss_init(void)
{
	for (int v = 0; v < 256; v++)
		set_gate(v, isr_table + 16 * v, 0, 0);
	set_gate(3, isr_table + 16 * 3, 3, 0);          /* INT3 allowed from ring 3 */
	set_gate(0x80, isr_table + 16 * 0x80, 3, 0);    /* the user's system call gate */
	set_gate(8, isr_table + 16 * 8, 0, 1);          /* #DF on its own stack (IST1) */
	struct { uint16_t lim; uint64_t base; } __attribute__((packed)) p = { sizeof idt - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" :: "m"(p));
	tss.rsp[0] = (uint64_t)(trap_stack + sizeof trap_stack);
	tss.ist[0] = (uint64_t)(df_stack + sizeof df_stack);
	tss.iomap = sizeof tss;
	uint64_t b = (uint64_t)&tss, lim = sizeof tss - 1;
	tss_desc[0] = (lim & 0xffff) | (b & 0xffffff) << 16 | 0x89ull << 40 |
		      ((lim >> 16) & 0xf) << 48 | ((b >> 24) & 0xff) << 56;
	tss_desc[1] = b >> 32;
	__asm__ volatile("ltr %w0" :: "r"(TSS_SEL));
}

static const char *const exc_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "?9", "#TS", "#NP",
	"#SS", "#GP", "#PF", "?15", "#MF", "#AC", "#MC", "#XM",
};

void fault_print(const char *what)
{
	if (!last_fault.hit) {
		kprintf("%s: no fault\n", what);
		return;
	}
	const char *n = last_fault.vec < 32 && exc_names[last_fault.vec] ? exc_names[last_fault.vec] : "?";
	kprintf("%s: %s (vector %lu) error %lx", what, n, last_fault.vec, last_fault.err);
	if (last_fault.vec == 14)
		kprintf(" cr2 %lx", last_fault.cr2);
	kprintf(" from ring %lu\n", last_fault.cs & 3);
	last_fault.hit = 0;
}

/* A test may take traps before the dispatch below (kdebug.c: #DB). */
int (*trap_hook)(struct frame *f);

void trap(struct frame *f)
{
	uint64_t v = f->vec;
	if (trap_hook && trap_hook(f))
		return;
	if (v < 32 && (fault_resume || v == 3)) {
		uint64_t cr2;
		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
		last_fault.vec = v;
		last_fault.err = f->err;
		last_fault.cr2 = cr2;
		last_fault.cs = f->cs;
		last_fault.hit = 1;
		if (v != 3) {
			f->rip = fault_resume;
			fault_resume = 0;
		}
		return;
	}
	if (v == 0x80 && (f->cs & 3) == 3) {
		user_trap(f);
		return;
	}
	if (v >= 0x20 && v < 0x30) {
		irq_ticks[v]++;
		if (v >= 0x28)
			outb(0xa0, 0x20);
		outb(0x20, 0x20);             /* EOI to the 8259 */
		return;
	}
	if (v >= 0x40 && v < 0x50) {
		irq_ticks[v]++;
		mmio_wr(0xfee000b0, 0);       /* EOI to the local APIC */
		return;
	}
	uint64_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	kprintf("UNEXPECTED trap: vector %lu error %lx rip %lx cs %lx cr2 %lx\n",
		v, f->err, f->rip, f->cs, cr2);
	kexit(0x12);
}

/* The Multiboot command line's "test=" and "arg=" words (QEMU puts the
 * kernel's file name first; GRUB-style loaders may not: we ignore it). */
static void parse_cmdline(const char *s, char *test, char *arg)
{
	while (*s) {
		while (*s == ' ')
			s++;
		char *dst = 0;
		if (s[0] == 't' && s[1] == 'e' && s[2] == 's' && s[3] == 't' && s[4] == '=')
			dst = test, s += 5;
		else if (s[0] == 'a' && s[1] == 'r' && s[2] == 'g' && s[3] == '=')
			dst = arg, s += 4;
		int n = 0;
		while (*s && *s != ' ') {
			if (dst && n < 31)
				dst[n++] = *s;
			s++;
		}
		if (dst)
			dst[n] = 0;
	}
}

void kmain(uint32_t magic, uint32_t info)
{
	serial_init();
	pic_init(0xff);          /* 8259 off vectors 8-15 (the BIOS's), all masked */
	char test[32] = "none", arg[32] = "";
	int ok = bootinfo_read(magic, info) == 0;
	kprintf("boot: multiboot%s magic %x%s\n", bootinfo.protocol == 2 ? "2" : "", magic,
		ok ? " (ok)" : " (WRONG)");
	parse_cmdline(bootinfo.cmdline, test, arg);
	kprintf("boot: real mode INT 0x30 through the IVT returned %x\n", rm_result);
	idt_tss_init();
	kprintf("boot: long mode, IDT and TSS loaded; test %s\n", test);
	run_test(test, arg);
	kprintf("test %s: done\n", test);
	kexit(0x10);
}
