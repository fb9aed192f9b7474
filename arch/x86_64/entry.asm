; entry.asm - the first kernel instructions, and the stack switch.
;
; The loader jumps here with interrupts off, RDI = physical address of the
; boot record, its own page tables in CR3 (kernel, direct map, identity map)
; and the firmware's GDT and IDT still loaded.  We take a stack of our own in
; .bss and go to C; KiSystemStartup replaces everything else.

bits 64
default rel

extern KiSystemStartup

%include "outermost.inc"

section .text.entry progbits alloc exec nowrite align=16
global KiSystemEntry
KiSystemEntry:
    cli
    cld
    mov rsp, KiBootStackTop     ; 16-byte aligned: the call leaves RSP = 8 mod 16
    OUTERMOST_FRAME
    call KiSystemStartup
.hang:
    cli
    hlt
    jmp .hang

; void arch_switch_stack(uint64_t top, void (*fn)(void *), void *arg)
; Runs fn(arg) on the stack ending at top; fn never returns.  Still in .text.entry: NASM's DWARF
; describes one code section per file, and gdb warns about a pc in a second one.
global arch_switch_stack
arch_switch_stack:
    mov rsp, rdi
    and rsp, -16
    OUTERMOST_FRAME
    mov rdi, rdx
    call rsi
.hang:
    cli
    hlt
    jmp .hang

; void arch_call_on_stack(uint64_t top, void (*fn)(void *), void *arg)
; Calls fn(arg) on the stack ending at top and comes back to the caller's stack.
; RBP keeps the old frame, so a backtrace walks from one stack into the other.
global arch_call_on_stack
arch_call_on_stack:
    push rbp
    mov rbp, rsp
    mov rsp, rdi
    and rsp, -16
    mov rdi, rdx
    call rsi
.returned:
    mov rsp, rbp
    pop rbp
    ret

; The stack walker (kernel/ke/stack.c) follows RBP back to the caller's stack from this return address.
section .rodata
global arch_call_on_stack_return
align 8
arch_call_on_stack_return:
    dq arch_call_on_stack.returned

section .bss nobits alloc noexec write align=4096
KiBootStack:
    resb 16384
KiBootStackTop:
