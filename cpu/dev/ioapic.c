/*
 * ioapic.c - the I/O APIC at 0xFEC00000 (Intel 82093AA data sheet; the
 * version-0x20 register set QEMU models, with the EOI register).
 *
 *   0xFEC00000  IOREGSEL  index of the register to reach
 *   0xFEC00010  IOWIN     the register's 32 bits
 *   0xFEC00040  EOI       write a vector: level-triggered EOI (version 0x20)
 *
 *   index 0x00 ID (bits 27:24)   0x01 version: max entry 23, version 0x20
 *   index 0x02 arbitration ID    0x10 + 2n / 0x11 + 2n  redirection entry n
 *
 * Redirection entry (64 bits):
 *   63:56 destination   16 mask   15 trigger (1 level)   14 remote IRR (ro)
 *   13 polarity (1 low)  12 delivery status (ro)  11 destination mode
 *   (1 logical)   10:8 delivery mode   7:0 vector
 *
 * An edge-triggered pin sends its message on each rising edge while
 * unmasked.  A level-triggered pin sends it while the line is asserted and
 * remote IRR is clear, then sets remote IRR until the local APIC's EOI for
 * that vector (ioapic_eoi) - so a device that still asserts its line
 * interrupts again.  Pins follow the PC wiring of QEMU: ISA IRQ n on pin n,
 * except the PIT's IRQ0 on pin 2 (the MADT's interrupt source override).
 * Polarity: the ISA lines here are active high; a pin programmed active-low
 * sees the inverted level, as on the board.
 */
#include "machine.h"

#define RTE_MASK    (1ull << 16)
#define RTE_LEVEL   (1ull << 15)
#define RTE_RIRR    (1ull << 14)
#define RTE_LOW     (1ull << 13)
#define RTE_DSTAT   (1ull << 12)
#define RTE_LOGICAL (1ull << 11)
#define RTE_RO      (RTE_RIRR | RTE_DSTAT)

static bool asserted(const struct ioapic *io, int pin)
{
	bool line = (io->level >> pin) & 1;
	return (io->redir[pin] & RTE_LOW) ? !line : line;
}

/* Send pin's message to the local APIC (the only one). */
static void deliver(struct machine *m, int pin)
{
	struct ioapic *io = &m->ioapic;
	uint64_t e = io->redir[pin];
	uint32_t dest = (uint32_t)(e >> 56);
	if (!lapic_dest_match(m, dest, e & RTE_LOGICAL))
		return;
	int mode = (int)((e >> 8) & 7);
	bool level = e & RTE_LEVEL;
	switch (mode) {
	case 0:                         /* fixed */
	case 1:                         /* lowest priority: one CPU, the same */
		lapic_accept(m, (int)(e & 0xff), level);
		if (level)
			io->redir[pin] |= RTE_RIRR;
		break;
	case 4:                         /* NMI */
		m->cpu.nmi_pending = true;
		machine_intr_changed(m);
		break;
	default:                        /* SMI, INIT, ExtINT: not modelled */
		break;
	}
}

void ioapic_set_irq(struct machine *m, int pin, bool level)
{
	struct ioapic *io = &m->ioapic;
	if (pin < 0 || pin >= IOAPIC_PINS)
		return;
	bool was = asserted(io, pin);
	io->level = level ? io->level | (1u << pin) : io->level & ~(1u << pin);
	bool now = asserted(io, pin);
	uint64_t e = io->redir[pin];
	if (e & RTE_MASK)
		return;
	if (e & RTE_LEVEL) {
		if (now && !(e & RTE_RIRR))
			deliver(m, pin);
	} else if (now && !was) {
		deliver(m, pin);
	}
}

/* Could a pin raise an NMI (an unmasked entry in NMI delivery mode)? */
bool ioapic_nmi_routed(const struct machine *m)
{
	for (int pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = m->ioapic.redir[pin];
		if (!(e & RTE_MASK) && ((e >> 8) & 7) == 4)
			return true;
	}
	return false;
}

/* The local APIC finished a level-triggered vector: clear remote IRR on
 * the pins that sent it; one still asserted sends again. */
void ioapic_eoi(struct machine *m, int vector)
{
	struct ioapic *io = &m->ioapic;
	for (int pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = io->redir[pin];
		if ((e & 0xff) != (uint64_t)vector || !(e & RTE_RIRR))
			continue;
		io->redir[pin] &= ~RTE_RIRR;
		if ((e & RTE_LEVEL) && !(e & RTE_MASK) && asserted(io, pin))
			deliver(m, pin);
	}
}

static uint32_t reg_read(struct ioapic *io)
{
	uint32_t r = io->regsel & 0xff;
	if (r == 0x00)
		return io->id << 24;
	if (r == 0x01)
		return (uint32_t)(IOAPIC_PINS - 1) << 16 | 0x20;
	if (r == 0x02)
		return io->id << 24;
	if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_PINS) {
		uint64_t e = io->redir[(r - 0x10) / 2];
		return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
	}
	return 0xffffffffu;
}

static void reg_write(struct machine *m, uint32_t v)
{
	struct ioapic *io = &m->ioapic;
	uint32_t r = io->regsel & 0xff;
	if (r == 0x00) {
		io->id = (v >> 24) & 0xf;
		return;
	}
	if (r < 0x10 || r >= 0x10 + 2 * IOAPIC_PINS)
		return;
	int pin = (int)(r - 0x10) / 2;
	uint64_t e = io->redir[pin];
	if (r & 1) {
		e = (e & 0xffffffffull) | (uint64_t)(v & 0xff000000u) << 32;
	} else {
		e = (e & ~0xffffffffull) | (e & RTE_RO) | (v & ~(uint32_t)RTE_RO & 0x1ffff);
		if (!(e & RTE_LEVEL))
			e &= ~RTE_RIRR;     /* remote IRR means nothing for edge */
	}
	io->redir[pin] = e;
	/* Unmasking a level pin whose line is asserted sends at once. */
	if (!(e & RTE_MASK) && (e & RTE_LEVEL) && !(e & RTE_RIRR) && asserted(io, pin))
		deliver(m, pin);
}

static uint64_t ioapic_mmio_read(void *dev, uint64_t off, int size)
{
	struct machine *m = dev;
	(void)size;
	if (off == 0x00)
		return m->ioapic.regsel;
	if (off == 0x10)
		return reg_read(&m->ioapic);
	return 0;
}

static void ioapic_mmio_write(void *dev, uint64_t off, int size, uint64_t v)
{
	struct machine *m = dev;
	(void)size;
	if (off == 0x00)
		m->ioapic.regsel = (uint32_t)v & 0xff;
	else if (off == 0x10)
		reg_write(m, (uint32_t)v);
	else if (off == 0x40)
		ioapic_eoi(m, (int)(v & 0xff));
}

/* Reset: every pin masked, edge, active high, fixed, vector 0. */
void ioapic_attach(struct machine *m)
{
	for (int pin = 0; pin < IOAPIC_PINS; pin++)
		m->ioapic.redir[pin] = RTE_MASK;
	machine_add_mmio(m, MACHINE_IOAPIC_BASE, 0x1000, m, ioapic_mmio_read, ioapic_mmio_write,
			 NULL);
}
