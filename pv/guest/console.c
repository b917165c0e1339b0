/* console.c - formatted output for the guest kernel, and the few C library
 * functions a freestanding program needs.
 *
 * kprintf formats into a line buffer and hands it to ops->console_write:
 * the COM1 UART natively, the console_write hypercall under nesthv.  One
 * call per line keeps the number of hypercalls low.
 */
#include "guest.h"

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;
    while (n--)
        *dp++ = *sp++;
    return d;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

struct out { char *buf; size_t size, len; };

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_num(struct out *o, uint64_t v, unsigned base, int width, char pad)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (n < width--)
        put(o, pad);
    while (n)
        put(o, tmp[--n]);
}

/* %s %c %d %u %x with optional '0', width, 'l'; like vsnprintf. */
int kvformat(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        char pad = ' ';
        int width = 0, lng = 0;
        if (*++fmt == '0')
            pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            lng = 1, fmt++;
        switch (*fmt) {
        case 's': for (const char *s = va_arg(ap, const char *); *s; s++) put(&o, *s); break;
        case 'c': put(&o, (char)va_arg(ap, int)); break;
        case 'd': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            if (v < 0)
                put(&o, '-'), v = -v;
            put_num(&o, (uint64_t)v, 10, width, pad);
            break;
        }
        case 'u': put_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad); break;
        case 'x': put_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad); break;
        default: put(&o, *fmt); break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = 0;
    return (int)o.len;
}

void kprintf(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = kvformat(line, sizeof line, fmt, ap);
    va_end(ap);
    ops->console_write(line, n < (int)sizeof line ? (size_t)n : sizeof line - 1);
}

void panic(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    kvformat(line, sizeof line, fmt, ap);
    va_end(ap);
    kprintf("guest: PANIC: %s\n", line);
    ops->shutdown(1);
    for (;;)
        ;
}
