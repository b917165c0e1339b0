/*
 * enc.h - a small x86-64 encoder for the instruction forms the differential
 * test generator (gen.c) produces.
 *
 * The generator thinks in operands (a register, or a memory operand built
 * from base/index/scale/displacement) and this file turns one request into
 * bytes, the way the SDM Vol. 2 chapter 2 lays them out:
 *
 *   legacy prefixes  REX       opcode     ModRM         SIB          disp   imm
 *   [F0 F2 F3 2E ..] [0100WRXB] [0F ..] XX [mod|reg|r/m] [ss|idx|base] [0/1/4] [1/2/4/8]
 *
 * Byte registers: numbers 0-15 are AL..R15B (4-7 are SPL..DIL and need a
 * REX prefix), 16-19 are AH, CH, DH, BH, which exist only WITHOUT a REX
 * prefix (SDM Vol. 2 2.2.1.2).  A request that would need both gets
 * ENC_CONFLICT back and the generator picks other operands.
 *
 * RIP-relative operands and branch displacements depend on where the
 * instruction ends up, so the encoder leaves a fixup (offset and kind) that
 * the assembler in gen.c patches once the layout is known.
 */
#ifndef DIFF_ENC_H
#define DIFF_ENC_H

#include <stdbool.h>
#include <stdint.h>

#define ENC_OK 0
#define ENC_CONFLICT (-1)

#define R8_AH 16               /* byte-register numbers of AH..BH */
#define NOREG (-1)

enum fix_kind {
	FIX_NONE,
	FIX_REL8,        /* 1-byte branch displacement to a target item */
	FIX_REL32,       /* 4-byte branch displacement to a target item */
	FIX_RIPDATA,     /* RIP-relative disp32 to an offset in the data page */
	FIX_ABS32,       /* 4-byte absolute address of a target item */
};

/* A memory operand.  base/index are 0-15 or NOREG; rip selects RIP-relative
 * addressing (the displacement is then computed from rip_off, an offset in
 * the data page). */
struct x86_mem {
	int base, index;
	int scale;               /* 0..3 (log2) */
	int32_t disp;
	bool rip;
	int32_t rip_off;
	bool a32;                /* 67 prefix: 32-bit address size */
	bool disp32;             /* force a 4-byte displacement */
	int junk_scale;          /* SIB scale bits when there is no index
	                            (the CPU ignores them) */
};

enum { XOP_NONE, XOP_REG, XOP_MEM };
struct x86_op {
	int kind;
	int reg;                 /* XOP_REG: 0-15, or 16-19 for AH..BH */
	struct x86_mem m;
};

/* One encoded instruction, with at most one fixup. */
struct enc_out {
	uint8_t b[15];
	uint8_t len;
	uint8_t fix;             /* enum fix_kind */
	uint8_t fix_off;         /* where the patched field starts */
};

/* What to encode. */
struct enc_req {
	uint8_t pfx[6];          /* legacy prefixes, emitted in this order */
	int npfx;
	bool rexw;               /* REX.W (64-bit operand size) */
	bool rex40;              /* emit a REX even if no bit is needed */
	bool w66;                /* with REX.W also a 66 prefix: REX.W wins
	                            (SDM Vol. 2 2.2.1.2) */
	uint8_t junk_rex;        /* a REX before the legacy prefixes: ignored
	                            (SDM Vol. 2 2.2.1); 0 for none */
	uint8_t opc[3];
	int nopc;
	bool modrm;              /* has a ModRM byte */
	int reg;                 /* ModRM.reg: register, or the /digit */
	bool reg_is_reg;         /* reg is a register (REX.R, byte checks) */
	bool reg_byte;           /* reg is a byte register */
	struct x86_op rm;        /* ModRM.r/m operand */
	bool rm_byte;            /* rm register is a byte register */
	int oreg;                /* register in the low opcode bits, or NOREG */
	bool oreg_byte;
	int immsz;               /* 0, 1, 2, 4 or 8 */
	uint64_t imm;
	int imm2sz;              /* ENTER's second immediate */
	uint64_t imm2;
	uint8_t fix;             /* FIX_REL8/REL32/ABS32 on the immediate */
};

void enc_init(struct enc_req *r);
int enc_encode(const struct enc_req *r, struct enc_out *out);

/* Operand helpers. */
struct x86_op op_reg(int reg);
bool reg8_needs_rex(int reg);
bool reg8_is_high(int reg);
int reg8_parent(int reg);      /* the full register a byte register is part of */

#endif
