/* apic.c - the local APIC timer: nesthv's heartbeat.
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
#include "hv_cpu.h"
#include "hv_mm.h"

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
