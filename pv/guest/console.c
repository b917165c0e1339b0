/* console.c - formatted output for the guest kernel, and the few C library
 * functions a freestanding program needs.
 *
 * kprintf formats into a line buffer and hands it to ops->console_write:
 * the COM1 UART natively, the console_write hypercall under nesthv.  One
 * call per line keeps the number of hypercalls low.  The formatter and the
 * C library functions are the freestanding library's (freestanding/).
 */
#include "guest.h"

void kprintf(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = fs_vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    ops->console_write(line, n < (int)sizeof line ? (size_t)n : sizeof line - 1);
}

void panic(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    fs_vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    kprintf("guest: PANIC: %s\n", line);
    ops->shutdown(1);
    for (;;)
        ;
}
