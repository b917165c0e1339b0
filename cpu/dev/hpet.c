/*
 * hpet.c - the HPET at 0xFED00000 (IA-PC HPET specification 1.0a, the
 * register set QEMU's "hpet" device has): its main counter counts virtual
 * time, so a kernel that calibrates against it sees the same clock as the
 * TSC and the APIC timer (one instruction = 1 ns).
 *
 *   000h  capabilities (ro)   63:32 period in fs (10 ns: 100 MHz, as QEMU)
 *                             15 legacy replacement capable, 13 64-bit
 *                             counter, 12:8 timers - 1 (3 timers), 7:0 rev 1,
 *                             31:16 vendor 8086h
 *   010h  configuration       0 ENABLE_CNF (the counter runs), 1 LEG_RT_CNF
 *   020h  interrupt status    write 1 to clear
 *   0F0h  main counter        writable while the counter is stopped
 *   100h + 20h*n  timer n configuration and capabilities, 108h + 20h*n its
 *                 comparator: kept as written (software reads them back)
 *
 * Not modelled yet: comparator interrupts (neither legacy replacement to
 * IRQ 0 / IRQ 8 nor I/O APIC routes); the timers never fire.
 */
#include "machine.h"

#define HPET_PERIOD_FS 10000000ull       /* 10 ns */
#define HPET_CAPS ((HPET_PERIOD_FS << 32) | 0x8086a201ull)
#define CFG_ENABLE 1ull
#define CFG_LEGACY 2ull
/* Timer n capabilities (QEMU's): 64-bit capable, IRQ routes 2 and 8 ... */
#define TIMER_CAPS 0x00f0000000000030ull

static uint64_t counter(const struct machine *m)
{
	const struct hpet *h = &m->hpet;
	if (!(h->config & CFG_ENABLE))
		return h->counter;
	return h->counter + (machine_now(m) - h->started) / 10;
}

static uint64_t hpet_reg(struct machine *m, uint64_t off)
{
	struct hpet *h = &m->hpet;
	switch (off) {
	case 0x000: return HPET_CAPS;
	case 0x010: return h->config;
	case 0x020: return h->isr;
	case 0x0f0: return counter(m);
	default: break;
	}
	if (off >= 0x100 && off < 0x100 + 0x20 * HPET_TIMERS) {
		unsigned n = (unsigned)(off - 0x100) / 0x20;
		if ((off & 0x1f) == 0)
			return TIMER_CAPS | h->timer_cfg[n];
		if ((off & 0x1f) == 8)
			return h->cmp[n];
	}
	return 0;
}

static uint64_t hpet_read(void *dev, uint64_t off, int size)
{
	uint64_t v = hpet_reg(dev, off & ~7ull) >> (8 * (off & 4));
	return size >= 8 ? v : v & ((1ull << (8 * size)) - 1);
}

static void hpet_set(struct machine *m, uint64_t off, uint64_t v)
{
	struct hpet *h = &m->hpet;
	switch (off) {
	case 0x010: {
		uint64_t now = counter(m);
		h->config = v & (CFG_ENABLE | CFG_LEGACY);
		h->counter = now;                /* go on from here, or hold it */
		h->started = machine_now(m);
		return;
	}
	case 0x020: h->isr &= ~v; return;
	case 0x0f0:
		if (!(h->config & CFG_ENABLE))
			h->counter = v;
		return;
	default: break;
	}
	if (off >= 0x100 && off < 0x100 + 0x20 * HPET_TIMERS) {
		unsigned n = (unsigned)(off - 0x100) / 0x20;
		if ((off & 0x1f) == 0)
			h->timer_cfg[n] = v & 0x7f4eull;    /* the writable bits of Tn_CONF */
		else if ((off & 0x1f) == 8)
			h->cmp[n] = v;
	}
}

/* 32-bit writes change one half of a 64-bit register. */
static void hpet_write(void *dev, uint64_t off, int size, uint64_t v)
{
	struct machine *m = dev;
	uint64_t reg = off & ~7ull, old = hpet_reg(m, reg);
	if (size == 8) {
		hpet_set(m, reg, v);
		return;
	}
	if (size != 4 || (off & 3))
		return;
	uint64_t sh = 8 * (off & 4);
	hpet_set(m, reg, (old & ~(0xffffffffull << sh)) | ((v & 0xffffffffull) << sh));
}

void hpet_attach(struct machine *m)
{
	m->hpet = (struct hpet){ 0 };
	machine_add_mmio(m, MACHINE_HPET_BASE, 0x400, m, hpet_read, hpet_write, NULL);
}
