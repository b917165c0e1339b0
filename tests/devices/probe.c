/*
 * probe.c - the device probe: a 32-bit Multiboot 1 kernel that reads and
 * pokes every device of the small PC and prints what it finds on COM1.
 * It runs with interrupts off (RFLAGS.IF = 0) and looks at interrupt
 * requests where the controllers hold them (8259 IRR/ISR, local APIC IRR),
 * so it needs nothing of the CPU beyond 32-bit protected mode and port and
 * MMIO access.  The transcript recorded on QEMU TCG (expected.txt) is the
 * reference: `nestlab run` must print the same (tests/devices/CMakeLists).
 *
 * It prints only what a PC defines and both machines can agree on: no
 * real-time-dependent values (counts are compared, not printed), no QEMU
 * extras (fw_cfg's DMA bit is masked).
 */
#include "probe_lib.h"

/* ---- the probes ------------------------------------------------------------------ */

static uint8_t cmos(uint8_t i) { outb(0x70, i); return inb(0x71); }
static uint32_t ioapic_rd(uint32_t r) { wr(IOAPIC, r); return rd(IOAPIC + 0x10); }
static void ioapic_wr(uint32_t r, uint32_t v) { wr(IOAPIC, r); wr(IOAPIC + 0x10, v); }

static void uart_probe(void)
{
	/* The state the firmware leaves (before our own init) is not printed:
	 * it is SeaBIOS's business.  Our init, then the registers. */
	serial_init();
	puts_("probe: serial up\n");
	/* QEMU sends at the line's pace: let the transmitter drain first */
	WAIT((inb(COM1 + 5) & 0x60) == 0x60);
	LINE("uart: ier iir lcr mcr lsr msr", 2, inb(COM1 + 1), inb(COM1 + 2), inb(COM1 + 3),
	     inb(COM1 + 4), inb(COM1 + 5), inb(COM1 + 6));
	outb(COM1 + 7, 0xa5);
	LINE("uart: scratch", 2, inb(COM1 + 7));
	outb(COM1 + 4, 0x1e);                   /* loopback */
	uint8_t msr_loop = inb(COM1 + 6);
	outb(COM1, 0xae);
	WAIT(inb(COM1 + 5) & 0x01);
	uint8_t lsr = inb(COM1 + 5), rbr = inb(COM1), lsr2 = inb(COM1 + 5);
	outb(COM1 + 4, 0x0b);
	LINE("uart: loopback msr, data ready, rbr, data ready", 2, msr_loop, lsr & 0x01, rbr,
	     lsr2 & 0x01);
	outb(COM1 + 1, 0x02);                   /* THRE interrupt */
	uint8_t iir1 = inb(COM1 + 2), iir2 = inb(COM1 + 2);
	outb(COM1 + 1, 0x00);
	LINE("uart: THRE interrupt iir, iir after", 2, iir1, iir2);
}

static void pic_init(uint8_t mask)
{
	outb(0x20, 0x11); outb(0xa0, 0x11);
	outb(0x21, 0x20); outb(0xa1, 0x28);
	outb(0x21, 0x04); outb(0xa1, 0x02);
	outb(0x21, 0x01); outb(0xa1, 0x01);
	outb(0x21, mask); outb(0xa1, 0xff);
}

static uint8_t pic_irr(void) { outb(0x20, 0x0a); return inb(0x20); }
static uint8_t pic_isr(void) { outb(0x20, 0x0b); return inb(0x20); }

static void pit_pic_probe(void)
{
	pic_init(0xfe);
	LINE("pic: imr after init", 2, inb(0x21), inb(0xa1));
	outb(0x43, 0x30);                       /* counter 0, mode 0, lo/hi */
	outb(0x40, 0x00);
	outb(0x40, 0x10);                       /* 4096 counts, 3.4 ms */
	outb(0x43, 0xc2);                       /* read-back status of counter 0 */
	uint8_t st = inb(0x40);
	LINE("pit: counter 0 status (out, mode, access)", 2, st & 0xbf);
	int seen = WAIT(pic_irr() & 1);
	outb(0x43, 0xc2);
	st = inb(0x40);
	puts_("pit: IRQ0 in the 8259 IRR: "); puts_(yes(seen)); putc_('\n');
	LINE("pit: counter 0 status after terminal count", 2, st & 0xbf);
	outb(0x20, 0x0c);                       /* poll */
	uint8_t poll = inb(0x20);
	LINE("pic: poll, isr, irr", 2, poll, pic_isr(), pic_irr());
	outb(0x20, 0x20);
	LINE("pic: isr after EOI", 2, pic_isr());

	/* Counter 2 through port 0x61, the calibration idiom. */
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);
	outb(0x43, 0xb0);                       /* counter 2, mode 0, lo/hi */
	outb(0x42, 0x00);
	outb(0x42, 0x20);                       /* 8192 counts */
	uint8_t before = inb(0x61) & 0x20;
	outb(0x43, 0x80);                       /* latch counter 2 */
	uint32_t c1 = inb(0x42); c1 |= (uint32_t)inb(0x42) << 8;
	int high = WAIT(inb(0x61) & 0x20);
	LINE("pit: port 0x61 low bits", 2, inb(0x61) & 0x03);
	LINE("pit: OUT2 after load, then after the wait", 2, before, high ? 0x20 : 0);
	puts_("pit: counter 2 latched at or below its load value: ");
	puts_(yes(c1 <= 0x2000)); putc_('\n');
	outb(0x61, inb(0x61) & ~0x03);
}

static void lapic_probe(void)
{
	LINE("lapic: id version", 8, rd(LAPIC + 0x20), rd(LAPIC + 0x30));
	LINE("lapic: lvt timer lint0 lint1 error", 8, rd(LAPIC + 0x320), rd(LAPIC + 0x350),
	     rd(LAPIC + 0x360), rd(LAPIC + 0x370));
	LINE("lapic: tpr dfr ldr", 8, rd(LAPIC + 0x80), rd(LAPIC + 0xe0), rd(LAPIC + 0xd0));
	wr(LAPIC + 0xf0, 0x1ff);
	wr(LAPIC + 0x3e0, 0x0b);                /* divide by 1 */
	wr(LAPIC + 0x320, 0x40);                /* one-shot, vector 0x40 */
	wr(LAPIC + 0x380, 200000);
	uint32_t cur = rd(LAPIC + 0x390);
	int fired = WAIT(rd(LAPIC + 0x220) & 1);
	LINE("lapic: svr, timer lvt", 8, rd(LAPIC + 0xf0), rd(LAPIC + 0x320));
	puts_("lapic: one-shot counted down and set IRR 0x40: ");
	puts_(yes(cur <= 200000 && fired && rd(LAPIC + 0x390) == 0)); putc_('\n');
	wr(LAPIC + 0x300, 0x40000 | 0x51);      /* self IPI */
	LINE("lapic: irr[0x40..0x5f] after self IPI, icr", 8, rd(LAPIC + 0x220), rd(LAPIC + 0x300));
	wr(LAPIC + 0x80, 0x60);
	LINE("lapic: ppr with tpr 0x60", 2, rd(LAPIC + 0xa0));
	wr(LAPIC + 0x80, 0);
	wr(LAPIC + 0x3e0, 0x03);
	LINE("lapic: divide", 8, rd(LAPIC + 0x3e0));
	wr(LAPIC + 0x380, 0);
}

static void ioapic_probe(void)
{
	LINE("ioapic: id version arb", 8, ioapic_rd(0), ioapic_rd(1), ioapic_rd(2));
	LINE("ioapic: pin 2 entry at reset", 8, ioapic_rd(0x14), ioapic_rd(0x15));
	/* Route the PIT (IRQ0 -> pin 2) to vector 0x45; PIC masked. */
	outb(0x21, 0xff);
	ioapic_wr(0x15, 0);
	ioapic_wr(0x14, 0x45);
	LINE("ioapic: pin 2 entry", 8, ioapic_rd(0x14), ioapic_rd(0x15));
	outb(0x43, 0x30);
	outb(0x40, 0x00);
	outb(0x40, 0x10);
	int got = WAIT(rd(LAPIC + 0x220) & (1u << 5));
	puts_("ioapic: PIT on pin 2 reached the local APIC as 0x45: ");
	puts_(yes(got)); putc_('\n');
	ioapic_wr(0x14, 0x10000);
}

static void cmos_probe(void)
{
	LINE("cmos: status a&7f b d", 2, cmos(0x0a) & 0x7f, cmos(0x0b), cmos(0x0d));
	LINE("cmos: base kb, ext kb (17/18, 30/31), 64k above 16M", 4,
	     cmos(0x15) | cmos(0x16) << 8, cmos(0x17) | cmos(0x18) << 8,
	     cmos(0x30) | cmos(0x31) << 8, cmos(0x34) | cmos(0x35) << 8);
	uint8_t b = cmos(0x0b);
	int sane = (b & 4) ? cmos(0x00) < 60 : (cmos(0x00) & 0x0f) < 10 && cmos(0x00) < 0x60;
	puts_("cmos: seconds register is a valid time: "); puts_(yes(sane)); putc_('\n');
}

static uint32_t fw_cfg(uint16_t key, int n)
{
	outw(0x510, key);
	uint32_t v = 0;
	for (int k = 0; k < n; k++)
		v |= (uint32_t)inb(0x511) << (8 * k);
	return v;
}

static void misc_probe(void)
{
	LINE("fw_cfg: signature, id&1, ram MiB, cpus", 8, fw_cfg(0, 4), fw_cfg(1, 4) & 1,
	     fw_cfg(3, 4) >> 20, fw_cfg(5, 2));
	outb(0x64, 0xaa);
	int ready = WAIT(inb(0x64) & 1);
	LINE("kbc: self-test reply", 2, ready ? inb(0x60) : 0xee);
	LINE("port 0x92", 2, inb(0x92) & 0x02);
}

/* What the firmware leaves behind (SeaBIOS under QEMU): nestlab's machine
 * starts in the same state, so a kernel that relies on it works on both. */
static void firmware_state(void)
{
	LINE("firmware: pic imr master slave", 2, inb(0x21), inb(0xa1));
	outb(0x43, 0xe2);
	LINE("firmware: pit counter 0 status (mode, access)", 2, inb(0x40) & 0x3f);
	LINE("firmware: lapic svr", 8, rd(LAPIC + 0xf0));
}

/* What the firmware leaves in memory: the BIOS data area and the ACPI
 * MADT (only the entries that describe this machine's devices are printed:
 * QEMU's table also has level-trigger overrides for PCI interrupt lines). */
static int same(const char *p, const char *s, int n)
{
	for (int k = 0; k < n; k++)
		if (p[k] != s[k])
			return 0;
	return 1;
}

static uint8_t sum(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void madt_probe(const uint8_t *t)
{
	uint32_t len = *(const uint32_t *)(t + 4);
	LINE("acpi: MADT checksum, local APIC address, flags", 8, sum(t, len),
	     *(const uint32_t *)(t + 36), *(const uint32_t *)(t + 40));
	for (uint32_t o = 44; o + 2 <= len && t[o + 1]; o += t[o + 1]) {
		const uint8_t *e = t + o;
		if (e[0] == 0)
			LINE("acpi: processor uid, apic id, flags", 2, e[2], e[3], e[4]);
		else if (e[0] == 1)
			LINE("acpi: I/O APIC id, address, gsi base", 8, e[2], *(const uint32_t *)(e + 4),
			     *(const uint32_t *)(e + 8));
		else if (e[0] == 2 && e[3] == 0)
			LINE("acpi: override IRQ0 -> gsi, flags", 8, *(const uint32_t *)(e + 4),
			     *(const uint16_t *)(e + 8));
		else if (e[0] == 4)
			LINE("acpi: local APIC NMI uid, flags, lint", 2, e[2], *(const uint16_t *)(e + 3), e[5]);
	}
}

/* A 16-bit read of low memory (the pointer laundered through asm: gcc
 * treats constant addresses below 4 KiB as null dereferences). */
static uint16_t peek16(uint32_t a)
{
	const volatile uint16_t *p;
	__asm__("" : "=r"(p) : "0"(a));
	return *p;
}

static void firmware_tables(void)
{
	LINE("bda: com1, ebda segment, base KiB, serial ports", 4, peek16(0x400), peek16(0x40e),
	     peek16(0x413), (peek16(0x410) >> 9) & 7);
	const uint8_t *rsdp = 0;
	for (uint32_t a = 0xe0000; a < 0x100000 && !rsdp; a += 16)
		if (same((const char *)a, "RSD PTR ", 8) && sum((const uint8_t *)a, 20) == 0)
			rsdp = (const uint8_t *)a;
	puts_("acpi: RSDP found: ");
	puts_(yes(rsdp != 0));
	putc_('\n');
	if (!rsdp)
		return;
	const uint8_t *rsdt = (const uint8_t *)*(const uint32_t *)(rsdp + 16);
	uint32_t n = (*(const uint32_t *)(rsdt + 4) - 36) / 4;
	LINE("acpi: RSDT checksum", 2, sum(rsdt, *(const uint32_t *)(rsdt + 4)));
	for (uint32_t k = 0; k < n; k++) {
		const uint8_t *t = (const uint8_t *)((const uint32_t *)(rsdt + 36))[k];
		if (same((const char *)t, "APIC", 4))
			madt_probe(t);
	}
}

void probe_main(uint32_t mbi)
{
	(void)mbi;
	uint8_t imr0 = inb(0x21), imr1 = inb(0xa1);
	uart_probe();
	LINE("firmware: pic imr at entry", 2, imr0, imr1);
	firmware_state();
	pit_pic_probe();
	lapic_probe();
	ioapic_probe();
	cmos_probe();
	misc_probe();
	firmware_tables();
	puts_("probe: done\n");
	probe_exit(0x10);
}
