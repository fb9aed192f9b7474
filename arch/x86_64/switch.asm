; switch.asm - a thread switch (kernel/ke/dispatch.c decides which thread).
; Only the callee-saved registers need saving: the switch is a call, so the
; compiler already keeps everything else the caller needs on its stack.
bits 64
default rel
%include "outermost.inc"

section .text

; void arch_switch_context(uint64_t *old_rsp, uint64_t new_rsp, volatile uint8_t *old_running)
; Saves this thread's registers on its stack and its RSP in *old_rsp, loads the
; other's, then clears *old_running: from that store on, another CPU may
; resume the old thread.  Interrupts are off around it (the caller's duty).
global arch_switch_context
arch_switch_context:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov rsp, rsi
    mov byte [rdx], 0
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

; A new thread's first return lands here (arch_thread_stack built its frame):
; r14(r12, r13), which never returns.
global arch_thread_start
arch_thread_start:
    OUTERMOST_FRAME
    mov rdi, r12
    mov rsi, r13
    call r14
    ud2
