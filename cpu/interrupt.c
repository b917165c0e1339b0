/*
 * interrupt.c - delivering exceptions and interrupts (BRING-UP VERSION).
 *
 * The system-mode work replaces this file with delivery through the IVT (real
 * mode) and the IDT (protected and long mode): gates, privilege checks, the
 * stack switch through the TSS (RSP0, IST), error codes, #DF and shutdown.
 * Until then an exception that is not reported to the caller
 * (exceptions_stop) ends the run with an emulator error that says so.
 */
#include <stdio.h>

#include "flags.h"
#include "mem.h"

bool cpu_intr_allowed(struct cpu *c)
{
	return (cpu_get_rflags(c) & FLAG_IF) && c->icount >= c->intr_inhibit_until;
}

static _Noreturn void not_yet(struct cpu *c, const char *what, int vector)
{
	snprintf(c->error, sizeof c->error,
		 "%s %d at rip %#llx: delivery through the IDT is not implemented yet",
		 what, vector, (unsigned long long)c->rip);
	cpu_exception_noerr(c, -1);
}

void cpu_deliver_exception(struct cpu *c)
{
	not_yet(c, "exception", c->exc_vector);
}

void cpu_deliver_interrupt(struct cpu *c, int vector)
{
	not_yet(c, "interrupt", vector);
}

void cpu_deliver_nmi(struct cpu *c)
{
	not_yet(c, "NMI", VEC_NMI);
}
