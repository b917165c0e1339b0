/* format.c - the one printf of the freestanding images.
 *
 * nesthv prints to its UART, the guest kernel formats a line and hands it
 * to a hypercall or its UART, the boot-test kernel writes each character to
 * COM1: all three call fs_vformat with their own sink.  The conversions are
 * the subset the images use (fs_lib.h); anything else is printed as is, so
 * a typo shows on the console instead of eating arguments silently.
 *
 * '#' gives hex numbers the "0x" prefix the project prints before
 * addresses, vectors, ports and MSRs (the prefix counts toward the width,
 * as in C: "%#06x" of 0x3f8 is "0x03f8").
 */
#include "fs_lib.h"

struct spec {
    bool alt;           /* '#': 0x before hex */
    char pad;           /* ' ' or '0' */
    int width, lng;     /* minimum width; number of 'l'/'z' */
};

struct out {
    fs_sink *sink;
    void *ctx;
    int n;              /* characters formatted */
};

static void put(struct out *o, char c)
{
    o->sink(o->ctx, c);
    o->n++;
}

static void put_str(struct out *o, const char *s)
{
    while (*s)
        put(o, *s++);
}

/* The digits of v in base 16 or 10, with sign or prefix, padded to width. */
static void put_num(struct out *o, const struct spec *sp, uint64_t v, unsigned base, bool neg)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    const char *prefix = neg ? "-" : (sp->alt && base == 16) ? "0x" : "";
    int len = n + (int)strlen(prefix);
    if (sp->pad == ' ')
        for (; len < sp->width; len++)
            put(o, ' ');
    put_str(o, prefix);
    for (; len < sp->width; len++)
        put(o, '0');
    while (n)
        put(o, digits[--n]);
}

/* Flags, width and length of one conversion; returns its letter. */
static const char *parse_spec(const char *f, struct spec *sp)
{
    *sp = (struct spec){ .pad = ' ' };
    for (;; f++) {
        if (*f == '#')
            sp->alt = true;
        else if (*f == '0')
            sp->pad = '0';
        else
            break;
    }
    while (*f >= '0' && *f <= '9')
        sp->width = sp->width * 10 + (*f++ - '0');
    while (*f == 'l' || *f == 'z')
        sp->lng++, f++;
    return f;
}

int fs_vformat(fs_sink *sink, void *ctx, const char *fmt, va_list ap)
{
    struct out o = { sink, ctx, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        struct spec sp;
        fmt = parse_spec(fmt + 1, &sp);
        switch (*fmt) {
        case 'c': put(&o, (char)va_arg(ap, int)); break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            put_str(&o, s ? s : "(null)");
            break;
        }
        case 'd': case 'i': {
            int64_t v = sp.lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            put_num(&o, &sp, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0);
            break;
        }
        case 'u': case 'x': {
            uint64_t v = sp.lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            put_num(&o, &sp, v, *fmt == 'x' ? 16 : 10, false);
            break;
        }
        case 'p':
            sp = (struct spec){ .alt = true, .pad = '0', .width = 18 };
            put_num(&o, &sp, (uint64_t)(uintptr_t)va_arg(ap, void *), 16, false);
            break;
        case '%': put(&o, '%'); break;
        case 0: put(&o, '%'); fmt--; break;          /* '%' ends the format */
        default: put(&o, '%'); put(&o, *fmt); break;
        }
    }
    return o.n;
}

struct buf { char *p; size_t size, len; };

static void buf_sink(void *ctx, char c)
{
    struct buf *b = ctx;
    if (b->len + 1 < b->size)
        b->p[b->len] = c;
    b->len++;
}

int fs_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buf b = { buf, size, 0 };
    int n = fs_vformat(buf_sink, &b, fmt, ap);
    if (size)
        buf[b.len < size ? b.len : size - 1] = 0;
    return n;
}

int fs_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fs_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
