/*
 * test_vmx.c - the emulated VT-x (vmx/) piece by piece: the VMCS field
 * table (which encodings exist, their widths), the VM-entry check table
 * (a valid VMCS passes; each broken field fails with its kind and SDM
 * section), and the EPT walker (4 KiB, 2 MiB and 1 GiB pages, rights,
 * violations with their qualification, misconfigurations, A/D bits).
 * Whole-system proof is the boot.nl_vmx_* tests (nesthv on --cpu vmx).
 */
#include <setjmp.h>
#include <string.h>

#include "arch.h"
#include "model.h"
#include "unit_util.h"
#include "vmx.h"

static struct cpu *vmx_cpu(void)
{
	static struct cpu c;
	static bool live;
	if (live)
		cpu_free(&c);
	CU_ASSERT_FATAL(cpu_init(&c, cpu_model_find("vmx"), UT_RAM) == 0);
	live = true;
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.virt);
	return &c;
}

static void test_fields(void)
{
	CU_ASSERT(vmcs_index(VMCS_GUEST_RIP) >= 0);
	CU_ASSERT_EQUAL(vmcs_width(VMCS_GUEST_RIP), 0);          /* natural width */
	CU_ASSERT_EQUAL(vmcs_width(VMCS_IO_BITMAP_A), 64);
	CU_ASSERT(vmcs_index(VMCS_IO_BITMAP_A | 1) >= 0);         /* high access */
	CU_ASSERT_EQUAL(vmcs_width(VMCS_IO_BITMAP_A | 1), 32);
	CU_ASSERT_EQUAL(vmcs_index(VMCS_VPID | 1), -1);           /* no high half of a 16-bit field */
	CU_ASSERT_EQUAL(vmcs_index(VMCS_PIN_BASED_CONTROLS | 1), -1);
	CU_ASSERT_EQUAL(vmcs_index(0x8000 | VMCS_GUEST_RIP), -1); /* reserved bit 15 */
	CU_ASSERT_EQUAL(vmcs_index(1ull << 32 | VMCS_GUEST_RIP), -1);
	CU_ASSERT_EQUAL(vmcs_index(0x6c18), -1);                  /* beyond HOST_RIP */
	CU_ASSERT_EQUAL(vmcs_width(VMCS_GUEST_ES_SEL), 16);
	CU_ASSERT_EQUAL(vmcs_width(VMCS_EXIT_REASON), 32);
	CU_ASSERT(vmcs_read_only(VMCS_EXIT_REASON));
	CU_ASSERT(vmcs_read_only(VMCS_GUEST_PHYSICAL_ADDRESS));
	CU_ASSERT_FALSE(vmcs_read_only(VMCS_GUEST_RIP));
	CU_ASSERT_EQUAL(vmcs_mask_value(VMCS_GUEST_CS_SEL, 0x12345), 0x2345);
	CU_ASSERT_EQUAL(vmcs_mask_value(VMCS_GUEST_CS_LIMIT, 0x123456789ull), 0x23456789);
	CU_ASSERT_EQUAL(vmcs_mask_value(VMCS_GUEST_RIP, ~0ull), ~0ull);
	CU_ASSERT_STRING_EQUAL(vmcs_field_name(vmcs_index(VMCS_EPT_POINTER)), "EPT_POINTER");
	/* every encoding's index maps back to itself */
#define X(name, enc) CU_ASSERT_STRING_EQUAL(vmcs_field_name(vmcs_index(enc)), #name);
	VMCS_FIELDS(X)
#undef X
	/* VMCS_ENUM's highest index is the real highest */
	struct cpu *c = vmx_cpu();
	static const uint32_t encs[] = {
#define X(name, enc) enc,
		VMCS_FIELDS(X)
#undef X
	};
	unsigned hi = 0;
	for (size_t k = 0; k < sizeof encs / sizeof encs[0]; k++)
		if (((encs[k] >> 1) & 0x1ff) > hi)
			hi = (encs[k] >> 1) & 0x1ff;
	CU_ASSERT_EQUAL(vmx_cap(vmx_of(c), 0x48a), (uint64_t)hi << 1);
}

/* A VMCS that passes every check: nesthv's first entry (64-bit host,
 * unrestricted 32-bit guest with paging off, EPT, VPID). */
static void valid_vmcs(struct cpu *c, struct vmx *s)
{
	uint64_t *f = s->f;
	memset(f, 0, sizeof s->f);
	c->efer |= EFER_LMA | EFER_LME;
	f[F_PIN_BASED_CONTROLS] = 0x16 | PIN_EXTINT_EXITING | PIN_NMI_EXITING;
	f[F_PROC_BASED_CONTROLS] = 0x04006172 | PROC_HLT_EXITING | PROC_USE_IO_BITMAPS |
				   PROC_USE_MSR_BITMAPS | PROC_SECONDARY;
	f[F_PROC_BASED_CONTROLS2] = PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED;
	f[F_EXIT_CONTROLS] = 0x00036dfb | EXIT_HOST_64BIT | EXIT_SAVE_EFER | EXIT_LOAD_EFER;
	f[F_ENTRY_CONTROLS] = 0x000011fb | ENTRY_LOAD_EFER;
	f[F_IO_BITMAP_A] = 0x10000; f[F_IO_BITMAP_B] = 0x11000; f[F_MSR_BITMAP] = 0x12000;
	f[F_EPT_POINTER] = 0x100000 | 6 | 3 << 3;
	f[F_VPID] = 1;
	f[F_HOST_CR0] = 0x80050033; f[F_HOST_CR3] = 0x1000; f[F_HOST_CR4] = 0x2020;
	f[F_HOST_CS_SEL] = 0x8; f[F_HOST_SS_SEL] = 0x10; f[F_HOST_DS_SEL] = 0x10;
	f[F_HOST_ES_SEL] = 0x10; f[F_HOST_TR_SEL] = 0x28;
	f[F_HOST_IA32_EFER] = 0x500; f[F_HOST_RIP] = 0xffffffff80100000ull;
	for (int k = 0; k < 6; k++) {
		f[F_GUEST_ES_SEL + k] = k == 1 ? 8 : 0x10;
		f[F_GUEST_ES_LIMIT + k] = 0xffffffff;
		f[F_GUEST_ES_AR + k] = k == 1 ? 0xc09b : 0xc093;
	}
	f[F_GUEST_LDTR_AR] = VMX_AR_UNUSABLE;
	f[F_GUEST_TR_AR] = 0x8b; f[F_GUEST_TR_LIMIT] = 0x67;
	f[F_GUEST_GDTR_LIMIT] = f[F_GUEST_IDTR_LIMIT] = 0xffff;
	f[F_GUEST_CR0] = 0x31; f[F_GUEST_CR4] = 0x2000;
	f[F_GUEST_DR7] = 0x400; f[F_GUEST_RFLAGS] = 2; f[F_GUEST_RIP] = 0x102409;
	f[F_VMCS_LINK_POINTER] = ~0ull;
}

struct broken { int field; uint64_t value; enum vmx_check_fail kind; const char *section; };

static void test_checks(void)
{
	static const struct broken cases[] = {
		{ F_PIN_BASED_CONTROLS, 0x0, VMXC_CONTROLS, "SDM 27.2.1.1" },        /* default-1 bits clear */
		{ F_PROC_BASED_CONTROLS2, PROC2_UNRESTRICTED | PROC2_ENABLE_VPID, VMXC_CONTROLS, "SDM 27.2.1.1" },
		{ F_CR3_TARGET_COUNT, 5, VMXC_CONTROLS, "SDM 27.2.1.1" },
		{ F_IO_BITMAP_A, 0x10001, VMXC_CONTROLS, "SDM 27.2.1.1" },
		{ F_EPT_POINTER, 0x100000 | 6 | 2 << 3, VMXC_CONTROLS, "SDM 27.2.1.1" },  /* 3-level walk */
		{ F_VPID, 0, VMXC_CONTROLS, "SDM 27.2.1.1" },
		{ F_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | 3, VMXC_CONTROLS, "SDM 27.2.1.3" },
		{ F_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_HW_EXC | 13, VMXC_CONTROLS, "SDM 27.2.1.3" },
		{ F_HOST_CR0, 0x80050032, VMXC_HOST, "SDM 27.2.2" },                   /* PE clear */
		{ F_HOST_CR4, 0x20, VMXC_HOST, "SDM 27.2.2" },                         /* VMXE clear */
		{ F_HOST_CS_SEL, 0, VMXC_HOST, "SDM 27.2.3" },
		{ F_HOST_SS_SEL, 0x13, VMXC_HOST, "SDM 27.2.3" },
		{ F_HOST_GS_BASE, 0x0000800000000000ull, VMXC_HOST, "SDM 27.2.3" },
		{ F_HOST_RIP, 0x0000800000000000ull, VMXC_HOST, "SDM 27.2.4" },
		{ F_GUEST_CR0, 0x80000030, VMXC_GUEST, "SDM 27.3.1.1" },               /* PG without PE */
		{ F_GUEST_CS_AR, 0xc09a, VMXC_GUEST, "SDM 27.3.1.2" },
		{ F_GUEST_SS_AR, 0x4093, VMXC_GUEST, "SDM 27.3.1.2" },                 /* G vs limit */
		{ F_GUEST_TR_AR, 0x89, VMXC_GUEST, "SDM 27.3.1.2" },
		{ F_GUEST_GDTR_LIMIT, 0x10000, VMXC_GUEST, "SDM 27.3.1.3" },
		{ F_GUEST_RIP, 0x100000000ull, VMXC_GUEST, "SDM 27.3.1.4" },
		{ F_GUEST_RFLAGS, 0xa, VMXC_GUEST, "SDM 27.3.1.4" },
		{ F_GUEST_ACTIVITY_STATE, 2, VMXC_GUEST, "SDM 27.3.1.5" },
		{ F_GUEST_INTERRUPTIBILITY, 3, VMXC_GUEST, "SDM 27.3.1.5" },
		{ F_VMCS_LINK_POINTER, 0, VMXC_GUEST, "SDM 27.3.1.5" },
	};
	struct cpu *c = vmx_cpu();
	struct vmx *s = vmx_of(c);
	uint64_t q = 1;
	valid_vmcs(c, s);
	CU_ASSERT_EQUAL(vmx_check_entry(c, s, &q), VMXC_OK);
	CU_ASSERT_EQUAL(q, 0);
	CU_ASSERT_PTR_NULL(s->rule);
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		valid_vmcs(c, s);
		s->f[cases[k].field] = cases[k].value;
		CU_ASSERT_EQUAL(vmx_check_entry(c, s, &q), cases[k].kind);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s->rule);
		CU_ASSERT_STRING_EQUAL(s->section, cases[k].section);
	}
}

/* EPT tables at 0x100000: PML4 -> PDPT 0x101000 -> PD 0x102000 -> PT 0x103000. */
#define EPT_RWX_WB (EPT_R | EPT_W | EPT_X | 6ull << 3)

static void put(struct cpu *c, uint64_t pa, uint64_t v)
{
	cpu_phys_write(c, pa, &v, 8);
}

static uint64_t get(struct cpu *c, uint64_t pa)
{
	uint64_t v;
	cpu_phys_read(c, pa, &v, 8);
	return v;
}

/* One translation; on an exit, the reason and qualification recorded. */
static uint64_t walk(struct cpu *c, uint64_t gpa, unsigned flags, uint32_t *reason, uint64_t *qual)
{
	struct vmx *s = vmx_of(c);
	jmp_buf jb;
	c->unwind = &jb;
	*reason = ~0u;
	if (setjmp(jb)) {
		c->unwind = NULL;
		*reason = s->ex.reason;
		*qual = s->ex.qual;
		CU_ASSERT_EQUAL(s->ex.gpa, gpa);
		memset(&s->ex, 0, sizeof s->ex);
		return ~0ull;
	}
	uint64_t hpa = vmx_gpa(c, gpa, flags, 0x1234);
	c->unwind = NULL;
	return hpa;
}

static void test_ept(void)
{
	struct cpu *c = vmx_cpu();
	struct vmx *s = vmx_of(c);
	s->f[F_EPT_POINTER] = 0x100000 | 6 | 3 << 3 | EPTP_AD;
	put(c, 0x100000, 0x101000 | EPT_R | EPT_W | EPT_X);
	put(c, 0x101000, 0x102000 | EPT_R | EPT_W | EPT_X);
	put(c, 0x101008, 0x40000000 | EPT_RWX_WB | EPT_LARGE);        /* 1 GiB: gpa 1G -> 1G */
	put(c, 0x102000, 0x103000 | EPT_R | EPT_W | EPT_X);
	put(c, 0x102008, 0x200000 | EPT_RWX_WB | EPT_LARGE);          /* 2 MiB: gpa 2M -> 2M */
	put(c, 0x103000 + 5 * 8, 0x300000 | EPT_RWX_WB);               /* gpa 5000 -> 300000 */
	put(c, 0x103000 + 6 * 8, 0x301000 | EPT_R | 6ull << 3);        /* read-only */
	put(c, 0x103000 + 7 * 8, 0x302000 | EPT_X | 6ull << 3);        /* execute-only */
	put(c, 0x103000 + 8 * 8, 0x303000 | EPT_W | 6ull << 3);        /* W without R */
	put(c, 0x103000 + 9 * 8, 0x304000 | EPT_R | 2ull << 3);        /* memory type 2 */
	put(c, 0x102010, 0x7f000000000ull | EPT_R | EPT_W | EPT_X);    /* a PT outside RAM */
	uint32_t r;
	uint64_t q;
	CU_ASSERT_EQUAL(walk(c, 0x5123, VIRT_GPA_READ, &r, &q), 0x300123);
	CU_ASSERT_EQUAL(get(c, 0x103000 + 5 * 8) & (EPT_A | EPT_D), EPT_A);
	CU_ASSERT_EQUAL(walk(c, 0x5123, VIRT_GPA_WRITE, &r, &q), 0x300123);
	CU_ASSERT_EQUAL(get(c, 0x103000 + 5 * 8) & (EPT_A | EPT_D), EPT_A | EPT_D);
	CU_ASSERT_EQUAL(walk(c, 0x2abcde, VIRT_GPA_EXEC, &r, &q), 0x2abcde);
	CU_ASSERT_EQUAL(walk(c, 0x7654321ull + 0x40000000, VIRT_GPA_READ, &r, &q), 0x47654321ull);
	CU_ASSERT_EQUAL(walk(c, 0x6000, VIRT_GPA_READ, &r, &q), 0x301000);
	/* write to a read-only page: violation, "write", readable */
	walk(c, 0x6010, VIRT_GPA_WRITE | VIRT_GPA_LIN, &r, &q);
	CU_ASSERT_EQUAL(r, VMX_EXIT_EPT_VIOLATION);
	CU_ASSERT_EQUAL(q, EPT_Q_WRITE | EPT_Q_READABLE | EPT_Q_GLA_VALID | EPT_Q_GLA_FINAL);
	/* read of an execute-only page; a guest paging-structure access */
	walk(c, 0x7000, VIRT_GPA_READ | VIRT_GPA_WALK | VIRT_GPA_LIN, &r, &q);
	CU_ASSERT_EQUAL(r, VMX_EXIT_EPT_VIOLATION);
	CU_ASSERT_EQUAL(q, EPT_Q_READ | EPT_Q_EXECUTABLE | EPT_Q_GLA_VALID);
	CU_ASSERT_EQUAL(walk(c, 0x7000, VIRT_GPA_EXEC, &r, &q), 0x302000);
	/* not present (PT entry 10 is 0): nothing allowed */
	walk(c, 0xa000, VIRT_GPA_EXEC, &r, &q);
	CU_ASSERT_EQUAL(r, VMX_EXIT_EPT_VIOLATION);
	CU_ASSERT_EQUAL(q, EPT_Q_FETCH);
	/* misconfigurations: W without R, memory type 2, a table outside RAM */
	walk(c, 0x8000, VIRT_GPA_READ, &r, &q);
	CU_ASSERT_EQUAL(r, VMX_EXIT_EPT_MISCONFIG);
	walk(c, 0x9000, VIRT_GPA_READ, &r, &q);
	CU_ASSERT_EQUAL(r, VMX_EXIT_EPT_MISCONFIG);
	walk(c, 0x400000, VIRT_GPA_READ, &r, &q);
	CU_ASSERT_EQUAL(r, VMX_EXIT_EPT_MISCONFIG);
	/* a probe never exits */
	CU_ASSERT_EQUAL(walk(c, 0xa000, VIRT_GPA_READ | VIRT_GPA_PROBE, &r, &q), ~0ull);
	CU_ASSERT_EQUAL(r, ~0u);
	/* EPTP validity */
	CU_ASSERT(vmx_eptp_ok(s, 0x100000 | 6 | 3 << 3));
	CU_ASSERT(vmx_eptp_ok(s, 0x100000 | 0 | 3 << 3));
	CU_ASSERT_FALSE(vmx_eptp_ok(s, 0x100000 | 1 | 3 << 3));        /* WC: not offered */
	CU_ASSERT_FALSE(vmx_eptp_ok(s, 0x100000 | 6 | 3 << 3 | 0x80));  /* reserved bit 7 */
	CU_ASSERT_FALSE(vmx_eptp_ok(s, 1ull << 45 | 6 | 3 << 3));        /* beyond MAXPHYADDR */
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "VMCS field encodings and widths", test_fields },
		{ "VM-entry check table", test_checks },
		{ "EPT walk, violations, misconfigurations", test_ept },
		{ NULL, NULL },
	};
	return ut_main("vmx", cases);
}
