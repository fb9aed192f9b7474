/*
 * mp.c - waking an application processor (Intel SDM vol. 3, 9.4.4).
 *
 * The boot CPU copies the trampoline (trampoline.asm) to a page below 1 MiB,
 * builds three small page tables next to it (the low 2 MiB identity-mapped
 * for the mode switch, plus the kernel's upper half), and sends each AP
 * INIT, then STARTUP twice, with the delays the SDM gives (less the INIT
 * wait where the APIC is on the die, see init_delay_us).  The kernel
 * decides which CPUs to start and waits for them (kernel/ke/mp.c), through
 * the HAL (kernel/hal/halmp.c).
 */
#include <arch/apic.h>
#include <arch/arch.h>
#include <arch/clocksource.h>
#include <irqlab/memmap.h>
#include <irqlab/rtl.h>
#include "trampoline.h"

#define PTE_PW (ARCH_PTE_PRESENT | ARCH_PTE_WRITE)
#define EFER_LME (1ull << 8)
#define INIT_DELAY_US 10000 /* after INIT: 10 ms */
#define SIPI_DELAY_US 200   /* after each STARTUP: 200 us */
#define VENDOR_INTEL  0x756e6547 /* CPUID 0 EBX: "Genu" */
#define VENDOR_AMD    0x68747541 /* "Auth" */

extern const char arch_trampoline_start[], arch_trampoline_end[];
extern const char arch_ap_high_entry[];

static ULONG64 MpPage; /* physical: code page, then PML4, PDPT, PD */
static ULONG MpInitDelayUs;

/*
 * The SDM's 10 ms after INIT dates from APICs outside the processor (the
 * 82489DX).  Linux waits nothing on Intel family 6 and later and on AMD
 * family 0Fh and later, whose APIC is on the die; irqlab does the same, and
 * keeps the 10 ms for any other processor.  With 63 APs that is 630 ms.
 */
static ULONG init_delay_us(void)
{
    uint32_t vendor[4], version[4];

    arch_cpuid(0, 0, vendor);
    arch_cpuid(1, 0, version);
    ULONG family = (version[0] >> 8) & 0xf;
    if (family == 0xf)
        family += (version[0] >> 20) & 0xff;
    if ((vendor[1] == VENDOR_INTEL && family >= 6) || (vendor[1] == VENDOR_AMD && family >= 0xf))
        return 0;
    return INIT_DELAY_US;
}

static ULONG64 *page_at(ULONG index)
{
    return MmDirectMap(MpPage + index * PAGE_SIZE);
}

BOOLEAN arch_mp_prepare(ULONG64 low_pages)
{
    ULONG64 code_size = (ULONG64)(arch_trampoline_end - arch_trampoline_start);
    ULONG64 *kernel_pml4 = MmDirectMap(arch_read_cr3() & ~0xfffull);

    /* A STARTUP vector is a page number below 1 MiB; the tables need 32-bit addresses. */
    if (low_pages == 0 || (low_pages & 0xfff) || low_pages + ARCH_TRAMPOLINE_PAGES * PAGE_SIZE > 0x100000)
        return FALSE;
    MpPage = low_pages;
    MpInitDelayUs = init_delay_us();
    ULONG64 *pml4 = page_at(1);
    memset(page_at(0), 0, ARCH_TRAMPOLINE_PAGES * PAGE_SIZE);
    memcpy(page_at(0), arch_trampoline_start, code_size);
    pml4[0] = (MpPage + 2 * PAGE_SIZE) | PTE_PW;
    page_at(2)[0] = (MpPage + 3 * PAGE_SIZE) | PTE_PW;
    page_at(3)[0] = 0 | PTE_PW | ARCH_PTE_LARGE; /* 0-2 MiB, executable */
    for (ULONG i = 256; i < 512; i++) /* the kernel's half: image, direct map, stacks */
        pml4[i] = kernel_pml4[i];
    return TRUE;
}

void arch_mp_launch(ULONG apic_id, ULONG64 stack_top, void (*entry)(void *), void *arg)
{
    struct trampoline_data *td = (void *)((char *)page_at(0) + TRAMPOLINE_DATA);

    td->gdt_limit = sizeof(td->gdt) - 1;
    td->gdt[0] = 0;
    td->gdt[1] = 0x00cf9a000000ffffull; /* 32-bit code, flat */
    td->gdt[2] = 0x00cf92000000ffffull; /* 32-bit data, flat */
    td->gdt[3] = 0x00209a0000000000ull; /* 64-bit code */
    td->low_cr3 = (uint32_t)(MpPage + PAGE_SIZE);
    td->efer = (uint32_t)(EFER_LME | (arch_rdmsr(ARCH_MSR_EFER) & ARCH_EFER_NXE));
    td->kernel_cr3 = arch_read_cr3();
    td->stack = stack_top;
    td->high_entry = (ULONG64)arch_ap_high_entry;
    td->entry = (ULONG64)entry;
    td->arg = (ULONG64)arg;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    apic_send_init(apic_id);
    arch_stall_us(MpInitDelayUs);
    for (int i = 0; i < 2; i++) {
        apic_send_startup(apic_id, (ULONG)(MpPage >> 12));
        arch_stall_us(SIPI_DELAY_US);
    }
}

void arch_mp_cancel(ULONG apic_id)
{
    apic_send_init(apic_id); /* back to wait-for-STARTUP: it will not run our code later */
}
