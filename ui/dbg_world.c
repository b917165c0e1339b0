/*
 * dbg_world.c - which world the CPU is in, and one line per crossing.
 *
 * A world is who runs, in words: "nesthv (host, ring 0)", "guest kernel
 * (PV, ring 3 under nesthv)", "guest user (ring 3)".  It follows from CPL,
 * from which image's code RIP is in (symbol spaces, dbg_sym.c) and from
 * VMX non-root / SVM guest mode: between a VM entry and the next VM exit
 * the CPU reported (cpu/event.h).  Under PV (nestpv.h; Xen x86-64 PV) the guest kernel
 * and its user programs both run in ring 3: the kernel's code is the
 * module's, the user programs run elsewhere (pv/guest USER_BASE).
 *
 * dbg_explain() turns a crossing the CPU reported (cpu/event.h) into one
 * line that says what happened and why, citing the manual (SDM: Intel SDM;
 * APM: AMD) or Xen: hypercalls by name with their arguments, bounced traps
 * (nesthv's create_bounce_frame), privileged instructions nesthv emulates,
 * returns from hypercalls, VM exits and entries.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "dbg_int.h"
#include "nestpv.h"

/* The hypercalls of nestpv.h, with Xen's name for each. */
#define HYPERCALLS(X) \
	X(console_write, "HYPERVISOR_console_io") \
	X(set_trap_table, "HYPERVISOR_set_trap_table") \
	X(mmu_update, "HYPERVISOR_mmu_update") \
	X(mmuext_op, "HYPERVISOR_mmuext_op") \
	X(new_baseptr, "MMUEXT_NEW_BASEPTR") \
	X(stack_switch, "HYPERVISOR_stack_switch") \
	X(iret, "HYPERVISOR_iret") \
	X(set_timer, "HYPERVISOR_set_timer_op") \
	X(sched_op, "HYPERVISOR_sched_op") \
	X(event_channel_op, "HYPERVISOR_event_channel_op") \
	X(shutdown, "SCHEDOP_shutdown")

static const struct { int nr; const char *name, *xen; } hcalls[] = {
#define HC(n, x) { PV_HC_##n, #n, x },
	HYPERCALLS(HC)
#undef HC
};
_Static_assert(sizeof hcalls / sizeof hcalls[0] == PV_NR_HYPERCALLS, "every hypercall named");

const char *dbg_hypercall_name(uint64_t n)
{
	for (size_t k = 0; k < sizeof hcalls / sizeof hcalls[0]; k++)
		if ((uint64_t)hcalls[k].nr == n)
			return hcalls[k].name;
	return NULL;
}

int dbg_hypercall_find(const char *name)
{
	for (size_t k = 0; k < sizeof hcalls / sizeof hcalls[0]; k++)
		if (strcasecmp(hcalls[k].name, name) == 0)
			return hcalls[k].nr;
	return -1;
}

/* Exception mnemonics (SDM Vol. 3 Table 6-1). */
const char *dbg_vector_name(int v)
{
	static const char *const n[22] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MF(old)",
		"#TS", "#NP", "#SS", "#GP", "#PF", NULL, "#MF", "#AC", "#MC", "#XM",
		"#VE", "#CP",
	};
	return v >= 0 && v < 22 ? n[v] : NULL;
}

enum dbg_world dbg_world_now(struct dbg *d)
{
	struct cpu *c = &d->m->cpu;
	if (d->virt_arch != CPU_ARCH_NONE)
		return W_GUEST_VIRT;
	if (d->nspaces < 2)
		return c->cpl == 3 ? W_USER : W_KERNEL;
	if (c->cpl == 0)
		return W_HOST;
	const struct dbg_space *g = &d->space[1];
	if (c->rip >= g->lo && c->rip < g->hi)
		return W_PV_KERNEL;
	return W_GUEST_USER;
}

int dbg_world_space(enum dbg_world w)
{
	return w == W_PV_KERNEL || w == W_GUEST_USER || w == W_GUEST_VIRT ? 1 : 0;
}

const char *dbg_world_name(const struct dbg *d, enum dbg_world w, char *buf, size_t len)
{
	const char *host = d->nspaces ? d->space[0].name : "kernel";
	const char *guest = d->nspaces > 1 ? d->space[1].name : "guest";
	switch (w) {
	case W_HOST:
		snprintf(buf, len, "%s (host, ring 0)", host);
		break;
	case W_PV_KERNEL:
		snprintf(buf, len, "%s kernel (PV, ring 3 under %s)", guest, host);
		break;
	case W_GUEST_USER:
		snprintf(buf, len, "%s user (ring 3)", guest);
		break;
	case W_KERNEL:
		snprintf(buf, len, "%s (ring 0)", host);
		break;
	case W_USER:
		snprintf(buf, len, "user (ring 3)");
		break;
	case W_GUEST_VIRT:
		snprintf(buf, len, "%s (%s)", guest, d->virt_arch == CPU_ARCH_SVM ? "SVM guest mode"
			 : "VMX non-root");
		break;
	default:
		snprintf(buf, len, "?");
	}
	return buf;
}

/* ---- explaining crossings ------------------------------------------------------ */

static void __attribute__((format(printf, 2, 3))) say(struct dbg_logent *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof e->text, fmt, ap);
	va_end(ap);
}

static const char *where(struct dbg *d, uint64_t rip, enum dbg_world w, char *buf, size_t len)
{
	char s[96];
	dbg_sym_name(d, rip, dbg_world_space(w), s, sizeof s);
	if (s[0])
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, "%#llx", (unsigned long long)rip);
	return buf;
}

static void vec_text(const struct cpu_event *ev, char *buf, size_t len)
{
	const char *n = dbg_vector_name(ev->vector);
	if (n && ev->has_error)
		snprintf(buf, len, "%s (vector %d, error code %#x)", n, ev->vector, ev->error);
	else if (n)
		snprintf(buf, len, "%s (vector %d)", n, ev->vector);
	else
		snprintf(buf, len, "vector %#x", ev->vector);
}

/* The guest left for nesthv (PV): INT 0x82, INT 0x80, a fault, an interrupt. */
static void explain_pv_exit(struct dbg *d, struct dbg_logent *e, const char *at)
{
	const struct cpu_event *ev = &e->ev;
	char v[64], insn[64] = "";
	vec_text(ev, v, sizeof v);
	if (ev->kind == CPU_EV_SOFTINT && ev->vector == PV_HYPERCALL_VECTOR && e->from == W_PV_KERNEL) {
		const char *n = dbg_hypercall_name(e->rax);
		const char *x = "?";
		for (size_t k = 0; k < sizeof hcalls / sizeof hcalls[0]; k++)
			if ((uint64_t)hcalls[k].nr == e->rax)
				x = hcalls[k].xen;
		snprintf(e->text, sizeof e->text,
			 "hypercall %s (%llu) at %s: rdi=%#llx rsi=%#llx rdx=%#llx; the guest kernel "
			 "runs in ring 3 and asks nesthv with INT 0x82 (nestpv.h; Xen %s)",
			 n ? n : "unknown", (unsigned long long)e->rax, at, (unsigned long long)e->rdi,
			 (unsigned long long)e->rsi, (unsigned long long)e->rdx, x);
	} else if (ev->kind == CPU_EV_SOFTINT && ev->vector == PV_HYPERCALL_VECTOR) {
		say(e, "INT 0x82 from guest user mode at %s: nesthv refuses "
			 "hypercalls from user mode and reflects #GP to the guest kernel (nestpv.h)", at);
	} else if (ev->kind == CPU_EV_SOFTINT && ev->vector == PV_SYSCALL_VECTOR) {
		say(e, "system call INT 0x80 (rax=%llu) at %s: the gate is "
			 "nesthv's, which bounces it to the guest kernel's handler (Xen PV)",
			 (unsigned long long)e->rax, at);
	} else if (ev->kind == CPU_EV_EXCEPTION && ev->vector == VEC_GP && ev->error == 0) {
		dbg_disasm_one(d, ev->rip, insn, sizeof insn);
		say(e, "#GP(0) on `%s` at %s: a privileged instruction "
			 "at CPL 3 faults (SDM Vol. 3 5.9); nesthv decodes and emulates it", insn, at);
	} else if (ev->kind == CPU_EV_EXCEPTION && ev->vector == VEC_UD) {
		say(e, "#UD at %s: nesthv looks for the forced-emulation "
			 "prefix \"ud2; 'xen'; cpuid\" (nestpv.h) and emulates CPUID, else bounces #UD", at);
	} else if (ev->kind == CPU_EV_EXCEPTION) {
		char cr2[40] = "";
		if (ev->vector == VEC_PF)
			snprintf(cr2, sizeof cr2, ", CR2=%#llx", (unsigned long long)e->cr2);
		say(e, "%s%s at %s: delivered to nesthv through the IDT "
			 "(SDM Vol. 3 6.12); nesthv bounces it to the guest kernel's handler", v, cr2, at);
	} else if (ev->kind == CPU_EV_INTERRUPT) {
		say(e, "interrupt vector %#x at %s: the host's interrupt, "
			 "taken by nesthv (SDM Vol. 3 6.12); the guest sees it, if at all, as an event "
			 "channel upcall", ev->vector, at);
	} else {
		say(e, "%s at %s into nesthv", v, at);
	}
}

/* nesthv went back to the guest (PV): the instruction after a hypercall, an
 * emulated instruction, the faulting one again, or a bounce. */
static void explain_pv_entry(struct dbg *d, struct dbg_logent *e, const char *to)
{
	const struct dbg_logent *x = NULL;
	for (uint64_t k = e->index; k-- > 0 && d->nlog - k < DBG_LOG_SIZE;) {
		const struct dbg_logent *y = &d->log[k % DBG_LOG_SIZE];
		if (y->to == W_HOST && y->from != W_HOST) {
			x = y;
			break;
		}
	}
	char wn[64];
	dbg_world_name(d, e->to, wn, sizeof wn);
	uint64_t back = x ? x->ev.rip : 0, to_rip = e->rip_after;
	if (!x) {
		say(e, "nesthv enters %s for the first time, at %s: an IRET to ring 3 (nesthv's "
		    "hv_enter_guest; Xen: the domain builder's start)", wn, to);
	} else if (x->hypercall && x->rax == PV_HC_iret) {
		say(e, "hypercall iret done: nesthv restores the frame and "
			 "returns to %s at %s (Xen HYPERVISOR_iret)", wn, to);
	} else if (x && x->hypercall && to_rip == back + 2) {
		const char *n = dbg_hypercall_name(x->rax);
		say(e, "return from hypercall %s to %s at %s: rax=%#llx",
			 n ? n : "?", wn, to, (unsigned long long)e->rax);
	} else if (x && to_rip == back && x->ev.kind == CPU_EV_INTERRUPT) {
		say(e, "nesthv returns to %s at %s, where the interrupt came", wn, to);
	} else if (x && to_rip == back) {
		say(e, "nesthv resumes %s at %s, the instruction that "
			 "trapped (handled: it runs again)", wn, to);
	} else if (x && to_rip > back && to_rip - back <= 15) {
		say(e, "nesthv emulated the instruction and resumes %s "
			 "after it, at %s", wn, to);
	} else {
		char v[64] = "an event";
		if (x && x->ev.kind == CPU_EV_INTERRUPT)
			snprintf(v, sizeof v, "a pending event channel (upcall)");
		else if (x)
			vec_text(&x->ev, v, sizeof v);
		say(e, "bounced trap: nesthv delivers %s to the guest "
			 "kernel's handler %s in %s, with a bounce frame on its stack (nestpv.h; Xen "
			 "create_bounce_frame)", v, to, wn);
	}
}

/* The explanation of e, made the first time someone reads it (the log
 * entry is in the ring, so its text can be filled in place). */
const char *dbg_log_text(const struct dbg *d, const struct dbg_logent *e)
{
	if (!e->text[0])
		dbg_explain((struct dbg *)d, (struct dbg_logent *)e);
	return e->text;
}

void dbg_explain(struct dbg *d, struct dbg_logent *e)
{
	const struct cpu_event *ev = &e->ev;
	char at[96], to[96], wf[64], wt[64], v[64];
	where(d, ev->rip, e->from, at, sizeof at);
	where(d, e->rip_after, e->to, to, sizeof to);
	dbg_world_name(d, e->from, wf, sizeof wf);
	dbg_world_name(d, e->to, wt, sizeof wt);
	vec_text(ev, v, sizeof v);
	bool pv = d->nspaces > 1;
	if (pv && e->to == W_HOST && e->from != W_HOST &&
	    ev->kind <= CPU_EV_SOFTINT) {
		explain_pv_exit(d, e, at);
		return;
	}
	if (pv && e->from == W_HOST && e->to != W_HOST && ev->kind == CPU_EV_IRET) {
		explain_pv_entry(d, e, to);
		return;
	}
	switch (ev->kind) {
	case CPU_EV_SOFTINT:
		say(e, "INT %#x at %s in %s: a software interrupt, through the IDT to %s (SDM Vol. 3 "
		    "6.12; SDM Vol. 2A INT n)", ev->vector, at, wf, to);
		break;
	case CPU_EV_EXCEPTION:
	case CPU_EV_INTERRUPT:
	case CPU_EV_NMI:
		say(e, "%s%s at %s in %s: through the IDT to %s "
			 "(SDM Vol. 3 6.12)", ev->kind == CPU_EV_INTERRUPT ? "interrupt " : "", v, at,
			 wf, to);
		break;
	case CPU_EV_SYSCALL:
		say(e, "SYSCALL/SYSENTER at %s: from ring %d to ring 0 at "
			 "%s (SDM Vol. 2B SYSCALL, SYSENTER)", at, ev->cpl, to);
		break;
	case CPU_EV_SYSRET:
		say(e, "SYSRET/SYSEXIT at %s: to ring 3 at %s (SDM Vol. 2B "
			 "SYSRET, SYSEXIT)", at, to);
		break;
	case CPU_EV_IRET:
		say(e, "IRET at %s: from ring %d to ring %d at %s (SDM "
			 "Vol. 2A IRET)", at, ev->cpl, e->cpl_after, to);
		break;
	case CPU_EV_VMEXIT:
		if (ev->arch == CPU_ARCH_SVM)
			say(e, "#VMEXIT: %s (exit code %#llx): the guest was at %s; EXITINFO1 %#llx, "
			    "EXITINFO2 %#llx%s%s%s%s%s", ev->name ? ev->name : "?",
			    (unsigned long long)ev->reason, at, (unsigned long long)ev->qual,
			    (unsigned long long)ev->info2, ev->rule ? "; " : "", ev->rule ? ev->rule : "",
			    ev->section ? " (" : "", ev->section ? ev->section : "", ev->section ? ")" : "");
		else
			say(e, "VM exit: %s (basic reason %llu): the guest was at %s; qualification "
			    "%#llx%s%s%s%s%s", ev->name ? ev->name : "?", (unsigned long long)ev->reason,
			    at, (unsigned long long)ev->qual, ev->rule ? "; " : "", ev->rule ? ev->rule : "",
			    ev->section ? " (" : "", ev->section ? ev->section : "", ev->section ? ")" : "");
		break;
	case CPU_EV_VMENTRY:
		say(e, "VM entry (%s) at %s: the guest runs at %s%s%s%s", ev->name ? ev->name :
		    ev->arch == CPU_ARCH_SVM ? "VMRUN" : "VMLAUNCH/VMRESUME", at, to,
		    ev->section ? " (" : "", ev->section ? ev->section : "", ev->section ? ")" : "");
		break;
	case CPU_EV_VMENTRY_FAIL:
		say(e, "VM entry failed at %s: %s (%s)", at,
			 ev->rule ? ev->rule : "?", ev->section ? ev->section : "");
		break;
	default:
		say(e, "%s -> %s at %s", wf, wt, to);
	}
}
