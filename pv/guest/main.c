/* main.c - the teaching guest kernel's two ways in: kmain at boot, trap()
 * on every trap, interrupt and system call.
 *
 *   boot.S -> kmain(pv, info)
 *     choose the operations table (native or PV)   <- the only mode decision
 *     ops->init: console, descriptor tables or start info, memory
 *     install the trap table, the kernel stack for traps from user mode
 *     create two tasks, start the timer, run the first task
 *
 * Everything after the choice is the same code in both modes; the
 * transcript differs only in the "mode" word on the first line.
 */
#include "guest.h"

const struct guest_ops *ops;
void *guest_iret_path;

void kmain(int pv, uint64_t info);

void kmain(int pv, uint64_t info)
{
    ops = pv ? &pv_ops : &native_ops;
    guest_iret_path = ops->iret_path;
    ops->init(info);
    kprintf("guest: teaching kernel, %s mode\n", ops->name);
    kprintf("guest: kernel page table ready, user pages at %lx\n", (uint64_t)USER_BASE);
    ops->set_trap_table(guest_trap_stubs);
    ops->set_kernel_stack(kstack_top());
    kprintf("guest: trap table installed\n");
    bench_maybe_run();                      /* only with "bench=N" (bench.c) */
    ptcheck_maybe_run();                    /* only with "ptcheck" (ptcheck.c) */
    tasks_create(2);
    ops->timer_start(10);
    kprintf("guest: timer started, running tasks\n");
    tasks_start();
}

/* trap(): where every trap, interrupt and system call lands (entry.S calls
 * it with the saved frame).
 *
 * The frame looks the same whether the CPU built it (native, SDM Vol. 3A
 * 7.14.2) or nesthv did (PV bounce frame, nestpv.h).  The one difference a
 * handler could notice is the kernel's code selector; "did this come from
 * user mode?" is asked as cs == USER_CS, which is right in both modes.
 *
 *   VEC_TIMER  native: local APIC timer; PV: event-channel upcall
 *              -> preempt the running task
 *   0x80       a task's system call (task.c)
 *   14 (#PF)   a task touching its demand page -> map it; else kill the task
 *   others     from a task: kill it; from the kernel: panic
 */
static const char *const names[20] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09",
    "#TS", "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM",
};

static const char *vec_name(uint64_t v) { return v < 20 ? names[v] : "interrupt"; }

void trap(struct trapframe *tf)
{
    bool from_user = tf->cs == USER_CS;
    switch (tf->vector) {
    case VEC_TIMER:
        if (ops->timer_ack() && from_user)
            task_tick(tf);
        return;
    case VEC_SYSCALL:
        task_syscall(tf);
        return;
    case 14: {
        uint64_t cr2 = ops->read_cr2();
        if (from_user && task_page_fault(tf, cr2))
            return;
        if (!from_user)
            panic("kernel #PF at rip %lx, address %lx, error %lx", tf->rip, cr2, tf->error);
        task_kill(tf, "page fault");
        return;
    }
    default:
        if (!from_user)
            panic("kernel %s at rip %lx, error %lx", vec_name(tf->vector), tf->rip, tf->error);
        task_kill(tf, vec_name(tf->vector));
        return;
    }
}
