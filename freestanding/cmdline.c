/* cmdline.c - string comparison and the command-line words of the
 * freestanding images (fs_lib.h).
 *
 * Every image reads a Multiboot command line: nesthv its options ("hv=svm
 * hvtrace nested=1"), the guest its module line ("guest.elf bench=3000"),
 * the test kernels their test name.  A word is a run of characters
 * between spaces; an option "key=value" is a word starting with "key=".
 * Kept apart from string.c so host unit tests can compile this file and
 * format.c beside the host C library (tests/unit/test_fslib.c).
 */
#include "fs_lib.h"

int fs_strncmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i])
            return (unsigned char)a[i] - (unsigned char)b[i];
        if (!a[i])
            return 0;
    }
    return 0;
}

bool fs_streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

uint64_t fs_atou(const char *s)
{
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint64_t)(*s++ - '0');
    return v;
}

/* Each word of the line: a word starts at the line's start or after a
 * space.  Returns the first word that starts with text[0..n), or NULL. */
static const char *word_starting(const char *line, const char *text, size_t n, bool whole)
{
    for (const char *p = line; p && *p; p++)
        if ((p == line || p[-1] == ' ') && !fs_strncmp(p, text, n) &&
            (!whole || p[n] == 0 || p[n] == ' '))
            return p;
    return NULL;
}

bool fs_cmdline_has(const char *cmdline, const char *word)
{
    return word_starting(cmdline, word, strlen(word), true) != NULL;
}

const char *fs_cmdline_value(const char *cmdline, const char *key)
{
    const char *p = word_starting(cmdline, key, strlen(key), false);
    return p ? p + strlen(key) : NULL;
}
