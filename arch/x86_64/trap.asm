; trap.asm - one stub per IDT vector, all funnelled into KiDispatchTrap.
;
; Each stub makes the stack look the same (a zero error code where the CPU
; pushes none, then the vector number) and jumps to KiTrapCommon, which saves
; the general registers in the order trapframe.h asserts and calls
; KiDispatchTrap(KTRAP_FRAME *).  The CPU has aligned RSP to 16 before its
; push (64-bit mode always does), so the frame is 16-aligned at the call.

bits 64
default rel

extern KiDispatchTrap

; Vectors for which the CPU pushes an error code (Intel SDM vol. 3, 6.13).
%define HAS_ERRCODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

section .text

KiTrapCommon:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    cld
    mov rdi, rsp
    call KiDispatchTrap
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16                 ; vector and error code
    iretq

%assign v 0
%rep 256
align 16
KiTrapStub %+ v:
%if HAS_ERRCODE(v) == 0
    push qword 0
%endif
    push qword v
    jmp KiTrapCommon
%assign v v + 1
%endrep

; The IDT builder in cpu.c reads the stub addresses from here.
section .rodata
global KiTrapStubTable
align 8
KiTrapStubTable:
%assign v 0
%rep 256
    dq KiTrapStub %+ v
%assign v v + 1
%endrep
