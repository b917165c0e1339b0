/*
 * gen_bits.c - generators for bit tests (BT/BTS/BTR/BTC), exchanges (XCHG,
 * CMPXCHG, CMPXCHG8B/16B, XADD), the flag instructions (LAHF/SAHF, CLC/STC/
 * CMC/CLD/STD) and the NOP forms.
 *
 * BT* with a register bit offset and a memory operand address memory far
 * from the operand (SDM Vol. 2 BT: "bit base" addressing, offsets -2^63 ..
 * 2^63-1).  The offset is loaded by a MOV in the same item and chosen so
 * that the addressed word stays inside the data page.
 *
 * CMPXCHG16B needs a 16-byte aligned operand (#GP otherwise): most are
 * aligned, one in eight is not, to test the fault.
 */
#include "gen_int.h"

static void opc2(struct enc_req *r, uint8_t b)
{
	r->nopc = 2;
	r->opc[0] = 0x0f;
	r->opc[1] = b;
}

static void rm_op(struct enc_req *r, int reg, bool is_reg, int size, const struct x86_op *e)
{
	r->modrm = true;
	r->reg = reg;
	r->reg_is_reg = is_reg;
	r->reg_byte = is_reg && size == 1;
	r->rm = *e;
	r->rm_byte = size == 1;
}

static void lock_mem(struct gen *g, struct enc_req *r, const struct x86_op *e)
{
	if (e->kind == XOP_MEM && gchance(g, 3))
		add_pfx(r, 0xf0);
}

#define FL_BT_UNDEF (FL_OF | FL_SF | FL_AF | FL_PF)

bool gen_bt(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	int op = (int)gr(g, 4), size = (int)(2u << gr(g, 3)), bits = size * 8;
	bool imm = gchance(g, 2), mem = gchance(g, 2);
	static const uint8_t regform[4] = { 0xa3, 0xab, 0xb3, 0xbb };
	enc_init(&r);
	if (mem) {
		int off = pick_mem(g, it, &e, size, imm);
		if (!imm) {
			/* bit offset register: the word addressed is
			 * EA + size * floor(offset / bits) (SDM Vol. 2 3.1.1.9) */
			int kmin = -(off / size) + 1, kmax = ((int)SEQ_PAGE - off) / size - 2;
			if (kmin < -64) kmin = -64;
			if (kmax > 64) kmax = 64;
			int64_t k = kmin + (int)gr(g, (uint32_t)(kmax - kmin + 1));
			int64_t bo = k * bits + (int64_t)gr(g, (uint32_t)bits);
			int greg = pick_wreg(g);
			if (!emit_mov_imm(g, it, greg, size == 8 ? 8 : size, (uint64_t)bo))
				return false;
			r.reg = greg;
		}
	} else {
		e = op_reg(op == 0 ? pick_reg(g) : pick_wreg(g));
		if (!imm)
			r.reg = pick_reg(g);
	}
	if (op != 0)
		lock_mem(g, &r, &e);
	if (size == 2)
		add_pfx(&r, 0x66);
	r.rexw = size == 8;
	if (imm) {
		opc2(&r, 0xba);
		rm_op(&r, 4 + op, false, size, &e);
		r.immsz = 1;
		r.imm = gr(g, 256);
	} else {
		opc2(&r, regform[op]);
		rm_op(&r, r.reg, true, size, &e);
	}
	/* SDM BT/BTS/BTR/BTC: CF = the bit; ZF unaffected; OF SF AF PF undefined. */
	return emit(it, &r, GC_bt, 0, FL_CF, FL_BT_UNDEF);
}

bool gen_xchg(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	int size = pick_size(g, true);
	enc_init(&r);
	if (size != 1 && gchance(g, 3)) {      /* 90+r: XCHG rAX, r */
		set_size(&r, size);
		r.nopc = 1;
		r.opc[0] = 0x90;
		r.oreg = pick_wreg(g);
		return emit(it, &r, GC_xchg, 0, 0, 0);
	}
	pick_E(g, it, &e, size, true);
	lock_mem(g, &r, &e);
	set_size(&r, size);
	r.nopc = 1;
	r.opc[0] = size == 1 ? 0x86 : 0x87;
	rm_op(&r, pick_wreg_sz(g, size), true, size, &e);
	return emit(it, &r, GC_xchg, 0, 0, 0);
}

/* MOV rAX, E: makes the following compare-exchange succeed. */
static bool load_acc(struct item *it, int size, const struct x86_op *e)
{
	struct enc_req r;
	enc_init(&r);
	set_size(&r, size);
	r.nopc = 1;
	r.opc[0] = size == 1 ? 0x8a : 0x8b;
	rm_op(&r, 0, true, size, e);
	return emit(it, &r, GC_mov, 0, 0, 0);
}

bool gen_cmpxchg(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	int size = pick_size(g, true);
	enc_init(&r);
	pick_E(g, it, &e, size, true);
	/* Unicorn 2.0.1 (QEMU 5 TCG) always writes both EAX and a register
	 * destination as 32-bit values (zero-extending RAX on success, the
	 * destination on failure); the SDM and the hardware write only one
	 * of them (fixed in QEMU 7.2).  For Unicorn a 32-bit CMPXCHG comes
	 * after MOV EAX, dest: it succeeds with RAX already zero-extended. */
	bool must = g->o->for_unicorn && size == 4;
	if ((must || gchance(g, 2)) && !load_acc(it, size, &e))
		return false;
	lock_mem(g, &r, &e);
	set_size(&r, size);
	opc2(&r, size == 1 ? 0xb0 : 0xb1);
	rm_op(&r, pick_reg_sz(g, size), true, size, &e);
	/* SDM CMPXCHG: flags as CMP accumulator, destination */
	return emit(it, &r, GC_cmpxchg, 0, FL_ALL, 0);
}

bool gen_cx8(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	bool wide = gchance(g, 2);
	int n = wide ? 16 : 8;
	int off = 64 + (int)gr(g, SEQ_PAGE - 128 - 16);
	bool misaligned = wide && gchance(g, 8);
	off &= wide ? ~15 : ~7;
	if (misaligned)
		off += 8;
	enc_init(&r);
	if (gchance(g, 2)) {
		/* load rDX:rAX from the operand so the exchange happens */
		struct x86_op lo, hi;
		mem_at(g, &lo, off);
		mem_at(g, &hi, off + n / 2);
		if (!load_acc(it, n / 2, &lo))
			return false;
		struct enc_req d;
		enc_init(&d);
		set_size(&d, n / 2);
		d.nopc = 1;
		d.opc[0] = 0x8b;
		rm_op(&d, 2, true, n / 2, &hi);
		if (!emit(it, &d, GC_mov, 0, 0, 0))
			return false;
	}
	mem_at(g, &e, off);
	lock_mem(g, &r, &e);
	r.rexw = wide;
	opc2(&r, 0xc7);
	rm_op(&r, 1, false, 8, &e);
	/* SDM CMPXCHG8B/16B: ZF set on success; other flags unaffected. */
	if (!emit(it, &r, GC_cx8, 0, FL_ZF, 0))
		return false;
	it->in[it->n - 1].may_fault = misaligned;
	return true;
}

bool gen_xadd(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	int size = pick_size(g, true);
	enc_init(&r);
	pick_E(g, it, &e, size, true);
	lock_mem(g, &r, &e);
	set_size(&r, size);
	opc2(&r, size == 1 ? 0xc0 : 0xc1);
	rm_op(&r, pick_wreg_sz(g, size), true, size, &e);
	return emit(it, &r, GC_xadd, 0, FL_ALL, 0);       /* flags as ADD */
}

bool gen_lahf(struct gen *g, struct item *it)
{
	struct enc_req r;
	bool store = gchance(g, 2);
	enc_init(&r);
	noise(g, &r);
	r.rex40 = false;              /* keep it simple: AH is the operand */
	r.nopc = 1;
	r.opc[0] = store ? 0x9e : 0x9f;
	uint16_t five = FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF;
	/* SDM LAHF reads SF ZF AF PF CF; SAHF loads them from AH (OF unaffected). */
	return emit(it, &r, GC_lahf, store ? 0 : five, store ? five : 0, 0);
}

bool gen_flagop(struct gen *g, struct item *it)
{
	static const uint8_t op[5] = { 0xf8, 0xf9, 0xf5, 0xfc, 0xfd };  /* CLC STC CMC CLD STD */
	struct enc_req r;
	int k = (int)gr(g, 5);
	enc_init(&r);
	r.nopc = 1;
	r.opc[0] = op[k];
	return emit(it, &r, GC_flagop, k == 2 ? FL_CF : 0, k < 3 ? FL_CF : 0, 0);
}

bool gen_nop(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	enc_init(&r);
	switch (gr(g, 4)) {
	case 0:                               /* 90, F3 90 (PAUSE), 66 90 */
		if (gchance(g, 2))
			add_pfx(&r, gchance(g, 2) ? 0xf3 : 0x66);
		r.nopc = 1;
		r.opc[0] = 0x90;
		break;
	case 1:                               /* 0F 1F /0: the multi-byte NOP */
	case 2:
		pick_E(g, it, &e, 4, false);
		set_size(&r, gchance(g, 2) ? 2 : 4);
		opc2(&r, 0x1f);
		rm_op(&r, 0, false, 4, &e);
		break;
	default:
		pick_E(g, it, &e, 4, false);
		if (e.kind == XOP_MEM && gchance(g, 2)) {
			/* 0F 18 /0-7: PREFETCHh and reserved NOPs; 0F 0D /0-7:
			 * PREFETCH/PREFETCHW (AMD); no access, no fault */
			opc2(&r, gchance(g, 2) ? 0x18 : 0x0d);
		} else {
			opc2(&r, (uint8_t)(0x19 + gr(g, 6)));   /* 0F 19-1E: reserved NOPs */
		}
		rm_op(&r, (int)gr(g, 8), false, 4, &e);
		break;
	}
	return emit(it, &r, GC_nop, 0, 0, 0);
}

/* Instructions a user-mode program may not execute: #GP(0) at CPL 3 with
 * IOPL 0 (SDM Vol. 3 2.8 "System Instruction Summary", and each page).
 * The host kernel delivers them as SIGSEGV with trap number 13.  Also a
 * memory access at a non-canonical address (#GP, SDM Vol. 3 6.15).
 * Unicorn runs at CPL 0 and has none of these checks: native runs only.
 * Left out: SGDT/SIDT/SMSW/SLDT/STR (Linux emulates them under UMIP),
 * RDPMC (may be enabled for user space), INT n (traps, vector rules). */
bool gen_priv(struct gen *g, struct item *it)
{
	static const uint8_t one[6][3] = {
		{ 1, 0xf4 }, { 1, 0xfa }, { 1, 0xfb }, { 1, 0xec }, { 1, 0xee }, { 1, 0xe4 },
	};                                    /* HLT CLI STI IN OUT IN-imm */
	static const uint8_t two[9][3] = {
		{ 0x32 }, { 0x30 }, { 0x20, 0xc0 }, { 0x22, 0xc0 }, { 0x08 }, { 0x09 },
		{ 0x06 }, { 0x01, 0xf8 }, { 0x01, 0xf0 },
	};   /* RDMSR WRMSR MOV r,CR0 MOV CR0,r INVD WBINVD CLTS SWAPGS LMSW ax */
	struct enc_req r;
	struct x86_op e;
	int k = g->ss_fault ? 15 : (int)gr(g, 16);
	enc_init(&r);
	if (k < 6) {
		r.nopc = 1;
		r.opc[0] = one[k][1];
		if (one[k][1] == 0xe4) {
			r.immsz = 1;
			r.imm = gr(g, 256);
		}
	} else if (k < 15) {
		const uint8_t *t = two[k - 6];
		r.nopc = t[1] ? 3 : 2;
		r.opc[0] = 0x0f;
		r.opc[1] = t[0];
		r.opc[2] = t[1];
	} else {
		/* [T] with T non-canonical (bits 63:47 not all equal); with T =
		 * RBP the reference is to SS and the fault #SS(0) instead
		 * (class ssfault, SDM Vol. 3 6.15 "Interrupt 12") */
		int t = 5;
		if (!g->ss_fault)
			do
				t = pick_wreg(g);
			while (t <= 2 || t == 5);
		else if (!reg_writable(g, 5, 8))
			return false;
		uint64_t v = (SEQ_DATA + 0x800) ^ (1ull << (47 + gr(g, 16)));
		if (!emit_mov_imm(g, it, t, 8, v))
			return false;
		memset(&e, 0, sizeof e);
		e.kind = XOP_MEM;
		e.m.base = t;
		e.m.index = NOREG;
		r.nopc = 1;
		r.opc[0] = 0x8b;                       /* mov eax, [T] */
		rm_op(&r, 0, true, 4, &e);
	}
	if (!emit(it, &r, g->ss_fault ? GC_ssfault : GC_priv, 0, 0, 0))
		return false;
	it->in[it->n - 1].may_fault = true;
	return true;
}

bool gen_ssfault(struct gen *g, struct item *it)
{
	g->ss_fault = true;
	bool ok = gen_priv(g, it);
	g->ss_fault = false;
	return ok;
}

/* Opcodes that do not exist in 64-bit mode, and the UD instructions: #UD
 * (SDM Vol. 2 Appendix A.2.5, "i64" entries; UD0/UD1/UD2).  Left out:
 * 62 (EVEX on this host), C4/C5 (VEX), and 0F FF's length (UD0 faults
 * before its ModRM matters). */
bool gen_invalid(struct gen *g, struct item *it)
{
	static const uint8_t i64[] = {
		0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37, 0x3f,
		0x60, 0x61, 0x9a, 0xce, 0xd4, 0xd5, 0xd6, 0xea, 0x82,
	};
	struct enc_req r;
	struct x86_op e = op_reg(pick_reg(g));
	int k = (int)gr(g, sizeof i64 + 3);
	enc_init(&r);
	if (k < (int)sizeof i64) {
		r.nopc = 1;
		r.opc[0] = i64[k];
		if (i64[k] == 0x82)            /* group 1 imm8 form: ModRM + ib */
			rm_op(&r, (int)gr(g, 8), false, 1, &e);
		r.immsz = i64[k] == 0x82 || i64[k] == 0xd4 || i64[k] == 0xd5 ? 1 : 0;
		if (i64[k] == 0x9a || i64[k] == 0xea)
			r.immsz = 4, r.imm2sz = 2;         /* ptr16:32 */
	} else {
		static const uint8_t ud[3] = { 0x0b, 0xb9, 0xff };  /* UD2 UD1 UD0 */
		r.nopc = 2;
		r.opc[0] = 0x0f;
		r.opc[1] = ud[k - (int)sizeof i64];
		if (r.opc[1] != 0x0b)
			rm_op(&r, pick_reg(g), true, 4, &e);
	}
	if (!emit(it, &r, GC_invalid, 0, 0, 0))
		return false;
	it->in[it->n - 1].may_fault = true;
	return true;
}
