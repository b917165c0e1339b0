/* main.c - the teaching guest kernel's start.
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
    tasks_create(2);
    ops->timer_start(10);
    kprintf("guest: timer started, running tasks\n");
    tasks_start();
}
