/*
 * test_decode.c - CUnit tests of insn_decode() on specific encodings.
 *
 *   fields    operand fields: registers with REX, byte registers, 16/32/64-
 *             bit addressing, SIB, RIP-relative, segments, immediates, sizes.
 *   rules     VMX/SVM forms, prefixes, LOCK, F_MEM/F_REG, mode-only forms,
 *             the 15-byte limit.
 *   unlisted  encodings Nestlab does not execute (x87, SSE, VEX, EVEX, XOP,
 *             3DNow!) still get their true length and decode to OP_ud.
 * Every form of opcodes.def is covered by test_forms.c.
 */
#include <CUnit/Basic.h>
#include <string.h>

#include "decode_util.h"

/* ---- fields ------------------------------------------------------------------------ */

static void test_registers_rex(void)
{
	struct insn in = check(M64, "01 d8", "add_Ev_Gv", 2);   /* add eax, ebx */
	CU_ASSERT_EQUAL(in.reg, R_RBX);
	CU_ASSERT_EQUAL(in.rm, R_RAX);
	CU_ASSERT_EQUAL(in.osize, 4);
	CU_ASSERT_FALSE(in.flags & (I_MEM | I_REX));
	in = check(M64, "48 01 d8", "add_Ev_Gv", 3);
	CU_ASSERT_EQUAL(in.osize, 8);
	CU_ASSERT_TRUE(in.flags & I_REX);
	in = check(M64, "4d 01 c8", "add_Ev_Gv", 3);            /* add r8, r9 */
	CU_ASSERT_EQUAL(in.reg, R_R9);
	CU_ASSERT_EQUAL(in.rm, R_R8);
	in = check(M64, "66 48 01 d8", "add_Ev_Gv", 4);         /* REX.W beats 66 */
	CU_ASSERT_EQUAL(in.osize, 8);
	in = check(M64, "66 01 d8", "add_Ev_Gv", 3);
	CU_ASSERT_EQUAL(in.osize, 2);
	/* REX not directly before the opcode is ignored (SDM Vol. 2 2.2.1) */
	in = check(M64, "48 66 01 d8", "add_Ev_Gv", 4);
	CU_ASSERT_EQUAL(in.osize, 2);
	CU_ASSERT_FALSE(in.flags & I_REX);
	in = check(M64, "44 48 01 d8", "add_Ev_Gv", 4);         /* the last REX counts */
	CU_ASSERT_EQUAL(in.reg, R_RBX);
	CU_ASSERT_EQUAL(in.osize, 8);
	in = check(M32, "66 01 d8", "add_Ev_Gv", 3);
	CU_ASSERT_EQUAL(in.osize, 2);
	in = check(M16, "01 d8", "add_Ev_Gv", 2);
	CU_ASSERT_EQUAL(in.osize, 2);
	in = check(M16, "66 01 d8", "add_Ev_Gv", 3);
	CU_ASSERT_EQUAL(in.osize, 4);
	in = check(M32, "48", "dec_Zv", 1);                      /* not REX outside 64-bit */
	CU_ASSERT_EQUAL(in.reg, R_RAX);
}

static void test_byte_registers(void)
{
	struct insn in = check(M64, "88 e0", "mov_Eb_Gb", 2);   /* mov al, ah */
	CU_ASSERT_EQUAL(in.reg, REG8_AH);
	CU_ASSERT_EQUAL(in.rm, R_RAX);
	CU_ASSERT_EQUAL(in.osize, 1);
	in = check(M64, "40 88 e0", "mov_Eb_Gb", 3);            /* mov al, spl */
	CU_ASSERT_EQUAL(in.reg, R_RSP);
	in = check(M32, "88 fc", "mov_Eb_Gb", 2);               /* mov ah, bh */
	CU_ASSERT_EQUAL(in.rm, REG8_AH);
	CU_ASSERT_EQUAL(in.reg, REG8_AH + 3);
	in = check(M32, "b5 12", "mov_Zb_Ib", 2);               /* mov ch, 0x12 */
	CU_ASSERT_EQUAL(in.reg, REG8_AH + 1);
	CU_ASSERT_EQUAL(in.imm, 0x12);
	in = check(M64, "41 b4 12", "mov_Zb_Ib", 3);            /* mov r12b, 0x12 */
	CU_ASSERT_EQUAL(in.reg, R_R12);
	in = check(M64, "0f b6 c4", "movzx_Gv_Eb", 3);          /* movzx eax, ah */
	CU_ASSERT_EQUAL(in.rm, REG8_AH);
	CU_ASSERT_EQUAL(in.osize, 4);
	in = check(M64, "0f b6 e0", "movzx_Gv_Eb", 3);          /* movzx esp, al: G is not a byte */
	CU_ASSERT_EQUAL(in.reg, R_RSP);
	in = check(M64, "0f 94 c7", "setcc_Eb", 3);             /* sete bh */
	CU_ASSERT_EQUAL(in.rm, REG8_AH + 3);
	CU_ASSERT_EQUAL(in.reg, 4);
	in = check(M64, "f6 dc", "neg_Eb", 2);                  /* neg ah */
	CU_ASSERT_EQUAL(in.rm, REG8_AH);
}

static void test_addressing_32_64(void)
{
	struct insn in = check(M64, "8b 04 24", "mov_Gv_Ev", 3);    /* [rsp] */
	CU_ASSERT_TRUE(in.flags & I_MEM);
	CU_ASSERT_EQUAL(in.base, R_RSP);
	CU_ASSERT_EQUAL(in.index, REG_NONE);
	CU_ASSERT_EQUAL(in.seg, SEG_SS);
	CU_ASSERT_EQUAL(in.asize, 8);
	in = check(M32, "8b 44 8d 10", "mov_Gv_Ev", 4);             /* [ebp+ecx*4+0x10] */
	CU_ASSERT_EQUAL(in.base, R_RBP);
	CU_ASSERT_EQUAL(in.index, R_RCX);
	CU_ASSERT_EQUAL(in.scale, 2);
	CU_ASSERT_EQUAL(in.disp, 0x10);
	CU_ASSERT_EQUAL(in.seg, SEG_SS);
	in = check(M64, "8b 05 78 56 34 12", "mov_Gv_Ev", 6);       /* [rip+0x12345678] */
	CU_ASSERT_TRUE(in.flags & I_RIPREL);
	CU_ASSERT_EQUAL(in.base, REG_NONE);
	CU_ASSERT_EQUAL(in.index, REG_NONE);
	CU_ASSERT_EQUAL(in.disp, 0x12345678);
	CU_ASSERT_EQUAL(in.seg, SEG_DS);
	in = check(M32, "8b 05 78 56 34 12", "mov_Gv_Ev", 6);       /* [0x12345678] */
	CU_ASSERT_FALSE(in.flags & I_RIPREL);
	CU_ASSERT_EQUAL(in.base, REG_NONE);
	in = check(M64, "41 8b 05 00 00 00 00", "mov_Gv_Ev", 7);    /* REX.B: still RIP */
	CU_ASSERT_TRUE(in.flags & I_RIPREL);
	in = check(M64, "42 8b 04 a5 f0 ff ff ff", "mov_Gv_Ev", 8); /* [r12*4-0x10] */
	CU_ASSERT_EQUAL(in.base, REG_NONE);
	CU_ASSERT_EQUAL(in.index, R_R12);
	CU_ASSERT_EQUAL(in.scale, 2);
	CU_ASSERT_EQUAL(in.disp, -16);
	CU_ASSERT_FALSE(in.flags & I_RIPREL);
	in = check(M64, "43 8b 04 24", "mov_Gv_Ev", 4);             /* [r12+r12] */
	CU_ASSERT_EQUAL(in.base, R_R12);
	CU_ASSERT_EQUAL(in.index, R_R12);
	CU_ASSERT_EQUAL(in.seg, SEG_DS);
	in = check(M64, "41 8b 45 00", "mov_Gv_Ev", 4);             /* [r13+0] */
	CU_ASSERT_EQUAL(in.base, R_R13);
	in = check(M64, "41 8b 44 25 08", "mov_Gv_Ev", 5);          /* [r13+8], no index */
	CU_ASSERT_EQUAL(in.base, R_R13);
	CU_ASSERT_EQUAL(in.index, REG_NONE);
	CU_ASSERT_EQUAL(in.disp, 8);
	in = check(M64, "8b 84 c8 00 01 00 00", "mov_Gv_Ev", 7);    /* [rax+rcx*8+0x100] */
	CU_ASSERT_EQUAL(in.scale, 3);
	CU_ASSERT_EQUAL(in.disp, 0x100);
	in = check(M64, "67 8b 00", "mov_Gv_Ev", 3);
	CU_ASSERT_EQUAL(in.asize, 4);
	in = check(M16, "67 8b 04 24", "mov_Gv_Ev", 4);             /* 32-bit form in 16-bit */
	CU_ASSERT_EQUAL(in.asize, 4);
	CU_ASSERT_EQUAL(in.base, R_RSP);
}

static void test_addressing_16(void)
{
	struct insn in = check(M16, "8b 00", "mov_Gv_Ev", 2);       /* [bx+si] */
	CU_ASSERT_EQUAL(in.base, R_RBX);
	CU_ASSERT_EQUAL(in.index, R_RSI);
	CU_ASSERT_EQUAL(in.scale, 0);
	CU_ASSERT_EQUAL(in.asize, 2);
	CU_ASSERT_EQUAL(in.seg, SEG_DS);
	in = check(M16, "8b 43 10", "mov_Gv_Ev", 3);                /* [bp+di+0x10] */
	CU_ASSERT_EQUAL(in.base, R_RBP);
	CU_ASSERT_EQUAL(in.index, R_RDI);
	CU_ASSERT_EQUAL(in.seg, SEG_SS);
	in = check(M16, "8b 46 fe", "mov_Gv_Ev", 3);                /* [bp-2] */
	CU_ASSERT_EQUAL(in.base, R_RBP);
	CU_ASSERT_EQUAL(in.index, REG_NONE);
	CU_ASSERT_EQUAL(in.disp, -2);
	CU_ASSERT_EQUAL(in.seg, SEG_SS);
	in = check(M16, "8b 06 34 12", "mov_Gv_Ev", 4);             /* [0x1234] */
	CU_ASSERT_EQUAL(in.base, REG_NONE);
	CU_ASSERT_EQUAL(in.disp, 0x1234);
	CU_ASSERT_EQUAL(in.seg, SEG_DS);
	in = check(M16, "8b 87 00 80", "mov_Gv_Ev", 4);             /* [bx-0x8000] */
	CU_ASSERT_EQUAL(in.base, R_RBX);
	CU_ASSERT_EQUAL(in.disp, -0x8000);
	in = check(M32, "67 8b 46 fe", "mov_Gv_Ev", 4);             /* 16-bit form in 32-bit */
	CU_ASSERT_EQUAL(in.asize, 2);
	CU_ASSERT_EQUAL(in.base, R_RBP);
}

static void test_segments(void)
{
	struct insn in = check(M32, "26 8b 00", "mov_Gv_Ev", 3);
	CU_ASSERT_EQUAL(in.seg, SEG_ES);
	CU_ASSERT_TRUE(in.flags & I_SEGOVR);
	in = check(M32, "3e 8b 04 24", "mov_Gv_Ev", 4);             /* DS over [esp] */
	CU_ASSERT_EQUAL(in.seg, SEG_DS);
	CU_ASSERT_TRUE(in.flags & I_SEGOVR);
	in = check(M32, "64 2e 8b 00", "mov_Gv_Ev", 4);             /* the last one wins */
	CU_ASSERT_EQUAL(in.seg, SEG_CS);
	in = check(M64, "26 8b 00", "mov_Gv_Ev", 3);                /* ignored in 64-bit */
	CU_ASSERT_EQUAL(in.seg, SEG_DS);
	CU_ASSERT_FALSE(in.flags & I_SEGOVR);
	in = check(M64, "3e 8b 04 24", "mov_Gv_Ev", 4);
	CU_ASSERT_EQUAL(in.seg, SEG_SS);
	CU_ASSERT_FALSE(in.flags & I_SEGOVR);
	in = check(M64, "64 8b 00", "mov_Gv_Ev", 3);
	CU_ASSERT_EQUAL(in.seg, SEG_FS);
	CU_ASSERT_TRUE(in.flags & I_SEGOVR);
	in = check(M64, "65 48 a5", "movsv", 3);                    /* movsq gs:[rsi] */
	CU_ASSERT_EQUAL(in.seg, SEG_GS);
	CU_ASSERT_EQUAL(in.osize, 8);
}

static void test_immediates(void)
{
	struct insn in = check(M64, "48 b8 88 77 66 55 44 33 22 11", "mov_Zv_Iv", 10);
	CU_ASSERT_EQUAL(in.imm, 0x1122334455667788ull);
	CU_ASSERT_EQUAL(in.reg, R_RAX);
	in = check(M32, "bf 78 56 34 12", "mov_Zv_Iv", 5);
	CU_ASSERT_EQUAL(in.imm, 0x12345678);
	CU_ASSERT_EQUAL(in.reg, R_RDI);
	in = check(M16, "b8 34 12", "mov_Zv_Iv", 3);
	CU_ASSERT_EQUAL(in.imm, 0x1234);
	in = check(M64, "48 c7 c0 ff ff ff ff", "mov_Ev_Iz", 7);    /* sign-extended */
	CU_ASSERT_EQUAL(in.imm, ~0ull);
	in = check(M64, "83 c0 ff", "add_Ev_Ib", 3);
	CU_ASSERT_EQUAL(in.imm, ~0ull);
	in = check(M16, "81 c0 00 80", "add_Ev_Iz", 4);
	CU_ASSERT_EQUAL((int64_t)in.imm, -0x8000);
	in = check(M64, "e4 80", "in_AL_Ib", 2);                    /* port: unsigned */
	CU_ASSERT_EQUAL(in.imm, 0x80);
	in = check(M64, "cd 80", "int_Ib", 2);                      /* vector: unsigned */
	CU_ASSERT_EQUAL(in.imm, 0x80);
	in = check(M64, "c8 10 02 03", "enter_Iw_Ib", 4);
	CU_ASSERT_EQUAL(in.imm, 0x0210);
	CU_ASSERT_EQUAL(in.imm2, 3);
	CU_ASSERT_EQUAL(in.osize, 8);
	in = check(M64, "c2 08 80", "ret_Iw", 3);
	CU_ASSERT_EQUAL(in.imm, 0x8008);
	in = check(M64, "a1 88 77 66 55 44 33 22 11", "mov_rAX_Ov", 9);
	CU_ASSERT_EQUAL(in.imm, 0x1122334455667788ull);
	CU_ASSERT_EQUAL(in.base, REG_NONE);
	CU_ASSERT_EQUAL(in.seg, SEG_DS);
	in = check(M32, "64 a0 78 56 34 12", "mov_AL_Ob", 6);
	CU_ASSERT_EQUAL(in.imm, 0x12345678);
	CU_ASSERT_EQUAL(in.seg, SEG_FS);
	in = check(M32, "9a 78 56 34 12 cd ab", "callf_Ap", 7);
	CU_ASSERT_EQUAL(in.imm, 0x12345678);
	CU_ASSERT_EQUAL((uint16_t)in.disp, 0xabcd);
	in = check(M16, "9a 34 12 cd ab", "callf_Ap", 5);
	CU_ASSERT_EQUAL(in.imm, 0x1234);
	CU_ASSERT_EQUAL((uint16_t)in.disp, 0xabcd);
	in = check(M32, "66 ea 34 12 cd ab", "jmpf_Ap", 6);
	CU_ASSERT_EQUAL(in.imm, 0x1234);
}

static void test_branches(void)
{
	struct insn in = check(M64, "eb fe", "jmp_Jb", 2);
	CU_ASSERT_EQUAL((int64_t)in.imm, -2);
	CU_ASSERT_EQUAL(in.disp, -2);
	CU_ASSERT_EQUAL(in.osize, 8);
	in = check(M64, "e8 00 01 00 00", "call_Jz", 5);
	CU_ASSERT_EQUAL(in.imm, 0x100);
	in = check(M64, "66 e8 00 01 00 00", "call_Jz", 6);        /* Intel: 66 ignored */
	CU_ASSERT_EQUAL(in.osize, 8);
	in = check(M64, "0f 8c fc ff ff ff", "jcc_Jz", 6);          /* jl */
	CU_ASSERT_EQUAL(in.reg, 0xc);
	CU_ASSERT_EQUAL(in.imm2, 0xc);
	CU_ASSERT_EQUAL((int64_t)in.imm, -4);
	in = check(M64, "75 80", "jcc_Jb", 2);                      /* jnz -128 */
	CU_ASSERT_EQUAL(in.reg, 5);
	CU_ASSERT_EQUAL((int64_t)in.imm, -128);
	in = check(M16, "e8 fd ff", "call_Jz", 3);
	CU_ASSERT_EQUAL((int64_t)in.imm, -3);
	CU_ASSERT_EQUAL(in.osize, 2);
	in = check(M32, "66 0f 85 fd ff", "jcc_Jz", 5);
	CU_ASSERT_EQUAL(in.osize, 2);
	in = check(M64, "0f 4f c1", "cmovcc_Gv_Ev", 3);             /* cmovg eax, ecx */
	CU_ASSERT_EQUAL(in.reg, R_RAX);
	CU_ASSERT_EQUAL(in.rm, R_RCX);
	CU_ASSERT_EQUAL(in.imm2, 0xf);
	in = check(M64, "ff d0", "call_Ev", 2);
	CU_ASSERT_EQUAL(in.osize, 8);
	in = check(M64, "66 ff d0", "call_Ev", 3);                  /* F64 */
	CU_ASSERT_EQUAL(in.osize, 8);
	in = check(M64, "ff f0", "push_Ev", 2);                     /* D64 */
	CU_ASSERT_EQUAL(in.osize, 8);
	in = check(M64, "66 ff f0", "push_Ev", 3);
	CU_ASSERT_EQUAL(in.osize, 2);
	in = check(M32, "ff f0", "push_Ev", 2);
	CU_ASSERT_EQUAL(in.osize, 4);
}

static void test_zreg_nop(void)
{
	struct insn in = check(M64, "41 50", "push_Zv", 2);
	CU_ASSERT_EQUAL(in.reg, R_R8);
	CU_ASSERT_EQUAL(in.osize, 8);
	in = check(M64, "66 50", "push_Zv", 2);
	CU_ASSERT_EQUAL(in.osize, 2);
	check(M64, "90", "nop", 1);
	in = check(M64, "f3 90", "nop", 2);                         /* PAUSE */
	CU_ASSERT_TRUE(in.flags & I_REP);
	check(M64, "48 90", "nop", 2);
	check(M32, "66 90", "nop", 2);
	in = check(M64, "41 90", "xchg_Zv_rAX", 2);                 /* xchg r8d, eax */
	CU_ASSERT_EQUAL(in.reg, R_R8);
	in = check(M64, "97", "xchg_Zv_rAX", 1);
	CU_ASSERT_EQUAL(in.reg, R_RDI);
	in = check(M64, "49 0f cb", "bswap_Zv", 3);
	CU_ASSERT_EQUAL(in.reg, R_R11);
	CU_ASSERT_EQUAL(in.osize, 8);
	check(M64, "0f 18 00", "nop_Ev", 3);
	check(M64, "0f 19 c0", "nop_Ev", 3);
	check(M64, "f3 0f 1e fa", "nop_Ev", 4);                     /* ENDBR64 */
	check(M64, "66 0f 1f 84 00 00 00 00 00", "nop_Ev", 9);
}

static void test_system_regs(void)
{
	struct insn in = check(M64, "44 0f 20 c0", "mov_Rd_Cd", 4); /* mov rax, cr8 */
	CU_ASSERT_EQUAL(in.reg, 8);
	CU_ASSERT_EQUAL(in.rm, R_RAX);
	CU_ASSERT_EQUAL(in.osize, 8);
	in = check(M64, "0f 22 00", "mov_Cd_Rd", 3);                /* mod ignored */
	CU_ASSERT_FALSE(in.flags & I_MEM);
	CU_ASSERT_EQUAL(in.rm, R_RAX);
	in = check(M32, "0f 20 05", "mov_Rd_Cd", 3);                /* no disp32 */
	CU_ASSERT_EQUAL(in.osize, 4);
	CU_ASSERT_EQUAL(in.rm, R_RBP);
	in = check(M32, "66 0f 22 c0", "mov_Cd_Rd", 4);             /* 66 does not size it */
	CU_ASSERT_EQUAL(in.osize, 4);
	in = check(M16, "0f 21 f8", "mov_Rd_Dd", 3);                /* mov eax, dr7 */
	CU_ASSERT_EQUAL(in.osize, 4);
	CU_ASSERT_EQUAL(in.reg, 7);
	in = check(M64, "8e d8", "mov_Sw_Ew", 2);
	CU_ASSERT_EQUAL(in.reg, SEG_DS);
}

/* ---- rules ---------------------------------------------------------------------------- */

static void test_vmx_svm(void)
{
	struct insn in = check(M64, "f3 0f c7 34 24", "vmxon_Mq", 5);   /* vmxon [rsp] */
	CU_ASSERT_FALSE(in.flags & I_REP);          /* F3 was the opcode, not REP */
	CU_ASSERT_EQUAL(in.base, R_RSP);
	in = check(M32, "66 0f c7 30", "vmclear_Mq", 4);
	CU_ASSERT_EQUAL(in.osize, 4);               /* 66 was the opcode, not a size */
	check(M64, "0f c7 70 08", "vmptrld_Mq", 4);
	check(M64, "0f c7 3c 25 00 10 00 00", "vmptrst_Mq", 8);
	check(M64, "f3 0f c7 f0", "ud", 4);         /* VMXON has no register form */
	check(M64, "f2 0f c7 30", "ud", 4);
	check(M64, "f3 0f c7 f8", "ud", 4);         /* RDPID, not RDSEED */
	check(M64, "66 0f c7 f0", "rdrand_Rv", 4);
	in = check(M64, "0f 78 c8", "vmread_Ey_Gy", 3);                 /* vmread rax, rcx */
	CU_ASSERT_EQUAL(in.osize, 8);
	CU_ASSERT_EQUAL(in.reg, R_RCX);
	CU_ASSERT_EQUAL(in.rm, R_RAX);
	in = check(M32, "0f 79 08", "vmwrite_Gy_Ey", 3);
	CU_ASSERT_EQUAL(in.osize, 4);
	CU_ASSERT_TRUE(in.flags & I_MEM);
	check(M64, "66 0f 78 c0 01 02", "ud", 6);   /* AMD EXTRQ xmm0, 1, 2 */
	check(M64, "f2 0f 78 c1 01 02", "ud", 6);   /* AMD INSERTQ */
	in = check(M64, "66 0f 38 80 08", "invept_Gy_Mdq", 5);
	CU_ASSERT_EQUAL(in.osize, 8);
	CU_ASSERT_EQUAL(in.reg, R_RCX);
	check(M64, "66 44 0f 38 81 0c 24", "invvpid_Gy_Mdq", 7);
	check(M64, "0f 38 80 08", "ud", 4);         /* INVEPT needs 66 */
	check(M64, "66 0f 38 80 c8", "ud", 5);      /* and a memory operand */
	check(M64, "0f 01 c1", "vmcall", 3);
	check(M32, "0f 01 c2", "vmlaunch", 3);
	check(M16, "0f 01 c3", "vmresume", 3);
	check(M64, "0f 01 c4", "vmxoff", 3);
	check(M64, "0f 01 d4", "vmfunc", 3);
	check(M64, "0f 01 d8", "vmrun", 3);
	check(M64, "0f 01 d9", "vmmcall", 3);
	check(M32, "0f 01 da", "vmload", 3);
	check(M32, "0f 01 db", "vmsave", 3);
	check(M16, "0f 01 dc", "stgi", 3);
	check(M16, "0f 01 dd", "clgi", 3);
	check(M64, "0f 01 de", "skinit", 3);
	check(M64, "0f 01 df", "invlpga", 3);
	check(M64, "0f 01 c5", "ud", 3);            /* group 7 holes */
	check(M64, "0f 01 e5", "smsw_Ew", 3);       /* /4 register form: smsw ebp */
	check(M64, "0f 01 e8", "ud", 3);            /* /5 mod 11 (SERIALIZE...) not here */
	check(M32, "0f 01 f8", "ud", 3);            /* SWAPGS is 64-bit only */
	check(M64, "0f 01 80 00 01 00 00", "sgdt_Ms", 7);
}

static void test_lock(void)
{
	struct insn in = check(M64, "f0 01 18", "add_Ev_Gv", 3);   /* lock add [rax], ebx */
	CU_ASSERT_TRUE(in.flags & I_LOCK);
	check(M64, "f0 01 d8", "ud", 3);            /* register destination */
	check(M64, "f0 03 18", "ud", 3);            /* memory is the source */
	check(M64, "f0 0f a3 18", "ud", 4);         /* BT does not write */
	check(M64, "f0 0f ab 18", "bts_Ev_Gv", 4);
	check(M64, "f0 0f ba 28 01", "bts_Ev_Ib", 5);
	check(M64, "f0 0f ba 20 01", "ud", 5);      /* BT Ev, Ib */
	check(M64, "f0 90", "ud", 2);
	check(M64, "f0 87 18", "xchg_Ev_Gv", 3);
	check(M64, "f0 48 0f c7 08", "cmpxchg8b_Mq", 5);
	check(M64, "f0 f6 18", "neg_Eb", 3);
	check(M64, "f0 f6 00 01", "ud", 4);         /* TEST keeps its imm8 */
	check(M64, "f0 89 18", "ud", 3);            /* MOV is not lockable */
	check(M32, "f0 80 30 01", "xor_Eb_Ib", 4);
	check(M32, "f0 fe 00", "inc_Eb", 3);
	check(M64, "f0 0f c1 18", "xadd_Ev_Gv", 4);
}

static void test_mem_reg_and_modes(void)
{
	check(M64, "8d c0", "ud", 2);               /* LEA needs memory */
	check(M64, "0f b2 c0", "ud", 3);            /* LSS too */
	check(M64, "0f 38 f0 c0", "ud", 4);         /* MOVBE too */
	check(M64, "0f ae c0", "ud", 3);            /* FXSAVE has no register form */
	check(M32, "f3 0f ae c0", "ud", 4);         /* RDFSBASE: 64-bit only */
	/* Forms invalid in 64-bit mode keep a length (SDM Vol. 2 A.2.5) */
	check(M64, "06", "ud", 1);
	check(M64, "27", "ud", 1);
	check(M64, "60", "ud", 1);
	check(M64, "d6", "ud", 1);
	check(M64, "ce", "ud", 1);
	check(M64, "d4 0a", "ud", 2);
	check(M64, "82 c0 01", "ud", 3);
	check(M64, "9a 78 56 34 12 08 00", "ud", 7);
	check(M32, "63 c8", "arpl_Ew_Gw", 2);
	struct insn in = check(M64, "63 c8", "movsxd_Gv_Ed", 2);
	CU_ASSERT_EQUAL(in.reg, R_RCX);
	check(M16, "0f 05", "syscall", 2);
	check(M32, "c4 e2 79 18 00", "ud", 5);      /* C4 + mod 11: VEX, not LES */
}

static void test_prefix_rules(void)
{
	struct insn in = check(M64, "f3 f2 a4", "movsb", 3);      /* last of F2/F3 wins */
	CU_ASSERT_TRUE(in.flags & I_REPNE);
	CU_ASSERT_FALSE(in.flags & I_REP);
	in = check(M64, "f2 f3 a6", "cmpsb", 3);
	CU_ASSERT_TRUE(in.flags & I_REP);
	CU_ASSERT_FALSE(in.flags & I_REPNE);
	in = check(M64, "f3 0f bc c0", "tzcnt_Gv_Ev", 4);
	CU_ASSERT_FALSE(in.flags & I_REP);
	in = check(M64, "66 f3 0f bd c0", "lzcnt_Gv_Ev", 5);      /* 66 still sizes */
	CU_ASSERT_EQUAL(in.osize, 2);
	check(M64, "f2 0f bc c0", "bsf_Gv_Ev", 4);                /* only F3 selects */
	check(M64, "f3 f2 0f bc c0", "bsf_Gv_Ev", 5);
	check(M64, "f2 f3 0f b8 c0", "popcnt_Gv_Ev", 5);
	check(M64, "0f b8 c0", "ud", 3);            /* JMPE (IA-64), not here */
	in = check(M32, "67 a4", "movsb", 2);
	CU_ASSERT_EQUAL(in.asize, 2);
	CU_ASSERT_EQUAL(dec(M64, "f0", &in), 0);     /* need more bytes: returns 0 */
	CU_ASSERT_EQUAL(dec(M64, "66 66 66", &in), 0);
	CU_ASSERT_EQUAL(dec(M64, "0f", &in), 0);
	CU_ASSERT_EQUAL(dec(M64, "0f 38", &in), 0);
	CU_ASSERT_EQUAL(dec(M64, "48", &in), 0);
	CU_ASSERT_EQUAL(dec(M64, "", &in), 0);
	uint8_t b[1] = { 0x90 };
	CU_ASSERT_EQUAL(insn_decode(b, -5, M64, &in), 0);
}

static void test_length_limit(void)
{
	uint8_t b[32];
	struct insn in;
	/* 14 prefixes + NOP = 15 bytes: fine. */
	memset(b, 0x66, sizeof b);
	b[14] = 0x90;
	CU_ASSERT_EQUAL(insn_decode(b, 32, M64, &in), 15);
	CU_ASSERT_EQUAL(in.op, OP_nop);
	/* 15 prefixes + NOP: would be 16 bytes, #GP (SDM Vol. 2 2.3.11). */
	b[14] = 0x66;
	b[15] = 0x90;
	CU_ASSERT_EQUAL(insn_decode(b, 32, M64, &in), 15);
	CU_ASSERT_EQUAL(in.op, OP_toolong);
	CU_ASSERT_EQUAL(in.len, 15);
	/* ... and with only 14 bytes readable the decoder must ask for more. */
	CU_ASSERT_EQUAL(insn_decode(b, 14, M64, &in), 0);
	/* 5 prefixes + REX.W mov rax, imm64 = 15; 6 prefixes = 16. */
	memset(b, 0x2e, sizeof b);
	memcpy(b + 5, "\x48\xb8\x01\x02\x03\x04\x05\x06\x07\x08", 10);
	CU_ASSERT_EQUAL(insn_decode(b, 32, M64, &in), 15);
	CU_ASSERT_EQUAL(in.op, OP_mov_Zv_Iv);
	CU_ASSERT_EQUAL(in.imm, 0x0807060504030201ull);
	memset(b, 0x2e, sizeof b);
	memcpy(b + 6, "\x48\xb8\x01\x02\x03\x04\x05\x06\x07\x08", 10);
	CU_ASSERT_EQUAL(insn_decode(b, 32, M64, &in), 15);
	CU_ASSERT_EQUAL(in.op, OP_toolong);
	/* A 16-byte SSE form: 4 prefixes + 66 0F 3A 0F /r [sib disp32] ib. */
	check(M64, "2e 2e 2e 66 0f 3a 0f 84 00 00 01 00 00 08", "ud", 14);
	memset(b, 0, sizeof b);
	parse_hex("2e 2e 2e 2e 66 0f 3a 0f 84 00 00 01 00 00 08", b);
	CU_ASSERT_EQUAL(insn_decode(b, 32, M64, &in), 15);
	CU_ASSERT_EQUAL(in.op, OP_ud);
	parse_hex("2e 2e 2e 2e 2e 66 0f 3a 0f 84 00 00 01 00 00 08", b);
	CU_ASSERT_EQUAL(insn_decode(b, 32, M64, &in), 15);
	CU_ASSERT_EQUAL(in.op, OP_toolong);
}

/* ---- unlisted encodings: true length, OP_ud --------------------------------------------- */

static void test_unlisted(void)
{
	check(M64, "d9 c0", "ud", 2);                         /* fld st0 */
	check(M64, "dd 05 00 00 00 00", "ud", 6);             /* fld qword [rip] */
	check(M16, "de 06 34 12", "ud", 4);                   /* fiadd word [0x1234] */
	check(M64, "66 0f 38 00 c1", "ud", 5);                /* pshufb */
	check(M64, "66 0f 3a 0f c1 08", "ud", 6);             /* palignr ..., 8 */
	check(M64, "0f c2 c1 00", "ud", 4);                   /* cmpeqps */
	check(M64, "0f 0f c1 b4", "ud", 4);                   /* 3DNow! pfmul mm0, mm1 */
	check(M32, "0f 0f 44 24 08 9e", "ud", 6);             /* 3DNow! pfadd mm0, [esp+8] */
	check(M64, "c5 f8 77", "ud", 3);                      /* vzeroupper */
	check(M32, "c5 f8 77", "ud", 3);                      /* VEX: mod 11 after C5 */
	check(M64, "c5 f9 6f 05 00 00 00 00", "ud", 8);       /* vmovdqa xmm0, [rip] */
	check(M64, "c4 e2 79 18 00", "ud", 5);                /* vbroadcastss xmm0, [rax] */
	check(M64, "c4 e3 79 04 c0 01", "ud", 6);             /* vpermilps xmm0, xmm0, 1 */
	check(M64, "c4 e1 f9 73 d0 04", "ud", 6);             /* vpsrlq xmm0, xmm0, 4 */
	check(M64, "62 f1 7c 48 58 c0", "ud", 6);             /* vaddps zmm0, zmm0, zmm0 */
	check(M64, "62 f1 7c 48 58 40 01", "ud", 7);          /* ... [rax+0x40] (disp8*N) */
	check(M64, "62 f3 7d 48 03 c1 01", "ud", 7);          /* valignd ..., 1 */
	check(M32, "62 f1 7c 48 58 c0", "ud", 6);             /* EVEX in 32-bit mode */
	check(M64, "8f e8 78 c0 c1 05", "ud", 6);             /* XOP vprotb xmm0, xmm1, 5 */
	check(M64, "8f e9 78 81 c1", "ud", 5);                /* XOP vfrczps xmm0, xmm1 */
	check(M64, "8f ea 78 10 c0 01 02 00 00", "ud", 9);    /* TBM bextr eax, eax, 0x201 */
	check(M64, "0f 04", "ud", 2);                         /* undefined */
	check(M64, "0f 0b", "ud2", 2);
	check(M64, "f3 0f a7 c8", "ud", 4);                   /* VIA xcryptecb */
	check(M64, "0f 1e fa", "nop_Ev", 3);
}

int main(void)
{
	static const struct decode_test tests[] = {
		{ "registers and REX", test_registers_rex },
		{ "byte registers", test_byte_registers },
		{ "32/64-bit addressing, SIB, RIP", test_addressing_32_64 },
		{ "16-bit addressing", test_addressing_16 },
		{ "segments", test_segments },
		{ "immediates", test_immediates },
		{ "branches and operand size", test_branches },
		{ "opcode registers and NOPs", test_zreg_nop },
		{ "control registers", test_system_regs },
		{ "VMX and SVM", test_vmx_svm },
		{ "LOCK", test_lock },
		{ "memory/register-only and mode-only forms", test_mem_reg_and_modes },
		{ "prefix rules", test_prefix_rules },
		{ "15-byte limit", test_length_limit },
		{ "unlisted encodings", test_unlisted },
	};
	return run_decode_tests("decode", tests, (int)(sizeof tests / sizeof tests[0]));
}
