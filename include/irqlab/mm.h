/*
 * mm.h - physical pages and kernel stacks.
 *
 * All physical memory is mapped at IRQLAB_DIRECT_MAP_BASE (the direct map),
 * so a physical address p is reachable at MmDirectMap(p).
 */
#ifndef IRQLAB_MM_H
#define IRQLAB_MM_H

#include <irqlab/bootinfo.h>
#include <irqlab/nt.h>

#define PAGE_SIZE 4096
#define PAGE_SHIFT 12

static inline PVOID MmDirectMap(ULONG64 PhysicalAddress)
{
    return (PVOID)(IRQLAB_DIRECT_MAP_BASE + PhysicalAddress);
}

/* IRQL: <= HIGH_LEVEL.  A zeroed page's physical address, or 0 when none is left. */
ULONG64 MmAllocatePhysicalPage(VOID);
/* IRQL: <= HIGH_LEVEL.  Freeing a page that is not allocated bugchecks PFN_LIST_CORRUPT. */
VOID MmFreePhysicalPage(ULONG64 PhysicalAddress);
ULONG64 MmGetFreePageCount(VOID);
ULONG64 MmGetManagedPageCount(VOID); /* usable RAM the allocator was given */

/* IRQL: PASSIVE_LEVEL.  A stack of Pages pages above an unmapped guard page; returns its top. */
PVOID MmCreateKernelStack(ULONG Pages);
#define KERNEL_STACK_PAGES 6 /* 24 KiB, as NT's KERNEL_STACK_SIZE on x64 */

/* IRQL: PASSIVE_LEVEL.  Pages zeroed pages, virtually contiguous, above a guard page; NULL when out of memory. */
PVOID MmAllocateKernelPages(ULONG Pages);

/* Boot: Pages contiguous usable physical pages below 1 MiB (the AP start-up code); 0 if none. */
ULONG64 MmReserveLowPages(ULONG Pages);

/* Boot: builds the allocator from the loader's memory map. */
VOID MmInitializePfnDatabase(const struct irqlab_bootinfo *BootInfo);

#endif
