/*
 * pending.c - TEMPORARY during bring-up: a weak #UD handler for every opcode
 * in opcodes.def, so the tree links while handler files are being written.
 * A real handler in alu.c, shift.c ... overrides its weak twin.  This file
 * is deleted once every form has its handler; tests/unit checks that
 * nothing still resolves here (cpu_pending_count).
 */
#include "cpu.h"
#include "insn.h"

int cpu_pending_hits;

#define OP(name, map, byte, ext, pfx, flags) \
	__attribute__((weak)) void op_##name(struct cpu *c, const struct insn *i); \
	__attribute__((weak)) void op_##name(struct cpu *c, const struct insn *i) \
	{ (void)i; cpu_pending_hits++; cpu_ud(c); }
#include "opcodes.def"
#undef OP
