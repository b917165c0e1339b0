/* panic.c - how nesthv stops: on purpose (hv_exit) or because something is
 * wrong (hv_panic, hv_panic_regs).
 *
 * Stopping means writing a status to QEMU's isa-debug-exit port 0xF4 (the
 * mapping is in hv.h), which ends the virtual machine.  On hardware without
 * that device the write does nothing, so we then halt forever with
 * interrupts off.  A panic prints the register frame first: the frame layout
 * is the one entry.S builds (hv_cpu.h), so a reader can match it to the
 * instruction that went wrong.
 */
#include "hv_cpu.h"

void hv_exit(unsigned v)
{
    hv_outl(HV_DEBUG_EXIT_PORT, v);
    for (;;)
        __asm__ volatile("cli; hlt");
}

void hv_dump_regs(const struct hv_regs *r)
{
    hv_printf("nesthv:  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n",
              r->rax, r->rbx, r->rcx, r->rdx);
    hv_printf("nesthv:  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n",
              r->rsi, r->rdi, r->rbp, r->rsp);
    hv_printf("nesthv:  r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n",
              r->r8, r->r9, r->r10, r->r11);
    hv_printf("nesthv:  r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n",
              r->r12, r->r13, r->r14, r->r15);
    hv_printf("nesthv:  rip %016lx cs %04lx rflags %08lx ss %04lx\n",
              r->rip, r->cs, r->rflags, r->ss);
    hv_printf("nesthv:  vector %lu (%s) error %lx cr2 %016lx cr3 %016lx\n",
              r->vector, hv_vector_name((unsigned)r->vector), r->error,
              hv_read_cr2(), hv_read_cr3());
}

void hv_panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hv_printf("nesthv: PANIC: ");
    hv_vprintf(fmt, ap);
    hv_printf("\n");
    va_end(ap);
    hv_exit(HV_EXIT_PANIC);
}

void hv_panic_regs(const struct hv_regs *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hv_printf("nesthv: PANIC: ");
    hv_vprintf(fmt, ap);
    hv_printf("\n");
    va_end(ap);
    hv_dump_regs(r);
    hv_exit(HV_EXIT_PANIC);
}
