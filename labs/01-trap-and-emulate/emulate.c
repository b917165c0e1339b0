/* emulate.c - lab 1, the part you write: recognise system instructions and
 * emulate them against the guest's virtual CPU (struct vcpu, monitor.h).
 *
 *   classify(p)               at boot, for every site the guest kernel
 *                             lists: privileged (it will trap by itself),
 *                             sensitive but unprivileged (the monitor must
 *                             patch it), or unknown - and its length
 *   emulate_privileged(f, p)  on #GP from the guest: p points at the
 *                             faulting instruction in guest memory
 *   emulate_sensitive(f, p)   on #BP from a patched site: p points at a
 *                             copy of the original bytes
 *
 * Both emulate functions work on the trap frame f: the guest's registers
 * (frame_reg), its EFLAGS as the CPU will restore them, its stack pointer.
 * They return true after advancing f->eip past the instruction, false if
 * they cannot emulate it (the monitor then stops the guest and says where).
 *
 * Encodings: Intel SDM Vol. 2 (instruction pages; Appendix A, opcode map,
 * tables for the 0F 01 group).  The guest uses only the forms
 * listed in labs/01-trap-and-emulate/README.md.
 */
#include "monitor.h"

/* ---- given: operand helpers ------------------------------------------ */

/* The guest register numbered n in ModRM order (eax ecx edx ebx esp ebp esi
 * edi).  esp is the guest's, from the ring-3 part of the frame. */
uint32_t *frame_reg(struct frame *f, unsigned n)
{
    switch (n & 7) {
    case 0: return &f->eax;
    case 1: return &f->ecx;
    case 2: return &f->edx;
    case 3: return &f->ebx;
    case 4: return &f->esp;
    case 5: return &f->ebp;
    case 6: return &f->esi;
    default: return &f->edi;
    }
}

/* Bytes taken by a 32-bit ModRM byte and what follows it (SIB, disp). */
unsigned modrm_len(const uint8_t *modrm)
{
    unsigned mod = *modrm >> 6, rm = *modrm & 7;
    if (mod == 3)
        return 1;
    unsigned n = 1 + (rm == 4);
    if (mod == 1)
        n += 1;
    else if (mod == 2 || (mod == 0 && rm == 5))
        n += 4;
    return n;
}

/* The effective address of a memory operand without SIB (the guest's forms
 * use one base register, with or without displacement).  Segment bases are
 * 0: the guest's segments are flat. */
bool modrm_ea(const struct frame *f, const uint8_t *modrm, uint32_t *ea)
{
    unsigned mod = *modrm >> 6, rm = *modrm & 7;
    if (mod == 3 || rm == 4)
        return false;
    if (mod == 0 && rm == 5) {
        *ea = *(const uint32_t *)(modrm + 1);
        return true;
    }
    *ea = *frame_reg((struct frame *)f, rm);
    if (mod == 1)
        *ea += (uint32_t)(int8_t)modrm[1];
    else if (mod == 2)
        *ea += *(const uint32_t *)(modrm + 1);
    return true;
}

/* ---- task 2: detection ----------------------------------------------- */

struct insn_class classify(const uint8_t *p)
{
    /* LAB 1: BEGIN task 2: classify a system instruction (privileged, sensitive, length)
    (void)p;
    return (struct insn_class){ INSN_UNKNOWN, "?", 1 };
    */
    static const char *const grp7[8] = { "sgdt", "sidt", "lgdt", "lidt", "smsw", "?", "lmsw",
                                         "invlpg" };
    switch (p[0]) {
    case 0xfa: return (struct insn_class){ INSN_PRIVILEGED, "cli", 1 };
    case 0xfb: return (struct insn_class){ INSN_PRIVILEGED, "sti", 1 };
    case 0xf4: return (struct insn_class){ INSN_PRIVILEGED, "hlt", 1 };
    case 0xee: return (struct insn_class){ INSN_PRIVILEGED, "out", 1 };
    case 0x9c: return (struct insn_class){ INSN_SENSITIVE, "pushf", 1 };
    case 0x9d: return (struct insn_class){ INSN_SENSITIVE, "popf", 1 };
    case 0x8c: {                       /* MOV r/m, Sreg: shows the selector's RPL */
        static const char *const sreg[8] = { "mov from es", "mov from cs", "mov from ss",
            "mov from ds", "mov from fs", "mov from gs", "?", "?" };
        return (struct insn_class){ INSN_SENSITIVE, sreg[p[1] >> 3 & 7], 1 + modrm_len(p + 1) };
    }
    case 0x0f:
        switch (p[1]) {
        case 0x01: {                   /* group 7: SGDT SIDT SMSW read, the rest write */
            unsigned reg = p[2] >> 3 & 7;
            enum insn_kind k = reg == 0 || reg == 1 || reg == 4 ? INSN_SENSITIVE
                             : reg == 5 ? INSN_UNKNOWN : INSN_PRIVILEGED;
            return (struct insn_class){ k, grp7[reg], 2 + modrm_len(p + 2) };
        }
        case 0x02: return (struct insn_class){ INSN_SENSITIVE, "lar", 2 + modrm_len(p + 2) };
        case 0x03: return (struct insn_class){ INSN_SENSITIVE, "lsl", 2 + modrm_len(p + 2) };
        case 0x20: return (struct insn_class){ INSN_PRIVILEGED, "mov from cr", 3 };
        case 0x22: return (struct insn_class){ INSN_PRIVILEGED, "mov to cr", 3 };
        }
        break;
    }
    return (struct insn_class){ INSN_UNKNOWN, "?", 1 };
    /* LAB 1: END */
}

/* ---- task 1: privileged instructions (#GP) ---------------------------- */

static bool load_dtr(struct frame *f, const uint8_t *modrm, struct dtr *d)
{
    uint32_t ea;
    if (!modrm_ea(f, modrm, &ea))
        return false;
    d->limit = *(const uint16_t *)ea;
    d->base = *(const uint32_t *)(ea + 2);
    return true;
}

bool emulate_privileged(struct frame *f, const uint8_t *p)
{
    if (p[0] == 0xee) {                /* given: OUT DX, AL - the guest's console */
        monitor_guest_out(f, (uint16_t)f->edx, (uint8_t)f->eax);
        f->eip += 1;
        return true;
    }
    /* LAB 1: BEGIN task 1: emulate cli, sti, hlt, lgdt, lidt, mov to/from cr0
    (void)load_dtr;
    return false;
    */
    switch (p[0]) {
    case 0xfa: vcpu.vif = false; f->eip += 1; return true;
    case 0xfb: vcpu.vif = true; f->eip += 1; return true;
    case 0xf4:                         /* no virtual devices: nothing to wait for */
        vcpu.halts++;
        f->eip += 1;
        return true;
    case 0x0f:
        if (p[1] == 0x01 && ((p[2] >> 3 & 7) == 2 || (p[2] >> 3 & 7) == 3)) {
            if (!load_dtr(f, p + 2, (p[2] >> 3 & 7) == 2 ? &vcpu.gdtr : &vcpu.idtr))
                return false;
            f->eip += 2 + modrm_len(p + 2);
            return true;
        }
        if ((p[1] == 0x20 || p[1] == 0x22) && (p[2] >> 3 & 7) == 0) {   /* CR0 only */
            uint32_t *r = frame_reg(f, p[2]);
            if (p[1] == 0x20)
                *r = vcpu.cr0;
            else
                vcpu.cr0 = *r | CR0_ET;    /* ET is hardwired to 1 (SDM Vol. 3A 2.5) */
            f->eip += 3;
            return true;
        }
        break;
    }
    return false;
    /* LAB 1: END */
}

/* ---- task 3: sensitive, unprivileged instructions (#BP at a patch) ---- */

/* LAR and LSL against the guest's own GDT: the descriptor of sel, or false
 * (ZF = 0) for a null or LDT selector or one beyond the GDT's limit. */
static bool guest_descriptor(uint32_t sel, uint64_t *desc)
{
    if ((sel & 4) || (sel & ~7u) == 0 || (sel | 7) > vcpu.gdtr.limit)
        return false;
    *desc = *(const uint64_t *)(vcpu.gdtr.base + (sel & ~7u));
    return true;
}

bool emulate_sensitive(struct frame *f, const uint8_t *p)
{
    /* LAB 1: BEGIN task 3: emulate pushf, popf, sgdt, sidt, smsw, mov from cs/ss, lar, lsl
    (void)guest_descriptor;
    (void)f, (void)p;
    return false;
    */
    uint32_t ea;
    switch (p[0]) {
    case 0x9c:                         /* PUSHF: the virtual IF, IOPL 0 */
        f->esp -= 4;
        *(uint32_t *)f->esp = (f->eflags & ~(EFLAGS_IF | EFLAGS_IOPL)) |
                              (vcpu.vif ? EFLAGS_IF : 0);
        f->eip += 1;
        return true;
    case 0x9d: {                       /* POPF: IF goes to the vcpu, not the CPU */
        uint32_t v = *(const uint32_t *)f->esp;
        f->esp += 4;
        vcpu.vif = v & EFLAGS_IF;
        f->eflags = (f->eflags & ~EFLAGS_POPF_ARITH) | (v & EFLAGS_POPF_ARITH);
        f->eip += 1;
        return true;
    }
    case 0x8c: {                       /* MOV r32, Sreg: the guest's selectors */
        unsigned sreg = p[1] >> 3 & 7;
        if (p[1] >> 6 != 3)
            return false;
        *frame_reg(f, p[1]) = sreg == 1 ? vcpu.cs : sreg == 2 ? vcpu.ss : GUEST_KERNEL_DS;
        f->eip += 2;
        return true;
    }
    case 0x0f:
        if (p[1] == 0x01) {
            unsigned reg = p[2] >> 3 & 7;
            if (reg == 4 && p[2] >> 6 == 3) {          /* SMSW r32 */
                *frame_reg(f, p[2]) = vcpu.cr0;
            } else if ((reg == 0 || reg == 1) && modrm_ea(f, p + 2, &ea)) {
                const struct dtr *d = reg == 0 ? &vcpu.gdtr : &vcpu.idtr;
                *(uint16_t *)ea = d->limit;
                *(uint32_t *)(ea + 2) = d->base;
            } else {
                return false;
            }
            f->eip += 2 + modrm_len(p + 2);
            return true;
        }
        if ((p[1] == 0x02 || p[1] == 0x03) && p[2] >> 6 == 3) {   /* LAR, LSL r32, r32 */
            uint64_t d;
            f->eflags &= ~EFLAGS_ZF;
            if (guest_descriptor(*frame_reg(f, p[2]) & 0xffff, &d)) {
                uint32_t hi = (uint32_t)(d >> 32), limit = (uint32_t)(d & 0xffff) | (hi & 0xf0000);
                if (hi & 0x00800000)                   /* G: 4 KiB granularity */
                    limit = limit << 12 | 0xfff;
                *frame_reg(f, p[2] >> 3) = p[1] == 0x02 ? hi & 0x00f0ff00 : limit;
                f->eflags |= EFLAGS_ZF;
            }
            f->eip += 3;
            return true;
        }
        break;
    }
    return false;
    /* LAB 1: END */
}
