/*
 * test_rtc.c - the CMOS clock (cpu/dev/rtc.c): the fixed epoch plus
 * virtual time, BCD and binary formats, 12-hour mode, setting the clock,
 * UIP, the periodic and update-ended interrupts on IRQ8, and the NVRAM
 * memory-size bytes.
 */
#include "machine_util.h"

#define SEC 1000000000ull

static uint8_t cmos(struct machine *m, uint8_t idx)
{
	mu_out8(m, 0x70, idx);
	return mu_in8(m, 0x71);
}

static void cmos_set(struct machine *m, uint8_t idx, uint8_t v)
{
	mu_out8(m, 0x70, idx);
	mu_out8(m, 0x71, v);
}

static void test_epoch(void)
{
	struct machine *m = mu_machine(NULL, -1);
	/* 2024-01-01 00:00:00, a Monday (weekday 2), BCD, 24-hour. */
	CU_ASSERT_EQUAL(cmos(m, 0x00), 0x00);
	CU_ASSERT_EQUAL(cmos(m, 0x04), 0x00);
	CU_ASSERT_EQUAL(cmos(m, 0x06), 0x02);
	CU_ASSERT_EQUAL(cmos(m, 0x07), 0x01);
	CU_ASSERT_EQUAL(cmos(m, 0x08), 0x01);
	CU_ASSERT_EQUAL(cmos(m, 0x09), 0x24);
	CU_ASSERT_EQUAL(cmos(m, 0x32), 0x20);
	CU_ASSERT_EQUAL(cmos(m, 0x0b), 0x02);
	CU_ASSERT_EQUAL(cmos(m, 0x0d), 0x80);
	/* 59 days, 13:45:07 later: 2024-02-29 (leap day), a Thursday. */
	mu_advance(m, (59ull * 86400 + 13 * 3600 + 45 * 60 + 7) * SEC);
	CU_ASSERT_EQUAL(cmos(m, 0x00), 0x07);
	CU_ASSERT_EQUAL(cmos(m, 0x02), 0x45);
	CU_ASSERT_EQUAL(cmos(m, 0x04), 0x13);
	CU_ASSERT_EQUAL(cmos(m, 0x07), 0x29);
	CU_ASSERT_EQUAL(cmos(m, 0x08), 0x02);
	CU_ASSERT_EQUAL(cmos(m, 0x06), 0x05);
	/* Binary, 12-hour: 1 PM is 0x81. */
	cmos_set(m, 0x0b, 0x04);
	CU_ASSERT_EQUAL(cmos(m, 0x04), 0x81);
	CU_ASSERT_EQUAL(cmos(m, 0x02), 45);
	/* UIP in the last 244 us of a second. */
	cmos_set(m, 0x0b, 0x02);
	CU_ASSERT_EQUAL(cmos(m, 0x0a), 0x26);
	mu_advance(m, m->cpu.icount + SEC - 100000);
	CU_ASSERT_EQUAL(cmos(m, 0x0a), 0xa6);
}

static void test_set_clock(void)
{
	struct machine *m = mu_machine(NULL, -1);
	cmos_set(m, 0x09, 0x99);                    /* year 2099 */
	cmos_set(m, 0x02, 0x30);
	CU_ASSERT_EQUAL(cmos(m, 0x09), 0x99);
	CU_ASSERT_EQUAL(cmos(m, 0x02), 0x30);
	mu_advance(m, 30 * 60 * SEC);
	CU_ASSERT_EQUAL(cmos(m, 0x04), 0x01);       /* the clock goes on from there */
	CU_ASSERT_EQUAL(cmos(m, 0x02), 0x00);
}

static void test_interrupts(void)
{
	struct machine *m = mu_machine(NULL, -1);
	mu_out8(m, 0x21, 0xfb);                     /* the BIOS tick (IRQ0) off */
	mu_out8(m, 0xa1, 0xfe);                     /* only IRQ8 on the slave */
	cmos_set(m, 0x0a, 0x2f);                    /* rate 15: 2 Hz */
	cmos_set(m, 0x0b, 0x42);                    /* PIE */
	mu_advance(m, SEC / 2 - 1);
	CU_ASSERT_FALSE(mu_intr(m));
	mu_advance(m, SEC / 2);
	CU_ASSERT_TRUE(mu_intr(m));
	CU_ASSERT_EQUAL(mu_ack(m), 0x70);           /* slave base from the firmware */
	CU_ASSERT_EQUAL(cmos(m, 0x0c), 0xc0);       /* IRQF | PF, and reading clears */
	CU_ASSERT_EQUAL(cmos(m, 0x0c), 0x00);
	CU_ASSERT_EQUAL(m->isa_irq & 0x100, 0);
	/* Update-ended at each second. */
	cmos_set(m, 0x0b, 0x12);
	mu_advance(m, SEC);
	CU_ASSERT_EQUAL(cmos(m, 0x0c), 0x90);
}

static void test_nvram(void)
{
	struct machine *m = mu_machine(NULL, -1);
	/* 4 MiB: 3072 KiB above 1 MiB, nothing above 16 MiB. */
	CU_ASSERT_EQUAL(cmos(m, 0x15) | cmos(m, 0x16) << 8, 640);
	CU_ASSERT_EQUAL(cmos(m, 0x17) | cmos(m, 0x18) << 8, 3072);
	CU_ASSERT_EQUAL(cmos(m, 0x30) | cmos(m, 0x31) << 8, 3072);
	CU_ASSERT_EQUAL(cmos(m, 0x34) | cmos(m, 0x35) << 8, 0);
	cmos_set(m, 0x40, 0xa5);
	CU_ASSERT_EQUAL(cmos(m, 0x40), 0xa5);
	mu_out8(m, 0x70, 0x80 | 0x40);              /* NMI disable bit is not the index */
	CU_ASSERT_EQUAL(mu_in8(m, 0x71), 0xa5);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "epoch and format", test_epoch },
		{ "setting the clock", test_set_clock },
		{ "periodic and update interrupts", test_interrupts },
		{ "NVRAM", test_nvram },
		{ NULL, NULL },
	};
	return ut_main("rtc", cases);
}
