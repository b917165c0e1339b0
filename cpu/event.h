/*
 * event.h - crossings between worlds, as the CPU reports them to whoever
 * watches (the debugger core in ui/, the trace export, tests).
 *
 * The CPU knows nothing of debuggers.  It only calls one observer, if one is
 * installed, at each point where control crosses between privilege levels
 * or between VMX root and non-root / SVM host and guest: exception,
 * interrupt and NMI delivery, INT n, SYSCALL/SYSRET, SYSENTER/SYSEXIT, IRET,
 * VM entry (and entry failure) and VM exit.  With no observer the cost is
 * one pointer test (cpu_event_emit below), so the run loop keeps its speed.
 *
 * The record is filled where the crossing happens: `rip`/`cpl` before it,
 * the CPU's state (c->rip, c->cpl ...) already after it when the observer
 * is called.  VM exits and entries carry the architecture's numbers
 * (VMX basic exit reason and qualification, or SVM EXITCODE and EXITINFO1/2)
 * and, when the model knows it, the manual rule that made them happen.
 */
#ifndef NESTLAB_CPU_EVENT_H
#define NESTLAB_CPU_EVENT_H

#include <stdint.h>

struct cpu;

enum cpu_event_kind {
	CPU_EV_EXCEPTION,   /* a fault or trap delivered through the IDT/IVT */
	CPU_EV_INTERRUPT,   /* an external interrupt delivered */
	CPU_EV_NMI,         /* an NMI delivered */
	CPU_EV_SOFTINT,     /* INT n / INT3 / INTO / INT1 delivered */
	CPU_EV_SYSCALL,     /* SYSCALL or SYSENTER: user -> kernel */
	CPU_EV_SYSRET,      /* SYSRET or SYSEXIT: kernel -> user */
	CPU_EV_IRET,        /* IRET that changed CPL (or left an NMI handler) */
	CPU_EV_VMENTRY,     /* VMLAUNCH/VMRESUME/VMRUN entered the guest */
	CPU_EV_VMENTRY_FAIL,/* VM entry failed: rule names the check */
	CPU_EV_VMEXIT,      /* VM exit / #VMEXIT to the host */
	CPU_EV_RESET,       /* the machine reset (or asked to) */
	CPU_EV_NKINDS
};

enum cpu_event_arch { CPU_ARCH_NONE, CPU_ARCH_VMX, CPU_ARCH_SVM };

struct cpu_event {
	enum cpu_event_kind kind;
	enum cpu_event_arch arch;  /* for VM entries and exits */
	int vector;                /* exception/interrupt vector, -1 if none */
	uint32_t error;            /* error code, valid if has_error */
	int has_error;
	uint64_t rip;              /* RIP before the crossing */
	int cpl;                   /* CPL before the crossing */
	uint64_t reason;           /* VMX exit reason / SVM EXITCODE */
	uint64_t qual;             /* VMX exit qualification / SVM EXITINFO1 */
	uint64_t info2;            /* VMX guest-physical address / SVM EXITINFO2 */
	const char *name;          /* short name of the reason, e.g. "CPUID" */
	const char *rule;          /* the condition that failed or caused it */
	const char *section;       /* manual section, e.g. "SDM 26.1.2" */
};

typedef void (*cpu_observer_fn)(struct cpu *c, const struct cpu_event *ev, void *opaque);

#endif
