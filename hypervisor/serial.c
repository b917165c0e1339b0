/* serial.c - nesthv's console: the 16550 UART at COM1 (I/O port 0x3F8), a
 * small printf on top of it, and panic, which prints and stops.
 *
 * Everything nesthv says goes here, prefixed "nesthv: " by the callers; the
 * PV guest's console_write hypercall lands here too.  The UART programming is
 * the classic 8N1 sequence (National Semiconductor PC16550D datasheet,
 * "Programming"): set DLAB, write the divisor, clear DLAB, set the line format.
 * On QEMU, `-serial stdio` connects COM1 to the test runner.
 */
#include "hv_cpu.h"

#define COM1 0x3f8
#define UART_THR 0      /* transmit holding register */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20   /* transmit holding register empty */

void hv_serial_init(void)
{
    hv_outb(COM1 + UART_IER, 0x00);   /* no UART interrupts: we poll */
    hv_outb(COM1 + UART_LCR, 0x80);   /* DLAB = 1 */
    hv_outb(COM1 + 0, 0x01);          /* divisor 1 = 115200 baud */
    hv_outb(COM1 + 1, 0x00);
    hv_outb(COM1 + UART_LCR, 0x03);   /* 8 bits, no parity, 1 stop, DLAB = 0 */
    hv_outb(COM1 + UART_FCR, 0xc7);   /* FIFOs on and cleared */
    hv_outb(COM1 + UART_MCR, 0x03);   /* DTR, RTS */
}

void hv_putc(char c)
{
    if (c == '\n')
        hv_putc('\r');
    for (int spin = 0; spin < 100000; spin++)
        if (hv_inb(COM1 + UART_LSR) & LSR_THRE)
            break;
    hv_outb(COM1 + UART_THR, (uint8_t)c);
}

void hv_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hv_putc(s[i]);
}

static void putc_sink(void *ctx, char c)
{
    (void)ctx;
    hv_putc(c);
}

/* The formatter is the freestanding library's (fs_lib.h: %s %c %d %u %x %p,
 * '0' and '#' flags, width, l/ll/z). */
void hv_vprintf(const char *fmt, va_list ap)
{
    fs_vformat(putc_sink, NULL, fmt, ap);
}

void hv_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hv_vprintf(fmt, ap);
    va_end(ap);
}

/* How nesthv stops: on purpose (hv_exit) or because something is
 * wrong (hv_panic, hv_panic_regs).
 *
 * Stopping means writing a status to QEMU's isa-debug-exit port 0xF4 (the
 * mapping is in hv.h), which ends the virtual machine.  On hardware without
 * that device the write does nothing, so we then halt forever with
 * interrupts off.  A panic prints the register frame first: the frame layout
 * is the one entry.S builds (hv_cpu.h), so a reader can match it to the
 * instruction that went wrong.
 */
void hv_exit(unsigned v)
{
    /* The value goes on the console too: machines without isa-debug-exit
     * (Bochs, real hardware) cannot report it as their exit status. */
    hv_printf("nesthv: exit value %x\n", v);
    hv_outl(HV_DEBUG_EXIT_PORT, v);
    /* Bochs has no isa-debug-exit; writing "Shutdown" to its port 0x8900
     * ends the simulation (bochs iodev/unmapped.cc).  Elsewhere nothing
     * answers at 0x8900 and we halt below. */
    for (const char *p = "Shutdown"; *p; p++)
        hv_outb(0x8900, (uint8_t)*p);
    for (;;)
        __asm__ volatile("cli; hlt");
}

void hv_dump_regs(const struct hv_regs *r)
{
    hv_printf("nesthv:  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n",
              r->rax, r->rbx, r->rcx, r->rdx);
    hv_printf("nesthv:  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n",
              r->rsi, r->rdi, r->rbp, r->rsp);
    hv_printf("nesthv:  r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n",
              r->r8, r->r9, r->r10, r->r11);
    hv_printf("nesthv:  r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n",
              r->r12, r->r13, r->r14, r->r15);
    hv_printf("nesthv:  rip %016lx cs %04lx rflags %08lx ss %04lx\n",
              r->rip, r->cs, r->rflags, r->ss);
    hv_printf("nesthv:  vector %lu (%s) error %lx cr2 %016lx cr3 %016lx\n",
              r->vector, hv_vector_name((unsigned)r->vector), r->error,
              hv_read_cr2(), hv_read_cr3());
}

void hv_panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hv_printf("nesthv: PANIC: ");
    hv_vprintf(fmt, ap);
    hv_printf("\n");
    va_end(ap);
    hv_exit(HV_EXIT_PANIC);
}

void hv_panic_regs(const struct hv_regs *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hv_printf("nesthv: PANIC: ");
    hv_vprintf(fmt, ap);
    hv_printf("\n");
    va_end(ap);
    hv_dump_regs(r);
    hv_exit(HV_EXIT_PANIC);
}
