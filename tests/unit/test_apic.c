/*
 * test_apic.c - the local APIC (cpu/dev/lapic.c) through its xAPIC page and
 * its x2APIC MSRs, and the I/O APIC (cpu/dev/ioapic.c): registers,
 * acceptance and priority, EOI, the timer in virtual time, self-IPIs, and
 * ISA lines routed through redirection entries.
 */
#include "machine_util.h"

#define LAPIC 0xfee00000ull
#define IOAPIC 0xfec00000ull

static struct machine *apic_machine(void)
{
	struct machine *m = mu_machine(NULL, -1);
	mu_mmio_write(m, LAPIC + 0xf0, 0x1ff);      /* software enable, spurious 0xFF */
	mu_out8(m, 0x21, 0xff);                     /* the 8259 quiet (the BIOS tick) */
	return m;
}

static void ioapic_set(struct machine *m, int pin, uint64_t e)
{
	mu_mmio_write(m, IOAPIC, (uint32_t)(0x10 + 2 * pin));
	mu_mmio_write(m, IOAPIC + 0x10, (uint32_t)e);
	mu_mmio_write(m, IOAPIC, (uint32_t)(0x11 + 2 * pin));
	mu_mmio_write(m, IOAPIC + 0x10, (uint32_t)(e >> 32));
}

static uint32_t ioapic_get(struct machine *m, int reg)
{
	mu_mmio_write(m, IOAPIC, (uint32_t)reg);
	return mu_mmio_read(m, IOAPIC + 0x10);
}

static void test_registers(void)
{
	struct machine *m = mu_machine(NULL, -1);
	CU_ASSERT_EQUAL(m->cpu.msr.apic_base, 0xfee00900ull);
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x20), 0);
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x30), 0x00050014);
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0xf0), 0x1ff);       /* as SeaBIOS leaves it */
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x350), 0x8700);      /* LINT0 ExtINT */
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x320), 0x10000);     /* timer masked */
	/* Software-disabled: every LVT masked, and none can be unmasked. */
	mu_mmio_write(m, LAPIC + 0xf0, 0xff);
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x350), 0x18700);
	mu_mmio_write(m, LAPIC + 0x320, 0x40);
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x320), 0x10040);
	mu_mmio_write(m, LAPIC + 0xf0, 0x1ff);
	mu_mmio_write(m, LAPIC + 0x320, 0x60040);   /* bit 18 (TSC deadline) is reserved */
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x320), 0x20040);
	/* TPR and CR8 are one register (SDM 10.8.6.1). */
	mu_mmio_write(m, LAPIC + 0x80, 0x5a);
	CU_ASSERT_EQUAL(m->cpu.cr8, 5);
	m->cpu.cr8 = 3;
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x80), 0x30);
	/* Byte reads take bytes out of the 32-bit register. */
	CU_ASSERT_EQUAL(m->cpu.mmio_read(&m->cpu, LAPIC + 0x32, 1), 0x05);
	/* Globally disabled: the page decodes nothing (reads float). */
	m->cpu.msr.apic_base &= ~(1ull << 11);
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x30), 0xffffffffu);
	/* I/O APIC identification. */
	CU_ASSERT_EQUAL(ioapic_get(m, 1), 0x00170020);
	CU_ASSERT_EQUAL(ioapic_get(m, 0x10), 0x10000);   /* masked at reset */
}

static void test_priority_eoi(void)
{
	struct machine *m = apic_machine();
	mu_mmio_write(m, LAPIC + 0x300, 0x40000 | 0x51);   /* self IPI 0x51 */
	mu_mmio_write(m, LAPIC + 0x300, 0x40000 | 0x62);
	/* IRR: vector v is bit v % 32 of the register at 0x200 + 0x10 * (v / 32). */
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x220), 1u << (0x51 - 0x40));
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x230), 1u << (0x62 - 0x60));
	CU_ASSERT_EQUAL(mu_ack(m), 0x62);
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0xa0), 0x60);        /* PPR */
	CU_ASSERT_FALSE(mu_intr(m));                /* 0x51 is a lower class */
	mu_mmio_write(m, LAPIC + 0xb0, 0);          /* EOI */
	CU_ASSERT_TRUE(mu_intr(m));
	mu_mmio_write(m, LAPIC + 0x80, 0x50);       /* TPR 5 blocks class 5 */
	CU_ASSERT_FALSE(mu_intr(m));
	mu_mmio_write(m, LAPIC + 0x80, 0x40);
	CU_ASSERT_EQUAL(mu_ack(m), 0x51);
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x120), 1u << (0x51 - 0x40));   /* ISR */
	mu_mmio_write(m, LAPIC + 0xb0, 0);
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x120), 0);
	/* Illegal vector: ESR after the write that latches it. */
	mu_mmio_write(m, LAPIC + 0x300, 0x40000 | 0x05);
	mu_mmio_write(m, LAPIC + 0x280, 0);
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x280), 0x20);
	/* With the error LVT unmasked, an error is also an interrupt. */
	mu_mmio_write(m, LAPIC + 0x370, 0xfe);
	mu_mmio_write(m, LAPIC + 0x300, 0x40000 | 0x03);
	CU_ASSERT_EQUAL(mu_ack(m), 0xfe);
	mu_mmio_write(m, LAPIC + 0xb0, 0);
	mu_mmio_write(m, LAPIC + 0x370, 0x05);      /* an illegal error vector: no loop */
	mu_mmio_write(m, LAPIC + 0x300, 0x40000 | 0x03);
	CU_ASSERT_FALSE(mu_intr(m));
	/* NMI to self. */
	mu_mmio_write(m, LAPIC + 0x300, 0x40000 | 0x400);
	CU_ASSERT_TRUE(m->cpu.nmi_pending);
}

static void test_timer(void)
{
	struct machine *m = apic_machine();
	m->cpu.icount = 1000;
	mu_mmio_write(m, LAPIC + 0x3e0, 0x0b);      /* divide by 1 */
	mu_mmio_write(m, LAPIC + 0x320, 0x40);      /* one-shot, vector 0x40 */
	mu_mmio_write(m, LAPIC + 0x380, 5000);
	mu_advance(m, 3000);
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x390), 3000);
	mu_advance(m, 5999);
	CU_ASSERT_FALSE(mu_intr(m));
	mu_advance(m, 6000);
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x390), 0);
	CU_ASSERT_EQUAL(mu_ack(m), 0x40);
	mu_mmio_write(m, LAPIC + 0xb0, 0);
	mu_advance(m, 100000);
	CU_ASSERT_FALSE(mu_intr(m));                /* one-shot */
	/* Periodic, divide by 16: every 16 * 100 instructions. */
	mu_mmio_write(m, LAPIC + 0x3e0, 0x03);
	mu_mmio_write(m, LAPIC + 0x320, 0x20041);
	mu_mmio_write(m, LAPIC + 0x380, 100);
	mu_advance(m, 100000 + 1599);
	CU_ASSERT_FALSE(mu_intr(m));
	mu_advance(m, 100000 + 1600);
	CU_ASSERT_EQUAL(mu_ack(m), 0x41);
	mu_mmio_write(m, LAPIC + 0xb0, 0);
	mu_advance(m, 100000 + 3200);
	CU_ASSERT_EQUAL(mu_ack(m), 0x41);
	mu_mmio_write(m, LAPIC + 0xb0, 0);
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x390), 100);
	/* Masked: counts on, delivers nothing. */
	mu_mmio_write(m, LAPIC + 0x320, 0x30041);
	mu_advance(m, 100000 + 6400);
	CU_ASSERT_FALSE(mu_intr(m));
	/* Initial count 0 stops it. */
	mu_mmio_write(m, LAPIC + 0x380, 0);
	CU_ASSERT_EQUAL(m->timers[MT_LAPIC].deadline, UINT64_MAX);
}

static void test_x2apic(void)
{
	struct machine *m = apic_machine();
	uint64_t v = 0;
	/* Before EXTD is set the MSRs are not there (#GP). */
	CU_ASSERT_FALSE(m->cpu.msr_hook(&m->cpu, 0x803, &v, false));
	m->cpu.msr.apic_base |= 1ull << 10;
	CU_ASSERT_TRUE(m->cpu.msr_hook(&m->cpu, 0x803, &v, false));
	CU_ASSERT_EQUAL(v, 0x00050014);
	CU_ASSERT_TRUE(m->cpu.msr_hook(&m->cpu, 0x80d, &v, false));
	CU_ASSERT_EQUAL(v, 1);                      /* LDR from the ID */
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x30), 0xffffffffu);   /* no MMIO */
	v = 0x77;                                   /* SELF IPI */
	CU_ASSERT_TRUE(m->cpu.msr_hook(&m->cpu, 0x83f, &v, true));
	CU_ASSERT_EQUAL(mu_ack(m), 0x77);
	CU_ASSERT_FALSE(m->cpu.msr_hook(&m->cpu, 0x80b, &v, false));  /* EOI write-only */
	v = 1;
	CU_ASSERT_FALSE(m->cpu.msr_hook(&m->cpu, 0x80b, &v, true));   /* non-zero EOI */
	v = 0;
	CU_ASSERT_TRUE(m->cpu.msr_hook(&m->cpu, 0x80b, &v, true));
	CU_ASSERT_EQUAL(m->lapic.isr[3], 0);
	CU_ASSERT_FALSE(m->cpu.msr_hook(&m->cpu, 0x802, &v, true));   /* ID read-only */
	CU_ASSERT_FALSE(m->cpu.msr_hook(&m->cpu, 0x80e, &v, false));  /* no DFR */
	v = 0x0000000000040059ull;                  /* 64-bit ICR, self shorthand */
	CU_ASSERT_TRUE(m->cpu.msr_hook(&m->cpu, 0x830, &v, true));
	CU_ASSERT_EQUAL(mu_ack(m), 0x59);
	CU_ASSERT_FALSE(m->cpu.msr_hook(&m->cpu, 0x10, &v, false));   /* not an APIC MSR */
	CU_ASSERT_FALSE(m->cpu.msr_hook(&m->cpu, 0x809, &v, false));  /* no APR in x2APIC */
	v = 0x177;                                  /* SELF IPI bits 31:8 reserved */
	CU_ASSERT_FALSE(m->cpu.msr_hook(&m->cpu, 0x83f, &v, true));
	CU_ASSERT_FALSE(mu_intr(m));
}

/* Conformance through the CPU: CPUID.1:EDX.APIC follows APIC_BASE.EN;
 * disabled -> x2APIC is #GP (SDM 11.12.5); the xAPIC page moves with
 * APIC_BASE. */
static void test_apic_base_rules(void)
{
	struct machine *m = apic_machine();
	struct cpu *c = &m->cpu;
	static const uint8_t cpuid_code[] = { 0x0f, 0xa2 };
	static const uint8_t wrmsr_code[] = { 0x0f, 0x30 };
	cpu_phys_write(c, 0x10000, cpuid_code, sizeof cpuid_code);
	cpu_phys_write(c, 0x10010, wrmsr_code, sizeof wrmsr_code);
	c->cpl = 0;
	for (int en = 1; en >= 0; en--) {
		c->msr.apic_base = 0xfee00000ull | 0x100 | (uint64_t)en << 11;
		c->gpr[R_RAX] = 1;
		c->gpr[R_RCX] = 0;
		c->rip = 0x10000;
		c->halted = false;
		CU_ASSERT_EQUAL(cpu_run(c, 1), CPU_STOP_LIMIT);    /* the CPUID alone */
		CU_ASSERT_EQUAL(c->rip, 0x10002);
		CU_ASSERT_EQUAL((c->gpr[R_RDX] >> 9) & 1, (uint64_t)en);
	}
	/* disabled -> EN|EXTD: #GP, APIC_BASE unchanged */
	c->gpr[R_RCX] = 0x1b;
	c->gpr[R_RAX] = 0xfee00d00u;
	c->gpr[R_RDX] = 0;
	c->rip = 0x10010;
	c->halted = false;
	CU_ASSERT_EQUAL(cpu_run(c, 1), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(c->msr.apic_base, 0xfee00100ull);
	/* relocated: the registers answer at the new page only */
	c->msr.apic_base = 0xfef00900ull;
	CU_ASSERT_EQUAL(mu_mmio_read(m, 0xfef00030), 0x00050014);
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x30), 0xffffffffu);
	mu_mmio_write(m, 0xfef00080, 0x40);
	c->msr.apic_base = 0xfee00900ull;
	CU_ASSERT_EQUAL(mu_mmio_read(m, LAPIC + 0x80), 0x40);
}

/* The same through the CPU: WRMSR sets APIC_BASE.EXTD (msr.c allows it
 * because CPUID offers x2APIC), then RDMSR/WRMSR reach the registers via
 * msr_hook; reading the write-only EOI register is #GP. */
static void test_x2apic_guest(void)
{
	struct machine *m = apic_machine();
	static const uint8_t code[] = {
		0xb9, 0x1b, 0x00, 0x00, 0x00,           /* mov ecx, 0x1b */
		0x0f, 0x32,                             /* rdmsr */
		0x0d, 0x00, 0x0c, 0x00, 0x00,           /* or eax, 0xc00 */
		0x0f, 0x30,                             /* wrmsr: x2APIC on */
		0xb9, 0x03, 0x08, 0x00, 0x00,           /* mov ecx, 0x803 */
		0x0f, 0x32,                             /* rdmsr: version */
		0x41, 0x89, 0xc0,                       /* mov r8d, eax */
		0xb9, 0x3f, 0x08, 0x00, 0x00,           /* mov ecx, 0x83f */
		0xb8, 0x61, 0x00, 0x00, 0x00,           /* mov eax, 0x61 */
		0x31, 0xd2,                             /* xor edx, edx */
		0x0f, 0x30,                             /* wrmsr: SELF IPI 0x61 */
		0xb9, 0x0b, 0x08, 0x00, 0x00,           /* mov ecx, 0x80b */
		0x0f, 0x32,                             /* rdmsr: EOI is write-only */
		0xf4,
	};
	m->cpu.cpl = 0;
	cpu_phys_write(&m->cpu, UT_CODE, code, sizeof code);
	m->cpu.rip = UT_CODE;
	CU_ASSERT_EQUAL(machine_run(m, 100), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(m->cpu.exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(m->cpu.rip, UT_CODE + sizeof code - 3);
	CU_ASSERT_EQUAL(m->cpu.msr.apic_base, 0xfee00d00ull);
	CU_ASSERT_EQUAL(m->cpu.gpr[R_R8], 0x00050014);
	CU_ASSERT_EQUAL(m->lapic.irr[3], 1u << 1);     /* vector 0x61 */
}

static void test_ioapic_edge(void)
{
	struct machine *m = apic_machine();
	ioapic_set(m, 2, 0x30);                     /* PIT's IRQ0 arrives on pin 2 */
	ioapic_set(m, 4, 0x34);
	machine_set_irq(m, 0, true);
	machine_set_irq(m, 0, false);
	CU_ASSERT_EQUAL(mu_ack(m), 0x30);
	machine_set_irq(m, 4, true);
	CU_ASSERT_FALSE(mu_intr(m));                /* same priority class in service */
	mu_mmio_write(m, LAPIC + 0xb0, 0);
	CU_ASSERT_EQUAL(mu_ack(m), 0x34);
	CU_ASSERT_FALSE(mu_intr(m));                /* edge: once */
	/* Masked pin, and a destination that is not us. */
	ioapic_set(m, 5, 0x10035);
	machine_set_irq(m, 5, true);
	ioapic_set(m, 6, 0x0500000000000036ull);
	machine_set_irq(m, 6, true);
	CU_ASSERT_FALSE(mu_intr(m) && m->lapic.irr[1] & (3u << 21));
	CU_ASSERT_EQUAL(m->lapic.irr[1] & (3u << 21), 0);
}

static void test_ioapic_level(void)
{
	struct machine *m = apic_machine();
	ioapic_set(m, 9, 0x8000 | 0x49);            /* level, vector 0x49 */
	machine_set_irq(m, 9, true);
	CU_ASSERT_EQUAL(ioapic_get(m, 0x22) & 0x4000, 0x4000);   /* remote IRR */
	CU_ASSERT_EQUAL(mu_ack(m), 0x49);
	CU_ASSERT_EQUAL(m->lapic.tmr[2] >> 9 & 1, 1);
	mu_mmio_write(m, LAPIC + 0xb0, 0);          /* EOI: line still high: again */
	CU_ASSERT_EQUAL(mu_ack(m), 0x49);
	machine_set_irq(m, 9, false);
	mu_mmio_write(m, LAPIC + 0xb0, 0);
	CU_ASSERT_EQUAL(ioapic_get(m, 0x22) & 0x4000, 0);
	CU_ASSERT_FALSE(mu_intr(m));
	/* Active low: the pin sees the inverted line. */
	ioapic_set(m, 10, 0x8000 | 0x2000 | 0x4a);
	CU_ASSERT_EQUAL(mu_ack(m), 0x4a);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "registers", test_registers },
		{ "priority, EOI, IPIs", test_priority_eoi },
		{ "timer", test_timer },
		{ "x2APIC MSRs", test_x2apic },
		{ "x2APIC from guest code", test_x2apic_guest },
		{ "APIC_BASE: CPUID bit, disabled -> x2APIC, relocation", test_apic_base_rules },
		{ "I/O APIC edge", test_ioapic_edge },
		{ "I/O APIC level", test_ioapic_level },
		{ NULL, NULL },
	};
	return ut_main("apic", cases);
}
