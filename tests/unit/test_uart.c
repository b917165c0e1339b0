/*
 * test_uart.c - the 16550A on COM1 (cpu/dev/uart.c): output to a FILE,
 * the loopback probe drivers run, input from a file descriptor, the
 * interrupt identification register and the IRQ4 line (seen at the 8259,
 * remapped to 0x20 with IRQ4 unmasked, and at the I/O APIC).
 */
#include <string.h>
#include <unistd.h>

#include "machine_util.h"

#define COM1 0x3f8

static char *out_buf;
static size_t out_len;

static struct machine *uart_machine(int in_fd)
{
	static FILE *out;
	if (out)
		fclose(out);
	free(out_buf);
	out_buf = NULL;
	out = open_memstream(&out_buf, &out_len);
	struct machine *m = mu_machine(out, in_fd);
	mu_out8(m, 0x20, 0x11);
	mu_out8(m, 0x21, 0x20);
	mu_out8(m, 0x21, 0x04);
	mu_out8(m, 0x21, 0x01);
	mu_out8(m, 0x21, 0xef);                     /* IRQ4 only */
	return m;
}

/* The osdev-style init: 38400 8N1, FIFO on, loopback self-test, normal. */
static void init_port(struct machine *m)
{
	mu_out8(m, COM1 + 1, 0x00);
	mu_out8(m, COM1 + 3, 0x80);
	mu_out8(m, COM1 + 0, 0x03);
	mu_out8(m, COM1 + 1, 0x00);
	mu_out8(m, COM1 + 3, 0x03);
	mu_out8(m, COM1 + 2, 0xc7);
	mu_out8(m, COM1 + 4, 0x0b);
}

static void test_output(void)
{
	struct machine *m = uart_machine(-1);
	init_port(m);
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 5) & 0x60, 0x60);   /* THRE, TEMT */
	const char *s = "hello, serial\n";
	for (const char *p = s; *p; p++)
		mu_out8(m, COM1, (uint8_t)*p);
	fflush(m->uart.out);
	CU_ASSERT_EQUAL(out_len, strlen(s));
	CU_ASSERT_NSTRING_EQUAL(out_buf, s, strlen(s));
	/* Divisor latch and scratch read back. */
	mu_out8(m, COM1 + 3, 0x83);
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 0), 0x03);
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 1), 0x00);
	mu_out8(m, COM1 + 3, 0x03);
	mu_out8(m, COM1 + 7, 0x5a);
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 7), 0x5a);
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 2) & 0xc0, 0xc0);   /* FIFOs on */
}

static void test_loopback(void)
{
	struct machine *m = uart_machine(-1);
	init_port(m);
	mu_out8(m, COM1 + 4, 0x1e);                 /* loopback, RTS, OUT1, OUT2 */
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 6) & 0xf0, 0xd0);   /* CTS, RI, DCD */
	mu_out8(m, COM1, 0xae);
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 5) & 1, 1);
	CU_ASSERT_EQUAL(mu_in8(m, COM1), 0xae);
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 5) & 1, 0);
	mu_out8(m, COM1 + 4, 0x0f);
	fflush(m->uart.out);
	CU_ASSERT_EQUAL(out_len, 0);                /* nothing went out */
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 6), 0xb0);
}

static void test_thre_interrupt(void)
{
	struct machine *m = uart_machine(-1);
	init_port(m);
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 2) & 0x0f, 0x01);   /* no interrupt */
	mu_out8(m, COM1 + 1, 0x02);                 /* THR empty interrupt on */
	CU_ASSERT_TRUE(mu_intr(m));
	CU_ASSERT_EQUAL(mu_ack(m), 0x24);
	mu_out8(m, 0x20, 0x20);
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 2) & 0x0f, 0x02);
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 2) & 0x0f, 0x01);   /* the read cleared it */
	CU_ASSERT_FALSE(mu_intr(m));
	mu_out8(m, COM1, 'x');                      /* sent at once: empty again */
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 2) & 0x0f, 0x02);
	mu_out8(m, COM1 + 1, 0x00);
	CU_ASSERT_EQUAL(m->isa_irq & 0x10, 0);
}

static void test_input_interrupt(void)
{
	int fds[2];
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	CU_ASSERT_EQUAL(write(fds[1], "ok", 2), 2);
	close(fds[1]);
	struct machine *m = uart_machine(fds[0]);
	init_port(m);
	mu_out8(m, COM1 + 2, 0x07);                 /* FIFO, trigger level 1 */
	/* Route IRQ4 through the I/O APIC as well: pin 4 -> vector 0x44. */
	mu_mmio_write(m, 0xfec00000, 0x18);
	mu_mmio_write(m, 0xfec00010, 0x44);
	mu_out8(m, COM1 + 1, 0x01);                 /* received data interrupt */
	CU_ASSERT_FALSE(mu_intr(m));                /* nothing read yet */
	mu_advance(m, m->cpu.icount + 100000);      /* a character time */
	CU_ASSERT_TRUE(mu_intr(m));
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 2) & 0x0f, 0x04);
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 5) & 1, 1);
	CU_ASSERT_EQUAL(mu_in8(m, COM1), 'o');
	CU_ASSERT_EQUAL(m->isa_irq & 0x10, 0);      /* line dropped */
	mu_advance(m, m->cpu.icount + 100000);
	CU_ASSERT_EQUAL(mu_in8(m, COM1), 'k');
	mu_advance(m, m->cpu.icount + 100000);      /* end of input: no more */
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 5) & 1, 0);
	CU_ASSERT_EQUAL(m->uart.in_fd, -1);
	CU_ASSERT_EQUAL(m->timers[MT_UART].deadline, UINT64_MAX);
	close(fds[0]);
}

/* Trigger level 14 (FCR 0xC7): two bytes stay below it, so the interrupt
 * is the character timeout, four character times after the last byte. */
static void test_input_timeout(void)
{
	int fds[2];
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	CU_ASSERT_EQUAL(write(fds[1], "hi", 2), 2);
	close(fds[1]);
	struct machine *m = uart_machine(fds[0]);
	init_port(m);
	mu_out8(m, COM1 + 2, 0xc7);
	mu_out8(m, COM1 + 1, 0x01);
	mu_advance(m, m->cpu.icount + 3 * 86806);   /* both bytes in, no timeout yet */
	CU_ASSERT_EQUAL(m->uart.rx_count, 2);
	CU_ASSERT_FALSE(mu_intr(m));
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 2) & 0x0f, 0x01);
	uint64_t due = m->uart.rx_last + 4 * 86806;
	mu_advance(m, due - 1);
	CU_ASSERT_FALSE(mu_intr(m));
	mu_advance(m, due);
	CU_ASSERT_TRUE(mu_intr(m));
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 2), 0xcc);   /* FIFOs on, timeout */
	CU_ASSERT_EQUAL(mu_in8(m, COM1), 'h');      /* a read restarts the timeout */
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 2) & 0x0f, 0x01);
	CU_ASSERT_EQUAL(mu_in8(m, COM1), 'i');
	close(fds[0]);
}

/* A polling driver gets its bytes without interrupts: LSR looks. */
static void test_input_polled(void)
{
	int fds[2];
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	CU_ASSERT_EQUAL(write(fds[1], "z", 1), 1);
	struct machine *m = uart_machine(fds[0]);
	init_port(m);
	CU_ASSERT_EQUAL(m->timers[MT_UART].deadline, UINT64_MAX);
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 5) & 1, 1);
	CU_ASSERT_EQUAL(mu_in8(m, COM1), 'z');
	CU_ASSERT_EQUAL(mu_in8(m, COM1 + 5) & 1, 0);   /* pipe open, empty: no block */
	close(fds[1]);
	close(fds[0]);
}

/* A guest program writes through the port bus with OUT. */
static void test_guest_program(void)
{
	struct machine *m = uart_machine(-1);
	static const uint8_t code[] = {
		0x66, 0xba, 0xf8, 0x03,         /* mov dx, 0x3f8 */
		0xb0, 'N', 0xee,                /* mov al, 'N'; out dx, al */
		0xb0, '\n', 0xee,               /* mov al, '\n'; out dx, al */
		0x66, 0xba, 0xf4, 0x00,         /* mov dx, 0xf4 */
		0xb8, 0x2a, 0x01, 0x00, 0x00,   /* mov eax, 0x12a */
		0xef,                           /* out dx, eax */
		0xf4,                           /* hlt (not reached) */
	};
	m->cpu.cpl = 0;
	cpu_phys_write(&m->cpu, UT_CODE, code, sizeof code);
	m->cpu.rip = UT_CODE;
	CU_ASSERT_EQUAL(machine_run(m, 1000), CPU_STOP_REQUEST);
	CU_ASSERT_TRUE(m->exited);
	CU_ASSERT_EQUAL(m->exit_value, 0x12a);
	CU_ASSERT_EQUAL(m->cpu.icount, 8);          /* the OUT retired, nothing after */
	CU_ASSERT_EQUAL(m->cpu.rip, UT_CODE + sizeof code - 1);
	CU_ASSERT_EQUAL(out_len, 2);
	CU_ASSERT_NSTRING_EQUAL(out_buf, "N\n", 2);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "output, DLAB, scratch", test_output },
		{ "loopback probe", test_loopback },
		{ "THRE interrupt", test_thre_interrupt },
		{ "input with interrupts", test_input_interrupt },
		{ "input: character timeout", test_input_timeout },
		{ "input polled", test_input_polled },
		{ "guest program and debug exit", test_guest_program },
		{ NULL, NULL },
	};
	return ut_main("uart", cases);
}
