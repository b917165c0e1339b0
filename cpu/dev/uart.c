/*
 * uart.c - a 16550A UART: COM1 at 0x3F8 on IRQ4.
 *
 *   offset  DLAB=0 read / write        DLAB=1
 *     0     RBR receive / THR transmit DLL divisor low
 *     1     IER interrupt enable       DLM divisor high
 *     2     IIR interrupt id / FCR FIFO control
 *     3     LCR line control (bit 7 = DLAB)
 *     4     MCR modem control (bit 4 loopback, bit 3 OUT2, bit 2 OUT1)
 *     5     LSR line status: bit 0 data ready, 1 overrun, 5 THR empty,
 *                            6 transmitter empty
 *     6     MSR modem status       7  SCR scratch
 *
 * Output: a byte written to THR goes straight to the output FILE (the
 * transmitter is infinitely fast: THRE and TEMT always read 1), so output
 * never depends on timing.  In loopback mode (MCR bit 4) it goes to the
 * receiver instead, and the modem inputs mirror the outputs - the test
 * that osdev-style and Linux drivers run before they trust the port.
 *
 * Input: bytes come from a file descriptor, read without blocking (poll()
 * then read() of one byte) at instants fixed by virtual time, at most one
 * byte per character time at 115200 baud (86.8 us): when the guest reads
 * LSR or RBR with the receiver empty, and, while receive interrupts are
 * enabled, on a timer.  With input that is all there in advance (a file, /dev/null) a run
 * is deterministic.  The receiver takes a byte only when the FIFO has room
 * (flow control rather than overrun).
 *
 * Interrupts (IIR, highest priority first): receiver line status (overrun),
 * received data available (the FIFO holds its trigger level, FCR bits 7:6:
 * 1, 4, 8 or 14 bytes), character timeout (IIR 0x0C: fewer bytes than the
 * trigger level, and none received or read for four character times),
 * THR empty; modem status changes are not modelled.  The IRQ line is the OR of the enabled, pending sources; as in
 * QEMU it is not gated by MCR.OUT2 (on a real PC board OUT2 gates it - a
 * driver that forgets OUT2 works here and in QEMU but not on hardware).
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "machine.h"

#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IER_RDA  0x01
#define IER_THRE 0x02
#define IER_RLS  0x04
#define MCR_LOOP 0x10
#define CHAR_NS  86806ull       /* 10 bits at 115200 baud */

static bool fifo_on(const struct uart16550 *u)
{
	return u->fcr & 1;
}

static int rx_room(const struct uart16550 *u)
{
	return (fifo_on(u) ? UART_FIFO : 1) - u->rx_count;
}

static int rx_trigger(const struct uart16550 *u)
{
	static const int level[4] = { 1, 4, 8, 14 };
	return fifo_on(u) ? level[u->fcr >> 6] : 1;
}

/* When a character timeout falls due (only below the trigger level). */
static uint64_t rx_timeout_at(const struct uart16550 *u)
{
	if (!fifo_on(u) || u->rx_count == 0 || u->rx_count >= rx_trigger(u))
		return UINT64_MAX;
	return u->rx_last + 4 * CHAR_NS;
}

/* The interrupt the IIR reports now (0x01 = none). */
static uint8_t iir_id(const struct machine *m)
{
	const struct uart16550 *u = &m->uart;
	if ((u->ier & IER_RLS) && (u->lsr_err & LSR_OE))
		return 0x06;
	if ((u->ier & IER_RDA) && u->rx_count >= rx_trigger(u))
		return 0x04;
	if ((u->ier & IER_RDA) && machine_now(m) >= rx_timeout_at(u))
		return 0x0c;
	if ((u->ier & IER_THRE) && u->thre_pending)
		return 0x02;
	return 0x01;
}

static void update_irq(struct machine *m)
{
	struct uart16550 *u = &m->uart;
	machine_set_irq(m, u->irq, iir_id(m) != 0x01);
}

static void rx_push(struct machine *m, uint8_t b)
{
	struct uart16550 *u = &m->uart;
	if (rx_room(u) <= 0) {
		u->lsr_err |= LSR_OE;
		return;
	}
	u->rx[(u->rx_head + u->rx_count++) % UART_FIFO] = b;
	u->rx_last = machine_now(m);
}

/* Take a byte from the input if the receiver has room; never block.  At
 * most once per character time of virtual time, like a line delivers
 * bytes (and so a driver polling LSR costs no system call per read). */
static void poll_input(struct machine *m)
{
	struct uart16550 *u = &m->uart;
	bool got = false;
	if (machine_now(m) < u->next_poll)
		return;
	u->next_poll = machine_now(m) + CHAR_NS;
	while (u->in_fd >= 0 && rx_room(u) > 0 && !(u->mcr & MCR_LOOP)) {
		struct pollfd pfd = { .fd = u->in_fd, .events = POLLIN };
		if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & (POLLIN | POLLHUP)))
			break;
		uint8_t b;
		ssize_t n = read(u->in_fd, &b, 1);
		if (n == 1) {
			rx_push(m, b);
			got = true;
		} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			u->in_fd = -1;              /* end of input */
		}
		/* one byte per character time, as a line delivers them */
		break;
	}
	if (got)
		update_irq(m);
}

/* While receive interrupts are on: look at the input once per character
 * time while the receiver has room, and wake up for a character timeout. */
static void schedule_rx(struct machine *m)
{
	struct uart16550 *u = &m->uart;
	uint64_t now = machine_now(m), next = UINT64_MAX;
	if ((u->ier & IER_RDA) && !(u->mcr & MCR_LOOP)) {
		if (u->in_fd >= 0 && rx_room(u) > 0)
			next = u->next_poll > now ? u->next_poll : now + CHAR_NS;
		uint64_t t = rx_timeout_at(u);
		if (t > now && t < next)
			next = t;
	}
	machine_timer_set(m, MT_UART, next);
}

static void uart_fire(struct machine *m, void *dev)
{
	(void)dev;
	poll_input(m);
	update_irq(m);                  /* a character timeout may be due now */
	schedule_rx(m);
}

static void transmit(struct machine *m, uint8_t b)
{
	struct uart16550 *u = &m->uart;
	if (u->mcr & MCR_LOOP) {
		rx_push(m, b);
	} else if (u->out) {
		fputc(b, u->out);
		if (b == '\n')
			fflush(u->out);
	}
	/* Sent at once: the holding register is empty again. */
	u->thre_pending = true;
}

static uint8_t read_rbr(struct machine *m)
{
	struct uart16550 *u = &m->uart;
	if (u->rx_count == 0)
		poll_input(m);
	if (u->rx_count == 0)
		return 0;
	uint8_t b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO;
	u->rx_count--;
	u->rx_last = machine_now(m);    /* a read restarts the timeout */
	schedule_rx(m);                 /* room again; the timeout moved */
	return b;
}

static uint8_t read_msr(const struct uart16550 *u)
{
	if (u->mcr & MCR_LOOP)          /* CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2 */
		return (uint8_t)((u->mcr & 2) << 3 | (u->mcr & 1) << 5 |
				 (u->mcr & 4) << 4 | (u->mcr & 8) << 4);
	return 0xb0;                    /* DCD, DSR, CTS: a cable is connected */
}

static uint32_t uart_read(void *dev, uint16_t port, int size)
{
	(void)size;
	struct machine *m = dev;
	struct uart16550 *u = &m->uart;
	bool dlab = u->lcr & 0x80;
	uint8_t v = 0xff;
	switch (port - u->base) {
	case 0: v = dlab ? u->dll : read_rbr(m); break;
	case 1: v = dlab ? u->dlm : u->ier; break;
	case 2:
		v = iir_id(m);
		if (v == 0x02)              /* reading IIR clears a THRE interrupt */
			u->thre_pending = false;
		if (fifo_on(u))
			v |= 0xc0;
		break;
	case 3: v = u->lcr; break;
	case 4: v = u->mcr; break;
	case 5:
		if (u->rx_count == 0)
			poll_input(m);
		v = (uint8_t)(LSR_THRE | LSR_TEMT | u->lsr_err | (u->rx_count ? LSR_DR : 0));
		u->lsr_err = 0;             /* error bits clear on read */
		break;
	case 6: v = read_msr(u); break;
	case 7: v = u->scr; break;
	}
	update_irq(m);
	return v;
}

static void uart_write(void *dev, uint16_t port, int size, uint32_t val)
{
	(void)size;
	struct machine *m = dev;
	struct uart16550 *u = &m->uart;
	bool dlab = u->lcr & 0x80;
	uint8_t v = (uint8_t)val;
	switch (port - u->base) {
	case 0:
		if (dlab)
			u->dll = v;
		else
			transmit(m, v);
		break;
	case 1:
		if (dlab) {
			u->dlm = v;
			break;
		}
		/* Enabling the THRE interrupt with THR empty raises it at once. */
		if ((v & IER_THRE) && !(u->ier & IER_THRE))
			u->thre_pending = true;
		u->ier = v & 0x0f;
		schedule_rx(m);
		break;
	case 2:
		if ((v & 1) != (u->fcr & 1) || (v & 2)) {
			u->rx_count = 0;        /* enabling/disabling or RX reset clears */
			u->rx_head = 0;
		}
		u->fcr = v & 0xc9;
		schedule_rx(m);
		break;
	case 3: u->lcr = v; break;
	case 4:
		u->mcr = v & 0x1f;
		schedule_rx(m);
		break;
	case 7: u->scr = v; break;
	default: break;                 /* LSR and MSR: writes are ignored */
	}
	update_irq(m);
}

void uart_attach(struct machine *m, uint16_t base, int irq, FILE *out, int in_fd)
{
	struct uart16550 *u = &m->uart;
	u->base = base;
	u->irq = irq;
	u->out = out;
	u->in_fd = in_fd;
	u->lcr = 0x03;                  /* 8N1, as the firmware leaves it */
	u->dll = 1;                     /* 115200 baud */
	u->mcr = 0x08;
	machine_timer_init(m, MT_UART, uart_fire, NULL);
	machine_add_ports(m, base, 8, m, uart_read, uart_write);
}
