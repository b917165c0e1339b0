/*
 * seg.h - segmentation as the system-mode handlers share it: reading
 * descriptors from the GDT/LDT, turning them into segment-register caches,
 * the checks of a code-segment load, and committing CS (and with it CPL and
 * the code size) in one place.
 *
 * A segment descriptor (SDM Vol. 3 3.4.5, Figure 3-8), as one 64-bit word:
 *
 *   63    56 55 54 53 52 51  48 47 46 45 44 43  40 39        16 15        0
 *  [base    ][G][DB][L][AVL][lim ][P][DPL][S][type ][base 23:0   ][limit 15:0]
 *   31:24                 19:16
 *
 * struct cpu_segment keeps bits 47:40 and 55:52 as "attr" in the VMCS
 * access-rights layout (arch.h), the limit expanded to bytes (G scales it by
 * 4 KiB) and the base.  System descriptors (LDT, TSS, call gates) in long
 * mode are 16 bytes: the second word holds base (or offset) bits 63:32.
 *
 * Who uses what: seg.c loads data segments (MOV/POP Sreg, LDS ...), far.c
 * loads CS for far JMP/CALL/RET, interrupt.c for delivery and IRET,
 * syscall.c for the fast system calls, desc.c for LLDT/LTR/LAR/LSL/VERx.
 */
#ifndef NESTLAB_SEG_H
#define NESTLAB_SEG_H

#include "arch.h"
#include "cpu.h"
#include "mem.h"

/* Descriptor fields (the type nibble of code/data segments: bit 3 code,
 * bit 2 conforming (code) or expand-down (data), bit 1 readable (code) or
 * writable (data), bit 0 accessed; SDM Vol. 3 Table 3-1). */
#define DESC_TYPE_CODE   0x8
#define DESC_TYPE_CONF   0x4      /* code: conforming */
#define DESC_TYPE_EXPDN  0x4      /* data: expand-down */
#define DESC_TYPE_RW     0x2      /* code: readable, data: writable */
#define DESC_TYPE_ACC    0x1

/* System-descriptor types (SDM Vol. 3 Table 3-2; long mode: Table 3-2's
 * 64-bit column, where 2 is the LDT, 9/B the 64-bit TSS, C call gate,
 * E/F interrupt/trap gate). */
enum desc_sys_type {
	SYS_TSS16_AVAIL = 1, SYS_LDT = 2, SYS_TSS16_BUSY = 3, SYS_CALL16 = 4,
	SYS_TASK = 5, SYS_INT16 = 6, SYS_TRAP16 = 7, SYS_TSS_AVAIL = 9,
	SYS_TSS_BUSY = 11, SYS_CALL = 12, SYS_INT = 14, SYS_TRAP = 15,
};

static inline uint16_t desc_attr(uint64_t d)
{
	return (uint16_t)((d >> 40) & 0xf0ff);
}

static inline uint32_t desc_limit(uint64_t d)
{
	uint32_t l = (uint32_t)(d & 0xffff) | (uint32_t)((d >> 32) & 0xf0000);
	return (d & (1ull << 55)) ? (l << 12) | 0xfff : l;
}

static inline uint64_t desc_base(uint64_t d)
{
	return ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
}

static inline int desc_dpl(uint64_t d) { return (int)((d >> 45) & 3); }
static inline bool desc_present(uint64_t d) { return (d >> 47) & 1; }
static inline bool desc_is_sys(uint64_t d) { return !((d >> 44) & 1); }
static inline unsigned desc_type(uint64_t d) { return (unsigned)((d >> 40) & 0xf); }
static inline bool desc_is_code(uint64_t d)
{
	return !desc_is_sys(d) && (desc_type(d) & DESC_TYPE_CODE);
}

/* addr_canonical() is in mem.h. */

/* Protected mode proper: CR0.PE and not virtual-8086 mode. */
static inline bool seg_protected(const struct cpu *c)
{
	return (c->cr0 & CR0_PE) && !(c->rflags & FLAG_VM);
}

/* IA-32e mode (long mode active: 64-bit or compatibility submode). */
static inline bool seg_long(const struct cpu *c)
{
	return (c->efer & EFER_LMA) != 0;
}

/* Implicit supervisor accesses to descriptor tables, the IDT and the TSS
 * (SDM Vol. 3 5.5: "implicit supervisor-mode accesses" are allowed at any
 * CPL).  They go through paging's mem_read_sys()/mem_write_sys(). */
uint64_t sys_read(struct cpu *c, uint64_t lin, int size);
void sys_write(struct cpu *c, uint64_t lin, int size, uint64_t v);

/* Fill a segment cache from a descriptor. */
void seg_from_desc(struct cpu_segment *s, uint16_t sel, uint64_t d);
/* Read the 8-byte descriptor a selector names in the GDT or LDT.  Outside
 * the table: exception `vec` with error code (sel & ~3) | ext. */
uint64_t seg_read_desc(struct cpu *c, uint16_t sel, int vec, uint32_t ext);
/* The second word of a 16-byte long-mode system descriptor. */
uint64_t seg_read_desc_hi(struct cpu *c, uint16_t sel, int vec, uint32_t ext);
/* Set the accessed bit in memory if it is clear (SDM Vol. 3 3.4.5.1). */
void seg_set_accessed(struct cpu *c, uint16_t sel, uint64_t d);

/* Commit a new CS (with CPL = the selector's RPL) and update the code size;
 * chains of decoded blocks are dropped if the CS base moved (they key on
 * RIP and privilege). */
void seg_commit_cs(struct cpu *c, const struct cpu_segment *cs);
/* A real-mode / virtual-8086 segment: base = sel << 4. */
void seg_real(struct cpu *c, int seg, uint16_t sel);
/* Check that sel:desc may be the stack segment at privilege `cpl`
 * (SDM Vol. 3 6.12.1, IRET/RET "Operation"); raise `vec` with the
 * selector as error code otherwise.  A null SS is the caller's business. */
void seg_check_ss(struct cpu *c, uint16_t sel, uint64_t d, int cpl, int vec, uint32_t ext);
/* After a return to an outer level: data segments the new CPL may not use
 * become null (SDM Vol. 3 IRET and RET "Operation"). */
void seg_null_inaccessible(struct cpu *c);
/* Validate the CS named by a far return or IRET (RPL >= CPL); returns the
 * descriptor.  Raises #GP(sel) / #NP(sel). */
uint64_t seg_check_return_cs(struct cpu *c, uint16_t sel);
/* Check and build the SS a return to an outer ring (or IRET in 64-bit
 * mode) pops; #GP(0) for a null SS unless to64 and cpl < 3. */
void seg_ret_ss(struct cpu *c, uint16_t sel, int cpl, bool to64, struct cpu_segment *ss);
/* Fault for a data access outside a segment's limits or rights. */
void seg_check_slow(struct cpu *c, int seg, uint64_t off, int size, bool write);

#endif
