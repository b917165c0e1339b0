/*
 * exec_unicorn.c - Unicorn 2.0.1 as a reference executor.
 *
 * One engine is opened once and reused: each run rewrites the code, data
 * and stack pages, drops Unicorn's translated blocks for the code range
 * (uc_ctl_remove_cache: the same addresses hold new code every run), loads
 * the registers and runs from the first instruction to the end address.
 *
 * CPU model: Unicorn's default (qemu64) lacks POPCNT, LZCNT and TZCNT and
 * would raise #UD or run TZCNT as BSF; UC_CPU_X86_HASWELL has them all.
 *
 * Exceptions: Unicorn reports #DE, #GP ... through UC_HOOK_INTR (vector
 * number only); the hook records it with RIP and stops.  An invalid opcode
 * ends uc_emu_start with UC_ERR_INSN_INVALID instead, recorded as #UD.
 * Unicorn does not finish the exception it reported: the next exception of
 * a later run would then count as nested and turn into #DF (#8), then a
 * triple fault that silently ends the run.  So every run starts from a CPU
 * context saved right after set-up (uc_context_restore).
 *
 * Unicorn 2.0.1 also leaks about 5 KB per run here and crashes after some
 * 200,000 runs of one engine, so the engine is rebuilt every 10,000 runs.
 */
#include <stdio.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "exec.h"

static uc_engine *uc;
static uc_context *uc_clean;
static int uc_vector;
static long uc_runs;
#define UC_RUNS_PER_ENGINE 10000

static const int uc_gpr[16] = {
	UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
	UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
	UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
	UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};

/* x87/SSE state.  Unicorn's FPTAG is the full tag word (2 bits per
 * register, 11b empty); ours is FXSAVE's abridged one (1 = valid). */
static void uc_fpu_write(const struct seq_fpu *f)
{
	uint64_t v = f->fcw;
	uc_reg_write(uc, UC_X86_REG_FPCW, &v);
	v = f->fsw;
	uc_reg_write(uc, UC_X86_REG_FPSW, &v);
	v = 0;
	for (int k = 0; k < 8; k++)
		v |= (uint64_t)(f->ftw >> k & 1 ? 0 : 3) << (2 * k);
	uc_reg_write(uc, UC_X86_REG_FPTAG, &v);
	v = f->mxcsr;
	uc_reg_write(uc, UC_X86_REG_MXCSR, &v);
	/* FP0-7 are the physical registers R0-R7 (QEMU's env->fpregs): a
	 * 64-bit significand, then the 16-bit sign and exponent; FXSAVE's
	 * slots are ST(i) = R((TOP + i) mod 8) */
	int top = f->fsw >> 11 & 7;
	for (int k = 0; k < 8; k++) {
		uint8_t x[16] = { 0 };
		memcpy(x, f->st[(k - top) & 7], 10);
		uc_reg_write(uc, UC_X86_REG_FP0 + k, x);
	}
	for (int k = 0; k < 16; k++)
		uc_reg_write(uc, UC_X86_REG_XMM0 + k, f->xmm[k]);
}

static void uc_fpu_read(struct seq_fpu *f)
{
	uint64_t v = 0;
	uc_reg_read(uc, UC_X86_REG_FPCW, &v);
	f->fcw = (uint16_t)v;
	v = 0;
	uc_reg_read(uc, UC_X86_REG_FPSW, &v);
	f->fsw = (uint16_t)v;
	v = 0;
	uc_reg_read(uc, UC_X86_REG_FPTAG, &v);
	f->ftw = 0;
	for (int k = 0; k < 8; k++)
		if ((v >> (2 * k) & 3) != 3)
			f->ftw |= (uint8_t)(1u << k);
	v = 0;
	uc_reg_read(uc, UC_X86_REG_MXCSR, &v);
	f->mxcsr = (uint32_t)v;
	int top = f->fsw >> 11 & 7;
	for (int k = 0; k < 8; k++) {
		uint8_t x[16] = { 0 };
		uc_reg_read(uc, UC_X86_REG_FP0 + k, x);
		memcpy(f->st[(k - top) & 7], x, 10);
	}
	for (int k = 0; k < 16; k++)
		uc_reg_read(uc, UC_X86_REG_XMM0 + k, f->xmm[k]);
}

static void hook_intr(uc_engine *u, uint32_t intno, void *user)
{
	(void)user;
	uc_vector = (int)intno;
	uc_emu_stop(u);
}

int exec_unicorn_init(char *err, int errlen)
{
	uc_err e;
	uc_hook h;
	if ((e = uc_open(UC_ARCH_X86, UC_MODE_64, &uc)) != UC_ERR_OK ||
	    (e = uc_ctl_set_cpu_model(uc, UC_CPU_X86_HASWELL)) != UC_ERR_OK ||
	    (e = uc_mem_map(uc, SEQ_CODE, SEQ_CODE_SIZE, UC_PROT_ALL)) != UC_ERR_OK ||
	    (e = uc_mem_map(uc, SEQ_DATA, SEQ_PAGE, UC_PROT_READ | UC_PROT_WRITE)) != UC_ERR_OK ||
	    (e = uc_mem_map(uc, SEQ_STACK, SEQ_PAGE, UC_PROT_READ | UC_PROT_WRITE)) != UC_ERR_OK ||
	    (e = uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)hook_intr, NULL, 1, 0)) != UC_ERR_OK ||
	    (e = uc_context_alloc(uc, &uc_clean)) != UC_ERR_OK ||
	    (e = uc_context_save(uc, uc_clean)) != UC_ERR_OK) {
		snprintf(err, (size_t)errlen, "unicorn: %s", uc_strerror(e));
		return -1;
	}
	return 0;
}

void exec_unicorn_run(const struct seq_state *st, const struct seq_code *c, struct xresult *r)
{
	uc_err e;
	memset(r, 0, sizeof *r);
	r->vector = XV_NONE;
	if (++uc_runs % UC_RUNS_PER_ENGINE == 0) {
		uc_context_free(uc_clean);
		uc_close(uc);
		if (exec_unicorn_init(r->err, sizeof r->err) < 0) {
			r->error = true;
			return;
		}
	}
	uc_context_restore(uc, uc_clean);
	uc_mem_write(uc, SEQ_CODE, c->bytes, c->total);
	uc_ctl_remove_cache(uc, SEQ_CODE, SEQ_CODE + SEQ_CODE_SIZE);
	uc_mem_write(uc, SEQ_DATA, st->data, SEQ_PAGE);
	uc_mem_write(uc, SEQ_STACK, st->stack, SEQ_PAGE);
	for (int k = 0; k < 16; k++)
		uc_reg_write(uc, uc_gpr[k], &st->gpr[k]);
	uint64_t fl = st->rflags;
	uc_reg_write(uc, UC_X86_REG_RFLAGS, &fl);
	uc_fpu_write(&st->fpu);
	uc_vector = XV_NONE;
	e = uc_emu_start(uc, SEQ_CODE + c->start, SEQ_CODE + c->len, 0, 0);
	if (e == UC_ERR_INSN_INVALID) {
		uc_vector = 6;
	} else if (e != UC_ERR_OK) {
		r->error = true;
		snprintf(r->err, sizeof r->err, "unicorn: %s", uc_strerror(e));
	}
	r->vector = uc_vector;
	for (int k = 0; k < 16; k++)
		uc_reg_read(uc, uc_gpr[k], &r->gpr[k]);
	uc_reg_read(uc, UC_X86_REG_RIP, &r->rip);
	uc_reg_read(uc, UC_X86_REG_RFLAGS, &r->rflags);
	uc_fpu_read(&r->fpu);
	r->st_sig_only = true;         /* see compare.c */
	uc_mem_read(uc, SEQ_DATA, r->data, SEQ_PAGE);
	uc_mem_read(uc, SEQ_STACK, r->stack, SEQ_PAGE);
}
