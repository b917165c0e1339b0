/*
 * exec_native.c - the host CPU as a reference executor (user mode).
 *
 * The code, data and stack pages are mapped at the sequence's own fixed
 * addresses (MAP_FIXED_NOREPLACE: never over something of ours), and the
 * trampoline in native_tramp.S runs the sequence with the exact initial
 * registers and RFLAGS.
 *
 * A fault inside the sequence (#DE -> SIGFPE, #UD -> SIGILL, #GP and #PF ->
 * SIGSEGV, #AC -> SIGBUS) arrives as a signal on an alternate stack (the
 * sequence's RSP points into its own stack page, which must not receive a
 * signal frame).  The kernel's ucontext holds the registers at the fault,
 * RIP of the faulting instruction and the vector (REG_TRAPNO); the handler
 * copies them and siglongjmp()s back.  RF (bit 16) in the saved RFLAGS is
 * an artefact of fault delivery and is not compared (diff.c CMP_FLAGS).
 * A sequence that hangs is cut off by alarm() and reported as a timeout.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "exec.h"

extern uint64_t native_in[17], native_out[17], native_entry;
extern uint8_t native_fx_in[512], native_fx_out[512];
void native_enter(void);
void native_exit(void);

static sigjmp_buf nat_jb;
static volatile sig_atomic_t nat_active;
static struct xresult *nat_res;
static uint8_t *nat_code, *nat_data, *nat_stack;

static const int ureg[16] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void nat_handler(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *u = ctx;
	(void)si;
	if (!nat_active) {
		/* not ours: the harness itself crashed; die as usual */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	nat_active = 0;
	for (int k = 0; k < 16; k++)
		nat_res->gpr[k] = (uint64_t)u->uc_mcontext.gregs[ureg[k]];
	nat_res->rip = (uint64_t)u->uc_mcontext.gregs[REG_RIP];
	nat_res->rflags = (uint64_t)u->uc_mcontext.gregs[REG_EFL];
	nat_res->vector = sig == SIGALRM ? XV_TIMEOUT : (int)u->uc_mcontext.gregs[REG_TRAPNO];
	/* the x87/SSE state at the fault, in the FXSAVE layout */
	if (u->uc_mcontext.fpregs)
		seq_fpu_from_fx(&nat_res->fpu, (const uint8_t *)u->uc_mcontext.fpregs);
	siglongjmp(nat_jb, 1);
}

static uint8_t *map_at(uint64_t addr, size_t len, int prot, char *err, int errlen)
{
	void *p = mmap((void *)(uintptr_t)addr, len, prot,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED || p != (void *)(uintptr_t)addr) {
		snprintf(err, (size_t)errlen, "native: cannot map %#llx (%s)",
			 (unsigned long long)addr, p == MAP_FAILED ? "mmap failed" : "moved");
		return NULL;
	}
	return p;
}

int exec_native_init(char *err, int errlen)
{
	static uint8_t altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
	struct sigaction sa;

	nat_code = map_at(SEQ_CODE, SEQ_CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC, err, errlen);
	nat_data = nat_code ? map_at(SEQ_DATA, SEQ_PAGE, PROT_READ | PROT_WRITE, err, errlen) : NULL;
	nat_stack = nat_data ? map_at(SEQ_STACK, SEQ_PAGE, PROT_READ | PROT_WRITE, err, errlen) : NULL;
	if (!nat_stack)
		return -1;
	if (sigaltstack(&ss, NULL) < 0) {
		snprintf(err, (size_t)errlen, "native: sigaltstack failed");
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = nat_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	int sigs[6] = { SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGTRAP, SIGALRM };
	for (int k = 0; k < 6; k++)
		sigaction(sigs[k], &sa, NULL);
	native_entry = SEQ_CODE;
	return 0;
}

uint64_t exec_native_exit_addr(void)
{
	return (uint64_t)(uintptr_t)native_exit;
}

void exec_native_run(const struct seq_state *st, const struct seq_code *c, struct xresult *r)
{
	memset(r, 0, sizeof *r);
	r->vector = XV_NONE;
	memcpy(nat_code, c->bytes, c->total);
	memcpy(nat_data, st->data, SEQ_PAGE);
	memcpy(nat_stack, st->stack, SEQ_PAGE);
	memcpy(native_in, st->gpr, 128);
	native_entry = SEQ_CODE + c->start;
	native_in[16] = st->rflags;
	seq_fpu_to_fx(&st->fpu, native_fx_in);
	nat_res = r;
	if (sigsetjmp(nat_jb, 1) == 0) {
		nat_active = 1;
		alarm(5);
		native_enter();
		nat_active = 0;
		alarm(0);
		memcpy(r->gpr, native_out, 128);
		r->rflags = native_out[16];
		seq_fpu_from_fx(&r->fpu, native_fx_out);
		r->rip = SEQ_CODE + c->len;
	} else {
		alarm(0);
	}
	memcpy(r->data, nat_data, SEQ_PAGE);
	memcpy(r->stack, nat_stack, SEQ_PAGE);
}
