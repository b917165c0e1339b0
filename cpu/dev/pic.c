/*
 * pic.c - the 8259A programmable interrupt controller pair of the PC.
 *
 *   IRQ0-7  -> master (ports 0x20 command, 0x21 data) --INTR--> CPU/LAPIC LINT0
 *   IRQ8-15 -> slave  (ports 0xA0, 0xA1) --INT--> master IR2 (the cascade)
 *
 * Each chip has three 8-bit registers (8259A data sheet, "Interrupt
 * Sequence"): IRR (requests seen), ISR (in service), IMR (masked).  An
 * edge-triggered input sets its IRR bit on a rising edge; a level-triggered
 * one (ELCR, ports 0x4D0/0x4D1) while it is high.  INTA moves the highest
 * priority unmasked request from IRR to ISR and gives the vector
 * (ICW2 base + IR number); EOI (OCW2) clears the ISR bit again.
 *
 * Programming: a write to the command port with bit 4 set is ICW1 and starts
 * the initialization sequence ICW2 (vector base), ICW3 (cascade wiring,
 * only when ICW1.SNGL = 0), ICW4 (only when ICW1.IC4: bit 1 AEOI).  Other
 * command writes are OCW2 (bit 3 = 0: EOI, specific EOI, rotation) or
 * OCW3 (bit 3 = 1: read IRR/ISR select, poll, special mask).  Data-port
 * writes outside the sequence set the IMR (OCW1).
 *
 * Not modelled: special fully nested mode, buffered mode, 8080 mode.
 */
#include "machine.h"

static struct pic8259 *chip_of(struct machine *m, int irq)
{
	return &m->pic.chip[irq >> 3];
}

/* Priority order starts after `lowest` (rotation); returns the IR number
 * of the highest-priority bit of mask, or -1. */
static int highest(const struct pic8259 *p, uint8_t mask)
{
	for (int k = 1; k <= 8; k++) {
		int ir = (p->lowest + k) & 7;
		if (mask & (1u << ir))
			return ir;
	}
	return -1;
}

/* The request this chip would present: the highest unmasked IRR bit with
 * a priority above everything in service (special mask mode lets any
 * unmasked IR through that is not itself in service). */
static int chip_pending(const struct pic8259 *p)
{
	int req = highest(p, (uint8_t)(p->irr & ~p->imr));
	if (req < 0)
		return -1;
	uint8_t isr = p->special_mask ? (uint8_t)(p->isr & ~p->imr) : p->isr;
	int cur = highest(p, isr);
	if (cur < 0)
		return req;
	/* Compare in rotated priority order: lower distance = higher priority. */
	int dreq = (req - p->lowest - 1) & 7, dcur = (cur - p->lowest - 1) & 7;
	return dreq < dcur ? req : -1;
}

/* The slave's INT output is the master's IR2 input. */
static void update_cascade(struct machine *m)
{
	struct pic8259 *master = &m->pic.chip[0];
	bool slave_int = chip_pending(&m->pic.chip[1]) >= 0;
	if (slave_int)
		master->irr |= 1u << 2;
	else if (!(master->elcr & 4))
		master->irr &= (uint8_t)~(1u << 2);
	master->last_level = (uint8_t)((master->last_level & ~4u) | (slave_int ? 4u : 0));
}

void pic_set_irq(struct machine *m, int irq, bool level)
{
	struct pic8259 *p = chip_of(m, irq);
	uint8_t bit = (uint8_t)(1u << (irq & 7));
	if (p->elcr & bit) {                    /* level-triggered */
		if (level)
			p->irr |= bit;
		else
			p->irr &= (uint8_t)~bit;
	} else if (level && !(p->last_level & bit)) {
		p->irr |= bit;                      /* rising edge */
	}
	p->last_level = (uint8_t)(level ? p->last_level | bit : p->last_level & ~bit);
	if (irq >= 8)
		update_cascade(m);
}

bool pic_intr(const struct machine *m)
{
	return chip_pending(&m->pic.chip[0]) >= 0;
}

/* INTA on one chip: IRR -> ISR (unless AEOI), edge requests are consumed. */
static int chip_ack(struct pic8259 *p, int ir)
{
	uint8_t bit = (uint8_t)(1u << ir);
	if (!(p->elcr & bit))
		p->irr &= (uint8_t)~bit;
	if (p->aeoi) {
		if (p->rotate_on_aeoi)
			p->lowest = (uint8_t)ir;
	} else {
		p->isr |= bit;
	}
	return (p->vector_base & 0xf8) | ir;
}

/* The INTA cycle.  A request that went away before INTA reads as IR7 of
 * the chip (the 8259A's spurious interrupt; SDM-era PC practice). */
int pic_ack(struct machine *m)
{
	struct pic8259 *master = &m->pic.chip[0], *slave = &m->pic.chip[1];
	int ir = chip_pending(master);
	int vector;
	if (ir < 0) {
		vector = (master->vector_base & 0xf8) | 7;
	} else if (ir == 2 && !master->single) {
		chip_ack(master, 2);
		int sir = chip_pending(slave);
		vector = sir < 0 ? (slave->vector_base & 0xf8) | 7 : chip_ack(slave, sir);
		update_cascade(m);
	} else {
		vector = chip_ack(master, ir);
	}
	return vector;
}

/* ---- programming ---------------------------------------------------------------- */

static void icw1(struct pic8259 *p, uint8_t v)
{
	p->icw_step = 2;
	p->icw4_needed = v & 1;
	p->single = (v & 2) != 0;
	p->imr = 0;
	p->isr = 0;
	p->irr = 0;
	p->last_level = 0;
	p->lowest = 7;
	p->read_isr = false;
	p->special_mask = false;
	p->aeoi = false;
	p->rotate_on_aeoi = false;
	/* ICW1.LTIM (bit 3) is ignored by the PIIX-style chipset QEMU models;
	 * trigger mode comes from ELCR there, so it does here. */
}

static void ocw2(struct pic8259 *p, uint8_t v)
{
	int cmd = v >> 5;
	int ir;
	switch (cmd) {
	case 1: /* non-specific EOI */
	case 5: /* rotate on non-specific EOI */
		ir = highest(p, p->isr);
		if (ir >= 0) {
			p->isr &= (uint8_t)~(1u << ir);
			if (cmd == 5)
				p->lowest = (uint8_t)ir;
		}
		break;
	case 3: /* specific EOI */
	case 7: /* rotate on specific EOI */
		p->isr &= (uint8_t)~(1u << (v & 7));
		if (cmd == 7)
			p->lowest = v & 7;
		break;
	case 4: p->rotate_on_aeoi = true; break;
	case 0: p->rotate_on_aeoi = false; break;
	case 6: p->lowest = v & 7; break;   /* set priority */
	default: break;                      /* 2: no operation */
	}
}

static void ocw3(struct pic8259 *p, uint8_t v)
{
	if (v & 2)
		p->read_isr = v & 1;
	if (v & 4)
		p->poll = true;
	if (v & 0x40)
		p->special_mask = (v & 0x20) != 0;
}

static void pic_write(void *dev, uint16_t port, int size, uint32_t val)
{
	struct machine *m = dev;
	(void)size;
	struct pic8259 *p = &m->pic.chip[(port & 0x80) ? 1 : 0];
	uint8_t v = (uint8_t)val;
	if (!(port & 1)) {
		if (v & 0x10)
			icw1(p, v);
		else if (v & 0x08)
			ocw3(p, v);
		else
			ocw2(p, v);
	} else {
		switch (p->icw_step) {
		case 2:
			p->vector_base = v & 0xf8;
			p->icw_step = p->single ? (p->icw4_needed ? 4 : 0) : 3;
			break;
		case 3:
			p->icw_step = p->icw4_needed ? 4 : 0;
			break;
		case 4:
			p->aeoi = (v & 2) != 0;
			p->icw_step = 0;
			break;
		default:
			p->imr = v;
			break;
		}
	}
	update_cascade(m);
	machine_intr_changed(m);
}

/* Poll mode (OCW3 bit 2): the next read of either port is an INTA without
 * the vector: bit 7 = request present, bits 2:0 = IR. */
static uint32_t pic_read(void *dev, uint16_t port, int size)
{
	struct machine *m = dev;
	(void)size;
	int which = (port & 0x80) ? 1 : 0;
	struct pic8259 *p = &m->pic.chip[which];
	if (p->poll) {
		p->poll = false;
		int ir = chip_pending(p);
		if (ir < 0)
			return 0;
		chip_ack(p, ir);
		update_cascade(m);
		machine_intr_changed(m);
		return 0x80u | (uint32_t)ir;
	}
	if (port & 1)
		return p->imr;
	return p->read_isr ? p->isr : p->irr;
}

static uint32_t elcr_read(void *dev, uint16_t port, int size)
{
	struct machine *m = dev;
	(void)size;
	return m->pic.chip[port & 1].elcr;
}

/* ELCR: IRQ0, 1, 2, 8 and 13 are always edge (PIIX ELCR masks 0xF8, 0xDE). */
static void elcr_write(void *dev, uint16_t port, int size, uint32_t v)
{
	struct machine *m = dev;
	(void)size;
	m->pic.chip[port & 1].elcr = (uint8_t)(v & ((port & 1) ? 0xde : 0xf8));
}

/* As the firmware leaves it under QEMU (SeaBIOS; read back by
 * tests/devices/probe.c): master vectors at 0x08, slave at 0x70, unmasked
 * IRQ0 (timer), 1 (keyboard), 2 (cascade), 6 (floppy), 8 (RTC), 12 (mouse),
 * 13 (FPU) and 14 (disk). */
void pic_attach(struct machine *m)
{
	for (int k = 0; k < 2; k++) {
		struct pic8259 *p = &m->pic.chip[k];
		icw1(p, 0x11);
		p->icw_step = 0;
		p->vector_base = k ? 0x70 : 0x08;
		p->imr = k ? 0x8e : 0xb8;
	}
	machine_add_ports(m, 0x20, 2, m, pic_read, pic_write);
	machine_add_ports(m, 0xa0, 2, m, pic_read, pic_write);
	machine_add_ports(m, 0x4d0, 2, m, elcr_read, elcr_write);
}
