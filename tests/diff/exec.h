/*
 * exec.h - the three executors of a generated sequence, and what they
 * report.
 *
 *   exec_nest.c     our interpreter (nestcpu), stepped to the end address
 *   exec_unicorn.c  Unicorn 2.0.1, UC_MODE_64, a Haswell CPU model
 *   exec_native.c   the host CPU in user mode (mmap at the same addresses,
 *                   a trampoline in native_tramp.S, faults via signals)
 *
 * All start from the same struct seq_state and the same code bytes at the
 * same addresses, and return a struct xresult: registers, RIP (the end
 * address, or the faulting instruction), RFLAGS, the exception vector if
 * one was raised, and the two data pages.
 */
#ifndef DIFF_EXEC_H
#define DIFF_EXEC_H

#include "gen.h"

#define XV_NONE (-1)
#define XV_TIMEOUT (-2)

struct xresult {
	uint64_t gpr[16];
	uint64_t rip;
	uint64_t rflags;
	struct seq_fpu fpu;
	bool st_sig_only;           /* only bits 63:0 of ST0-7 mean anything */
	int vector;                 /* exception vector, XV_NONE, XV_TIMEOUT */
	bool error;                 /* the executor itself failed: see err */
	char err[200];
	uint8_t data[SEQ_PAGE];
	uint8_t stack[SEQ_PAGE];
};

int exec_unicorn_init(char *err, int errlen);
void exec_unicorn_run(const struct seq_state *st, const struct seq_code *c, struct xresult *r);

int exec_native_init(char *err, int errlen);
void exec_native_run(const struct seq_state *st, const struct seq_code *c, struct xresult *r);
uint64_t exec_native_exit_addr(void);

extern bool exec_nest_fresh;
int exec_nest_init(char *err, int errlen);
void exec_nest_run(const struct seq_state *st, const struct seq_code *c, struct xresult *r);

#endif
