/* string.c - memory and string functions for the freestanding images
 * (fs_lib.h says which images and why these).
 *
 * Even with -ffreestanding, gcc may emit calls to memset, memcpy, memmove
 * and memcmp for structure copies and initialisation (GCC manual,
 * "Standards"), so these keep their C library names, as does strlen; the
 * fs_-prefixed string helpers are in cmdline.c.  They are deliberately simple byte loops: clarity first, and
 * nothing here is on a hot path.
 */
#include "fs_lib.h"

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

void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;
    if (dp < sp)
        return memcpy(d, s, n);
    while (n--)
        dp[n] = sp[n];
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}
