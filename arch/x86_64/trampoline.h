/*
 * trampoline.h - the data block at the end of the AP start-up code page.
 *
 * mp.c fills it in before each STARTUP IPI; trampoline.asm reads it at the
 * offsets asm-offsets.c generates from this very struct, so the two cannot
 * disagree.  Arch-private: nothing in kernel/ sees it.
 */
#ifndef ARCH_TRAMPOLINE_H
#define ARCH_TRAMPOLINE_H

#include <irqlab/nt.h>

#define TRAMPOLINE_DATA 0xe00 /* offset in the code page; the code must end before it */

struct __attribute__((packed)) trampoline_data {
    uint16_t gdt_limit;    /* the GDT register image for lgdt: limit, then ... */
    uint32_t gdt_base;     /* ... physical base (written by the trampoline itself) */
    uint16_t pad0;
    ULONG64 gdt[4];        /* null, 32-bit code 0x08, data 0x10, 64-bit code 0x18 */
    uint32_t far32_offset; /* far pointers, written by the trampoline itself */
    uint16_t far32_selector;
    uint16_t pad1;
    uint32_t far64_offset;
    uint16_t far64_selector;
    uint16_t pad2;
    uint32_t low_cr3;      /* tables below 4 GiB: identity 0-2 MiB plus the kernel's half */
    uint32_t efer;         /* EFER bits to set: LME, and NXE when the boot CPU has it */
    ULONG64 kernel_cr3;
    ULONG64 stack;         /* top of the AP's kernel stack */
    ULONG64 high_entry;    /* arch_ap_high_entry, in the kernel image */
    ULONG64 entry;         /* the C routine the AP runs, with ... */
    ULONG64 arg;           /* ... this argument */
};
_Static_assert(TRAMPOLINE_DATA + sizeof(struct trampoline_data) <= 4096, "one page");

#endif
