/*
 * test_virt.c - the virtualization interface of cpu/virt.h, with a fake
 * model: the intercept mask, a VM exit as its own unwind (the instruction
 * does not retire, the world switch runs after the unwind), an exit in the
 * middle of an event delivery (the event is there for IDT-vectoring
 * information, no #DF), the guest-physical step of every access, and the
 * I/O path that INS/OUTS share with IN/OUT.
 */
#include <string.h>

#include "insn.h"
#include "unit_util.h"
#include "virt.h"

#define HOST_RIP 0x30000ull       /* the fake host's code: HLT */
#define GPA_SHIFT 0x100000ull     /* the fake EPT: host = guest + 1 MiB */

static struct {
	int intercepts, switches, gpas;
	enum virt_event last;
	uint64_t insn_rip, info;
	struct cpu_delivery deliv;
	struct virt_io io;
	bool exit;                    /* exit when an intercept fires */
} fake;

static void fake_intercept(struct cpu *c, enum virt_event e, const struct insn *i, uint64_t info)
{
	(void)i;
	fake.intercepts++;
	fake.last = e;
	fake.insn_rip = c->insn_rip;
	fake.info = info;
	fake.deliv = c->deliv;
	if (e == VIRT_IO)
		fake.io = *(const struct virt_io *)(uintptr_t)info;
	if (fake.exit)
		virt_exit(c);
}

static uint64_t fake_gpa(struct cpu *c, uint64_t gpa, unsigned flags, uint64_t lin)
{
	(void)c; (void)flags; (void)lin;
	fake.gpas++;
	return gpa + GPA_SHIFT;
}

static void fake_switch(struct cpu *c)
{
	fake.switches++;
	c->icpt = 0;
	c->rip = HOST_RIP;
}

static const struct virt_ops fake_ops = {
	.name = "fake", .intercept = fake_intercept, .gpa = fake_gpa, .world_switch = fake_switch,
};

static struct cpu *fake_cpu(uint64_t icpt)
{
	struct cpu *c = ut_cpu();
	memset(&fake, 0, sizeof fake);
	fake.exit = true;
	c->vops = &fake_ops;
	c->icpt = icpt;
	static const uint8_t hlt = 0xf4;
	cpu_phys_write(c, HOST_RIP, &hlt, 1);
	c->cpl = 0;
	return c;
}

/* CPUID intercepted: it does not execute, RIP stays on it for the model,
 * the world switch runs once after the unwind. */
static void test_exit_unwinds(void)
{
	struct cpu *c = fake_cpu(ICPT(CPUID));
	static const uint8_t code[] = { 0x90, 0x0f, 0xa2, 0xf4 };
	c->gpr[R_RAX] = 0x1234;
	CU_ASSERT_EQUAL(ut_run(c, code, sizeof code, 100), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(fake.intercepts, 1);
	CU_ASSERT_EQUAL(fake.last, VIRT_CPUID);
	CU_ASSERT_EQUAL(fake.insn_rip, UT_CODE + 1);
	CU_ASSERT_EQUAL(fake.switches, 1);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x1234);         /* CPUID did not run */
	CU_ASSERT_EQUAL(c->rip, HOST_RIP + 1);
	CU_ASSERT_EQUAL(c->exc_vector, -1);

	/* With the mask clear nothing is called and CPUID runs. */
	c = fake_cpu(0);
	c->gpr[R_RAX] = 0;
	CU_ASSERT_EQUAL(ut_run(c, code, sizeof code, 100), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(fake.intercepts, 0);
	CU_ASSERT_NOT_EQUAL(c->gpr[R_RAX], 0);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 4);

	/* An intercept that lets the instruction go on. */
	c = fake_cpu(ICPT(CPUID));
	fake.exit = false;
	c->gpr[R_RAX] = 0;
	CU_ASSERT_EQUAL(ut_run(c, code, sizeof code, 100), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(fake.intercepts, 1);
	CU_ASSERT_EQUAL(fake.switches, 0);
	CU_ASSERT_NOT_EQUAL(c->gpr[R_RAX], 0);
}

/* An exit while an exception is being delivered: the event is in
 * c->deliv (IDT-vectoring information), nothing becomes #DF. */
static void test_exit_in_delivery(void)
{
	struct cpu *c = fake_cpu(ICPT(EXCEPTION));
	c->exceptions_stop = false;
	static const uint8_t code[] = { 0x0f, 0x0b };  /* UD2 */
	CU_ASSERT_EQUAL(ut_run(c, code, sizeof code, 100), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(fake.last, VIRT_EXCEPTION);
	CU_ASSERT_EQUAL(fake.info, VEC_UD);
	CU_ASSERT(fake.deliv.active);
	CU_ASSERT_EQUAL(fake.deliv.vector, VEC_UD);
	CU_ASSERT_EQUAL(fake.deliv.type, EXC_TYPE_HW);
	CU_ASSERT_EQUAL(fake.switches, 1);
	CU_ASSERT_FALSE(c->deliv.active);
	CU_ASSERT_FALSE(c->shutdown);
	CU_ASSERT_EQUAL(c->rip, HOST_RIP + 1);
}

/* Every access goes through the guest-physical step: code and data live
 * 1 MiB above where the guest puts them. */
static void test_gpa_step(void)
{
	struct cpu *c = fake_cpu(ICPT(GPA));
	static const uint8_t code[] = { 0x8b, 0x04, 0x25, 0x00, 0x40, 0x00, 0x00,  /* mov eax, [0x4000] */
					0xf4 };
	cpu_phys_write(c, UT_CODE + GPA_SHIFT, code, sizeof code);
	uint32_t v = 0xcafe;
	cpu_phys_write(c, 0x4000 + GPA_SHIFT, &v, 4);
	c->rip = UT_CODE;
	CU_ASSERT_EQUAL(cpu_run(c, 10), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0xcafe);
	CU_ASSERT(fake.gpas >= 2);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + sizeof code);
}

/* OUTSB and IN report to the one I/O intercept with what they are. */
static void test_io_intercept(void)
{
	struct cpu *c = fake_cpu(ICPT(IO));
	static const uint8_t outs[] = { 0x66, 0xba, 0xf8, 0x03, 0xf3, 0x6e };  /* mov dx, 0x3f8; rep outsb */
	c->gpr[R_RCX] = 3;
	c->gpr[R_RSI] = 0x5000;
	CU_ASSERT_EQUAL(ut_run(c, outs, sizeof outs, 100), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(fake.last, VIRT_IO);
	CU_ASSERT_EQUAL(fake.io.port, 0x3f8);
	CU_ASSERT_EQUAL(fake.io.size, 1);
	CU_ASSERT(fake.io.string && fake.io.rep && !fake.io.in);
	CU_ASSERT_EQUAL(fake.io.lin, 0x5000);
	CU_ASSERT_EQUAL(fake.insn_rip, UT_CODE + 4);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 3);             /* no element moved */

	c = fake_cpu(ICPT(IO));
	static const uint8_t in[] = { 0xe5, 0x71 };    /* in eax, 0x71 */
	CU_ASSERT_EQUAL(ut_run(c, in, sizeof in, 100), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(fake.io.port, 0x71);
	CU_ASSERT_EQUAL(fake.io.size, 4);
	CU_ASSERT(fake.io.in && fake.io.imm && !fake.io.string);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "VM exit unwinds, world switch after", test_exit_unwinds },
		{ "VM exit during event delivery", test_exit_in_delivery },
		{ "guest-physical step of fetch and data", test_gpa_step },
		{ "INS/OUTS and IN/OUT: one I/O intercept", test_io_intercept },
		{ NULL, NULL },
	};
	return ut_main("virt", cases);
}
