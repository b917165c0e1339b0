/* format.c - a small vsnprintf for the monitor (ring 0) and the guest kernel
 * (ring 3) of lab 1: %s %c %d %u %x with a field width and zero padding.
 * Plain C: no system instruction, so it runs the same in both rings. */
#include "monitor.h"

static void put(char *buf, size_t size, size_t *n, char c)
{
    if (*n + 1 < size)
        buf[*n] = c;
    (*n)++;
}

static void number(char *buf, size_t size, size_t *n, uint32_t v, unsigned base,
                   bool neg, unsigned width, char pad)
{
    char tmp[12];
    unsigned k = 0;
    do {
        tmp[k++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg)
        tmp[k++] = '-';
    while (width > k && width--)
        put(buf, size, n, pad);
    while (k)
        put(buf, size, n, tmp[--k]);
}

int vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
    size_t n = 0;
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(buf, size, &n, *fmt);
            continue;
        }
        char pad = ' ';
        unsigned width = 0;
        if (*++fmt == '0')
            pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (unsigned)(*fmt++ - '0');
        switch (*fmt) {
        case 's':
            for (const char *s = va_arg(ap, const char *); *s; s++)
                put(buf, size, &n, *s);
            break;
        case 'c':
            put(buf, size, &n, (char)va_arg(ap, int));
            break;
        case 'd': {
            int v = va_arg(ap, int);
            number(buf, size, &n, v < 0 ? -(uint32_t)v : (uint32_t)v, 10, v < 0, width, pad);
            break;
        }
        case 'u':
            number(buf, size, &n, va_arg(ap, uint32_t), 10, false, width, pad);
            break;
        case 'x':
            number(buf, size, &n, va_arg(ap, uint32_t), 16, false, width, pad);
            break;
        default:
            put(buf, size, &n, '%');
            put(buf, size, &n, *fmt);
            break;
        }
        if (!*fmt)
            break;
    }
    if (size)
        buf[n < size ? n : size - 1] = 0;
    return (int)n;
}
