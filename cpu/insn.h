/*
 * insn.h - the decoded-instruction record and the opcode list it names.
 *
 * decode.c turns up to 15 bytes into one `struct insn`; the run loop keeps
 * these records in the decoded-instruction cache and calls i->handler.
 * Everything a handler needs about the encoding is resolved here, once, at
 * decode time: operand and address size, the register numbers with REX
 * applied, the effective segment, the addressing form, the immediates.
 *
 *   prefixes   REX    opcode      ModRM          SIB            disp    imm
 *  [66 67 F2 ] [4X]  [0F [38|3A]] [mod|reg|r/m] [ss|index|base] [0-4]  [0-8]
 *  [F3 F0 seg]        XX
 *
 * Opcode ids come from opcodes.def (an X-macro): the same list generates the
 * enum below, the handler table (exec.c), the names (for traces and the UI)
 * and the decoder's tables (decode.c).
 */
#ifndef NESTLAB_INSN_H
#define NESTLAB_INSN_H

#include <stdint.h>

struct cpu;
struct insn;
typedef void (*insn_handler_fn)(struct cpu *c, const struct insn *i);

/* Opcode ids. */
enum insn_op {
#define OP(name, map, byte, ext, pfx, flags) OP_##name,
#include "opcodes.def"
#undef OP
	OP__COUNT
};

/* Operand-description flags used in opcodes.def (decode.c reads them). */
#define F_MODRM   (1u << 0)   /* has a ModRM byte */
#define F_IB      (1u << 1)   /* imm8 */
#define F_IW      (1u << 2)   /* imm16 */
#define F_IZ      (1u << 3)   /* imm16 or imm32 by operand size (sign-extended to 64) */
#define F_IV      (1u << 4)   /* imm16/32/64 by operand size (MOV r, imm) */
#define F_MOFFS   (1u << 5)   /* moffs by address size (MOV AL, [moffs]) */
#define F_BYTE    (1u << 6)   /* operand size is 8 bits */
#define F_D64     (1u << 7)   /* 64-bit default operand size in 64-bit mode */
#define F_F64     (1u << 8)   /* operand size forced to 64 in 64-bit mode */
#define F_I64     (1u << 9)   /* invalid in 64-bit mode (#UD) */
#define F_O64     (1u << 10)  /* valid only in 64-bit mode */
#define F_LOCK    (1u << 11)  /* LOCK allowed when the destination is memory */
#define F_ZREG    (1u << 12)  /* register in opcode bits 2:0 (+REX.B): 8 entries */
#define F_CC      (1u << 13)  /* condition code in opcode bits 3:0: 16 entries */
#define F_REL     (1u << 14)  /* the immediate is a branch displacement */
#define F_END     (1u << 15)  /* ends a decoded block (control transfer, mode change) */
#define F_MEM     (1u << 16)  /* ModRM must name memory (mod != 3), else #UD */
#define F_REG     (1u << 17)  /* ModRM must name a register (mod == 3), else #UD */
#define F_STR     (1u << 18)  /* string instruction: REP/REPE/REPNE meaningful */
#define F_IWIB    (1u << 19)  /* imm16 then imm8 (ENTER) */
#define F_FAR     (1u << 20)  /* ptr16:16/32 immediate (far CALL/JMP) */
#define F_NOSIZE  (1u << 21)  /* 66 is a mandatory prefix, not an operand-size one */
#define F_EB      (1u << 22)  /* only the E operand is a byte (MOVZX/MOVSX Gv, Eb) */

/* The `map` column. */
#define M1   0   /* one-byte map */
#define M0F  1   /* 0F xx */
#define M38  2   /* 0F 38 xx */
#define M3A  3   /* 0F 3A xx */

/* The `ext` column: how ModRM further selects the instruction. */
#define X_ANY      0x000          /* not a group */
#define X_R(n)     (0x100 | (n))  /* /n, any mod */
#define X_RM(n)    (0x200 | (n))  /* /n with mod != 3 (memory form) */
#define X_RR(n)    (0x300 | (n))  /* /n with mod == 3 (register form) */
#define X_B(b)     (0x400 | (b))  /* exact ModRM byte b (0F 01 C1 VMCALL ...) */

/* The `pfx` column: mandatory-prefix selection. */
#define P_ANY  0   /* prefixes have their ordinary meaning */
#define P_NP   1   /* no 66/F2/F3 */
#define P_66   2
#define P_F3   3
#define P_F2   4

/* insn.flags */
#define I_LOCK   (1u << 0)   /* LOCK prefix present */
#define I_REP    (1u << 1)   /* F3: REP / REPE */
#define I_REPNE  (1u << 2)   /* F2: REPNE */
#define I_REX    (1u << 3)   /* a REX prefix was present */
#define I_MEM    (1u << 4)   /* the ModRM r/m operand is memory */
#define I_RIPREL (1u << 5)   /* RIP-relative: base is RIP (add i->len at run time) */
#define I_SEGOVR (1u << 6)   /* explicit segment override */

/* Register numbers 16..19 in a byte-operand field mean AH, CH, DH, BH: the
 * decoder maps ModRM/opcode register numbers 4-7 of byte operands (F_BYTE:
 * reg and rm; F_EB: rm only) to these when no REX prefix is present. */
#define REG8_AH 16
/* Memory operands: "no base/index" is register 16, which reads as zero, and
 * the run loop rewrites a RIP-relative base to 17, which is RIP, so that an
 * effective address is one sum with no tests (struct cpu's ea_regs). */
#define REG_NONE 16
#define EA_RIP   17

struct insn {
	insn_handler_fn handler;   /* from the opcode table */
	uint16_t op;               /* enum insn_op */
	uint8_t len;               /* 1..15 */
	uint8_t osize;             /* operand size in bytes: 1, 2, 4, 8 */
	uint8_t asize;             /* address size in bytes: 2, 4, 8 */
	uint8_t mode;              /* enum cpu_mode it was decoded for */
	uint8_t flags;             /* I_* */
	uint8_t seg;               /* effective segment (enum cpu_seg) */
	uint8_t reg;               /* ModRM.reg + REX.R, or opcode reg (+REX.B), or cc */
	uint8_t rm;                /* ModRM.rm + REX.B when mod == 3 */
	uint8_t base;              /* memory: base register or REG_NONE */
	uint8_t index;             /* memory: index register or REG_NONE */
	uint8_t scale;             /* memory: log2 of the scale */
	uint8_t imm2;              /* second immediate (ENTER's level); F_CC: the cc */
	uint8_t modrm;             /* the raw ModRM byte, for the UI and groups */
	uint8_t rsvd;
	int32_t disp;              /* memory displacement, or branch displacement;
	                              F_FAR: the selector */
	uint64_t imm;              /* immediate (sign-extended where the SDM says);
	                              F_REL: the displacement; F_MOFFS: the offset */
};
_Static_assert(sizeof(struct insn) == 40, "struct insn is 40 bytes");

/* Decode one instruction.  `bytes` holds `avail` readable bytes (at most
 * 15 are ever read).  Returns the length (1..15) and fills *out; returns
 * 0 when avail bytes end before the instruction does (the caller then
 * raises the fetch fault on the next page); never fails otherwise: an
 * encoding that does not exist, or that this CPU does not execute,
 * decodes to OP_ud with the length the encoding has (or 1 if it has none). */
int insn_decode(const uint8_t *bytes, int avail, int mode, struct insn *out);

/* The name of an opcode id ("add_Ev_Gv"). */
const char *insn_op_name(unsigned op);

#endif
