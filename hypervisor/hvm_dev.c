/* hvm_dev.c - the virtual PC an unmodified guest sees under VMX or SVM.
 *
 * The teaching guest (pv/guest, native operations) touches exactly these
 * devices, so these are the ones nesthv models; the common I/O and MMIO
 * handlers in vcpu.c call in here for both backends:
 *
 *   port 0x3F8-0x3FF  COM1, a 16550 whose transmitter is always empty: every
 *                     byte written to THR is printed on nesthv's console
 *   port 0xF4         QEMU's isa-debug-exit: the guest's shutdown, value
 *                     0x10 + status (hypervisor/include/hv.h)
 *   port 0x21, 0xA1   the 8259 pair's mask registers (the guest masks them)
 *   0xFEE00000        the local APIC (SDM Vol. 3A 11.4): spurious vector,
 *                     EOI, and the timer (11.5.4): LVT Timer, Initial Count,
 *                     Divide Configuration.  As on QEMU, the bus clock is
 *                     taken to be 1 GHz; the period is rounded to nesthv's
 *                     own 10 ms tick, which drives it.
 *
 * Any other port reads as all ones and ignores writes, as on a PC bus with
 * nothing behind that address; any other APIC register is a clear error.
 *
 * The VMCALL / VMMCALL hypercalls use the PV ABI's numbers and registers
 * (pv/include/nestpv.h: rax = number, rdi/rsi = arguments, rax = result);
 * an HVM guest needs only console_write, sched_op (yield: a cheap round
 * trip, used by the benchmark) and shutdown.
 */
#include "hvm.h"
#include "nestpv.h"

#define COM1      0x3f8
#define LSR_THRE_TEMT 0x60

static void guest_shutdown(struct hv_vcpu *v, int status)
{
    hv_printf("nesthv: guest requested shutdown, status %d\n", status);
    v->exit_status = status;
    v->state = HV_VCPU_SHUTDOWN;
}

static uint32_t com1_read(struct hvm_com1 *u, unsigned reg)
{
    bool dlab = u->lcr & 0x80;
    switch (reg) {
    case 0: return dlab ? u->dll : 0;            /* RBR: nothing received */
    case 1: return dlab ? u->dlm : u->ier;
    case 2: return 0x01;                         /* IIR: no interrupt pending */
    case 3: return u->lcr;
    case 4: return u->mcr;
    case 5: return LSR_THRE_TEMT;                /* LSR: ready to send */
    case 6: return 0xb0;                         /* MSR: DCD, DSR, CTS */
    default: return u->scr;
    }
}

static void com1_write(struct hvm_com1 *u, unsigned reg, uint8_t b)
{
    bool dlab = u->lcr & 0x80;
    switch (reg) {
    case 0:
        if (dlab)
            u->dll = b;
        else if (b != '\r')                      /* hv_putc makes "\n" "\r\n" */
            hv_putc((char)b);
        break;
    case 1: if (dlab) u->dlm = b; else u->ier = b; break;
    case 3: u->lcr = b; break;
    case 4: u->mcr = b; break;
    case 7: u->scr = b; break;
    default: break;                              /* FCR: no FIFO to reset */
    }
}

/* One port access; false if nothing is at that port. */
bool hvm_io(struct hv_vcpu *v, unsigned port, unsigned size, bool is_write, uint32_t *val)
{
    struct hvm_guest *g = v->hvm;
    if (port >= COM1 && port < COM1 + 8 && size == 1) {
        if (is_write)
            com1_write(&g->com1, port - COM1, (uint8_t)*val);
        else
            *val = com1_read(&g->com1, port - COM1);
        return true;
    }
    if (port == HV_DEBUG_EXIT_PORT && is_write) {
        guest_shutdown(v, (int)(*val - 0x10));
        return true;
    }
    if ((port == 0x21 || port == 0xa1) && size == 1) {
        if (is_write)
            g->pic_mask[port >> 7] = (uint8_t)*val;
        else
            *val = g->pic_mask[port >> 7];
        return true;
    }
    return false;
}

#define APIC_ID      0x020
#define APIC_VERSION 0x030
#define APIC_TPR     0x080
#define APIC_EOI     0x0b0
#define APIC_SVR     0x0f0
#define APIC_LVT_TMR 0x320
#define APIC_TMR_ICR 0x380
#define APIC_TMR_CCR 0x390
#define APIC_TMR_DCR 0x3e0
#define LVT_MASKED   (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define HV_TICK_NS   10000000ULL

/* Divide Configuration (SDM 3A figure 11-10): bits 3,1:0; 111b = by 1. */
static uint64_t lapic_divisor(uint32_t dcr)
{
    unsigned x = (dcr & 3) | (dcr & 8) >> 1;
    return x == 7 ? 1 : 2ULL << x;
}

static void lapic_start_timer(struct hvm_lapic *a)
{
    uint64_t ns = (uint64_t)a->icr * lapic_divisor(a->dcr);
    a->period_ticks = (ns + HV_TICK_NS / 2) / HV_TICK_NS;
    if (a->period_ticks == 0 && a->icr)
        a->period_ticks = 1;
    a->countdown = a->period_ticks;
}

bool hvm_lapic_access(struct hv_vcpu *v, uint64_t off, bool is_write, uint32_t *val)
{
    struct hvm_lapic *a = &v->hvm->lapic;
    uint32_t *reg = NULL;
    switch (off) {
    case APIC_ID: case APIC_VERSION: case APIC_TMR_CCR:
        if (is_write)
            return off != APIC_TMR_CCR;              /* CCR is read-only */
        *val = off == APIC_VERSION ? 0x50014 : 0;   /* version 0x14, 6 LVTs */
        return true;
    case APIC_TPR: case APIC_EOI:
        if (!is_write)
            *val = 0;
        return true;                                /* one interrupt source: no priorities */
    case APIC_SVR: reg = &a->svr; break;
    case APIC_LVT_TMR: reg = &a->lvt_timer; break;
    case APIC_TMR_ICR: reg = &a->icr; break;
    case APIC_TMR_DCR: reg = &a->dcr; break;
    default:
        return false;
    }
    if (!is_write) {
        *val = *reg;
        return true;
    }
    *reg = *val;
    if (off == APIC_TMR_ICR || off == APIC_TMR_DCR)
        lapic_start_timer(a);
    return true;
}

/* nesthv's 10 ms tick: count down the guest's APIC timer. */
void hvm_timer_tick(struct hv_vcpu *v)
{
    struct hvm_lapic *a = &v->hvm->lapic;
    if (!(a->svr & 0x100) || (a->lvt_timer & LVT_MASKED) || !a->period_ticks)
        return;
    if (--a->countdown)
        return;
    a->irr = true;
    if (a->lvt_timer & LVT_PERIODIC)
        a->countdown = a->period_ticks;
    else
        a->period_ticks = 0;
}

/* After every exit: inject the pending timer interrupt if the guest can
 * take one now, else ask the hardware to exit when it can (VMX interrupt-
 * window exiting, SVM V_IRQ + VINTR intercept). */
void hvm_deliver_events(struct hv_vcpu *v)
{
    struct hvm_lapic *a = &v->hvm->lapic;
    if (!a->irr)
        return;
    if (v->backend->irq_window_open(v)) {
        v->backend->inject_irq(v, a->lvt_timer & 0xff);
        a->irr = false;
        v->backend->request_irq_window(v, false);
    } else {
        v->backend->request_irq_window(v, true);
    }
}

void hvm_hypercall(struct hv_vcpu *v)
{
    struct hv_regs *r = v->regs;
    char buf[128];
    int64_t ret = -PV_ENOSYS;
    switch (r->rax) {
    case PV_HC_console_write: {
        uint64_t n = r->rsi < sizeof buf ? r->rsi : sizeof buf;
        ret = hvm_read_gva(v, r->rdi, buf, n) ? -PV_EFAULT : (int64_t)n;
        if (ret > 0)
            hv_write(buf, n);
        break;
    }
    case PV_HC_sched_op:
        ret = 0;
        break;
    case PV_HC_shutdown:
        guest_shutdown(v, (int)r->rdi);
        break;
    }
    r->rax = (uint64_t)ret;
    r->rip += 3;                                  /* VMCALL and VMMCALL: 3 bytes */
}
