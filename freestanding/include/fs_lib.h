/* fs_lib.h - the small C library of every freestanding image in the tree.
 *
 * nesthv, the teaching guest kernel, the hostile PV guests and the boot-test
 * kernel have no C library.  What they need of one is here, once: the four
 * functions gcc may call on its own even with -ffreestanding (GCC manual,
 * "Standards": memcpy, memmove, memset, memcmp), a few string helpers, the
 * command-line word tests every image does on its Multiboot command line,
 * and one printf-style formatter that writes through a sink, so each image
 * keeps only its own output device (a UART, a hypercall, a line buffer).
 *
 * Numbers follow the project's rule for what a student reads: addresses,
 * vectors, ports and MSRs in hex with "0x" ("%#x", "%#lx"), counts in
 * decimal ("%u", "%lu").  Plain "%x" (no prefix) stays for fixed-width
 * dumps such as register files, where every column is hex.
 *
 * The 64-bit-only parts (the formatter divides 64-bit numbers) are for
 * 64-bit images; the 32-bit device probes (tests/devices) use only the
 * CMake function, not this library.
 */
#ifndef FS_LIB_H
#define FS_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* string.c */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* cmdline.c */
int fs_strncmp(const char *a, const char *b, size_t n);
bool fs_streq(const char *a, const char *b);
uint64_t fs_atou(const char *s);            /* leading decimal digits; 0 if none */

/* Multiboot command lines are words separated by spaces. */
bool fs_cmdline_has(const char *cmdline, const char *word);
/* The text after "key" (key includes its '=') in a word that starts with
 * it, or NULL: fs_cmdline_value("a bench=30", "bench=") -> "30". */
const char *fs_cmdline_value(const char *cmdline, const char *key);

/* format.c: %% %c %s %d %i %u %x %p, flags '0' and '#' (0x prefix), a
 * width, length 'l', 'll', 'z'.  sink(ctx, c) is called once per
 * character; the result is the number of characters formatted. */
typedef void fs_sink(void *ctx, char c);
int fs_vformat(fs_sink *sink, void *ctx, const char *fmt, va_list ap);
/* Like vsnprintf: always NUL-terminates when size > 0, returns the full
 * length the output would have. */
int fs_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fs_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
