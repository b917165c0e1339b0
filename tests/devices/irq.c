/*
 * irq.c - the interrupt probe: a 32-bit Multiboot 1 kernel that takes real
 * interrupts from every source of the small PC through a 32-bit IDT and
 * prints what arrived on COM1:
 *
 *   PIT counter 0 (mode 2, 1 kHz) -> 8259 IRQ0       -> vector 0x20
 *   UART THR-empty                -> 8259 IRQ4       -> vector 0x24
 *   RTC periodic (1024 Hz)        -> 8259 IRQ8 (slave) -> vector 0x28
 *   PIT counter 0                 -> I/O APIC pin 2  -> vector 0x45
 *   local APIC timer (periodic)   ->                    vector 0x40
 *   self-IPIs through the ICR, held back by TPR       -> vectors 0x46, 0x47
 *
 * The kernel waits with STI; HLT, so it also checks that HLT wakes on an
 * interrupt (nestlab skips virtual time to the next event).  Counts that
 * depend on real time under QEMU are compared, not printed.
 */
#include "probe_lib.h"

/* ---- GDT and IDT ------------------------------------------------------------------ */
static const uint64_t gdt[3] = {
	0,
	0x00cf9a000000ffffull,      /* 0x08: flat 32-bit code */
	0x00cf92000000ffffull,      /* 0x10: flat data */
};
static uint64_t idt[256];
static volatile uint32_t hits[256];

struct __attribute__((packed)) dtr { uint16_t limit; uint32_t base; };

void irq_handler(uint32_t vector);
static void uart_rx_irq(void);
static volatile uint32_t iir_seen;

/* One stub per vector we use: push the vector, save registers, call C. */
#define STUB(v) "irq_stub_" #v ":\n pushl $" #v "\n jmp irq_common\n"
__asm__(".text\n"
	STUB(0x20) STUB(0x24) STUB(0x28) STUB(0x40) STUB(0x45) STUB(0x46) STUB(0x47)
	STUB(0xff) STUB(0x27)
	"irq_common:\n"
	" pushal\n"
	" pushl 32(%esp)\n"
	" call irq_handler\n"
	" addl $4, %esp\n"
	" popal\n"
	" addl $4, %esp\n"
	" iret\n");
extern char irq_stub_0x20[], irq_stub_0x24[], irq_stub_0x28[], irq_stub_0x40[],
	irq_stub_0x45[], irq_stub_0x46[], irq_stub_0x47[], irq_stub_0xff[], irq_stub_0x27[];

static void set_gate(int v, void *fn)
{
	uint32_t a = (uint32_t)fn;
	idt[v] = (a & 0xffff) | (0x08u << 16) | (uint64_t)0x8e00 << 32 |
		 (uint64_t)(a >> 16) << 48;
}

static void tables_init(void)
{
	struct dtr g = { sizeof gdt - 1, (uint32_t)gdt }, i = { sizeof idt - 1, (uint32_t)idt };
	__asm__ volatile("lgdt %0\n ljmp $0x08, $1f\n1:\n"
			 "movl $0x10, %%eax\n movl %%eax, %%ds\n movl %%eax, %%es\n"
			 "movl %%eax, %%ss\n movl %%eax, %%fs\n movl %%eax, %%gs\n"
			 :: "m"(g) : "eax", "memory");
	set_gate(0x20, irq_stub_0x20);
	set_gate(0x24, irq_stub_0x24);
	set_gate(0x27, irq_stub_0x27);
	set_gate(0x28, irq_stub_0x28);
	set_gate(0x40, irq_stub_0x40);
	set_gate(0x45, irq_stub_0x45);
	set_gate(0x46, irq_stub_0x46);
	set_gate(0x47, irq_stub_0x47);
	set_gate(0xff, irq_stub_0xff);
	__asm__ volatile("lidt %0" :: "m"(i));
}

static void pic_eoi(int slave)
{
	if (slave)
		outb(0xa0, 0x20);
	outb(0x20, 0x20);
}

void irq_handler(uint32_t vector)
{
	hits[vector]++;
	switch (vector) {
	case 0x20: pic_eoi(0); break;
	case 0x24: {
		uint8_t iir = inb(COM1 + 2) & 0x0f;
		iir_seen |= 1u << iir;
		if (iir == 0x04 || iir == 0x0c)
			uart_rx_irq();           /* received data, or its timeout */
		else if (iir == 0x02)            /* THRE: reading IIR cleared it */
			outb(COM1 + 1, inb(COM1 + 1) & ~0x02);
		/* 0x01: a request already served (an edge that came while
		 * the handler was reading): nothing to do */
		pic_eoi(0);
		break;
	}
	case 0x28:
		outb(0x70, 0x0c);
		(void)inb(0x71);                /* reading C lowers IRQ8 */
		pic_eoi(1);
		break;
	case 0x27: case 0xff: break;         /* spurious: no EOI */
	default: wr(LAPIC + 0xb0, 0); break; /* local APIC vectors */
	}
}

static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }

/* sti; hlt until `n` interrupts on `vector`, bounded; returns the count. */
static uint32_t wait_hits(int vector, uint32_t n)
{
	for (uint32_t k = 0; hits[vector] < n && k < 100000; k++)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	return hits[vector];
}

static void pic_init(uint8_t master_mask, uint8_t slave_mask)
{
	outb(0x20, 0x11); outb(0xa0, 0x11);
	outb(0x21, 0x20); outb(0xa1, 0x28);
	outb(0x21, 0x04); outb(0xa1, 0x02);
	outb(0x21, 0x01); outb(0xa1, 0x01);
	outb(0x21, master_mask); outb(0xa1, slave_mask);
}

static void report(const char *what, int ok)
{
	puts_(what);
	puts_(yes(ok));
	putc_('\n');
}

/* ---- serial input with interrupts (only with `input` on the command line) ----- */
static char rx[64];
static volatile uint32_t rx_len;

static void uart_rx_irq(void)
{
	while (inb(COM1 + 5) & 1) {
		uint8_t b = inb(COM1);
		if (rx_len < sizeof rx - 1)
			rx[rx_len++] = (char)b;
	}
}

/* Read a line the harness feeds on stdin, by RX interrupts with the FIFO
 * trigger at 14 bytes, and print what follows its last ':' (bytes a
 * machine may drop when the FIFO is reset precede a "::" marker), and
 * which receive interrupts came: "data available" at the trigger level,
 * "character timeout" for the tail of the line. */
static void input_probe(void)
{
	outb(COM1 + 2, 0xc7);         /* FIFO on and cleared, trigger level 14 */
	(void)inb(COM1);              /* QEMU looks for more input after an RBR read */
	outb(0x21, 0xef);
	outb(COM1 + 1, 0x01);
	for (uint32_t k = 0; k < 1000000; k++) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		if (rx_len && rx[rx_len - 1] == '\n')
			break;
	}
	outb(COM1 + 1, 0x00);
	outb(0x21, 0xff);
	rx[rx_len] = 0;
	const char *t = rx;
	for (const char *p = rx; *p; p++)
		if (*p == ':')
			t = p + 1;
	puts_("irq: received by RX interrupts: ");
	puts_(t);
	if (!rx_len || rx[rx_len - 1] != '\n')
		puts_(" (no end of line)\n");
	report("irq: IIR data available (0x04) seen: ", iir_seen & (1u << 0x04));
	report("irq: IIR character timeout (0x0C) seen: ", iir_seen & (1u << 0x0c));
}

static int has_word(uint32_t mbi, const char *w)
{
	const uint32_t *info = (const uint32_t *)mbi;
	if (!(info[0] & 4))
		return 0;
	for (const char *s = (const char *)info[4]; *s; s++) {
		int k = 0;
		while (w[k] && s[k] == w[k])
			k++;
		if (!w[k])
			return 1;
	}
	return 0;
}

void probe_main(uint32_t mbi)
{
	serial_init();
	puts_("irq: serial up\n");
	tables_init();
	pic_init(0xff, 0xff);

	/* PIT through the 8259. */
	outb(0x43, 0x34);
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);
	outb(0x21, 0xfe);
	report("irq: PIT 1 kHz via 8259, 5 interrupts on 0x20: ", wait_hits(0x20, 5) >= 5);
	outb(0x21, 0xff);

	/* UART THR-empty via IRQ4. */
	outb(0x21, 0xef);
	outb(COM1 + 1, 0x02);
	report("irq: UART THRE via IRQ4, one interrupt on 0x24: ", wait_hits(0x24, 1) == 1);
	outb(0x21, 0xff);

	/* RTC periodic via the slave 8259. */
	outb(0x70, 0x0a); outb(0x71, 0x26);          /* 1024 Hz */
	outb(0x70, 0x0b); outb(0x71, 0x42);          /* PIE, 24-hour */
	outb(0x70, 0x0c); (void)inb(0x71);
	outb(0x21, 0xfb);
	outb(0xa1, 0xfe);
	report("irq: RTC periodic via IRQ8, 3 interrupts on 0x28: ", wait_hits(0x28, 3) >= 3);
	outb(0x70, 0x0b); outb(0x71, 0x02);
	outb(0xa1, 0xff);
	outb(0x21, 0xff);

	/* PIT through the I/O APIC, pin 2. */
	wr(LAPIC + 0xf0, 0x1ff);
	wr(IOAPIC, 0x15); wr(IOAPIC + 0x10, 0);
	wr(IOAPIC, 0x14); wr(IOAPIC + 0x10, 0x45);
	report("irq: PIT via I/O APIC pin 2, 3 interrupts on 0x45: ", wait_hits(0x45, 3) >= 3);
	wr(IOAPIC, 0x14); wr(IOAPIC + 0x10, 0x10045);
	outb(0x43, 0x30);                             /* PIT quiet: mode 0, one count */
	outb(0x40, 1); outb(0x40, 0);

	/* Local APIC timer, periodic. */
	wr(LAPIC + 0x3e0, 0x0b);
	wr(LAPIC + 0x320, 0x20040);
	wr(LAPIC + 0x380, 100000);
	report("irq: LAPIC periodic timer, 5 interrupts on 0x40: ", wait_hits(0x40, 5) >= 5);
	wr(LAPIC + 0x320, 0x10040);
	wr(LAPIC + 0x380, 0);

	/* Self-IPIs: taken at once with IF=1, held back by TPR. */
	sti();
	wr(LAPIC + 0x300, 0x40000 | 0x46);
	__asm__ volatile("nop; nop" ::: "memory");
	cli();
	report("irq: self-IPI 0x46 taken right away: ", hits[0x46] == 1);
	wr(LAPIC + 0x80, 0x50);
	sti();
	wr(LAPIC + 0x300, 0x40000 | 0x47);
	__asm__ volatile("nop; nop" ::: "memory");
	cli();
	uint32_t held = hits[0x47];
	wr(LAPIC + 0x80, 0x00);
	sti();
	__asm__ volatile("nop; nop" ::: "memory");
	cli();
	report("irq: self-IPI 0x47 held by TPR 0x50, then taken: ", held == 0 && hits[0x47] == 1);
	report("irq: no spurious interrupts: ", hits[0xff] == 0 && hits[0x27] == 0);
	if (has_word(mbi, "input"))
		input_probe();
	puts_("irq: done\n");
	probe_exit(0x10);
}
