/* hvm_insn.c - decoding the few guest instructions nesthv must emulate.
 *
 * An EPT violation (VMX) or nested page fault (SVM) on the local APIC page
 * says *which address* the guest touched, but not with which instruction,
 * nor how long that instruction was: nesthv reads the bytes at the guest's
 * RIP (through the guest's page tables, hvm.c) and decodes them.  Likewise
 * a CR-write intercept on SVM without decode assists does not say which
 * register held the value.  So this file knows exactly these forms:
 *
 *   0F 22 /r      MOV CRn, r64/r32       (SDM Vol. 2B "MOV-Move to/from
 *   0F 20 /r      MOV r64/r32, CRn        Control Registers")
 *   0F 01 /7      INVLPG m               (its length, for SVM without NRIPS)
 *   89 /r         MOV r/m, r             store   (mod != 3)
 *   8B /r         MOV r, r/m             load
 *   C7 /0 id      MOV r/m32, imm32       store of an immediate
 *   A1 / A3 mo    MOV eAX, moffs / moffs, eAX   (an absolute address: 8 bytes
 *                 in 64-bit mode, 4 otherwise - gcc's "movabs")
 *
 * with an optional 0x66 prefix and a REX prefix (SDM 2A 2.2.1).  The length
 * comes from the ModRM byte (SDM 2A 2.1.5, tables 2-2/2-3):
 *
 *    7  6 5   3 2  0         mod 00: [rm], or rm=101 disp32 (RIP+disp32 in
 *   +----+-----+----+                 64-bit mode), rm=100 a SIB follows,
 *   |mod | reg | rm |                 whose base=101 means disp32
 *   +----+-----+----+        mod 01: + disp8     mod 10: + disp32
 *                            mod 11: a register (only for MOV CR)
 *
 * Anything else is reported, not guessed: the caller crashes the guest with
 * the bytes it saw.
 */
#include "hvm.h"

uint64_t *hvm_gpr(struct hv_vcpu *v, unsigned reg)
{
    struct hv_regs *r = v->regs;
    uint64_t *const map[16] = {
        &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
        &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15,
    };
    return map[reg & 15];
}

/* Bytes of ModRM + SIB + displacement, starting at the ModRM byte. */
static unsigned modrm_len(const uint8_t *p)
{
    unsigned mod = p[0] >> 6, rm = p[0] & 7, n = 1;
    if (mod == 3)
        return 1;
    if (rm == 4) {
        n++;                                 /* SIB */
        if (mod == 0 && (p[1] & 7) == 5)
            n += 4;
    } else if (mod == 0 && rm == 5) {
        n += 4;
    }
    if (mod == 1)
        n += 1;
    if (mod == 2)
        n += 4;
    return n;
}

bool hvm_decode(struct hv_vcpu *v, struct hvm_insn *d, const char **why)
{
    uint8_t b[16];
    if (hvm_read_gva(v, v->regs->rip, b, 15)) {
        *why = "instruction bytes not readable";
        return false;
    }
    unsigned i = 0, rex = 0, osize = 4;
    if (b[i] == 0x66)
        osize = 2, i++;
    if (v->hvm->long_mode && (b[i] & 0xf0) == 0x40)
        rex = b[i++];
    if (rex & 8)
        osize = 8;
    uint8_t op = b[i++];
    if (op == 0x0f && (b[i] == 0x20 || b[i] == 0x22)) {
        d->op = b[i] == 0x22 ? HVM_MOV_TO_CR : HVM_MOV_FROM_CR;
        uint8_t m = b[i + 1];
        d->cr = (m >> 3 & 7) | (rex & 4 ? 8 : 0);
        d->reg = (m & 7) | (rex & 1 ? 8 : 0);
        d->size = v->hvm->long_mode ? 8 : 4;
        d->len = i + 2;
        return true;
    }
    if (op == 0x0f && b[i] == 0x01 && (b[i + 1] >> 3 & 7) == 7 && b[i + 1] >> 6 != 3) {
        d->op = HVM_INVLPG;
        d->len = i + 1 + modrm_len(&b[i + 1]);
        return true;
    }
    uint8_t m = b[i];
    d->reg = (m >> 3 & 7) | (rex & 4 ? 8 : 0);
    d->size = osize;
    if ((op == 0x89 || op == 0x8b) && m >> 6 != 3) {
        d->op = op == 0x89 ? HVM_STORE : HVM_LOAD;
        d->len = i + modrm_len(&b[i]);
        return true;
    }
    if (op == 0xc7 && (m >> 3 & 7) == 0 && m >> 6 != 3) {
        unsigned at = i + modrm_len(&b[i]);
        d->op = HVM_STORE_IMM;
        d->imm = (uint32_t)(b[at] | b[at + 1] << 8 | b[at + 2] << 16 | (uint32_t)b[at + 3] << 24);
        d->len = at + 4;
        return true;
    }
    if (op == 0xa1 || op == 0xa3) {
        d->op = op == 0xa3 ? HVM_STORE : HVM_LOAD;
        d->reg = 0;
        d->len = i + (v->hvm->long_mode ? 8 : 4);
        return true;
    }
    *why = "not one of the instructions nesthv emulates (MOV CR, INVLPG, MOV r/m)";
    return false;
}
