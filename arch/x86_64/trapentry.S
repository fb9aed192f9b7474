/*
 * trapentry.S - KiTrapCommon, where trap.asm's 256 stubs meet: it saves the
 * general registers in the order trapframe.h asserts and calls
 * KiDispatchTrap(KTRAP_FRAME *).  The CPU has aligned RSP to 16 before its
 * push (64-bit mode always does), so the frame is 16-aligned at the call.
 *
 * GNU as, not NASM: NASM has no .cfi directives, and gas writes the DWARF CFI
 * (DWARF 5, 6.4) that lets gdb unwind from KiDispatchTrap into the
 * interrupted frame, as Linux's entry_64.S once did with its INTR_FRAME.
 */
#include "asm-offsets.h"

    .intel_syntax noprefix
    .cfi_sections .debug_frame

/* A push the unwinder knows: the register is saved at the new RSP. */
.macro SAVE reg
    push \reg
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset \reg, 0
.endm

.macro RESTORE reg
    pop \reg
    .cfi_adjust_cfa_offset -8
    .cfi_restore \reg
.endm

    .text
    .globl KiTrapCommon
    .type KiTrapCommon, @function
KiTrapCommon:
    /* At entry RSP points at the stub's vector; the CFA is the end of the CPU's frame (Intel SDM
     * vol. 3, 6.14.2), the interrupted RIP and RSP are saved in it, and "S" (signal frame) tells
     * the unwinder that RIP is the interrupted instruction itself, not a return address. */
    .cfi_startproc simple
    .cfi_signal_frame
    .cfi_def_cfa rsp, KTF_SIZE - KTF_VECTOR
    .cfi_rel_offset rip, KTF_RIP - KTF_VECTOR
    .cfi_rel_offset rsp, KTF_RSP - KTF_VECTOR
    SAVE rax
    SAVE rbx
    SAVE rcx
    SAVE rdx
    SAVE rsi
    SAVE rdi
    SAVE rbp
    SAVE r8
    SAVE r9
    SAVE r10
    SAVE r11
    SAVE r12
    SAVE r13
    SAVE r14
    SAVE r15
    cld
    mov rdi, rsp
    call KiDispatchTrap
.Ldispatched:
    RESTORE r15
    RESTORE r14
    RESTORE r13
    RESTORE r12
    RESTORE r11
    RESTORE r10
    RESTORE r9
    RESTORE r8
    RESTORE rbp
    RESTORE rdi
    RESTORE rsi
    RESTORE rdx
    RESTORE rcx
    RESTORE rbx
    RESTORE rax
    add rsp, 16                 /* vector and error code */
    .cfi_adjust_cfa_offset -16
    iretq
    .cfi_endproc
    .size KiTrapCommon, . - KiTrapCommon

/* The stack walker (kernel/ke/stack.c) finds a KTRAP_FRAME just above a frame returning here. */
    .section .rodata
    .globl arch_trap_return
    .balign 8
arch_trap_return:
    .quad .Ldispatched

    .section .note.GNU-stack, "", @progbits
