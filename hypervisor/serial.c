/* serial.c - nesthv's console: the 16550 UART at COM1 (I/O port 0x3F8) and a
 * small printf on top of it.
 *
 * Everything nesthv says goes here, prefixed "nesthv: " by the callers; the
 * PV guest's console_write hypercall lands here too.  The UART programming is
 * the classic 8N1 sequence (National Semiconductor PC16550D datasheet,
 * "Programming"): set DLAB, write the divisor, clear DLAB, set the line format.
 * On QEMU, `-serial stdio` connects COM1 to the test runner.
 */
#include "hv.h"

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

/* Print v in base 'base' with at least 'width' digits, padded with 'pad'. */
static void put_num(uint64_t v, unsigned base, int width, char pad, bool neg)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg)
        buf[n++] = '-';
    while (n < width)
        hv_putc(pad), width--;
    while (n)
        hv_putc(buf[--n]);
}

/* Supported: %% %c %s %d %i %u %x %p, with optional '0', width, 'l'/'ll'/'z'. */
void hv_vprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            hv_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, lng = 0;
        if (*fmt == '0')
            pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z')
            lng++, fmt++;
        switch (*fmt) {
        case 'c': hv_putc((char)va_arg(ap, int)); break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            hv_write(s ? s : "(null)", strlen(s ? s : "(null)"));
            break;
        }
        case 'd': case 'i': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            put_num(v < 0 ? -(uint64_t)v : (uint64_t)v, 10, width, pad, v < 0);
            break;
        }
        case 'u': put_num(lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad, false); break;
        case 'x': put_num(lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad, false); break;
        case 'p': hv_write("0x", 2); put_num((uint64_t)va_arg(ap, void *), 16, 16, '0', false); break;
        case '%': hv_putc('%'); break;
        default: hv_putc('%'); hv_putc(*fmt); break;
        }
    }
}

void hv_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hv_vprintf(fmt, ap);
    va_end(ap);
}
