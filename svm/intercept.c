/*
 * intercept.c - which guest actions leave the guest, and what #VMEXIT says
 * about them (APM Vol. 2 15.7-15.14, EXITCODEs of Appendix C).
 *
 * cpu/ calls svm_intercept() through the ops table when a hook's bit is
 * set in c->icpt (cpu/virt.h).  svm_icpt_mask() sets a hook's bit only when
 * the VMCB intercepts something that hook can lead to, so instructions the
 * guest may run freely cost one test.  Here the model looks at the precise
 * intercept bit (and for I/O and MSRs the permission maps) and either
 * returns - the instruction goes on in the guest - or records #VMEXIT with
 * its EXITINFO1/2 and unwinds (svm_exit).
 *
 * Instruction intercepts are checked after the instruction's own #UD/#GP
 * checks (privilege, mode) and before its memory accesses (APM 15.9), which
 * is where the hooks sit in the handlers.  With NRIPS, an instruction
 * intercept saves the next RIP in NRIP (15.7.1); with decode assists,
 * MOV CR/DR, INTn and INVLPG say their operand in EXITINFO1 (15.33).
 */
#include "svm.h"

#include "arch.h"
#include "insn.h"
#include "virt.h"

static bool assists(const struct svm_state *s)
{
	return (s->features & SVM_FEAT_DECODEASSIST) != 0;
}

/* An instruction intercept: EXITINFO as given, NRIP = the next RIP. */
static void insn_exit(struct cpu *c, unsigned code, uint64_t info1, uint64_t info2)
{
	if (svm_icpt_test(svm_of(c), code))
		svm_exit(c, code, info1, info2, true);
}

/* ---- I/O: the IOPM has one bit per port, 12 KiB (APM 15.10.1) ------------------------ */

static bool iopm_denies(struct cpu *c, uint64_t base, unsigned port, unsigned size)
{
	/* Every port the access touches is checked; the map has one extra
	 * page so that an access at port FFFFh reads bits past 65535. */
	for (unsigned p = port; p < port + size; p++) {
		uint64_t pa = (base & ~0xfffull) + p / 8;
		uint8_t b = 0xff;
		if (cpu_phys_read(c, pa, &b, 1) || (b >> (p % 8)) & 1)
			return true;
	}
	return false;
}

static void io_intercept(struct cpu *c, const struct insn *i, const struct virt_io *io)
{
	struct svm_state *s = svm_of(c);
	if (!svm_icpt_test(s, SVM_EXIT_IOIO) ||
	    !iopm_denies(c, s->vmcb.iopm_base_pa, io->port, io->size))
		return;
	uint64_t info = (uint64_t)io->port << SVM_IOIO_PORT_SHIFT |
			(io->in ? SVM_IOIO_TYPE_IN : 0) |
			(io->string ? SVM_IOIO_STR : 0) | (io->rep ? SVM_IOIO_REP : 0) |
			(io->size == 1 ? SVM_IOIO_SZ8 : io->size == 2 ? SVM_IOIO_SZ16 : SVM_IOIO_SZ32);
	/* cpu_io_allow() gives no decoded instruction: the address size is
	 * the mode's default (an 67h prefix is not seen). */
	unsigned asize = i ? i->asize : c->mode == CPU_MODE64 ? 8 : c->mode == CPU_MODE32 ? 4 : 2;
	info |= asize == 2 ? SVM_IOIO_A16 : asize == 4 ? SVM_IOIO_A32 : SVM_IOIO_A64;
	if (io->string && assists(s) && i)
		info |= (uint64_t)(i->seg & 7) << SVM_IOIO_SEG_SHIFT;
	/* EXITINFO2 is the next RIP (15.10.2), with or without NRIPS. */
	svm_exit(c, SVM_EXIT_IOIO, info, c->rip, true);
}

/* ---- MSRs: the MSRPM has two bits (read, write) per MSR in three ranges,
 * 8 KiB (APM 15.11, Table 15-5); any other MSR is always intercepted ---- */

static bool msrpm_denies(struct cpu *c, uint64_t base, uint32_t msr, bool write)
{
	uint64_t off;
	if (msr <= 0x1fff)
		off = 0x000;
	else if (msr - 0xc0000000u <= 0x1fff)
		off = 0x800;
	else if (msr - 0xc0010000u <= 0x1fff)
		off = 0x1000;
	else
		return true;
	unsigned bit = (msr & 0x1fff) * 2 + (write ? 1 : 0);
	uint8_t b = 0xff;
	if (cpu_phys_read(c, (base & ~0xfffull) + off + bit / 8, &b, 1))
		return true;
	return (b >> (bit % 8)) & 1;
}

static void msr_intercept(struct cpu *c, uint32_t msr, bool write)
{
	struct svm_state *s = svm_of(c);
	if (svm_icpt_test(s, SVM_EXIT_MSR) && msrpm_denies(c, s->vmcb.msrpm_base_pa, msr, write))
		svm_exit(c, SVM_EXIT_MSR, write ? 1 : 0, 0, true);
}

/* ---- CR and DR accesses (APM 15.8, 15.9; decode assists 15.33.1) ----------------------- */

static uint64_t cr_info(const struct svm_state *s, const struct insn *i, bool mov)
{
	if (!assists(s))
		return 0;
	return mov && i ? SVM_CR_MOV | (i->rm & 15) : 0;
}

/* A write of CR0: the CR0 write intercept first, then the selective one,
 * which fires when a bit other than TS and MP changes (APM 15.8.3). */
static void cr0_write(struct cpu *c, const struct insn *i, uint64_t v, bool mov)
{
	struct svm_state *s = svm_of(c);
	insn_exit(c, SVM_EXIT_CR0_WRITE, cr_info(s, i, mov), 0);
	if (((v ^ c->cr0) & ~(CR0_TS | CR0_MP)) && svm_icpt_test(s, SVM_EXIT_CR0_SEL_WRITE))
		svm_exit(c, SVM_EXIT_CR0_SEL_WRITE, cr_info(s, i, mov), 0, true);
}

static void cr_write(struct cpu *c, const struct insn *i, unsigned cr)
{
	struct svm_state *s = svm_of(c);
	uint64_t v = c->gpr[i->rm & 15];
	if (cr == 0)
		cr0_write(c, i, v, true);
	else if (cr < 16)
		insn_exit(c, SVM_EXIT_CR_WRITE(cr), cr_info(s, i, true), 0);
}

static void dr_access(struct cpu *c, const struct insn *i, unsigned info)
{
	struct svm_state *s = svm_of(c);
	unsigned n = info & 15;
	uint64_t ei = assists(s) && i ? (uint64_t)(i->rm & 15) : 0;
	insn_exit(c, (info & 0x10) ? SVM_EXIT_DR_WRITE(n) : SVM_EXIT_DR_READ(n), ei, 0);
}

/* ---- exceptions (APM 15.12): EXITINFO1 the error code, EXITINFO2 for #PF
 * the faulting address; NRIP is not an instruction's here ------------------------------ */

static void exception(struct cpu *c, const struct cpu_delivery *e)
{
	struct svm_state *s = svm_of(c);
	if (e->vector < 0 || e->vector > 31 || !svm_icpt_test(s, SVM_EXIT_EXCP(e->vector)))
		return;
	/* The event EVENTINJ injects is not intercepted (APM 15.20); a fault
	 * raised while delivering it is. */
	if (s->injecting && !c->deliv_outer.active)
		return;
	/* Only exceptions: INT n is SWINT's, ICEBP's INT1 is ICEBP's. */
	if (e->type != EXC_TYPE_HW && e->type != EXC_TYPE_SOFT)
		return;
	s->exit_section = "APM 15.12";
	svm_exit(c, SVM_EXIT_EXCP(e->vector), e->has_err ? e->err : 0,
		 e->vector == VEC_PF ? c->cr2 : 0, false);
}

static const unsigned desc_code[] = {
	[VIRT_D_SGDT] = SVM_EXIT_GDTR_READ, [VIRT_D_SIDT] = SVM_EXIT_IDTR_READ,
	[VIRT_D_LGDT] = SVM_EXIT_GDTR_WRITE, [VIRT_D_LIDT] = SVM_EXIT_IDTR_WRITE,
	[VIRT_D_SLDT] = SVM_EXIT_LDTR_READ, [VIRT_D_STR] = SVM_EXIT_TR_READ,
	[VIRT_D_LLDT] = SVM_EXIT_LDTR_WRITE, [VIRT_D_LTR] = SVM_EXIT_TR_WRITE,
};

void svm_intercept(struct cpu *c, int ev, const struct insn *i, uint64_t info)
{
	struct svm_state *s = svm_of(c);
	if (!s->guest)
		return;
	switch ((enum virt_event)ev) {
	case VIRT_CPUID:   insn_exit(c, SVM_EXIT_CPUID, 0, 0); break;
	case VIRT_HLT:     insn_exit(c, SVM_EXIT_HLT, 0, 0); break;
	case VIRT_INVD:    insn_exit(c, SVM_EXIT_INVD, 0, 0); break;
	case VIRT_WBINVD:  insn_exit(c, SVM_EXIT_WBINVD, 0, 0); break;
	case VIRT_INVLPG:  insn_exit(c, SVM_EXIT_INVLPG, assists(s) ? info : 0, 0); break;
	case VIRT_RDPMC:   insn_exit(c, SVM_EXIT_RDPMC, 0, 0); break;
	case VIRT_RDTSC:   insn_exit(c, SVM_EXIT_RDTSC, 0, 0); break;
	case VIRT_RDTSCP:  insn_exit(c, SVM_EXIT_RDTSCP, 0, 0); break;
	case VIRT_PAUSE:   insn_exit(c, SVM_EXIT_PAUSE, 0, 0); break;
	case VIRT_PUSHF:   insn_exit(c, SVM_EXIT_PUSHF, 0, 0); break;
	case VIRT_POPF:    insn_exit(c, SVM_EXIT_POPF, 0, 0); break;
	case VIRT_IRET:    insn_exit(c, SVM_EXIT_IRET, 0, 0); break;
	case VIRT_INTN:    insn_exit(c, SVM_EXIT_SWINT, assists(s) ? (info & 0xff) : 0, 0); break;
	case VIRT_CR_READ:
		if (info < 16)
			insn_exit(c, SVM_EXIT_CR_READ(info), cr_info(s, i, true), 0);
		break;
	case VIRT_CR_WRITE: cr_write(c, i, (unsigned)(info & 0xff)); break;
	case VIRT_CLTS:    cr0_write(c, i, c->cr0 & ~CR0_TS, false); break;
	case VIRT_LMSW:    cr0_write(c, i, (c->cr0 & ~0xeull) | (info & 0xf) | (c->cr0 & 1), false);
			   break;
	case VIRT_SMSW:    insn_exit(c, SVM_EXIT_CR0_READ, 0, 0); break;
	case VIRT_DR:      dr_access(c, i, (unsigned)info); break;
	case VIRT_IO:      io_intercept(c, i, (const struct virt_io *)(uintptr_t)info); break;
	case VIRT_RDMSR:   msr_intercept(c, (uint32_t)info, false); break;
	case VIRT_WRMSR:   msr_intercept(c, (uint32_t)info, true); break;
	case VIRT_DESC:
		if (info < sizeof desc_code / sizeof desc_code[0])
			insn_exit(c, desc_code[info], 0, 0);
		break;
	case VIRT_EXCEPTION: exception(c, &c->deliv); break;
	case VIRT_SHUTDOWN:
		if (svm_icpt_test(s, SVM_EXIT_SHUTDOWN))
			svm_exit(c, SVM_EXIT_SHUTDOWN, 0, 0, false);
		break;
	case VIRT_TASKSW:
		if (svm_icpt_test(s, SVM_EXIT_TASK_SWITCH))
			svm_exit(c, SVM_EXIT_TASK_SWITCH, info & 0xffff, 0, false);
		break;
	case VIRT_POLL:    svm_poll(c); break;
	default:           break;
	}
}

/* The hooks whose bit goes into c->icpt: those the VMCB can make exit.
 * Outside the guest none (GIF = 0 holds interrupts through c->virt_hold). */
uint64_t svm_icpt_mask(const struct svm_state *s)
{
	if (!s->guest)
		return 0;
	static const struct { unsigned code; uint64_t hook; } map[] = {
		{ SVM_EXIT_CPUID, ICPT(CPUID) }, { SVM_EXIT_HLT, ICPT(HLT) },
		{ SVM_EXIT_INVD, ICPT(INVD) }, { SVM_EXIT_WBINVD, ICPT(WBINVD) },
		{ SVM_EXIT_INVLPG, ICPT(INVLPG) }, { SVM_EXIT_RDPMC, ICPT(RDPMC) },
		{ SVM_EXIT_RDTSC, ICPT(RDTSC) }, { SVM_EXIT_RDTSCP, ICPT(RDTSCP) },
		{ SVM_EXIT_PAUSE, ICPT(PAUSE) }, { SVM_EXIT_PUSHF, ICPT(PUSHF) },
		{ SVM_EXIT_POPF, ICPT(POPF) }, { SVM_EXIT_IRET, ICPT(IRET) },
		{ SVM_EXIT_SWINT, ICPT(INTN) }, { SVM_EXIT_IOIO, ICPT(IO) },
		{ SVM_EXIT_MSR, ICPT(RDMSR) | ICPT(WRMSR) },
		{ SVM_EXIT_SHUTDOWN, ICPT(SHUTDOWN) }, { SVM_EXIT_TASK_SWITCH, ICPT(TASKSW) },
		{ SVM_EXIT_CR0_SEL_WRITE, ICPT(CR_WRITE) | ICPT(CLTS) | ICPT(LMSW) },
		{ SVM_EXIT_GDTR_READ, ICPT(DESC) }, { SVM_EXIT_IDTR_READ, ICPT(DESC) },
		{ SVM_EXIT_LDTR_READ, ICPT(DESC) }, { SVM_EXIT_TR_READ, ICPT(DESC) },
		{ SVM_EXIT_GDTR_WRITE, ICPT(DESC) }, { SVM_EXIT_IDTR_WRITE, ICPT(DESC) },
		{ SVM_EXIT_LDTR_WRITE, ICPT(DESC) }, { SVM_EXIT_TR_WRITE, ICPT(DESC) },
	};
	uint64_t m = ICPT(POLL);
	for (unsigned k = 0; k < sizeof map / sizeof map[0]; k++)
		if (svm_icpt_test(s, map[k].code))
			m |= map[k].hook;
	const uint32_t *w = s->vmcb.icpt;
	if (w[0] & 0xffff)
		m |= ICPT(CR_READ) | ICPT(SMSW);
	if (w[0] >> 16)
		m |= ICPT(CR_WRITE) | ICPT(CLTS) | ICPT(LMSW);
	if (w[1])
		m |= ICPT(DR);
	if (w[2])
		m |= ICPT(EXCEPTION);
	if (s->npt)
		m |= ICPT(GPA);
	return m;
}
