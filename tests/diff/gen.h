/*
 * gen.h - random instruction sequences for the differential tests.
 *
 * A sequence is a list of ITEMS.  An item is one instruction, or a short
 * bundle that must stay together (the setup an instruction needs to be
 * well defined, e.g. "mov esi, src; mov edi, dst; mov ecx, n; rep movsb"),
 * or one half of a bracket (CALL ... RET, ENTER ... LEAVE).  Branch items
 * (Jcc, LOOP*, JrCXZ) name a later item as their target.  The shrinker
 * (diff.c) deletes items; seq_check() then re-validates what is left and
 * seq_assemble() lays it out and patches displacements.
 *
 * Memory layout shared by all three executors (fixed addresses):
 *
 *   0x10000  code   (sequence, then an epilogue that only the native
 *                    executor runs: jmp [rip+0] back to the trampoline);
 *                    half the sequences start just before 0x11000 so that
 *                    their first instructions straddle a page boundary
 *   0x50000  data page    all memory operands of the sequence
 *   0x52000  stack page   RSP starts near its middle
 *
 * Flags: every instruction says which arithmetic flags it reads, defines,
 * and leaves undefined (SDM Vol. 1 Appendix A and each instruction's
 * "Flags Affected").  seq_check() runs that through the sequence (with
 * forward branches merging states) and rejects a sequence in which an
 * undefined flag can be read; the comparison masks exactly the flags still
 * undefined where the run ended.
 */
#ifndef DIFF_GEN_H
#define DIFF_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "enc.h"

#define SEQ_CODE      0x10000ull
#define SEQ_CODE_SIZE 0x8000u
#define SEQ_DATA      0x50000ull
#define SEQ_STACK     0x52000ull
#define SEQ_PAGE      4096u
#define SEQ_RSP0_OFF  0x800        /* initial RSP offset in the stack page */

/* Arithmetic flag bits, in RFLAGS positions. */
#define FL_CF 0x001u
#define FL_PF 0x004u
#define FL_AF 0x010u
#define FL_ZF 0x040u
#define FL_SF 0x080u
#define FL_OF 0x800u
#define FL_ALL (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)
#define FL_DF 0x400u


/* Instruction classes (for --classes and the reports). */
#define CLASS_LIST(X) \
	X(mov) X(alu) X(unary) X(shift) X(rotate) X(shd) X(mul) X(div) \
	X(bt) X(bscan) X(popcnt) X(lzcnt) X(cmov) X(setcc) X(jcc) X(loop) \
	X(string) X(stack) X(pushf) X(call) X(enter) X(xchg) X(cmpxchg) \
	X(cx8) X(xadd) X(conv) X(bswap) X(movx) X(lea) X(lahf) X(flagop) X(nop) \
	X(badlock) X(priv) X(ssfault) X(invalid) X(sse)
enum gclass {
#define X(n) GC_##n,
	CLASS_LIST(X)
#undef X
	GC__COUNT
};
const char *gclass_name(int cls);
int gclass_parse(const char *list, uint64_t *mask);   /* "alu,mov" -> bits; -1 on error */

/* One instruction of an item. */
struct ginsn {
	struct enc_out e;
	uint8_t tgt;          /* for FIX_REL/ABS: which address (enum gtgt) */
	int32_t rip_off;      /* FIX_RIPDATA: data-page offset */
	uint16_t rd, def, undef;   /* flags read / defined / made undefined */
	uint8_t cls;
	bool may_fault;       /* can raise an exception by design (#DE, #GP) */
};

enum gtgt { TG_ITEM, TG_NEXT, TG_AFTER_CLOSE };

enum item_kind { IT_PLAIN, IT_BRANCH, IT_CALL_OPEN, IT_CLOSE, IT_ENTER_OPEN };

#define ITEM_MAX_INSNS 6
struct item {
	uint8_t kind;
	uint8_t n;
	uint8_t cls;          /* the class the item tests */
	struct ginsn in[ITEM_MAX_INSNS];
	int target;           /* IT_BRANCH: target item; IT_*_OPEN: its IT_CLOSE */
	int sdelta;           /* RSP change of the item; for IT_CLOSE the change
	                         of the whole bracket (RET imm16: imm16) */
	int rsp_low, rsp_high;   /* stack bytes touched, relative to RSP at entry */
};

/* The x87/MMX/SSE state the executors load and compare, in FXSAVE's
 * terms (SDM Vol. 1 Table 10-2): ftw is the abridged tag (bit n set = ST
 * register n valid), st[n] the 80-bit physical registers R0-R7. */
struct seq_fpu {
	uint16_t fcw, fsw;
	uint8_t ftw;
	uint32_t mxcsr;
	uint8_t st[8][10];
	uint8_t xmm[16][16];
};

struct seq_state {
	uint64_t gpr[16];
	uint64_t rflags;
	struct seq_fpu fpu;
	uint8_t data[SEQ_PAGE];
	uint8_t stack[SEQ_PAGE];
};

/* The 512-byte FXSAVE image of f (the native executor loads it with
 * FXRSTOR) and back. */
void seq_fpu_to_fx(const struct seq_fpu *f, uint8_t img[512]);
void seq_fpu_from_fx(struct seq_fpu *f, const uint8_t img[512]);

#define SEQ_MAX_ITEMS 512
struct seq {
	int n;
	struct item it[SEQ_MAX_ITEMS];
	struct seq_state init;
	int base_reg, index_reg;   /* registers the memory operands use */
	uint32_t code_start;       /* offset of the first instruction from SEQ_CODE */
};

/* Layout and flag facts for one assembled sequence. */
#define SEQ_MAX_INSNS (SEQ_MAX_ITEMS * ITEM_MAX_INSNS)
struct seq_code {
	uint8_t bytes[SEQ_CODE_SIZE];   /* image of the code region at SEQ_CODE */
	uint32_t start;            /* offset of the first instruction */
	uint32_t len;              /* offset of the end (the epilogue follows) */
	uint32_t total;            /* with the epilogue */
	int ninsn;
	uint32_t insn_off[SEQ_MAX_INSNS];    /* start of each instruction */
	uint16_t insn_undef[SEQ_MAX_INSNS];  /* flags undefined BEFORE it */
	int16_t insn_item[SEQ_MAX_INSNS];
	uint16_t end_undef;        /* flags undefined at the end */
};

struct gen_opts {
	int len;                   /* items to generate (before fix-ups) */
	uint64_t classes;          /* enabled classes (bit per enum gclass) */
	bool for_unicorn;          /* leave out the forms Unicorn 2.0.1 gets wrong */
};

void gen_sequence(struct seq *s, uint64_t seed, const struct gen_opts *o);

/* Validate (brackets, branch targets, stack bounds, flag reads); fills
 * `why` on failure. */
bool seq_check(const struct seq *s, char *why, int whylen);
/* Where the first flag rule breaks: an item index, s->n for the end,
 * -1 if none, -2 if another rule breaks. */
int seq_flag_problem(const struct seq *s);
/* Lay out and patch; returns false if a displacement does not fit. */
bool seq_assemble(const struct seq *s, struct seq_code *c, uint64_t native_exit);
/* The flags undefined at a code offset (instruction start or the end). */
uint16_t seq_undef_at(const struct seq_code *c, uint64_t rip);
/* Copy of s without the items where drop[i] is set (targets remapped). */
void seq_drop(const struct seq *s, const bool *drop, struct seq *out);
/* The class of the instruction starting at rip, or -1. */
int seq_class_at(const struct seq *s, const struct seq_code *c, uint64_t rip);

/* Random numbers: xorshift64*, deterministic from the seed. */
struct rng { uint64_t s; };
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
uint32_t rng_below(struct rng *r, uint32_t n);

#endif
