/*
 * gen_int.h - what the per-class instruction generators (gen_alu.c,
 * gen_ctl.c) share with the generator core (gen.c).
 *
 * Each generator fills one item and returns true, or returns false when its
 * random choices cannot be encoded or would break a rule (the core then
 * throws the item away and draws again).  Generators know every value that
 * matters for being well defined: the base register B points at a known
 * offset of the data page, the index register X holds a known small value,
 * RSP's offset is tracked statically, and shift/bit counts come from
 * immediates or from a MOV in the same item.
 */
#ifndef DIFF_GEN_INT_H
#define DIFF_GEN_INT_H

#include <string.h>

#include "gen.h"

#define MAX_PENDING 64

struct gen {
	struct rng r;
	struct seq *s;
	const struct gen_opts *o;
	int B, X;                 /* memory base and index registers */
	int32_t boff;             /* B = SEQ_DATA + boff */
	int xval;                 /* X = xval (1..15) */
	uint32_t prot;            /* registers that must not be written */
	int depth;                /* RSP - (SEQ_STACK + SEQ_RSP0_OFF) */
	int floor;                /* pops may not raise depth above this */
	int nbr;                  /* open brackets */
	bool in_enter;            /* RBP is a frame pointer */
	bool no_temp;             /* no temporary base registers (fix-ups) */
	bool ss_fault;            /* gen_priv: the SS-relative form */
	int npend;                /* forward branches not yet given a target */
	struct { int item, level, left; } pend[MAX_PENDING];
};

/* Core helpers (gen.c). */
uint32_t gr(struct gen *g, uint32_t n);            /* uniform 0..n-1 */
bool gchance(struct gen *g, int one_in);
uint64_t gen_value(struct gen *g, int size);       /* an interesting value */
int pick_size(struct gen *g, bool with_byte);
int pick_wreg(struct gen *g);                       /* writable 64-bit register */
int pick_reg(struct gen *g);                        /* any register */
int pick_wreg_sz(struct gen *g, int size);          /* writable, byte numbering */
int pick_reg_sz(struct gen *g, int size);
bool reg_writable(struct gen *g, int reg, int size);
/* A memory operand of `size` bytes in the data page (or, when `stack_ok`,
 * relative to RSP in the stack page); returns its data-page offset (or -1
 * for the stack). */
int pick_mem(struct gen *g, struct item *it, struct x86_op *op, int size, bool stack_ok);
/* Memory operand at exactly data offset `off` (through B, RIP or absolute). */
void mem_at(struct gen *g, struct x86_op *op, int off);
void pick_E(struct gen *g, struct item *it, struct x86_op *op, int size, bool write);
void set_size(struct enc_req *r, int size);
void add_pfx(struct enc_req *r, uint8_t p);
void noise(struct gen *g, struct enc_req *r);
bool emit(struct item *it, const struct enc_req *r, int cls, uint16_t rd, uint16_t def,
	  uint16_t undef);
bool emit_mov_imm(struct gen *g, struct item *it, int reg, int size, uint64_t v);
uint16_t cc_reads(int cc);
/* Request builders: opcode bytes, ModRM with a register or /digit and the
 * E operand, an Iz immediate, LOCK (sometimes) on a memory destination. */
void opc(struct enc_req *r, int n, uint8_t a, uint8_t b);
void modrm(struct enc_req *r, int reg, bool is_reg, int size, const struct x86_op *e);
void imm_z(struct gen *g, struct enc_req *r, int size);
void maybe_lock(struct gen *g, struct enc_req *r, const struct x86_op *e);

/* Per-class generators: fill `it`, return success. */
typedef bool (*gen_fn)(struct gen *g, struct item *it);
bool gen_mov(struct gen *g, struct item *it);
bool gen_alu(struct gen *g, struct item *it);
bool gen_unary(struct gen *g, struct item *it);
bool gen_shift(struct gen *g, struct item *it);
bool gen_rotate(struct gen *g, struct item *it);
bool gen_shd(struct gen *g, struct item *it);
bool gen_mul(struct gen *g, struct item *it);
bool gen_div(struct gen *g, struct item *it);
bool gen_bt(struct gen *g, struct item *it);
bool gen_bscan(struct gen *g, struct item *it);
bool gen_popcnt(struct gen *g, struct item *it);
bool gen_lzcnt(struct gen *g, struct item *it);
bool gen_cmov(struct gen *g, struct item *it);
bool gen_setcc(struct gen *g, struct item *it);
bool gen_xchg(struct gen *g, struct item *it);
bool gen_cmpxchg(struct gen *g, struct item *it);
bool gen_cx8(struct gen *g, struct item *it);
bool gen_xadd(struct gen *g, struct item *it);
bool gen_conv(struct gen *g, struct item *it);
bool gen_bswap(struct gen *g, struct item *it);
bool gen_movx(struct gen *g, struct item *it);
bool gen_lea(struct gen *g, struct item *it);
bool gen_lahf(struct gen *g, struct item *it);
bool gen_flagop(struct gen *g, struct item *it);
bool gen_nop(struct gen *g, struct item *it);
bool gen_badlock(struct gen *g, struct item *it);
bool gen_priv(struct gen *g, struct item *it);
bool gen_ssfault(struct gen *g, struct item *it);
bool gen_invalid(struct gen *g, struct item *it);
bool gen_jcc(struct gen *g, struct item *it);
bool gen_loop(struct gen *g, struct item *it);
bool gen_string(struct gen *g, struct item *it);
bool gen_stack(struct gen *g, struct item *it);
bool gen_pushf(struct gen *g, struct item *it);
bool gen_call_open(struct gen *g, struct item *it);
bool gen_enter_open(struct gen *g, struct item *it);
bool gen_close(struct gen *g, struct item *it, const struct item *open);
bool gen_definer(struct gen *g, struct item *it);
bool gen_sse(struct gen *g, struct item *it);
void gen_fpu_state(struct gen *g, struct seq_fpu *f);

#endif
