/*
 * test_forms.c - one encoding (at least) for EVERY form in opcodes.def.
 *
 * The table below is written out by hand from the SDM opcode maps (Vol. 2
 * Appendix A), not generated from opcodes.def: for each entry the decoded op
 * name and the length must match, the same bytes cut one short must report
 * "need more bytes" (0), and the same bytes inside a 15-byte window must
 * give the same length.  test_coverage then proves that no form of
 * opcodes.def (other than ud/toolong) is missing from the table, so the list
 * and the decoder cannot drift apart silently; test_tables_agree and
 * test_imm_tables_agree check decode_len.c's "has ModRM" bitmaps and
 * immediate tables against the F_MODRM and immediate flags.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "decode_int.h"
#include "decode_util.h"

/* ---- forms: one encoding per opcodes.def form ------------------------------------ */

struct form_case {
	int mode;
	const char *hex;
	const char *op;
	int len;
};

static const struct form_case form_cases[] = {
	{ M64, "00 d8", "add_Eb_Gb", 2 },
	{ M64, "01 18", "add_Ev_Gv", 2 },
	{ M32, "02 58 10", "add_Gb_Eb", 3 },
	{ M16, "03 00", "add_Gv_Ev", 2 },
	{ M64, "04 12", "add_AL_Ib", 2 },
	{ M64, "05 78 56 34 12", "add_rAX_Iz", 5 },
	{ M64, "08 d8", "or_Eb_Gb", 2 },
	{ M64, "09 18", "or_Ev_Gv", 2 },
	{ M32, "0a 58 10", "or_Gb_Eb", 3 },
	{ M16, "0b 00", "or_Gv_Ev", 2 },
	{ M64, "0c 12", "or_AL_Ib", 2 },
	{ M64, "0d 78 56 34 12", "or_rAX_Iz", 5 },
	{ M64, "10 d8", "adc_Eb_Gb", 2 },
	{ M64, "11 18", "adc_Ev_Gv", 2 },
	{ M32, "12 58 10", "adc_Gb_Eb", 3 },
	{ M16, "13 00", "adc_Gv_Ev", 2 },
	{ M64, "14 12", "adc_AL_Ib", 2 },
	{ M64, "15 78 56 34 12", "adc_rAX_Iz", 5 },
	{ M64, "18 d8", "sbb_Eb_Gb", 2 },
	{ M64, "19 18", "sbb_Ev_Gv", 2 },
	{ M32, "1a 58 10", "sbb_Gb_Eb", 3 },
	{ M16, "1b 00", "sbb_Gv_Ev", 2 },
	{ M64, "1c 12", "sbb_AL_Ib", 2 },
	{ M64, "1d 78 56 34 12", "sbb_rAX_Iz", 5 },
	{ M64, "20 d8", "and_Eb_Gb", 2 },
	{ M64, "21 18", "and_Ev_Gv", 2 },
	{ M32, "22 58 10", "and_Gb_Eb", 3 },
	{ M16, "23 00", "and_Gv_Ev", 2 },
	{ M64, "24 12", "and_AL_Ib", 2 },
	{ M64, "25 78 56 34 12", "and_rAX_Iz", 5 },
	{ M64, "28 d8", "sub_Eb_Gb", 2 },
	{ M64, "29 18", "sub_Ev_Gv", 2 },
	{ M32, "2a 58 10", "sub_Gb_Eb", 3 },
	{ M16, "2b 00", "sub_Gv_Ev", 2 },
	{ M64, "2c 12", "sub_AL_Ib", 2 },
	{ M64, "2d 78 56 34 12", "sub_rAX_Iz", 5 },
	{ M64, "30 d8", "xor_Eb_Gb", 2 },
	{ M64, "31 18", "xor_Ev_Gv", 2 },
	{ M32, "32 58 10", "xor_Gb_Eb", 3 },
	{ M16, "33 00", "xor_Gv_Ev", 2 },
	{ M64, "34 12", "xor_AL_Ib", 2 },
	{ M64, "35 78 56 34 12", "xor_rAX_Iz", 5 },
	{ M64, "38 d8", "cmp_Eb_Gb", 2 },
	{ M64, "39 18", "cmp_Ev_Gv", 2 },
	{ M32, "3a 58 10", "cmp_Gb_Eb", 3 },
	{ M16, "3b 00", "cmp_Gv_Ev", 2 },
	{ M64, "3c 12", "cmp_AL_Ib", 2 },
	{ M64, "3d 78 56 34 12", "cmp_rAX_Iz", 5 },
	{ M64, "80 c0 12", "add_Eb_Ib", 3 },
	{ M64, "81 c0 78 56 34 12", "add_Ev_Iz", 6 },
	{ M32, "82 c0 12", "add_Eb_Ib_82", 3 },
	{ M16, "83 c0 12", "add_Ev_Ib", 3 },
	{ M64, "80 c8 12", "or_Eb_Ib", 3 },
	{ M64, "81 c8 78 56 34 12", "or_Ev_Iz", 6 },
	{ M32, "82 c8 12", "or_Eb_Ib_82", 3 },
	{ M16, "83 c8 12", "or_Ev_Ib", 3 },
	{ M64, "80 d0 12", "adc_Eb_Ib", 3 },
	{ M64, "81 d0 78 56 34 12", "adc_Ev_Iz", 6 },
	{ M32, "82 d0 12", "adc_Eb_Ib_82", 3 },
	{ M16, "83 d0 12", "adc_Ev_Ib", 3 },
	{ M64, "80 d8 12", "sbb_Eb_Ib", 3 },
	{ M64, "81 d8 78 56 34 12", "sbb_Ev_Iz", 6 },
	{ M32, "82 d8 12", "sbb_Eb_Ib_82", 3 },
	{ M16, "83 d8 12", "sbb_Ev_Ib", 3 },
	{ M64, "80 e0 12", "and_Eb_Ib", 3 },
	{ M64, "81 e0 78 56 34 12", "and_Ev_Iz", 6 },
	{ M32, "82 e0 12", "and_Eb_Ib_82", 3 },
	{ M16, "83 e0 12", "and_Ev_Ib", 3 },
	{ M64, "80 e8 12", "sub_Eb_Ib", 3 },
	{ M64, "81 e8 78 56 34 12", "sub_Ev_Iz", 6 },
	{ M32, "82 e8 12", "sub_Eb_Ib_82", 3 },
	{ M16, "83 e8 12", "sub_Ev_Ib", 3 },
	{ M64, "80 f0 12", "xor_Eb_Ib", 3 },
	{ M64, "81 f0 78 56 34 12", "xor_Ev_Iz", 6 },
	{ M32, "82 f0 12", "xor_Eb_Ib_82", 3 },
	{ M16, "83 f0 12", "xor_Ev_Ib", 3 },
	{ M64, "80 f8 12", "cmp_Eb_Ib", 3 },
	{ M64, "81 f8 78 56 34 12", "cmp_Ev_Iz", 6 },
	{ M32, "82 f8 12", "cmp_Eb_Ib_82", 3 },
	{ M16, "83 f8 12", "cmp_Ev_Ib", 3 },
	{ M64, "c0 c0 03", "rol_Eb_Ib", 3 },
	{ M64, "c1 40 08 03", "rol_Ev_Ib", 4 },
	{ M64, "d0 c0", "rol_Eb_1", 2 },
	{ M32, "d1 c0", "rol_Ev_1", 2 },
	{ M16, "d2 c0", "rol_Eb_CL", 2 },
	{ M64, "d3 c0", "rol_Ev_CL", 2 },
	{ M64, "c0 c8 03", "ror_Eb_Ib", 3 },
	{ M64, "c1 48 08 03", "ror_Ev_Ib", 4 },
	{ M64, "d0 c8", "ror_Eb_1", 2 },
	{ M32, "d1 c8", "ror_Ev_1", 2 },
	{ M16, "d2 c8", "ror_Eb_CL", 2 },
	{ M64, "d3 c8", "ror_Ev_CL", 2 },
	{ M64, "c0 d0 03", "rcl_Eb_Ib", 3 },
	{ M64, "c1 50 08 03", "rcl_Ev_Ib", 4 },
	{ M64, "d0 d0", "rcl_Eb_1", 2 },
	{ M32, "d1 d0", "rcl_Ev_1", 2 },
	{ M16, "d2 d0", "rcl_Eb_CL", 2 },
	{ M64, "d3 d0", "rcl_Ev_CL", 2 },
	{ M64, "c0 d8 03", "rcr_Eb_Ib", 3 },
	{ M64, "c1 58 08 03", "rcr_Ev_Ib", 4 },
	{ M64, "d0 d8", "rcr_Eb_1", 2 },
	{ M32, "d1 d8", "rcr_Ev_1", 2 },
	{ M16, "d2 d8", "rcr_Eb_CL", 2 },
	{ M64, "d3 d8", "rcr_Ev_CL", 2 },
	{ M64, "c0 e0 03", "shl_Eb_Ib", 3 },
	{ M64, "c1 60 08 03", "shl_Ev_Ib", 4 },
	{ M64, "d0 e0", "shl_Eb_1", 2 },
	{ M32, "d1 e0", "shl_Ev_1", 2 },
	{ M16, "d2 e0", "shl_Eb_CL", 2 },
	{ M64, "d3 e0", "shl_Ev_CL", 2 },
	{ M64, "c0 e8 03", "shr_Eb_Ib", 3 },
	{ M64, "c1 68 08 03", "shr_Ev_Ib", 4 },
	{ M64, "d0 e8", "shr_Eb_1", 2 },
	{ M32, "d1 e8", "shr_Ev_1", 2 },
	{ M16, "d2 e8", "shr_Eb_CL", 2 },
	{ M64, "d3 e8", "shr_Ev_CL", 2 },
	{ M64, "c0 f0 03", "sal_Eb_Ib", 3 },
	{ M64, "c1 70 08 03", "sal_Ev_Ib", 4 },
	{ M64, "d0 f0", "sal_Eb_1", 2 },
	{ M32, "d1 f0", "sal_Ev_1", 2 },
	{ M16, "d2 f0", "sal_Eb_CL", 2 },
	{ M64, "d3 f0", "sal_Ev_CL", 2 },
	{ M64, "c0 f8 03", "sar_Eb_Ib", 3 },
	{ M64, "c1 78 08 03", "sar_Ev_Ib", 4 },
	{ M64, "d0 f8", "sar_Eb_1", 2 },
	{ M32, "d1 f8", "sar_Ev_1", 2 },
	{ M16, "d2 f8", "sar_Eb_CL", 2 },
	{ M64, "d3 f8", "sar_Ev_CL", 2 },
	{ M32, "06", "push_ES", 1 },
	{ M32, "07", "pop_ES", 1 },
	{ M16, "0e", "push_CS", 1 },
	{ M32, "16", "push_SS", 1 },
	{ M32, "17", "pop_SS", 1 },
	{ M32, "1e", "push_DS", 1 },
	{ M32, "1f", "pop_DS", 1 },
	{ M32, "27", "daa", 1 },
	{ M32, "2f", "das", 1 },
	{ M16, "37", "aaa", 1 },
	{ M16, "3f", "aas", 1 },
	{ M32, "41", "inc_Zv", 1 },
	{ M16, "4a", "dec_Zv", 1 },
	{ M64, "53", "push_Zv", 1 },
	{ M64, "41 5b", "pop_Zv", 2 },
	{ M32, "60", "pusha", 1 },
	{ M16, "61", "popa", 1 },
	{ M32, "62 00", "bound_Gv_Ma", 2 },
	{ M32, "63 c0", "arpl_Ew_Gw", 2 },
	{ M64, "48 63 c1", "movsxd_Gv_Ed", 3 },
	{ M64, "68 78 56 34 12", "push_Iz", 5 },
	{ M64, "69 c0 78 56 34 12", "imul_Gv_Ev_Iz", 6 },
	{ M64, "6a 12", "push_Ib", 2 },
	{ M64, "6b c0 12", "imul_Gv_Ev_Ib", 3 },
	{ M32, "6c", "insb", 1 },
	{ M32, "f3 6d", "insv", 2 },
	{ M32, "6e", "outsb", 1 },
	{ M32, "6f", "outsv", 1 },
	{ M64, "74 fe", "jcc_Jb", 2 },
	{ M64, "84 c0", "test_Eb_Gb", 2 },
	{ M64, "85 c0", "test_Ev_Gv", 2 },
	{ M64, "86 c0", "xchg_Eb_Gb", 2 },
	{ M64, "87 c8", "xchg_Ev_Gv", 2 },
	{ M64, "88 c0", "mov_Eb_Gb", 2 },
	{ M64, "89 c0", "mov_Ev_Gv", 2 },
	{ M64, "8a c0", "mov_Gb_Eb", 2 },
	{ M64, "8b c0", "mov_Gv_Ev", 2 },
	{ M64, "8c d8", "mov_Ev_Sw", 2 },
	{ M64, "8d 04 24", "lea_Gv_M", 3 },
	{ M32, "8e d8", "mov_Sw_Ew", 2 },
	{ M64, "8f 00", "pop_Ev", 2 },
	{ M64, "90", "nop", 1 },
	{ M64, "93", "xchg_Zv_rAX", 1 },
	{ M64, "98", "cbw", 1 },
	{ M64, "99", "cwd", 1 },
	{ M32, "9a 78 56 34 12 08 00", "callf_Ap", 7 },
	{ M64, "9b", "fwait", 1 },
	{ M64, "9c", "pushf", 1 },
	{ M64, "9d", "popf", 1 },
	{ M64, "9e", "sahf", 1 },
	{ M64, "9f", "lahf", 1 },
	{ M32, "a0 78 56 34 12", "mov_AL_Ob", 5 },
	{ M16, "a1 34 12", "mov_rAX_Ov", 3 },
	{ M64, "a2 88 77 66 55 44 33 22 11", "mov_Ob_AL", 9 },
	{ M64, "67 a3 78 56 34 12", "mov_Ov_rAX", 6 },
	{ M64, "a4", "movsb", 1 },
	{ M64, "a5", "movsv", 1 },
	{ M64, "a6", "cmpsb", 1 },
	{ M64, "a7", "cmpsv", 1 },
	{ M64, "a8 12", "test_AL_Ib", 2 },
	{ M64, "a9 78 56 34 12", "test_rAX_Iz", 5 },
	{ M64, "aa", "stosb", 1 },
	{ M64, "ab", "stosv", 1 },
	{ M64, "ac", "lodsb", 1 },
	{ M64, "ad", "lodsv", 1 },
	{ M64, "ae", "scasb", 1 },
	{ M64, "af", "scasv", 1 },
	{ M64, "b3 12", "mov_Zb_Ib", 2 },
	{ M64, "48 bb 88 77 66 55 44 33 22 11", "mov_Zv_Iv", 10 },
	{ M64, "c2 08 00", "ret_Iw", 3 },
	{ M64, "c3", "ret", 1 },
	{ M32, "c4 00", "les_Gv_Mp", 2 },
	{ M16, "c5 07", "lds_Gv_Mp", 2 },
	{ M64, "c6 00 12", "mov_Eb_Ib", 3 },
	{ M64, "c7 00 78 56 34 12", "mov_Ev_Iz", 6 },
	{ M64, "c8 10 00 01", "enter_Iw_Ib", 4 },
	{ M64, "c9", "leave", 1 },
	{ M64, "ca 08 00", "retf_Iw", 3 },
	{ M64, "cb", "retf", 1 },
	{ M64, "cc", "int3", 1 },
	{ M64, "cd 80", "int_Ib", 2 },
	{ M32, "ce", "into", 1 },
	{ M64, "cf", "iret", 1 },
	{ M32, "d4 0a", "aam_Ib", 2 },
	{ M32, "d5 0a", "aad_Ib", 2 },
	{ M32, "d6", "salc", 1 },
	{ M64, "d7", "xlat", 1 },
	{ M64, "e0 fe", "loopne_Jb", 2 },
	{ M64, "e1 fe", "loope_Jb", 2 },
	{ M64, "e2 fe", "loop_Jb", 2 },
	{ M64, "e3 fe", "jrcxz_Jb", 2 },
	{ M64, "e4 60", "in_AL_Ib", 2 },
	{ M64, "e5 60", "in_eAX_Ib", 2 },
	{ M64, "e6 60", "out_Ib_AL", 2 },
	{ M64, "e7 60", "out_Ib_eAX", 2 },
	{ M64, "e8 00 01 00 00", "call_Jz", 5 },
	{ M16, "e9 00 01", "jmp_Jz", 3 },
	{ M16, "ea 34 12 00 f0", "jmpf_Ap", 5 },
	{ M64, "eb fe", "jmp_Jb", 2 },
	{ M64, "ec", "in_AL_DX", 1 },
	{ M64, "ed", "in_eAX_DX", 1 },
	{ M64, "ee", "out_DX_AL", 1 },
	{ M64, "ef", "out_DX_eAX", 1 },
	{ M64, "f1", "int1", 1 },
	{ M64, "f4", "hlt", 1 },
	{ M64, "f5", "cmc", 1 },
	{ M64, "f6 c0 12", "test_Eb_Ib", 3 },
	{ M64, "f6 c8 12", "test_Eb_Ib_1", 3 },
	{ M64, "f6 d0", "not_Eb", 2 },
	{ M64, "f6 d8", "neg_Eb", 2 },
	{ M64, "f6 e0", "mul_Eb", 2 },
	{ M64, "f6 e8", "imul_Eb", 2 },
	{ M64, "f6 f0", "div_Eb", 2 },
	{ M64, "f6 f8", "idiv_Eb", 2 },
	{ M64, "f7 c0 78 56 34 12", "test_Ev_Iz", 6 },
	{ M16, "f7 c8 34 12", "test_Ev_Iz_1", 4 },
	{ M64, "f7 d0", "not_Ev", 2 },
	{ M64, "f7 d8", "neg_Ev", 2 },
	{ M64, "f7 e0", "mul_Ev", 2 },
	{ M64, "f7 e8", "imul_Ev", 2 },
	{ M64, "f7 f0", "div_Ev", 2 },
	{ M64, "f7 f8", "idiv_Ev", 2 },
	{ M64, "f8", "clc", 1 },
	{ M64, "f9", "stc", 1 },
	{ M64, "fa", "cli", 1 },
	{ M64, "fb", "sti", 1 },
	{ M64, "fc", "cld", 1 },
	{ M64, "fd", "std", 1 },
	{ M64, "fe c0", "inc_Eb", 2 },
	{ M64, "fe c8", "dec_Eb", 2 },
	{ M64, "ff c0", "inc_Ev", 2 },
	{ M64, "ff c8", "dec_Ev", 2 },
	{ M64, "ff d0", "call_Ev", 2 },
	{ M64, "ff 18", "callf_Mp", 2 },
	{ M64, "ff e0", "jmp_Ev", 2 },
	{ M64, "ff 28", "jmpf_Mp", 2 },
	{ M64, "ff 30", "push_Ev", 2 },
	{ M64, "0f 00 c0", "sldt_Ew", 3 },
	{ M64, "0f 00 c8", "str_Ew", 3 },
	{ M64, "0f 00 d0", "lldt_Ew", 3 },
	{ M64, "0f 00 d8", "ltr_Ew", 3 },
	{ M64, "0f 00 e0", "verr_Ew", 3 },
	{ M64, "0f 00 e8", "verw_Ew", 3 },
	{ M64, "0f 01 00", "sgdt_Ms", 3 },
	{ M64, "0f 01 08", "sidt_Ms", 3 },
	{ M64, "0f 01 10", "lgdt_Ms", 3 },
	{ M16, "0f 01 1e 34 12", "lidt_Ms", 5 },
	{ M64, "0f 01 e0", "smsw_Ew", 3 },
	{ M64, "0f 01 f0", "lmsw_Ew", 3 },
	{ M64, "0f 01 38", "invlpg_Mb", 3 },
	{ M64, "0f 01 c1", "vmcall", 3 },
	{ M64, "0f 01 c2", "vmlaunch", 3 },
	{ M64, "0f 01 c3", "vmresume", 3 },
	{ M64, "0f 01 c4", "vmxoff", 3 },
	{ M64, "0f 01 c8", "monitor", 3 },
	{ M64, "0f 01 c9", "mwait", 3 },
	{ M64, "0f 01 ca", "clac", 3 },
	{ M64, "0f 01 cb", "stac", 3 },
	{ M64, "0f 01 d0", "xgetbv", 3 },
	{ M64, "0f 01 d1", "xsetbv", 3 },
	{ M64, "0f 01 d4", "vmfunc", 3 },
	{ M64, "0f 01 d8", "vmrun", 3 },
	{ M64, "0f 01 d9", "vmmcall", 3 },
	{ M64, "0f 01 da", "vmload", 3 },
	{ M64, "0f 01 db", "vmsave", 3 },
	{ M64, "0f 01 dc", "stgi", 3 },
	{ M64, "0f 01 dd", "clgi", 3 },
	{ M64, "0f 01 de", "skinit", 3 },
	{ M64, "0f 01 df", "invlpga", 3 },
	{ M64, "0f 01 f8", "swapgs", 3 },
	{ M64, "0f 01 f9", "rdtscp", 3 },
	{ M64, "0f 02 c0", "lar_Gv_Ew", 3 },
	{ M64, "0f 03 c0", "lsl_Gv_Ew", 3 },
	{ M64, "0f 05", "syscall", 2 },
	{ M64, "0f 06", "clts", 2 },
	{ M64, "48 0f 07", "sysret", 3 },
	{ M64, "0f 08", "invd", 2 },
	{ M64, "0f 09", "wbinvd", 2 },
	{ M64, "0f 0b", "ud2", 2 },
	{ M64, "0f 0d 08", "nop_Ev_0d", 3 },
	{ M64, "0f 1f 44 00 00", "nop_Ev", 5 },
	{ M64, "0f 20 c0", "mov_Rd_Cd", 3 },
	{ M64, "0f 21 c0", "mov_Rd_Dd", 3 },
	{ M64, "0f 22 d8", "mov_Cd_Rd", 3 },
	{ M64, "0f 23 c0", "mov_Dd_Rd", 3 },
	{ M64, "0f 30", "wrmsr", 2 },
	{ M64, "0f 31", "rdtsc", 2 },
	{ M64, "0f 32", "rdmsr", 2 },
	{ M64, "0f 33", "rdpmc", 2 },
	{ M32, "0f 34", "sysenter", 2 },
	{ M32, "0f 35", "sysexit", 2 },
	{ M32, "0f 37", "getsec", 2 },
	{ M64, "0f 44 c1", "cmovcc_Gv_Ev", 3 },
	{ M64, "0f 78 c8", "vmread_Ey_Gy", 3 },
	{ M64, "0f 79 c1", "vmwrite_Gy_Ey", 3 },
	{ M64, "0f 84 fc ff ff ff", "jcc_Jz", 6 },
	{ M64, "0f 94 c0", "setcc_Eb", 3 },
	{ M64, "0f a0", "push_FS", 2 },
	{ M64, "0f a1", "pop_FS", 2 },
	{ M64, "0f a2", "cpuid", 2 },
	{ M64, "0f a3 c0", "bt_Ev_Gv", 3 },
	{ M64, "0f a4 c0 04", "shld_Ev_Gv_Ib", 4 },
	{ M64, "0f a5 c0", "shld_Ev_Gv_CL", 3 },
	{ M64, "0f a8", "push_GS", 2 },
	{ M64, "0f a9", "pop_GS", 2 },
	{ M64, "0f aa", "rsm", 2 },
	{ M64, "0f ab c0", "bts_Ev_Gv", 3 },
	{ M64, "0f ac c0 04", "shrd_Ev_Gv_Ib", 4 },
	{ M64, "0f ad c0", "shrd_Ev_Gv_CL", 3 },
	{ M64, "0f ae 00", "fxsave_M", 3 },
	{ M64, "0f ae 08", "fxrstor_M", 3 },
	{ M64, "0f ae 10", "ldmxcsr_Md", 3 },
	{ M64, "0f ae 18", "stmxcsr_Md", 3 },
	{ M64, "0f ae 38", "clflush_Mb", 3 },
	{ M64, "0f ae e8", "lfence", 3 },
	{ M64, "0f ae f0", "mfence", 3 },
	{ M64, "0f ae f8", "sfence", 3 },
	{ M64, "f3 0f ae c0", "rdfsbase_Ry", 4 },
	{ M64, "f3 0f ae c8", "rdgsbase_Ry", 4 },
	{ M64, "f3 0f ae d0", "wrfsbase_Ry", 4 },
	{ M64, "f3 48 0f ae d8", "wrgsbase_Ry", 5 },
	{ M64, "0f af c1", "imul_Gv_Ev", 3 },
	{ M64, "0f b0 c8", "cmpxchg_Eb_Gb", 3 },
	{ M64, "0f b1 c8", "cmpxchg_Ev_Gv", 3 },
	{ M64, "0f b2 00", "lss_Gv_Mp", 3 },
	{ M64, "0f b3 c0", "btr_Ev_Gv", 3 },
	{ M64, "0f b4 00", "lfs_Gv_Mp", 3 },
	{ M64, "0f b5 00", "lgs_Gv_Mp", 3 },
	{ M64, "0f b6 c0", "movzx_Gv_Eb", 3 },
	{ M64, "0f b7 c0", "movzx_Gv_Ew", 3 },
	{ M64, "f3 0f b8 c0", "popcnt_Gv_Ev", 4 },
	{ M64, "0f b9 c0", "ud1_Gv_Ev", 3 },
	{ M64, "0f ba e0 03", "bt_Ev_Ib", 4 },
	{ M64, "0f ba e8 03", "bts_Ev_Ib", 4 },
	{ M64, "0f ba f0 03", "btr_Ev_Ib", 4 },
	{ M64, "0f ba f8 03", "btc_Ev_Ib", 4 },
	{ M64, "0f bb c0", "btc_Ev_Gv", 3 },
	{ M64, "0f bc c0", "bsf_Gv_Ev", 3 },
	{ M64, "f3 0f bc c0", "tzcnt_Gv_Ev", 4 },
	{ M64, "0f bd c0", "bsr_Gv_Ev", 3 },
	{ M64, "f3 0f bd c0", "lzcnt_Gv_Ev", 4 },
	{ M64, "0f be c0", "movsx_Gv_Eb", 3 },
	{ M64, "0f bf c0", "movsx_Gv_Ew", 3 },
	{ M64, "0f c0 c0", "xadd_Eb_Gb", 3 },
	{ M64, "0f c1 c0", "xadd_Ev_Gv", 3 },
	{ M64, "0f c7 08", "cmpxchg8b_Mq", 3 },
	{ M64, "0f c7 30", "vmptrld_Mq", 3 },
	{ M64, "66 0f c7 30", "vmclear_Mq", 4 },
	{ M64, "f3 0f c7 30", "vmxon_Mq", 4 },
	{ M64, "0f c7 38", "vmptrst_Mq", 3 },
	{ M64, "0f c7 f0", "rdrand_Rv", 3 },
	{ M64, "0f c7 f8", "rdseed_Rv", 3 },
	{ M64, "0f c8", "bswap_Zv", 2 },
	{ M64, "0f ff c0", "ud0_Gv_Ev", 3 },
	{ M64, "66 0f 38 80 08", "invept_Gy_Mdq", 5 },
	{ M64, "66 0f 38 81 08", "invvpid_Gy_Mdq", 5 },
	{ M64, "0f 38 f0 00", "movbe_Gv_Mv", 4 },
	{ M64, "0f 38 f1 00", "movbe_Mv_Gv", 4 },
};
#define NFORM_CASES (sizeof form_cases / sizeof form_cases[0])

static void test_forms(void)
{
	for (size_t k = 0; k < NFORM_CASES; k++) {
		const struct form_case *fc = &form_cases[k];
		check(fc->mode, fc->hex, fc->op, fc->len);
		/* One byte short: the decoder must ask for more, not guess. */
		uint8_t b[32];
		struct insn in;
		int n = parse_hex(fc->hex, b);
		int short_len = insn_decode(b, n - 1, fc->mode, &in);
		if (short_len != 0)
			printf("\n  [%d-bit] %s cut to %d bytes: got %d, want 0", 16 << fc->mode,
			       fc->hex, n - 1, short_len);
		CU_ASSERT_EQUAL(short_len, 0);
		/* Followed by other bytes (a 15-byte window): same length. */
		uint8_t w[15];
		memset(w, 0xcc, sizeof w);
		memcpy(w, b, (size_t)n);
		CU_ASSERT_EQUAL(insn_decode(w, 15, fc->mode, &in), fc->len);
	}
}

/* Every form but ud/toolong is the answer to at least one form_cases entry,
 * and decoding that entry really gives it. */
static void test_coverage(void)
{
	static unsigned char hit[OP__COUNT];
	memset(hit, 0, sizeof hit);
	for (size_t k = 0; k < NFORM_CASES; k++) {
		struct insn in;
		if (dec(form_cases[k].mode, form_cases[k].hex, &in) == form_cases[k].len &&
		    !strcmp(insn_op_name(in.op), form_cases[k].op))
			hit[in.op] = 1;
	}
	int missing = 0;
	for (unsigned op = 0; op < OP__COUNT; op++) {
		if (op == OP_ud || op == OP_toolong || hit[op])
			continue;
		printf("\n  no encoding in form_cases decodes to %s", insn_op_name(op));
		missing++;
	}
	CU_ASSERT_EQUAL(missing, 0);
}

/* decode_len.c's "has ModRM" bitmaps agree with opcodes.def's F_MODRM, so
 * a listed byte has the same length whichever path decodes it. */
static void test_tables_agree(void)
{
	static const struct { uint8_t map, byte; uint32_t flags; } defs[] = {
#define OP(name, map, byte, ext, pfx, flags) { map, byte, flags },
#include "opcodes.def"
#undef OP
	};
	int bad = 0;
	for (unsigned op = 2; op < OP__COUNT; op++) {
		int span = defs[op].flags & F_CC ? 16 : defs[op].flags & F_ZREG ? 8 : 1;
		for (int k = 0; k < span; k++) {
			int want = (defs[op].flags & F_MODRM) != 0;
			if (dlen_has_modrm(defs[op].map, defs[op].byte + k) != want) {
				printf("\n  %s (map %d byte %02x): ModRM table disagrees",
				       insn_op_name(op), defs[op].map, defs[op].byte + k);
				bad++;
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_STRING_EQUAL(insn_op_name(OP_add_Ev_Gv), "add_Ev_Gv");
}

/* ... and so do its immediate sizes (32-bit operands, 64-bit addresses). */
static void test_imm_tables_agree(void)
{
	static const struct { uint8_t map, byte; uint16_t ext; uint32_t flags; } defs[] = {
#define OP(name, map, byte, ext, pfx, flags) { map, byte, ext, flags },
#include "opcodes.def"
#undef OP
	};
	struct dstate s = { .mode = M64, .osize = 4, .asize = 8 };
	int bad = 0;
	for (unsigned op = 2; op < OP__COUNT; op++) {
		uint32_t f = defs[op].flags;
		int want = (f & F_IB ? 1 : 0) + (f & F_IW ? 2 : 0) + (f & F_IZ ? 4 : 0) +
			   (f & F_IV ? 4 : 0) + (f & F_MOFFS ? 8 : 0) + (f & F_IWIB ? 3 : 0) +
			   (f & F_FAR ? 6 : 0);
		uint8_t modrm = (uint8_t)(defs[op].ext & 0x400 ? defs[op].ext & 0xff
					  : (defs[op].ext & 7) << 3);
		int span = f & F_CC ? 16 : f & F_ZREG ? 8 : 1;
		for (int k = 0; k < span; k++) {
			int got = dlen_imm_size(&s, defs[op].map, defs[op].byte + k, modrm);
			if (got != want) {
				printf("\n  %s (map %d byte %02x): immediate table says %d, form %d",
				       insn_op_name(op), defs[op].map, defs[op].byte + k, got, want);
				bad++;
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_STRING_EQUAL(insn_op_name(OP__COUNT + 5), "?");
}

int main(void)
{
	static const struct decode_test tests[] = {
		{ "every opcodes.def form", test_forms },
		{ "coverage of opcodes.def", test_coverage },
		{ "ModRM tables agree with opcodes.def", test_tables_agree },
		{ "immediate tables agree with opcodes.def", test_imm_tables_agree },
	};
	return run_decode_tests("decode forms", tests, 4);
}
