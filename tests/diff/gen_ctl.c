/*
 * gen_ctl.c - generators for control transfer, stack and string items:
 * Jcc/JMP, LOOP/LOOPE/LOOPNE/JrCXZ, PUSH/POP in all forms, PUSHF/POPF,
 * CALL ... RET and ENTER ... LEAVE brackets, MOVS/CMPS/STOS/LODS/SCAS with
 * REP/REPE/REPNE.
 *
 * Branches only go forward (the target is fixed by gen.c once the items
 * they skip exist), so every sequence ends.  Near branches never carry a
 * 66 prefix: Intel ignores it in 64-bit mode while AMD truncates RIP to 16
 * bits (SDM Vol. 2 JMP/Jcc/CALL, APM Vol. 3 "near branches") - a known
 * vendor difference, not something to compare.
 *
 * PUSH/POP of FS and GS are not generated: natively those selectors and
 * the FS base belong to the host process's thread-local storage.
 *
 * String items load RSI/RDI/RCX themselves and choose addresses with room
 * on both sides, so they stay inside the data page whatever DF is.
 */
#include "gen_int.h"

static void opc1(struct enc_req *r, uint8_t b)
{
	r->nopc = 1;
	r->opc[0] = b;
}

static void set_tgt(struct item *it, int tg)
{
	it->in[it->n - 1].tgt = (uint8_t)tg;
}

bool gen_jcc(struct gen *g, struct item *it)
{
	struct enc_req r;
	int cc = (int)gr(g, 18);      /* 16 and 17: unconditional JMP */
	bool near = gchance(g, 3);
	enc_init(&r);
	if (gchance(g, 10))
		add_pfx(&r, gchance(g, 2) ? 0x2e : 0x3e);    /* branch hints */
	if (cc < 16) {
		if (near) {
			r.nopc = 2;
			r.opc[0] = 0x0f;
			r.opc[1] = (uint8_t)(0x80 + cc);
		} else {
			opc1(&r, (uint8_t)(0x70 + cc));
		}
	} else {
		opc1(&r, near ? 0xe9 : 0xeb);
	}
	r.immsz = near ? 4 : 1;
	r.fix = near ? FIX_REL32 : FIX_REL8;
	it->kind = IT_BRANCH;
	if (!emit(it, &r, GC_jcc, cc < 16 ? cc_reads(cc) : 0, 0, 0))
		return false;
	set_tgt(it, TG_ITEM);
	return true;
}

bool gen_loop(struct gen *g, struct item *it)
{
	struct enc_req r;
	int k = (int)gr(g, 4);        /* LOOPNE LOOPE LOOP JrCXZ */
	enc_init(&r);
	if (k < 2 && g->o->for_unicorn)
		k = 2 + (int)gr(g, 2);         /* Unicorn gap: see gen.c */
	if (gchance(g, 4))
		add_pfx(&r, 0x67);        /* ECX instead of RCX */
	opc1(&r, (uint8_t)(0xe0 + k));
	r.immsz = 1;
	r.fix = FIX_REL8;
	it->kind = IT_BRANCH;
	if (!emit(it, &r, GC_loop, k < 2 ? FL_ZF : 0, 0, 0))
		return false;
	set_tgt(it, TG_ITEM);
	return true;
}

/* Load a string pointer or count register; with a 32-bit address size the
 * upper half gets junk, which the instruction must ignore (and clear). */
static bool load_ptr(struct gen *g, struct item *it, int reg, uint64_t v, bool a32)
{
	if (a32 && gchance(g, 2))
		v |= rng_next(&g->r) << 32;
	return emit_mov_imm(g, it, reg, v >> 32 ? 8 : 4, v);
}

bool gen_string(struct gen *g, struct item *it)
{
	struct enc_req r;
	int op = (int)gr(g, 5);       /* MOVS CMPS STOS LODS SCAS */
	static const uint8_t base[5] = { 0xa4, 0xa6, 0xaa, 0xac, 0xae };
	static const bool src[5] = { true, true, false, true, false };
	static const bool dst[5] = { true, true, true, false, true };
	int size = pick_size(g, true), rep = (int)gr(g, 3);
	bool a32 = gchance(g, 6), cmp = op == 1 || op == 4;
	int count = rep ? (int)gr(g, 17) : 1;
	int room = count * size + 16;
	enc_init(&r);
	noise(g, &r);
	r.rex40 = false;
	if (rep == 2 && !cmp)
		rep = 1;
	if (src[op] && !load_ptr(g, it, 6, SEQ_DATA + (uint64_t)room +
				 gr(g, SEQ_PAGE - 2 * (uint32_t)room), a32))
		return false;
	if (dst[op] && !load_ptr(g, it, 7, SEQ_DATA + (uint64_t)room +
				 gr(g, SEQ_PAGE - 2 * (uint32_t)room), a32))
		return false;
	if (rep && !load_ptr(g, it, 1, (uint64_t)count, a32))
		return false;
	if (rep)
		add_pfx(&r, rep == 1 ? 0xf3 : 0xf2);
	if (a32)
		add_pfx(&r, 0x67);
	set_size(&r, size);
	opc1(&r, (uint8_t)(base[op] + (size != 1)));
	/* SDM CMPS/SCAS: flags as CMP, unless REP ran no iteration. */
	uint16_t def = cmp && (!rep || count > 0) ? FL_ALL : 0;
	return emit(it, &r, GC_string, 0, def, 0);
}

static bool depth_ok(struct gen *g, int delta)
{
	int d = g->depth + delta;
	return d >= -0x700 && d <= 0x700 && d <= g->floor;
}

bool gen_stack(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	int form = (int)gr(g, 5);
	bool w16 = gchance(g, 4);
	int osz = w16 ? 2 : 8;
	bool push = form == 0 || form == 2 || form == 3;
	enc_init(&r);
	if (!depth_ok(g, push ? -osz : osz))
		return false;
	if (w16)
		add_pfx(&r, 0x66);
	switch (form) {
	case 0: /* PUSH r (50+r), RSP included: the value before the push */
	case 1: /* POP r (58+r) */
		opc1(&r, push ? 0x50 : 0x58);
		r.oreg = push ? pick_reg(g) : pick_wreg(g);
		break;
	case 2: /* PUSH imm8 / imm16 / imm32 (sign-extended) */
		if (gchance(g, 2)) {
			opc1(&r, 0x6a);
			r.immsz = 1;
		} else {
			opc1(&r, 0x68);
			r.immsz = w16 ? 2 : 4;
		}
		r.imm = gen_value(g, r.immsz);
		break;
	case 3: /* PUSH Ev (FF /6) */
		pick_E(g, it, &e, osz, false);
		opc1(&r, 0xff);
		r.modrm = true;
		r.reg = 6;
		r.rm = e;
		break;
	default: /* POP Ev (8F /0); no [rsp+d]: its address uses the new RSP */
		if (gchance(g, 2))
			pick_mem(g, it, &e, osz, false);
		else
			e = op_reg(pick_wreg(g));
		opc1(&r, 0x8f);
		r.modrm = true;
		r.reg = 0;
		r.rm = e;
		break;
	}
	it->sdelta = push ? -osz : osz;
	if (push)
		it->rsp_low = -osz;
	else if (it->rsp_high < osz)
		it->rsp_high = osz;
	return emit(it, &r, GC_stack, 0, 0, 0);
}

bool gen_pushf(struct gen *g, struct item *it)
{
	struct enc_req r;
	int form = (int)gr(g, 3);
	bool w16 = gchance(g, 4);
	int osz = w16 ? 2 : 8;
	enc_init(&r);
	if (w16)
		add_pfx(&r, 0x66);
	if (form == 0) {                     /* PUSHF: reads every flag */
		if (!depth_ok(g, -osz))
			return false;
		opc1(&r, 0x9c);
		it->sdelta = -osz;
		it->rsp_low = -osz;
		return emit(it, &r, GC_pushf, FL_ALL, 0, 0);
	}
	if (!depth_ok(g, -osz))
		return false;
	struct enc_req p;
	enc_init(&p);
	if (w16)
		add_pfx(&p, 0x66);
	if (form == 1) {
		/* PUSH imm; POPF: arithmetic flags and DF from a known value
		 * (IF stays 1, TF AC ID stay 0: user mode cannot or must not) */
		uint64_t v = 0x202 | (rng_next(&g->r) & (FL_ALL | FL_DF));
		opc1(&p, 0x68);
		p.immsz = w16 ? 2 : 4;
		p.imm = v;
		if (!emit(it, &p, GC_stack, 0, 0, 0))
			return false;
	} else {
		opc1(&p, 0x9c);                  /* PUSHF; POPF */
		if (!emit(it, &p, GC_pushf, FL_ALL, 0, 0))
			return false;
	}
	opc1(&r, 0x9d);
	it->rsp_low = -osz;
	return emit(it, &r, GC_pushf, 0, FL_ALL, 0);
}

/* CALL into the body that follows, then JMP over it once RET comes back:
 *
 *     call L1 / call reg / call [mem]
 *     jmp  L2
 * L1: body ...
 *     ret [imm16]
 * L2:
 */
bool gen_call_open(struct gen *g, struct item *it)
{
	struct enc_req r;
	int form = (int)gr(g, 3);
	if (!depth_ok(g, -8))
		return false;
	it->kind = IT_CALL_OPEN;
	it->cls = GC_call;
	enc_init(&r);
	if (form == 0) {
		opc1(&r, 0xe8);
		r.immsz = 4;
		r.fix = FIX_REL32;
		if (!emit(it, &r, GC_call, 0, 0, 0))
			return false;
		set_tgt(it, TG_NEXT);
	} else {
		struct enc_req m;
		struct x86_op e;
		enc_init(&m);
		if (form == 1) {
			e = op_reg(pick_wreg(g));
			opc1(&m, 0xb8);                 /* mov r32, imm32 */
			m.oreg = e.reg;
		} else {
			int off = 64 + (int)gr(g, SEQ_PAGE - 128);
			memset(&e, 0, sizeof e);
			e.kind = XOP_MEM;
			e.m.base = g->B;
			e.m.index = NOREG;
			e.m.disp = off - g->boff;
			m.rexw = true;                  /* mov qword [mem], simm32 */
			opc1(&m, 0xc7);
			m.modrm = true;
			m.rm = e;
		}
		m.immsz = 4;
		m.fix = FIX_ABS32;
		if (!emit(it, &m, GC_mov, 0, 0, 0))
			return false;
		set_tgt(it, TG_NEXT);
		opc1(&r, 0xff);                         /* call r/m64 (FF /2) */
		r.modrm = true;
		r.reg = 2;
		r.rm = e;
		if (!emit(it, &r, GC_call, 0, 0, 0))
			return false;
	}
	struct enc_req j;
	enc_init(&j);
	bool shortj = gchance(g, 4);
	opc1(&j, shortj ? 0xeb : 0xe9);
	j.immsz = shortj ? 1 : 4;
	j.fix = shortj ? FIX_REL8 : FIX_REL32;
	if (!emit(it, &j, GC_jcc, 0, 0, 0))
		return false;
	set_tgt(it, TG_AFTER_CLOSE);
	it->sdelta = -8;
	it->rsp_low = -8;
	return true;
}

/* mov ebp, data address; ENTER size, level (SDM Vol. 2 ENTER: with a
 * nesting level L > 0 it copies L-1 frame pointers from [RBP-8*i]). */
bool gen_enter_open(struct gen *g, struct item *it)
{
	struct enc_req r;
	static const int levels[8] = { 0, 0, 1, 1, 2, 3, 5, 33 };
	bool w16 = gchance(g, 4);
	int osz = w16 ? 2 : 8, size = (int)gr(g, 4) * 8 + (gchance(g, 3) ? (int)gr(g, 8) : 0);
	int lvl = levels[gr(g, 8)], l = lvl & 31;
	int push = osz * (1 + l);
	if (g->prot & (1u << 5) || g->in_enter || !depth_ok(g, -(push + size)))
		return false;
	it->kind = IT_ENTER_OPEN;
	it->cls = GC_enter;
	if (!emit_mov_imm(g, it, 5, 4, SEQ_DATA + 256 + gr(g, SEQ_PAGE - 512)))
		return false;
	enc_init(&r);
	if (w16)
		add_pfx(&r, 0x66);
	opc1(&r, 0xc8);
	r.immsz = 2;
	r.imm = (uint64_t)size;
	r.imm2sz = 1;
	r.imm2 = (uint64_t)lvl;
	it->sdelta = -(push + size);
	it->rsp_low = it->sdelta;
	return emit(it, &r, GC_enter, 0, 0, 0);
}

bool gen_close(struct gen *g, struct item *it, const struct item *open)
{
	struct enc_req r;
	enc_init(&r);
	it->kind = IT_CLOSE;
	if (open->kind == IT_ENTER_OPEN) {
		it->cls = GC_enter;
		if (open->in[1].e.b[0] == 0x66)
			add_pfx(&r, 0x66);          /* LEAVE of the same size */
		opc1(&r, 0xc9);
		it->rsp_high = 8;
		return emit(it, &r, GC_enter, 0, 0, 0);
	}
	it->cls = GC_call;
	int imm = 0;
	if (g->npend == 0 && gchance(g, 3))
		imm = (int)gr(g, 5) * 8 + (gchance(g, 4) ? (int)gr(g, 8) : 0);
	if (g->depth + 8 + imm > g->floor)
		imm = 0;
	if (imm) {
		opc1(&r, 0xc2);                  /* RET imm16 */
		r.immsz = 2;
		r.imm = (uint64_t)imm;
	} else {
		opc1(&r, 0xc3);
	}
	it->sdelta = imm;
	it->rsp_high = 8;
	return emit(it, &r, GC_call, 0, 0, 0);
}
