/*
 * cpu.c - creating a CPU, resetting it, and raising exceptions.
 *
 * cpu_exception() is how every handler reports a fault: it records the vector
 * and error code and unwinds to cpu_run() (exec.c).  Vector -1 is not an
 * architectural event but an emulator error whose text is in cpu->error;
 * the run then ends with CPU_STOP_ERROR.
 */
#include <stdio.h>
#include <stdlib.h>

#include "arch.h"
#include "cr.h"
#include "dcache.h"
#include "flags.h"
#include "mem.h"
#include "virt.h"

int cpu_init(struct cpu *c, const struct cpu_model *model, uint64_t ram_bytes)
{
	memset(c, 0, sizeof *c);
	ram_bytes = (ram_bytes + 0xfff) & ~0xfffull;
	if (ram_bytes == 0)
		return -1;
	c->ram = calloc(1, ram_bytes);
	c->page_code = calloc(ram_bytes >> 12, 1);
	if (!c->ram || !c->page_code) {
		free(c->ram);
		free(c->page_code);
		return -1;
	}
	c->ram_size = ram_bytes;
	c->model = model;
	c->exc_vector = -1;
	cpu_tlb_flush(c);
	if (dcache_init(c) < 0) {
		free(c->ram);
		free(c->page_code);
		return -1;
	}
	cpu_reset_flat64(c);
	cpu_msr_reset(c);
	c->virt_deadline = UINT64_MAX;
	c->vops = virt_ops_for(model);
	if (c->vops && c->vops->init && c->vops->init(c) < 0) {
		cpu_free(c);
		return -1;
	}
	return 0;
}

void cpu_free(struct cpu *c)
{
	if (c->vops && c->vops->fini)
		c->vops->fini(c);
	c->vops = NULL;
	dcache_free(c);
	free(c->ram);
	free(c->page_code);
	c->ram = NULL;
	c->page_code = NULL;
}

/* A TLB entry maps a linear page and does not depend on the code size, so a
 * mode change keeps the TLB (32-bit code under a 64-bit kernel switches
 * often); decoded blocks are per mode, and chains between them are dropped. */
void cpu_set_mode(struct cpu *c, enum cpu_mode mode)
{
	c->mode = mode;
	dcache_chain_reset(c);
	c->block_break = true;
}

/* The code size follows from CR0.PE, EFLAGS.VM, EFER.LMA and CS.L/CS.D
 * (SDM Vol. 3 2.2 and 5.2.1): call after any of them changes. */
void cpu_update_mode(struct cpu *c)
{
	enum cpu_mode m;
	uint16_t cs = c->seg[SEG_CS].attr;
	if (!(c->cr0 & CR0_PE) || (c->rflags & FLAG_VM))
		m = CPU_MODE16;
	else if ((c->efer & EFER_LMA) && (cs & SEG_ATTR_L))
		m = CPU_MODE64;
	else
		m = (cs & SEG_ATTR_DB) ? CPU_MODE32 : CPU_MODE16;
	if (m != c->mode)
		cpu_set_mode(c, m);
}

/* A flat state for instruction-level work: CPL 3 style 64-bit code, all
 * segment bases 0, paging off (linear = physical; see mem.c), flags 0x2. */
void cpu_reset_flat64(struct cpu *c)
{
	memset(c->gpr, 0, sizeof c->gpr);
	c->rip = 0;
	c->rflags = FLAG_FIXED1;
	c->lf.live = false;
	for (int s = 0; s < 6; s++) {
		c->seg[s].sel = 0;
		c->seg[s].base = 0;
		c->seg[s].limit = 0xffffffff;
		c->seg[s].attr = 0;
	}
	c->cr0 = 1;               /* PE */
	c->cr4 = 0;
	c->efer = (1 << 8) | (1 << 10);  /* LME, LMA */
	c->cpl = 3;
	c->halted = false;
	c->shutdown = false;
	c->event_deadline = UINT64_MAX;
	c->exc_vector = -1;
	cpu_set_mode(c, CPU_MODE64);
	cpu_tlb_flush(c);              /* a reset forgets every translation */
}

_Noreturn void cpu_exception(struct cpu *c, int vector, uint32_t error_code)
{
	c->exc_vector = vector;
	c->exc_error = error_code;
	c->exc_has_error = true;
	c->exc_type = EXC_TYPE_HW;
	if (!c->unwind) {
		fprintf(stderr, "nestlab: internal error: exception %d outside cpu_run\n", vector);
		abort();
	}
	longjmp(*c->unwind, 1);
}

_Noreturn void virt_exit(struct cpu *c)
{
	c->exc_vector = CPU_UNWIND_VMEXIT;
	c->exc_has_error = false;
	if (!c->unwind) {
		fprintf(stderr, "nestlab: internal error: VM exit outside cpu_run\n");
		abort();
	}
	longjmp(*c->unwind, 1);
}

_Noreturn void cpu_exception_noerr(struct cpu *c, int vector)
{
	c->exc_vector = vector;
	c->exc_error = 0;
	c->exc_has_error = false;
	c->exc_type = EXC_TYPE_HW;
	if (!c->unwind) {
		fprintf(stderr, "nestlab: internal error: exception %d outside cpu_run\n", vector);
		abort();
	}
	longjmp(*c->unwind, 1);
}
