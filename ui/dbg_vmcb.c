/*
 * dbg_vmcb.c - the `vmcb` and `vmcs` commands: the current control
 * structure by field name, grouped as the manual groups it.
 *
 * AMD-V (svm/): the VMCB of the last VMRUN (svm_state.vmcb_pa), read from
 * guest-physical memory as it is now, in the two areas of APM Vol. 2
 * Appendix B: the control area (Table B-1: intercept vectors decoded bit by
 * bit into the exit codes they enable, the permission maps, ASID, virtual
 * interrupt, the last exit, nested paging, event injection) and the
 * state-save area (Table B-2).  A field that changed since the last `vmcb`
 * is marked '*'.  VT-x: no VMX model is in this build yet, so `vmcs`
 * answers that no VMCS is current.
 */
#include <string.h>

#include "arch/svm.h"
#include "dbg_int.h"
#include "model.h"
#include "../svm/svm.h"

static struct svm_vmcb last_vmcb;      /* what the last `vmcb` showed */
static bool have_last;

#define FIELD(name) (have_last && memcmp(&v->name, &last_vmcb.name, sizeof v->name) ? '*' : ' ')

static void show_u64(struct dbg *d, const struct svm_vmcb *v, const char *label, size_t off,
		     size_t size, const char *offname)
{
	uint64_t now = 0, old = 0;
	memcpy(&now, (const uint8_t *)v + off, size);
	memcpy(&old, (const uint8_t *)&last_vmcb + off, size);
	dbg_printf(d, " %c %-16s %-5s %#llx\n", have_last && now != old ? '*' : ' ', label, offname,
		   (unsigned long long)now);
}

#define U(field, off) show_u64(d, v, #field, offsetof(struct svm_vmcb, field), \
			       sizeof v->field, off)

static void intercepts(struct dbg *d, const struct svm_vmcb *v)
{
	/* Word w bit b enables exit code 0x20 * w + b (APM Table B-1). */
	static const char *const words[5] = { "CR read/write", "DR read/write", "exceptions",
					      "misc 1", "misc 2" };
	for (int w = 0; w < 5 && w < SVM_ICPT_WORDS; w++) {
		char line[1024];
		size_t n = 0;
		line[0] = 0;
		for (int b = 0; b < 32 && n + 24 < sizeof line; b++)
			if (v->icpt[w] >> b & 1)
				n += (size_t)snprintf(line + n, sizeof line - n, " %s",
						      svm_exit_name((uint64_t)(0x20 * w + b)));
		dbg_printf(d, " %c %-16s %03xh   0x%08x%s%s\n",
			   have_last && v->icpt[w] != last_vmcb.icpt[w] ? '*' : ' ', words[w], 4 * w,
			   v->icpt[w], n ? ":" : "", line);
	}
}

static void seg(struct dbg *d, const char *name, const struct svm_vmcb_seg *s,
		const struct svm_vmcb_seg *o)
{
	dbg_printf(d, " %c %-4s sel 0x%04x attrib 0x%03x limit %#x base %#llx\n",
		   have_last && memcmp(s, o, sizeof *s) ? '*' : ' ', name, s->sel, s->attrib,
		   s->limit, (unsigned long long)s->base);
}

void dbg_show_vmcb(struct dbg *d)
{
	struct cpu *c = &d->m->cpu;
	const struct svm_state *s = c->virt;
	if (!c->model || strncmp(c->model->name, "svm", 3) != 0 || !s) {
		dbg_printf(d, "no VMCB is current (this CPU model, %s, has no AMD-V: try --cpu svm)\n",
			   c->model ? c->model->name : "?");
		return;
	}
	if (!s->vmcb_pa) {
		dbg_printf(d, "no VMCB is current (no VMRUN yet)\n");
		return;
	}
	static struct svm_vmcb vmcb;
	const struct svm_vmcb *v = &vmcb;
	if (cpu_phys_read(c, s->vmcb_pa, &vmcb, sizeof vmcb) < 0) {
		dbg_printf(d, "error: the VMCB at %#llx is not in RAM\n", (unsigned long long)s->vmcb_pa);
		return;
	}
	dbg_printf(d, "VMCB at %#llx (%s; %llu VMRUNs, %llu #VMEXITs)%s\n",
		   (unsigned long long)s->vmcb_pa, s->guest ? "the guest runs" : "the host runs",
		   (unsigned long long)s->nvmruns, (unsigned long long)s->nvmexits,
		   have_last ? "; * = changed since the last vmcb" : "");
	dbg_printf(d, "control area (APM Vol. 2 Table B-1):\n");
	intercepts(d, v);
	U(iopm_base_pa, "040h"); U(msrpm_base_pa, "048h"); U(tsc_offset, "050h");
	U(guest_asid, "058h"); U(tlb_control, "05Ch"); U(vintr, "060h");
	U(interrupt_shadow, "068h");
	dbg_printf(d, " %c %-16s %-5s %#llx (%s)\n", FIELD(exitcode), "exitcode", "070h",
		   (unsigned long long)v->exitcode, svm_exit_name(v->exitcode));
	U(exitinfo1, "078h"); U(exitinfo2, "080h"); U(exitintinfo, "088h");
	U(np_enable, "090h"); U(eventinj, "0A8h"); U(n_cr3, "0B0h"); U(vmcb_clean, "0C0h");
	U(next_rip, "0C8h"); U(insn_len, "0D0h");
	dbg_printf(d, "state-save area (APM Vol. 2 Table B-2):\n");
	seg(d, "es", &v->es, &last_vmcb.es);
	seg(d, "cs", &v->cs, &last_vmcb.cs);
	seg(d, "ss", &v->ss, &last_vmcb.ss);
	seg(d, "ds", &v->ds, &last_vmcb.ds);
	seg(d, "gdtr", &v->gdtr, &last_vmcb.gdtr);
	seg(d, "idtr", &v->idtr, &last_vmcb.idtr);
	seg(d, "tr", &v->tr, &last_vmcb.tr);
	U(cpl, "4CBh"); U(efer, "4D0h"); U(cr4, "548h"); U(cr3, "550h"); U(cr0, "558h");
	U(dr7, "560h"); U(rflags, "570h"); U(rip, "578h"); U(rsp, "5D8h"); U(rax, "5F8h");
	U(cr2, "640h"); U(g_pat, "668h");
	last_vmcb = vmcb;
	have_last = true;
}
