/*
 * test_pic.c - the 8259A pair (cpu/dev/pic.c) through its ports, as a
 * kernel programs it, with interrupt lines driven by machine_set_irq and
 * the CPU's view read through intr_pending / intr_ack (the INTA cycle).
 */
#include "machine_util.h"

/* The usual remap: master at 0x20, slave at 0x28, 8086 mode, normal EOI. */
static struct machine *remapped(uint8_t master_mask, uint8_t slave_mask)
{
	struct machine *m = mu_machine(NULL, -1);
	mu_out8(m, 0x20, 0x11);
	mu_out8(m, 0xa0, 0x11);
	mu_out8(m, 0x21, 0x20);
	mu_out8(m, 0xa1, 0x28);
	mu_out8(m, 0x21, 0x04);
	mu_out8(m, 0xa1, 0x02);
	mu_out8(m, 0x21, 0x01);
	mu_out8(m, 0xa1, 0x01);
	mu_out8(m, 0x21, master_mask);
	mu_out8(m, 0xa1, slave_mask);
	return m;
}

static void test_reset_state(void)
{
	struct machine *m = mu_machine(NULL, -1);
	CU_ASSERT_EQUAL(mu_in8(m, 0x21), 0xb8);    /* as SeaBIOS leaves them */
	CU_ASSERT_EQUAL(mu_in8(m, 0xa1), 0x8e);
	machine_set_irq(m, 4, true);
	CU_ASSERT_FALSE(mu_intr(m));                /* masked */
	machine_set_irq(m, 1, true);
	CU_ASSERT_EQUAL(mu_ack(m), 0x09);           /* the BIOS's vector base 8 */
}

static void test_edge_ack_eoi(void)
{
	struct machine *m = remapped(0x00, 0xff);
	CU_ASSERT_FALSE(mu_intr(m));
	machine_set_irq(m, 0, true);
	machine_set_irq(m, 0, false);               /* a pulse is enough: edge */
	CU_ASSERT_TRUE(mu_intr(m));
	mu_out8(m, 0x20, 0x0a);                     /* OCW3: read IRR */
	CU_ASSERT_EQUAL(mu_in8(m, 0x20), 0x01);
	CU_ASSERT_EQUAL(mu_ack(m), 0x20);
	CU_ASSERT_FALSE(mu_intr(m));
	mu_out8(m, 0x20, 0x0b);                     /* OCW3: read ISR */
	CU_ASSERT_EQUAL(mu_in8(m, 0x20), 0x01);
	/* A second pulse while in service waits for the EOI. */
	machine_set_irq(m, 0, true);
	machine_set_irq(m, 0, false);
	CU_ASSERT_FALSE(mu_intr(m));
	mu_out8(m, 0x20, 0x20);                     /* non-specific EOI */
	CU_ASSERT_EQUAL(mu_in8(m, 0x20), 0x00);     /* ISR empty */
	CU_ASSERT_TRUE(mu_intr(m));
	CU_ASSERT_EQUAL(mu_ack(m), 0x20);
	/* A level held high does not re-request on an edge-triggered line. */
	mu_out8(m, 0x20, 0x20);
	machine_set_irq(m, 3, true);
	CU_ASSERT_EQUAL(mu_ack(m), 0x23);
	mu_out8(m, 0x20, 0x63);                     /* specific EOI for IR3 */
	CU_ASSERT_FALSE(mu_intr(m));
}

static void test_priority_and_mask(void)
{
	struct machine *m = remapped(0x02, 0xff);   /* IR1 masked */
	machine_set_irq(m, 1, true);
	CU_ASSERT_FALSE(mu_intr(m));
	machine_set_irq(m, 5, true);
	machine_set_irq(m, 3, true);
	CU_ASSERT_EQUAL(mu_ack(m), 0x23);           /* lower IR number first */
	/* IR5 has lower priority than IR3 in service: held back. */
	CU_ASSERT_FALSE(mu_intr(m));
	mu_out8(m, 0x21, 0x00);                     /* unmask IR1: higher than 3 */
	CU_ASSERT_TRUE(mu_intr(m));
	CU_ASSERT_EQUAL(mu_ack(m), 0x21);           /* nests */
	mu_out8(m, 0x20, 0x20);                     /* EOI ends IR1 */
	mu_out8(m, 0x20, 0x20);                     /* EOI ends IR3 */
	CU_ASSERT_EQUAL(mu_ack(m), 0x25);
}

static void test_cascade(void)
{
	struct machine *m = remapped(0x00, 0x00);
	machine_set_irq(m, 12, true);
	CU_ASSERT_TRUE(mu_intr(m));
	CU_ASSERT_EQUAL(mu_ack(m), 0x2c);
	mu_out8(m, 0xa0, 0x0b);
	CU_ASSERT_EQUAL(mu_in8(m, 0xa0), 0x10);     /* slave ISR: IR4 */
	mu_out8(m, 0x20, 0x0b);
	CU_ASSERT_EQUAL(mu_in8(m, 0x20), 0x04);     /* master ISR: IR2 */
	mu_out8(m, 0xa0, 0x20);
	mu_out8(m, 0x20, 0x20);
	mu_out8(m, 0x20, 0x0b);
	CU_ASSERT_EQUAL(mu_in8(m, 0x20), 0x00);
	/* Masked on the slave: nothing reaches the master. */
	mu_out8(m, 0xa1, 0x01);
	machine_set_irq(m, 8, true);
	CU_ASSERT_FALSE(mu_intr(m));
}

static void test_spurious_and_poll(void)
{
	struct machine *m = remapped(0x00, 0xff);
	/* INTA with no request left reads as IR7 of the master. */
	CU_ASSERT_EQUAL(pic_ack(m), 0x27);
	machine_set_irq(m, 6, true);
	mu_out8(m, 0x20, 0x0c);                     /* OCW3 poll */
	CU_ASSERT_EQUAL(mu_in8(m, 0x20), 0x86);
	mu_out8(m, 0x20, 0x0c);
	CU_ASSERT_EQUAL(mu_in8(m, 0x20), 0x00);     /* IR6 in service now */
	mu_out8(m, 0x20, 0x66);
	mu_out8(m, 0x20, 0x0b);
	CU_ASSERT_EQUAL(mu_in8(m, 0x20), 0x00);
}

static void test_auto_eoi_and_level(void)
{
	struct machine *m = mu_machine(NULL, -1);
	mu_out8(m, 0x20, 0x11);
	mu_out8(m, 0x21, 0x40);
	mu_out8(m, 0x21, 0x04);
	mu_out8(m, 0x21, 0x03);                     /* ICW4: AEOI */
	mu_out8(m, 0x21, 0x00);
	machine_set_irq(m, 5, true);
	CU_ASSERT_EQUAL(mu_ack(m), 0x45);
	mu_out8(m, 0x20, 0x0b);
	CU_ASSERT_EQUAL(mu_in8(m, 0x20), 0x00);     /* AEOI: never in service */
	/* ELCR makes IR5 level-triggered: it requests while high. */
	mu_out8(m, 0x4d0, 0x20);
	CU_ASSERT_EQUAL(mu_in8(m, 0x4d0), 0x20);
	machine_set_irq(m, 5, false);
	machine_set_irq(m, 5, true);
	CU_ASSERT_EQUAL(mu_ack(m), 0x45);
	CU_ASSERT_TRUE(mu_intr(m));                 /* still high: again */
	machine_set_irq(m, 5, false);
	CU_ASSERT_FALSE(mu_intr(m));
	mu_out8(m, 0x4d0, 0xff);
	CU_ASSERT_EQUAL(mu_in8(m, 0x4d0), 0xf8);    /* IRQ0-2 are always edge */
}

/* With the local APIC's LINT0 masked the PIC no longer reaches the CPU;
 * with the APIC globally disabled it goes straight in again. */
static void test_lint0_gate(void)
{
	struct machine *m = remapped(0x00, 0xff);
	machine_set_irq(m, 1, true);
	CU_ASSERT_TRUE(mu_intr(m));
	mu_mmio_write(m, 0xfee00350, 0x10700);
	CU_ASSERT_FALSE(mu_intr(m));
	m->cpu.msr.apic_base &= ~(1ull << 11);
	machine_intr_changed(m);                    /* seen at the next device event */
	CU_ASSERT_TRUE(mu_intr(m));
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "reset state", test_reset_state },
		{ "edge, ack, EOI", test_edge_ack_eoi },
		{ "priority and mask", test_priority_and_mask },
		{ "cascade", test_cascade },
		{ "spurious, poll", test_spurious_and_poll },
		{ "AEOI, ELCR level", test_auto_eoi_and_level },
		{ "LINT0 gate", test_lint0_gate },
		{ NULL, NULL },
	};
	return ut_main("pic", cases);
}
