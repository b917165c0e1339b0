/* nestpv.h - the paravirtual interface between nesthv and its PV guests.
 *
 * This is the whole contract: a PV guest kernel includes this file and
 * nothing else of nesthv.  It is modelled on Xen's public headers
 * (xen/include/public/xen.h, arch-x86/xen-x86_64.h, event_channel.h,
 * sched.h) but smaller; where it differs from Xen the comment says so.
 *
 * Privilege.  The guest kernel runs in ring 3, like its user programs
 * (Xen x86-64 PV).  It cannot touch CR3, the IDT, I/O ports or its own page
 * tables; it asks nesthv with a hypercall instead.
 *
 * Hypercall calling convention:
 *
 *     rax = hypercall number            INT 0x82     rax = result
 *     rdi, rsi, rdx = arguments (the first three of Xen x86-64's argument
 *     registers rdi, rsi, rdx, r10, r8; no nesthv hypercall needs more)
 *
 * All other registers are preserved.  Results < 0 are -errno values
 * (PV_E*).  Xen x86-64 enters through SYSCALL from a "hypercall page";
 * nesthv uses INT 0x82, the vector of Xen's 32-bit PV ABI, because an
 * interrupt gate is the simplest door into ring 0: it switches stacks
 * through the TSS and needs no SWAPGS.  INT 0x82 from guest *user* mode is
 * refused (#GP is reflected to the guest kernel).
 *
 * Pointers passed to hypercalls are guest virtual addresses in the guest
 * kernel's address space.  nesthv walks the guest's page tables for each one
 * and refuses (-PV_EFAULT) anything unmapped, not user-accessible, or in
 * the upper half (nesthv's).
 */
#ifndef NESTPV_H
#define NESTPV_H

#include <stdint.h>

#define PV_HYPERCALL_VECTOR 0x82
#define PV_SYSCALL_VECTOR   0x80   /* guest user -> guest kernel (reflected) */
#define PV_EVENT_VECTOR     0x30   /* trap-table slot of the event upcall */

/* CPUID.  A plain CPUID instruction in a PV guest runs on the hardware and
 * sees the host's answer (it does not fault in ring 3).  To get nesthv's
 * answer - VMX and SVM hidden, the hypervisor bit CPUID.1:ECX[31] set, leaf
 * 0x40000000 = max leaf and "NesthvNesthv" in ebx, ecx, edx - prefix it with
 * Xen's forced-emulation signature: */
#define PV_FORCED_CPUID ".byte 0x0f, 0x0b, 0x78, 0x65, 0x6e; cpuid"  /* ud2; "xen"; cpuid */

/* Hypercall numbers.                     arguments                       */
#define PV_HC_console_write    0  /* (const char *buf, len) -> bytes written  */
#define PV_HC_set_trap_table   1  /* (const struct pv_trap_info *table)       */
#define PV_HC_mmu_update       2  /* (const struct pv_mmu_update *req, count) -> done */
#define PV_HC_mmuext_op        3  /* (op, mfn): pin / unpin a page table       */
#define PV_HC_new_baseptr      4  /* (which, mfn): kernel or user top-level L4 */
#define PV_HC_stack_switch     5  /* (ss, rsp): kernel stack for user->kernel  */
#define PV_HC_iret             6  /* () frame on the stack, see below         */
#define PV_HC_set_timer        7  /* (period_ms): periodic virtual timer, 0 off */
#define PV_HC_sched_op         8  /* (cmd): PV_SCHED_yield / PV_SCHED_block    */
#define PV_HC_event_channel_op 9  /* (cmd, port): PV_EVTCHN_send               */
#define PV_HC_shutdown        10  /* (status): never returns                  */
#define PV_NR_HYPERCALLS      11

/* Errors (negated in rax), Linux/Xen errno values. */
#define PV_EPERM    1
#define PV_ENOMEM  12
#define PV_EFAULT  14
#define PV_EBUSY   16
#define PV_EINVAL  22
#define PV_ENOSYS  38

/* Segment selectors the guest sees (nesthv's GDT).  Kernel and user code
 * are both ring 3; the selector says which half was interrupted. */
#define PV_KERNEL_CS 0x1b
#define PV_DS        0x23
#define PV_USER_CS   0x2b

/* set_trap_table: an array ended by an entry with address 0 (as in Xen).
 * For every exception vector, for PV_SYSCALL_VECTOR and PV_EVENT_VECTOR the
 * guest names the handler nesthv "bounces" to. */
struct pv_trap_info {
    uint8_t vector;
    uint8_t flags;              /* bits 0-1: DPL (3 = INT n allowed from user) */
    uint16_t cs;                /* must be PV_KERNEL_CS */
    uint32_t pad;
    uint64_t address;           /* guest kernel virtual address */
};
#define PV_TI_DPL_MASK   0x3
#define PV_TI_MASK_EVENTS 0x4   /* like an interrupt gate: mask events on entry */

/* The bounce frame.  When nesthv reflects a trap, it switches the guest to
 * kernel mode (kernel page table, kernel stack from stack_switch if the
 * guest was in user mode) and pushes exactly what the CPU would push:
 *
 *     [error code]  rip  cs  rflags  rsp  ss        (lowest address first)
 *
 * cs is PV_KERNEL_CS or PV_USER_CS; rflags.IF is the *virtual* interrupt
 * flag (1 when events were unmasked).  For #PF the faulting address is in
 * shared_info->vcpu.cr2.  (Xen also pushes rcx and r11; we do not.)
 *
 * iret: the guest pushes rax on top of such a frame (without error code)
 * and issues PV_HC_iret:
 *
 *     rsp -> rax  rip  cs  rflags  rsp  ss
 *
 * nesthv restores all six, returns to kernel or user mode according to cs,
 * and sets the virtual IF from rflags.IF.                                   */

/* mmu_update: write one page-table entry.  ptr = machine address of the
 * entry (the page must be a validated page table of this guest), val = the
 * new entry, which must pass the same checks as a whole table does. */
struct pv_mmu_update {
    uint64_t ptr;
    uint64_t val;
};

/* mmuext_op operations.  Pinning validates a page as a page table of the
 * given level and keeps it typed as one (Xen MMUEXT_PIN_L*_TABLE). */
#define PV_MMUEXT_PIN_L1  1
#define PV_MMUEXT_PIN_L2  2
#define PV_MMUEXT_PIN_L3  3
#define PV_MMUEXT_PIN_L4  4
#define PV_MMUEXT_UNPIN   5

/* new_baseptr: which top-level table (Xen MMUEXT_NEW_BASEPTR and
 * MMUEXT_NEW_USER_BASEPTR).  The kernel one is used in guest kernel mode,
 * the user one in user mode; nesthv switches on every user<->kernel
 * transition, so user code never sees the kernel's mappings. */
#define PV_BASEPTR_KERNEL 0
#define PV_BASEPTR_USER   1

#define PV_SCHED_yield 0
#define PV_SCHED_block 1          /* unmask events, wait for one */

#define PV_EVTCHN_send 0

/* Event channels: ports 0..63, one bit each in shared_info.  Port 1 is bound
 * to the virtual timer at boot (Xen binds VIRQ_TIMER with EVTCHNOP_bind_virq;
 * nesthv's binding is fixed).  A pending unmasked port sets
 * vcpu.upcall_pending, and if vcpu.upcall_mask is 0 nesthv bounces to the
 * trap-table entry of PV_EVENT_VECTOR (with events masked); the handler
 * clears upcall_pending and the pending bits it has seen.
 * event_channel_op(PV_EVTCHN_send, port) marks a port 1..63 pending: with a
 * single domain there is no other end, so a send is a loopback - enough for
 * a guest to interrupt itself, as an IPI would (Xen: EVTCHNOP_send on an
 * interdomain or IPI channel). */
#define PV_NR_PORTS   64
#define PV_PORT_TIMER 1

struct pv_vcpu_info {
    uint8_t upcall_pending;
    uint8_t upcall_mask;          /* the virtual "IF = 0" */
    uint8_t pad[6];
    uint64_t cr2;                 /* address of the last bounced #PF */
};

struct pv_shared_info {
    struct pv_vcpu_info vcpu;
    uint64_t evtchn_pending;      /* bit n: port n pending */
    uint64_t evtchn_mask;         /* bit n: port n masked  */
    uint64_t ticks;               /* virtual timer ticks so far */
};

/* The start-info page (Xen's start_info_t).  The guest starts in 64-bit
 * mode at its ELF entry point with rsi = this page's virtual address, a
 * stack, events masked, and page tables built by nesthv that map all its
 * memory at virtual = pseudo-physical, except page 0 and with the page
 * tables themselves read-only.  Pseudo-physical frame p lives in machine
 * frame first_mfn + p (Xen gives a list, mfn_list; nesthv's memory is one
 * contiguous run). */
#define PV_START_MAGIC "nesthv-pv-1"
struct pv_start_info {
    char magic[16];
    uint64_t nr_pages;            /* pseudo-physical frames 0 .. nr_pages-1 */
    uint64_t first_mfn;
    uint64_t shared_info;         /* virtual address */
    uint64_t pt_base;             /* virtual address of the kernel L4 */
    uint64_t nr_pt_frames;        /* the boot page tables: pt_base onwards */
    uint64_t first_free_pfn;      /* pages from here on are unused */
    char cmdline[256];
};

#endif
