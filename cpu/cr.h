/*
 * cr.h - writing control registers with their architectural checks and
 * side effects (cr.c).  MOV to CRn, LMSW and CLTS use these; so can any
 * other part of the CPU that loads CR0/CR3/CR4 the way an instruction
 * would.  Each raises #GP(0) itself on a value the CPU refuses, before
 * anything has changed.  A VM entry or exit loads state with the commit
 * halves only: the checks there are the model's own (virt.h).
 */
#ifndef NESTLAB_CR_H
#define NESTLAB_CR_H

#include <stdint.h>

#include "cpu.h"

/* CR0 bits that exist (SDM Vol. 3 2.5); the rest read as 0. */
#define CR0_DEFINED 0xe005003full

void cpu_write_cr0(struct cpu *c, uint64_t v);     /* check, then commit */
/* The two halves: the instruction's checks (#GP(0); the value to load)
 * and the load with its side effects but no checks, for VM entry/exit. */
uint64_t cpu_cr0_check(struct cpu *c, uint64_t v);
void cpu_cr0_commit(struct cpu *c, uint64_t v);
uint64_t cpu_cr4_check(struct cpu *c, uint64_t v);
void cpu_cr4_commit(struct cpu *c, uint64_t v);
/* After a world switch loaded CR0/CR3/CR4/EFER/segments directly. */
void cpu_system_state_loaded(struct cpu *c);
void cpu_write_cr3(struct cpu *c, uint64_t v);
void cpu_write_cr4(struct cpu *c, uint64_t v);
void cpu_write_cr8(struct cpu *c, uint64_t v);
/* The CR4 bits this CPU model lets software set. */
uint64_t cpu_cr4_valid(const struct cpu *c);

/* Power-on values of MSRs, DR6/DR7 and the x87/SSE control words (msr.c);
 * cpu_init() calls it. */
void cpu_msr_reset(struct cpu *c);
/* Machine-check and platform MSRs (mce.c): false if msr is none of them. */
bool cpu_msr_mce(struct cpu *c, uint32_t msr, uint64_t *v, bool write);

#endif
