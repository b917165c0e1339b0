/* hv_cpu.h - descriptor tables, the saved-register frame, and interrupts.
 *
 * struct hv_regs is the frame entry.S builds on every trap, interrupt and
 * hypercall: the hardware pushes SS, RSP, RFLAGS, CS, RIP and (for some
 * vectors) an error code (Intel SDM Vol. 3A 7.14.2 "64-Bit Mode Stack Frame");
 * the stub pushes a dummy error code where the CPU does not, then the vector,
 * then the fifteen general registers.  Lowest address first:
 *
 *   r15 r14 r13 r12 r11 r10 r9 r8 rbp rdi rsi rdx rcx rbx rax
 *   vector error | rip cs rflags rsp ss          <- pushed by the CPU
 *
 * A guest's frame sits at the top of the trap stack (TSS.RSP0) while the
 * guest runs, so it IS the guest's register file (see pv_enter_guest).
 */
#ifndef HV_CPU_H
#define HV_CPU_H

#include "hv.h"

struct hv_regs {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* GDT selectors (hv_idt.c).  The guest's two code selectors are both DPL 3:
 * a PV guest kernel runs in ring 3 too (Xen x86-64 PV, SDM 3A 5.5). */
#define HV_CS          0x08
#define HV_DS          0x10
#define HV_GUEST_KCS   0x1b   /* guest kernel code, ring 3 */
#define HV_GUEST_DS    0x23   /* guest data/stack, ring 3  */
#define HV_GUEST_UCS   0x2b   /* guest user code, ring 3   */
#define HV_TSS_SEL     0x30

/* Vectors nesthv itself uses. */
#define HV_VEC_TIMER    0x40   /* local APIC timer */
#define HV_VEC_SPURIOUS 0xff
#define HV_RFLAGS_IF    (1u << 9)

void hv_cpu_init(void);                 /* GDT, TSS, IDT */
void hv_set_trap_stack(uint64_t top);   /* TSS.RSP0 */
uint64_t hv_trap_stack_top(void);
void hv_trap_ring0(struct hv_regs *r);  /* called by entry.S */
const char *hv_vector_name(unsigned v);

/* entry.S: run a guest until its next trap; returns the guest's frame. */
struct hv_regs *hv_enter_guest(struct hv_regs *guest);

/* cpu.c: the local APIC timer */
void hv_apic_init(unsigned period_us);
void hv_apic_eoi(void);
extern volatile uint64_t hv_ticks;

/* What belongs to the physical CPU nesthv runs on, not to a guest: the vCPU
 * it is running now (NULL while none is), which the timer interrupt needs.
 * Everything per guest or per nesting level hangs off struct hv_vcpu. */
struct hv_vcpu;
struct hv_pcpu { struct hv_vcpu *running; };
extern struct hv_pcpu hv_pcpu;
void hv_timer_tick(void);              /* vcpu.c: one tick of virtual time */

static inline void hv_sti_hlt_cli(void)
{ __asm__ volatile("sti; hlt; cli" ::: "memory"); }

#endif
