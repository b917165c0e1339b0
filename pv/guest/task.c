/* task.c - ring-3 tasks, their address spaces, system calls and the
 * round-robin scheduler.
 *
 * Each task has its own user page table mapping only its own pages at
 * USER_BASE: code (a copy of the user.c pages), one stack page, and a page
 * at USER_DEMAND that is mapped on first touch by the page-fault handler.
 * Natively the kernel's entries are also present in each task's table
 * (supervisor-only, so ring 3 cannot use them); under PV they are not -
 * nesthv switches to the kernel table on every entry to the kernel, which
 * is how Xen x86-64 PV separates a guest's kernel from its user space.
 *
 * The kernel never dereferences user pointers: it walks the task's table
 * (mm_lookup) and copies through its own identity map.
 *
 * Determinism: a task's write() goes to its own output buffer, printed when
 * all tasks are done, so where the timer preempts them cannot change the
 * transcript.  Each task waits until it has been preempted twice, so the
 * transcript's "preempted by the timer: yes" is only printed if the timer
 * really preempted it.
 */
#include "guest.h"

#define NR_TASKS_MAX 4

struct task {
    int id;
    bool done;
    int exit_code;
    unsigned preempts;
    uint64_t l4;
    struct trapframe tf;
    char out[1024];
    size_t outlen;
};

static struct task tasks[NR_TASKS_MAX];
static unsigned nr_tasks;
static struct task *current;
static uint8_t kstack[16384] __attribute__((aligned(16)));

uint64_t kstack_top(void) { return (uint64_t)kstack + sizeof kstack; }

static void task_out(struct task *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fs_vsnprintf(t->out + t->outlen, sizeof t->out - t->outlen, fmt, ap);
    va_end(ap);
    t->outlen += (size_t)n;
    if (t->outlen >= sizeof t->out)
        t->outlen = sizeof t->out - 1;
}

static void task_create(struct task *t, int id)
{
    uint64_t kl3 = pte_pfn(((uint64_t *)pfn_va(mm_kernel_l4()))[0]);
    uint64_t l3 = mm_pt_alloc(3);
    t->id = id;
    t->l4 = mm_pt_alloc(4);
    ops->pt_set(t->l4, 0, (ops->pfn_to_mfn(l3) << 12) | PTE_P | PTE_RW | PTE_US);
    if (!ops->paravirt)                  /* share the kernel's entries natively */
        for (unsigned i = 0; i < 512; i++)
            if (i != (USER_BASE >> 30) && (((uint64_t *)pfn_va(kl3))[i] & PTE_P))
                ops->pt_set(l3, i, ((uint64_t *)pfn_va(kl3))[i]);
    for (char *p = __user_start; p < __user_end; p += PAGE_SIZE) {
        uint64_t pfn = mm_alloc_page();
        memcpy(pfn_va(pfn), p, PAGE_SIZE);
        mm_map(t->l4, USER_BASE + (uint64_t)(p - __user_start), pfn, PTE_P | PTE_US);
    }
    mm_map(t->l4, USER_STACK_TOP - PAGE_SIZE, mm_alloc_page(), PTE_P | PTE_RW | PTE_US);
    memset(&t->tf, 0, sizeof t->tf);
    t->tf.rip = USER_BASE + (uint64_t)((char *)user_task_main - __user_start);
    t->tf.cs = USER_CS;
    t->tf.rflags = 0x202;                /* IF = 1 */
    t->tf.rsp = USER_STACK_TOP;
    t->tf.ss = USER_DS;
    t->tf.rdi = (uint64_t)id;
    kprintf("guest: task %d: own page table, code at %lx, stack below %lx\n",
            id, (uint64_t)USER_BASE, (uint64_t)USER_STACK_TOP);
}

void tasks_create(unsigned n)
{
    for (unsigned i = 0; i < n && i < NR_TASKS_MAX; i++)
        task_create(&tasks[nr_tasks++], (int)i + 1);
}

static void all_done(void) __attribute__((noreturn));
static void all_done(void)
{
    int status = 0;
    kprintf("guest: all tasks finished; their output:\n");
    for (unsigned i = 0; i < nr_tasks; i++) {
        ops->console_write(tasks[i].out, tasks[i].outlen);
        status |= tasks[i].exit_code != 0;
    }
    kprintf("guest: shutdown: %s\n", status ? "failure" : "success");
    ops->shutdown(status);
    for (;;)
        ;
}

/* Save the running task (if 'save'), switch to the next runnable one. */
static void schedule(struct trapframe *tf, bool save)
{
    if (save)
        current->tf = *tf;
    struct task *next = NULL;
    for (unsigned k = 1; k <= nr_tasks && !next; k++) {
        struct task *t = &tasks[(unsigned)(current - tasks + k) % nr_tasks];
        if (!t->done)
            next = t;
    }
    if (!next)
        all_done();
    current = next;
    *tf = next->tf;
    ops->load_user_pt(next->l4);
}

void tasks_start(void)
{
    struct trapframe *tf = (struct trapframe *)(kstack_top() - sizeof *tf);
    current = &tasks[0];
    *tf = current->tf;
    ops->load_user_pt(current->l4);
    trap_return(tf);
}

void task_tick(struct trapframe *tf)
{
    current->preempts++;
    schedule(tf, true);
}

void task_kill(struct trapframe *tf, const char *why)
{
    task_out(current, "[task %d] (kernel) killed: %s at %lx\n", current->id, why, tf->rip);
    current->done = true;
    current->exit_code = 1;
    schedule(tf, false);
}

bool task_page_fault(struct trapframe *tf, uint64_t cr2)
{
    if (tf->rax == PROBE_MAGIC && tf->r11 >= USER_BASE &&
        tf->r11 < USER_BASE + (uint64_t)(__user_end - __user_start)) {
        tf->rip = tf->r11;                /* a probe: continue at its fixup */
        return true;
    }
    if ((cr2 & ~(PAGE_SIZE - 1)) != USER_DEMAND || (mm_lookup(current->l4, cr2) & PTE_P))
        return false;
    mm_map(current->l4, USER_DEMAND, mm_alloc_page(), PTE_P | PTE_RW | PTE_US);
    task_out(current, "[task %d] (kernel) page fault at %lx: mapped a zero page\n",
             current->id, cr2);
    return true;
}

/* Copy a user buffer into the task's output, page by page. */
static int64_t sys_write(uint64_t va, uint64_t len)
{
    if (len > 512)
        return -1;
    for (uint64_t done = 0; done < len;) {
        uint64_t pte = mm_lookup(current->l4, va + done);
        if (!(pte & PTE_P) || !(pte & PTE_US))
            return -1;
        uint64_t off = (va + done) & (PAGE_SIZE - 1), n = PAGE_SIZE - off;
        if (n > len - done)
            n = len - done;
        if (current->outlen + n >= sizeof current->out)
            return -1;
        memcpy(current->out + current->outlen, (char *)pfn_va(pte_pfn(pte)) + off, n);
        current->outlen += n;
        done += n;
    }
    return (int64_t)len;
}

void task_syscall(struct trapframe *tf)
{
    switch (tf->rax) {
    case SYS_write: tf->rax = (uint64_t)sys_write(tf->rdi, tf->rsi); return;
    case SYS_getpid: tf->rax = (uint64_t)current->id; return;
    case SYS_preempts: tf->rax = current->preempts; return;
    case SYS_yield: tf->rax = 0; schedule(tf, true); return;
    case SYS_exit:
        current->done = true;
        current->exit_code = (int)tf->rdi;
        schedule(tf, false);
        return;
    default: tf->rax = (uint64_t)-1; return;
    }
}
