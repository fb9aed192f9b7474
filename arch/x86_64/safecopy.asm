; safecopy.asm - a memory copy that survives a fault: the debugger's reads of
; addresses a user typed (MmCopyMemory).  The .kfixup entry tells the trap
; handler (kernel/ke/trap.c) that a #PF or #GP at .copy resumes at .fault
; instead of bugchecking; rep movsb leaves the bytes not copied in rcx.

bits 64
default rel

section .text
global arch_copy_safe
; size_t arch_copy_safe(void *dst (rdi), const void *src (rsi), size_t n (rdx)):
; returns the number of bytes not copied (0 when all were).
arch_copy_safe:
    mov rcx, rdx
.copy:
    rep movsb
    xor eax, eax
    ret
.fault:
    mov rax, rcx
    ret

section .kfixup progbits alloc noexec nowrite align=8
    dq arch_copy_safe.copy, arch_copy_safe.fault
