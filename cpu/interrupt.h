/*
 * interrupt.h - what interrupt.c (delivery), iret.c and far.c (call gates)
 * share: the event record and the TSS stack fields.
 *
 * Event types follow the VMX interruption-type numbering (SDM Vol. 3
 * 25.8.3), which cpu.h's enum cpu_exc_type already uses for 3-6.
 */
#ifndef NESTLAB_INTERRUPT_H
#define NESTLAB_INTERRUPT_H

#include "cpu.h"

enum { EV_EXTINT = 0, EV_NMI = 2 };

struct event {
	int vec;
	int type;           /* EV_EXTINT, EV_NMI or enum cpu_exc_type */
	bool has_err;
	uint32_t err;
};

/* Bytes at `off` in the current TSS (#TS(TR) with `ext` past its limit). */
uint64_t tss_read(struct cpu *c, uint32_t off, int size, uint32_t ext);
/* SS:ESP for an inner ring from a 16/32-bit TSS, SS checked (#TS). */
void tss_legacy_stack(struct cpu *c, int cpl, uint32_t ext, struct cpu_segment *ss,
		      uint32_t *esp);

#endif
