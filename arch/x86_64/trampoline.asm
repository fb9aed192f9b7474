; trampoline.asm - where an application processor starts (Intel SDM vol. 3, 9.4).
;
; A STARTUP IPI starts the AP in real mode at CS:IP = page:0, so mp.c copies
; the code between arch_trampoline_start and arch_trampoline_end to a page
; below 1 MiB and fills the data block at TD_BASE (trampoline.h; the TD_*
; offsets come from asm-offsets.inc, generated from that C struct).  The AP
; climbs 16-bit -> 32-bit protected -> 64-bit long mode on small tables that
; identity-map the low 2 MiB, then jumps into the kernel image, which loads
; the kernel's own CR3 and calls the C entry on the AP's kernel stack.

bits 64
default rel

%include "asm-offsets.inc"
%include "outermost.inc"

%define TD(field) (TD_BASE + field)
%define OFFSET(label) (label - arch_trampoline_start)

CODE32_SEL equ 0x08
DATA32_SEL equ 0x10
CODE64_SEL equ 0x18
CR4_PAE    equ 1 << 5
CR0_PE     equ 1 << 0
CR0_WP     equ 1 << 16
CR0_PG     equ 1 << 31
CR0_NW_CD  equ (1 << 29) | (1 << 30)
MSR_EFER   equ 0xc0000080

section .rodata
global arch_trampoline_start
global arch_trampoline_end
align 16
arch_trampoline_start:
bits 16
    cli
    cld
    mov ax, cs
    mov ds, ax
    movzx ebx, ax
    shl ebx, 4                          ; ebx = physical address of this page
    ; What depends on where the page is: the GDT base and both far jump targets.
    lea eax, [ebx + TD(TD_GDT)]
    mov [TD(TD_GDT_BASE)], eax
    lea eax, [ebx + OFFSET(protected32)]
    mov [TD(TD_FAR32)], eax
    mov word [TD(TD_FAR32_SEL)], CODE32_SEL
    lea eax, [ebx + OFFSET(long64)]
    mov [TD(TD_FAR64)], eax
    mov word [TD(TD_FAR64_SEL)], CODE64_SEL
    o32 lgdt [TD(TD_GDTR)]
    mov eax, cr0
    or eax, CR0_PE
    mov cr0, eax
    jmp dword far [TD(TD_FAR32)]

bits 32
protected32:
    mov ax, DATA32_SEL
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, [ebx + TD(TD_LOW_CR3)]
    mov cr3, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, [ebx + TD(TD_EFER)]         ; LME, and NXE: the kernel's tables use NX
    wrmsr
    mov eax, cr0
    and eax, ~CR0_NW_CD                 ; INIT leaves the caches disabled
    or eax, CR0_PG | CR0_WP
    mov cr0, eax
    jmp far [ebx + TD(TD_FAR64)]

bits 64
long64:
    mov ebx, ebx                        ; upper halves are undefined after the mode switch
    mov rsp, [rbx + TD(TD_STACK)]
    mov rdi, [rbx + TD(TD_ARG)]
    mov rsi, [rbx + TD(TD_ENTRY)]
    mov rcx, [rbx + TD(TD_KERNEL_CR3)]
    jmp [rbx + TD(TD_HIGH_ENTRY)]

    ; NASM refuses a negative count: the code cannot grow into the data block.
    times TD_BASE - ($ - arch_trampoline_start) db 0xcc
arch_trampoline_end:

; In the kernel image, reached through the low tables (which map the kernel's
; half too): switch to the kernel's CR3, which has no identity map, then C.
section .text
global arch_ap_high_entry
arch_ap_high_entry:
    mov cr3, rcx
    OUTERMOST_FRAME
    call rsi
.hang:
    cli
    hlt
    jmp .hang
