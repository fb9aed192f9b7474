/*
 * asm-offsets.c - turns C layouts into NASM %defines (build/asm-offsets.inc)
 * and C-preprocessor #defines for GNU as (build/asm-offsets.h).
 *
 * Compiled to assembly only: each DEFINE leaves a marker line that the
 * Makefile rewrites into `%define NAME value` and `#define NAME value`, so
 * assembly reads structure offsets from the C compiler instead of from
 * hand-copied numbers.
 */
#include <stddef.h>
#include <arch/trapframe.h>
#include "trampoline.h"

#define DEFINE(name, value) __asm__ volatile("\n.ascii \"@@" #name " %c0@@\"" ::"i"(value))
#define TD(name, field) DEFINE(name, offsetof(struct trampoline_data, field))
#define TF(name, field) DEFINE(name, offsetof(KTRAP_FRAME, field))

void asm_offsets(void);

void asm_offsets(void)
{
    DEFINE(TD_BASE, TRAMPOLINE_DATA);
    TD(TD_GDTR, gdt_limit);
    TD(TD_GDT_BASE, gdt_base);
    TD(TD_GDT, gdt);
    TD(TD_FAR32, far32_offset);
    TD(TD_FAR32_SEL, far32_selector);
    TD(TD_FAR64, far64_offset);
    TD(TD_FAR64_SEL, far64_selector);
    TD(TD_LOW_CR3, low_cr3);
    TD(TD_EFER, efer);
    TD(TD_KERNEL_CR3, kernel_cr3);
    TD(TD_STACK, stack);
    TD(TD_HIGH_ENTRY, high_entry);
    TD(TD_ENTRY, entry);
    TD(TD_ARG, arg);
    /* KiTrapCommon's unwind rules (trapentry.S) */
    TF(KTF_VECTOR, Vector);
    TF(KTF_RIP, Rip);
    TF(KTF_RSP, Rsp);
    DEFINE(KTF_SIZE, sizeof(KTRAP_FRAME));
}
