/* hostile_entry.S - entry point of the hostile PV test guest, plus the small
 * ring-3 "user program" of the priv_user case.
 *
 * nesthv starts a PV guest at its ELF entry with rsi = start info
 * (pv/include/nestpv.h); we pass it on to hostile_main.  Traps use the
 * teaching guest's entry.S (linked in), which calls trap() in hostile.c.
 */
        .text
        .code64
        .global guest_start_pv
guest_start_pv:
        movq %rsi, %rdi
        call hostile_main
        ud2

/* Runs in guest user mode (CS 0x2b).  Each privileged instruction faults;
 * nesthv reflects #GP to the guest kernel, whose handler skips it. */
        .global hostile_user_code
hostile_user_code:
        cli                             /* 1 byte */
        hlt                             /* 1 byte */
        movl $0, %eax
        int $0x82                       /* a hypercall from user mode: 2 bytes */
        int $0x80                       /* done: system call to the guest kernel */
        ud2
