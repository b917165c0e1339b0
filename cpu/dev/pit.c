/*
 * pit.c - the 8254 programmable interval timer and port 0x61.
 *
 *   port 0x40-0x42  counters 0-2      port 0x43  control word (write only)
 *   port 0x61       bit 0 GATE2, bit 1 speaker data (read/write);
 *                   bit 4 refresh toggle, bit 5 OUT2 (read only)
 *
 * Counter 0 drives IRQ0 (the system timer); counter 2 drives the speaker
 * and is what Linux and many Multiboot kernels use to calibrate the TSC:
 * they set GATE2 through port 0x61, load counter 2 in mode 0 and poll bit 5
 * (OUT2) until the count runs out.  Counter 1 (DRAM refresh) is present
 * but wired to nothing.
 *
 * Control word (8254 data sheet):
 *
 *   7 6   5 4      3 2 1   0
 *   SC    RW       M       BCD     SC = 3: read-back command
 *         0 latch                  RW: 1 LSB, 2 MSB, 3 LSB then MSB
 *
 * Time: the counter input is 1.193182 MHz and nothing else ticks it; the
 * count is computed from virtual time (icount, 1 ns per instruction) when
 * the guest reads it, and the next OUT edge is a machine timer.  Modes 0,
 * 2 and 3 are modelled exactly enough for interrupts and calibration;
 * modes 1, 4 and 5 count like mode 0 (one terminal count, no retrigger),
 * which is what kernels that probe them see first.  BCD counting is not
 * modelled (the count is binary; the BCD bit reads back).
 */
#include "machine.h"

/* icount -> PIT input ticks and back (1 instruction = 1 ns). */
static uint64_t ns_to_ticks(uint64_t ns)
{
	return ns / 1000000000ull * MACHINE_PIT_HZ + ns % 1000000000ull * MACHINE_PIT_HZ / 1000000000ull;
}

/* The first instant (icount) at which at least `ticks` ticks have passed. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
	uint64_t s = ticks / MACHINE_PIT_HZ, r = ticks % MACHINE_PIT_HZ;
	return s * 1000000000ull + (r * 1000000000ull + MACHINE_PIT_HZ - 1) / MACHINE_PIT_HZ;
}

/* Ticks counted so far by a channel (a loaded count starts on the next
 * tick; GATE low stops modes 0/1/4/5 and holds modes 2/3 at reload). */
static uint64_t elapsed(const struct machine *m, const struct pit_channel *ch)
{
	if (!ch->counting)
		return 0;
	if (!ch->gate)
		return ch->paused_ticks;
	uint64_t now = machine_now(m);
	if (now < ch->start)
		return ch->paused_ticks;
	return ch->paused_ticks + ns_to_ticks(now - ch->start);
}

static uint16_t current_count(const struct machine *m, const struct pit_channel *ch)
{
	uint64_t e = elapsed(m, ch);
	uint64_t n = ch->reload;
	switch (ch->mode) {
	case 2:
		return (uint16_t)(n - e % n);
	case 3:
		/* Counts down by two, twice per period (each half of the wave);
		 * for an odd count the halves differ by one tick, which this
		 * folds as QEMU's i8254 does: n - (2e mod n). */
		return (uint16_t)(n - (2 * e) % n);
	default:                    /* 0, 1, 4, 5: down from n, then wraps */
		return (uint16_t)(n - e);
	}
}

/* The OUT pin now. */
static bool out_level(const struct machine *m, const struct pit_channel *ch)
{
	if (!ch->counting)
		return ch->mode != 0;   /* mode 0 OUT is low after the control word */
	uint64_t e = elapsed(m, ch), n = ch->reload;
	switch (ch->mode) {
	case 2:
		return e % n != n - 1;              /* low for one tick before reload */
	case 3:
		return e % n < (n + 1) / 2;         /* high first half */
	default:
		return e >= n;                      /* goes high at terminal count */
	}
}

/* Counter 0: schedule the next rising edge of OUT0, when IRQ0 fires. */
static void pit_schedule(struct machine *m)
{
	struct pit_channel *ch = &m->pit.ch[0];
	if (!ch->counting || !ch->gate) {
		machine_timer_set(m, MT_PIT, UINT64_MAX);
		return;
	}
	uint64_t e = elapsed(m, ch), n = ch->reload, next;
	switch (ch->mode) {
	case 2:
	case 3:
		next = (e / n + 1) * n;             /* each period starts with a rising edge */
		break;
	default:
		if (e >= n) {
			machine_timer_set(m, MT_PIT, UINT64_MAX);
			return;
		}
		next = n;
		break;
	}
	machine_timer_set(m, MT_PIT, ch->start + ticks_to_ns(next - ch->paused_ticks));
}

static void pit_fire(struct machine *m, void *dev)
{
	(void)dev;
	machine_set_irq(m, 0, true);
	machine_set_irq(m, 0, false);
	pit_schedule(m);
}

static void load_count(struct machine *m, int k, uint32_t v)
{
	struct pit_channel *ch = &m->pit.ch[k];
	ch->reload = v ? v : 65536;
	/* Mode 2/3 need at least 2 (1 is illegal); treat it as 2. */
	if ((ch->mode == 2 || ch->mode == 3) && ch->reload < 2)
		ch->reload = 2;
	ch->counting = true;
	ch->paused_ticks = 0;
	ch->start = machine_now(m);
	if (k == 0)
		pit_schedule(m);
}

static void write_counter(struct machine *m, int k, uint8_t v)
{
	struct pit_channel *ch = &m->pit.ch[k];
	switch (ch->access) {
	case 1:
		load_count(m, k, v);
		break;
	case 2:
		load_count(m, k, (uint32_t)v << 8);
		break;
	default:
		if (!ch->write_hi_next) {
			ch->write_lo = v;
			ch->write_hi_next = true;
			if (ch->mode == 0)      /* writing the LSB stops a mode 0 count */
				ch->counting = false;
		} else {
			ch->write_hi_next = false;
			load_count(m, k, ch->write_lo | (uint32_t)v << 8);
		}
		break;
	}
}

static uint8_t read_counter(struct machine *m, int k)
{
	struct pit_channel *ch = &m->pit.ch[k];
	if (ch->status_latched) {
		ch->status_latched = false;
		return ch->status;
	}
	uint16_t v = ch->latched ? ch->latch : current_count(m, ch);
	uint8_t r;
	if (ch->access == 1)
		r = (uint8_t)v;
	else if (ch->access == 2)
		r = (uint8_t)(v >> 8);
	else
		r = ch->read_hi_next ? (uint8_t)(v >> 8) : (uint8_t)v;
	if (ch->access != 3 || ch->read_hi_next)
		ch->latched = false;
	if (ch->access == 3)
		ch->read_hi_next = !ch->read_hi_next;
	return r;
}

static void latch(struct machine *m, int k)
{
	struct pit_channel *ch = &m->pit.ch[k];
	if (!ch->latched) {
		ch->latched = true;
		ch->latch = current_count(m, ch);
		ch->read_hi_next = false;
	}
}

/* Read-back (SC = 3): bits 5 (not COUNT) and 4 (not STATUS) select what
 * to latch for the counters whose bits 1-3 are set. */
static void read_back(struct machine *m, uint8_t v)
{
	for (int k = 0; k < 3; k++) {
		if (!(v & (2u << k)))
			continue;
		struct pit_channel *ch = &m->pit.ch[k];
		if (!(v & 0x20))
			latch(m, k);
		if (!(v & 0x10) && !ch->status_latched) {
			ch->status_latched = true;
			ch->status = (uint8_t)((out_level(m, ch) ? 0x80 : 0) |
					       (ch->counting ? 0 : 0x40) |
					       ch->access << 4 | ch->mode << 1 | (ch->bcd ? 1 : 0));
		}
	}
}

static void control_word(struct machine *m, uint8_t v)
{
	int k = v >> 6;
	if (k == 3) {
		read_back(m, v);
		return;
	}
	if (((v >> 4) & 3) == 0) {
		latch(m, k);
		return;
	}
	struct pit_channel *ch = &m->pit.ch[k];
	ch->access = (v >> 4) & 3;
	ch->mode = (v >> 1) & 7;
	if (ch->mode > 5)
		ch->mode -= 4;          /* 6 and 7 are aliases of 2 and 3 */
	ch->bcd = v & 1;
	ch->counting = false;       /* a new control word waits for a count */
	ch->write_hi_next = ch->read_hi_next = false;
	ch->latched = ch->status_latched = false;
	if (k == 0)
		pit_schedule(m);
}

static uint32_t pit_read(void *dev, uint16_t port, int size)
{
	(void)size;
	struct machine *m = dev;
	if (port == 0x43)
		return 0xff;            /* the control word is write-only */
	return read_counter(m, port - 0x40);
}

static void pit_write(void *dev, uint16_t port, int size, uint32_t v)
{
	(void)size;
	struct machine *m = dev;
	if (port == 0x43)
		control_word(m, (uint8_t)v);
	else
		write_counter(m, port - 0x40, (uint8_t)v);
}

/* ---- port 0x61 (PC system control port B) -------------------------------------- */

static void set_gate2(struct machine *m, bool gate)
{
	struct pit_channel *ch = &m->pit.ch[2];
	if (gate == ch->gate)
		return;
	if (!gate) {
		ch->paused_ticks = elapsed(m, ch);
	} else if (ch->mode == 2 || ch->mode == 3 || ch->mode == 1 || ch->mode == 5) {
		ch->paused_ticks = 0;   /* a rising GATE restarts these modes */
		ch->start = machine_now(m);
	} else {
		ch->start = machine_now(m);
	}
	ch->gate = gate;
}

/* Bit 4 toggles with every DRAM refresh request, every 15.085 us on a PC
 * (counter 1 at its BIOS setting of 18): some delay loops count toggles. */
static uint32_t port61_read(void *dev, uint16_t port, int size)
{
	(void)port;
	(void)size;
	struct machine *m = dev;
	uint8_t v = m->pit.port61 & 3;
	if ((machine_now(m) / 15085) & 1)
		v |= 0x10;
	if (out_level(m, &m->pit.ch[2]))
		v |= 0x20;
	return v;
}

static void port61_write(void *dev, uint16_t port, int size, uint32_t v)
{
	(void)port;
	(void)size;
	struct machine *m = dev;
	m->pit.port61 = (uint8_t)(v & 3);
	set_gate2(m, v & 1);
}

/* As the firmware leaves it (SeaBIOS, read back by tests/devices/probe.c):
 * counter 0 in mode 2 with the full count 65536 (18.2 Hz, the BIOS tick),
 * GATE0/1 tied high, GATE2 low. */
void pit_attach(struct machine *m)
{
	for (int k = 0; k < 3; k++) {
		m->pit.ch[k].gate = k != 2;
		m->pit.ch[k].access = 3;
		m->pit.ch[k].mode = k == 0 ? 2 : 3;
		m->pit.ch[k].reload = 65536;
	}
	machine_timer_init(m, MT_PIT, pit_fire, NULL);
	machine_add_ports(m, 0x40, 4, m, pit_read, pit_write);
	machine_add_ports(m, 0x61, 1, m, port61_read, port61_write);
	load_count(m, 0, 0);
}
