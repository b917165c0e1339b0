/* cpu.c - nesthv's descriptor tables (GDT, TSS, IDT) and local APIC timer.
 *
 * GDT (SDM Vol. 3A 3.4.5 segment descriptors, 8.2.3 the 16-byte 64-bit TSS
 * descriptor):
 *
 *   0x00 null
 *   0x08 nesthv code, 64-bit, DPL 0       0x10 nesthv data, DPL 0
 *   0x18 guest kernel code, 64-bit, DPL 3 0x20 guest data, DPL 3
 *   0x28 guest user code, 64-bit, DPL 3   0x30 TSS (two slots)
 *
 * A PV guest's kernel and its user programs both run in ring 3; the two code
 * selectors only let the guest (and a reader of a trap frame) tell which of
 * its halves was running.  nesthv remembers the mode itself (pv.c).
 *
 * TSS.RSP0 is the stack the CPU switches to when a trap arrives from ring 3
 * (SDM 3A 7.14.4); nesthv points it at the trap stack, whose top frame is the
 * running guest's registers.
 *
 * IDT: interrupt gates (IF cleared on entry, SDM 3A 7.12.1.3) with DPL 0,
 * except the guest's two software-interrupt doors, which need DPL 3 or a
 * ring-3 INT n would raise #GP (SDM 3A 7.12.1.1):
 *   0x80  guest user system call, reflected to the guest kernel
 *   0x82  hypercall (the Xen 32-bit PV ABI's vector; pv/include/nestpv.h)
 */
#include "hv_cpu.h"
#include "hv_mm.h"

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap_base;
} __attribute__((packed));

struct idt_gate {
    uint16_t off_lo, sel;
    uint8_t ist, type_attr;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __attribute__((packed));

struct table_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

static uint64_t gdt[8];
static struct tss64 tss;
static struct idt_gate idt[256];
static uint8_t trap_stack[16384] __attribute__((aligned(16)));

extern const uint64_t hv_trap_stubs[];

static void set_gate(unsigned vec, uint64_t handler, unsigned dpl)
{
    struct idt_gate *g = &idt[vec];
    g->off_lo = handler & 0xffff;
    g->sel = HV_CS;
    g->ist = 0;
    g->type_attr = 0x8e | (dpl << 5);    /* present, 64-bit interrupt gate */
    g->off_mid = (handler >> 16) & 0xffff;
    g->off_hi = handler >> 32;
    g->zero = 0;
}

static void build_gdt(void)
{
    gdt[0] = 0;
    gdt[1] = 0x00209A0000000000ULL;      /* code, L=1, DPL 0 */
    gdt[2] = 0x0000920000000000ULL;      /* data, DPL 0 */
    gdt[3] = 0x0020FA0000000000ULL;      /* code, L=1, DPL 3: guest kernel */
    gdt[4] = 0x0000F20000000000ULL;      /* data, DPL 3 */
    gdt[5] = 0x0020FA0000000000ULL;      /* code, L=1, DPL 3: guest user */
    uint64_t base = (uint64_t)&tss, limit = sizeof tss - 1;
    gdt[6] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40)
           | (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[7] = base >> 32;
}

void hv_cpu_init(void)
{
    build_gdt();
    tss.iomap_base = sizeof tss;         /* no I/O bitmap: ring 3 gets no ports */
    tss.rsp[0] = hv_trap_stack_top();
    struct table_ptr g = { sizeof gdt - 1, (uint64_t)gdt };
    __asm__ volatile("lgdt %0" : : "m"(g));
    __asm__ volatile("pushq %0; leaq 1f(%%rip), %%rax; pushq %%rax; lretq; 1:"
                     : : "i"(HV_CS) : "rax", "memory");
    __asm__ volatile("mov %0, %%ds; mov %0, %%es; mov %0, %%ss" : : "r"(HV_DS));
    __asm__ volatile("ltr %w0" : : "r"(HV_TSS_SEL));

    for (const uint64_t *p = hv_trap_stubs; p[0] != (uint64_t)-1; p += 2) {
        unsigned vec = (unsigned)p[0];
        set_gate(vec, p[1], (vec == 0x80 || vec == 0x82) ? 3 : 0);
    }
    struct table_ptr i = { sizeof idt - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" : : "m"(i));
}

uint64_t hv_trap_stack_top(void)
{
    return (uint64_t)trap_stack + sizeof trap_stack;
}

void hv_set_trap_stack(uint64_t top)
{
    tss.rsp[0] = top;
}

const char *hv_vector_name(unsigned v)
{
    static const char *const names[22] = {
        "#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
        "#OF overflow", "#BR bound", "#UD invalid opcode", "#NM no FPU",
        "#DF double fault", "coprocessor overrun", "#TS invalid TSS",
        "#NP segment not present", "#SS stack fault", "#GP general protection",
        "#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
        "#MC machine check", "#XM SIMD error", "#VE virtualization", "#CP control protection",
    };
    if (v < 22)
        return names[v];
    if (v == HV_VEC_TIMER)
        return "local APIC timer";
    if (v == 0x30)
        return "event upcall (PV_EVENT_VECTOR)";
    if (v == 0x80)
        return "int 0x80 (guest system call)";
    if (v == 0x82)
        return "int 0x82 (hypercall)";
    return "interrupt";
}

/* A trap while nesthv itself runs.  The timer is expected (it wakes the idle
 * loop); anything else is a nesthv bug, so panic with the registers. */
void hv_trap_ring0(struct hv_regs *r)
{
    if (r->vector == HV_VEC_TIMER) {
        hv_timer_tick();
        hv_apic_eoi();
        return;
    }
    if (r->vector == HV_VEC_SPURIOUS)
        return;
    hv_panic_regs(r, "unexpected %s in nesthv (ring 0)", hv_vector_name((unsigned)r->vector));
}

/* The local APIC timer: nesthv's heartbeat.
 *
 * The local APIC's registers are memory-mapped at 0xFEE00000 (SDM Vol. 3A
 * 11.4.1); we reach them through the direct map.  The timer (SDM 3A 11.5.4)
 * counts down from the Initial Count register at the bus clock divided by
 * the Divide Configuration register and, in periodic mode, reloads itself
 * and raises the vector in the LVT Timer register each time it reaches 0.
 *
 * QEMU's APIC timer runs at 1 GHz before division (hw/intc/apic_common.c,
 * APIC_BUS_CYCLE_NS = 1), so with divide-by-16 one count is 16 ns.  On real
 * hardware the bus clock differs and the period would need calibrating
 * against the PIT; nesthv does not do that yet.
 *
 * The legacy 8259 PICs are masked so only the APIC interrupts us.
 */
#define APIC_BASE      0xfee00000ULL
#define APIC_EOI       0x0b0
#define APIC_SVR       0x0f0     /* spurious vector register, bit 8 = enable */
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_ICR 0x380     /* initial count */
#define APIC_TIMER_DCR 0x3e0     /* divide configuration */
#define LVT_PERIODIC   (1u << 17)
#define DCR_DIV16      0x3

volatile uint64_t hv_ticks;

static inline void apic_write(unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)hv_phys_to_virt(APIC_BASE + reg) = v;
}

void hv_apic_eoi(void)
{
    apic_write(APIC_EOI, 0);
}

void hv_apic_init(unsigned period_us)
{
    hv_outb(0x21, 0xff);                  /* mask both 8259 PICs */
    hv_outb(0xa1, 0xff);
    uint64_t base = hv_rdmsr(0x1b);       /* IA32_APIC_BASE: global enable */
    hv_wrmsr(0x1b, base | (1ULL << 11));
    apic_write(APIC_SVR, 0x100 | HV_VEC_SPURIOUS);
    apic_write(APIC_TIMER_DCR, DCR_DIV16);
    apic_write(APIC_LVT_TIMER, LVT_PERIODIC | HV_VEC_TIMER);
    apic_write(APIC_TIMER_ICR, period_us * 1000 / 16);
    hv_printf("nesthv: local APIC timer: vector %x, period %u us\n",
              HV_VEC_TIMER, period_us);
}
