/*
 * events.c - interrupts under AMD-V (APM Vol. 2 15.17, 15.20, 15.21):
 * the global interrupt flag, physical interrupts that exit, virtual
 * interrupts, and event injection.
 *
 *   GIF = 0 (CLGI, and from #VMEXIT to STGI): INTR and NMI are held
 *     pending, in the host and in the guest alike (15.17).
 *   In the guest, GIF = 1:
 *     physical INTR   with the INTR intercept: #VMEXIT(INTR), the interrupt
 *                     stays pending for the host.  It is masked by the
 *                     host's RFLAGS.IF when V_INTR_MASKING = 1, by the
 *                     guest's when 0 (15.21.1).  Without the intercept it
 *                     goes to the guest's IDT as usual.
 *     NMI             with the NMI intercept: #VMEXIT(NMI), NMI stays pending.
 *     virtual INTR    V_IRQ = 1, the guest's RFLAGS.IF = 1, no interrupt
 *                     shadow, and V_INTR_PRIO above V_TPR (or V_IGN_TPR):
 *                     #VMEXIT(VINTR) with the VINTR intercept, else the
 *                     guest takes V_INTR_VECTOR through its IDT and V_IRQ
 *                     is cleared (15.21.4).
 *   EVENTINJ at VMRUN: the event goes through the guest's IDT before the
 *     guest's first instruction, as if it had just happened (15.20); it is
 *     not itself subject to the exception intercepts, but a fault while
 *     delivering it is, with the injected event in EXITINTINFO.
 */
#include "svm.h"

#include "arch.h"
#include "virt.h"

/* Between instructions, in the guest: leave for the host instead of
 * taking an event.  RIP is the next instruction's (svm_exit keeps it). */
static _Noreturn void event_exit(struct cpu *c, uint64_t code, const char *why)
{
	struct svm_state *s = svm_of(c);
	c->insn_rip = c->rip;
	s->exit_rule = why;
	s->exit_section = "APM 15.21";
	svm_exit(c, code, 0, 0, false);
}

static bool physical_if(const struct cpu *c, const struct svm_state *s)
{
	if (s->vmcb.vintr & SVM_VINTR_MASKING)
		return s->host_if;
	return (c->rflags & FLAG_IF) && c->icount >= c->intr_inhibit_until;
}

static bool virq_ready(const struct cpu *c, const struct svm_state *s)
{
	uint64_t v = s->vmcb.vintr;
	if (!(v & SVM_VINTR_IRQ) || !(c->rflags & FLAG_IF) || c->icount < c->intr_inhibit_until)
		return false;
	unsigned prio = (unsigned)(v >> SVM_VINTR_PRIO_SHIFT) & 0xf;
	unsigned tpr = (unsigned)((v & SVM_VINTR_MASKING) ? c->cr8 : v) & 0xf;
	return (v & SVM_VINTR_IGN_TPR) || prio > tpr;
}

void svm_poll(struct cpu *c)
{
	struct svm_state *s = svm_of(c);
	c->virt_hold = !s->gif;          /* GIF = 0: interrupts and NMIs wait */
	if (!s->guest || !s->gif)
		return;
	if (c->nmi_pending && !c->nmi_blocked && svm_icpt_test(s, SVM_EXIT_NMI))
		event_exit(c, SVM_EXIT_NMI, "an NMI arrived (NMI intercept)");
	if (c->intr_pending && svm_icpt_test(s, SVM_EXIT_INTR) && physical_if(c, s) &&
	    c->intr_pending(c))
		event_exit(c, SVM_EXIT_INTR, "a physical interrupt arrived (INTR intercept)");
	if (!virq_ready(c, s))
		return;
	if (svm_icpt_test(s, SVM_EXIT_VINTR))
		event_exit(c, SVM_EXIT_VINTR, "the guest can take the virtual interrupt (VINTR intercept)");
	s->vmcb.vintr &= ~SVM_VINTR_IRQ;
	c->halted = false;
	cpu_deliver_interrupt(c, (int)(s->vmcb.vintr >> SVM_VINTR_VECTOR_SHIFT) & 0xff);
}

bool svm_inject_event(struct cpu *c, uint64_t e)
{
	struct svm_state *s = svm_of(c);
	int vec = (int)(e & SVM_EVT_VECTOR_MASK);
	unsigned type = (unsigned)((e & SVM_EVT_TYPE_MASK) >> SVM_EVT_TYPE_SHIFT);
	c->insn_rip = c->rip;            /* a fault in delivery is reported here */
	s->injecting = true;
	switch (type) {
	case SVM_EVT_TYPE_INTR:
		cpu_deliver_interrupt(c, vec);
		break;
	case SVM_EVT_TYPE_NMI:
		cpu_deliver_nmi(c);
		break;
	default:
		c->exc_vector = vec;
		c->exc_type = type == SVM_EVT_TYPE_SOFT ? EXC_TYPE_SOFT_INT : EXC_TYPE_HW;
		c->exc_has_error = type == SVM_EVT_TYPE_EXCP && (e & SVM_EVT_EV);
		c->exc_error = (uint32_t)(e >> SVM_EVT_ERR_SHIFT);
		cpu_deliver_exception(c);
		break;
	}
	s->injecting = false;
	return true;
}
