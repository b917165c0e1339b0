/* guest.h - the teaching guest kernel's shared declarations.
 *
 * The kernel is small on purpose: paging, traps, a timer, a few ring-3
 * tasks with system calls, a console.  What makes it a *paravirtualized*
 * kernel is struct guest_ops: every privileged operation goes through this
 * one table, which has a native implementation (ops_native.c: real
 * instructions, ring 0) and a PV one (ops_pv.c: hypercalls to nesthv, ring 3).
 * kmain picks one at boot, like Linux's paravirt_ops (arch/x86/include/asm/
 * paravirt_types.h).  Nothing outside those two files knows which is in use,
 * except for the iret path in entry.S and three constants (ops->kernel_cs,
 * ->paravirt, ->name).
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdbool.h>
#include "fs_lib.h"      /* memset & co., the formatter (freestanding/) */

#define PAGE_SIZE 4096ULL
#define PTE_P  1ULL
#define PTE_RW 2ULL
#define PTE_US 4ULL
#define PTE_PCD 0x10ULL
#define PTE_ADDR 0x000ffffffffff000ULL

#define USER_CS 0x2b            /* same selector natively and under nesthv */
#define USER_DS 0x23
#define VEC_TIMER 0x30          /* native LAPIC timer = PV event upcall slot */
#define VEC_SYSCALL 0x80

#define USER_BASE       0x40000000ULL   /* every task's code starts here */
#define USER_DEMAND     0x40100000ULL   /* mapped on first touch (#PF) */
#define USER_STACK_TOP  0x40200000ULL

struct trapframe {              /* entry.S builds this, lowest address first */
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

struct trap_gate { uint64_t vector, dpl, handler; };
extern const struct trap_gate guest_trap_stubs[];

struct guest_ops {
    const char *name;
    bool paravirt;
    uint64_t kernel_cs;
    void *iret_path;
    void (*init)(uint64_t boot_info);
    void (*console_write)(const char *s, size_t n);
    void (*set_trap_table)(const struct trap_gate *gates);
    void (*set_kernel_stack)(uint64_t top);
    uint64_t (*pfn_to_mfn)(uint64_t pfn);
    uint64_t (*mfn_to_pfn)(uint64_t mfn);
    void (*pt_prepare)(uint64_t pfn, int level);   /* a fresh page becomes a table */
    void (*pt_set)(uint64_t table_pfn, unsigned idx, uint64_t pte);
    void (*load_kernel_pt)(uint64_t l4_pfn);
    void (*load_user_pt)(uint64_t l4_pfn);
    void (*timer_start)(unsigned ms);
    bool (*timer_ack)(void);                       /* true: a timer tick */
    uint64_t (*read_cr2)(void);
    void (*shutdown)(int status);          /* does not return */
};

extern const struct guest_ops *ops;
extern const struct guest_ops native_ops, pv_ops;
extern void *guest_iret_path;
extern char guest_iret_native[], guest_iret_pv[];
extern char __user_start[], __user_end[], __bss_end[];

/* console.c (memset & co. and the formatter: fs_lib.h, freestanding/) */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* mm.c */
struct mm_info { uint64_t nr_pages, first_free_pfn, kernel_l4; };
void mm_init(const struct mm_info *mi);
uint64_t mm_alloc_page(void);
uint64_t mm_pt_alloc(int level);
void mm_map(uint64_t l4, uint64_t va, uint64_t pfn, uint64_t flags);
uint64_t mm_lookup(uint64_t l4, uint64_t va);
uint64_t mm_kernel_l4(void);
static inline void *pfn_va(uint64_t pfn) { return (void *)(pfn << 12); }
static inline uint64_t pte_pfn(uint64_t pte) { return ops->mfn_to_pfn((pte & PTE_ADDR) >> 12); }

/* bench.c: the benchmark mode ("bench=N" on the command line) */
extern const char *guest_cmdline;
void bench_maybe_run(void);
void ptcheck_maybe_run(void);      /* ptcheck.c: "ptcheck" on the command line */

/* main.c */
void trap(struct trapframe *tf);
void trap_return(struct trapframe *tf) __attribute__((noreturn));

/* task.c */
void tasks_create(unsigned n);
void tasks_start(void) __attribute__((noreturn));
void task_tick(struct trapframe *tf);
void task_syscall(struct trapframe *tf);
bool task_page_fault(struct trapframe *tf, uint64_t cr2);
void task_kill(struct trapframe *tf, const char *why);
uint64_t kstack_top(void);

/* user.c: the programs, run in ring 3 from a copy at USER_BASE */
void user_task_main(long id) __attribute__((noreturn));

enum { SYS_write = 1, SYS_getpid, SYS_yield, SYS_preempts, SYS_exit };

/* A task may probe whether an address is readable: it loads from it with
 * rax = PROBE_MAGIC and r11 = where to continue if the load faults; the
 * page-fault handler then resumes there instead of killing the task. */
#define PROBE_MAGIC 0x45424f5250ULL      /* "PROBE" */

#endif
