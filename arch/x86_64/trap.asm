; trap.asm - one stub per IDT vector, all funnelled into KiTrapCommon.
;
; Each stub makes the stack look the same (a zero error code where the CPU
; pushes none, then the vector number) and jumps to KiTrapCommon
; (trapentry.S), which saves the general registers and calls KiDispatchTrap.

bits 64
default rel

extern KiTrapCommon

; Vectors for which the CPU pushes an error code (Intel SDM vol. 3, 6.13).
%define HAS_ERRCODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

section .text

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
