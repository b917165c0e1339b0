/*
 * machine_util.h - helpers for the device suites (test_machine.c,
 * test_pic.c, test_pit.c, test_uart.c, test_apic.c, test_rtc.c): a fresh
 * struct machine, port and MMIO accesses as the CPU makes them, and moving
 * virtual time forward the way the run loop does (icount reaches the next
 * deadline, on_event fires).
 */
#ifndef NESTLAB_MACHINE_UTIL_H
#define NESTLAB_MACHINE_UTIL_H

#include <stdlib.h>

#include "machine.h"
#include "unit_util.h"

/* A machine with 4 MiB, no serial output or input unless asked for. */
static inline struct machine *mu_machine(FILE *serial_out, int serial_in)
{
	static struct machine *m;
	machine_destroy(m);
	struct machine_config cfg;
	machine_config_default(&cfg);
	cfg.ram_bytes = 4ull << 20;
	cfg.serial_out = serial_out;
	cfg.serial_in_fd = serial_in;
	cfg.debugcon_out = NULL;
	char err[160];
	m = machine_create(&cfg, err, sizeof err);
	if (!m)
		abort();
	m->cpu.exceptions_stop = true;
	return m;
}

static inline uint32_t mu_in(struct machine *m, uint16_t port, int size)
{
	uint32_t v = m->cpu.io_read(m->cpu.io_opaque, port, size);
	return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}
static inline void mu_out(struct machine *m, uint16_t port, int size, uint32_t v)
{
	m->cpu.io_write(m->cpu.io_opaque, port, size, v);
}
static inline uint8_t mu_in8(struct machine *m, uint16_t port) { return (uint8_t)mu_in(m, port, 1); }
static inline void mu_out8(struct machine *m, uint16_t port, uint8_t v) { mu_out(m, port, 1, v); }

static inline uint32_t mu_mmio_read(struct machine *m, uint64_t pa)
{
	return (uint32_t)m->cpu.mmio_read(&m->cpu, pa, 4);
}
static inline void mu_mmio_write(struct machine *m, uint64_t pa, uint32_t v)
{
	m->cpu.mmio_write(&m->cpu, pa, 4, v);
}

/* Advance virtual time to `until`, firing every event on the way, as the
 * run loop does between blocks. */
static inline void mu_advance(struct machine *m, uint64_t until)
{
	struct cpu *c = &m->cpu;
	while (c->event_deadline <= until) {
		if (c->event_deadline > c->icount)
			c->icount = c->event_deadline;
		c->on_event(c);
	}
	if (c->icount < until)
		c->icount = until;
}

/* What the CPU sees: INTR pending, and the INTA vector. */
static inline bool mu_intr(struct machine *m)
{
	/* NULL while no controller holds a request (machine.c) */
	return m->cpu.intr_pending && m->cpu.intr_pending(&m->cpu);
}
static inline int mu_ack(struct machine *m) { return m->cpu.intr_ack(&m->cpu); }

#endif
