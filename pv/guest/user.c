/* user.c - the programs the tasks run, in ring 3.
 *
 * This file is compiled position-independent (-fpie, no jump tables) and
 * linked into its own page-aligned range of the kernel image; the kernel
 * copies those pages to USER_BASE in each task's address space (task.c).
 * So it may use only its own code, string literals and the stack: no
 * kernel globals, no kernel functions - not even the memset/memcpy gcc emits
 * for large initialisers and structure copies, so this file avoids both.  System calls are INT 0x80 with the
 * number in rax and arguments in rdi, rsi - the same instruction natively
 * and under nesthv, where nesthv reflects it to the guest kernel.
 *
 * The output is deterministic: nothing printed depends on timing.
 */
#include "guest.h"

static long sys(long nr, long a, long b)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "D"(a), "S"(b) : "memory");
    return r;
}

struct line { char s[96]; int n; };

static void add(struct line *l, const char *s)
{
    while (*s && l->n < (int)sizeof l->s - 1)
        l->s[l->n++] = *s++;
}

static void add_num(struct line *l, unsigned long v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && l->n < (int)sizeof l->s - 1)
        l->s[l->n++] = tmp[--n];
}

static void say(long id, const char *a, unsigned long num, const char *b)
{
    struct line l;                 /* not "= { 0 }": gcc may turn that into a */
    l.n = 0;                       /* call to the kernel's memset, unreachable here */
    add(&l, "[task ");
    add_num(&l, (unsigned long)id);
    add(&l, "] ");
    add(&l, a);
    if (b) {
        add_num(&l, num);
        add(&l, b);
    }
    add(&l, "\n");
    sys(SYS_write, (long)l.s, l.n);
}

/* Can ring 3 read this address?  See PROBE_MAGIC in guest.h. */
static bool can_read(unsigned long addr)
{
    unsigned long ok;
    __asm__ volatile("leaq 1f(%%rip), %%r11\n\t"
                     "movq %2, %%rax\n\t"
                     "movq $1, %0\n\t"
                     "movq (%1), %%rax\n\t"
                     "jmp 2f\n"
                     "1:\tmovq $0, %0\n"
                     "2:"
                     : "=&r"(ok) : "r"(addr), "i"(PROBE_MAGIC) : "rax", "r11", "memory");
    return ok;
}

static unsigned long sum_of_squares(unsigned long n)
{
    unsigned long s = 0;
    for (unsigned long i = 1; i <= n; i++)
        s += i * i;
    return s;
}

static unsigned long count_primes(unsigned long n)
{
    unsigned long c = 0;
    for (unsigned long k = 2; k < n; k++) {
        unsigned long d = 2;
        while (d * d <= k && k % d)
            d++;
        c += d * d > k;
    }
    return c;
}

void user_task_main(long id)
{
    say(id, "hello from ring 3, pid ", (unsigned long)sys(SYS_getpid, 0, 0), "");
    if (id == 1)
        say(id, "sum of squares 1..1000 = ", sum_of_squares(1000), "");
    else
        say(id, "primes below 5000: ", count_primes(5000), "");
    volatile unsigned long *demand = (volatile unsigned long *)USER_DEMAND;
    *demand = 0x1000 + (unsigned long)id;
    say(id, "demand page holds ", *demand, " after the fault");
    sys(SYS_yield, 0, 0);
    say(id, "back after yield", 0, NULL);
    say(id, can_read(0x100000) ? "kernel memory at 0x100000: READABLE from ring 3"
                               : "kernel memory at 0x100000: not readable from ring 3", 0, NULL);
    unsigned long spins = 0;
    while (sys(SYS_preempts, 0, 0) < 2)
        spins += sum_of_squares(100) & 1;
    say(id, "preempted by the timer: yes", spins & 0, NULL);
    sys(SYS_exit, 0, 0);
    for (;;)
        ;
}
