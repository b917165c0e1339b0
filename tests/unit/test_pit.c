/*
 * test_pit.c - the 8254 (cpu/dev/pit.c) against virtual time: 1.193182 MHz
 * input clock, one instruction = 1 ns.  IRQ0 is watched at the 8259 (remapped
 * to 0x20, only IRQ0 unmasked), counter 2 through port 0x61.
 */
#include "machine_util.h"

/* ns (icount) at which `ticks` PIT ticks have passed: ceil(t * 1e9 / f). */
static uint64_t at_tick(uint64_t ticks)
{
	return (ticks * 1000000000ull + 1193181ull) / 1193182ull;
}

static struct machine *timer_machine(void)
{
	struct machine *m = mu_machine(NULL, -1);
	mu_out8(m, 0x20, 0x11);
	mu_out8(m, 0x21, 0x20);
	mu_out8(m, 0x21, 0x04);
	mu_out8(m, 0x21, 0x01);
	mu_out8(m, 0x21, 0xfe);
	return m;
}

static void program(struct machine *m, int ch, int mode, uint16_t count)
{
	mu_out8(m, 0x43, (uint8_t)(ch << 6 | 0x30 | mode << 1));
	mu_out8(m, (uint16_t)(0x40 + ch), (uint8_t)count);
	mu_out8(m, (uint16_t)(0x40 + ch), (uint8_t)(count >> 8));
}

static void test_firmware_tick(void)
{
	struct machine *m = timer_machine();
	/* Counter 0 runs the BIOS tick: 65536 counts per IRQ0 (18.2 Hz). */
	CU_ASSERT_EQUAL(m->cpu.event_deadline, at_tick(65536));
	mu_advance(m, at_tick(65536) - 1);
	CU_ASSERT_FALSE(mu_intr(m));
	mu_advance(m, at_tick(65536));
	CU_ASSERT_TRUE(mu_intr(m));
	CU_ASSERT_EQUAL(mu_ack(m), 0x20);
}

static void test_rate_generator(void)
{
	struct machine *m = timer_machine();
	m->cpu.icount = 5000;
	program(m, 0, 2, 1193);                     /* about 1 kHz */
	mu_advance(m, 5000 + at_tick(1193) - 1);
	CU_ASSERT_FALSE(mu_intr(m));
	mu_advance(m, 5000 + at_tick(1193));
	CU_ASSERT_EQUAL(mu_ack(m), 0x20);
	mu_out8(m, 0x20, 0x20);
	/* Periodic: the next one a period later, not earlier. */
	mu_advance(m, 5000 + at_tick(2 * 1193) - 1);
	CU_ASSERT_FALSE(mu_intr(m));
	mu_advance(m, 5000 + at_tick(2 * 1193));
	CU_ASSERT_TRUE(mu_intr(m));
}

static void test_latch_and_read(void)
{
	struct machine *m = timer_machine();
	program(m, 0, 2, 1000);
	mu_advance(m, at_tick(300));
	mu_out8(m, 0x43, 0x00);                     /* latch counter 0 */
	mu_advance(m, at_tick(400));                /* the latch holds */
	uint16_t v = mu_in8(m, 0x40);
	v |= (uint16_t)(mu_in8(m, 0x40) << 8);
	CU_ASSERT_EQUAL(v, 700);
	/* Unlatched reads follow time. */
	v = mu_in8(m, 0x40);
	v |= (uint16_t)(mu_in8(m, 0x40) << 8);
	CU_ASSERT_EQUAL(v, 600);
	/* Read-back: status of counter 0 (OUT high, mode 2, lo/hi access). */
	mu_out8(m, 0x43, 0xe2);
	CU_ASSERT_EQUAL(mu_in8(m, 0x40), 0x80 | 0x30 | 2 << 1);
	/* Mode 3 counts down by two in each half period; OUT high first. */
	uint64_t t0 = m->cpu.icount;
	program(m, 1, 3, 1000);
	mu_advance(m, t0 + at_tick(100));
	mu_out8(m, 0x43, 0x40);
	v = mu_in8(m, 0x41);
	v |= (uint16_t)(mu_in8(m, 0x41) << 8);
	CU_ASSERT_EQUAL(v, 800);
	mu_out8(m, 0x43, 0xe4);                     /* status of counter 1 */
	CU_ASSERT_EQUAL(mu_in8(m, 0x41) & 0x80, 0x80);
	mu_advance(m, t0 + at_tick(600));
	mu_out8(m, 0x43, 0x40);
	v = mu_in8(m, 0x41);
	v |= (uint16_t)(mu_in8(m, 0x41) << 8);
	CU_ASSERT_EQUAL(v, 800);
	mu_out8(m, 0x43, 0xe4);
	CU_ASSERT_EQUAL(mu_in8(m, 0x41) & 0x80, 0);  /* second half: low */
}

static void test_mode0_once(void)
{
	struct machine *m = timer_machine();
	program(m, 0, 0, 500);
	mu_advance(m, at_tick(500));
	CU_ASSERT_EQUAL(mu_ack(m), 0x20);
	mu_out8(m, 0x20, 0x20);
	mu_advance(m, at_tick(5000));
	CU_ASSERT_FALSE(mu_intr(m));                /* one terminal count only */
	CU_ASSERT_EQUAL(m->timers[MT_PIT].deadline, UINT64_MAX);
}

/* The calibration idiom: GATE2 on, counter 2 in mode 0, poll OUT2. */
static void test_counter2_port61(void)
{
	struct machine *m = timer_machine();
	mu_out8(m, 0x61, 0x01);
	CU_ASSERT_EQUAL(mu_in8(m, 0x61) & 0x03, 0x01);
	program(m, 2, 0, 100);
	CU_ASSERT_EQUAL(mu_in8(m, 0x61) & 0x20, 0);
	mu_advance(m, at_tick(99));
	CU_ASSERT_EQUAL(mu_in8(m, 0x61) & 0x20, 0);
	mu_advance(m, at_tick(100));
	CU_ASSERT_EQUAL(mu_in8(m, 0x61) & 0x20, 0x20);
	/* GATE2 low stops a mode 0 count. */
	program(m, 2, 0, 100);
	mu_advance(m, at_tick(150));
	mu_out8(m, 0x61, 0x00);
	mu_advance(m, at_tick(1000));
	CU_ASSERT_EQUAL(mu_in8(m, 0x61) & 0x20, 0);
	mu_out8(m, 0x61, 0x01);
	mu_advance(m, at_tick(1000) + at_tick(60));
	CU_ASSERT_EQUAL(mu_in8(m, 0x61) & 0x20, 0x20);
	/* Bit 4, the refresh toggle, changes with time. */
	uint8_t a = mu_in8(m, 0x61) & 0x10;
	mu_advance(m, m->cpu.icount + 15085);
	CU_ASSERT_NOT_EQUAL(mu_in8(m, 0x61) & 0x10, a);
}

/* cli; hlt with the timer running: nothing can wake the CPU, so the run
 * ends instead of skipping virtual time for ever. */
static void test_hlt_masked(void)
{
	struct machine *m = timer_machine();
	static const uint8_t code[] = { 0xfa, 0xf4 };
	m->cpu.cpl = 0;
	cpu_phys_write(&m->cpu, UT_CODE, code, sizeof code);
	m->cpu.rip = UT_CODE;
	CU_ASSERT_EQUAL(machine_run(m, 0), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(m->cpu.rip, UT_CODE + 2);
	/* With the PIT routed as NMI through the I/O APIC, the halt waits for
	 * it: the NMI (no IDT here, so an exception stop) ends it instead. */
	m = timer_machine();
	mu_mmio_write(m, 0xfec00000, 0x14);
	mu_mmio_write(m, 0xfec00010, 0x400);
	m->cpu.cpl = 0;
	cpu_phys_write(&m->cpu, UT_CODE, code, sizeof code);
	m->cpu.rip = UT_CODE;
	CU_ASSERT_NOT_EQUAL(machine_run(m, 200000000), CPU_STOP_HLT);
	CU_ASSERT_TRUE(m->cpu.icount >= at_tick(65536));
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "firmware tick", test_firmware_tick },
		{ "mode 2 rate generator", test_rate_generator },
		{ "latch, read, read-back", test_latch_and_read },
		{ "mode 0 once", test_mode0_once },
		{ "counter 2 via port 0x61", test_counter2_port61 },
		{ "HLT with IF=0 ends", test_hlt_masked },
		{ NULL, NULL },
	};
	return ut_main("pit", cases);
}
