/* options.c - nesthv's command-line options, and a note for every word it
 * does not use.
 *
 * The options are words on the Multiboot command line (QEMU -append, or
 * after the kernel path in GRUB): hv=auto|pv|vmx|svm, hvtrace, hvtest=ud2,
 * hvtest=bad-vm-state, npt=0 (svm) and ept=0 (vmx): shadow paging, nested=1
 * (svm): SVM offered to the guest.  A misspelt or misplaced word (hvtrase, hvtrace=1,
 * HV=vmx, hvtest=foo, hvtest=bad-vm-state under PV) would otherwise be
 * ignored without a word and the student would wonder why nothing changed,
 * so each gets a one-line note.  hv=VALUE is checked by hv_choose_backend
 * (an unknown backend is an error, exit 0x30).  The Multiboot 1 command
 * line starts with the kernel's own path (QEMU and GRUB put it there): a
 * first word with a '/' or a '.' in it is that path, not an option.
 */
#include "hv.h"
#include "hv_vcpu.h"

/* Each option and the backends it applies to (NULL: all). */
static const struct {
    const char *word;
    const char *backends;
} options[] = {
    { "hvtrace", 0 },
    { "hvtest=ud2", 0 },
    { "hvtest=bad-vm-state", "vmx and svm" },
    { "npt=0", "svm" },                 /* shadow paging (shadow.c) */
    { "ept=0", "vmx" },
    { "nested=1", "svm" },              /* SVM for the guest (nested_svm.c) */
};

static bool word_is(const char *p, size_t n, const char *w)
{
    return strlen(w) == n && !fs_strncmp(p, w, n);
}

static bool path_like(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '/' || p[i] == '.')
            return true;
    return false;
}

/* Is backend `b` ("pv") one of the words of `list` ("vmx svm")? */
static bool listed(const char *list, const char *b)
{
    size_t n = strlen(b);
    for (const char *p = list; *p; p++)
        if ((p == list || p[-1] == ' ') && !fs_strncmp(p, b, n) && (p[n] == 0 || p[n] == ' '))
            return true;
    return false;
}

static void check_word(const char *p, size_t n, const char *backend)
{
    if (n >= 3 && !fs_strncmp(p, "hv=", 3))
        return;                                   /* hv_choose_backend's */
    for (unsigned i = 0; i < sizeof options / sizeof options[0]; i++) {
        if (!word_is(p, n, options[i].word))
            continue;
        if (options[i].backends && !listed(options[i].backends, backend))
            hv_printf("nesthv: note: option '%s' applies to the %s backends only: ignored "
                      "under %s\n", options[i].word, options[i].backends, backend);
        return;
    }
    hv_printf("nesthv: note: unknown option '");
    for (size_t i = 0; i < n; i++)
        hv_printf("%c", p[i]);
    hv_printf("' ignored (nesthv knows hv=auto|pv|vmx|svm, hvtrace, hvtest=ud2, "
              "hvtest=bad-vm-state, npt=0, ept=0, nested=1)\n");
}

void hv_options_check(const char *cmdline, const char *backend)
{
    bool first = true;
    for (const char *p = cmdline; *p; ) {
        while (*p == ' ')
            p++;
        size_t n = 0;
        while (p[n] && p[n] != ' ')
            n++;
        if (n && !(first && path_like(p, n)))
            check_word(p, n, backend);
        first = false;
        p += n;
    }
}
