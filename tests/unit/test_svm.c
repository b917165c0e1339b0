/*
 * test_svm.c - the emulated AMD-V (svm/): the VMRUN consistency checks of
 * APM Vol. 2 15.5.1 one rule at a time, the nested page walk (15.25) with
 * its NPF EXITINFO1 bits, and VMRUN -> intercept -> #VMEXIT round trips on
 * the whole CPU (EXITCODE, EXITINFO1/2, NRIP, the host state restored).
 */
#include <stdlib.h>
#include <string.h>

#include "../../svm/svm.h"
#include "arch.h"
#include "model.h"
#include "unit_util.h"
#include "virt.h"

#define VMCB_PA   0x100000ull
#define HSAVE_PA  0x101000ull
#define IOPM_PA   0x102000ull     /* 3 pages */
#define MSRPM_PA  0x105000ull     /* 2 pages */
#define NPT_PA    0x180000ull
#define GUEST_RIP 0x20000ull

static struct cpu *svm_cpu(const char *model)
{
	static struct cpu c;
	static bool live;
	if (live)
		cpu_free(&c);
	if (cpu_init(&c, cpu_model_find(model), UT_RAM) < 0)
		abort();
	live = true;
	c.exceptions_stop = true;
	c.cpl = 0;
	c.gpr[R_RSP] = 3ull << 20;
	c.seg[SEG_CS].attr = 0xa09b;     /* a real 64-bit code segment: #VMEXIT reloads it */
	return &c;
}

static struct svm_vmcb_seg flat(uint16_t sel, uint16_t attrib)
{
	return (struct svm_vmcb_seg){ sel, attrib, 0xffffffff, 0 };
}

/* A VMCB VMRUN accepts: a 32-bit protected-mode guest without paging,
 * intercepting VMRUN (mandatory) and CPUID. */
static void good_vmcb(struct svm_vmcb *v)
{
	memset(v, 0, sizeof *v);
	v->icpt[SVM_EXIT_VMRUN / 32] |= 1u << (SVM_EXIT_VMRUN % 32);
	v->icpt[SVM_EXIT_CPUID / 32] |= 1u << (SVM_EXIT_CPUID % 32);
	v->iopm_base_pa = IOPM_PA;
	v->msrpm_base_pa = MSRPM_PA;
	v->guest_asid = 1;
	v->cs = flat(0x08, 0xc9b);
	v->ds = v->es = v->ss = flat(0x10, 0xc93);
	v->efer = EFER_SVME;
	v->cr0 = CR0_PE | CR0_ET;
	v->dr6 = 0xffff0ff0;
	v->dr7 = 0x400;
	v->rflags = 2;
	v->rip = GUEST_RIP;
	v->rsp = 0x80000;
}

/* ---- the check table -------------------------------------------------------------------- */

static void check_rule(void (*breakit)(struct svm_vmcb *), const char *rule)
{
	struct cpu *c = svm_cpu("svm");
	struct svm_vmcb v;
	struct svm_check_fail f = { NULL, NULL };
	good_vmcb(&v);
	CU_ASSERT_TRUE_FATAL(svm_vmrun_checks(c, &v, &f));
	breakit(&v);
	CU_ASSERT_FALSE(svm_vmrun_checks(c, &v, &f));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f.rule);
	CU_ASSERT_STRING_EQUAL(f.rule, rule);
	CU_ASSERT_PTR_NOT_NULL(f.section);
}

static void b_svme(struct svm_vmcb *v) { v->efer &= ~EFER_SVME; }
static void b_nw(struct svm_vmcb *v) { v->cr0 |= CR0_NW; }
static void b_cr0hi(struct svm_vmcb *v) { v->cr0 |= 1ull << 32; }
static void b_cr3(struct svm_vmcb *v) { v->cr3 = 1ull << 33; }
static void b_cr4(struct svm_vmcb *v) { v->cr4 = CR4_VMXE; }
static void b_dr6(struct svm_vmcb *v) { v->dr6 |= 1ull << 40; }
static void b_dr7(struct svm_vmcb *v) { v->dr7 |= 1ull << 40; }
static void b_efer(struct svm_vmcb *v) { v->efer |= 1ull << 20; }
static void b_pae(struct svm_vmcb *v) { v->efer |= EFER_LME; v->cr0 |= CR0_PG; }
static void b_pe(struct svm_vmcb *v) { v->efer |= EFER_LME; v->cr0 = CR0_PG; v->cr4 = CR4_PAE; }
static void b_csld(struct svm_vmcb *v)
{
	v->efer |= EFER_LME; v->cr0 |= CR0_PG; v->cr4 = CR4_PAE; v->cs.attrib |= 1u << 9;
}
static void b_vmrun(struct svm_vmcb *v) { v->icpt[4] &= ~1u; }
static void b_msrpm(struct svm_vmcb *v) { v->msrpm_base_pa = (1ull << 40) - 0x1000; }
static void b_iopm(struct svm_vmcb *v) { v->iopm_base_pa = 1ull << 41; }
static void b_evtype(struct svm_vmcb *v) { v->eventinj = SVM_EVT_V | (5u << 8) | 32; }
static void b_evnmi(struct svm_vmcb *v) { v->eventinj = SVM_EVT_V | (3u << 8) | 2; }
static void b_asid(struct svm_vmcb *v) { v->guest_asid = 0; }

static void test_vmrun_checks(void)
{
	static const char tables[] = "The MSR or IOIO intercept tables extend to a physical "
		"address that is greater than or equal to the maximum supported physical address";
	check_rule(b_svme, "EFER.SVME is zero");
	check_rule(b_nw, "CR0.CD is zero and CR0.NW is set");
	check_rule(b_cr0hi, "CR0[63:32] are not zero");
	check_rule(b_cr3, "Any MBZ bit of CR3 is set");
	check_rule(b_cr4, "Any MBZ bit of CR4 is set");
	check_rule(b_dr6, "DR6[63:32] are not zero");
	check_rule(b_dr7, "DR7[63:32] are not zero");
	check_rule(b_efer, "Any MBZ bit of EFER is set");
	check_rule(b_pae, "EFER.LME and CR0.PG are both set and CR4.PAE is zero");
	check_rule(b_pe, "EFER.LME and CR0.PG are both non-zero and CR0.PE is zero");
	check_rule(b_csld, "EFER.LME, CR0.PG, CR4.PAE, CS.L, and CS.D are all non-zero");
	check_rule(b_vmrun, "The VMRUN intercept bit is clear");
	check_rule(b_msrpm, tables);
	check_rule(b_iopm, tables);
	check_rule(b_evtype, "Illegal event injection: EVENTINJ.TYPE is reserved (1, 5, 6 or 7)");
	check_rule(b_evnmi, "Illegal event injection: an exception (TYPE 3) with vector 2 or above 31");
	check_rule(b_asid, "ASID is equal to zero");
}

/* ---- the nested page walk --------------------------------------------------------------- */

#define NP (1ull << 0)
#define NW (1ull << 1)
#define NU (1ull << 2)
#define NPS (1ull << 7)

static void poke(struct cpu *c, uint64_t pa, uint64_t v) { cpu_phys_write(c, pa, &v, 8); }
static uint64_t peek(struct cpu *c, uint64_t pa)
{
	uint64_t v = 0;
	cpu_phys_read(c, pa, &v, 8);
	return v;
}

/* PML4 at NPT_PA -> PDPT -> PD: gPA 0-2M a 2 MiB page at 0 (rw), gPA
 * 2M-4M through a PT: 2M+4K read-only at 0x300000, 2M+8K supervisor-only,
 * 2M+12K NX; gPA 1G-2G a 1 GiB page at 0 (rw). */
static void build_npt(struct cpu *c)
{
	poke(c, NPT_PA, (NPT_PA + 0x1000) | NP | NW | NU);
	poke(c, NPT_PA + 0x1000, (NPT_PA + 0x2000) | NP | NW | NU);
	poke(c, NPT_PA + 0x1008, 0x0 | NP | NW | NU | NPS);
	poke(c, NPT_PA + 0x2000, 0x0 | NP | NW | NU | NPS);
	poke(c, NPT_PA + 0x2008, (NPT_PA + 0x3000) | NP | NW | NU);
	poke(c, NPT_PA + 0x3000 + 8, 0x300000 | NP | NU);
	poke(c, NPT_PA + 0x3000 + 16, 0x301000 | NP | NW);
	poke(c, NPT_PA + 0x3000 + 24, 0x302000 | NP | NW | NU | (1ull << 63));
}

static void walk(struct cpu *c, uint64_t gpa, unsigned flags, bool nxe, struct svm_npt_result *r)
{
	svm_npt_walk(c, NPT_PA, nxe, gpa, flags, false, r);
}

static void test_npt_walk(void)
{
	struct cpu *c = svm_cpu("svm");
	struct svm_npt_result r;
	build_npt(c);
	walk(c, 0x1234, VIRT_GPA_READ, false, &r);               /* 2 MiB page */
	CU_ASSERT_TRUE(r.ok);
	CU_ASSERT_EQUAL(r.hpa, 0x1234);
	CU_ASSERT_EQUAL(r.levels, 3);
	CU_ASSERT(peek(c, NPT_PA + 0x2000) & (1ull << 5));        /* A set in the leaf */
	CU_ASSERT_FALSE(peek(c, NPT_PA + 0x2000) & (1ull << 6));  /* no D on a read */
	walk(c, 0x40001234, VIRT_GPA_WRITE, false, &r);          /* 1 GiB page */
	CU_ASSERT_TRUE(r.ok);
	CU_ASSERT_EQUAL(r.hpa, 0x1234);
	CU_ASSERT(peek(c, NPT_PA + 0x1008) & (1ull << 6));        /* D set by the write */
	walk(c, 0x201010, VIRT_GPA_READ, false, &r);             /* 4 KiB, read-only */
	CU_ASSERT_TRUE(r.ok);
	CU_ASSERT_EQUAL(r.hpa, 0x300010);
	CU_ASSERT_EQUAL(r.levels, 4);
	walk(c, 0x201010, VIRT_GPA_WRITE, false, &r);            /* write: protection */
	CU_ASSERT_FALSE(r.ok);
	CU_ASSERT_EQUAL(r.info1, SVM_NPF_P | SVM_NPF_RW | SVM_NPF_US);
	walk(c, 0x202000, VIRT_GPA_READ, false, &r);             /* U/S = 0: every access is user */
	CU_ASSERT_FALSE(r.ok);
	CU_ASSERT_EQUAL(r.info1, SVM_NPF_P | SVM_NPF_US);
	walk(c, 0x203000, VIRT_GPA_EXEC, true, &r);              /* NX with EFER.NXE */
	CU_ASSERT_FALSE(r.ok);
	CU_ASSERT_EQUAL(r.info1, SVM_NPF_P | SVM_NPF_US | SVM_NPF_ID);
	walk(c, 0x203000, VIRT_GPA_EXEC, false, &r);             /* without NXE bit 63 is reserved */
	CU_ASSERT_FALSE(r.ok);
	CU_ASSERT_EQUAL(r.info1, SVM_NPF_P | SVM_NPF_US | SVM_NPF_RSV);
	walk(c, 0x204000, VIRT_GPA_READ, false, &r);             /* not present */
	CU_ASSERT_FALSE(r.ok);
	CU_ASSERT_EQUAL(r.info1, SVM_NPF_US);
	poke(c, NPT_PA + 0x1010, 0x2000 | NP | NW | NU | NPS);    /* 1G page, bit 13 set */
	walk(c, 0x80000000, VIRT_GPA_READ, false, &r);
	CU_ASSERT_FALSE(r.ok);
	CU_ASSERT_EQUAL(r.info1, SVM_NPF_P | SVM_NPF_US | SVM_NPF_RSV);
	poke(c, NPT_PA + 8, 0x7ffff000 | NP | NW | NU);          /* a table outside RAM */
	walk(c, 1ull << 39, VIRT_GPA_READ, false, &r);
	CU_ASSERT_FALSE(r.ok);
	CU_ASSERT_EQUAL(r.info1, SVM_NPF_US);
}

/* ---- VMRUN round trips --------------------------------------------------------------------- */

/* The host: EFER.SVME, VM_HSAVE_PA by WRMSR, then VMRUN at RAX = VMCB_PA,
 * then HLT.  Returns how the run stopped. */
static enum cpu_stop host_vmrun(struct cpu *c, const struct svm_vmcb *v,
				const uint8_t *guest, size_t glen)
{
	static const uint8_t host[] = {
		0xb9, 0x80, 0x00, 0x00, 0xc0,    /* mov ecx, EFER */
		0x0f, 0x32,                      /* rdmsr */
		0x0f, 0xba, 0xe8, 0x0c,          /* bts eax, 12 (SVME) */
		0x0f, 0x30,                      /* wrmsr */
		0xb9, 0x17, 0x01, 0x01, 0xc0,    /* mov ecx, VM_HSAVE_PA */
		0xb8, 0x00, 0x10, 0x10, 0x00,    /* mov eax, 0x101000 */
		0x31, 0xd2,                      /* xor edx, edx */
		0x0f, 0x30,                      /* wrmsr */
		0xb8, 0x00, 0x00, 0x10, 0x00,    /* mov eax, 0x100000 */
		0x0f, 0x01, 0xd8,                /* vmrun */
		0xf4,                            /* hlt */
	};
	cpu_phys_write(c, VMCB_PA, v, sizeof *v);
	cpu_phys_write(c, GUEST_RIP, guest, glen);
	return ut_run(c, host, sizeof host, 10000);
}

static void read_vmcb(struct cpu *c, struct svm_vmcb *v)
{
	cpu_phys_read(c, VMCB_PA, v, sizeof *v);
}

static void test_cpuid_exit(void)
{
	struct cpu *c = svm_cpu("svm");
	static const uint8_t guest[] = { 0x90, 0x0f, 0xa2, 0xf4 };   /* nop; cpuid; hlt */
	struct svm_vmcb v;
	good_vmcb(&v);
	v.rax = 0x12345678;
	CU_ASSERT_EQUAL(host_vmrun(c, &v, guest, sizeof guest), CPU_STOP_HLT);
	read_vmcb(c, &v);
	CU_ASSERT_EQUAL(v.exitcode, SVM_EXIT_CPUID);
	CU_ASSERT_EQUAL(v.rip, GUEST_RIP + 1);         /* the CPUID itself */
	CU_ASSERT_EQUAL(v.next_rip, GUEST_RIP + 3);    /* NRIPS */
	CU_ASSERT_EQUAL(v.rax, 0x12345678);
	CU_ASSERT_EQUAL(v.exitintinfo, 0);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], VMCB_PA);       /* the host's RAX back */
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 36);         /* VMRUN's successor (HLT) ran */
	CU_ASSERT_EQUAL(c->icpt, 0);
	CU_ASSERT_EQUAL(c->mode, CPU_MODE64);
	CU_ASSERT_TRUE(c->virt_hold);                  /* GIF = 0 after #VMEXIT */
}

static void test_cpuid_exit_no_nrips(void)
{
	struct cpu *c = svm_cpu("svm,-nrips");
	static const uint8_t guest[] = { 0x0f, 0xa2, 0xf4 };
	struct svm_vmcb v;
	good_vmcb(&v);
	CU_ASSERT_EQUAL(host_vmrun(c, &v, guest, sizeof guest), CPU_STOP_HLT);
	read_vmcb(c, &v);
	CU_ASSERT_EQUAL(v.exitcode, SVM_EXIT_CPUID);
	CU_ASSERT_EQUAL(v.next_rip, 0);
}

static void test_vmrun_invalid(void)
{
	struct cpu *c = svm_cpu("svm");
	static const uint8_t guest[] = { 0xf4 };
	struct svm_vmcb v;
	good_vmcb(&v);
	v.guest_asid = 0;
	CU_ASSERT_EQUAL(host_vmrun(c, &v, guest, sizeof guest), CPU_STOP_HLT);
	read_vmcb(c, &v);
	CU_ASSERT_EQUAL(v.exitcode, SVM_EXIT_INVALID);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 36);
	CU_ASSERT_STRING_EQUAL(svm_of(c)->fail_rule, "ASID is equal to zero");
}

/* The observer (cpu/event.h) sees VMRUN, a failed VMRUN with its rule, and
 * #VMEXIT with EXITCODE and name. */
static struct cpu_event seen[4];
static int nseen;
static void watch(struct cpu *c, const struct cpu_event *ev, void *opaque)
{
	(void)c, (void)opaque;
	if (ev->arch == CPU_ARCH_SVM && nseen < 4)
		seen[nseen++] = *ev;
}

static void test_events(void)
{
	static const uint8_t guest[] = { 0x0f, 0xa2, 0xf4 };
	struct svm_vmcb v;
	struct cpu *c = svm_cpu("svm");
	nseen = 0;
	c->observer = watch;
	good_vmcb(&v);
	CU_ASSERT_EQUAL(host_vmrun(c, &v, guest, sizeof guest), CPU_STOP_HLT);
	CU_ASSERT_EQUAL_FATAL(nseen, 2);
	CU_ASSERT_EQUAL(seen[0].kind, CPU_EV_VMENTRY);
	CU_ASSERT_EQUAL(seen[1].kind, CPU_EV_VMEXIT);
	CU_ASSERT_EQUAL(seen[1].reason, SVM_EXIT_CPUID);
	CU_ASSERT_STRING_EQUAL(seen[1].name, "CPUID");
	CU_ASSERT_EQUAL(seen[1].rip, GUEST_RIP);
	c = svm_cpu("svm");
	nseen = 0;
	c->observer = watch;
	good_vmcb(&v);
	v.cr0 |= 1ull << 32;
	CU_ASSERT_EQUAL(host_vmrun(c, &v, guest, sizeof guest), CPU_STOP_HLT);
	CU_ASSERT_EQUAL_FATAL(nseen, 1);
	CU_ASSERT_EQUAL(seen[0].kind, CPU_EV_VMENTRY_FAIL);
	CU_ASSERT_STRING_EQUAL(seen[0].rule, "CR0[63:32] are not zero");
	CU_ASSERT_STRING_EQUAL(seen[0].section, "APM 15.5.1");
}

/* OUT 80h, AL with the IOIO intercept and every port in the IOPM. */
static void test_ioio_exit(void)
{
	struct cpu *c = svm_cpu("svm");
	static const uint8_t guest[] = { 0xe6, 0x80, 0xf4 };
	uint8_t ones[SVM_IOPM_SIZE];
	struct svm_vmcb v;
	good_vmcb(&v);
	v.icpt[SVM_EXIT_IOIO / 32] |= 1u << (SVM_EXIT_IOIO % 32);
	memset(ones, 0xff, sizeof ones);
	cpu_phys_write(c, IOPM_PA, ones, sizeof ones);
	CU_ASSERT_EQUAL(host_vmrun(c, &v, guest, sizeof guest), CPU_STOP_HLT);
	read_vmcb(c, &v);
	CU_ASSERT_EQUAL(v.exitcode, SVM_EXIT_IOIO);
	CU_ASSERT_EQUAL(v.exitinfo1, (0x80ull << 16) | SVM_IOIO_SZ8 | SVM_IOIO_A32);
	CU_ASSERT_EQUAL(v.exitinfo2, GUEST_RIP + 2);
}

/* Nested paging on: a read of an unmapped gPA and a write to a read-only
 * one are NPFs at the final translation. */
static void test_npf_exit(void)
{
	static const uint8_t rd[] = { 0xa1, 0x00, 0x00, 0x50, 0x00 };   /* mov eax, [0x500000] */
	static const uint8_t wr[] = { 0xa3, 0x10, 0x10, 0x20, 0x00 };   /* mov [0x201010], eax */
	const uint8_t *code[] = { rd, wr };
	uint64_t info[] = { SVM_NPF_US | SVM_NPF_FINAL,
			    SVM_NPF_P | SVM_NPF_RW | SVM_NPF_US | SVM_NPF_FINAL };
	uint64_t gpa[] = { 0x500000, 0x201010 };
	for (int k = 0; k < 2; k++) {
		struct cpu *c = svm_cpu("svm");
		struct svm_vmcb v;
		build_npt(c);
		good_vmcb(&v);
		v.np_enable = SVM_NP_ENABLE;
		v.n_cr3 = NPT_PA;
		CU_ASSERT_EQUAL(host_vmrun(c, &v, code[k], 5), CPU_STOP_HLT);
		read_vmcb(c, &v);
		CU_ASSERT_EQUAL(v.exitcode, SVM_EXIT_NPF);
		CU_ASSERT_EQUAL(v.exitinfo1, info[k]);
		CU_ASSERT_EQUAL(v.exitinfo2, gpa[k]);
		CU_ASSERT_EQUAL(v.rip, GUEST_RIP);
		CU_ASSERT_EQUAL(v.insn_len, 15);            /* decode assists: the bytes at RIP */
		CU_ASSERT_EQUAL(memcmp(v.insn_bytes, code[k], 5), 0);
	}
}

/* A guest with a GDT (flat 32-bit code 08h, data 10h) and an IDT whose
 * gates 0Dh and 30h lead to a CPUID at HANDLER (which exits). */
#define GDT_PA  0x61000ull
#define IDT_PA  0x60000ull
#define HANDLER 0x21000ull
static void guest_tables(struct cpu *c, struct svm_vmcb *v)
{
	static const uint64_t gdt[] = { 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull };
	static const uint8_t handler[] = { 0x0f, 0xa2, 0xf4 };
	cpu_phys_write(c, GDT_PA, gdt, sizeof gdt);
	uint64_t gate = (HANDLER & 0xffff) | (0x08ull << 16) | (0x8eull << 40) |
			((HANDLER >> 16) << 48);
	poke(c, IDT_PA + 8 * 0x0d, gate);
	poke(c, IDT_PA + 8 * 0x30, gate);
	cpu_phys_write(c, HANDLER, handler, sizeof handler);
	v->gdtr = (struct svm_vmcb_seg){ 0, 0, sizeof gdt - 1, GDT_PA };
	v->idtr = (struct svm_vmcb_seg){ 0, 0, 0x7ff, IDT_PA };
}

static uint32_t guest_u32(struct cpu *c, uint64_t pa)
{
	uint32_t x = 0;
	cpu_phys_read(c, pa, &x, 4);
	return x;
}

/* EVENTINJ: #GP with error code 1234h goes through the guest IDT before the
 * guest's first instruction; it is not itself intercepted (APM 15.20). */
static void test_eventinj(void)
{
	struct cpu *c = svm_cpu("svm");
	static const uint8_t guest[] = { 0x90, 0xf4 };
	struct svm_vmcb v;
	good_vmcb(&v);
	guest_tables(c, &v);
	v.icpt[2] |= 1u << VEC_GP;                      /* #GP intercept: not for the injection */
	v.eventinj = SVM_EVT_V | SVM_EVT_EV | (3ull << 8) | VEC_GP | (0x1234ull << 32);
	CU_ASSERT_EQUAL(host_vmrun(c, &v, guest, sizeof guest), CPU_STOP_HLT);
	read_vmcb(c, &v);
	CU_ASSERT_EQUAL(v.exitcode, SVM_EXIT_CPUID);
	CU_ASSERT_EQUAL(v.rip, HANDLER);
	CU_ASSERT_EQUAL(guest_u32(c, v.rsp), 0x1234);             /* error code */
	CU_ASSERT_EQUAL(guest_u32(c, v.rsp + 4), GUEST_RIP);      /* EIP */
	CU_ASSERT_EQUAL(v.eventinj & SVM_EVT_V, 0);
}

/* V_IRQ: taken through the guest IDT at V_INTR_VECTOR when the guest's IF
 * allows, V_IRQ cleared; with the VINTR intercept, #VMEXIT(VINTR) instead. */
static void test_virq(void)
{
	static const uint8_t guest[] = { 0x90, 0x90, 0xf4 };
	for (int icpt = 0; icpt < 2; icpt++) {
		struct cpu *c = svm_cpu("svm");
		struct svm_vmcb v;
		c->exceptions_stop = false;    /* the interrupt goes to the guest's IDT */
		good_vmcb(&v);
		guest_tables(c, &v);
		v.rflags |= FLAG_IF;
		v.vintr = SVM_VINTR_IRQ | (0xfull << SVM_VINTR_PRIO_SHIFT) | SVM_VINTR_IGN_TPR |
			  SVM_VINTR_MASKING | (0x30ull << SVM_VINTR_VECTOR_SHIFT);
		if (icpt)
			v.icpt[SVM_EXIT_VINTR / 32] |= 1u << (SVM_EXIT_VINTR % 32);
		enum cpu_stop r = host_vmrun(c, &v, guest, sizeof guest);
		CU_ASSERT_EQUAL(r, CPU_STOP_HLT);
		read_vmcb(c, &v);
		if (r != CPU_STOP_HLT || v.exitcode != (icpt ? SVM_EXIT_VINTR : SVM_EXIT_CPUID))
			printf("stop %d exitcode %#llx rip %#llx vec %d\n", (int)r,
			       (unsigned long long)v.exitcode, (unsigned long long)v.rip, c->exc_vector);
		if (icpt) {
			CU_ASSERT_EQUAL(v.exitcode, SVM_EXIT_VINTR);
			CU_ASSERT(v.vintr & SVM_VINTR_IRQ);
		} else {
			CU_ASSERT_EQUAL(v.exitcode, SVM_EXIT_CPUID);
			CU_ASSERT_EQUAL(v.rip, HANDLER);
			CU_ASSERT_FALSE(v.vintr & SVM_VINTR_IRQ);
		}
	}
}

/* CPUID 8000_000Ah and the switches. */
static void test_cpuid_leaf(void)
{
	static const uint8_t code[] = { 0xb8, 0x0a, 0x00, 0x00, 0x80, 0x0f, 0xa2 };
	struct cpu *c = svm_cpu("svm");
	CU_ASSERT_EQUAL(ut_run(c, code, sizeof code, 2), CPU_STOP_LIMIT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], SVM_MODEL_REVISION);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], SVM_MODEL_NASID);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], SVM_MODEL_FEATURES);
	c = svm_cpu("svm,-npt,-decode");
	CU_ASSERT_EQUAL(ut_run(c, code, sizeof code, 2), CPU_STOP_LIMIT);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], SVM_MODEL_FEATURES & ~(SVM_FEAT_NP | SVM_FEAT_DECODEASSIST));
	CU_ASSERT_PTR_NULL(cpu_model_find("svm,-bogus"));
	CU_ASSERT_PTR_NULL(cpu_model_find("svm,npt"));
}

/* VM_CR.SVMDIS = 1 forbids EFER.SVME (#GP), and SVMDIS cannot be set while
 * EFER.SVME = 1 (APM 15.4, 15.30.1). */
static void test_vm_cr(void)
{
	static const uint8_t svmdis[] = {
		0xb9, 0x14, 0x01, 0x01, 0xc0,    /* mov ecx, VM_CR */
		0xb8, 0x10, 0x00, 0x00, 0x00,    /* mov eax, 10h (SVMDIS) */
		0x31, 0xd2, 0x0f, 0x30,          /* xor edx, edx; wrmsr */
		0xb9, 0x80, 0x00, 0x00, 0xc0,    /* mov ecx, EFER */
		0x0f, 0x32,                      /* rdmsr */
		0x0f, 0xba, 0xe8, 0x0c,          /* bts eax, 12 */
		0x0f, 0x30,                      /* wrmsr: #GP */
	};
	struct cpu *c = svm_cpu("svm");
	CU_ASSERT_EQUAL(ut_run(c, svmdis, sizeof svmdis, 100), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + sizeof svmdis - 2);
	CU_ASSERT_FALSE(c->efer & EFER_SVME);
	c = svm_cpu("svm");
	c->efer |= EFER_SVME;
	CU_ASSERT_EQUAL(ut_run(c, svmdis, 14, 100), CPU_STOP_EXCEPTION);   /* SVMDIS with SVME */
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 12);
}

/* SVM instructions: #UD with EFER.SVME = 0, #GP above CPL 0. */
static void test_insn_faults(void)
{
	static const uint8_t vmrun[] = { 0x0f, 0x01, 0xd8 };
	struct cpu *c = svm_cpu("svm");
	CU_ASSERT_EQUAL(ut_run(c, vmrun, sizeof vmrun, 1), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_UD);
	c = svm_cpu("svm");
	c->efer |= EFER_SVME;
	c->cpl = 3;
	CU_ASSERT_EQUAL(ut_run(c, vmrun, sizeof vmrun, 1), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	c = svm_cpu("svm");
	c->efer |= EFER_SVME;
	c->gpr[R_RAX] = 0x100800;                        /* not page-aligned */
	CU_ASSERT_EQUAL(ut_run(c, vmrun, sizeof vmrun, 1), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "VMRUN consistency checks (APM 15.5.1)", test_vmrun_checks },
		{ "nested page walk (APM 15.25)", test_npt_walk },
		{ "VMRUN, CPUID intercept, #VMEXIT", test_cpuid_exit },
		{ "no NRIPS: NRIP stays 0", test_cpuid_exit_no_nrips },
		{ "VMRUN with a broken rule: VMEXIT_INVALID", test_vmrun_invalid },
		{ "IOIO intercept and EXITINFO1", test_ioio_exit },
		{ "VM entry, entry failure and exit events", test_events },
		{ "nested page faults", test_npf_exit },
		{ "EVENTINJ exception with error code", test_eventinj },
		{ "V_IRQ virtual interrupt, VINTR intercept", test_virq },
		{ "CPUID 8000_000Ah and --cpu switches", test_cpuid_leaf },
		{ "SVM instruction faults", test_insn_faults },
		{ "VM_CR.SVMDIS and EFER.SVME", test_vm_cr },
		{ NULL, NULL },
	};
	return ut_main("svm", cases);
}
